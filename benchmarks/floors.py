"""The framework floors: no-op framework models whose I/O costs nothing.

A class of ours cannot cost less than what its framework spends around any model (callbacks, run
managers, instrumentation events, message and response objects) plus what a bare transport spends on the
same request. These models measure the first part in the benchmark's own process setup: they answer with
canned messages, build only what the framework's contract requires per call and per streamed chunk, and do
no I/O, so ``limit = bare transport + floor``.

- :class:`NoopChatModel` (a ``BaseChatModel``): ``_generate`` / ``_agenerate`` return one ``AIMessage``
  with usage; ``_stream`` / ``_astream`` yield one ``AIMessageChunk`` per chunk (reported to the run
  manager as a new token, as a streaming model must), then a closing chunk with usage.
- :class:`NoopLLM` (a LlamaIndex ``FunctionCallingLLM``, decorated like any LLM): ``chat`` / ``achat``
  return one ``ChatResponse``; ``stream_chat`` / ``astream_chat`` yield one ``ChatResponse`` per chunk
  carrying the whole message so far plus the delta (LlamaIndex's streaming contract), then a closing one.
- :class:`NoopEmbeddings` / :class:`NoopEmbedding`: a canned vector per text.

The number of streamed chunks comes from the last message's ``__stream_chunks__ K``, as for the benchmark
server, and each chunk's text is the server's (``tok{i % 1000} ``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from llama_index.core.base.embeddings.base import BaseEmbedding
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
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM

__all__ = ["NoopChatModel", "NoopEmbedding", "NoopEmbeddings", "NoopLLM"]

ANSWER = "Hello from the benchmark server."
_CHUNKS_RE = re.compile(r"__stream_chunks__\s+(\d+)")
_USAGE = {"input_tokens": 12, "output_tokens": 7, "total_tokens": 19}


def _chunks_wanted(text: Any) -> int:
    match = _CHUNKS_RE.search(text if isinstance(text, str) else str(text))
    return int(match.group(1)) if match else 20


def _deltas(k: int) -> Iterator[str]:
    return (f"tok{i % 1000} " for i in range(k))


# --- LangChain -------------------------------------------------------------------------------------


class NoopChatModel(BaseChatModel):
    """A LangChain chat model that answers at once: the framework's own cost per call and per chunk."""

    model: str = "noop"

    @property
    def _llm_type(self) -> str:
        return "noop"

    def _result(self) -> ChatResult:
        message = AIMessage(
            content=ANSWER,
            response_metadata={"model_name": self.model, "finish_reason": "stop"},
            usage_metadata=dict(_USAGE),  # type: ignore[arg-type]
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._result()

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._result()

    def _closing(self) -> ChatGenerationChunk:
        return ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                response_metadata={"model_name": self.model, "finish_reason": "stop"},
                usage_metadata=dict(_USAGE),  # type: ignore[arg-type]
                chunk_position="last",
            )
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for text in _deltas(_chunks_wanted(messages[-1].content)):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
            if run_manager is not None:
                run_manager.on_llm_new_token(text, chunk=chunk)
            yield chunk
        yield self._closing()

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for text in _deltas(_chunks_wanted(messages[-1].content)):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
            if run_manager is not None:
                await run_manager.on_llm_new_token(text, chunk=chunk)
            yield chunk
        yield self._closing()


class NoopEmbeddings(Embeddings):
    """LangChain embeddings that answer with a canned vector per text."""

    def __init__(self, dim: int = 64) -> None:
        self.vector = [((i * 37) % 101) / 101.0 - 0.5 for i in range(dim)]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [list(self.vector) for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return list(self.vector)


# --- LlamaIndex ------------------------------------------------------------------------------------


def _li_text(messages: Sequence[ChatMessage]) -> str:
    return messages[-1].content or "" if messages else ""


class NoopLLM(FunctionCallingLLM):
    """A LlamaIndex function-calling LLM that answers at once, decorated like every LLM (events, spans)."""

    model: str = "noop"

    @classmethod
    def class_name(cls) -> str:
        return "NoopLLM"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(is_chat_model=True, is_function_calling_model=True, model_name=self.model)

    def _response(self) -> ChatResponse:
        return ChatResponse(
            message=ChatMessage(role=MessageRole.ASSISTANT, content=ANSWER),
            additional_kwargs={"model_name": self.model, "finish_reason": "stop", "total_tokens": 19},
        )

    def _responses(self, messages: Sequence[ChatMessage]) -> Iterator[ChatResponse]:
        text = ""
        for delta in _deltas(_chunks_wanted(_li_text(messages))):
            text += delta  # each response carries the whole message so far
            yield ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text), delta=delta)
        yield ChatResponse(
            message=ChatMessage(role=MessageRole.ASSISTANT, content=text),
            delta="",
            additional_kwargs={"model_name": self.model, "finish_reason": "stop", "total_tokens": 19},
        )

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._response()

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._responses(messages)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._response()

    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        async def gen() -> ChatResponseAsyncGen:
            for response in self._responses(messages):
                yield response

        return gen()

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=ANSWER)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        return iter([CompletionResponse(text=ANSWER, delta=ANSWER)])

    @llm_completion_callback()
    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=ANSWER)

    @llm_completion_callback()
    async def astream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseAsyncGen:
        async def gen() -> CompletionResponseAsyncGen:
            yield CompletionResponse(text=ANSWER, delta=ANSWER)

        return gen()

    def _prepare_chat_with_tools(self, tools: Sequence[Any], **kwargs: Any) -> dict[str, Any]:
        return {"messages": list(kwargs.get("chat_history") or []), "tools": list(tools)}


class NoopEmbedding(BaseEmbedding):
    """A LlamaIndex embedding model that answers with a canned vector per text (its batching and events)."""

    dim: int = 64

    @classmethod
    def class_name(cls) -> str:
        return "NoopEmbedding"

    def _vector(self) -> list[float]:
        return [((i * 37) % 101) / 101.0 - 0.5 for i in range(self.dim)]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        vector = self._vector()
        return [list(vector) for _ in texts]
