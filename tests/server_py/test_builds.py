"""Source packages built into wheels where the site's code runs (server_py/builds.py), with
the setuptools the runtime bundle carries. Run under CPython and again inside Pyodide
(tests/pyodide/test_unit.py), where there is no compiler."""

from __future__ import annotations

import importlib
import io
import os
import sys
import zipfile
from pathlib import Path

import pytest

from server_py.builds import BuildFailed, build_wheel, install_wheel
from tests import wheelhouse
from tests.harness import REPO

SHELF = REPO / "build" / "runtime" / "shelf"
LEGACY = "setuptools.build_meta:__legacy__"


def setuptools_wheel() -> bytes:
    found = sorted(SHELF.glob("setuptools-*.whl"))
    if not found:
        pytest.fail(f"no setuptools in {SHELF}: run `nox -s build` first")
    return found[0].read_bytes()


def sdist(tmp_path: Path, name: str) -> tuple[bytes, str]:
    [(_, version, requires, files, arguments)] = [p for p in wheelhouse.SDISTS if p[0] == name]
    path = wheelhouse.write_sdist(tmp_path, name, version, requires, files, arguments)
    return path.read_bytes(), path.name


def test_a_pure_sdist_builds_and_leaves_the_interpreter_as_it_was(tmp_path: Path) -> None:
    data, filename = sdist(tmp_path, "oldstyle")

    def modules() -> set[str]:  # codecs are imported as first needed (zip names in cp437)
        return {name for name in sys.modules if not name.startswith("encodings.")}

    before = (list(sys.path), list(sys.meta_path), modules(), os.getcwd())
    built = build_wheel(data, filename, LEGACY, [], [setuptools_wheel()])
    assert built.filename == "oldstyle-1.0-py3-none-any.whl"
    assert built.requires == ["shout>=1.1"]
    assert "running bdist_wheel" in built.log
    assert (list(sys.path), list(sys.meta_path), modules(), os.getcwd()) == before
    assert "setuptools" not in sys.modules or "setuptools" in before[2]

    site_packages = tmp_path / "site-packages"
    install_wheel(built.wheel, site_packages)
    assert "def hello" in (site_packages / "oldstyle.py").read_text()
    assert (site_packages / "oldstyle-1.0.dist-info" / "METADATA").is_file()


def test_a_build_gets_the_projects_switch_for_a_pure_build(tmp_path: Path) -> None:
    """A project's own switch (signaling/packages/pure_builds.py) is set for its build only."""
    setup_py = (
        "import os\n"
        "from setuptools import setup\n"
        "with open('switched.py', 'w') as module:\n"
        "    module.write(f\"PURE = {os.environ.get('SWITCHED_NO_EXTENSIONS') == '1'}\\n\")\n"
        "setup(name='switched', version='1.0', py_modules=['switched'])\n"
    )
    path = wheelhouse.write_sdist(tmp_path, "switched", "1.0", [], {}, "", setup_py)
    switch = {"SWITCHED_NO_EXTENSIONS": "1"}
    built = build_wheel(path.read_bytes(), path.name, LEGACY, [], [setuptools_wheel()], (), switch)
    assert "SWITCHED_NO_EXTENSIONS" not in os.environ
    install_wheel(built.wheel, tmp_path / "site-packages")
    assert (tmp_path / "site-packages" / "switched.py").read_text() == "PURE = True\n"


def test_a_wheels_data_folders_are_installed_as_installers_do(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("demo.py", "")
        archive.writestr("demo-1.0.data/purelib/extra.py", "X = 1\n")
        archive.writestr("demo-1.0.data/scripts/demo", "#!python\n")
        archive.writestr("demo-1.0.dist-info/METADATA", "Name: demo\n")
    install_wheel(buffer.getvalue(), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "demo-1.0.dist-info",
        "demo.py",
        "extra.py",
    ]
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../escape.py", "")
    with pytest.raises(BuildFailed, match="unsafe path"):
        install_wheel(evil.getvalue(), tmp_path / "inside")


def test_a_c_extension_needs_a_compiler(tmp_path: Path) -> None:
    data, filename = sdist(tmp_path, "cspeed")
    modules = set(sys.modules)
    if sys.platform != "emscripten":  # CPython here has gcc: it builds
        built = build_wheel(data, filename, LEGACY, [], [setuptools_wheel()], ["cspeed.c"])
        assert built.filename.startswith("cspeed-1.0-cp")
        return
    with pytest.raises(BuildFailed, match=r"needs compiled code \(cspeed.c\).*C compiler"):
        build_wheel(data, filename, LEGACY, [], [setuptools_wheel()], ["cspeed.c"])
    assert set(sys.modules) == modules
    importlib.invalidate_caches()


def test_a_broken_archive_is_refused_plainly(tmp_path: Path) -> None:
    with pytest.raises(BuildFailed, match="could not be unpacked"):
        build_wheel(b"not a tarball", "broken-1.0.tar.gz", LEGACY, [], [])
