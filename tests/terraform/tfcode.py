"""The Terraform code of terraform/ as Python data (python-hcl2), for tests that read it.

python-hcl2 keeps HCL's quotes on literal strings and block labels and wraps expressions in
``${...}``; :func:`clean` strips the quotes so tests compare plain values, and
:func:`evaluate` works out the simple arithmetic the modules do with their variables.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"
MODULES = TERRAFORM / "modules"
ENVS = TERRAFORM / "envs"


def clean(value: Any) -> Any:
    """Strip HCL quotes from literal strings and keys, drop python-hcl2's block markers."""
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items() if k != "__is_block__"}
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


def all_modules() -> list[Module]:
    return [load_module(p) for p in sorted(MODULES.iterdir()) if p.is_dir()]


def all_envs() -> list[Module]:
    return [load_module(p) for p in sorted(ENVS.iterdir()) if p.is_dir()]


def tf_files() -> list[Path]:
    return sorted(TERRAFORM.rglob("*.tf"))


_REF = re.compile(r"\b(var|local)\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)")
# HCL's list for-expression, rewritten as a Python list comprehension.
_FOR = re.compile(r"\[for (\w+) in (.+?) : (.+)\]")
_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
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


def evaluate(value: Any, module: Module, overrides: dict[str, Any] | None = None) -> Any:
    """The value of a literal or a simple ``${...}`` expression over var. and local.

    Understands numbers, + - *, lists, ``range()`` and list for-expressions; variables take
    their defaults (or ``overrides``). Anything else raises, so a test never silently
    compares an expression it did not understand.
    """
    overrides = overrides or {}
    if isinstance(value, list):
        return [evaluate(v, module, overrides) for v in value]
    if not isinstance(value, str) or not (value.startswith("${") and value.endswith("}")):
        return value
    expr = value[2:-1]

    def resolve(match: re.Match) -> str:
        kind, dotted = match.group(1), match.group(2).split(".")
        if kind == "var":
            found = overrides[dotted[0]] if dotted[0] in overrides else module.default(dotted[0])
        else:
            found = evaluate(module.locals[dotted[0]], module, overrides)
        for attr in dotted[1:]:
            found = evaluate(found[attr], module, overrides)
        return repr(evaluate(found, module, overrides))

    python = _FOR.sub(r"[(\3) for \1 in \2]", _REF.sub(resolve, expr))
    tree = ast.parse(python, mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED) or (
            isinstance(node, ast.Call) and getattr(node.func, "id", None) != "range"
        ):
            raise ValueError(f"cannot evaluate Terraform expression {expr!r}")
    result = eval(compile(tree, "<hcl>", "eval"), {"__builtins__": {}, "range": range})
    return (
        [list(x) if isinstance(x, tuple) else x for x in result]
        if isinstance(result, list)
        else result
    )


def load_script(relative: str):
    """Import a script of terraform/ (for example scripts/write_inventory.py) as a module."""
    import importlib.util

    path = TERRAFORM / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
