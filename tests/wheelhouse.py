"""A local package index for the tests of requirements.txt: wheels written here, served by pip's
``--find-links``, so that no test reaches the network.

The wheels follow the wheel format (PEP 427: ``.dist-info`` with METADATA, WHEEL and RECORD),
small but real: pip resolves their dependencies and the server tab imports their code.
"""

from __future__ import annotations

import base64
import hashlib
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


def build(folder: Path) -> Path:
    """Write every wheel of :data:`PACKAGES` into ``folder``; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, version, requires, files, tag in PACKAGES:
        write_wheel(folder, name, version, requires, files, tag)
    return folder


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
