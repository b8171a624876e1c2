"""Part 6: the SSE decoder is incremental and agnostic to how the bytes were split."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cfaig._sse import ServerSentEvent, SSEDecoder
from cfaig.errors import CfaigError

VALID = (
    b'data: {"id":"1","choices":[{"index":0,"delta":{"content":"Hel"}}]}\r\n\r\n'
    b": keep-alive\n\n"
    b'data: {"id":"1","choices":[{"index":0,"delta":{"content":"lo \xc3\xa9"}}]}\n\n'
    b"event: message\nid: 7\nretry: 100\ndata: line one\ndata: line two\n\n"
    b"data:no-space\r\r"
    b"data: [DONE]\n\n"
)


def decode(chunks: list[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.flush())
    return events


def test_whole_stream() -> None:
    events = decode([VALID])
    assert [event.data for event in events] == [
        b'{"id":"1","choices":[{"index":0,"delta":{"content":"Hel"}}]}',
        b'{"id":"1","choices":[{"index":0,"delta":{"content":"lo \xc3\xa9"}}]}',
        b"line one\nline two",
        b"no-space",
        b"[DONE]",
    ]
    assert events[2].event == "message"
    assert events[2].id == "7"
    assert events[2].retry == 100


def test_byte_order_mark_and_an_event_cut_off_at_the_end() -> None:
    decoder = SSEDecoder()
    events = [*decoder.feed(b"\xef\xbb\xbfdata: a\n\ndata: b"), *decoder.flush()]
    assert [event.data for event in events] == [b"a"]  # WHATWG: an event without its blank line is discarded
    assert decoder.discarded == b"data: b"


@settings(max_examples=300)
@given(st.lists(st.integers(min_value=0, max_value=len(VALID)), max_size=12))
def test_any_split_gives_the_same_events(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    chunks = [VALID[a:b] for a, b in zip([0, *points], [*points, len(VALID)], strict=True)]
    assert decode(chunks) == decode([VALID])


def test_one_byte_at_a_time() -> None:
    assert decode([bytes([b]) for b in VALID]) == decode([VALID])


@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    try:
        events = decode([data[: len(data) // 2], data[len(data) // 2 :]])
    except CfaigError:
        return
    assert all(isinstance(event.data, bytes) for event in events)
