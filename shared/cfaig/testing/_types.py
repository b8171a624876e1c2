"""The emulator's public data types and constants: settings, faults, scripted replies, recorded requests, codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

EMULATOR_ACCOUNT_ID: Final = "0123456789abcdef0123456789abcdef"
"""Account id the emulator answers for unless told otherwise."""

DEFAULT_TOKEN: Final = "test-cf-aig-token"  # noqa: S105 - a well-known test token, not a secret
"""The Cloudflare token the emulator accepts unless told otherwise."""

# Gateway error codes (documented or observed, see the protocol notes) ...
CODE_GATEWAY_NOT_FOUND: Final = 2001
CODE_RATE_LIMITED: Final = 2003
CODE_UNAUTHORIZED: Final = 2009
CODE_BAD_CHAT_FORMAT: Final = 2019
CODE_AUTHENTICATION: Final = 10000
CODE_COULD_NOT_ROUTE: Final = 7003
# ... and emulator-specific ones for situations Cloudflare does not document.
CODE_TIMEOUT: Final = 2015
"""``cf-aig-request-timeout`` fired: Cloudflare documents that the gateway "returns an error" but neither the
status nor the code; the emulator answers 504 / 2015 (no source names 2015; the client has no hint for it)."""
CODE_BAD_REQUEST: Final = 2000
CODE_ROUTE_NOT_FOUND: Final = 2002
CODE_API_NOT_FOUND: Final = 1002
CODE_API_INVALID: Final = 1004


@dataclass
class GatewaySettings:
    """Per-gateway settings, like the dashboard's.

    ``cache_ttl`` is in seconds (0: caching is off unless a request sets
    ``cf-aig-cache-ttl`` or ``cf-aig-cache-key``).  ``rate_limit`` allows that many
    requests per ``rate_limit_interval`` seconds (sliding window); more answer 429 / 2003.
    """

    authentication: bool = False
    cache_ttl: int = 0
    collect_logs: bool = True
    rate_limit: int | None = None
    rate_limit_interval: float = 60.0


@dataclass
class Fault:
    """A failure to inject with :meth:`GatewayEmulator.inject`.

    Faults are consumed in injection order by matching requests; each answers ``times``
    requests.  A fault *replaces* the response when ``status >= 400``, a ``body`` is given
    or ``content_type`` is HTML; otherwise (e.g. ``Fault(status=200, delay=1)``) the normal
    response is served, delayed, with the fault's status, content type and headers.

    * ``body`` None: a realistic body for the status (gateway envelope for 401/402/424/429/
      504, else the provider's error format); ``retry_after`` adds ``Retry-After`` verbatim.
    * ``delay``: seconds to wait first; when a request's ``cf-aig-request-timeout`` (or a
      Universal step's ``requestTimeout``) is shorter, the emulator waits that long and
      answers 504 / 2015 instead.
    * ``reset``: drop the connection without a response (server: RST via ``SO_LINGER 0``;
      in-process: :class:`httpx.ReadError`).  On a Universal step it fails that step; the
      client's connection drops only if it was the last step.
    * ``cut_after`` / ``end_after`` / ``malformed_after``: only match streaming requests;
      send N SSE events then drop the connection / end cleanly without ``[DONE]`` / insert
      a ``data: {not json`` line and continue (emulated streams only; streams passed
      through from ``upstream`` are not altered).
    * ``match``: only requests whose path (or Universal step path ``…/{provider}/{endpoint}``)
      contains this substring.
    * ``step``: only that Universal step; a fault with neither ``step`` nor ``match`` fails
      a Universal request as a whole before any step runs.
    """

    status: int = 500
    body: bytes | str | dict[str, Any] | list[Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: str | None = None
    delay: float = 0.0
    times: int = 1
    match: str | None = None
    reset: bool = False
    cut_after: int | None = None
    end_after: int | None = None
    malformed_after: int | None = None
    content_type: str | None = None
    step: int | None = None

    def __post_init__(self) -> None:
        if self.times < 1:
            raise ValueError("Fault.times must be at least 1")
        if self.delay < 0:
            raise ValueError("Fault.delay must not be negative")

    @property
    def affects_stream(self) -> bool:
        """Whether this fault alters SSE streams (and so only matches streaming requests)."""
        return self.cut_after is not None or self.end_after is not None or self.malformed_after is not None

    @property
    def replaces_response(self) -> bool:
        """Whether this fault answers instead of the model (see the class docstring)."""
        if self.affects_stream or self.reset:
            return False
        html = self.content_type is not None and "html" in self.content_type.lower()
        return self.status >= 400 or self.body is not None or html


@dataclass
class ScriptedReply:
    """A canned model reply, queued with :meth:`GatewayEmulator.script`.

    Scripted replies are consumed in order by chat-like requests (OpenAI chat, Responses,
    Anthropic Messages, Workers AI native chat) whose ``provider/model`` string contains
    ``match`` (any model when ``match`` is None).  Each reply answers ``times`` requests.

    ``tool_calls`` items are ``{"name": str, "arguments": dict | str, "id": str (optional)}``.
    ``finish_reason`` defaults to ``"tool_calls"`` when tool calls are given, else ``"stop"``.
    ``usage`` keys override the computed token usage.
    """

    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    reasoning: str | None = None
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    times: int = 1
    match: str | None = None

    def __post_init__(self) -> None:
        if self.times < 1:
            raise ValueError("ScriptedReply.times must be at least 1")


@dataclass(frozen=True)
class SeenCredential:
    """The provider credential one model attempt carried (a request, or one try of a Universal step).

    ``authorization`` is the ``Authorization`` header as sent (None: none, i.e. stored keys or Unified
    Billing); ``owner`` is the provider the emulator was told that key belongs to (``provider_keys=``), or
    None for a key it does not know (a Cloudflare token, or an unknown key).
    """

    route: str
    provider: str
    authorization: str | None
    owner: str | None


@dataclass
class RecordedRequest:
    """A request the emulator received (see :attr:`GatewayEmulator.requests`).

    ``headers`` has lower-cased names; ``json`` is the parsed body (None when absent or not
    JSON); ``response_status`` is 0 while in flight and for dropped connections.
    """

    method: str
    path: str
    url: str
    headers: dict[str, str]
    body: bytes
    json: Any
    gateway_id: str | None
    surface: Literal["gateway", "rest"]
    route: str
    response_status: int = 0
    credentials: list[SeenCredential] = field(default_factory=list)
    """One entry per model attempt this request made, in order (each tried Universal step, each retry)."""
