"""Stored responses: the conversation behind each ``previous_response_id``, and the output items later turns name.

OpenAI stores a response unless the request says ``"store": false``
(https://platform.openai.com/docs/api-reference/responses/create); a later request continues it with
``previous_response_id`` and may refer to its items by id. An item of a response that was not stored has to
come back whole: a reasoning item with its ``encrypted_content``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Final

_MAX_STORED: Final = 10_000
"""Oldest responses are forgotten beyond this many (a long benchmark must not grow the emulator without end)."""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """One stored response: its conversation (OpenAI-shaped messages, instructions excluded: they do not
    carry over) ending with the answer, and the ids of its output items."""

    messages: tuple[dict[str, Any], ...]
    item_ids: frozenset[str]


class ResponseStore:
    """Responses by id, thread-safe, bounded (least recently stored forgotten first)."""

    def __init__(self, limit: int = _MAX_STORED) -> None:
        self._lock = threading.Lock()
        self._responses: OrderedDict[str, StoredResponse] = OrderedDict()
        self._items: dict[str, str] = {}
        self._limit = limit

    def put(self, response_id: str, stored: StoredResponse) -> None:
        with self._lock:
            self._responses[response_id] = stored
            self._items.update(dict.fromkeys(stored.item_ids, response_id))
            while len(self._responses) > self._limit:
                _, dropped = self._responses.popitem(last=False)
                for item_id in dropped.item_ids:
                    self._items.pop(item_id, None)

    def get(self, response_id: str) -> StoredResponse | None:
        with self._lock:
            return self._responses.get(response_id)

    def has_item(self, item_id: str) -> bool:
        with self._lock:
            return item_id in self._items

    def clear(self) -> None:
        with self._lock:
            self._responses.clear()
            self._items.clear()
