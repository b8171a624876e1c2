"""The Responses API's side of ChatCloudflareAIGateway that loads with it: the fields, which API a call uses,
and LangChain's standard blocks for Responses answers. The conversions are in :mod:`langchain_cfaig._responses`,
loaded on the first Responses call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages import content as types
from langchain_core.messages.block_translators import openai as openai_blocks
from langchain_core.messages.block_translators import register_translator
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import BaseModel

from cfaig.errors import ConfigurationError
from langchain_cfaig._convert import MODEL_PROVIDER

if TYPE_CHECKING:
    from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun

    from langchain_cfaig.chat_models import ChatCloudflareAIGateway

__all__ = ["ResponsesFields"]

_RESPONSES_ONLY: Final = frozenset({"previous_response_id", "reasoning", "include", "text", "truncation", "store"})
"""Call arguments only the Responses API takes: passing one selects it when ``use_responses_api`` is unset."""


def built_in_tool(tools: object) -> str | None:
    """The type of the first of OpenAI's built-in tools (``web_search``, ``file_search``, ``mcp``, ...: any
    tool that is not a function) among a call's ``tools``, or ``None``."""
    if not isinstance(tools, (list, tuple)):
        return None
    for tool in tools:
        if isinstance(tool, Mapping) and isinstance(tool.get("type"), str) and tool["type"] != "function":
            return str(tool["type"])
    return None


class ResponsesFields(BaseModel):
    """The Responses API fields of :class:`~langchain_cfaig.ChatCloudflareAIGateway`."""

    use_responses_api: bool | None = None
    """Send calls to the OpenAI Responses API (``True``) or Chat Completions (``False``). Unset, a call uses
    the Responses API when it needs it: ``reasoning``, ``include``, ``truncation``, ``store`` or
    ``use_previous_response_id`` set, ``output_version="responses/v1"``, or one of those (or
    ``previous_response_id`` / ``text``) passed to the call, or one of OpenAI's built-in tools bound
    (``bind_tools([{"type": "web_search"}])``); otherwise Chat Completions."""
    reasoning: dict[str, Any] | None = None
    """Responses API reasoning: ``{"effort": "low" | "medium" | "high", "summary": "auto" | "concise" |
    "detailed"}`` (a summary is shown only when asked for). ``reasoning_effort`` is its ``effort``."""
    include: list[str] | None = None
    """Extra output, e.g. ``["reasoning.encrypted_content"]`` to carry reasoning between turns with ``store=False``."""
    store: bool | None = None
    """Whether OpenAI keeps the response (its default: yes); needed for ``previous_response_id``."""
    truncation: str | None = None
    """``"auto"`` lets the API drop input from the middle to fit the context window."""
    use_previous_response_id: bool = False
    """Send only the messages after the last answer of this API, with its id as ``previous_response_id``."""

    if TYPE_CHECKING:  # BaseChatModel's field (``LC_OUTPUT_VERSION``): for a Responses answer ``"responses/v1"``
        output_version: str | None = None  # (unset), ``"v0"`` or ``"v1"``; see :mod:`langchain_cfaig._responses`

    def _uses_responses_api(self, kwargs: Mapping[str, Any]) -> bool:
        built_in = built_in_tool(kwargs.get("tools"))
        if built_in is not None:  # OpenAI's built-in tools exist only there (ChatOpenAI switches for them too)
            if self.use_responses_api is False:
                raise ConfigurationError(
                    f"the built-in tool {built_in!r} needs the Responses API: set use_responses_api=True (or leave it "
                    "unset, and a call with a built-in tool uses it)"
                )
            return True
        if self.use_responses_api is not None:
            return self.use_responses_api
        return (  # on every chat call: plain attribute reads, no generator
            self.reasoning is not None
            or self.include is not None
            or self.truncation is not None
            or self.store is not None
            or self.use_previous_response_id
            or self.output_version == "responses/v1"
            or not _RESPONSES_ONLY.isdisjoint(kwargs)
        )

    # The four paths on the Responses API (ChatCloudflareAIGateway's own dispatch to them).

    def _responses_generate(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> ChatResult:
        from langchain_cfaig import _responses

        return _responses.generate(self._model(), messages, stop, kwargs)

    async def _responses_agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> ChatResult:
        from langchain_cfaig import _responses

        return await _responses.agenerate(self._model(), messages, stop, kwargs)

    def _responses_stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        run_manager: CallbackManagerForLLMRun | None,
        kwargs: dict[str, Any],
    ) -> Iterator[ChatGenerationChunk]:
        from langchain_cfaig import _responses

        return _responses.stream(self._model(), messages, stop, run_manager, kwargs)

    def _responses_astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        run_manager: AsyncCallbackManagerForLLMRun | None,
        kwargs: dict[str, Any],
    ) -> AsyncIterator[ChatGenerationChunk]:
        from langchain_cfaig import _responses

        return _responses.astream(self._model(), messages, stop, run_manager, kwargs)

    def _model(self) -> ChatCloudflareAIGateway:
        from langchain_cfaig.chat_models import ChatCloudflareAIGateway

        assert isinstance(self, ChatCloudflareAIGateway)  # the mixin's only class
        return self


# --- LangChain's standard content blocks for these answers -----------------------------------------------


def _translate(message: AIMessage) -> list[types.ContentBlock]:
    """Standard blocks of a Responses answer (list content) by langchain-core's OpenAI translator; a chat answer
    (string content) is left to langchain-core's best-effort parsing, as before: raising NotImplementedError is
    langchain-core's translator protocol for "not mine" (``AIMessage.content_blocks`` catches it), not a stub."""
    if isinstance(message.content, str):
        raise NotImplementedError
    return openai_blocks.translate_content(message)


def _translate_chunk(message: AIMessageChunk) -> list[types.ContentBlock]:
    """:func:`_translate` for a chunk (``AIMessageChunk.content_blocks`` catches the NotImplementedError too)."""
    if isinstance(message.content, str):
        raise NotImplementedError
    return openai_blocks.translate_content_chunk(message)


register_translator(MODEL_PROVIDER, _translate, _translate_chunk)
