"""The Terraform code of terraform/ as Python data (python-hcl2).

python-hcl2 keeps HCL's quotes on literal strings and block labels and wraps expressions in
``${...}``; :func:`clean` strips the quotes, and :func:`evaluate` works out the simple
expressions the modules build their locals with (arithmetic, lists, ``range``, ``length``,
``ceil``, ``cidrsubnet`` and list for-expressions). Anything else raises, so a caller never
acts on an expression it did not understand. The fleet reads its hosts, subnets and security
group rules through this; tests/terraform reads the same code with it.
"""

from __future__ import annotations

import ast
import ipaddress
import math
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2

REPO = Path(__file__).resolve().parents[3]
TERRAFORM = REPO / "terraform"
MODULES = TERRAFORM / "modules"
ENVS = TERRAFORM / "envs"


def clean(value: Any) -> Any:
    """Strip HCL quotes from literal strings and keys, drop python-hcl2's block markers."""
    if isinstance(value, dict):
        return {
            clean(k): clean(v)
            for k, v in value.items()
            if k not in ("__is_block__", "__comments__")
        }
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    return value


@dataclass
class Module:
    """One folder of .tf files: its blocks by kind."""

    path: Path
    variables: dict[str, dict] = field(default_factory=dict)
    outputs: dict[str, dict] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    resources: list[tuple[str, str, dict]] = field(default_factory=list)  # (type, name, body)
    data: list[tuple[str, str, dict]] = field(default_factory=list)
    module_calls: dict[str, dict] = field(default_factory=dict)
    providers: list[tuple[str, dict]] = field(default_factory=list)
    terraform: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.relative_to(TERRAFORM).as_posix()

    def resources_of(self, rtype: str) -> dict[str, dict]:
        return {name: body for t, name, body in self.resources if t == rtype}

    def default(self, variable: str) -> Any:
        return self.variables[variable].get("default")


def parse_file(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return clean(hcl2.load(handle))


@cache
def load_module(path: Path) -> Module:
    module = Module(path)
    for tf in sorted(path.glob("*.tf")):
        doc = parse_file(tf)
        for block in doc.get("variable", []):
            module.variables.update(block)
        for block in doc.get("output", []):
            module.outputs.update(block)
        for block in doc.get("locals", []):
            module.locals.update(block)
        for block in doc.get("resource", []):
            for rtype, named in block.items():
                for name, body in named.items():
                    module.resources.append((rtype, name, body))
        for block in doc.get("data", []):
            for dtype, named in block.items():
                for name, body in named.items():
                    module.data.append((dtype, name, body))
        for block in doc.get("module", []):
            module.module_calls.update(block)
        for block in doc.get("provider", []):
            for pname, body in block.items():
                module.providers.append((pname, body))
        module.terraform.extend(doc.get("terraform", []))
    return module


def module(name: str) -> Module:
    """A module of terraform/modules by name (network, security, compute, ...)."""
    return load_module(MODULES / name)


def environment(name: str) -> Module:
    """An environment of terraform/envs by name (dev, prod)."""
    path = ENVS / name
    if not path.is_dir():
        known = ", ".join(sorted(p.name for p in ENVS.iterdir() if p.is_dir()))
        raise ValueError(f"no Terraform environment {name!r} (known: {known})")
    return load_module(path)


def cidrsubnet(prefix: str, newbits: int, netnum: int) -> str:
    """Terraform's cidrsubnet()."""
    net = ipaddress.ip_network(prefix)
    return str(list(net.subnets(prefixlen_diff=newbits))[netnum])


_REF = re.compile(r"\b(var|local)\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)")
# HCL's list for-expression, rewritten as a Python list comprehension.
_FOR = re.compile(r"\[for (\w+) in (.+?) : (.+)\]")
_FUNCTIONS = {"range": range, "length": len, "ceil": math.ceil, "cidrsubnet": cidrsubnet}
_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.ListComp,
    ast.comprehension,
    ast.Name,
    ast.Load,
    ast.Store,
    ast.Call,
)


def evaluate(
    value: Any,
    module: Module,
    overrides: dict[str, Any] | None = None,
    local_overrides: dict[str, Any] | None = None,
) -> Any:
    """The value of a literal or a simple ``${...}`` expression over var. and local.

    Variables take their defaults unless ``overrides`` names them (a None override keeps the
    default, as a non-nullable Terraform variable does); ``local_overrides`` replaces locals
    the expression language here cannot work out (data sources).
    """
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    local_overrides = local_overrides or {}
    if isinstance(value, list):
        return [evaluate(v, module, overrides, local_overrides) for v in value]
    if isinstance(value, dict):
        return {k: evaluate(v, module, overrides, local_overrides) for k, v in value.items()}
    if not isinstance(value, str) or not (value.startswith("${") and value.endswith("}")):
        return value
    expr = value[2:-1]

    def resolve(match: re.Match) -> str:
        kind, dotted = match.group(1), match.group(2).split(".")
        if kind == "var":
            found = overrides[dotted[0]] if dotted[0] in overrides else module.default(dotted[0])
        elif dotted[0] in local_overrides:
            found = local_overrides[dotted[0]]
        else:
            found = evaluate(module.locals[dotted[0]], module, overrides, local_overrides)
        for attr in dotted[1:]:
            found = evaluate(found[attr], module, overrides, local_overrides)
        return repr(evaluate(found, module, overrides, local_overrides))

    python = _FOR.sub(r"[(\3) for \1 in \2]", _REF.sub(resolve, expr))
    tree = ast.parse(python, mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED) or (
            isinstance(node, ast.Call) and getattr(node.func, "id", None) not in _FUNCTIONS
        ):
            raise ValueError(f"cannot evaluate Terraform expression {expr!r}")
    result = eval(compile(tree, "<hcl>", "eval"), {"__builtins__": {}, **_FUNCTIONS})
    return (
        [list(x) if isinstance(x, tuple) else x for x in result]
        if isinstance(result, list)
        else result
    )
