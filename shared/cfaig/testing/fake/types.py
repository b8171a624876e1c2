"""The fake models' vocabulary: a parsed chat request, the turns generated for it, and the rejection error."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Final, Literal

ErrorStyle = Literal["openai", "anthropic", "google", "cloudflare"]
"""Error body families: OpenAI ``{"error":{…}}``, Anthropic ``{"type":"error",…}``,
Google ``{"error":{"code","message","status"}}`` and the Cloudflare v4 envelope."""

ToolChoice = Literal["auto", "none", "required", "function"]

EMULATOR_TAG: Final = "cfaig emulator"


@dataclass(eq=False)
class ModelError(Exception):
    """A request the fake provider rejects.

    ``bad_format`` marks structural problems (missing ``messages`` …) that the compat
    endpoint reports as gateway error 2019 instead of a provider error.  ``style`` forces
    an error body family (quirks of Google models answer in Google's format); ``code``
    overrides the numeric code of a Cloudflare v4 envelope, or is the string ``code`` of an
    OpenAI error (``previous_response_not_found``).
    """

    message: str
    _: KW_ONLY
    status: int = 400
    param: str | None = None
    style: ErrorStyle | None = None
    bad_format: bool = False
    code: int | str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)


@dataclass
class ToolSpec:
    """A function tool in provider-neutral form."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class ParsedChat:
    """A chat request normalised from any wire format (OpenAI-shaped ``messages``)."""

    provider: str
    model: str
    messages: list[dict[str, Any]]
    tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: ToolChoice = "auto"
    forced_tool: str | None = None
    parallel_tool_calls: bool = True
    response_format: dict[str, Any] | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    n: int = 1
    reasoning: bool = False


@dataclass
class FakeToolCall:
    """A tool call the fake model made (``arguments`` is JSON text)."""

    id: str
    name: str
    arguments: str
    thought_signature: str | None = None


@dataclass
class Turn:
    """One generated assistant turn (one choice)."""

    content: str | None
    tool_calls: list[FakeToolCall]
    reasoning: str | None
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int = 0
    stop_sequence: str | None = None
    usage_override: dict[str, Any] | None = None
