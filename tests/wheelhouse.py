"""A local package index for the tests of requirements.txt: wheels and source distributions
written here, found through pip's ``--find-links``, so that no test reaches the network.

The wheels follow the wheel format (PEP 427: ``.dist-info`` with METADATA, WHEEL and RECORD),
the sdists the layout setuptools gives them (PKG-INFO, setup.py, an ``.egg-info`` folder with
``requires.txt``): small but real, the service resolves their dependencies, the server tab
builds the sdists with setuptools and imports their code.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import textwrap
import zipfile
from pathlib import Path

# (name, version, requirements, files, wheel tag)
PACKAGES: list[tuple[str, str, list[str], dict[str, str], str]] = [
    (
        "greeting",
        "1.0",
        ["shout>=1.1"],
        {"greeting/__init__.py": "from shout import shout\n\n\ndef hello(name):\n"
         "    return shout(f'Hello, {name}') + ' (from the greeting package)'\n"},
        "py3-none-any",
    ),
    ("shout", "1.2", [], {"shout.py": "def shout(text):\n    return text.upper() + '!'\n"},
     "py3-none-any"),
    ("needs-flask", "1.0", ["flask>=3"], {"needs_flask.py": "import flask\n"}, "py3-none-any"),
    (
        "fastmath",
        "2.0",
        [],
        {"fastmath/__init__.py": "from ._core import add\n",
         "fastmath/_core.cpython-314-x86_64-linux-gnu.so": "\x7fELF (not really)"},
        "cp314-cp314-manylinux2014_x86_64",
    ),
    ("broken-dep", "1.0", ['no-such-thing>=1; python_version >= "3"'], {"broken_dep.py": ""},
     "py3-none-any"),
    # C speedups where a wheel for the platform exists, pure Python everywhere else
    ("quickjson", "1.0", [],
     {"quickjson/__init__.py": "from ._speedups import dumps\n",
      "quickjson/_speedups.cpython-314-x86_64-linux-gnu.so": "\x7fELF (not really)"},
     "cp314-cp314-manylinux_2_17_x86_64"),
    ("quickjson", "1.0", [], {"quickjson/__init__.py": "from json import dumps\n"},
     "py3-none-any"),
]  # fmt: skip


# Published as source only: (name, version, requirements, files besides setup.py, setup()'s
# extra arguments). setuptools builds them in the server tab.
SDISTS: list[tuple[str, str, list[str], dict[str, str], str]] = [
    ("oldstyle", "1.0", ["shout>=1.1"],
     {"oldstyle.py": "from shout import shout\n\n\ndef hello():\n"
      "    return shout('built from source in the browser')\n"}, "py_modules=['oldstyle']"),
    ("cspeed", "1.0", [], {"cspeed.c": "int answer(void) { return 42; }\n"},
     "ext_modules=[Extension('cspeed', ['cspeed.c'])]"),
]  # fmt: skip


def build(folder: Path) -> Path:
    """Write every wheel of :data:`PACKAGES` and every sdist of :data:`SDISTS` into
    ``folder``; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, version, requires, files, tag in PACKAGES:
        write_wheel(folder, name, version, requires, files, tag)
    for name, version, requires, files, setup_arguments in SDISTS:
        write_sdist(folder, name, version, requires, files, setup_arguments)
    return folder


def write_sdist(
    folder: Path,
    name: str,
    version: str,
    requires: list[str],
    files: dict[str, str],
    setup_arguments: str,
    setup_py: str | None = None,
) -> Path:
    """A source distribution as ``python setup.py sdist`` makes one (metadata 1.2, so that its
    dependencies are read from the .egg-info's requires.txt); ``setup_py``, if given, is its
    setup.py instead of the usual call of ``setup()``."""
    top = f"{name}-{version}"
    pkg_info = f"Metadata-Version: 1.2\nName: {name}\nVersion: {version}\n"
    contents = {
        **files,
        "setup.py": setup_py
        or textwrap.dedent(f"""\
            from setuptools import Extension, setup

            setup(name={name!r}, version={version!r}, install_requires={requires!r},
                  {setup_arguments})
        """),
        "PKG-INFO": pkg_info,
        f"{name}.egg-info/PKG-INFO": pkg_info,
        f"{name}.egg-info/SOURCES.txt": "".join(f"{path}\n" for path in files),
        f"{name}.egg-info/top_level.txt": f"{name}\n",
        f"{name}.egg-info/dependency_links.txt": "\n",
    }
    if requires:
        contents[f"{name}.egg-info/requires.txt"] = "".join(f"{r}\n" for r in requires)
    sdist = folder / f"{top}.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        for path, text in contents.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return sdist


def write_wheel(
    folder: Path, name: str, version: str, requires: list[str], files: dict[str, str], tag: str
) -> Path:
    stem = f"{name.replace('-', '_')}-{version}"
    info = f"{stem}.dist-info"
    contents = dict(files)
    contents[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {requirement}\n" for requirement in requires)
    )
    contents[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: peerserver-tests\nRoot-Is-Purelib: "
        f"{'true' if tag.endswith('none-any') else 'false'}\nTag: {tag}\n"
    )
    record = []
    for path, text in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}\n")
    contents[f"{info}/RECORD"] = "".join(record) + f"{info}/RECORD,,\n"
    wheel = folder / f"{stem}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in contents.items():
            archive.writestr(path, text)
    return wheel
