"""Tests for worker.sse: the recorded Particle wire cases and the WHATWG parsing rules.

Rules follow
https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
"""

from __future__ import annotations

import base64
import json
import random
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from worker.sse import ServerSentEvent, SSEDecoder

CASE_DIR = Path(__file__).parent / "data" / "sse"
CASE_FILES = sorted(CASE_DIR.glob("*.json"))


def decode(*chunks: bytes, decoder: SSEDecoder | None = None) -> list[ServerSentEvent]:
    decoder = decoder or SSEDecoder()
    return [event for chunk in chunks for event in decoder.feed(chunk)]


def load_connections(case_file: Path) -> list[list[bytes]]:
    case = json.loads(case_file.read_text(encoding="utf-8"))
    return [
        [base64.b64decode(chunk) for chunk in connection["chunks"]]
        for connection in case["connections"]
    ]


def load_expectation(case_file: Path) -> tuple[list[dict[str, Any]], int]:
    expect = json.loads(case_file.read_text(encoding="utf-8"))["expect"]
    return [event["body"] for event in expect["events"]], expect["invalid"]


def decode_connections(connections: list[list[bytes]]) -> list[ServerSentEvent]:
    """Each connection gets its own decoder, as the worker does on reconnect."""
    events: list[ServerSentEvent] = []
    for chunks in connections:
        decoder = SSEDecoder()
        events += decode(*chunks, decoder=decoder)
        decoder.close()
    return events


def particle_body(event: ServerSentEvent) -> dict[str, Any] | None:
    """The body the worker publishes, or None where it counts the event invalid."""
    try:
        payload = json.loads(event.data)
    except ValueError:
        return None
    if not event.event or not isinstance(payload, dict):
        return None
    if not {"published_at", "coreid"} <= payload.keys():
        return None
    return {**payload, "name": event.event}


def split_bodies(events: list[ServerSentEvent]) -> tuple[list[dict[str, Any]], int]:
    bodies = [particle_body(event) for event in events]
    valid = [body for body in bodies if body is not None]
    return valid, len(bodies) - len(valid)


def cut_at(data: bytes, cuts: list[int]) -> list[bytes]:
    return [data[start:end] for start, end in pairwise([0, *sorted(cuts), len(data)])]


def rechunk_randomly(data: bytes, rng: random.Random) -> list[bytes]:
    return cut_at(data, rng.sample(range(1, len(data)), k=min(len(data) - 1, 12)))


def test_case_directory_is_not_empty() -> None:
    assert CASE_FILES


@pytest.mark.parametrize("case_file", CASE_FILES, ids=lambda path: path.stem)
def test_decoder_wire_case_as_written(case_file: Path) -> None:
    connections = load_connections(case_file)

    events = decode_connections(connections)

    assert split_bodies(events) == load_expectation(case_file)


@pytest.mark.parametrize("case_file", CASE_FILES, ids=lambda path: path.stem)
def test_decoder_wire_case_one_byte_at_a_time(case_file: Path) -> None:
    connections = [
        [bytes([byte]) for byte in b"".join(chunks)]
        for chunks in load_connections(case_file)
    ]

    events = decode_connections(connections)

    assert split_bodies(events) == load_expectation(case_file)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("case_file", CASE_FILES, ids=lambda path: path.stem)
def test_decoder_wire_case_in_random_splits(case_file: Path, seed: int) -> None:
    rng = random.Random(seed)
    connections = [
        rechunk_randomly(b"".join(chunks), rng)
        for chunks in load_connections(case_file)
    ]

    events = decode_connections(connections)

    assert split_bodies(events) == load_expectation(case_file)


def test_decoder_wire_case_names_are_the_event_field() -> None:
    connections = load_connections(CASE_DIR / "basic-device-stream.json")

    events = decode_connections(connections)

    assert [event.event for event in events] == ["photo", "temperature"]


def test_decoder_lone_cr_ends_lines() -> None:
    stream = b"event: a\rdata: x\r\r"

    events = decode(stream)

    assert events == [ServerSentEvent("a", "x")]


def test_decoder_crlf_split_across_chunks_is_one_line_end() -> None:
    """A second line end here would be a blank line and split the event in two."""
    chunks = (b"data: x\r", b"\ndata: y\r\n\r\n")

    events = decode(*chunks)

    assert events == [ServerSentEvent("", "x\ny")]


def test_decoder_cr_at_chunk_end_dispatches_at_once() -> None:
    decoder = SSEDecoder()

    events = decoder.feed(b"data: x\r\r")

    assert events == [ServerSentEvent("", "x")]


def test_decoder_cr_then_empty_chunk_then_lf_is_one_line_end() -> None:
    chunks = (b"data: x\r", b"", b"\ndata: y\n\n")

    events = decode(*chunks)

    assert events == [ServerSentEvent("", "x\ny")]


def test_decoder_mixed_line_endings() -> None:
    stream = b"data: a\r\ndata: b\ndata: c\r\r\ndata: d\n\r"

    events = decode(stream)

    assert events == [ServerSentEvent("", "a\nb\nc"), ServerSentEvent("", "d")]


def test_decoder_strips_leading_bom() -> None:
    """Left in place, the BOM would turn the first field name into an unknown one."""
    stream = b"\xef\xbb\xbfevent: a\ndata: x\n\n"

    events = decode(stream)

    assert events == [ServerSentEvent("a", "x")]


def test_decoder_strips_leading_bom_split_across_chunks() -> None:
    chunks = (b"\xef", b"\xbb", b"\xbfevent: a\ndata: x\n\n")

    events = decode(*chunks)

    assert events == [ServerSentEvent("a", "x")]


def test_decoder_strips_only_one_bom() -> None:
    stream = b"\xef\xbb\xbf\xef\xbb\xbfdata: lost\n\ndata: kept\n\n"

    events = decode(stream)

    assert events == [ServerSentEvent("", "kept")]


def test_decoder_keeps_bom_after_stream_start() -> None:
    stream = b"data: x\n\ndata: \xef\xbb\xbfy\n\n"

    events = decode(stream)

    assert events[1] == ServerSentEvent("", "\ufeffy")


def test_decoder_strips_exactly_one_leading_space() -> None:
    stream = b"event:  a\ndata:  x\n\n"

    events = decode(stream)

    assert events == [ServerSentEvent(" a", " x")]


def test_decoder_value_without_space_is_kept_whole() -> None:
    stream = b"data:x\n\n"

    events = decode(stream)

    assert events == [ServerSentEvent("", "x")]


def test_decoder_splits_field_at_first_colon() -> None:
    stream = b'data: {"a": "b:c"}\n\n'

    events = decode(stream)

    assert events == [ServerSentEvent("", '{"a": "b:c"}')]


def test_decoder_line_without_colon_is_field_with_empty_value() -> None:
    stream = b"data\ndata\n\n"

    events = decode(stream)

    assert events == [ServerSentEvent("", "\n")]


def test_decoder_joins_data_lines_with_lf() -> None:
    stream = b"data: a\ndata: b\ndata: c\n\n"

    events = decode(stream)

    assert events == [ServerSentEvent("", "a\nb\nc")]


def test_decoder_removes_only_the_final_lf() -> None:
    stream = b"data: a\ndata:\n\n"

    events = decode(stream)

    assert events == [ServerSentEvent("", "a\n")]


def test_decoder_empty_data_line_dispatches_empty_event() -> None:
    """The data buffer holds one LF, so it is not empty and the event goes out."""
    stream = b"event: e\ndata:\n\n"

    events = decode(stream)

    assert events == [ServerSentEvent("e", "")]


def test_decoder_ignores_comment_lines() -> None:
    stream = b":ok\n\n: note\ndata: x\n:\n\n"

    events = decode(stream)

    assert events == [ServerSentEvent("", "x")]


def test_decoder_ignores_unknown_fields() -> None:
    stream = b"foo: bar\ndata: x\nevents: y\n\n"

    events = decode(stream)

    assert events == [ServerSentEvent("", "x")]


def test_decoder_field_names_are_case_sensitive() -> None:
    stream = b"Event: a\nDATA: no\ndata: x\nData: y\n\n"

    events = decode(stream)

    assert events == [ServerSentEvent("", "x")]


def test_decoder_capitalised_data_alone_dispatches_nothing() -> None:
    stream = b"Data: x\n\n"

    events = decode(stream)

    assert events == []


def test_decoder_id_sets_last_event_id_of_later_events() -> None:
    stream = b"id: 7\ndata: a\n\ndata: b\n\n"

    events = decode(stream)

    assert [event.last_event_id for event in events] == ["7", "7"]


def test_decoder_ignores_id_containing_nul() -> None:
    stream = b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n"

    events = decode(stream)

    assert [event.last_event_id for event in events] == ["1", "1"]


def test_decoder_empty_id_clears_last_event_id() -> None:
    stream = b"id: 1\ndata: a\n\nid\ndata: b\n\n"

    events = decode(stream)

    assert [event.last_event_id for event in events] == ["1", ""]


def test_decoder_commits_last_event_id_at_blank_line_only() -> None:
    decoder = SSEDecoder()

    decoder.feed(b"id: 5\n")
    before_blank_line = decoder.last_event_id
    decoder.feed(b"\n")

    assert (before_blank_line, decoder.last_event_id) == ("", "5")


def test_decoder_carries_last_event_id_from_previous_connection() -> None:
    decoder = SSEDecoder(last_event_id="9")

    events = decoder.feed(b"data: x\n\n")

    assert events[0].last_event_id == "9"


def test_decoder_retry_with_digits_sets_reconnection_time() -> None:
    decoder = SSEDecoder()

    events = decoder.feed(b"retry: 3000\n\n")

    assert (events, decoder.retry) == ([], 3000)


@pytest.mark.parametrize(
    "value", [b"3s", b" 3000", b"-1", b"1.5", b"", b"1e3", "²".encode()]
)
def test_decoder_ignores_retry_without_only_ascii_digits(value: bytes) -> None:
    decoder = SSEDecoder()

    decoder.feed(b"retry: " + value + b"\ndata: x\n\n")

    assert decoder.retry is None


def test_decoder_ignores_retry_too_long_to_parse() -> None:
    decoder = SSEDecoder()

    events = decoder.feed(b"retry: " + b"9" * 5000 + b"\ndata: x\n\n")

    assert (events, decoder.retry) == ([ServerSentEvent("", "x")], None)


def test_decoder_retry_belongs_to_its_own_event() -> None:
    stream = b"retry: 10\ndata: x\n\ndata: y\n\n"

    events = decode(stream)

    assert [event.retry for event in events] == [10, None]


def test_decoder_event_type_does_not_leak_into_next_event() -> None:
    stream = b"event: a\ndata: 1\n\ndata: 2\n\n"

    events = decode(stream)

    assert [event.event for event in events] == ["a", ""]


def test_decoder_blank_line_without_data_resets_event_type() -> None:
    stream = b"event: a\n\ndata: 1\n\n"

    events = decode(stream)

    assert events == [ServerSentEvent("", "1")]


def test_decoder_data_only_event_has_empty_event_field() -> None:
    stream = b"data: x\n\n"

    events = decode(stream)

    assert (events[0].event, events[0].type) == ("", "message")


def test_decoder_named_event_type_is_its_name() -> None:
    stream = b"event: photo\ndata: x\n\n"

    events = decode(stream)

    assert events[0].type == "photo"


def test_decoder_invalid_utf8_becomes_replacement_character() -> None:
    stream = b"event: a\xffb\ndata: \xc3(\n\n"

    events = decode(stream)

    assert events == [ServerSentEvent("a\ufffdb", "\ufffd(")]


def test_decoder_multibyte_character_split_across_chunks() -> None:
    chunks = (b"data: \xe2", b"\x98", b"\x95\n\n")

    events = decode(*chunks)

    assert events == [ServerSentEvent("", "☕")]


def test_decoder_keepalive_newlines_produce_nothing() -> None:
    decoder = SSEDecoder()

    events = [decoder.feed(b"\n") for _ in range(5)]

    assert events == [[]] * 5


def test_decoder_incomplete_trailing_event_is_discarded() -> None:
    decoder = SSEDecoder()

    events = decoder.feed(b"data: complete\n\nevent: a\ndata: half")
    decoder.close()

    assert events == [ServerSentEvent("", "complete")]


def test_decoder_feed_after_close_is_refused() -> None:
    """Refusing reuse is what stops a dropped event's half from being glued on."""
    decoder = SSEDecoder()
    decoder.feed(b"data: half\n")

    decoder.close()

    with pytest.raises(ValueError, match="fresh one per connection"):
        decoder.feed(b"\n")


def test_decoder_close_keeps_committed_state() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 4\nretry: 50\n\nid: 5\n")

    decoder.close()

    assert (decoder.last_event_id, decoder.retry) == ("4", 50)


def test_decoder_discards_oversized_event_and_goes_on() -> None:
    decoder = SSEDecoder(max_event_size=16)

    events = decoder.feed(b"data: " + b"x" * 100 + b"\n\ndata: ok\n\n")

    assert (events, decoder.oversized_discarded) == ([ServerSentEvent("", "ok")], 1)


def test_decoder_discards_event_grown_over_many_lines() -> None:
    decoder = SSEDecoder(max_event_size=16)

    events = decoder.feed(b"event: a\n" + b"data: xxxx\n" * 5 + b"\ndata: ok\n\n")

    assert (events, decoder.oversized_discarded) == ([ServerSentEvent("", "ok")], 1)


def test_decoder_discards_oversized_line_arriving_in_pieces() -> None:
    decoder = SSEDecoder(max_event_size=16)
    chunks = (b"data: " + b"x" * 10, b"x" * 10, b"x" * 10, b"\n\ndata: ok\n\n")

    events = decode(*chunks, decoder=decoder)

    assert (events, decoder.oversized_discarded) == ([ServerSentEvent("", "ok")], 1)


def test_decoder_keeps_discarding_after_oversized_line_ends() -> None:
    """The LF that ends the dropped line is no blank line: the event goes on."""
    decoder = SSEDecoder(max_event_size=16)
    chunks = (b"data: " + b"x" * 20, b"\ndata: same event\n\ndata: ok\n\n")

    events = decode(*chunks, decoder=decoder)

    assert events == [ServerSentEvent("", "ok")]


def test_decoder_oversized_event_leaves_no_id_or_retry_behind() -> None:
    decoder = SSEDecoder(max_event_size=16)
    block = b"id: 1\nretry: 5\ndata: " + b"x" * 20 + b"\nid: 2\n\n"

    events = decoder.feed(block + b"data: ok\n\n")

    assert events == [ServerSentEvent("", "ok", last_event_id="", retry=None)]


def test_decoder_discards_partial_lines_of_oversized_event() -> None:
    decoder = SSEDecoder(max_event_size=16)
    chunks = (b"data: " + b"x" * 20 + b"\ndata: pa", b"\ndata: rt\n\ndata: ok\n\n")

    events = decode(*chunks, decoder=decoder)

    assert events == [ServerSentEvent("", "ok")]


def test_decoder_rejects_non_positive_size_limit() -> None:
    with pytest.raises(ValueError, match="max_event_size"):
        SSEDecoder(max_event_size=0)


TRICKY_STREAM = (
    b"\xef\xbb\xbf:hi\r\nevent: caf\xc3\xa9\rdata:  a\r\ndata\n\r\n"
    b"id: 1\x00\nretry: 7\r\rdata: \xe2\x98\x95\n\n\n"
)


def test_decoder_every_two_way_split_gives_same_events() -> None:
    expected = decode(TRICKY_STREAM)

    results = [
        decode(TRICKY_STREAM[:cut], TRICKY_STREAM[cut:])
        for cut in range(len(TRICKY_STREAM) + 1)
    ]

    assert expected == [ServerSentEvent("café", " a\n"), ServerSentEvent("", "☕")]
    assert all(result == expected for result in results)


LINE_TEXT = st.text(st.characters(exclude_characters="\r\n", exclude_categories=["Cs"]))
FIELD_LINE = st.one_of(
    st.builds("data:{}".format, LINE_TEXT),
    st.builds("data: {}".format, LINE_TEXT),
    st.builds("event: {}".format, LINE_TEXT),
    st.builds("id: {}".format, LINE_TEXT),
    st.builds("retry: {}".format, st.integers(0, 10**6)),
    st.builds(":{}".format, LINE_TEXT),
    st.sampled_from(["data", "event", "Data: x"]),
)
EVENT_BLOCK = st.lists(FIELD_LINE, min_size=1, max_size=5)
LINE_END = st.sampled_from(["\n", "\r\n", "\r"])
BOM = st.sampled_from([b"", b"\xef\xbb\xbf"])


@st.composite
def event_streams(draw: st.DrawFn) -> bytes:
    blocks = draw(st.lists(EVENT_BLOCK, max_size=8))
    lines = [line for block in blocks for line in [*block, ""]]
    text = "".join(line + draw(LINE_END) for line in lines)
    return draw(BOM) + text.encode("utf-8")


@settings(max_examples=300, database=None)
@given(stream=event_streams(), data=st.data())
def test_decoder_any_chunking_gives_same_events(
    stream: bytes, data: st.DataObject
) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=20))

    chunks = cut_at(stream, cuts)

    assert decode(*chunks) == decode(stream)


PARTICLE_EVENT = st.builds(
    ServerSentEvent,
    event=LINE_TEXT,
    data=st.lists(LINE_TEXT, min_size=1, max_size=3).map("\n".join),
)


def encode_event(event: ServerSentEvent, line_end: str) -> bytes:
    lines = [
        f"event: {event.event}",
        *(f"data: {line}" for line in event.data.split("\n")),
    ]
    return "".join(line + line_end for line in [*lines, ""]).encode("utf-8")


@settings(max_examples=200, database=None)
@given(events=st.lists(PARTICLE_EVENT, max_size=6), line_end=LINE_END, data=st.data())
def test_decoder_random_events_survive_the_wire(
    events: list[ServerSentEvent], line_end: str, data: st.DataObject
) -> None:
    stream = b"".join(encode_event(event, line_end) for event in events)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=20))

    decoded = decode(*cut_at(stream, cuts))

    assert decoded == events
