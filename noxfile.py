"""Developer sessions: `nox -s serve` runs the product, `nox -s lint tests` checks everything.

Every session installs what it needs itself (the pinned Python packages from
requirements.lock, the pinned npm packages from package-lock.json), so both work on a fresh
clone of the repository.
"""

from __future__ import annotations

import os
import shutil

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

SYSTEM_CHROMIUM = "/usr/bin/chromium"


def install(session: nox.Session) -> None:
    session.install("-r", "requirements.lock")
    session.install("--no-deps", "-e", ".")


def build_bundle(session: nox.Session) -> None:
    """npm packages from the lock file, then the runtime bundle (Pyodide, wheels, server_py)."""
    session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
    session.run("peerserver", "build")


def ensure_chromium(session: nox.Session) -> None:
    if not (os.path.exists(SYSTEM_CHROMIUM) or shutil.which("chromium")):
        # Not Debian's Chromium here: use Playwright's own build, where it can be downloaded.
        session.run("playwright", "install", "chromium")


@nox.session
def build(session: nox.Session) -> None:
    """Assemble the runtime bundle in build/runtime."""
    install(session)
    build_bundle(session)


@nox.session
def serve(session: nox.Session) -> None:
    """Run PeerServer on http://localhost:8000/ (extra arguments go to `peerserver serve`)."""
    install(session)
    build_bundle(session)
    session.run("peerserver", "serve", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite: the browser modules' unit tests (node --test), then unit, service
    and end-to-end (real Chromium and Firefox, coturn, nginx) tests."""
    install(session)
    build_bundle(session)
    ensure_chromium(session)
    if not session.posargs:
        session.run("node", "--test", "tests/js/", external=True)
    session.run("pytest", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks in real Chromium: writes bench/results.json, bench/report.md, bench/report.png."""
    install(session)
    build_bundle(session)
    ensure_chromium(session)
    session.run("python", "-m", "bench.run")


@nox.session
def soak(session: nox.Session) -> None:
    """Memory over a long run of one server tab (minutes; SOAK_REQUESTS and the others for
    hours): writes bench/soak.json and bench/soak.png. Not part of the tests."""
    install(session)
    build_bundle(session)
    ensure_chromium(session)
    session.run("python", "-m", "bench.soak")


@nox.session
def dist(session: nox.Session) -> None:
    """The wheel, which carries the built runtime bundle (installed anywhere, `peerserver serve`
    needs no Node.js, npm or build step), and the sdist, in dist/."""
    install(session)
    build_bundle(session)
    session.run("python", "-m", "build", "--sdist", "--wheel", "--outdir", "dist")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over all Python code; Biome (lint and format) over the JavaScript (biome.json)."""
    session.install("-r", "requirements.lock")
    session.run("ruff", "check", ".")
    session.run(
        "ruff", "format", "--check", "signaling", "server_py", "tests", "bench", "noxfile.py"
    )
    session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
    session.run("node_modules/.bin/biome", "ci", external=True)
