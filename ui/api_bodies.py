"""The bodies the HTTP API takes, checked as the CLI checks its flags: a filter that can match
nothing is an error (422), not an answer saying that no passage supports one."""

from __future__ import annotations

import datetime
from typing import Literal

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field

from rag import Engine, Filters
from rag.followup import search_query

DATE_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"


class Message(BaseModel):
    """One turn of a conversation, as the OpenAI chat protocol writes it."""

    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, object]] | None = None

    @property
    def text(self) -> str:
        """The turn's text (the text parts of a list of content parts)."""
        if isinstance(self.content, list):
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class FilterBody(BaseModel):
    """The filters of `search` and `ask`: documents, organisations, a date range."""

    doc: list[str] = Field(default_factory=list, description="Only these document ids.")
    org: list[str] = Field(default_factory=list, description="Only these organisations.")
    since: str | None = Field(None, pattern=DATE_PATTERN, description="YYYY, YYYY-MM or "
                              "YYYY-MM-DD: only documents dated on or after.")
    until: str | None = Field(None, pattern=DATE_PATTERN, description="Only documents dated "
                              "on or before.")


class QuestionBody(FilterBody):
    """A question, with the conversation before it for follow-ups."""

    question: str = Field(description="The question (a follow-up too: see `messages`).")
    top_k: int | None = Field(None, ge=1, le=50, description="Passages to use.")
    messages: list[Message] = Field(
        default_factory=list, description="The conversation before the question (OpenAI "
        "roles): its user turns make a follow-up such as \"and for men?\" search as if "
        "the earlier subject were asked.")


class SearchBody(QuestionBody):
    mode: Literal["hybrid", "dense", "bm25"] | None = Field(None, description="Retriever.")


class AskBody(QuestionBody):
    max_tokens: int | None = Field(None, ge=16, le=4096, description="Cap on the answer.")
    stream: bool = Field(False, description="Server-sent events: sources, queue, token, "
                         "verdicts, answer.")


class ChatBody(FilterBody):
    """An OpenAI chat completion request; fields of that protocol we do not use are ignored."""

    model_config = ConfigDict(extra="allow")
    model: str = "meditron-rag"
    messages: list[Message]
    stream: bool = False
    max_tokens: int | None = Field(None, ge=16, le=4096)
    top_k: int | None = Field(None, ge=1, le=50)


def _date(value: str | None) -> str:
    if value is None:
        return ""
    year, month, day = ([int(x) for x in value.split("-")] + [1, 1])[:3]
    try:
        datetime.date(year, month, day)
    except ValueError:
        raise HTTPException(
            422, f"{value} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD.") from None
    return value


def filters_of(engine: Engine, body: FilterBody) -> Filters:
    """The body's filters, each checked against the index."""
    since, until = _date(body.since), _date(body.until)
    if since and until and since[:len(until)] > until:
        raise HTTPException(422, f"since {since} is after until {until}.")
    if body.doc:
        known = {d.id for d in engine.store.documents()}
        unknown = [d for d in body.doc if d not in known]
        if unknown:
            raise HTTPException(422, f"no document {', '.join(map(repr, unknown))} in the "
                                     "index: GET /v1/documents lists the ids.")
    return Filters(list(body.doc), list(body.org), since, until)


def query_of(question: str, history: list[Message], follow_ups: bool) -> str:
    """What to search for: the question, or with `follow_ups` the question read after the
    conversation's earlier user turns."""
    if not follow_ups:
        return question
    earlier = [m.text for m in history if m.role == "user" and m.text.strip()]
    return search_query([*earlier, question])
