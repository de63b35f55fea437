"""One model, many requests: answers take turns through a bounded line.

One llama.cpp context answers one question at a time; a request that simply waited on the
generator's lock would hang without word, and a crowd of them would pile up without bound. The
line says each waiting request where it stands, refuses a request when `waiting` are already
waiting (the caller answers 429 with `retry_after_s`), and lets a request that gives up (a
client gone) leave it, so the next one moves up. Retrieval never joins it: sources come at
once, however long the line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from meditron_rag.errors import MeditronRagError


class QueueFull(MeditronRagError):
    """Every place in the line is taken: come back after `retry_after_s` seconds."""

    def __init__(self, waiting: int, retry_after_s: int) -> None:
        super().__init__(f"{waiting} questions are already waiting for the model: try again "
                         f"in {retry_after_s} s.")
        self.retry_after_s = retry_after_s


class Ticket:
    """A place in the line. Its `position` is 0 once it holds the model."""

    def __init__(self, line: GenerationQueue) -> None:
        self._line = line

    @property
    def position(self) -> int:
        return self._line.position(self)

    def leave(self) -> None:
        self._line.leave(self)


class GenerationQueue:
    """The line for the model: one request holds it, up to `waiting` wait behind."""

    def __init__(self, waiting: int, retry_after_s: int) -> None:
        self.waiting = waiting
        self.retry_after_s = retry_after_s
        self._changed = threading.Condition()
        self._line: list[Ticket] = []

    def join(self) -> Ticket:
        """A place at the end of the line, or QueueFull when none is left."""
        with self._changed:
            if len(self._line) > self.waiting:
                raise QueueFull(len(self._line) - 1, self.retry_after_s)
            ticket = Ticket(self)
            self._line.append(ticket)
            return ticket

    def position(self, ticket: Ticket) -> int:
        """0: it holds the model; n: n requests are ahead of it; -1: it has left."""
        with self._changed:
            return self._line.index(ticket) if ticket in self._line else -1

    def wait(self, ticket: Ticket, timeout_s: float) -> int:
        """Wait up to `timeout_s` for `ticket` to move up; its position then."""
        with self._changed:
            start = self._line.index(ticket) if ticket in self._line else -1
            if start > 0:
                self._changed.wait_for(lambda: self.position(ticket) != start, timeout_s)
            return self._line.index(ticket) if ticket in self._line else -1

    def leave(self, ticket: Ticket) -> None:
        """Out of the line, whether it held the model or still waited."""
        with self._changed:
            if ticket in self._line:
                self._line.remove(ticket)
                self._changed.notify_all()

    @property
    def length(self) -> int:
        """Requests in the line, the one holding the model included."""
        with self._changed:
            return len(self._line)

    @contextmanager
    def turn(self, on_wait: Callable[[int], None] | None = None) -> Iterator[Ticket]:
        """Hold the model for the block, waiting for it first (for callers that may block a
        thread, such as the app); `on_wait` hears each position while waiting."""
        ticket = self.join()
        try:
            position = ticket.position
            while position > 0:
                if on_wait is not None:
                    on_wait(position)
                position = self.wait(ticket, 1.0)
            yield ticket
        finally:
            ticket.leave()
