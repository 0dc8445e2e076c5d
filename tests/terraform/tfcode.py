"""The Terraform code of terraform/ as Python data, for the tests that read it.

The reader is the fleet's own (``tripclick_devstack.fleet.hcl``, python-hcl2 with the quotes
stripped and the modules' simple expressions evaluated): the tests check Terraform through the
same code that builds the simulated fleet from it. Here only what the tests add: every module
and environment, every .tf file, and a script of terraform/ imported as a module.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tripclick_devstack.fleet.hcl import (
    ENVS,
    MODULES,
    REPO,
    TERRAFORM,
    Module,
    clean,
    evaluate,
    load_module,
    parse_file,
)

__all__ = [
    "ENVS",
    "MODULES",
    "REPO",
    "TERRAFORM",
    "Module",
    "all_envs",
    "all_modules",
    "clean",
    "evaluate",
    "load_module",
    "load_script",
    "parse_file",
    "tf_files",
]


def all_modules() -> list[Module]:
    return [load_module(p) for p in sorted(MODULES.iterdir()) if p.is_dir()]


def all_envs() -> list[Module]:
    return [load_module(p) for p in sorted(ENVS.iterdir()) if p.is_dir()]


def tf_files() -> list[Path]:
    return sorted(TERRAFORM.rglob("*.tf"))


def load_script(relative: str):
    """Import a script of terraform/ (for example scripts/write_inventory.py) as a module."""
    path = TERRAFORM / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
