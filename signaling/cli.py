"""The ``peerserver`` command: ``serve`` runs the service, ``build`` makes the runtime bundle,
``tunnel`` exposes a site on a local port, ``names`` shows and releases the names held."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from pathlib import Path

from signaling import operator
from signaling.bundle import build
from signaling.ice import DEFAULT_CREDENTIAL_SECONDS, IceConfig
from signaling.leases import DEFAULT_LEASE_SECONDS, Leases
from signaling.limits import LimitSettings
from signaling.locations import DEFAULT_BUNDLE
from signaling.messages import MAX_MESSAGE_BYTES
from signaling.packages.pyodide_dist import PYODIDE_CDN
from signaling.packages.service import PackageSettings
from signaling.public_url import PublicURL
from signaling.registry import (
    DEFAULT_NAMES_PER_ADDRESS,
    DEFAULT_NAMES_PER_OWNER,
    DEFAULT_RESERVATION_SECONDS,
    DEFAULT_UNUSED_RESERVATION_SECONDS,
    Rules,
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="peerserver", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the signaling service and serve the app")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument(
        "--public-url",
        metavar="URL",
        help="the address people use, e.g. https://example.org: sites are then at "
        "https://NAME.example.org (default: http://localhost:PORT)",
    )
    serve.add_argument("--tls-cert", type=Path, metavar="PEM", help="terminate TLS: certificate")
    serve.add_argument("--tls-key", type=Path, metavar="PEM", help="terminate TLS: private key")
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDR",
        help="a reverse proxy whose X-Forwarded-Proto/-For headers are believed (an address or "
        "network; repeatable); no one's are by default",
    )
    serve.add_argument(
        "--redis",
        metavar="URL",
        help="keep names in Redis (redis://HOST:PORT/DB) and share them, and the visitors, with "
        "every instance pointed at it; names then survive restarts (default: in memory)",
    )
    names = serve.add_argument_group("names (a shared namespace)")
    names.add_argument(
        "--reservation-days",
        type=float,
        default=DEFAULT_RESERVATION_SECONDS / 86400,
        metavar="DAYS",
        help="the longest a name stays its owner's once the owner's tab is away (a name is kept "
        "as long as it served, at least --unused-reservation-minutes)",
    )
    names.add_argument(
        "--unused-reservation-minutes",
        type=float,
        default=DEFAULT_UNUSED_RESERVATION_SECONDS / 60,
        metavar="MINUTES",
        help="how long a name that never served a visitor (or served briefly) stays reserved",
    )
    names.add_argument(
        "--max-names-per-address", type=int, default=DEFAULT_NAMES_PER_ADDRESS, metavar="N",
        help="names one client address (IPv6: one /64) may hold or keep reserved at once",
    )  # fmt: skip
    names.add_argument(
        "--max-names-per-owner", type=int, default=DEFAULT_NAMES_PER_OWNER, metavar="N",
        help="names one owner (a browser's owner token) may hold or keep reserved at once",
    )  # fmt: skip
    names.add_argument(
        "--lease-seconds", type=float, default=DEFAULT_LEASE_SECONDS, metavar="SECONDS",
        help="how long a serving tab may go without renewing its lease before a standby of its "
        "site takes over (a site with standbys is unreachable for about this long when its "
        "serving tab dies without a word)",
    )  # fmt: skip
    names.add_argument(
        "--operator-key-file", type=Path, default=operator.default_key_file(), metavar="PATH",
        help="where the key `peerserver names` shows is kept (made if missing)",
    )  # fmt: skip
    limits = serve.add_argument_group("limits (per client address, visitor and site)")
    defaults = LimitSettings()
    limits.add_argument(
        "--max-sockets-per-address", type=int, default=defaults.sockets_per_address, metavar="N",
        help="signaling WebSockets one address may hold open",
    )  # fmt: skip
    limits.add_argument(
        "--max-messages-per-second", type=float, default=defaults.messages_per_second,
        metavar="N", help="signaling messages one address may send, on average",
    )  # fmt: skip
    limits.add_argument(
        "--message-burst", type=int, default=defaults.message_burst, metavar="N",
        help="messages one address may send at once before the average applies",
    )  # fmt: skip
    limits.add_argument(
        "--max-pending-offers", type=int, default=defaults.pending_offers_per_visitor,
        metavar="N", help="offers a visitor may have waiting for an answer",
    )  # fmt: skip
    limits.add_argument(
        "--max-visitors-per-site", type=int, default=defaults.visitors_per_site, metavar="N",
        help="visitors a server tab serves at once; the next one is told the site is busy",
    )  # fmt: skip
    ice = serve.add_argument_group("ICE servers handed to every peer")
    ice.add_argument("--stun", action="append", default=[], metavar="URL", help="stun:HOST:PORT")
    ice.add_argument(
        "--turn", action="append", default=[], metavar="URL", help="turn:HOST:PORT (coturn)"
    )
    ice.add_argument(
        "--turn-secret",
        default=os.environ.get("PEERSERVER_TURN_SECRET"),
        metavar="SECRET",
        help="coturn's static-auth-secret (or the PEERSERVER_TURN_SECRET variable, which "
        "keeps it out of the process list)",
    )
    ice.add_argument(
        "--turn-credential-seconds",
        type=int,
        default=DEFAULT_CREDENTIAL_SECONDS,
        metavar="N",
        help="how long the TURN credentials given to a peer stay valid",
    )
    ice.add_argument(
        "--relay-only",
        action="store_true",
        help="peers connect through TURN only and never see each other's addresses",
    )
    packages = serve.add_argument_group("packages of the sites' requirements.txt")
    package_defaults = PackageSettings()
    packages.add_argument(
        "--packages-dir", type=Path, default=package_defaults.folder, metavar="DIR",
        help="where fetched packages are kept across restarts (default: %(default)s)",
    )  # fmt: skip
    packages.add_argument(
        "--packages-max-mb", type=int, default=package_defaults.max_store_bytes // 2**20,
        metavar="MB", help="the size that folder is kept under (least recently used go first)",
    )  # fmt: skip
    packages.add_argument(
        "--max-fetch-mb", type=int, default=package_defaults.max_fetch_bytes // 2**20,
        metavar="MB", help="what one resolution may fetch from package indexes, in all",
    )  # fmt: skip
    packages.add_argument(
        "--max-resolutions-per-minute", type=float,
        default=package_defaults.resolutions_per_minute, metavar="N",
        help="new resolutions one client address may ask for, on average (a burst of "
        f"{package_defaults.resolution_burst} first); requirements resolved before are free",
    )  # fmt: skip
    packages.add_argument(
        "--pyodide-packages", metavar="cdn|none|DIR_OR_URL", default="cdn",
        help="where sites get numpy, pandas and the other packages Pyodide builds: 'cdn' "
        "(default) from Pyodide's public CDN, each file checked against the runtime's "
        "pyodide-lock.json; 'none' for none; or a folder or URL with Pyodide's release files "
        "(its pyodide-lock.json and the files it names)",
    )  # fmt: skip
    packages.add_argument(
        "--pyodide-cdn", metavar="URL",
        help="where 'cdn' takes them from: Pyodide's CDN folder for the bundled release "
        f"({PYODIDE_CDN.format(version='VERSION')}), or a mirror of it",
    )  # fmt: skip
    serve.add_argument(
        "--extra-templates",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="also offer each folder of DIR as a template",
    )
    serve.add_argument(
        "--bundle",
        type=Path,
        default=DEFAULT_BUNDLE,
        help="runtime bundle folder (see `peerserver build`)",
    )

    tunnel = commands.add_parser(
        "tunnel", help="expose a browser-hosted site on a local TCP port (for curl and friends)"
    )
    tunnel.add_argument("name", help="the site's server name")
    tunnel.add_argument("--port", type=int, required=True, help="local port to listen on")
    tunnel.add_argument("--host", default="127.0.0.1", help="local address to listen on")
    tunnel.add_argument(
        "--service",
        default=os.environ.get("PEERSERVER_URL", "http://localhost:8000"),
        help="the PeerServer service's public URL (or the PEERSERVER_URL variable)",
    )

    build_cmd = commands.add_parser("build", help="assemble the runtime bundle")
    build_cmd.add_argument("--out", type=Path, default=DEFAULT_BUNDLE)

    operator.add_arguments(
        commands.add_parser("names", help="the names a service holds, and releasing them")
    )

    args = parser.parse_args(argv)
    if args.command == "names":
        operator.run(args)
        return
    if args.command == "build":
        print(f"runtime bundle in {build(args.out)}")
        return
    if args.command == "tunnel":
        import asyncio

        from signaling.tunnel import serve_tunnel

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_tunnel(args.name, args.port, args.service, args.host))
        return
    if not (args.bundle / "manifest.json").is_file():
        parser.exit(1, f"no runtime bundle in {args.bundle}: run `peerserver build` first\n")
    try:
        public_url, ice_config = _serve_settings(args)
        pyodide_source, pyodide_said = _pyodide_source(args)
        limit_settings = LimitSettings(
            sockets_per_address=args.max_sockets_per_address,
            messages_per_second=args.max_messages_per_second,
            message_burst=args.message_burst,
            pending_offers_per_visitor=args.max_pending_offers,
            visitors_per_site=args.max_visitors_per_site,
        )
        rules = Rules(
            reservation_seconds=args.reservation_days * 86400,
            unused_reservation_seconds=args.unused_reservation_minutes * 60,
            names_per_address=args.max_names_per_address,
            names_per_owner=args.max_names_per_owner,
            leases=Leases(args.lease_seconds),
        )
        package_settings = PackageSettings(
            folder=args.packages_dir,
            max_store_bytes=args.packages_max_mb * 2**20,
            max_fetch_bytes=args.max_fetch_mb * 2**20,
            resolutions_per_minute=args.max_resolutions_per_minute,
            **pyodide_source,
        )
    except ValueError as error:
        parser.error(str(error))

    import uvicorn

    from signaling.app import create_app
    from signaling.hub import Hub
    from signaling.stores import MemoryStore, RedisStore

    store = RedisStore(args.redis) if args.redis else MemoryStore()
    app = create_app(
        bundle=args.bundle,
        public_url=public_url,
        hub=Hub(store, rules, ice_config, limit_settings),
        extra_templates=args.extra_templates,
        package_settings=package_settings,
        operator_key=operator.ensure_key(args.operator_key_file),
    )
    print(f"Pyodide's packages (numpy, pandas, ...): {pyodide_said}", flush=True)
    print(f"PeerServer is serving at {public_url}", flush=True)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        ws="websockets-sansio",
        # A message is at most 64 KiB (signaling.registry): a bigger frame closes the socket
        # before it is buffered whole.
        ws_max_size=2 * MAX_MESSAGE_BYTES,
        ssl_certfile=args.tls_cert,
        ssl_keyfile=args.tls_key,
        proxy_headers=bool(args.trusted_proxy),
        forwarded_allow_ips=args.trusted_proxy or None,
    )


def _pyodide_source(args: argparse.Namespace) -> tuple[dict[str, str | None], str]:
    """Where `serve`'s options say Pyodide's packages come from (PackageSettings' fields), and
    that in words, for the operator."""
    if args.pyodide_cdn and args.pyodide_packages != "cdn":
        raise ValueError("--pyodide-cdn goes with --pyodide-packages cdn")
    if args.pyodide_packages == "none":
        return {}, "none offered (--pyodide-packages none)"
    if args.pyodide_packages != "cdn":
        return {"pyodide_packages": args.pyodide_packages}, f"from {args.pyodide_packages}"
    version = json.loads((args.bundle / "manifest.json").read_text())["pyodide"]
    mirror = args.pyodide_cdn or PYODIDE_CDN.format(version=version)
    where = "a mirror of Pyodide's CDN" if args.pyodide_cdn else "Pyodide's public CDN"
    return {"pyodide_mirror": mirror}, (
        f"from {where}, {mirror}, each file checked against the runtime's pyodide-lock.json "
        "(--pyodide-packages to change)"
    )


def _serve_settings(args: argparse.Namespace) -> tuple[PublicURL, IceConfig]:
    """The public URL and ICE servers that `serve`'s options describe, or a ValueError."""
    public_url = PublicURL.parse(args.public_url) if args.public_url else PublicURL.local(args.port)
    if (args.tls_cert is None) != (args.tls_key is None):
        raise ValueError("--tls-cert and --tls-key go together")
    for path in (args.tls_cert, args.tls_key):
        if path is not None and not path.is_file():
            raise ValueError(f"{path}: no such file")
    if args.tls_cert and not public_url.is_secure:
        raise ValueError(f"with --tls-cert the public URL is https://, not {public_url}")
    if public_url.is_secure and not (args.tls_cert or args.trusted_proxy):
        raise ValueError(
            f"{public_url} is HTTPS: give --tls-cert/--tls-key, or the --trusted-proxy that "
            "terminates TLS in front of this service"
        )
    ice_config = IceConfig(
        stun=tuple(args.stun),
        turn=tuple(args.turn),
        turn_secret=args.turn_secret if args.turn else None,
        credential_seconds=args.turn_credential_seconds,
        relay_only=args.relay_only,
    )
    return public_url, ice_config
