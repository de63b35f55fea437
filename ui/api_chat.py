"""`POST /v1/chat/completions`: meditron-rag as an OpenAI-compatible "model", for chat
front-ends and the `openai` client.

The reply's content is the checked answer with its numbered citations and a list of the cited
sources; only checked text is ever sent as content (a generative draft is checked before any
of it is). The response's `meditron_rag` field carries the search query, the sources, the
verdicts and the status; while a request waits for the model, stream chunks with an empty
delta carry its `queue_position` there.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from meditron_rag.errors import MeditronRagError
from rag import Answer
from ui.api import Reader
from ui.api_answers import verdicts
from ui.api_bodies import ChatBody, query_of
from ui.api_bodies import filters_of as checked_filters
from ui.api_stream import begin, follow

router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])


def reply(answer: Answer) -> str:
    """The answer as chat text: its numbered citations, then the sources they point to."""
    cited = answer.cited_passages() or answer.passages
    lines = [answer.text, "", "Sources:"] + [p.source_line() for p in cited]
    return "\n".join(lines + ["", answer.notice])


def extra(query: str, answer: Answer | None, passages: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"search_query": query,
                           "sources": [p.to_dict() for p in passages]}
    if answer is not None:
        out.update(verdicts(answer), status=answer.status, mode=answer.mode,
                   warnings=answer.warnings)
    return out


def _question(body: ChatBody) -> tuple[str, list[Any]]:
    users = [i for i, m in enumerate(body.messages) if m.role == "user" and m.text.strip()]
    if not users:
        raise HTTPException(422, "messages holds no user turn with text: ask a question.")
    last = users[-1]
    return body.messages[last].text, body.messages[:last]


@router.post("/chat/completions", response_model=None)
async def chat_completions(body: ChatBody, service: Reader, request: Request
                           ) -> dict[str, Any] | EventSourceResponse:
    """The last user turn answered from the guidelines, the earlier ones read for a
    follow-up's subject."""
    question, history = _question(body)
    filters = await run_in_threadpool(checked_filters, service.engine, body)
    query = query_of(question, history, service.config.serve.follow_ups)
    turn = await begin(service, query, body.top_k, filters, body.max_tokens)
    ident = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    model = body.model

    if not body.stream:
        answer = None
        async for event in follow(turn, request):
            if isinstance(event.data, Answer):
                answer = event.data
        if answer is None:
            raise HTTPException(503, "The client went away before the answer.")
        return {
            "id": ident, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": reply(answer)}}],
            "usage": {"prompt_tokens": answer.tokens.get("prompt", 0),
                      "completion_tokens": answer.tokens.get("completion", 0),
                      "total_tokens": sum(answer.tokens.values())},
            "meditron_rag": extra(query, answer, turn.passages),
        }

    def chunk(delta: dict[str, str], finish: str | None = None,
              more: dict[str, Any] | None = None) -> dict[str, str]:
        data: dict[str, Any] = {
            "id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        if more is not None:
            data["meditron_rag"] = more
        return {"data": json.dumps(data, ensure_ascii=False, default=str)}

    async def chunks() -> AsyncIterator[dict[str, str]]:
        yield chunk({"role": "assistant"}, more=extra(query, None, turn.passages))
        try:
            async for event in follow(turn, request):
                if event.kind == "queue":
                    yield chunk({}, more={"queue_position": int(str(event.data))})
                elif isinstance(event.data, Answer):
                    yield chunk({"content": reply(event.data)})
                    yield chunk({}, "stop", extra(query, event.data, turn.passages))
        except MeditronRagError as exc:
            yield chunk({"content": f"Error: {exc}"}, "stop")
        yield {"data": "[DONE]"}

    return EventSourceResponse(chunks(), ping=15)
