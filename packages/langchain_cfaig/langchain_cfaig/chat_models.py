"""ChatCloudflareAIGateway: a LangChain chat model for every provider behind Cloudflare AI Gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.output_parsers.base import OutputParserLike
from langchain_core.output_parsers.openai_tools import JsonOutputKeyToolsParser, PydanticToolsParser
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from cfaig import ChatRequest, parse_model
from cfaig.errors import ConfigurationError
from cfaig.integration.fields import GatewayFields
from cfaig.integration.requests import chat_request, pop_call_credentials, pop_stream_timeout, split_call_kwargs
from cfaig.integration.tools import normalise_tool_choice
from cfaig.providers import StructuredMethod, capabilities
from langchain_cfaig import _convert, _tokens
from langchain_cfaig._responses_fields import ResponsesFields
from langchain_cfaig._schemas import json_parser, model_profile, openai_tool, response_format_param, table_profile

if TYPE_CHECKING:
    from cfaig import AsyncChatStream, ChatStream  # the stream classes load httpx: only when a stream opens

__all__ = ["ChatCloudflareAIGateway", "model_profile", "response_format_param"]

_SAMPLING_FIELDS = (
    "temperature",
    "max_tokens",
    "top_p",
    "seed",
    "n",
    "frequency_penalty",
    "presence_penalty",
    "reasoning_effort",
)
_RESPONSE_FORMAT_TYPES = frozenset({"text", "json_object", "json_schema"})
"""An OpenAI ``response_format`` already (sent as it is); any other value is a schema to turn into one."""
_IGNORED_KWARGS = frozenset({"ls_structured_output_format", "structured_output_format", "stream"})


class ChatCloudflareAIGateway(GatewayFields, ResponsesFields, BaseChatModel):
    """Chat model for any provider behind Cloudflare AI Gateway, chosen by the model string.

    The gateway's unified (OpenAI-compatible) endpoint routes on the ``{provider}/`` prefix, so one class
    talks to OpenAI, Anthropic, Gemini, Workers AI, Groq, Mistral and the rest. Gateway features (cache,
    logs, retries, cost, BYOK) are fields and per-call keyword arguments; they are sent as ``cf-aig-*``
    headers. The HTTP work, retries and error mapping are the ``cfaig`` core's.

    Per call, ``gateway_metadata={...}`` is the gateway's log metadata and ``gateway_options={...}`` takes
    any option by name. LangChain's own ``metadata`` (the field and ``config={"metadata": ...}``) is run
    metadata for tracing and is not sent to the gateway.

    Example:
        ```python
        from langchain_cfaig import ChatCloudflareAIGateway

        model = ChatCloudflareAIGateway(
            model="anthropic/claude-sonnet-4-5",
            account_id="my-account",  # or CLOUDFLARE_ACCOUNT_ID
            gateway_id="my-gateway",  # or CLOUDFLARE_GATEWAY_ID
            cache_ttl=300,  # gateway cache for 5 minutes
            fallbacks=["openai/gpt-5-mini"],  # tried if Anthropic fails
        )
        answer = model.invoke("Hello!")
        answer.response_metadata["cf_aig_log_id"]
        model.invoke("Hello again", skip_cache=True, model="openai/gpt-5-mini")  # per call
        model.invoke("Hi", gateway_metadata={"user": "u-1"})  # cf-aig-metadata for this call
        ```
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True, protected_namespaces=())

    model: str = Field(alias="model_name")
    """Model string ``{provider}/{model}``, e.g. ``openai/gpt-5-mini`` or ``workers-ai/@cf/meta/...``."""

    # The connection fields (account_id, gateway_id, cf_aig_token, api_key, base_url, api_base_url,
    # surface, timeout, max_retries, allow_insecure_http), every gateway option (cache_ttl, skip_cache,
    # cache_key, gateway_metadata, collect_log, ..., no_wholesale) and the injected clients
    # (gateway_client, async_gateway_client) come from cfaig.integration.fields.GatewayFields: the same
    # names, defaults and environment variables as every other cfaig class. ``metadata`` is LangChain's
    # own run metadata (tracing); it is never sent to the gateway.

    fallbacks: list[str] | None = None
    """Model strings tried in order when the first fails (one Universal-endpoint request)."""
    endpoint: Literal["unified", "provider"] = "unified"
    """``unified`` (compat endpoint, every provider) or ``provider`` (the provider's own OpenAI-style route)."""

    # --- sampling: sent only when set ---------------------------------------------------------------
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    stop: list[str] | str | None = Field(default=None, alias="stop_sequences")
    seed: int | None = None
    n: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    reasoning_effort: str | None = None
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Provider extras merged into the request body as they are (e.g. ``{"top_k": 40}``). A constructor
    keyword that is no field lands here with a warning, as with ChatOpenAI."""
    stream_usage: bool = True
    """Report token usage on the last streamed chunk."""
    streaming: bool = False
    """Stream under ``invoke`` too (callbacks then see tokens as they arrive)."""

    _model_strings: ClassVar[tuple[str, ...]] = ("model", "fallbacks")
    _extras_field: ClassVar[str | None] = "model_kwargs"
    _profile_for: str | None = PrivateAttr(default=None)
    """The model whose table profile ``profile`` holds; ``None`` when the profile is the user's own."""

    # --- identity ----------------------------------------------------------------------------------

    def _derive(self) -> None:
        """The core objects, then the profile (:func:`model_profile`): the table's follows ``model``
        (``model_copy``, assignment); one the user gave is kept.

        Set here, after validation, rather than by langchain-core's ``_resolve_model_profile`` hook: the
        hook's validator re-checks a profile's keys with ``typing.get_type_hints`` on every construction
        (it was 40 % of building this class); the table's keys are ``ModelProfile``'s own, tested once.
        """
        super()._derive()
        owner = self._profile_for or self.model
        if self.profile is None or self.profile == table_profile(owner):
            self.__dict__["profile"] = model_profile(self.model)  # not through __setattr__: no second derive
            self._profile_for = self.model
        else:
            self._profile_for = None

    @property
    def _llm_type(self) -> str:
        return "cloudflare-ai-gateway"

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {
            "cf_aig_token": "CF_AIG_TOKEN",
            "api_key": "CF_AIG_PROVIDER_API_KEY",
            "provider_keys": "CF_AIG_PROVIDER_KEYS",
        }

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["langchain_cfaig", "chat_models"]

    @property
    def _identifying_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.model, "gateway_id": self._gateway.config.gateway_id}
        for name in (*_SAMPLING_FIELDS, "stop"):
            value = getattr(self, name)
            if value is not None:
                params[name] = value
        if self.fallbacks:
            params["fallbacks"] = list(self.fallbacks)
        return params

    def _get_invocation_params(self, stop: list[str] | None = None, **kwargs: Any) -> dict[str, Any]:
        """LangChain's record of a call (tracing, the cache key): a call's ``provider_keys`` only by name."""
        if kwargs.get("provider_keys"):
            kwargs["provider_keys"] = dict.fromkeys(pop_call_credentials(kwargs)["provider_keys"], "**********")
        return super()._get_invocation_params(stop=stop, **kwargs)

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        """LangSmith's run parameters: the provider the gateway routes to, and its own model id without the
        ``{provider}/`` prefix (the name LangSmith's cost table knows: ``gpt-5-mini``, not ``openai/gpt-5-mini``)."""
        model = kwargs.get("model") or self.model
        surface = self._gateway.config.surface
        try:
            ref = parse_model(model, surface=surface)
            provider, name = ref.provider, ref.model
        except ConfigurationError:
            provider, name = parse_model(self.model, surface=surface).provider, str(model)
        params = LangSmithParams(ls_provider=provider, ls_model_name=name, ls_model_type="chat")
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if max_tokens is not None:
            params["ls_max_tokens"] = max_tokens
        stops = stop or kwargs.get("stop") or self.stop
        if stops:
            params["ls_stop"] = [stops] if isinstance(stops, str) else list(stops)
        return params

    # --- token counts, offline (langchain_cfaig._tokens) ----------------------------------------------

    def get_token_ids(self, text: str) -> list[int]:
        """``custom_get_token_ids``, else tiktoken's ids for an OpenAI-family model (``ConfigurationError``
        when no tokenizer can give them offline; :meth:`get_num_tokens` then still counts)."""
        if self.custom_get_token_ids is not None:
            return self.custom_get_token_ids(text)
        return _tokens.token_ids(self.model, text)

    def get_num_tokens(self, text: str) -> int:
        """Tokens in ``text``: tiktoken for OpenAI-family models when it counts offline, else an estimate
        (one token per 4 UTF-8 bytes); never a download."""
        return _tokens.text_counter(self.model, self.custom_get_token_ids)(text)

    def get_num_tokens_from_messages(self, messages: list[BaseMessage], tools: Sequence[Any] | None = None) -> int:
        """Tokens of a chat request: the messages as they are sent, plus the tool schemas when given
        (OpenAI's cookbook rule; ``trim_messages(token_counter=model)`` uses it)."""
        count = _tokens.text_counter(self.model, self.custom_get_token_ids)
        schemas = [openai_tool(tool, index, None) for index, tool in enumerate(tools or ())]
        return _tokens.count_messages(_convert.messages_to_params(messages), count, schemas)

    # --- one request builder for the four paths -----------------------------------------------------

    def _build_request(
        self, messages: list[BaseMessage], stop: list[str] | None = None, *, stream: bool = False, **kwargs: Any
    ) -> tuple[ChatRequest, dict[str, Any]]:
        """The ChatRequest and the core call's keyword arguments (options, fallbacks, endpoint; for a stream,
        a ``stream_timeout`` given to the call)."""
        kwargs = {key: value for key, value in kwargs.items() if key not in _IGNORED_KWARGS}
        stream_timeout = pop_stream_timeout(kwargs)
        credentials = pop_call_credentials(kwargs)
        options, fallbacks, endpoint, kwargs = split_call_kwargs(
            kwargs, defaults=self._gateway.options, fallbacks=self.fallbacks, endpoint=self.endpoint
        )
        kwargs.pop("stream_usage", None)
        model = kwargs.pop("model", None) or self.model
        response_format = kwargs.get("response_format")
        if response_format is not None and not (
            isinstance(response_format, Mapping) and response_format.get("type") in _RESPONSE_FORMAT_TYPES
        ):
            kwargs["response_format"] = response_format_param(response_format)  # a class or a bare schema

        params: dict[str, Any] = {name: getattr(self, name) for name in _SAMPLING_FIELDS}
        stops = stop if stop is not None else self.stop
        if stops:
            params["stop"] = [stops] if isinstance(stops, str) else list(stops)
        params.update(kwargs)
        request = chat_request(model, _convert.messages_to_params(messages), params, extra_body=self.model_kwargs)
        call: dict[str, Any] = {"options": options, "fallbacks": fallbacks or None, "endpoint": endpoint, **credentials}
        if stream and stream_timeout is not None:
            call["stream_timeout"] = stream_timeout
        return request, call

    def _combine_llm_outputs(self, llm_outputs: list[dict[str, Any] | None]) -> dict[str, Any]:
        """``generate(...).llm_output`` across prompts, as ChatOpenAI's: ``token_usage`` summed in OpenAI's
        shape and ``model_name`` (the model that answered them all, else this model's string)."""
        usage: dict[str, Any] = {}
        names = set()
        for output in llm_outputs:
            if output is None:
                continue  # a streamed generation
            _convert.combine_token_usage(usage, output.get("token_usage") or {})
            names.add(output.get("model_name"))
        return {"token_usage": usage, "model_name": names.pop() if len(names) == 1 else self.model}

    def _wants_usage(self, kwargs: Mapping[str, Any]) -> bool:
        return bool(kwargs.get("stream_usage", self.stream_usage))

    # --- the four paths -------------------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self._uses_responses_api(kwargs):
            return self._responses_generate(messages, stop, kwargs)
        request, call = self._build_request(messages, stop, **kwargs)
        completion = self.client.chat(request, **call)
        return _convert.completion_to_result(
            completion, model_name=request["model"], parse=_convert.parse_target(kwargs)
        )

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self._uses_responses_api(kwargs):
            return await self._responses_agenerate(messages, stop, kwargs)
        request, call = self._build_request(messages, stop, **kwargs)
        completion = await self.async_client.chat(request, **call)
        return _convert.completion_to_result(
            completion, model_name=request["model"], parse=_convert.parse_target(kwargs)
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        if self._uses_responses_api(kwargs):
            yield from self._responses_stream(messages, stop, run_manager, kwargs)
            return
        wants_usage = self._wants_usage(kwargs)
        request, call = self._build_request(messages, stop, stream=True, **kwargs)
        with self.client.stream_chat(request, **call) as stream:
            for generation in self._generations(stream, request, wants_usage, _convert.parse_target(kwargs)):
                if run_manager is not None:
                    run_manager.on_llm_new_token(generation.text, chunk=generation)
                yield generation

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        if self._uses_responses_api(kwargs):
            async for generation in self._responses_astream(messages, stop, run_manager, kwargs):
                yield generation
            return
        wants_usage = self._wants_usage(kwargs)
        request, call = self._build_request(messages, stop, stream=True, **kwargs)
        async with await self.async_client.stream_chat(request, **call) as stream:
            async for generation in self._agenerations(stream, request, wants_usage, _convert.parse_target(kwargs)):
                if run_manager is not None:
                    await run_manager.on_llm_new_token(generation.text, chunk=generation)
                yield generation

    def _generations(
        self, stream: ChatStream, request: ChatRequest, wants_usage: bool, parse: type[BaseModel] | None
    ) -> Iterator[ChatGenerationChunk]:
        """Each streamed chunk's generations, then the closing chunk (:meth:`_final_chunk`)."""
        for chunk in stream:
            yield from _convert.chunk_to_generations(chunk)
        yield self._final_chunk(stream, request, wants_usage, parse)

    async def _agenerations(
        self, stream: AsyncChatStream, request: ChatRequest, wants_usage: bool, parse: type[BaseModel] | None
    ) -> AsyncIterator[ChatGenerationChunk]:
        """Async :meth:`_generations`."""
        async for chunk in stream:
            for generation in _convert.chunk_to_generations(chunk):
                yield generation
        yield self._final_chunk(stream, request, wants_usage, parse)

    def _final_chunk(
        self,
        stream: ChatStream | AsyncChatStream,
        request: ChatRequest,
        wants_usage: bool,
        parse: type[BaseModel] | None,
    ) -> ChatGenerationChunk:
        """The closing chunk; with ``response_format=<pydantic class>``, it carries the whole answer parsed."""
        accumulator = stream.accumulator
        final = _convert.final_chunk(
            meta=stream.meta,
            model_name=accumulator.model or request["model"],
            finish_reason=accumulator.finish_reason,
            usage=accumulator.usage if wants_usage else None,
            tool_calls=accumulator.tool_calls(),
            message_id=accumulator.id or None,
        )
        if parse is not None and accumulator.text:
            final.message.additional_kwargs["parsed"] = _convert.parse_answer(accumulator.text, parse)
        return final

    # --- tools and structured output ---------------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        parallel_tool_calls: bool | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (LangChain tools, pydantic classes, functions or OpenAI tool dicts).

        OpenAI's built-in tools (``{"type": "web_search"}``, ``file_search``, ``code_interpreter``, ``mcp``,
        ...) are sent as given, on the Responses API (a call with one uses it unless ``use_responses_api=False``,
        which refuses it before any request).

        ``tool_choice``: ``"auto"``, ``"none"``, ``"any"``/``"required"``/``True`` (must call one),
        or a tool name (must call that one).
        """
        formatted = [openai_tool(tool, index, strict) for index, tool in enumerate(tools)]
        names = [tool["function"]["name"] for tool in formatted if tool.get("type") == "function"]
        choice = normalise_tool_choice(tool_choice, names)
        if isinstance(choice, dict):
            wanted = choice["function"]["name"]
            if wanted not in names:
                raise ValueError(f"tool_choice names {wanted!r}, which is not among the bound tools {names}")
        if choice is not None:
            kwargs["tool_choice"] = choice
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: StructuredMethod | None = None,
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """A runnable that answers with ``schema`` (a pydantic class, a TypedDict or a JSON schema).

        ``method`` defaults to what the model's provider does best (``cfaig.providers``):
        ``json_schema`` (response_format), ``function_calling`` (a forced tool call) or ``json_mode``.
        """
        if kwargs:
            raise ValueError(f"unexpected arguments: {sorted(kwargs)}")
        method = method or capabilities(self.model).structured_output_method
        if schema is None and method != "json_mode":
            raise ValueError("schema is required unless method='json_mode'")
        is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
        ls_format = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
        parser: OutputParserLike[Any]
        llm: Runnable[LanguageModelInput, Any]
        if method == "function_calling":
            assert schema is not None
            tool = convert_to_openai_tool(schema, strict=strict)
            name = tool["function"]["name"]
            llm = self.bind_tools([schema], tool_choice=name, strict=strict, ls_structured_output_format=ls_format)
            parser = (
                PydanticToolsParser(tools=[cast("type", schema)], first_tool_only=True)
                if is_pydantic
                else JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
            )
        elif method == "json_schema":
            assert schema is not None
            llm = self.bind(
                response_format=response_format_param(schema, strict), ls_structured_output_format=ls_format
            )
            parser = json_parser(schema, is_pydantic)
        elif method == "json_mode":
            llm = self.bind(
                response_format={"type": "json_object"},
                ls_structured_output_format={**ls_format, "kwargs": {"method": method}},
            )
            parser = json_parser(schema, is_pydantic)
        else:
            raise ValueError(f"method must be json_schema, function_calling or json_mode, not {method!r}")

        if not include_raw:
            return llm | parser
        parser_assign = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
        parser_none = RunnablePassthrough.assign(parsed=lambda _: None)
        parser_with_fallback = parser_assign.with_fallbacks([parser_none], exception_key="parsing_error")
        return RunnableMap(raw=llm) | parser_with_fallback
