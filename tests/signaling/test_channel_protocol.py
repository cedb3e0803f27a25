"""The data-channel protocol's two writings agree: runtime/protocol/channels.js (the browser's
ends) and signaling/tunnel/channels.py (the tunnel's), read by Node and by Python side by side."""

from __future__ import annotations

import itertools
import json
import subprocess

from server_py.wsgi import MAX_CHUNK
from signaling.tunnel.channels import CONTROL, HTTP, MAX_MESSAGE_BYTES, channel_protocol
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


def test_both_ends_name_and_format_channels_alike() -> None:
    cases = list(itertools.product(["http", "https"], [False, True], [False, True]))
    module = (REPO / "runtime" / "protocol" / "channels.js").as_uri()
    run = subprocess.run(
        ["node", "--input-type=module", "-e", SCRIPT, module, json.dumps(cases)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    javascript = json.loads(run.stdout)
    assert javascript["labels"] == [CONTROL, HTTP]
    # The size of a message: the browser's ends, the tunnel's and the server tab's Python's.
    assert javascript["maxMessageBytes"] == MAX_MESSAGE_BYTES == MAX_CHUNK
    assert javascript["formatted"] == [channel_protocol(*case) for case in cases]
    assert javascript["parsed"] == [
        {"scheme": scheme, "httpOnlyByServer": cookies, "window": window}
        for scheme, cookies, window in cases
    ]
