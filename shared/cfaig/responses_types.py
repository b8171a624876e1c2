"""The OpenAI Responses API's wire types: the request, output items, the result and its stream events.

Apart from :mod:`cfaig.types` so that a program that only chats never builds these models (about 10 ms of
pydantic schema building at import); ``cfaig.types.ResponsesResult`` still resolves, on first use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag
from typing_extensions import Required, TypedDict

from cfaig.types import CompletionTokensDetails, GatewayMeta, PromptTokensDetails, Usage, _Wire

__all__ = [
    "RESPONSES_EVENT_TYPES",
    "FunctionCallArgumentsDeltaEvent",
    "InputTokensDetails",
    "OutputItemEvent",
    "OutputTextDeltaEvent",
    "OutputTokensDetails",
    "ReasoningContentPart",
    "ReasoningParam",
    "ReasoningSummaryPart",
    "ReasoningSummaryTextDeltaEvent",
    "ReasoningTextDeltaEvent",
    "ResponseCompletedEvent",
    "ResponseCreatedEvent",
    "ResponseErrorEvent",
    "ResponseErrorInfo",
    "ResponseFailedEvent",
    "ResponseFunctionCall",
    "ResponseOtherItem",
    "ResponseOutputItem",
    "ResponseOutputMessage",
    "ResponseOutputText",
    "ResponseReasoningItem",
    "ResponsesEvent",
    "ResponsesRequest",
    "ResponsesResult",
    "ResponsesUsage",
]


class ReasoningParam(TypedDict, total=False):
    """How a reasoning model reasons: ``effort`` (``minimal``, ``low``, ``medium``, ``high``) and whether it
    returns a ``summary`` of its reasoning (``auto``, ``concise``, ``detailed``)."""

    effort: str
    summary: str


class ResponsesRequest(TypedDict, total=False):
    """An OpenAI Responses API request (``POST /responses``). Only the keys you set are sent; ``stream`` is
    set by the method you call (:meth:`~cfaig.GatewayClient.responses` or ``stream_responses``)."""

    model: Required[str]
    input: Required[str | Sequence[Mapping[str, Any]]]
    """A user message as a string, or input items: messages, ``function_call`` / ``function_call_output``
    and ``reasoning`` items (replayed with their ``encrypted_content`` when ``store`` is off)."""
    instructions: str
    tools: Sequence[Mapping[str, Any]]
    """Function tools are flat here: ``{"type": "function", "name": ..., "parameters": {...}}``."""
    tool_choice: str | Mapping[str, Any]
    parallel_tool_calls: bool
    text: Mapping[str, Any]
    """Output format, e.g. ``{"format": {"type": "json_schema", "name": ..., "schema": {...}}}``."""
    reasoning: ReasoningParam
    include: Sequence[str]
    """Extra output, e.g. ``["reasoning.encrypted_content"]`` to carry reasoning between stateless turns."""
    previous_response_id: str
    store: bool
    max_output_tokens: int
    temperature: float
    top_p: float
    truncation: Literal["auto", "disabled"]
    metadata: Mapping[str, str]
    user: str
    service_tier: str
    extra_body: Mapping[str, Any]
    """Fields merged into the JSON body as they are."""


class ResponseOutputText(_Wire):
    """One part of an output message: ``output_text`` (or ``refusal``, whose text is in ``refusal``)."""

    type: str = "output_text"
    text: str = ""
    annotations: list[Any] = Field(default_factory=list)


class ResponseOutputMessage(_Wire):
    type: Literal["message"] = "message"
    id: str = ""
    role: str = "assistant"
    status: str | None = None
    content: list[ResponseOutputText] = Field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(part.text for part in self.content if part.type == "output_text")

    @property
    def refusal(self) -> str | None:
        refusals = [str((part.model_extra or {}).get("refusal", "")) for part in self.content if part.type == "refusal"]
        return "".join(refusals) or None


class ResponseFunctionCall(_Wire):
    """A function tool call: ``call_id`` is what the ``function_call_output`` answering it refers to."""

    type: Literal["function_call"] = "function_call"
    id: str | None = None
    call_id: str = ""
    name: str = ""
    arguments: str = ""
    status: str | None = None


class ReasoningSummaryPart(_Wire):
    type: str = "summary_text"
    text: str = ""


class ReasoningContentPart(_Wire):
    type: str = "reasoning_text"
    text: str = ""


class ResponseReasoningItem(_Wire):
    """A reasoning item: its summary (when asked for), raw reasoning text (open-weight models such as
    gpt-oss) and ``encrypted_content`` (with ``include=["reasoning.encrypted_content"]``), which a
    stateless conversation sends back with the next turn."""

    type: Literal["reasoning"] = "reasoning"
    id: str = ""
    summary: list[ReasoningSummaryPart] = Field(default_factory=list)
    content: list[ReasoningContentPart] | None = None
    encrypted_content: str | None = None
    status: str | None = None

    @property
    def text(self) -> str:
        """The summary's paragraphs, else the raw reasoning text; ``""`` when the model showed neither."""
        summary = "\n\n".join(part.text for part in self.summary if part.text)
        return summary or "".join(part.text for part in self.content or ())


class ResponseOtherItem(_Wire):
    """An output item this library does not model (built-in tool calls, ...), with all its fields."""

    type: str
    id: str | None = None


_MODELLED_ITEMS = frozenset({"message", "function_call", "reasoning"})


def _item_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, Mapping) else getattr(value, "type", None)
    return kind if kind in _MODELLED_ITEMS else "other"


ResponseOutputItem = Annotated[
    Annotated[ResponseOutputMessage, Tag("message")]
    | Annotated[ResponseFunctionCall, Tag("function_call")]
    | Annotated[ResponseReasoningItem, Tag("reasoning")]
    | Annotated[ResponseOtherItem, Tag("other")],
    Discriminator(_item_kind),
]
"""One item of a response's ``output``: a message, a function call, a reasoning item, or another item."""


class InputTokensDetails(_Wire):
    cached_tokens: int | None = None


class OutputTokensDetails(_Wire):
    reasoning_tokens: int | None = None


class ResponsesUsage(_Wire):
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    input_tokens_details: InputTokensDetails | None = None
    output_tokens_details: OutputTokensDetails | None = None

    def as_usage(self) -> Usage:
        """The same counts in the Chat Completions shape, so both APIs are read by the same code."""
        cached = self.input_tokens_details.cached_tokens if self.input_tokens_details else None
        reasoning = self.output_tokens_details.reasoning_tokens if self.output_tokens_details else None
        return Usage(
            prompt_tokens=self.input_tokens,
            completion_tokens=self.output_tokens,
            total_tokens=self.total_tokens or self.input_tokens + self.output_tokens,
            prompt_tokens_details=PromptTokensDetails(cached_tokens=cached) if cached is not None else None,
            completion_tokens_details=(
                CompletionTokensDetails(reasoning_tokens=reasoning) if reasoning is not None else None
            ),
        )


class ResponseErrorInfo(_Wire):
    code: str | int | None = None
    message: str = ""


class ResponsesResult(_Wire):
    """An OpenAI Responses API answer, plus ``gateway``: what the gateway reported about it."""

    id: str = ""
    object: str = "response"
    created_at: int | float = 0
    status: str | None = None
    """``completed``, ``incomplete`` (see ``incomplete_details``), ``failed`` or ``in_progress``."""
    model: str = ""
    output: list[ResponseOutputItem] = Field(default_factory=list)
    usage: ResponsesUsage | None = None
    error: ResponseErrorInfo | None = None
    incomplete_details: dict[str, Any] | None = None
    previous_response_id: str | None = None
    gateway: GatewayMeta = Field(default_factory=GatewayMeta, exclude=True)

    @property
    def output_text(self) -> str:
        """The text of every output message, joined."""
        return "".join(item.text for item in self.output if isinstance(item, ResponseOutputMessage))

    @property
    def function_calls(self) -> list[ResponseFunctionCall]:
        return [item for item in self.output if isinstance(item, ResponseFunctionCall)]

    @property
    def reasoning_items(self) -> list[ResponseReasoningItem]:
        return [item for item in self.output if isinstance(item, ResponseReasoningItem)]

    @property
    def reasoning(self) -> str | None:
        """The reasoning the model showed (summaries, or raw reasoning text), or ``None``."""
        return "\n\n".join(text for item in self.reasoning_items if (text := item.text)) or None

    @property
    def refusal(self) -> str | None:
        refusals = [r for item in self.output if isinstance(item, ResponseOutputMessage) and (r := item.refusal)]
        return "".join(refusals) or None

    @property
    def finish_reason(self) -> str | None:
        """Why the answer ended, in Chat Completions words: ``tool_calls``, ``length`` (the output token
        limit), ``content_filter``, ``stop``; ``None`` while the response is not finished."""
        if self.status == "incomplete":
            reason = (self.incomplete_details or {}).get("reason")
            return "content_filter" if reason == "content_filter" else "length"
        if self.status not in ("completed", None):
            return None
        return "tool_calls" if self.function_calls else "stop"


class ResponsesEvent(_Wire):
    """One event of a Responses stream. Events without a class of their own (``response.in_progress``,
    ``response.content_part.added``, ``response.output_text.done``, built-in tool progress, ...) are this
    class, with their fields kept as extras."""

    type: str
    sequence_number: int | None = None


class ResponseCreatedEvent(ResponsesEvent):
    """``response.created``: the response's id and model, before any output."""

    response: ResponsesResult


class ResponseCompletedEvent(ResponsesEvent):
    """``response.completed`` (or ``response.incomplete``): the whole response; the stream's last event."""

    response: ResponsesResult


class ResponseFailedEvent(ResponsesEvent):
    """``response.failed``: raised as a typed error by the stream; seen only by a raw consumer."""

    response: ResponsesResult


class OutputItemEvent(ResponsesEvent):
    """``response.output_item.added`` / ``response.output_item.done``: an item begins, or is complete."""

    output_index: int = 0
    item: ResponseOutputItem


class OutputTextDeltaEvent(ResponsesEvent):
    """``response.output_text.delta``: more text of an output message."""

    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    delta: str = ""


class FunctionCallArgumentsDeltaEvent(ResponsesEvent):
    """``response.function_call_arguments.delta``: more of a function call's JSON arguments."""

    item_id: str = ""
    output_index: int = 0
    delta: str = ""


class ReasoningSummaryTextDeltaEvent(ResponsesEvent):
    """``response.reasoning_summary_text.delta``: more of a reasoning summary paragraph."""

    item_id: str = ""
    output_index: int = 0
    summary_index: int = 0
    delta: str = ""


class ReasoningTextDeltaEvent(ResponsesEvent):
    """``response.reasoning_text.delta``: more raw reasoning text (open-weight models such as gpt-oss)."""

    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    delta: str = ""


class ResponseErrorEvent(ResponsesEvent):
    """``error``: the stream failed; raised as a typed error by the stream."""

    code: str | int | None = None
    message: str = ""
    param: str | None = None


RESPONSES_EVENT_TYPES: dict[str, type[ResponsesEvent]] = {
    "response.created": ResponseCreatedEvent,
    "response.completed": ResponseCompletedEvent,
    "response.incomplete": ResponseCompletedEvent,
    "response.failed": ResponseFailedEvent,
    "response.output_item.added": OutputItemEvent,
    "response.output_item.done": OutputItemEvent,
    "response.output_text.delta": OutputTextDeltaEvent,
    "response.function_call_arguments.delta": FunctionCallArgumentsDeltaEvent,
    "response.reasoning_summary_text.delta": ReasoningSummaryTextDeltaEvent,
    "response.reasoning_text.delta": ReasoningTextDeltaEvent,
    "error": ResponseErrorEvent,
}
"""The event class for each ``type`` (every other type is a plain :class:`ResponsesEvent`)."""
