"""`POST /v1/search` and `POST /v1/ask`: ranked passages, and the checked answer, whole or
streamed as server-sent events (sources, queue, token, verdicts, answer)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from meditron_rag.errors import MeditronRagError
from rag import Answer
from ui.api import Reader
from ui.api_bodies import AskBody, SearchBody, filters_of, query_of
from ui.api_stream import begin, follow

router = APIRouter(prefix="/v1", tags=["questions"])


def verdicts(answer: Answer) -> dict[str, Any]:
    """Each checked sentence with its verdict and reason: shown, then set apart."""
    return {"sentences": [s.__dict__ for s in answer.sentences],
            "rejected": [s.__dict__ for s in answer.rejected]}


def _data(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


@router.post("/search")
async def search(body: SearchBody, service: Reader) -> dict[str, Any]:
    """The passages retrieved for the question, best first, with their metadata; no model
    runs, and no search waits for one."""
    engine = service.engine
    filters = await run_in_threadpool(filters_of, engine, body)
    query = query_of(body.question, body.messages, service.config.serve.follow_ups)
    passages = await run_in_threadpool(engine.retrieve, query, body.top_k, filters, body.mode)
    return {"search_query": query, "passages": [p.to_dict() for p in passages]}


@router.post("/ask", response_model=None)
async def ask(body: AskBody, service: Reader, request: Request
              ) -> dict[str, Any] | EventSourceResponse:
    """The checked answer: the same object as `meditron-rag ask --json`, with the search
    query used beside it. With `"stream": true`, server-sent events in order: `sources`
    (search_query, passages), `queue` (position, while waiting for the model), `token`
    (text), `verdicts`, then `answer` (the object); `error` if it fails on the way."""
    filters = await run_in_threadpool(filters_of, service.engine, body)
    query = query_of(body.question, body.messages, service.config.serve.follow_ups)
    turn = await begin(service, query, body.top_k, filters, body.max_tokens)
    if not body.stream:
        async for event in follow(turn, request):
            if isinstance(event.data, Answer):
                return {**event.data.to_dict(), "search_query": query}
        return {"detail": "the client went away"}

    async def events() -> AsyncIterator[dict[str, str]]:
        yield {"event": "sources", "data": _data({
            "search_query": query, "passages": [p.to_dict() for p in turn.passages]})}
        try:
            async for event in follow(turn, request):
                if event.kind == "queue":
                    yield {"event": "queue", "data": _data({"position": int(str(event.data))})}
                elif event.kind == "token":
                    yield {"event": "token", "data": _data({"text": event.data})}
                elif isinstance(event.data, Answer):
                    yield {"event": "verdicts", "data": _data(verdicts(event.data))}
                    yield {"event": "answer", "data": _data(event.data.to_dict())}
        except MeditronRagError as exc:
            yield {"event": "error", "data": _data({"detail": str(exc)})}

    return EventSourceResponse(events(), ping=service.config.serve.keepalive_s)
