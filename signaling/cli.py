"""The ``peerserver`` command: ``serve`` runs the service, ``build`` makes the runtime bundle."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from signaling.bundle import DEFAULT_BUNDLE, build


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="peerserver", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the signaling service and serve the app")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument(
        "--base-domain",
        default="localhost",
        help="parent domain of the site origins (NAME.BASE_DOMAIN)",
    )
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
        "--service", default="http://localhost:8000", help="the PeerServer service's URL"
    )

    build_cmd = commands.add_parser("build", help="assemble the runtime bundle")
    build_cmd.add_argument("--out", type=Path, default=DEFAULT_BUNDLE)

    args = parser.parse_args(argv)
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

    import uvicorn

    from signaling.app import create_app

    app = create_app(
        bundle=args.bundle, base_domain=args.base_domain, extra_templates=args.extra_templates
    )
    print(f"PeerServer is serving at http://{args.base_domain}:{args.port}/", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", ws="websockets-sansio")
