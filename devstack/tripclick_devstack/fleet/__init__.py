"""The Terraform fleet as systemd containers on one machine: the AWS path without AWS.

`make fleet-up ENV=dev` builds what `terraform apply` would (hosts, subnets, security groups,
the lake bucket, the outputs and the inventory), `make fleet-converge` runs the real site.yml
over it through the jump host, `make fleet-down` removes it all (ARCHITECTURE.md 5.1).
"""
