"""``python -m cfaig.testing``: serve the gateway emulator until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ._gateway import GatewayEmulator
from ._server import serve
from ._types import DEFAULT_TOKEN, EMULATOR_ACCOUNT_ID, GatewaySettings

_HISTORY_LIMIT = 10_000


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cfaig.testing",
        description="Serve a local Cloudflare AI Gateway emulator with deterministic fake models.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="TCP port (default: 8787; 0 picks a free one)")
    parser.add_argument("--auth", action="store_true", help="require cf-aig-authorization on the gateway")
    parser.add_argument(
        "--token",
        action="append",
        dest="tokens",
        metavar="T",
        help=f"accepted Cloudflare token (repeatable; default: {DEFAULT_TOKEN})",
    )
    parser.add_argument("--upstream", metavar="URL", help="OpenAI-compatible base URL to forward chat/embeddings to")
    parser.add_argument("--account-id", default=EMULATOR_ACCOUNT_ID, help="account id to answer for")
    parser.add_argument(
        "--gateway", action="append", default=[], metavar="ID", help="extra gateway id to create (repeatable)"
    )
    parser.add_argument("--cache-ttl", type=int, default=0, help="gateway cache TTL in seconds (default: 0, off)")
    parser.add_argument("--rate-limit", type=int, default=None, help="requests per minute per gateway")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator server until Ctrl-C (SIGINT) or SIGTERM."""
    args = _parser().parse_args(argv)

    def settings() -> GatewaySettings:
        return GatewaySettings(authentication=args.auth, cache_ttl=args.cache_ttl, rate_limit=args.rate_limit)

    gateways = {name: settings() for name in ["default", *args.gateway]}
    tokens = args.tokens or [DEFAULT_TOKEN]
    emulator = GatewayEmulator(
        account_id=args.account_id,
        gateways=gateways,
        tokens=tokens,
        upstream=args.upstream,
        max_history=_HISTORY_LIMIT,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with serve(emulator, host=args.host, port=args.port) as server:
        auth = f" -H 'cf-aig-authorization: Bearer {tokens[0]}'" if args.auth else ""
        sys.stdout.write(
            "cfaig gateway emulator (local fake models, nothing leaves this machine)\n"
            f"  gateway base URL : {server.base_url}\n"
            f"  REST base URL    : {server.api_base_url}\n"
            f"  account id       : {emulator.account_id}    token: {tokens[0]}\n"
            f"  example: curl -s {server.gateway_url()}/compat/chat/completions{auth} "
            "-H 'content-type: application/json' "
            '-d \'{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}\'\n'
            "Press Ctrl-C to stop.\n"
        )
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
        sys.stdout.write("stopping\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
