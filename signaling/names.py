"""Server names: what is valid, and what to suggest instead.

A server name becomes a host name (``NAME.localhost``), so it follows the rules of a DNS label:
lower-case letters, digits and inner hyphens, at most 63 characters. Browsers lower-case host
names, so upper-case input is not silently accepted but answered with a suggestion.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

_VALID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Names the service uses itself, or that read as part of the product, are never handed out.
RESERVED = frozenset(
    {
        "www",
        "api",
        "admin",
        "server",
        "servers",
        "static",
        "runtime",
        "bundle",
        "peerserver",
        "localhost",
        "signal",
        "ws",
    }
)

ANIMALS = (
    "aardvark",
    "albatross",
    "alpaca",
    "badger",
    "beaver",
    "bison",
    "bobcat",
    "camel",
    "caribou",
    "cheetah",
    "coyote",
    "crane",
    "dingo",
    "dolphin",
    "eagle",
    "falcon",
    "ferret",
    "flamingo",
    "gazelle",
    "gecko",
    "gibbon",
    "heron",
    "ibex",
    "iguana",
    "jackal",
    "jaguar",
    "kestrel",
    "koala",
    "lemur",
    "llama",
    "lynx",
    "marmot",
    "mongoose",
    "narwhal",
    "ocelot",
    "otter",
    "panda",
    "pelican",
    "puffin",
    "quail",
    "raccoon",
    "salmon",
    "tapir",
    "toucan",
    "walrus",
    "wombat",
    "yak",
    "zebra",
)


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a server name, in words for a person, or None if it can."""
    if not name:
        return "A server name cannot be empty."
    if name in RESERVED:
        return f'"{name}" is reserved.'
    if len(name) > 63:
        return "A server name is at most 63 characters long."
    if not _VALID.match(name):
        return (
            f'"{name}" is an invalid server name: use lower-case letters, digits and '
            "hyphens (not at the start or end)."
        )
    return None


def normalize(name: str) -> str:
    """The closest valid-looking name: ``"My Site!"`` becomes ``"my-site"``."""
    words = re.findall(r"[a-z0-9]+", name.lower())
    return "-".join(words)[:63].strip("-")


def suggestions(name: str, rng: random.Random) -> Iterator[str]:
    """Valid names close to ``name``, nearest first, without end: its normalized form, then
    numbered ones, then animals, then animals with a random number (a collision vanishingly
    unlikely). The caller keeps the first that is free."""
    base = normalize(name)
    if base and name_problem(base) is None:
        yield base
        yield from (f"{base[:60]}-{n}" for n in range(2, 10))
    yield from rng.sample(ANIMALS, len(ANIMALS))
    while True:
        yield f"{rng.choice(ANIMALS)}-{rng.randrange(10_000)}"
