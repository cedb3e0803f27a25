"""Build the runtime bundle the server tab loads: Pyodide, the site's wheels and ``server_py``.

Everything a server tab needs comes from this folder, served by the signaling service itself;
nothing is fetched from a CDN at run time. Sources, all pinned:

* Pyodide: the npm package ``pyodide`` (``package-lock.json``), installed by ``npm ci``;
* wheels: the versions pinned in ``requirements.lock``, downloaded from PyPI by pip: the site's
  stack, installed in every server tab, and a shelf of pure-Python packages that a site's
  ``requirements.txt`` may ask for (ASGI apps' Starlette), which thus install offline;
* ``server_py``: this repository's package, zipped;
* all of that Python, and Pyodide's standard library, byte-compiled ahead of time in
  ``python/`` (by Pyodide itself, under Node: ``precompile.mjs``), so that a server tab does
  not compile the modules it imports;
* the editor (CodeMirror 6), password hashing (@noble/hashes) and QR codes (qrcode-generator)
  from npm, each bundled by esbuild (also from npm) into one module;
* in ``pages/``, the service's pages' modules, each built with the modules it imports: the
  server tab's (``web/server-tab.js``, its workbench's parts that load while Python starts in
  chunks of their own), its Python worker's (``runtime/python-worker/main.js``) and the home
  page's. A browser's six connections would otherwise fetch (or revalidate) the server tab's
  sixty modules in ten rounds at every boot;
* in ``shell/``, served on a site's origin under ``/__ps/bundle/``: the client shell itself
  (``web/shell.js`` and the modules it imports, one module: its 26 modules took five rounds
  at a new visitor's first view), and its request worker (``runtime/visitor/request-worker.js``
  and its modules); the site's service worker (``runtime/visitor/sw.js`` and
  its modules, served as ``/__ps/sw.js``), and what it imports from here: the pages'
  WebSocket (``runtime/visitor/page-websocket.js``), built into one classic script and
  exported as its text, which the service worker puts in the site's pages; and
  http-cache-semantics (npm), the rules of the site's HTTP cache.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from signaling.locations import DEFAULT_BUNDLE, REPO

# The site's stack inside Pyodide. Versions come from requirements.lock, so the unit tests under
# CPython run exactly the versions the browser runs.
RUNTIME_PACKAGES = (
    "flask",
    "werkzeug",
    "jinja2",
    "markupsafe",
    "itsdangerous",
    "click",
    "blinker",
    "h11",
    "wsproto",  # the WebSockets of ASGI sites (server_py.websocket)
    "python-dotenv",  # .flaskenv and .env, as `flask run` reads them
)
# Put on sys.path as they are, zip files read by zipimport, instead of unpacked: tzdata (the
# IANA time zones behind zoneinfo, which CPython finds in the system) is 600 small files that
# would take 200 ms of every boot to unpack.
ZIPPED_PACKAGES = ("tzdata",)
# Installed in a server tab when first used, not at every boot: `pytest` in the console runs
# the site's tests (server_py.workbench), with pytest and what it depends on.
TOOLS = {"pytest": ("pytest", "pluggy", "iniconfig", "packaging", "pygments")}
# Offered to requirements.txt (see signaling.packages) without a package index: Starlette and
# what it needs, and setuptools, which builds the source packages a site asks for.
SHELF_PACKAGES = (
    "starlette",
    "anyio",
    "idna",
    "python-multipart",
    "typing-extensions",
    "setuptools",
)
# Packages with compiled speedups and a pure-Python fallback: their CPython wheel for Pyodide's
# Python version is used, and the extension module, which cannot load in WebAssembly, is skipped.
_PLATFORM_WHEELS = {"markupsafe"}
PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
    "package.json",
)


def pinned_versions(lock: Path = REPO / "requirements.lock") -> dict[str, str]:
    """``{name: version}`` from a pip-style lock file."""
    pins = {}
    for line in lock.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def pyodide_python_version(pyodide_dir: Path) -> str:
    """``"3.14"`` for the Pyodide build in ``pyodide_dir``, read from its lock file."""
    info = json.loads((pyodide_dir / "pyodide-lock.json").read_text())["info"]
    return ".".join(info["python"].split(".")[:2])


def build(out: Path = DEFAULT_BUNDLE, node_modules: Path = REPO / "node_modules") -> Path:
    """Assemble the bundle in ``out``; wheels already downloaded are kept. Returns ``out``."""
    pyodide_src = node_modules / "pyodide"
    if not (pyodide_src / "pyodide.mjs").is_file():
        raise SystemExit(f"{pyodide_src} is missing: run `npm ci` in {REPO} first")
    pyodide_out = out / "pyodide"
    pyodide_out.mkdir(parents=True, exist_ok=True)
    for name in PYODIDE_FILES:
        shutil.copy2(pyodide_src / name, pyodide_out / name)

    pins = pinned_versions()
    python_version = pyodide_python_version(pyodide_src)
    wheels_dir = out / "wheels"
    wheels_dir.mkdir(exist_ok=True)
    wheels = []
    for name in RUNTIME_PACKAGES:
        wheels.append(_download_wheel(name, pins[name], python_version, wheels_dir))
    zipped = [
        _download_wheel(name, pins[name], python_version, wheels_dir) for name in ZIPPED_PACKAGES
    ]
    tools = {
        tool: [_download_wheel(name, pins[name], python_version, wheels_dir) for name in names]
        for tool, names in TOOLS.items()
    }
    tool_wheels = [wheel for wheels_of_tool in tools.values() for wheel in wheels_of_tool]
    shelf_dir = out / "shelf"
    shelf_dir.mkdir(exist_ok=True)
    for name in SHELF_PACKAGES:
        _download_wheel(name, pins[name], python_version, shelf_dir)

    bundle_module(
        REPO / "web" / "workbench" / "codemirror-bundle.js", out / "codemirror.js", node_modules
    )
    bundle_module(REPO / "runtime" / "hashes-bundle.js", out / "hashes.js", node_modules)
    bundle_module(REPO / "web" / "workbench" / "qrcode-bundle.js", out / "qrcode.js", node_modules)
    bundle_pages(
        {
            "server-tab": REPO / "web" / "server-tab.js",
            "python-worker": REPO / "runtime" / "python-worker" / "main.js",
            "home": REPO / "web" / "home.js",
        },
        out / "pages",
        node_modules,
    )
    shell = out / "shell"
    shell.mkdir(exist_ok=True)
    visitor = REPO / "runtime" / "visitor"
    for entry in (REPO / "web" / "shell.js", visitor / "sw.js", visitor / "request-worker.js"):
        bundle_module(entry, shell / entry.name, node_modules, sourcemap=True)
    page_script = shell / "page-websocket.iife.js"
    bundle_module(
        REPO / "runtime" / "visitor" / "page-websocket-bundle.js",
        page_script,
        node_modules,
        script=True,
    )
    (shell / "page-websocket.js").write_text(
        "// Built by signaling/bundle: the text of the pages' WebSocket, for the service worker.\n"
        f"export default {json.dumps(page_script.read_text())};\n"
    )
    page_script.unlink()
    bundle_module(
        REPO / "runtime" / "visitor" / "http-cache-semantics-bundle.js",
        shell / "http-cache-semantics.js",
        node_modules,
    )

    server_py_zip = out / "server_py.zip"
    with zipfile.ZipFile(server_py_zip, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((REPO / "server_py").rglob("*.py")):
            archive.write(path, path.relative_to(REPO).as_posix())
    compiled = precompile(
        pyodide_out,
        out / "python",
        pyodide_out / "python_stdlib.zip",
        [*wheels, server_py_zip, *tool_wheels],
    )

    manifest = {
        "pyodide": json.loads((pyodide_src / "package.json").read_text())["version"],
        "python": python_version,
        # What a server tab installs is in python/, compiled; wheels/ keeps them as released.
        "wheels": [wheel.name for wheel in wheels],
        "zipped": [wheel.name for wheel in zipped],
        "tools": {tool: [wheel.name for wheel in wheels] for tool, wheels in tools.items()},
        # Content hashes let the server tab and the HTTP cache tell when a file changed.
        "hashes": {
            path.relative_to(out).as_posix(): _sha256(path) for path in [*compiled, *zipped]
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    precompress(out)
    return out


# A gzipped copy is kept where it saves at least this share of a file's bytes.
GZIP_SAVING = 0.1


def precompress(out: Path) -> None:
    """Beside each file of ``out`` that gzip makes a tenth smaller or more, NAME.gz, which the
    service sends a browser that takes gzip (signaling.app's BundleFiles): 44 MB become 23
    (Pyodide's WebAssembly, the stored wheels). Compressed here once, not per request. The
    service looks for NAME.gz only where NAME is, and a copy whose file no longer gains goes."""
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.suffix == ".gz":
            continue
        gzipped = path.with_name(f"{path.name}.gz")
        data = path.read_bytes()
        packed = gzip.compress(data, mtime=0)  # the same bytes at every build
        if len(packed) <= (1 - GZIP_SAVING) * len(data):
            gzipped.write_bytes(packed)
        else:
            gzipped.unlink(missing_ok=True)


def precompile(pyodide_dir: Path, out: Path, stdlib: Path, unpacked: list[Path]) -> list[Path]:
    """The standard library and the archives a server tab unpacks, with their bytecode
    compiled by Pyodide's own Python (``signaling/bundle/precompile.mjs``), written to ``out``."""
    node = shutil.which("node")
    if node is None:
        raise SystemExit("Node.js is missing (it compiles the bundle): apt-get install nodejs")
    out.mkdir(parents=True, exist_ok=True)
    jobs = [f"zipimport:{stdlib}", *(f"unpacked:{archive}" for archive in unpacked)]
    script = Path(__file__).with_name("precompile.mjs")
    subprocess.run([node, str(script), str(pyodide_dir), str(out), *jobs], check=True)
    return [out / path.name for path in [stdlib, *unpacked]]


def bundle_module(
    entry: Path, target: Path, node_modules: Path, script: bool = False, sourcemap: bool = False
) -> None:
    """``entry`` and what it imports (npm packages, or our own modules), as one ES module the
    browser loads from us (with ``script``: as one classic script; with ``sourcemap``: its map
    beside it, sources included, for the browser's developer tools)."""
    _esbuild(
        node_modules,
        str(entry),
        *(["--format=iife", "--keep-names"] if script else ["--format=esm"]),
        *(["--sourcemap"] if sourcemap else []),
        f"--outfile={target}",
    )


# The chunks bundle_pages makes are named by a hash of their content (esbuild's [hash]).
_CONTENT_NAMED = re.compile(r"chunk-[A-Z0-9]{8}\.js(\.map)?")


def is_content_named(file_name: str) -> bool:
    """Whether ``file_name`` is a chunk of the pages' modules, named by its content: a file of
    that name never changes, so a browser may keep it without asking again."""
    return _CONTENT_NAMED.fullmatch(file_name) is not None


def bundle_pages(entries: dict[str, Path], out: Path, node_modules: Path) -> None:
    """Each of ``entries`` (named by the file it becomes in ``out``) and what it imports, as
    ES modules, with source maps: what more than one of them imports, or one imports only when
    it runs (``import()``), in chunks of their own, named by their content."""
    shutil.rmtree(out, ignore_errors=True)
    _esbuild(
        node_modules,
        *(f"{name}={entry}" for name, entry in entries.items()),
        "--format=esm",
        "--splitting",
        "--chunk-names=chunk-[hash]",
        "--sourcemap",
        f"--outdir={out}",
    )


def _esbuild(node_modules: Path, *arguments: str) -> None:
    """esbuild, as every build here runs it: bundled, minified, and the bundle's own modules
    (``/bundle/`` on the service's origin: the editor, QR codes; ``/__ps/bundle/`` on a site's)
    left where they are."""
    subprocess.run(
        [
            str(node_modules / ".bin" / "esbuild"),
            *arguments,
            "--bundle",
            "--minify",
            "--external:/bundle/*",
            "--external:/__ps/bundle/*",
            "--log-level=warning",
        ],
        check=True,
    )


def _download_wheel(name: str, version: str, python_version: str, dest: Path) -> Path:
    normalized = name.replace("-", "_")
    existing = [
        wheel
        for wheel in dest.glob("*.whl")
        if wheel.name.lower().startswith(f"{normalized}-{version}-")
    ]
    if existing:
        return existing[0]
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--dest",
        str(dest),
        f"{name}=={version}",
    ]
    if name in _PLATFORM_WHEELS:
        command += [
            "--platform",
            "manylinux2014_x86_64",
            "--implementation",
            "cp",
            "--python-version",
            python_version,
        ]
    subprocess.run(command, check=True)
    found = [
        wheel
        for wheel in dest.glob("*.whl")
        if wheel.name.lower().startswith(f"{normalized}-{version}-")
    ]
    if not found:
        raise SystemExit(f"pip downloaded no wheel for {name}=={version}")
    return found[0]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
