"""The signaling protocol's two writings agree: runtime/protocol/signaling.js (the browser's
ends: a server tab, a standby, a visitor's shell) and signaling/messages.py (the service's, and
the tunnel's). Node makes the browser's messages; a hub takes them through a whole site's life,
and what it answers is each a message the browser knows."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from signaling import messages
from signaling.hub import Hub
from signaling.leases import OWNER
from tests.harness import REPO
from tests.signaling.test_hub import WAIT_S, Clock, Peer
from tests.signaling.test_service import TOKEN

# Prints what the module defines, then makes one message per line read: ["toService.renew",
# [1, 2]] -> {"type": "renew", "epoch": 1, "n": 2}.
NODE = """
const protocol = await import(process.argv[1]);
const { createInterface } = await import("node:readline");
const sets = ["SERVICE_SENDS", "NAME_LOST", "MOVE_REFUSED"];
console.log(JSON.stringify({
  constants: Object.fromEntries(
    Object.entries(protocol).filter(([, value]) => typeof value === "string")),
  sets: Object.fromEntries(sets.map((name) => [name, [...protocol[name]]])),
  builds: Object.fromEntries(
    Object.entries(protocol.toService).map(([name, make]) => [name, make({}).type])),
}));
for await (const line of createInterface({ input: process.stdin })) {
  const [path, args] = JSON.parse(line);
  const [group, name] = path.split(".");
  console.log(JSON.stringify(protocol[group][name](...args)));
}
"""


class BrowserEnds:
    """runtime/protocol/signaling.js in Node: what it defines, and the messages it makes."""

    def __init__(self, process: asyncio.subprocess.Process, defined: dict[str, Any]) -> None:
        self.process = process
        self.defined = defined

    async def make(self, path: str, *args: Any) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps([path, args]).encode() + b"\n")
        return (await asyncio.wait_for(self.process.stdout.readline(), WAIT_S)).decode()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def browser_ends() -> AsyncIterator[BrowserEnds]:
    module = (REPO / "runtime" / "protocol" / "signaling.js").as_uri()
    process = await asyncio.create_subprocess_exec(
        "node", "--input-type=module", "-e", NODE, module,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        first = await asyncio.wait_for(process.stdout.readline(), 60)
        yield BrowserEnds(process, json.loads(first))
    finally:
        process.kill()
        await process.wait()


def python_constants() -> dict[str, str]:
    return {
        name: value
        for name, value in vars(messages).items()
        if name.isupper() and isinstance(value, str)
    }


@pytest.mark.anyio
async def test_both_ends_name_the_same_messages(browser_ends: BrowserEnds) -> None:
    defined = browser_ends.defined
    assert defined["constants"] == python_constants()
    assert set(defined["sets"]["SERVICE_SENDS"]) == messages.SERVICE_SENDS
    assert set(defined["sets"]["NAME_LOST"]) == messages.NAME_LOST
    assert set(defined["sets"]["MOVE_REFUSED"]) == messages.MOVE_REFUSED
    assert messages.NAME_LOST | messages.MOVE_REFUSED <= messages.ERROR_CODES
    # The browser makes every message the service takes, and none other.
    takes = messages.SERVER_TAB_SENDS | messages.STANDBY_SENDS | messages.VISITOR_SENDS
    assert set(defined["builds"].values()) == takes | messages.EVERY_PEER_SENDS


class Tab(Peer):
    """A peer whose every message from the service is one the browser's ends know."""

    def __init__(self, hub: Hub, known: set[str]) -> None:
        super().__init__(hub)
        self.known = known

    async def next(self) -> dict[str, Any]:
        message = await asyncio.wait_for(self.inbox.get(), WAIT_S)
        assert message["type"] in self.known, message
        assert message["type"] != messages.ERROR, message
        return message

    async def next_of(self, kind: str) -> dict[str, Any]:
        """The next message of type ``kind``; only news of the site and its members before it."""
        others = (messages.ICE_SERVERS, messages.SERVER_STATUS, messages.MEMBERS)
        while (message := await self.next())["type"] != kind:
            assert message["type"] in others, message
        return message


@pytest.mark.anyio
async def test_a_sites_life_in_the_browsers_messages(browser_ends: BrowserEnds) -> None:
    """Registered, renewed, a standby joined and in sync, a visitor's offer refused, the site
    handed over and asked back: each message made by runtime/protocol/signaling.js, each answer
    of the service's one it knows."""
    known = set(browser_ends.defined["sets"]["SERVICE_SENDS"])
    make = browser_ends.make
    hub = Hub(clock=Clock())

    async def connected() -> Tab:
        tab = Tab(hub, known)
        tab.id = await hub.connect_server(tab.send)
        return tab

    owner = await connected()
    register = {"name": "demo", "token": TOKEN, "n": 1, "complete": True}
    await owner.say(await make("toService.register", register))
    registered = await owner.next_of(messages.REGISTERED)
    assert registered["n"] == 1 and registered["name"] == "demo"
    epoch = registered["epoch"]
    await owner.say(await make("toService.renew", epoch, 2))
    assert (await owner.next_of(messages.LEASE))["n"] == 2
    await owner.say(await make("toService.packageTicket"))
    assert (await owner.next_of(messages.PACKAGE_TICKET))["ticket"]
    await owner.say(await make("toService.askIceServers"))
    assert (await owner.next_of(messages.ICE_SERVERS))["iceTransportPolicy"] == "all"

    # A standby: a link's grant, used once; it registers as a member and stands by.
    await owner.say(await make("toService.standbyGrant", epoch))
    grant = (await owner.next_of(messages.STANDBY_GRANT))["grant"]
    friend = await connected()
    await friend.say(await make("toService.join", "demo", grant, "Firefox 153"))
    joined = await friend.next_of(messages.JOINED)
    member, member_token = joined["member"], joined["memberToken"]
    standby = {"name": "demo", "member": member, "memberToken": member_token, "n": 1}
    await friend.say(await make("toService.register", {**standby, "complete": True}))
    assert (await friend.next_of(messages.STANDBY))["member"] == member
    offer = {"sdp": {"type": "offer", "sdp": "v=0"}}
    await friend.say(await make("toService.signal", offer))
    signal = await owner.next_of(messages.SIGNAL)
    assert signal["standby"] == member and signal["data"] == offer
    await owner.say(await make("toService.signal", {"candidate": None}, friend.id))
    assert (await friend.next_of(messages.SIGNAL))["data"] == {"candidate": None}
    await owner.say(await make("toService.sync", epoch, [member]))
    assert (await owner.next_of(messages.SYNCED))["inSync"] == [member]

    # A visitor's offers, refused: the site is busy; it moved.
    guest = Tab(hub, known)
    guest.id = await hub.connect_visitor("demo", guest.send)
    for refusal in (["refusals.busy", "Too many."], ["refusals.moved"]):
        await guest.say(await make("toService.signal", offer))
        assert (await owner.next_of(messages.SIGNAL))["from"] == guest.id
        data = json.loads(await make(*refusal))
        await owner.say(await make("toService.signal", data, guest.id))
        assert (await guest.next_of(messages.SIGNAL))["data"] == data

    # Handed over to the standby; the owner's tab stands by and asks for the site back.
    await owner.say(await make("toService.handover", epoch, member))
    assert (await friend.next_of(messages.REGISTERED))["epoch"] == epoch + 1
    assert (await owner.next_of(messages.HANDED_OVER))["epoch"] == epoch + 1
    await owner.say(await make("toService.register", {**register, "n": 3}))
    assert (await owner.next_of(messages.STANDBY))["member"] == OWNER
    await owner.say(await make("toService.takeOver"))
    assert (await friend.next_of(messages.MOVE_TO))["member"] == OWNER
    await friend.say(await make("toService.sync", epoch + 1, [OWNER]))
    await friend.next_of(messages.SYNCED)
    await friend.say(await make("toService.handover", epoch + 1, OWNER))
    assert (await owner.next_of(messages.REGISTERED))["epoch"] == epoch + 2
    assert (await friend.next_of(messages.HANDED_OVER))["epoch"] == epoch + 2

    # The friend's tab stands by again, and is removed; the owner's closes.
    await friend.say(await make("toService.register", {**standby, "n": 2, "complete": True}))
    await friend.next_of(messages.STANDBY)
    await owner.say(await make("toService.standbyRemove", epoch + 2, member))
    assert await friend.next_of(messages.REMOVED) == {"type": messages.REMOVED}
    await owner.say(await make("toService.resign", epoch + 2))
    while (await guest.next_of(messages.SERVER_STATUS))["online"]:
        pass
