from __future__ import annotations

from . import _generated as gen

__all__ = ["TurnResult"]


class TurnResult(gen.TurnResult):
    """A finished turn: its summary (``stop_reason``, ``duration_ms``,
    ``usage``, ...) and every event, in ``seq`` order."""

    def text(self) -> str:
        """The ``content`` of the turn's ``text`` events, concatenated in order."""
        return "".join(e.content or "" for e in self.events if e.type == gen.EventType.text)
