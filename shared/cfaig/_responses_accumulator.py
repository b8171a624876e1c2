"""The Responses API accumulator: stream events folded into the response they describe, with no I/O.

:class:`ResponsesAccumulator` keeps each output item's last full form and the text pieces since
(:mod:`cfaig._responses_stream` feeds it from the decoder and reads the result when the stream ends).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cfaig.responses_types import (
    FunctionCallArgumentsDeltaEvent,
    OutputItemEvent,
    OutputTextDeltaEvent,
    ReasoningSummaryTextDeltaEvent,
    ReasoningTextDeltaEvent,
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseFunctionCall,
    ResponseReasoningItem,
    ResponsesEvent,
    ResponsesResult,
    ResponsesUsage,
)
from cfaig.types import GatewayMeta

__all__ = ["ResponsesAccumulator"]


@dataclass
class _Item:
    """One output item as streamed so far: its last full form, plus the text pieces since."""

    data: dict[str, Any]
    done: bool = False
    text: dict[int, list[str]] = field(default_factory=dict)
    """Per content index: ``output_text`` pieces of a message, ``reasoning_text`` pieces of a reasoning item."""
    summary: dict[int, list[str]] = field(default_factory=dict)
    arguments: list[str] = field(default_factory=list)

    def build(self) -> dict[str, Any]:
        if self.done:
            return self.data
        item = dict(self.data)
        kind = item.get("type")
        if kind == "message" and self.text:
            item["content"] = [
                {"type": "output_text", "text": "".join(self.text[index]), "annotations": []}
                for index in sorted(self.text)
            ]
        elif kind == "function_call" and self.arguments:
            item["arguments"] = "".join(self.arguments)
        elif kind == "reasoning":
            if self.summary:
                item["summary"] = [
                    {"type": "summary_text", "text": "".join(self.summary[index])} for index in sorted(self.summary)
                ]
            if self.text:
                item["content"] = [
                    {"type": "reasoning_text", "text": "".join(self.text[index])} for index in sorted(self.text)
                ]
        return item


class ResponsesAccumulator:
    """Folds stream events into the response so far: text, function calls, reasoning items, usage.

    ``response.output_item.done`` and ``response.completed`` carry the authoritative items; the deltas
    before them make the partial answer readable while the stream runs.
    """

    def __init__(self) -> None:
        self._items: dict[int, _Item] = {}
        self._final: ResponsesResult | None = None
        self.id = ""
        self.model = ""
        self.created_at: int | float = 0
        self.events = 0

    @property
    def usage(self) -> ResponsesUsage | None:
        """Token usage, known once ``response.completed`` arrived."""
        return self._final.usage if self._final is not None else None

    @property
    def status(self) -> str | None:
        return self._final.status if self._final is not None else ("in_progress" if self.id else None)

    def add(self, event: ResponsesEvent) -> None:
        self.events += 1
        if isinstance(event, OutputTextDeltaEvent):
            self._item(event.output_index, "message", event.item_id).text.setdefault(event.content_index, []).append(
                event.delta
            )
        elif isinstance(event, FunctionCallArgumentsDeltaEvent):
            self._item(event.output_index, "function_call", event.item_id).arguments.append(event.delta)
        elif isinstance(event, ReasoningSummaryTextDeltaEvent):
            item = self._item(event.output_index, "reasoning", event.item_id)
            item.summary.setdefault(event.summary_index, []).append(event.delta)
        elif isinstance(event, ReasoningTextDeltaEvent):
            item = self._item(event.output_index, "reasoning", event.item_id)
            item.text.setdefault(event.content_index, []).append(event.delta)
        elif isinstance(event, OutputItemEvent):
            data = event.item.model_dump(exclude_none=True)
            if event.type == "response.output_item.done":
                self._items[event.output_index] = _Item(data, done=True)
            else:
                self._items[event.output_index] = _Item(data)
        elif isinstance(event, ResponseCompletedEvent):
            self._final = event.response
            self._started(event.response)
        elif isinstance(event, ResponseCreatedEvent):
            self._started(event.response)

    def _started(self, response: ResponsesResult) -> None:
        self.id = self.id or response.id
        self.model = self.model or response.model
        self.created_at = self.created_at or response.created_at

    def _item(self, index: int, kind: str, item_id: str) -> _Item:
        item = self._items.get(index)
        if item is None:  # a delta without its output_item.added: start the item from it
            item = self._items[index] = _Item({"type": kind, "id": item_id})
        return item

    def _output(self) -> list[dict[str, Any]]:
        return [self._items[index].build() for index in sorted(self._items)]

    def snapshot(self, meta: GatewayMeta | None = None) -> ResponsesResult:
        """The response so far (the final one once ``response.completed`` arrived)."""
        if self._final is not None:
            result = self._final
            if not result.output and self._items:  # a terminal event that does not repeat the output
                result = result.model_copy(update={"output": ResponsesResult(output=self._output()).output})
        else:
            result = ResponsesResult.model_validate(
                {
                    "id": self.id,
                    "model": self.model,
                    "created_at": self.created_at,
                    "status": self.status,
                    "output": self._output(),
                }
            )
        if meta is not None:
            result = result.model_copy()
            result.gateway = meta
        return result

    @property
    def text(self) -> str:
        """The output text so far."""
        if self._final is not None:
            return self.snapshot().output_text
        return "".join(
            "".join(piece for index in sorted(item.text) for piece in item.text[index])
            if not item.done
            else _parts_text(item.data.get("content"), "output_text")
            for item in self._ordered("message")
        )

    @property
    def reasoning(self) -> str | None:
        """The reasoning shown so far (summaries, else raw reasoning text), or ``None``."""
        if self._final is not None:
            return self.snapshot().reasoning
        texts = []
        for item in self._ordered("reasoning"):
            if item.done:
                texts.append(ResponseReasoningItem.model_validate(item.data).text)
            else:
                pieces = item.summary or item.text
                texts.append("\n\n".join("".join(pieces[index]) for index in sorted(pieces)))
        return "\n\n".join(text for text in texts if text) or None

    def function_calls(self) -> list[ResponseFunctionCall]:
        """Function calls so far; ``arguments`` may still be partial JSON while the stream runs."""
        if self._final is not None:
            return self.snapshot().function_calls
        return [ResponseFunctionCall.model_validate(item.build()) for item in self._ordered("function_call")]

    def _ordered(self, kind: str) -> list[_Item]:
        return [self._items[index] for index in sorted(self._items) if self._items[index].data.get("type") == kind]


def _parts_text(parts: Any, kind: str) -> str:
    return "".join(
        str(part.get("text", "")) for part in parts or () if isinstance(part, Mapping) and part.get("type") == kind
    )
