"""An incremental server-sent events parser (the WHATWG "event stream" rules).

Feed it the body's bytes in chunks of any size; it returns each complete
frame. Lines end with CRLF, LF or CR (a CR at the end of one chunk and an LF
at the start of the next are one line end); ``:`` lines are comments; several
``data`` lines join with LF; ``id`` with a NUL is ignored; ``retry`` takes
digits only; a UTF-8 BOM at the very start is skipped. A frame the stream
ends in the middle of is never returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Frame", "SSEDecoder", "SSEError"]

_LINE_END = re.compile(rb"\r\n|\r|\n")
_BOM = b"\xef\xbb\xbf"

# A line longer than this is a broken or hostile server, not a frame to buffer.
MAX_LINE_BYTES = 16 << 20


class SSEError(ValueError):
    """The stream is not a valid event stream (a line over the size limit)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One dispatched frame. ``event`` is ``""`` when the frame named none;
    ``id`` is the frame's own ``id`` field (``None`` when it had none)."""

    data: str
    event: str = ""
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Turns chunks of bytes into frames. ``last_event_id`` is the stream's
    last event id as the spec defines it (it persists across frames)."""

    def __init__(self) -> None:
        self._buf = b""
        self._started = False
        self._skip_lf = False  # the previous chunk ended with CR
        self.last_event_id = ""
        self._reset()

    def _reset(self) -> None:
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[Frame]:
        """The frames completed by chunk."""
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        data = self._buf + chunk if self._buf else chunk
        if not self._started:
            if len(data) < len(_BOM) and _BOM.startswith(data):
                self._buf = data
                return []
            self._started = True
            if data.startswith(_BOM):
                data = data[len(_BOM) :]
        frames: list[Frame] = []
        start = 0
        for m in _LINE_END.finditer(data):
            frame = self._line(data[start : m.start()])
            if frame is not None:
                frames.append(frame)
            start = m.end()
        if start and data[start - 1 : start] == b"\r" and start == len(data):
            self._skip_lf = True
        self._buf = data[start:]
        if len(self._buf) > MAX_LINE_BYTES:
            raise SSEError(f"an event-stream line is longer than {MAX_LINE_BYTES} bytes")
        return frames

    def _line(self, raw: bytes) -> Frame | None:
        if not raw:
            return self._dispatch()
        if raw[0] == 0x3A:  # ":" comment, such as ": keep-alive"
            return None
        line = raw.decode("utf-8", errors="replace")
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\x00" not in value:
                self._id = value
                self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> Frame | None:
        if not self._data:
            # No data: nothing to dispatch (the id, if any, is still recorded).
            self._reset()
            return None
        frame = Frame(data="\n".join(self._data), event=self._event, id=self._id, retry=self._retry)
        self._reset()
        return frame
