"""The app's side of a running `meditron-rag serve`: asks, the library, over HTTP.

With `ui.api_url` set the app loads no model and no index: it sends each question to the
server's `/v1/ask` and reads its server-sent events (sources, the place in the model's line,
tokens, the checked answer), so the app and every API client share one model and one line.
The records come back as the rag layer's own (`Passage`, `Answer`, `DocumentRecord`), so the
app draws them as it draws its own. The bearer token (MEDITRON_RAG_API_TOKEN or
serve.token_file) goes in a header and is never shown.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Generator, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from ingest import DocumentRecord
from ingest.page_words import PageWords
from meditron_rag.config import Config, api_token
from meditron_rag.errors import MeditronRagError
from rag import Answer, Filters, Passage
from rag.records import SentenceSupport
from ui.uploads import Batch, Passages, Progress, Upload

T = TypeVar("T")


def _record(kind: type[T], data: dict[str, Any]) -> T:
    """A dataclass from its `to_dict`, ignoring keys it does not know (a newer server's)."""
    names = {f.name for f in dataclasses.fields(kind)}  # type: ignore[arg-type]
    return kind(**{k: v for k, v in data.items() if k in names})


def passage_of(data: dict[str, Any]) -> Passage:
    passage = _record(Passage, data)
    passage.highlights = [(int(a), int(b)) for a, b in passage.highlights]
    return passage


def answer_of(data: dict[str, Any]) -> Answer:
    answer = _record(Answer, data)
    answer.passages = [passage_of(p) for p in data.get("passages", [])]
    answer.sentences = [_record(SentenceSupport, s) for s in data.get("sentences", [])]
    answer.rejected = [_record(SentenceSupport, s) for s in data.get("rejected", [])]
    return answer


@dataclasses.dataclass
class Step:
    """One step of an answer from the server: `search` (the query searched, str), `sources`
    (list of Passage), `queue` (the place in the line, int), `token` (str), `answer`."""

    kind: str
    data: str | int | list[Passage] | Answer


class ApiError(MeditronRagError):
    """The server refused or could not be reached; the message says which and what to do."""


class ApiClient:
    """One running `meditron-rag serve`, at `config.ui.api_url`."""

    def __init__(self, config: Config) -> None:
        if not config.ui.api_url:
            raise ApiError("ui.api_url is not set: there is no API to talk to.")
        self.url = config.ui.api_url
        token = api_token(config)
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = httpx.Timeout(config.ui.api_timeout_s, connect=10.0)

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = httpx.request(method, self.url + path, headers=self._headers,
                                     timeout=self._timeout, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(f"The API at {self.url} cannot be reached ({type(exc).__name__}): "
                           "is `meditron-rag serve` running there?") from None
        return response

    @staticmethod
    def _refusal(response: httpx.Response) -> ApiError:
        """The server's own reason for a refusal, as an error the app shows."""
        try:
            detail = response.json().get("detail", "")
        except (ValueError, AttributeError):
            detail = ""
        if response.status_code == 429:
            wait = response.headers.get("Retry-After", "a few")
            return ApiError(f"The model is busy with a full line of questions: ask again in "
                            f"{wait} s.")
        text = detail if isinstance(detail, str) else json.dumps(detail)
        reason = text or response.reason_phrase
        return ApiError(f"The API answered {response.status_code}: {reason}")

    def health(self) -> dict[str, Any]:
        response = self._request("GET", "/healthz")
        if response.status_code != 200:
            raise self._refusal(response)
        health: dict[str, Any] = response.json()
        return health

    def documents(self) -> list[DocumentRecord]:
        response = self._request("GET", "/v1/documents")
        if response.status_code != 200:
            raise self._refusal(response)
        return [_record(DocumentRecord, d) for d in response.json()]

    def page_words(self, doc_id: str, page: int) -> PageWords | None:
        """The words OCR read on a scanned page; None for a page read from its text layer (or
        a server too old to say)."""
        response = self._request("GET", f"/v1/documents/{quote(doc_id)}/pages/{page}/words")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._refusal(response)
        try:
            return PageWords.from_dict(response.json())
        except ValueError:
            return None

    def upload(self, uploads: Sequence[Upload], replaces: str = "",
               progress: Progress | None = None, passages: Passages | None = None) -> Batch:
        """What the server did with the files: its summary, each refusal with its reason.
        The ingest is streamed, so however long it takes, the wait for each next event (a
        file done, passages embedded, a keep-alive) is what `ui.api_timeout_s` bounds."""
        files = [("files", (u.name, u.data)) for u in uploads]
        form = {"stream": "true", **({"replaces": replaces} if replaces else {})}
        try:
            with httpx.stream("POST", self.url + "/v1/documents", files=files, data=form,
                              headers=self._headers, timeout=self._timeout) as response:
                if response.status_code != 200:
                    response.read()
                    raise self._refusal(response)
                for kind, data in self._events(response.iter_lines()):
                    if kind == "file" and progress is not None:
                        progress(data["name"], data["done"], data["total"], data["status"])
                    elif kind == "passages" and passages is not None:
                        passages(data["name"], data["embedded"], data["found"], data["per_s"])
                    elif kind == "error":
                        raise ApiError(str(data.get("detail", "The upload failed.")))
                    elif kind == "done":
                        return Batch(summary=data["summary"], done=list(data["documents"]),
                                     failures=[(f["name"], f["reason"])
                                               for f in data["failures"]])
        except httpx.HTTPError as exc:
            raise ApiError(f"The API at {self.url} stopped answering during the upload "
                           f"({type(exc).__name__}): the files may still be indexed there; "
                           "look at the library before sending them again.") from None
        raise ApiError(f"The API at {self.url} closed the upload before saying what it did: "
                       "look at the library before sending the files again.")

    def remove(self, doc_id: str) -> bool:
        response = self._request("DELETE", f"/v1/documents/{doc_id}")
        if response.status_code == 404:
            return False
        if response.status_code != 204:
            raise self._refusal(response)
        return True

    def ask(self, question: str, earlier: Sequence[str], top_k: int, filters: Filters,
            max_tokens: int) -> Generator[Step, None, None]:
        """The answer as the server streams it; `earlier` are the conversation's questions."""
        body = {"question": question, "top_k": top_k, "max_tokens": max_tokens, "stream": True,
                "messages": [{"role": "user", "content": q} for q in earlier],
                "doc": filters.documents, "org": filters.organisations,
                "since": filters.date_from or None, "until": filters.date_to or None}
        try:
            with httpx.stream("POST", self.url + "/v1/ask", json=body, headers=self._headers,
                              timeout=self._timeout) as response:
                if response.status_code != 200:
                    response.read()
                    raise self._refusal(response)
                yield from self._steps(response.iter_lines())
        except httpx.HTTPError as exc:
            raise ApiError(f"The API at {self.url} stopped answering ({type(exc).__name__}): "
                           "is `meditron-rag serve` still running?") from None

    @staticmethod
    def _events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """Server-sent events as (event, data); keep-alive comments are skipped."""
        kind = ""
        for line in lines:
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                yield kind, json.loads(line.split(":", 1)[1])

    @classmethod
    def _steps(cls, lines: Iterator[str]) -> Iterator[Step]:
        for kind, data in cls._events(lines):
            if kind == "sources":
                yield Step("search", str(data["search_query"]))
                yield Step("sources", [passage_of(p) for p in data["passages"]])
            elif kind == "queue":
                yield Step("queue", int(data["position"]))
            elif kind == "token":
                yield Step("token", str(data["text"]))
            elif kind == "answer":
                yield Step("answer", answer_of(data))
            elif kind == "error":
                raise ApiError(str(data.get("detail", "The API failed to answer.")))
