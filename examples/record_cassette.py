"""Record a gateway interaction once, commit the cassette, replay it in CI without network.

    python examples/record_cassette.py                  # no cassette yet: records one (your gateway or the emulator)
    python examples/record_cassette.py                  # a cassette exists: replays it, no request is sent
    CFAIG_RECORD=1 python examples/record_cassette.py   # the same, as cfaig.testing.vcr_config() spells "record"

Recording needs what every example needs (see _settings.py); a replay needs no network and no token or key,
only the same base URL and a 32-hex account id (cassettes hold a placeholder for it). vcr_config() strips
cf-aig-authorization, Authorization and provider keys, and replaces the account id in URLs, so the cassette
is safe to commit. CFAIG_CASSETTE chooses the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import vcr
from _settings import MODEL

from cfaig import GatewayClient
from cfaig.testing import vcr_config

cassette = Path(os.environ.get("CFAIG_CASSETTE", Path(__file__).parent / "cassettes" / "chat.yaml"))
recording = not cassette.exists()
# "once": record when the cassette is missing, otherwise replay it and refuse any request it does not hold
recorder = vcr.VCR(**{**vcr_config(), "record_mode": "once"})
with recorder.use_cassette(str(cassette)), GatewayClient() as client:
    completion = client.chat({"model": MODEL, "messages": [{"role": "user", "content": "Hello from a cassette"}]})
print(completion.text)
print(f"cassette: {cassette} ({'recorded' if recording else 'replayed'})")
