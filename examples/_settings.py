"""Where the examples send requests: your gateway, or the emulator when CF_AIG_BASE_URL points at one.

Try them without a Cloudflare account:

    python -m cfaig.testing --port 8787 &
    export CLOUDFLARE_ACCOUNT_ID=0123456789abcdef0123456789abcdef CF_AIG_BASE_URL=http://127.0.0.1:8787/v1
    python examples/langchain_chain.py

With your gateway, set CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_GATEWAY_ID and CF_AIG_TOKEN instead; the
classes read them from the environment. CFAIG_EXAMPLE_MODEL / CFAIG_EXAMPLE_ALT_MODEL choose models.
"""

from __future__ import annotations

import os

MODEL = os.environ.get("CFAIG_EXAMPLE_MODEL", "openai/gpt-5-mini")
ALT_MODEL = os.environ.get("CFAIG_EXAMPLE_ALT_MODEL", "anthropic/claude-sonnet-4-5")
EMBED_MODEL = os.environ.get("CFAIG_EXAMPLE_EMBED_MODEL", "workers-ai/@cf/baai/bge-base-en-v1.5")
