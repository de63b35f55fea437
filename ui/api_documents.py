"""`GET/POST/DELETE /v1/documents`: the library, over HTTP. Uploads pass the app's checks
(name, type, size, content: ui/uploads.py) and its limits, a PDF's and any other file's; one
ingest runs at a time. A long ingest (a large or scanned PDF) can be streamed as server-sent
events, its progress and keep-alives, so no client or proxy gives up on a silent connection.

Starlette keeps each uploaded file in a temporary file (in memory up to 1 MB) whatever its
size, before the route runs; the route reads no more of a file into memory than its limit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Response, UploadFile
from fastapi.responses import JSONResponse
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from ui.api import Reader, Service, Writer
from ui.uploads import Batch, Upload, check_upload, save_and_ingest, upload_limit
from ui.uploads import remove as remove_document

router = APIRouter(prefix="/v1/documents", tags=["documents"])


@router.get("")
async def list_documents(service: Reader) -> list[dict[str, object]]:
    """Every document in the index, with its metadata and chunk count."""
    documents = await run_in_threadpool(service.engine.store.documents)
    return [d.to_dict() for d in documents]


@router.post("", status_code=201, response_model=None)
async def upload(service: Writer,
                 files: Annotated[list[UploadFile], File(description="PDF, HTML, Markdown or "
                                                         "text files.")],
                 replaces: Annotated[str, Form(description="A document id this upload "
                                               "replaces, removed once it is in.")] = "",
                 stream: Annotated[bool, Form(description="Server-sent events while the files "
                                              "are indexed: `file` as each is done, "
                                              "`passages` as its passages are embedded, then "
                                              "`done` with the outcome.")] = False
                 ) -> dict[str, Any] | JSONResponse | EventSourceResponse:
    """Check, save and ingest the files. 201 when some are in; 422 when none is, with each
    file's reason; 409 while another upload is being indexed. Streamed, the same outcome and
    its status come in the last event, `done`."""
    config = service.config
    uploads, refused = [], []
    for file in files:
        name = file.filename or ""
        head = await file.read(4096)
        # Read no more than its limit allows: a larger file is refused by its size.
        limit, _ = upload_limit(config, head)
        data = head + await file.read(limit + 1 - len(head))
        size = file.size if file.size is not None else len(data)
        if reason := check_upload(name, size, data[:4096], config):
            refused.append((name, reason))
        else:
            uploads.append(Upload(name, data))
    if stream:
        return EventSourceResponse(_ingest_events(service, uploads, refused, replaces),
                                   ping=config.serve.keepalive_s)
    batch = await run_in_threadpool(save_and_ingest, service.engine, uploads,
                                    service.ingest_lock, replaces) if uploads else None
    status, body = _outcome(batch, refused)
    return body if status == 201 else JSONResponse(body, status_code=status)


def _outcome(batch: Batch | None, refused: list[tuple[str, str]]
             ) -> tuple[int, dict[str, Any]]:
    """An upload's status and body: 201 when some file is in, else 409 (busy) or 422."""
    failures = refused + (batch.failures if batch else [])
    body = {"summary": batch.summary if batch else "Nothing to ingest.",
            "documents": batch.done if batch else [],
            "failures": [{"name": n, "reason": r} for n, r in failures]}
    if batch and batch.done:
        return 201, body
    busy = any("another upload is being indexed" in r for _, r in failures)
    return (409 if busy else 422), body


async def _ingest_events(service: Service, uploads: list[Upload],
                         refused: list[tuple[str, str]], replaces: str
                         ) -> AsyncIterator[dict[str, str]]:
    """The ingest in a worker thread, its progress carried to the event loop as it happens.
    A client that goes away does not stop it: the files still land in the library."""
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[dict[str, str] | None] = asyncio.Queue()

    def send(event: str, data: dict[str, Any] | None) -> None:
        """Hand an event to the loop; once the server has shut its loop, the ingest goes on."""
        item = {"event": event, "data": json.dumps(data)} if data is not None else None
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(events.put_nowait, item)

    def progress(name: str, n: int, total: int, status: str) -> None:
        send("file", {"name": name, "done": n, "total": total, "status": status})

    def passages(name: str, embedded: int, found: int, per_s: float) -> None:
        send("passages", {"name": name, "embedded": embedded, "found": found,
                          "per_s": round(per_s, 2)})

    def work() -> None:
        try:
            batch = save_and_ingest(service.engine, uploads, service.ingest_lock, replaces,
                                    progress, passages) if uploads else None
            status, body = _outcome(batch, refused)
            send("done", {"status": status, **body})
        except Exception as exc:  # a bug, not a refusal: the client hears of it, then the log
            send("error", {"detail": f"The upload failed: {exc}"})
            raise
        finally:
            send("end", None)

    threading.Thread(target=work, name="upload", daemon=True).start()
    while (event := await events.get()) is not None:
        yield event


@router.get("/{doc_id}/pages/{page}/words")
async def page_words(doc_id: str, page: int, service: Reader) -> dict[str, object]:
    """The words OCR read on a scanned page, with their boxes (pixels of the image read at
    `dpi`) and confidences: what the app needs to box a cited sentence on a scan. 404 for a
    page read from its text layer."""
    words = await run_in_threadpool(service.engine.store.page_words, doc_id, page)
    if words is None:
        raise HTTPException(404, f"Page {page} of {doc_id!r} was not read by OCR.")
    return words.to_dict()


@router.delete("/{doc_id}", status_code=204)
async def delete(doc_id: str, service: Writer) -> Response:
    """Remove a document and its passages; 404 if there is none by that id."""
    if not await run_in_threadpool(remove_document, service.engine, doc_id,
                                   service.ingest_lock):
        raise HTTPException(404, f"No document {doc_id!r}: GET /v1/documents lists the ids.")
    return Response(status_code=204)
