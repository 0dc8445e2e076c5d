"""Imports point one way: payloads <- Spark jobs <- local platform; the DAGs stand alone.

No module imports another that (through any chain) imports it back, and no package
imports one above it. Checked on the real tree, and shown to fail on a tree with a cycle.
"""

from __future__ import annotations

from pathlib import Path

import import_graph

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {
    "tripclick": REPO / "payloads" / "tripclick",
    "tripclick_spark": REPO / "spark" / "tripclick_spark",
    "tripclick_devstack": REPO / "devstack" / "tripclick_devstack",
    "tripclick_dags": REPO / "dags" / "tripclick_dags",
}
# What each package may import of the others: the deployment's layers.
ALLOWED = {
    "tripclick": set(),
    "tripclick_spark": {"tripclick"},
    "tripclick_devstack": {"tripclick", "tripclick_spark"},
    # The Airflow environment carries none of the others.
    "tripclick_dags": set(),
}


def _edges():
    return import_graph.graph(import_graph.modules(PACKAGES))


def test_the_graph_sees_every_package_and_its_imports():
    edges = _edges()
    assert {m.split(".")[0] for m in edges} == set(PACKAGES)
    # A sanity check of the reader itself: known edges, one at module level, one not.
    assert "tripclick.events" in edges["tripclick.producer"]
    assert "tripclick.events" in edges["tripclick_spark.records"]


def test_no_module_imports_itself_back():
    assert import_graph.cycles(_edges()) == []


def test_packages_import_only_the_layers_below():
    wrong = {
        package: sorted(imported - ALLOWED[package])
        for package, imported in import_graph.package_edges(_edges()).items()
        if imported - ALLOWED[package]
    }
    assert wrong == {}


def _tree(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return import_graph.modules({"pkg": root / "pkg"})


def test_a_cycle_hidden_in_a_function_is_found(tmp_path):
    known = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from pkg import b\n",
            "b.py": "def later():\n    from pkg.c import thing\n",
            "c.py": "from . import a\nthing = 1\n",
            "d.py": "import pkg.a\n",
        },
    )
    assert import_graph.cycles(import_graph.graph(known)) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_a_package_importing_upwards_is_found(tmp_path):
    known = _tree(tmp_path, {"__init__.py": "", "low.py": "import tripclick_devstack.cli\n"})
    known["tripclick_devstack.cli"] = tmp_path / "pkg" / "__init__.py"
    edges = import_graph.graph(known)
    assert import_graph.package_edges(edges)["pkg"] == {"tripclick_devstack"}
