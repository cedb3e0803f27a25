"""Projects whose compiled part is optional, and the switch each documents for building without it.

PyYAML, msgpack, aiohttp and its aio-libs dependencies, wrapt: each publishes compiled wheels
for the usual platforms, and a source distribution whose C accelerator its own build can leave
out (it then runs as pure Python, slower). A browser has no compiler, and a release whose wheels
are all compiled for other platforms is otherwise not built from source at all
(:mod:`signaling.packages.resolver`); for these, the server tab builds the source with the
project's own switch set. The switches are the projects' (their ``setup.py`` or their PEP 517
backend reads them), not ours.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.utils import NormalizedName, canonicalize_name


@dataclass(frozen=True)
class PureBuild:
    environment: dict[str, str]  # set while the backend builds the wheel
    without: str  # what the package then runs without, for the site's owner


_AIO_LIBS = "its C extensions"

PURE_BUILDS: dict[NormalizedName, PureBuild] = {
    canonicalize_name(name): build
    for name, build in {
        "PyYAML": PureBuild({"PYYAML_FORCE_LIBYAML": "0"}, "libyaml"),
        "msgpack": PureBuild({"MSGPACK_PUREPYTHON": "1"}, "its Cython extension"),
        "aiohttp": PureBuild({"AIOHTTP_NO_EXTENSIONS": "1"}, _AIO_LIBS),
        "multidict": PureBuild({"MULTIDICT_NO_EXTENSIONS": "1"}, _AIO_LIBS),
        "yarl": PureBuild({"YARL_NO_EXTENSIONS": "1"}, _AIO_LIBS),
        "frozenlist": PureBuild({"FROZENLIST_NO_EXTENSIONS": "1"}, _AIO_LIBS),
        "propcache": PureBuild({"PROPCACHE_NO_EXTENSIONS": "1"}, _AIO_LIBS),
        "wrapt": PureBuild({"WRAPT_INSTALL_EXTENSIONS": "false"}, "its C extension"),
    }.items()
}
