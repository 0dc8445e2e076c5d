"""Security groups as iptables rules inside each host.

An instance's group accepts what the security module's ingress rules allow and nothing else
(default-deny INPUT, as an AWS security group): a rule whose source is a group becomes the
addresses of that group's hosts, a CIDR stays a CIDR. Replies and loopback pass, as AWS's
stateful groups and the instance's own lo do. Egress is left open here: the security module
opens the whole VPC and HTTP(S) to the internet, which the simulated subnets cover.
"""

from __future__ import annotations

import shlex

from tripclick_devstack.fleet.topology import Host, Topology

CHAIN = "TRIPCLICK-SG"


def ingress_rules(topology: Topology, host: Host, addresses: dict[str, list[str]]) -> list[dict]:
    """The rules of host's group, each with the concrete source addresses it admits."""
    rules = []
    for rule in topology.rules_for(host.access):
        if rule.cidr:
            sources = [rule.cidr]
        else:
            sources = sorted(
                {
                    f"{ip}/32"
                    for h in topology.of_access(rule.source_group)
                    for ip in addresses[h.key]
                }
            )
        rules.append(
            {
                "from_port": rule.from_port,
                "to_port": rule.to_port,
                "sources": sources,
                "source": rule.source_group or rule.cidr,
                "description": rule.description,
            }
        )
    return rules


def script(host: Host, rules: list[dict]) -> str:
    """The shell script the host's tripclick-fleet-sg unit runs at boot (idempotent)."""
    ipt = "iptables -w"
    lines = [
        "#!/bin/sh",
        f"# Security group {host.access} of {host.name}, generated from terraform/modules/security.",
        "set -e",
        f"{ipt} -N {CHAIN} 2>/dev/null || {ipt} -F {CHAIN}",
        f"{ipt} -A {CHAIN} -i lo -j ACCEPT",
        f"{ipt} -A {CHAIN} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
    ]
    for rule in rules:
        ports = (
            str(rule["from_port"])
            if rule["from_port"] == rule["to_port"]
            else f"{rule['from_port']}:{rule['to_port']}"
        )
        comment = shlex.quote(rule["description"][:250])
        for source in rule["sources"]:
            lines.append(
                f"{ipt} -A {CHAIN} -p tcp -s {source} --dport {ports} "
                f"-m comment --comment {comment} -j ACCEPT"
            )
    lines += [
        f"{ipt} -A {CHAIN} -j DROP",
        f"{ipt} -C INPUT -j {CHAIN} 2>/dev/null || {ipt} -I INPUT 1 -j {CHAIN}",
        f"{ipt} -P INPUT DROP",
        "",
    ]
    return "\n".join(lines)
