"""server_py.interpreter: what a build, a `python script.py` or a test run does to the one
interpreter the site is served from is undone after it, as the end of a process would."""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

from server_py.interpreter import interpreter_kept


class _Finder:
    @staticmethod
    def find_spec(*args: object) -> None:
        return None


def _change_everything(tmp_path: Path) -> None:
    (tmp_path / "left_behind.py").write_text("VALUE = 1\n")
    (tmp_path / "kept_module.py").write_text("VALUE = 2\n")
    sys.argv = ["script.py", "--flag"]
    sys.path.insert(0, str(tmp_path))
    sys.meta_path.append(_Finder())
    sys.path_hooks.append(lambda path: None)  # type: ignore[arg-type, return-value]
    os.environ["PEERSERVER_TEST_SET"] = "1"
    os.environ.pop("PEERSERVER_TEST_KEPT")
    os.chdir(tmp_path)
    sys.dont_write_bytecode = not sys.dont_write_bytecode
    importlib.import_module("left_behind")
    importlib.import_module("kept_module")
    sys.modules["json"] = sys.modules["left_behind"]  # replaced, as setuptools does distutils


def test_the_interpreter_is_as_before_the_block(tmp_path: Path) -> None:
    os.environ["PEERSERVER_TEST_KEPT"] = "yes"
    before = (
        list(sys.argv), list(sys.path), list(sys.meta_path), list(sys.path_hooks),
        dict(os.environ), os.getcwd(), sys.dont_write_bytecode,
    )  # fmt: skip
    try:
        with interpreter_kept(forget=lambda name, module: name == "left_behind"):
            _change_everything(tmp_path)
        after = (
            list(sys.argv), list(sys.path), list(sys.meta_path), list(sys.path_hooks),
            dict(os.environ), os.getcwd(), sys.dont_write_bytecode,
        )  # fmt: skip
        assert after == before
        assert sys.modules["json"] is json  # put back
        assert "left_behind" not in sys.modules  # forgotten, as asked
        assert sys.modules["kept_module"].VALUE == 2  # not asked: the serving Python keeps it
    finally:
        os.environ.pop("PEERSERVER_TEST_KEPT", None)
        sys.modules.pop("kept_module", None)


def test_by_default_every_module_the_block_imported_goes(tmp_path: Path) -> None:
    os.environ["PEERSERVER_TEST_KEPT"] = "yes"
    try:
        with interpreter_kept():
            _change_everything(tmp_path)
        assert "left_behind" not in sys.modules and "kept_module" not in sys.modules
        assert "PEERSERVER_TEST_SET" not in os.environ
    finally:
        os.environ.pop("PEERSERVER_TEST_KEPT", None)


def test_an_exception_leaves_it_as_before_too(tmp_path: Path) -> None:
    path, cwd = list(sys.path), os.getcwd()
    try:
        with interpreter_kept():
            sys.path.insert(0, str(tmp_path))
            os.chdir(tmp_path)
            raise SystemExit("a backend that exits")
    except SystemExit:
        pass
    assert (sys.path, os.getcwd()) == (path, cwd)
