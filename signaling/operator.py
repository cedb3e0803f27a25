"""``peerserver names``: the operator's view of the names a service holds, and releasing them.

Against a service with the embedded memory store, the command asks the running service, which
answers on ``/api/operator/`` to whoever shows the operator key: a random key the service keeps
in a file only its user can read (``--operator-key-file``; ``peerserver serve`` makes it the
first time), which the command reads from the same place. Against Redis (``--redis``) the
command reads and changes the names itself, as one more instance would, and a tab whose name it
releases is told through its own instance.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

import httpx

from signaling.registry import DEFAULT_RESERVATION_SECONDS, Rules

KEY_HEADER = "Authorization"
OPERATOR_PATH = "/api/operator"  # POST {action: list | release | release-address, name, address}
ACTIONS = ("list", "release", "release-address")


def default_key_file() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "peerserver" / "operator-key"


def ensure_key(path: Path) -> str:
    """The operator key kept in ``path``, made (readable by this user only) if there is none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_key(path)
    key = secrets.token_urlsafe(32)
    with os.fdopen(descriptor, "w") as file:
        file.write(key + "\n")
    return key


def read_key(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError as error:
        raise SystemExit(
            f"the operator key cannot be read from {path} ({error.strerror}): run this as the "
            "user that runs `peerserver serve`, or give --operator-key-file"
        ) from None


def authorized(header: str | None, key: str) -> bool:
    """Whether an ``Authorization`` header shows the operator key."""
    given = (header or "").removeprefix("Bearer ").strip()
    return bool(given) and hmac.compare_digest(given.encode(), key.encode())


def add_arguments(names: argparse.ArgumentParser) -> None:
    where = names.add_mutually_exclusive_group()
    where.add_argument(
        "--service",
        default=os.environ.get("PEERSERVER_URL", "http://localhost:8000"),
        help="a running service with the memory store (default: %(default)s)",
    )
    where.add_argument("--redis", metavar="URL", help="the names in Redis, read directly")
    names.add_argument(
        "--operator-key-file",
        type=Path,
        default=default_key_file(),
        metavar="PATH",
        help="where `peerserver serve` keeps its operator key (default: %(default)s)",
    )
    names.add_argument(
        "--reservation-days",
        type=float,
        default=DEFAULT_RESERVATION_SECONDS / 86400,
        metavar="DAYS",
        help="with --redis: the service's --reservation-days, for records that do not say",
    )
    action = names.add_subparsers(dest="action")
    action.add_parser("list", help="every name held or reserved (the default)")
    release = action.add_parser("release", help="free a name now")
    release.add_argument("name")
    release_address = action.add_parser(
        "release-address", help="free every name one address holds (an IPv6 address: its /64)"
    )
    release_address.add_argument("address")
    names.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> None:
    action = args.action or "list"
    result = asyncio.run(_with_redis(args, action)) if args.redis else _with_service(args, action)
    if args.json or action != "list":
        print(json.dumps(result, indent=2) if args.json else _said(action, args, result))
    else:
        print(table(result))


def _with_service(args: argparse.Namespace, action: str) -> Any:
    key = read_key(args.operator_key_file)
    url = args.service.rstrip("/") + OPERATOR_PATH
    body = {"action": action, "name": getattr(args, "name", ""),
            "address": getattr(args, "address", "")}  # fmt: skip
    try:
        response = httpx.post(url, json=body, headers={KEY_HEADER: f"Bearer {key}"}, timeout=30)
    except httpx.HTTPError as error:
        raise SystemExit(f"the service at {args.service} cannot be reached: {error}") from None
    if response.status_code == 401:
        raise SystemExit(f"{args.service} does not accept the key in {args.operator_key_file}")
    response.raise_for_status()
    return response.json()


async def _with_redis(args: argparse.Namespace, action: str) -> Any:
    from signaling.hub import Hub
    from signaling.stores import RedisStore

    store = RedisStore(args.redis)
    hub = Hub(store, Rules(reservation_seconds=args.reservation_days * 86400))
    await store.start()
    try:
        return await operate(hub, action, getattr(args, "name", ""), getattr(args, "address", ""))
    finally:
        await store.close()


async def operate(hub: Any, action: str, name: str = "", address: str = "") -> Any:
    """What ``action`` does with ``hub``'s names (for the command, and the service's API)."""
    if action == "list":
        return await hub.names()
    if action == "release":
        return {"name": name, "released": await hub.release(name)}
    if action == "release-address":
        return {"address": address, "released": await hub.release_address(address)}
    raise ValueError(f"unknown action {action!r}: one of {', '.join(ACTIONS)}")


def _said(action: str, args: argparse.Namespace, result: dict[str, Any]) -> str:
    if action == "release":
        return f"released {args.name}" if result["released"] else f"{args.name}: no such name"
    released = result["released"]
    return f"released {len(released)} names of {args.address}: {', '.join(released) or '-'}"


def table(names: list[dict[str, Any]], now: float | None = None) -> str:
    """The names as the operator reads them: one line each."""
    now = time.time() if now is None else now
    header = ("NAME", "STATE", "OWNER", "AGE", "SERVED", "LAST SERVED", "RESERVED UNTIL")
    rows = [header]
    for entry in names:
        rows.append(
            (
                entry["name"],
                entry["state"],
                entry["owner"] or "-",
                _ago(now - entry["created"]) if entry["created"] else "-",
                _ago(entry["served_seconds"]) if entry["served_visitors"] else "no visitor",
                "now" if entry["state"] == "online" else _ago(now - entry["last_served"]) + " ago",
                "-"
                if entry["reserved_until"] is None
                else time.strftime("%Y-%m-%d %H:%M", time.localtime(entry["reserved_until"])),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             for row in rows]  # fmt: skip
    return "\n".join(line.rstrip() for line in lines) + f"\n{len(names)} names"


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"
