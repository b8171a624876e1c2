"""Wire types. Requests are TypedDicts (zero cost, checked by the type checker, like openai-python's
params); responses are pydantic models with ``extra="allow"`` so new fields never break parsing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import Required, TypedDict

__all__ = [
    "AssistantMessage",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatMessageParam",
    "ChatRequest",
    "Choice",
    "ChunkChoice",
    "CompletionTokensDetails",
    "ContentPartParam",
    "Delta",
    "Embedding",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "FunctionCall",
    "FunctionCallDelta",
    "GatewayMeta",
    "PromptTokensDetails",
    "ResponseFormatParam",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallParam",
    "ToolChoiceParam",
    "ToolParam",
    "Usage",
]


# ================================================================================================
# Requests
# ================================================================================================


class ImageURLParam(TypedDict, total=False):
    url: Required[str]
    detail: Literal["auto", "low", "high"]


class ContentPartParam(TypedDict, total=False):
    """One part of a multimodal message: ``{"type": "text", "text": ...}`` or ``{"type": "image_url", ...}``.
    Other part types (``input_audio``, ``file``) pass through unchanged."""

    type: Required[str]
    text: str
    image_url: ImageURLParam
    input_audio: dict[str, Any]
    file: dict[str, Any]


class FunctionCallParam(TypedDict):
    name: str
    arguments: str


class ToolCallParam(TypedDict, total=False):
    id: Required[str]
    type: Required[Literal["function"]]
    function: Required[FunctionCallParam]
    extra_content: dict[str, Any]
    """Provider fields that must be replayed, e.g. Gemini's ``{"google": {"thought_signature": ...}}``."""


class ChatMessageParam(TypedDict, total=False):
    role: Required[Literal["system", "developer", "user", "assistant", "tool"]]
    content: str | list[ContentPartParam] | None
    name: str
    tool_calls: list[ToolCallParam]
    tool_call_id: str
    reasoning_content: str


class FunctionDefinitionParam(TypedDict, total=False):
    name: Required[str]
    description: str
    parameters: dict[str, Any]
    strict: bool


class ToolParam(TypedDict):
    type: Literal["function"]
    function: FunctionDefinitionParam


class NamedToolChoiceParam(TypedDict):
    type: Literal["function"]
    function: dict[str, str]


ToolChoiceParam = Literal["none", "auto", "required"] | NamedToolChoiceParam


class JSONSchemaParam(TypedDict, total=False):
    name: Required[str]
    schema: dict[str, Any]
    description: str
    strict: bool


class ResponseFormatParam(TypedDict, total=False):
    type: Required[Literal["text", "json_object", "json_schema"]]
    json_schema: JSONSchemaParam


class StreamOptionsParam(TypedDict, total=False):
    include_usage: bool


class ChatRequest(TypedDict, total=False):
    """An OpenAI Chat Completions request. Only the keys you set are sent."""

    model: Required[str]
    messages: Required[Sequence[ChatMessageParam]]
    tools: Sequence[ToolParam]
    tool_choice: ToolChoiceParam
    parallel_tool_calls: bool
    response_format: ResponseFormatParam
    temperature: float
    top_p: float
    max_tokens: int
    max_completion_tokens: int
    stop: str | Sequence[str]
    seed: int
    n: int
    frequency_penalty: float
    presence_penalty: float
    logprobs: bool
    top_logprobs: int
    stream_options: StreamOptionsParam
    reasoning_effort: str
    user: str
    extra_body: Mapping[str, Any]
    """Provider extras merged into the JSON body as they are (e.g. ``{"top_k": 40}``)."""


class EmbeddingRequest(TypedDict, total=False):
    model: Required[str]
    input: Required[str | Sequence[str]]
    dimensions: int
    encoding_format: Literal["float", "base64"]
    user: str
    extra_body: Mapping[str, Any]


# ================================================================================================
# Responses
# ================================================================================================


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", protected_namespaces=())


class GatewayMeta(BaseModel):
    """What the gateway said about a request, from its ``cf-aig-*`` response headers."""

    model_config = ConfigDict(frozen=True)

    log_id: str | None = None
    cache_status: str | None = None
    step: int | None = None
    event_id: str | None = None
    request_id: str | None = None
    model: str | None = None
    """``cf-aig-model``: the model a dynamic route chose."""
    provider: str | None = None
    """``cf-aig-provider``: the provider a dynamic route chose."""
    served_by: str | None = None
    """The model string that answered: the requested one, the fallback that served, or the dynamic choice."""
    status_code: int | None = None
    dlp: str | None = None


class FunctionCall(_Wire):
    name: str = ""
    arguments: str = ""


class ToolCall(_Wire):
    id: str = ""
    type: str = "function"
    function: FunctionCall = Field(default_factory=FunctionCall)


class AssistantMessage(_Wire):
    role: str = "assistant"
    content: str | None = None
    reasoning_content: str | None = None
    refusal: str | None = None
    tool_calls: list[ToolCall] | None = None

    @property
    def reasoning(self) -> str | None:
        """Reasoning text under either of the names providers use (``reasoning_content`` / ``reasoning``)."""
        if self.reasoning_content:
            return self.reasoning_content
        extra = (self.model_extra or {}).get("reasoning")
        return extra if isinstance(extra, str) and extra else None


class Choice(_Wire):
    index: int = 0
    message: AssistantMessage
    finish_reason: str | None = None
    logprobs: Any | None = None


class PromptTokensDetails(_Wire):
    cached_tokens: int | None = None
    cache_creation_tokens: int | None = None
    audio_tokens: int | None = None


class CompletionTokensDetails(_Wire):
    reasoning_tokens: int | None = None
    audio_tokens: int | None = None


class Usage(_Wire):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None


class ChatCompletion(_Wire):
    """A chat completion, plus ``gateway``: what the gateway reported about it."""

    id: str = ""
    object: str = "chat.completion"
    created: int = 0
    model: str = ""
    choices: list[Choice]
    usage: Usage | None = None
    system_fingerprint: str | None = None
    gateway: GatewayMeta = Field(default_factory=GatewayMeta, exclude=True)

    @property
    def message(self) -> AssistantMessage:
        """The first choice's message."""
        return self.choices[0].message

    @property
    def text(self) -> str:
        return self.choices[0].message.content or "" if self.choices else ""


class FunctionCallDelta(_Wire):
    name: str | None = None
    arguments: str | None = None


class ToolCallDelta(_Wire):
    index: int | None = None
    id: str | None = None
    type: str | None = None
    function: FunctionCallDelta | None = None


class Delta(_Wire):
    role: str | None = None
    content: str | None = None
    reasoning_content: str | None = None
    refusal: str | None = None
    tool_calls: list[ToolCallDelta] | None = None

    @property
    def reasoning(self) -> str | None:
        if self.reasoning_content:
            return self.reasoning_content
        extra = self.__pydantic_extra__  # read per chunk: skip the ``model_extra`` property
        if not extra:
            return None
        value = extra.get("reasoning")
        return value if isinstance(value, str) and value else None


class ChunkChoice(_Wire):
    index: int = 0
    delta: Delta = Field(default_factory=Delta)
    finish_reason: str | None = None
    logprobs: Any | None = None


class ChatCompletionChunk(_Wire):
    id: str = ""
    object: str = "chat.completion.chunk"
    created: int = 0
    model: str = ""
    choices: list[ChunkChoice] = Field(default_factory=list)
    usage: Usage | None = None


class Embedding(_Wire):
    index: int = 0
    embedding: list[float]
    object: str = "embedding"


class EmbeddingResponse(_Wire):
    data: list[Embedding]
    model: str = ""
    object: str = "list"
    usage: Usage | None = None
    gateway: GatewayMeta = Field(default_factory=GatewayMeta, exclude=True)

    @property
    def vectors(self) -> list[list[float]]:
        """The embeddings in input order."""
        return [item.embedding for item in sorted(self.data, key=lambda item: item.index)]


def __getattr__(name: str) -> Any:
    """``ResponsesResult`` lives in :mod:`cfaig.responses_types` (loaded on first use, not by every chat program)."""
    if name == "ResponsesResult":
        from cfaig.responses_types import ResponsesResult  # imported here: it imports this module

        return ResponsesResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
