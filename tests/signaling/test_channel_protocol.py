"""The data-channel protocol's two writings agree: runtime/protocol/channels.js (the browser's
ends) and signaling/tunnel/channels.py (the tunnel's), read by Node and by Python side by side."""

from __future__ import annotations

import itertools
import json
import subprocess
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from server_py.wsgi import MAX_CHUNK
from signaling.tunnel.channels import (
    CONTROL,
    HTTP,
    MAX_MESSAGE_BYTES,
    channel_protocol,
    parse_server_control,
)
from tests.harness import REPO

SCRIPT = """
const protocol = await import(process.argv[1]);
const cases = JSON.parse(process.argv[2]);
console.log(JSON.stringify({
  labels: [protocol.CONTROL, protocol.HTTP],
  maxMessageBytes: protocol.MAX_MESSAGE_BYTES,
  formatted: cases.map(([scheme, httpOnlyByServer, window]) =>
    protocol.formatChannelProtocol({ scheme, httpOnlyByServer, window })),
  parsed: cases.map(([scheme, httpOnlyByServer, window]) => protocol.parseChannelProtocol(
    protocol.formatChannelProtocol({ scheme, httpOnlyByServer, window }))),
}));
"""

CONTROL_SCRIPT = """
const protocol = await import(process.argv[1]);
const texts = JSON.parse(process.argv[2]);
console.log(JSON.stringify(texts.map((text) => protocol.parseServerControl(text))));
"""

LOST = {"type": "lost", "channels": [{"id": 3, "answer": "HTTP/1.1 503 x\r\n\r\n"}]}
# What a server tab sends, and what a broken or hostile one might.
CONTROL_TEXTS = [
    json.dumps({"type": "hello", "name": "demo"}),
    json.dumps({"type": "moved"}),
    json.dumps(LOST),
    json.dumps({"type": "lost", "channels": [{"id": 1, "answer": None}, {"id": 2}]}),
    json.dumps(
        {"type": "lost", "channels": [{"id": -1, "answer": ""}, {"id": 65536, "answer": ""}]}
    ),
    json.dumps({"type": "lost", "channels": [{"id": True, "answer": None}, None, [1], "x"]}),
    json.dumps({"type": "lost", "channels": [{"id": 2.0, "answer": None}, {"id": 2.5}]}),
    json.dumps({"type": "lost", "channels": [{"id": 4, "answer": 5}]}),
    json.dumps({"type": "lost", "channels": {"id": 4}}),
    json.dumps({"type": "lost"}),
    json.dumps({"type": "window", "channel": 1, "bytes": 5}),
    json.dumps([1, 2]),
    "null",
    "not json",
    "",
]


def in_javascript(script: str, argument: object) -> Any:
    """What ``script`` prints (JSON), run by Node with runtime/protocol/channels.js and
    ``argument`` (as JSON) as its arguments."""
    module = (REPO / "runtime" / "protocol" / "channels.js").as_uri()
    run = subprocess.run(
        ["node", "--input-type=module", "-e", script, module, json.dumps(argument)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(run.stdout)


def parse_in_javascript(texts: list[str]) -> list[object]:
    return in_javascript(CONTROL_SCRIPT, texts)


def test_both_ends_name_and_format_channels_alike() -> None:
    cases = list(itertools.product(["http", "https"], [False, True], [False, True]))
    javascript = in_javascript(SCRIPT, cases)
    assert javascript["labels"] == [CONTROL, HTTP]
    # The size of a message: the browser's ends, the tunnel's and the server tab's Python's.
    assert javascript["maxMessageBytes"] == MAX_MESSAGE_BYTES == MAX_CHUNK
    assert javascript["formatted"] == [channel_protocol(*case) for case in cases]
    assert javascript["parsed"] == [
        {"scheme": scheme, "httpOnlyByServer": cookies, "window": window}
        for scheme, cookies, window in cases
    ]


def test_both_ends_take_a_server_tabs_control_messages_alike() -> None:
    javascript = parse_in_javascript(CONTROL_TEXTS)
    assert javascript == [parse_server_control(text) for text in CONTROL_TEXTS]
    assert javascript[2] == LOST
    assert javascript[3]["channels"] == [{"id": 1, "answer": None}]  # an answer must be said


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 70000) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
CHANNELS = st.lists(
    st.fixed_dictionaries({"id": JSON_VALUES}, optional={"answer": JSON_VALUES}) | JSON_VALUES,
    max_size=4,
)


@settings(max_examples=15, deadline=None)  # each example one node process, for 20 messages
@given(
    st.lists(
        st.fixed_dictionaries({"type": st.just("lost"), "channels": CHANNELS}),
        min_size=20,
        max_size=20,
    )
)
def test_both_ends_agree_on_any_list_of_lost_channels(messages: list[dict]) -> None:
    texts = [json.dumps(message) for message in messages]
    assert parse_in_javascript(texts) == [parse_server_control(text) for text in texts]
