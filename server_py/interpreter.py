"""The interpreter's process-wide state, kept around code that would change it for everyone.

At a terminal, a build backend, a ``python script.py`` and a test run are each a process of
their own: what they do to ``sys.path``, the environment or the working folder ends with them.
In the tab there is one interpreter, and the site is served from it, so what such a process
would have thrown away with itself is put back by hand, here, in one place.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from types import ModuleType


def _every_module(name: str, module: ModuleType) -> bool:
    return True


@contextlib.contextmanager
def interpreter_kept(
    forget: Callable[[str, ModuleType], bool] = _every_module,
) -> Iterator[None]:
    """Around the block: ``sys.argv``, ``sys.path`` (with ``sys.meta_path`` and
    ``sys.path_hooks``), the environment, the working folder and ``sys.dont_write_bytecode``
    as they were; of the modules the block imported, those ``forget(name, module)`` names are
    gone; the modules it replaced (setuptools replaces ``distutils``) are put back."""
    argv, path, meta_path, hooks = sys.argv, [*sys.path], [*sys.meta_path], [*sys.path_hooks]
    modules, environ, cwd = dict(sys.modules), dict(os.environ), os.getcwd()
    write_bytecode = sys.dont_write_bytecode
    try:
        yield
    finally:
        sys.argv = argv
        sys.path[:], sys.meta_path[:], sys.path_hooks[:] = path, meta_path, hooks
        sys.path_importer_cache.clear()  # finders of the block's paths and hooks
        for name in set(sys.modules) - set(modules):
            if forget(name, sys.modules[name]):
                del sys.modules[name]
        sys.modules.update(modules)
        os.environ.clear()
        os.environ.update(environ)
        os.chdir(cwd)
        sys.dont_write_bytecode = write_bytecode
