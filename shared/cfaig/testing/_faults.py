"""Injected faults: the queue they wait in, and what a matching fault does to a reply (delay, reset, replace, cut)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from pydantic_core import to_json

from ._pipeline import Flow, Reply, envelope_reply, pause
from ._routes import Route
from ._types import CODE_RATE_LIMITED, CODE_TIMEOUT, CODE_UNAUTHORIZED, Fault, ScriptedReply
from .fake.types import ErrorStyle
from .wire.common import JSON_TYPE
from .wire.errors import html_page, provider_error_body

T = TypeVar("T", Fault, ScriptedReply)

MALFORMED_EVENT: Final = b"data: {not json\n\n"
_GATEWAY_STATUS_ERRORS: Final[Mapping[int, tuple[int, str]]] = {
    401: (CODE_UNAUTHORIZED, "Unauthorized"),
    402: (2021, "Insufficient balance; add money to your gateway or use BYOK"),
    424: (2016, "Prompt blocked due to security configurations"),
    429: (CODE_RATE_LIMITED, "Rate limited"),
    504: (CODE_TIMEOUT, "Request timed out"),
}


@dataclass(slots=True)
class _Slot(Generic[T]):
    item: T
    remaining: int


class ConsumeQueue(Generic[T]):
    """Faults or scripted replies waiting for requests: taken in order by the first match, each ``times`` times."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: list[_Slot[T]] = []

    def add(self, item: T) -> None:
        with self._lock:
            self._slots.append(_Slot(item, item.times))

    def clear(self) -> None:
        with self._lock:
            self._slots.clear()

    def take(self, predicate: Callable[[T], bool]) -> T | None:
        """The first item ``predicate`` accepts (one of its uses consumed), or None."""
        if not self._slots:
            return None
        with self._lock:
            for index, slot in enumerate(self._slots):
                if predicate(slot.item):
                    slot.remaining -= 1
                    if slot.remaining <= 0:
                        del self._slots[index]
                    return slot.item
        return None


def path_matches(fault: Fault, path: str) -> bool:
    """Whether ``fault.match`` (if any) occurs in ``path``."""
    return fault.match is None or fault.match in path


def fault_prelude(surface: str, route: Route, fault: Fault, timeout: float | None) -> Flow[Reply | None]:
    """Delay / timeout / reset / replacement part of a fault; None: serve normally."""
    if fault.delay > 0:
        if timeout is not None and fault.delay > timeout:
            yield from pause(timeout)
            return envelope_reply(surface, 504, CODE_TIMEOUT, "Request timed out")
        yield from pause(fault.delay)
    if fault.reset:
        return Reply(reset=True)
    if fault.replaces_response:
        return fault_reply(surface, route, fault)
    return None


def fault_reply(surface: str, route: Route, fault: Fault) -> Reply:
    """The reply a fault answers instead of the model (a realistic body for its status unless it gives one)."""
    status = fault.status
    content_type = fault.content_type
    if fault.body is None:
        if content_type is not None and "html" in content_type.lower():
            body = html_page(status)
        elif status in _GATEWAY_STATUS_ERRORS and route.kind != "feedback":
            code, message = _GATEWAY_STATUS_ERRORS[status]
            body, content_type = envelope_reply(surface, status, code, message).body, content_type or JSON_TYPE
        else:
            style: ErrorStyle = route.style if route.kind != "universal" else "openai"
            body = to_json(provider_error_body(style, status))
    elif isinstance(fault.body, (dict, list)):
        body = to_json(fault.body)
    elif isinstance(fault.body, str):
        body = fault.body.encode()
    else:
        body = fault.body
    if content_type is None:
        content_type = JSON_TYPE if body.lstrip()[:1] in (b"{", b"[") else "text/plain; charset=utf-8"
    reply = Reply(status=status, content_type=content_type, body=body)
    add_fault_headers(reply, fault)
    return reply


def apply_fault(reply: Reply, fault: Fault) -> None:
    """Alter a served reply: a stream fault cuts or corrupts it, any other sets its status and content type."""
    if fault.affects_stream:
        _apply_stream_fault(reply, fault)
    elif reply.status < 400:
        reply.status = fault.status
        reply.content_type = fault.content_type or reply.content_type
    add_fault_headers(reply, fault)


def _apply_stream_fault(reply: Reply, fault: Fault) -> None:
    if reply.events is None:
        return
    events = reply.events
    if fault.cut_after is not None:
        events = events[: fault.cut_after]
        reply.cut = True
    elif fault.end_after is not None:
        events = events[: fault.end_after]
        reply.terminator = None
    if fault.malformed_after is not None and fault.malformed_after <= len(events):
        events = [*events[: fault.malformed_after], MALFORMED_EVENT, *events[fault.malformed_after :]]
    reply.events = events


def add_fault_headers(reply: Reply, fault: Fault) -> None:
    """Set the fault's headers (and ``Retry-After``) on the reply, replacing same-named ones."""
    names = {k.lower() for k in fault.headers}
    if fault.retry_after is not None:
        names.add("retry-after")
    if names:
        reply.headers = [(k, v) for k, v in reply.headers if k not in names]
    reply.headers.extend((k.lower(), v) for k, v in fault.headers.items())
    if fault.retry_after is not None:
        reply.headers.append(("retry-after", fault.retry_after))
