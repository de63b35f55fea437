"""`GET/POST/DELETE /v1/documents`: the library, over HTTP. Uploads pass the app's checks
(name, type, size, content: ui/uploads.py) and its limits, a PDF's and any other file's; one
ingest runs at a time.

Starlette keeps each uploaded file in a temporary file (in memory up to 1 MB) whatever its
size, before the route runs; the route reads no more of a file into memory than its limit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Response, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ui.api import Reader, Writer
from ui.uploads import Upload, check_upload, save_and_ingest, upload_limit
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
                                               "replaces, removed once it is in.")] = ""
                 ) -> dict[str, Any] | JSONResponse:
    """Check, save and ingest the files. 201 when some are in; 422 when none is, with each
    file's reason; 409 while another upload is being indexed."""
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
    batch = await run_in_threadpool(save_and_ingest, service.engine, uploads,
                                    service.ingest_lock, replaces) if uploads else None
    failures = refused + (batch.failures if batch else [])
    body = {"summary": batch.summary if batch else "Nothing to ingest.",
            "documents": batch.done if batch else [],
            "failures": [{"name": n, "reason": r} for n, r in failures]}
    if batch and batch.done:
        return body
    busy = any("another upload is being indexed" in r for _, r in failures)
    return JSONResponse(body, status_code=409 if busy else 422)


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
