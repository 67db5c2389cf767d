"""The built wheel carries every file of the package: the API docs UI, migrations and type marker included."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "src" / "orderline"


def _package_files() -> set[str]:
    return {
        path.relative_to(ROOT / "src").as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_carries_every_file_of_the_package(tmp_path: Path) -> None:
    # Built from a copy, offline, with the pinned setuptools the dev install brings: the tree stays clean.
    source = tmp_path / "source"
    shutil.copytree(PACKAGE, source / "src" / "orderline", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
               "--disable-pip-version-check", "--quiet", "--wheel-dir", str(tmp_path), str(source)]  # fmt: skip

    built = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)

    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("orderline-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        carried = {name for name in archive.namelist() if name.startswith("orderline/")}
    assert _package_files() - carried == set()
    assert any(name.startswith("orderline/http/static/swagger-ui/") for name in carried)
