"""The ``cfaig`` command: chat, embed, serve the local emulator, and diagnose a configuration.

Exit codes (stable, for scripts): 0 success; 2 usage error (also an invalid ``--port``); 3 configuration
error, raised before any request (also: the emulator's port is in use or not allowed); 4 the gateway or
provider answered with an error; 5 network error or timeout.

``cfaig emulator`` takes exactly the flags of ``python -m cfaig.testing``: its arguments are that command's
parser's (read from ``cfaig.testing.__main__``), and its argv is passed through unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import re
import socket
import sys
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from cfaig._client import GatewayClient
from cfaig._constants import ENV_API_TOKEN
from cfaig._gateway_codes import gateway_code
from cfaig._redact import SETTING_MASK, is_secret_setting
from cfaig._version import __version__
from cfaig.config import ENV_VARS, GatewayConfig, Surface, env_default
from cfaig.errors import (
    CfaigError,
    ConfigurationError,
    GatewayConnectionError,
    GatewayError,
    GatewayTimeoutError,
)
from cfaig.model_ref import parse_model
from cfaig.options import GatewayOptions
from cfaig.providers import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL
from cfaig.types import GatewayMeta

__all__ = ["EXIT_CONFIG", "EXIT_GATEWAY", "EXIT_NETWORK", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK, EXIT_USAGE, EXIT_CONFIG, EXIT_GATEWAY, EXIT_NETWORK = 0, 2, 3, 4, 5


def _metadata(items: Sequence[str]) -> dict[str, str | int | float | bool] | None:
    if not items:
        return None
    result: dict[str, str | int | float | bool] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigurationError(f"--metadata takes key=value, got {item!r}")
        value: str | int | float | bool = raw
        if raw in ("true", "false"):
            value = raw == "true"
        else:
            with contextlib.suppress(ValueError):
                value = float(raw) if "." in raw else int(raw)
        result[key] = value
    return result


_EPILOG = (
    "exit codes: 0 ok, 2 usage (also an invalid --port), 3 configuration (also: the emulator's port is in use "
    "or not allowed), 4 gateway/provider error, 5 network/timeout"
)


def _emulator_parents() -> list[argparse.ArgumentParser]:
    """``python -m cfaig.testing``'s parser, so ``cfaig emulator`` has the same flags, defined once there
    (``build_parser`` if that module offers one, else its ``_parser``); ``[]`` when it has neither."""
    from cfaig.testing import __main__ as serving

    factory = getattr(serving, "build_parser", None) or getattr(serving, "_parser", None)
    return [factory()] if callable(factory) else []


def _parser(*, emulator_flags: bool = False) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser and each command's (an unknown flag is reported with its command's usage)."""
    parser = argparse.ArgumentParser(
        prog="cfaig",
        description="Talk to every AI provider through Cloudflare AI Gateway. Configuration comes from the "
        "environment (CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_GATEWAY_ID, CF_AIG_TOKEN, CF_AIG_PROVIDER_API_KEY, "
        "CF_AIG_BASE_URL) or the flags.",
        epilog=_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"cfaig {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def connection(p: argparse.ArgumentParser) -> None:
        group = p.add_argument_group("connection")
        group.add_argument("--account-id", help="Cloudflare account id (env CLOUDFLARE_ACCOUNT_ID)")
        group.add_argument("--gateway-id", help="gateway name (env CLOUDFLARE_GATEWAY_ID, default 'default')")
        group.add_argument(
            "--api-key",
            help="provider key, sent as Authorization (env CF_AIG_PROVIDER_API_KEY, which keeps it out of your "
            "shell history); leave unset for stored keys (BYOK) and Unified Billing",
        )
        group.add_argument("--base-url", help="gateway root (env CF_AIG_BASE_URL)")
        group.add_argument(
            "--surface", choices=("gateway", "rest"), help="gateway host (default) or REST API (env CF_AIG_SURFACE)"
        )
        group.add_argument(
            "--gateway-url", help="a custom domain's gateway root, e.g. https://ai.example.com (env CF_AIG_GATEWAY_URL)"
        )
        group.add_argument("--timeout", type=float, help="seconds before giving up (default 60)")
        group.add_argument(
            "--emulator", action="store_true", help="use the built-in local gateway emulator (no network, no keys)"
        )

    chat = sub.add_parser("chat", help="ask a model a question", description="Send one chat completion.")
    chat.add_argument("question", help="the user message")
    chat.add_argument(
        "--model", "-m", default=DEFAULT_CHAT_MODEL, help=f"provider/model (default {DEFAULT_CHAT_MODEL})"
    )
    chat.add_argument("--system", help="a system message")
    chat.add_argument("--stream", action="store_true", help="print the answer as it arrives")
    chat.add_argument("--fallback", action="append", default=[], metavar="MODEL", help="fallback model (repeatable)")
    chat.add_argument("--max-tokens", type=int, help="cap the answer length")
    chat.add_argument("--temperature", type=float, help="sampling temperature")
    chat.add_argument("--cache-ttl", type=int, help="cache the answer for N seconds (60 to 2592000)")
    chat.add_argument("--skip-cache", action="store_true", help="bypass the gateway cache")
    chat.add_argument("--metadata", action="append", default=[], metavar="K=V", help="log metadata (repeatable, 5 max)")
    chat.add_argument(
        "--json",
        action="store_true",
        help="print the whole response and gateway metadata as JSON (with --stream: one JSON object per chunk, "
        "then one with the gateway metadata)",
    )
    connection(chat)

    embed = sub.add_parser("embed", help="embed texts", description="Embed one or more texts; prints JSON.")
    embed.add_argument("texts", nargs="+", help="the texts to embed")
    embed.add_argument(
        "--model", "-m", default=DEFAULT_EMBEDDING_MODEL, help=f"provider/model (default {DEFAULT_EMBEDDING_MODEL})"
    )
    embed.add_argument("--dimensions", type=int, help="output dimensions (OpenAI models)")
    connection(embed)

    # The flags are python -m cfaig.testing's (loaded only when this command runs: the emulator is heavy)
    parents = _emulator_parents() if emulator_flags else []
    emulator = sub.add_parser(
        "emulator",
        help="serve the local gateway emulator (the flags of python -m cfaig.testing)",
        description="Serve the local gateway emulator until Ctrl-C; the same flags as python -m cfaig.testing.",
        epilog=_EPILOG,
        parents=parents,
        add_help=not parents and not emulator_flags,
    )
    if emulator_flags and not parents:
        emulator.add_argument("passthrough", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    doctor = sub.add_parser(
        "doctor",
        help="show the resolved configuration and check the gateway answers",
        description="Shows the configuration (secrets masked), the exact URL and headers a chat request would use, "
        "and probes the gateway with a request it refuses for free (no model is called, nothing is billed).",
    )
    doctor.add_argument("--model", "-m", default=DEFAULT_CHAT_MODEL, help="the model string to check")
    connection(doctor)
    return parser, dict(sub.choices)


@contextlib.contextmanager
def _client(args: argparse.Namespace) -> Iterator[GatewayClient]:
    fields: dict[str, Any] = {
        "account_id": args.account_id,
        "gateway_id": args.gateway_id,
        "api_key": args.api_key,
        "base_url": args.base_url,
        "surface": args.surface,
        "gateway_url": args.gateway_url,
        "timeout": args.timeout,
    }
    fields = {key: value for key, value in fields.items() if value is not None}
    if not args.emulator:
        with GatewayClient(**fields) as client:
            yield client
        return
    from cfaig.testing import EMULATOR_ACCOUNT_ID, GatewayEmulator

    custom = fields.get("gateway_url") or env_default("gateway_url")()  # the emulator serves it as a custom domain
    domains = {urlsplit(custom.strip()).hostname or "": "default"} if custom else None
    emulator = GatewayEmulator(custom_domains=domains)
    fields.update(account_id=EMULATOR_ACCOUNT_ID, base_url=emulator.base_url, api_base_url=emulator.api_base_url)
    # the emulator's own token: never send yours to it (and its Workers AI routes need one, as on Cloudflare)
    fields["cf_aig_token"] = next(iter(emulator.tokens))
    with GatewayClient(transport=emulator.transport(), **fields) as client:
        yield client


def _meta_line(meta: Any) -> str:
    parts = [f"served_by={meta.served_by}", f"log_id={meta.log_id}"]
    if meta.cache_status:
        parts.append(f"cache={meta.cache_status}")
    if meta.step is not None:
        parts.append(f"step={meta.step}")
    return "[gateway] " + " ".join(parts)


def _chat(args: argparse.Namespace) -> int:
    options = GatewayOptions(
        cache_ttl=args.cache_ttl, skip_cache=True if args.skip_cache else None, metadata=_metadata(args.metadata)
    )
    messages: list[Any] = [{"role": "system", "content": args.system}] if args.system else []
    messages.append({"role": "user", "content": args.question})
    request: dict[str, Any] = {"model": args.model, "messages": messages}
    if args.max_tokens is not None:
        request["max_tokens"] = args.max_tokens
    if args.temperature is not None:
        request["temperature"] = args.temperature
    with _client(args) as client:
        if args.stream:
            with client.stream_chat(request, options=options, fallbacks=args.fallback) as stream:  # type: ignore[arg-type]
                for chunk in stream:
                    if args.json:
                        print(json.dumps(chunk.model_dump()), flush=True)
                        continue
                    for choice in chunk.choices:
                        if choice.delta.content:
                            print(choice.delta.content, end="", flush=True)
                if args.json:
                    print(json.dumps({"gateway": stream.meta.model_dump()}))
                else:
                    print()
                    print(_meta_line(stream.meta), file=sys.stderr)
            return EXIT_OK
        completion = client.chat(request, options=options, fallbacks=args.fallback)  # type: ignore[arg-type]
    if args.json:
        print(json.dumps({**completion.model_dump(), "gateway": completion.gateway.model_dump()}, indent=2))
    else:
        print(completion.text)
        print(_meta_line(completion.gateway), file=sys.stderr)
    return EXIT_OK


def _embed(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"model": args.model, "input": list(args.texts)}
    if args.dimensions is not None:
        request["dimensions"] = args.dimensions
    with _client(args) as client:
        response = client.embed(request)  # type: ignore[arg-type]
    print(json.dumps({"model": args.model, "dimensions": len(response.vectors[0]), "embeddings": response.vectors}))
    return EXIT_OK


def _emulator(args: argparse.Namespace, argv: list[str]) -> int:
    """``python -m cfaig.testing`` with ``argv`` unchanged; a port it cannot listen on is a typed error."""
    from cfaig.testing import __main__ as serving

    host, port = getattr(args, "host", "the interface"), getattr(args, "port", None)
    if isinstance(port, int) and not 0 <= port <= _MAX_PORT:
        print(f"usage error: --port {port} is not a TCP port (0 to {_MAX_PORT}; 0 picks a free one)", file=sys.stderr)
        return EXIT_USAGE
    try:
        return serving.main(argv)
    except OverflowError as exc:  # a port out of range, when the flags are not ours to check
        print(f"usage error: {exc} (--port 0 picks a free one)", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        reason = _listen_problem(exc, host, port)
        if reason is None:
            raise
        raise ConfigurationError(reason) from None


_MAX_PORT = 65_535


def _listen_problem(exc: OSError, host: str, port: int | None) -> str | None:
    """Why the emulator cannot listen, in words, or ``None`` for an error that is not about listening."""
    where = f"{host}:{port}" if port is not None else str(host)
    if exc.errno == errno.EADDRINUSE:
        return (
            f"the emulator cannot listen on {where}: the port is in use (8787 is also `wrangler dev`'s default); "
            "choose another with --port N, or --port 0 for a free one"
        )
    if exc.errno == errno.EACCES:
        return f"the emulator may not listen on {where} (ports below 1024 need privileges); use a port above 1023"
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return f"the emulator cannot listen on {where}: {host} is not an address of this machine (default 127.0.0.1)"
    return None


def _environment() -> list[tuple[str, str]]:
    """Every variable the configuration reads, with the setting it supplies."""
    rows: list[tuple[str, str]] = []
    for field, names in ENV_VARS.items():
        rows += [(name, field) for name in names]
        if field == "cf_aig_token":
            rows.append(
                (
                    ENV_API_TOKEN,
                    "cf_aig_token (surface rest, preferred over CF_AIG_TOKEN there); provider_keys['workers-ai'] "
                    "(gateway host)",
                )
            )
    return rows


def _doctor(args: argparse.Namespace) -> int:
    print(f"cfaig {__version__} doctor")
    print("environment:")
    for name, field in _environment():
        value = os.environ.get(name)
        shown = "(not set)" if value is None else (SETTING_MASK if is_secret_setting(name) else value)
        print(f"  {name:<24} {shown}   -> {field}")
    try:
        ref = parse_model(args.model, surface=_surface(args))
    except ConfigurationError as exc:
        print(f"model: PROBLEM - {exc}")
        return EXIT_CONFIG
    print(f"model: {args.model} (provider {ref.provider})")
    try:
        context = _client(args)
        client = context.__enter__()
    except ConfigurationError as exc:
        print(f"configuration: PROBLEM - {exc}")
        return EXIT_CONFIG
    try:
        config = client.config
        print("configuration:")
        for name, value in config:
            shown = "(not set)" if value is None else (SETTING_MASK if is_secret_setting(name) else value)
            print(f"  {name:<20} {shown}")
        problem = _account_id_problem(config)
        if problem is not None:
            print(f"account id: PROBLEM - {problem}")
            return EXIT_CONFIG
        preview = client.describe_chat({"model": args.model, "messages": [{"role": "user", "content": "ping"}]})
        print(f"a chat request goes to:\n  {preview.method} {preview.url}")
        for name, value in preview.headers.items():
            print(f"  {name}: {value}")
        return _probe(client, args.model)
    finally:
        context.__exit__(None, None, None)


_CLOUDFLARE_ACCOUNT_ID = re.compile(r"[0-9a-f]{32}")


def _surface(args: argparse.Namespace) -> Surface:
    """The surface the flags or the environment (``CF_AIG_SURFACE``) choose, for checking a model string."""
    chosen = (args.surface or env_default("surface")() or "").strip().lower()
    return "rest" if chosen == "rest" else "gateway"


def _account_id_problem(config: GatewayConfig) -> str | None:
    """Why the account id cannot be a Cloudflare one (32 hexadecimal characters), when the requests go to
    Cloudflare's own hosts; an emulator or a proxy elsewhere may use any id, so it is not judged there."""
    root = config.api_base_url if config.surface == "rest" else config.gateway_url or config.base_url
    host = urlsplit(root).hostname or ""
    if config.account_id is None or not (host == "cloudflare.com" or host.endswith(".cloudflare.com")):
        return None
    if _CLOUDFLARE_ACCOUNT_ID.fullmatch(config.account_id.lower()):
        return None
    return (
        f"{config.account_id!r} is not a Cloudflare account id (32 hexadecimal characters; the dashboard shows it "
        "under Account home > Account ID, and in its URLs)"
    )


def _probe(client: GatewayClient, model: str) -> int:
    """Send an empty chat body: every gateway refuses it for free, and how it refuses tells what is wrong."""
    print("probe: sending an empty request body (refused without calling any model) ...")
    try:
        answer = client.probe(model)
    except GatewayTimeoutError:
        print("  PROBLEM network: no answer in time; check connectivity and base_url")
        return EXIT_NETWORK
    except GatewayConnectionError as exc:
        cause = exc.__cause__ or exc
        print(f"  PROBLEM network: {type(cause).__name__}: {cause}; check connectivity, proxies and base_url")
        return EXIT_NETWORK
    if isinstance(answer, GatewayMeta):
        print(f"  OK: the gateway answered {answer.status_code}")
        return EXIT_OK
    problem = _diagnose(answer)
    if problem is None:
        print(
            f"  OK: the gateway is reachable, the gateway exists and accepts these credentials ({answer.status_code})"
        )
        return EXIT_OK
    print(f"  PROBLEM HTTP {answer.status_code} code {answer.code}: {problem}")
    return EXIT_GATEWAY


def _diagnose(refusal: GatewayError) -> str | None:
    """What the probe's refusal says is wrong, or ``None`` when it shows a working gateway: refusing the
    empty body itself (a 400/422 with no gateway-or-credentials code) means the request got that far."""
    known = gateway_code(refusal.code)
    diagnosis = known.diagnosis if known is not None else None
    if (known is not None and known.probe_passed) or (refusal.status_code in (400, 422) and diagnosis is None):
        return None
    return diagnosis or refusal.hint or "see the message above"


def _error_lines(label: str, exc: CfaigError) -> str:
    """An error for the terminal: the message and its details on the first line; hint and body on their own."""
    if not isinstance(exc, GatewayError):
        return f"{label}: {str(exc).removeprefix('invalid configuration: ')}"
    hint, body = exc.hint, exc.body_excerpt
    exc.hint = exc.body_excerpt = None
    try:
        lines = [f"{label}: {exc}"]
    finally:
        exc.hint, exc.body_excerpt = hint, body
    if hint:
        lines.append(f"  hint: {hint}")
    if body:
        lines.append(f"  body: {body}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    serving = bool(arguments) and arguments[0] == "emulator"
    parser, commands = _parser(emulator_flags=serving)
    args, unknown = parser.parse_known_args(arguments)
    if unknown:
        commands.get(args.command, parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        if serving:
            return _emulator(args, arguments[1:])
        handlers = {"chat": _chat, "embed": _embed, "doctor": _doctor}
        return handlers[args.command](args)
    except ConfigurationError as exc:
        print(_error_lines("configuration error", exc), file=sys.stderr)
        return EXIT_CONFIG
    except (GatewayConnectionError, GatewayTimeoutError) as exc:
        if isinstance(exc, GatewayError) and exc.status_code is None:
            print(_error_lines("network error", exc), file=sys.stderr)
            return EXIT_NETWORK
        print(_error_lines("gateway error", exc), file=sys.stderr)
        return EXIT_GATEWAY
    except CfaigError as exc:
        print(_error_lines("gateway error", exc), file=sys.stderr)
        return EXIT_GATEWAY
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (``cfaig chat ... | head``): nothing left to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
