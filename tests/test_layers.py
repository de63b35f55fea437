"""The product's layers, read from its source: data flows meditron_rag <- ingest <- rag <- ui,
and nothing installed imports the checkout's benchmark kit, scripts or tests or reads the
checkout's files. The wheel is built and imported with no checkout beside it."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Each product package and the packages of ours it may import (itself included).
LAYERS = {
    "meditron_rag": {"meditron_rag"},
    "ingest": {"meditron_rag", "ingest"},
    "rag": {"meditron_rag", "ingest", "rag"},
    "ui": {"meditron_rag", "ingest", "rag", "ui"},
}
OURS = {*LAYERS, "bench", "evaluation", "scripts", "tests"}
# A path built from a folder of the checkout: a string that is exactly such a name, or a
# path reached from a module's own file by climbing out of the package.
CHECKOUT_PATH = re.compile(r"""["'](corpora|shared|bench)["']|parents\[\d\]""")


def imported(path: Path, package: str) -> set[str]:
    """The top-level names of ours a module imports, anywhere in it (functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(package if node.level else (node.module or "").split(".")[0])
    return names & OURS


def product_modules() -> list[tuple[str, Path]]:
    return [(package, path) for package in LAYERS
            for path in sorted((ROOT / package).rglob("*.py"))]


def test_no_module_imports_upward():
    upward = [f"{path.relative_to(ROOT)} imports {name}"
              for package, path in product_modules()
              for name in sorted(imported(path, package) - LAYERS[package])]
    assert not upward, "imports against meditron_rag <- ingest <- rag <- ui:\n" + "\n".join(upward)


def test_the_layer_check_sees_imports_inside_functions(tmp_path: Path):
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from bench import report\n    import ui.cli\n"
                      "    from . import sibling\n")
    assert imported(module, "rag") == {"bench", "ui", "rag"}


def test_no_product_module_builds_a_path_into_the_checkout():
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for _, path in product_modules()
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if CHECKOUT_PATH.search(line)]
    assert not found, "\n".join(found)


@pytest.mark.slow
def test_the_wheel_works_with_no_checkout_beside_it(tmp_path: Path):
    """Built from a copy of the checkout (so the build leaves no files in it), installed into
    a folder of its own, imported from elsewhere with only that folder on the path."""
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
        ".ruff_cache", "data", "corpora", "docs", "test-artifacts"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    wheels, target, elsewhere = tmp_path / "wheels", tmp_path / "installed", tmp_path / "cwd"
    elsewhere.mkdir()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    built = subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w",
                            str(wheels), str(source)], capture_output=True, text=True,
                           env=env, cwd=elsewhere, timeout=600)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (wheel,) = wheels.glob("meditron_rag-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {"meditron_rag", "ingest", "rag", "ui"} <= tops
    assert not tops & {"bench", "evaluation", "scripts", "tests", "corpora", "docs"}, tops
    installed = subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target",
                                str(target), str(wheel)], capture_output=True, text=True,
                               env=env, cwd=elsewhere, timeout=600)
    assert installed.returncode == 0, installed.stderr[-2000:]
    check = ("import rag, ingest, ui, meditron_rag, rag.evaluation, ui.cli\n"
             "for m in (rag, ingest, ui, meditron_rag):\n"
             "    print(m.__file__)\n"
             "ui.cli.main(['--help'])\n")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(target)}, cwd=elsewhere, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    files = done.stdout.splitlines()[:4]
    assert all(Path(f).is_relative_to(target) for f in files), files
    commands = done.stdout.split("Commands:")[1].split()
    assert "eval" in commands and "bench" not in commands
    found = [f"{path.relative_to(target)}: {line.strip()}"
             for path in target.rglob("*.py")
             for line in path.read_text(encoding="utf-8").splitlines()
             if CHECKOUT_PATH.search(line)]
    assert not found, "\n".join(found)
