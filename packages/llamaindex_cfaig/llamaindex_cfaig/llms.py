"""CloudflareAIGatewayLLM: a LlamaIndex ``FunctionCallingLLM`` for every chat model behind Cloudflare AI Gateway."""

from __future__ import annotations

import copy
import functools
from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from llama_index.core.base.llms.generic_utils import (
    achat_to_completion_decorator,
    astream_chat_to_completion_decorator,
    chat_to_completion_decorator,
    stream_chat_to_completion_decorator,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
    TextBlock,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.tools.types import ToolMetadata
from pydantic import BaseModel, Field

from cfaig import ChatCompletion, ChatCompletionChunk, ChatRequest, Endpoint
from cfaig.errors import ConfigurationError
from cfaig.integration.fields import GatewayFields
from cfaig.integration.requests import (
    chat_request,
    masks_call_keys,
    pop_call_credentials,
    pop_stream_timeout,
    split_call_kwargs,
)
from cfaig.integration.tools import normalise_tool_choice
from cfaig.providers import DEFAULT_CHAT_MODEL, capabilities, model_size
from llamaindex_cfaig._convert import (
    assistant_message,
    completion_message,
    force_single_tool_call,
    response_kwargs,
    to_openai_messages,
    tool_selections,
)

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

    from cfaig import AsyncChatStream, ChatAccumulator, ChatStream  # the stream classes load the HTTP stack

__all__ = ["CloudflareAIGatewayLLM"]


# Keys of cfaig.ChatRequest that go into the body as they are; any other parameter is a provider extra.
# Decided by the method called (stream_chat or chat), never taken from kwargs.
_IGNORED_KEYS = frozenset({"stream"})


class CloudflareAIGatewayLLM(GatewayFields, FunctionCallingLLM):
    """Any chat model behind Cloudflare AI Gateway, as a LlamaIndex function-calling LLM.

    ``model`` is a gateway model string (``openai/gpt-5-mini``, ``anthropic/claude-sonnet-4-5``,
    ``workers-ai/@cf/meta/llama-3.3-70b-instruct-fp8-fast``, ``dynamic/<route>``). Requests go through
    :mod:`cfaig` (one retry layer, typed errors). Only parameters you set are sent: no default
    temperature, no ``parallel_tool_calls`` without tools.

    Gateway options (``cache_ttl``, ``skip_cache``, ``metadata``, ...) can be set on the instance or per
    call, ``llm.chat(messages, cache_ttl=60)``; they become ``cf-aig-*`` headers. ``fallbacks=[...]``
    lists models tried in order when the first fails; ``additional_kwargs["cf_aig_step"]`` and
    ``additional_kwargs["model_name"]`` of the response tell which one answered.

    ``metadata=`` is accepted by the constructor and per call as the gateway log metadata (stored as
    ``gateway_metadata``; ``llm.metadata`` is LlamaIndex's model description). ``gateway_client`` /
    ``async_gateway_client`` inject ready core clients (tests, custom transports); otherwise the
    process-wide ``cfaig.shared_client(config)`` is used.

    >>> llm = CloudflareAIGatewayLLM(model="openai/gpt-5-mini", account_id="...")  # doctest: +SKIP
    >>> llm.complete("Hello").text  # doctest: +SKIP
    """

    model: str = Field(default=DEFAULT_CHAT_MODEL, description="Gateway model string, e.g. openai/gpt-5-mini.")
    temperature: float | None = Field(
        default=None, ge=0.0, le=2.0, description="Sampling temperature; not sent when unset."
    )
    max_tokens: int | None = Field(default=None, gt=0, description="Output token cap; not sent when unset.")
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra request parameters for every call: Chat Completions keys (top_p, seed, "
        "reasoning_effort, ...) go into the body, anything else into extra_body (provider extras). A "
        "constructor keyword that is no field lands here, with a warning.",
    )
    context_window: int | None = Field(
        default=None, gt=0, description="Override the context window from the model table."
    )
    num_output: int | None = Field(
        default=None, gt=0, description="Override the output tokens reserved (default: max_tokens or table)."
    )
    fallbacks: list[str] | None = Field(
        default=None, description="Models tried in order if `model` fails (cf-aig-step tells which served)."
    )
    endpoint: Endpoint = Field(
        default="unified", description="'unified' (/compat/chat/completions) or 'provider' (provider's own path)."
    )

    _model_strings: ClassVar[tuple[str, ...]] = ("model", "fallbacks")
    _extras_field: ClassVar[str | None] = "additional_kwargs"

    @classmethod
    def class_name(cls) -> str:
        return "CloudflareAIGatewayLLM"

    # --- identity -----------------------------------------------------------------------------

    @property
    def metadata(self) -> LLMMetadata:
        """LlamaIndex's model description (the gateway log metadata is ``gateway_metadata``): sizes and
        whether the model calls tools come from the provider table (:mod:`cfaig.providers`)."""
        size = model_size(self.model)
        return LLMMetadata(
            context_window=self.context_window or size.context_window,
            num_output=self.num_output or self.max_tokens or size.num_output,
            is_chat_model=True,
            is_function_calling_model=capabilities(self.model).tool_calling,
            model_name=self.model,
            system_role=MessageRole.SYSTEM,
        )

    def to_payload(self) -> dict[str, Any]:
        """What instrumentation sees: the model description and where requests go; never credentials."""
        return {**super().to_payload(), **self._gateway.describe()}

    # --- request ------------------------------------------------------------------------------

    def _request(
        self, messages: Sequence[ChatMessage], kwargs: Mapping[str, Any], *, stream: bool = False
    ) -> tuple[ChatRequest, dict[str, Any]]:
        """The ChatRequest for ``messages`` and the keyword arguments for the core client call (for a stream,
        a ``stream_timeout`` given to the call)."""
        merged = {**self.additional_kwargs, **kwargs}
        stream_timeout = pop_stream_timeout(merged)
        credentials = pop_call_credentials(merged)
        options, fallbacks, endpoint, params = split_call_kwargs(
            merged,
            defaults=self._gateway.options,
            fallbacks=self.fallbacks,
            endpoint=self.endpoint,
        )
        params = {"temperature": self.temperature, "max_tokens": self.max_tokens, **params}
        for key in _IGNORED_KEYS:
            params.pop(key, None)
        try:
            wire = to_openai_messages(messages)
        except AttributeError:
            _check_messages(messages)  # a ConfigurationError naming the message, when that is the cause
            raise
        request = chat_request(self.model, wire, params)
        call: dict[str, Any] = {"options": options, "endpoint": endpoint, **credentials}
        if fallbacks:
            call["fallbacks"] = fallbacks
        if stream and stream_timeout is not None:
            call["stream_timeout"] = stream_timeout
        return request, call

    def _chat_response(self, completion: ChatCompletion) -> ChatResponse:
        choice = completion.choices[0] if completion.choices else None
        message = completion_message(choice.message) if choice else _empty_message()
        return ChatResponse(
            message=message,
            raw=completion.model_dump(),
            additional_kwargs=response_kwargs(
                completion.gateway,
                model=self.model,
                finish_reason=choice.finish_reason if choice else None,
                usage=completion.usage,
            ),
        )

    def _stream_kwargs(self, stream: ChatStream | AsyncChatStream) -> dict[str, Any]:
        """What every streamed response reports before the end: who answers and the gateway's keys (known
        from the response headers, so worked out once per stream)."""
        return response_kwargs(stream.meta, model=self.model, finish_reason=None, usage=None)

    def _final_response(self, stream: ChatStream | AsyncChatStream) -> ChatResponse:
        """The whole answer once the stream ended: final tool-call ids, finish reason and usage."""
        response = self._chat_response(stream.accumulator.snapshot(stream.meta))
        response.delta = ""
        return response

    # --- chat ---------------------------------------------------------------------------------

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        request, call = self._request(messages, kwargs)
        return self._chat_response(self.client.chat(request, **call))

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        request, call = self._request(messages, kwargs, stream=True)
        stream = self.client.stream_chat(request, **call)  # opened now: HTTP errors raise here

        def gen() -> Generator[ChatResponse, None, None]:
            with stream:
                respond = _Answer(stream.accumulator, self._stream_kwargs(stream)).respond
                for chunk in stream:
                    response = respond(chunk)
                    if response is not None:
                        yield response
                yield self._final_response(stream)

        return gen()

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        request, call = self._request(messages, kwargs)
        return self._chat_response(await self.async_client.chat(request, **call))

    async def _astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        request, call = self._request(messages, kwargs, stream=True)
        stream = await self.async_client.stream_chat(request, **call)

        async def gen() -> AsyncGenerator[ChatResponse, None]:
            async with stream:
                respond = _Answer(stream.accumulator, self._stream_kwargs(stream)).respond
                async for chunk in stream:
                    if (response := respond(chunk)) is not None:
                        yield response
                yield self._final_response(stream)

        return gen()

    @masks_call_keys
    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Send ``messages``; gateway options, ``fallbacks`` and request parameters may be passed as kwargs."""
        return self._chat(messages, **kwargs)

    @masks_call_keys
    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream the answer: each response carries the whole message so far plus ``delta``."""
        return self._stream_chat(messages, **kwargs)

    @masks_call_keys
    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Async :meth:`chat`."""
        return await self._achat(messages, **kwargs)

    @masks_call_keys
    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        """Async :meth:`stream_chat`: ``async for r in await llm.astream_chat(messages)``."""
        return await self._astream_chat(messages, **kwargs)

    # --- completion (derived from the undecorated chat helpers: one event pair per call) -------

    @masks_call_keys
    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Answer ``prompt`` sent as one user message."""
        return chat_to_completion_decorator(self._chat)(prompt, **kwargs)

    @masks_call_keys
    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        """Stream the answer to ``prompt``."""
        return stream_chat_to_completion_decorator(self._stream_chat)(prompt, **kwargs)

    @masks_call_keys
    @llm_completion_callback()
    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Async :meth:`complete`."""
        return await achat_to_completion_decorator(self._achat)(prompt, **kwargs)

    @masks_call_keys
    @llm_completion_callback()
    async def astream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseAsyncGen:
        """Async :meth:`stream_complete`."""
        return await astream_chat_to_completion_decorator(self._astream_chat)(prompt, **kwargs)

    # --- tool calling -------------------------------------------------------------------------

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Chat kwargs for a tool call: OpenAI tool specs, ``tool_choice`` only when asked for
        (``tool_required`` -> "required", a tool name -> that function), ``parallel_tool_calls=True`` only
        with tools and when allowed (providers default to it; o-series and Gemini reject the field)."""
        messages = list(chat_history or [])
        if user_msg is not None:
            messages.append(
                ChatMessage(role=MessageRole.USER, content=user_msg) if isinstance(user_msg, str) else user_msg
            )
        prepared: dict[str, Any] = {"messages": messages, **kwargs}
        specs = [_tool_spec(tool, index) for index, tool in enumerate(tools)]
        if specs:
            prepared["tools"] = specs
            choice = normalise_tool_choice(tool_choice, required=tool_required)
            if choice is not None:
                prepared["tool_choice"] = choice
            if allow_parallel_tool_calls:
                prepared["parallel_tool_calls"] = True
        return prepared

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        """Keep only the first tool call when parallel calls were not allowed."""
        if not allow_parallel_tool_calls:
            force_single_tool_call(response.message)
        return response

    def get_tool_calls_from_response(
        self,
        response: ChatResponse,
        error_on_no_tool_call: bool = True,
        **kwargs: Any,
    ) -> list[ToolSelection]:
        """The tool calls of ``response`` (also of a partial streamed one: partial JSON is tolerated)."""
        selections = tool_selections(response.message)
        if not selections and error_on_no_tool_call:
            raise ValueError(
                f"Expected at least one tool call from {self.model}, but the response has none "
                f"(finish_reason={response.additional_kwargs.get('finish_reason')!r}); pass "
                "error_on_no_tool_call=False to accept an answer without tool calls."
            )
        return selections


class _Answer:
    """A stream's answer so far, grown chunk by chunk, and the cumulative response after each chunk.

    Per choice index it keeps the text, the reasoning and whether tool calls came. Each response carries
    the lowest index's whole message (what ``ChatAccumulator.snapshot`` gives), built from running strings:
    a chunk costs its own fragment, not a re-join of every fragment before it plus a whole completion
    rebuilt (which made a stream's cost grow with the square of its length).
    """

    __slots__ = ("_accumulator", "_choices", "_first", "_known")

    def __init__(self, accumulator: ChatAccumulator, known: dict[str, Any]) -> None:
        self._accumulator = accumulator  # the stream's: it has already folded in each chunk given here
        self._known = known  # what every response's additional_kwargs start with
        self._choices: dict[int, list[Any]] = {}  # index -> [text, reasoning, has tool calls]
        self._first = 0

    def add(self, chunk: ChatCompletionChunk) -> str | None:
        """Fold ``chunk`` in; returns the reasoning fragment of its first choice."""
        first_reasoning = None
        for position, choice in enumerate(chunk.choices):
            state = self._choices.get(choice.index)
            if state is None:
                state = self._choices[choice.index] = ["", "", False]
                self._first = min(self._choices)
            delta = choice.delta
            if delta.content:
                state[0] += delta.content
            reasoning = delta.reasoning
            if reasoning:
                state[1] += reasoning
                if position == 0:
                    first_reasoning = reasoning
            if delta.tool_calls:
                state[2] = True
        return first_reasoning

    def message(self) -> ChatMessage:
        """The first choice's message so far (tool-call ids may still be missing: ``final=False``)."""
        text, reasoning, has_tools = self._choices.get(self._first) or ("", "", False)
        if not reasoning and not has_tools:  # plain text: what assistant_message builds for it
            return ChatMessage(role=MessageRole.ASSISTANT, blocks=[TextBlock(text=text)], additional_kwargs={})
        calls = self._accumulator.tool_calls(self._first) if has_tools else ()
        return assistant_message(text, reasoning=reasoning or None, tool_calls=calls, final=False)

    def respond(self, chunk: ChatCompletionChunk) -> ChatResponse | None:
        """The cumulative response after ``chunk``, or ``None`` when its first choice adds nothing."""
        reasoning = self.add(chunk)
        if not chunk.choices:
            return None
        delta = chunk.choices[0].delta
        if not (delta.content or reasoning or delta.tool_calls):
            return None
        kwargs = dict(self._known)
        if reasoning:
            kwargs["thinking_delta"] = reasoning
        return ChatResponse(
            message=self.message(), delta=delta.content or "", raw=chunk.model_dump(), additional_kwargs=kwargs
        )


def _check_messages(messages: Sequence[Any]) -> None:
    """A :class:`ConfigurationError` for the first entry that is not a LlamaIndex ``ChatMessage``."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise ConfigurationError(f"messages must be a list of ChatMessage, not {type(messages).__name__}")
    for index, message in enumerate(messages):
        if not isinstance(message, ChatMessage):
            raise ConfigurationError(
                f"messages[{index}] is of type {type(message).__name__}, not a llama_index ChatMessage: pass "
                "ChatMessage(role='user', content='...') (ChatMessage.model_validate(d) turns a dict into one)"
            )


def _tool_spec(tool: Any, index: int) -> dict[str, Any]:
    """The OpenAI tool spec of a LlamaIndex tool, or a :class:`ConfigurationError` naming the bad entry."""
    metadata = getattr(tool, "metadata", None)
    if not callable(getattr(metadata, "to_openai_tool", None)):
        raise ConfigurationError(
            f"tools[{index}] is of type {type(tool).__name__}, not a LlamaIndex tool: wrap functions with "
            "FunctionTool.from_defaults(fn=...)"
        )
    if type(metadata) is ToolMetadata and metadata.fn_schema is not None:
        # ToolMetadata.to_openai_tool, with the JSON schema of fn_schema generated once per class rather than
        # on every call (pydantic's schema generation was ~0.7 ms per tool per call); a copy per call
        spec = ToolMetadata(description=metadata.description, name=metadata.name, fn_schema=None).to_openai_tool(
            skip_length_check=True
        )
        spec["function"]["parameters"] = copy.deepcopy(_parameters(metadata.fn_schema))
        return spec
    own: dict[str, Any] = tool.metadata.to_openai_tool(skip_length_check=True)  # a ToolMetadata of its own kind
    return own


@functools.lru_cache(maxsize=512)
def _parameters(fn_schema: type[BaseModel]) -> dict[str, Any]:
    """``ToolMetadata.get_parameters_dict`` for ``fn_schema`` (shared: callers copy it)."""
    return ToolMetadata(description="", fn_schema=fn_schema).get_parameters_dict()


def _empty_message() -> ChatMessage:
    """The message of an answer without choices (some providers send one when content is filtered)."""
    return ChatMessage(role=MessageRole.ASSISTANT, content="")
