"""A built wheel carries what the app needs at run time, not only the editable checkout."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_ships_templates_definitions_and_migrations(tmp_path):
    # Built from a copy: setuptools writes build/ and *.egg-info next to the sources, and tests
    # never write into the checkout.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "instance", "*.egg-info", "__pycache__", ".pytest_cache",
        ".ruff_cache", ".hypothesis"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(source)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = tmp_path.glob("apertura-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "templates/base.html" in names
    assert "templates/main/index.html" in names
    assert "diagnostic/__init__.py" in names
    assert "diagnostic/data/report.yaml" in names  # the report settings, found as package data
    assert any(n.startswith("surveys/definitions/") and n.endswith(".yaml") for n in names)
    assert any(n.startswith("migrations/") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "apertura = diagnostic.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
