"""A public deployment on one machine, for real: a test certificate authority with a wildcard
certificate for a test domain, coturn and nginx started from the files under ``deploy/`` (so
that what the README tells an operator is what the tests run), and redis-server for the shared
name store, all on loopback addresses.

A binary that is missing fails the test that needs it and names the Debian package."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.harness import REPO, TEST_DOMAIN, free_port, stop

DEPLOY = REPO / "deploy"


def require(binary: str, package: str) -> str:
    """The path of ``binary``; a clear failure naming ``package`` if it is not installed."""
    path = shutil.which(binary) or next(
        (f"{d}/{binary}" for d in ("/usr/sbin", "/sbin") if os.path.exists(f"{d}/{binary}")), None
    )
    if path is None:
        raise RuntimeError(f"{binary} is not installed: apt-get install {package}")
    return path


@dataclass(frozen=True)
class Certificate:
    """A wildcard certificate for the test domain, from a CA made for this test run."""

    cert: Path
    key: Path
    ca: Path  # the CA's certificate, for Python clients (SSL_CERT_FILE)
    spki_sha256: (
        str  # base64; Chromium trusts the leaf by it (--ignore-certificate-errors-spki-list)
    )

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


def make_certificate(folder: Path) -> Certificate:
    ca = trustme.CA()
    leaf = ca.issue_cert(TEST_DOMAIN, f"*.{TEST_DOMAIN}", "localhost", "127.0.0.1")
    cert, key, ca_file = folder / "cert.pem", folder / "key.pem", folder / "ca.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    for extra in leaf.cert_chain_pems[1:]:
        extra.write_to_path(str(cert), append=True)
    leaf.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    public_key = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes()).public_key()
    spki = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    digest = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    return Certificate(cert, key, ca_file, digest)


def fill(template: Path, values: dict[str, str]) -> str:
    """``template`` with its ``${NAME}`` placeholders filled in, as ``envsubst`` would with the
    same names (nginx's own ``$variables`` are left alone)."""
    text = template.read_text()
    missing = set(re.findall(r"\$\{(\w+)\}", text)) - set(values)
    if missing:
        raise KeyError(f"{template.name} needs {sorted(missing)}")
    return re.sub(r"\$\{(\w+)\}", lambda match: values[match.group(1)], text)


def _wait_for_port(port: int, process: subprocess.Popen, what: str, udp: bool = False) -> None:
    deadline = time.monotonic() + 20
    flag = "-lun" if udp else "-ltn"
    while (
        f"127.0.0.1:{port} "
        not in subprocess.run(["ss", flag], capture_output=True, text=True, check=True).stdout
    ):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start listening on port {port}")
        time.sleep(0.1)


@dataclass(frozen=True)
class Turn:
    url: str  # turn:127.0.0.1:PORT?transport=udp
    secret: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def coturn(folder: Path, port: int | None = None, secret: str | None = None) -> Iterator[Turn]:
    """coturn with ``deploy/turnserver.conf``; what differs on one machine is given on the
    command line, which coturn lets win over the file. ``port`` and ``secret``: those of a
    coturn before it, to start it again."""
    binary = require("turnserver", "coturn")
    port, secret = port or free_port(), secret or secrets.token_hex(16)
    relay_ports = free_port()
    log = folder / "turnserver.log"
    command = [
        binary, "-c", str(DEPLOY / "turnserver.conf"),
        "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1",
        "--listening-port", str(port), "--static-auth-secret", secret, "--realm", TEST_DOMAIN,
        # Both peers are on this machine: relaying to loopback addresses is the point here and
        # nowhere else.
        "--allow-loopback-peers",
        "--min-port", str(relay_ports), "--max-port", str(min(relay_ports + 200, 65535)),
        "--no-tls", "--no-dtls",
        "--userdb", str(folder / "turndb"), "--pidfile", str(folder / "turn.pid"),
        "--log-file", str(log), "--simple-log", "--verbose",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, process, "coturn", udp=True)
        yield Turn(f"turn:127.0.0.1:{port}?transport=udp", secret, log)
    finally:
        stop(process)


@contextmanager
def nginx(folder: Path, certificate: Certificate, *upstream_ports: int) -> Iterator[int]:
    """nginx terminating TLS for the test domain and its subdomains in front of the service
    instances on ``upstream_ports`` (round-robin), with ``deploy/nginx.conf``; yields the port
    it listens on. Each request it passes on is logged to ``folder/access.log`` as
    ``UPSTREAM STATUS METHOD PATH`` (see :func:`nginx_log`)."""
    binary = require("nginx", "nginx")
    port = free_port()
    site = fill(
        DEPLOY / "nginx.conf",
        {
            "PEERSERVER_DOMAIN": TEST_DOMAIN,
            "LISTEN": f"127.0.0.1:{port}",
            "TLS_CERT": str(certificate.cert),
            "TLS_KEY": str(certificate.key),
            "UPSTREAM_SERVERS": " ".join(f"server 127.0.0.1:{port};" for port in upstream_ports),
        },
    )
    (folder / "peerserver.conf").write_text(site)
    # What a distribution's /etc/nginx/nginx.conf holds around the included site file.
    (folder / "nginx.conf").write_text(
        f"user root;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log warn;\nevents {{ worker_connections 1024; }}\n"
        f"http {{\n  log_format upstream '$upstream_addr $status $request_method $uri';\n"
        f"  access_log {folder}/access.log upstream;\n  client_body_temp_path {folder}/body;\n"
        f"  proxy_temp_path {folder}/proxy;\n  include {folder}/peerserver.conf;\n}}\n"
    )
    command = [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, process, "nginx")
        yield port
    finally:
        stop(process)


def nginx_log(folder: Path) -> list[tuple[str, int, str, str]]:
    """What :func:`nginx` in ``folder`` passed on so far: (upstream, status, method, path)."""
    entries = []
    for line in (folder / "access.log").read_text().splitlines():
        upstream, status, method, path = line.split(" ", 3)
        entries.append((upstream, int(status), method, path))
    return entries


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A redis-server of its own on a free loopback port; yields its URL."""
    binary = require("redis-server", "redis-server")
    port = free_port()
    command = [
        binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder),
        "--save", "", "--appendonly", "no", "--protected-mode", "yes", "--loglevel", "warning",
        "--pidfile", str(folder / "redis.pid"),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, process, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(process)
