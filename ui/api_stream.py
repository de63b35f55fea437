"""An answer in progress over HTTP: its sources at once, then its place in the model's line,
then the engine's text and checked answer, carried from a worker thread to the event loop.

The worker is the one thread that touches the engine's stream after its sources: it runs the
stream to its end or until the client is gone, closes it, and only then gives up its place
in the line, so the next request never finds the model still busy with an abandoned one.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from rag import Event, Filters, Passage
from rag.queue import QueueFull, Ticket

if TYPE_CHECKING:
    from ui.api import Service

POLL_S = 0.1  # how often a waiting request looks at its place and at its client


@dataclass
class Turn:
    """An answer whose sources are found and whose place in the line is taken."""

    search_query: str
    passages: list[Passage]
    rest: Iterator[Event]
    ticket: Ticket


async def begin(service: Service, query: str, top_k: int | None, filters: Filters,
                max_tokens: int | None) -> Turn:
    """Take a place in the line (429 when it is full), then find the sources, which never
    wait for the model."""
    try:
        ticket = service.queue.join()
    except QueueFull as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after_s)}) \
            from None
    try:
        stream = service.engine.stream(query, top_k, filters, max_tokens)
        first = await run_in_threadpool(next, stream)
    except BaseException:
        ticket.leave()
        raise
    assert isinstance(first.data, list)
    return Turn(query, first.data, stream, ticket)


async def follow(turn: Turn, request: Request) -> AsyncIterator[Event]:
    """After the sources: `queue` events (the position, while waiting), then the engine's
    `token` and `answer` events. A client that goes away gives its place up."""
    started = False
    stop = threading.Event()
    loop = asyncio.get_running_loop()
    items: asyncio.Queue[Event | BaseException | None] = asyncio.Queue()

    def work() -> None:
        try:
            for event in turn.rest:
                loop.call_soon_threadsafe(items.put_nowait, event)
                if stop.is_set():
                    break
        except BaseException as exc:  # handed to the request, which reports it
            loop.call_soon_threadsafe(items.put_nowait, exc)
        finally:
            close = getattr(turn.rest, "close", None)
            if close is not None:
                close()
            turn.ticket.leave()
            loop.call_soon_threadsafe(items.put_nowait, None)

    try:
        shown = -1
        while (position := turn.ticket.position) > 0:
            if position != shown:
                shown = position
                yield Event("queue", str(position))
            if await request.is_disconnected():
                return
            await asyncio.sleep(POLL_S)
        threading.Thread(target=work, name="answer", daemon=True).start()
        started = True
        while (item := await items.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        if started:
            stop.set()
        else:
            turn.ticket.leave()
