"""The SSE parser: line ends, comments, fields, and any chunk boundary."""

from __future__ import annotations

import pytest

from agentsession._sse import MAX_LINE_BYTES, Frame, SSEDecoder, SSEError


def parse(*chunks: bytes) -> list[Frame]:
    decoder = SSEDecoder()
    frames: list[Frame] = []
    for chunk in chunks:
        frames.extend(decoder.feed(chunk))
    return frames


STREAM = (
    b"event: turn.accepted\n"
    b'data: {"turn_index":3}\n'
    b"\n"
    b": keep-alive\n"
    b"\n"
    b"id: 41\n"
    b"data: first line\n"
    b"data:second line\n"
    b"data\n"
    b"retry: 1500\n"
    b"\n"
    b"event: turn.completed\n"
    b'data: {"stop_reason":"end_turn"}\n'
    b"\n"
)
EXPECTED = [
    Frame(data='{"turn_index":3}', event="turn.accepted"),
    Frame(data="first line\nsecond line\n", id="41", retry=1500),
    Frame(data='{"stop_reason":"end_turn"}', event="turn.completed"),
]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_every_line_end(eol: bytes) -> None:
    assert parse(STREAM.replace(b"\n", eol)) == EXPECTED


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_every_chunk_boundary(eol: bytes) -> None:
    data = STREAM.replace(b"\n", eol)
    for cut in range(1, len(data)):
        assert parse(data[:cut], data[cut:]) == EXPECTED, f"split at {cut}"


def test_byte_by_byte_with_mixed_line_ends_and_utf8() -> None:
    data = "id: 7\r\ndata: héllo ✓\rdata: wörld\n\r\n".encode()
    frames = parse(*[data[i : i + 1] for i in range(len(data))])
    assert frames == [Frame(data="héllo ✓\nwörld", id="7")]


def test_cr_then_lf_in_next_chunk_is_one_line_end() -> None:
    # "data: a" CR | LF CR LF: one line end, then the blank line.
    assert parse(b"data: a\r", b"\n\r\n") == [Frame(data="a")]
    # A lone CR at a chunk's end followed by more text is a line end too.
    assert parse(b"data: a\r", b"data: b\r\r") == [Frame(data="a\nb")]


def test_comments_and_frames_without_data_dispatch_nothing() -> None:
    assert parse(b": keep-alive\n\n:\n\nid: 5\n\nevent: x\n\n") == []


def test_incomplete_frame_at_end_is_dropped() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 1\ndata: whole\n\nid: 2\ndata: cut") == [Frame(data="whole", id="1")]


def test_field_rules() -> None:
    frames = parse(
        b"data:no space\n\n"
        b"data:  two spaces\n\n"
        b"id: a\x00b\ndata: nul id ignored\n\n"
        b"retry: 12x\ndata: bad retry ignored\n\n"
        b"unknown: field\ndata: kept\n\n"
        b"data\n\n"
    )
    assert frames == [
        Frame(data="no space"),
        Frame(data=" two spaces"),
        Frame(data="nul id ignored"),
        Frame(data="bad retry ignored"),
        Frame(data="kept"),
        Frame(data=""),
    ]


def test_last_event_id_persists_and_frame_id_is_its_own() -> None:
    decoder = SSEDecoder()
    frames = decoder.feed(b"id: 9\ndata: a\n\ndata: b\n\n")
    assert [f.id for f in frames] == ["9", None]
    assert decoder.last_event_id == "9"


def test_bom_only_at_start() -> None:
    assert parse(b"\xef\xbb", b"\xbfdata: x\n\n") == [Frame(data="x")]
    assert parse(b"data: \xef\xbb\xbfy\n\n") == [Frame(data="\ufeffy")]


def test_overlong_line_is_an_error() -> None:
    decoder = SSEDecoder()
    with pytest.raises(SSEError):
        decoder.feed(b"data: " + b"x" * (MAX_LINE_BYTES + 1))
