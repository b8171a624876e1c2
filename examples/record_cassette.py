"""Record a real gateway interaction once, commit the cassette, replay it in CI without network.

    CFAIG_RECORD=1 python examples/record_cassette.py   # records (against your gateway or the emulator)
    python examples/record_cassette.py                  # replays: no network, no credentials needed

vcr_config() strips cf-aig-authorization, Authorization and provider keys, and replaces the account id
in URLs, so the cassette is safe to commit.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import vcr
from _settings import MODEL

from cfaig import GatewayClient
from cfaig.testing import vcr_config

cassette = Path(os.environ.get("CFAIG_CASSETTE", Path(__file__).parent / "cassettes" / "chat.yaml"))
if not cassette.exists() and not os.environ.get("CFAIG_RECORD"):
    sys.exit(f"no cassette at {cassette}: record it first with CFAIG_RECORD=1")
recorder = vcr.VCR(**vcr_config())
with recorder.use_cassette(str(cassette)), GatewayClient() as client:
    completion = client.chat({"model": MODEL, "messages": [{"role": "user", "content": "Hello from a cassette"}]})
print(completion.text)
print(f"cassette: {cassette} ({'recorded' if os.environ.get('CFAIG_RECORD') else 'replayed'})")
