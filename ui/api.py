"""`meditron-rag serve`: the HTTP API, for other tools to search, ask and manage documents.

One process holds one `Engine` (the models, the index) and one line for the model
(`rag.queue`); the routes are in ui/api_answers.py, ui/api_chat.py and ui/api_documents.py.
Writes need the bearer token (MEDITRON_RAG_API_TOKEN or serve.token_file); reads need it too
with serve.token_for_reads. The token is compared in constant time and never logged or echoed.
"""

from __future__ import annotations

import hmac
import threading
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from meditron_rag import NOT_FOR_CLINICAL_USE, __version__
from meditron_rag.config import API_TOKEN_ENV, Config, api_token
from meditron_rag.errors import MeditronRagError, QuestionError
from rag import Engine
from rag.queue import GenerationQueue

_bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


class Service:
    """What every request shares: the config, the engine, the model's line, the ingest lock."""

    def __init__(self, config: Config, engine: Engine | None = None) -> None:
        self.config = config
        self.engine = engine or Engine(config)
        self.queue = GenerationQueue(config.serve.queue_waiting, config.serve.retry_after_s)
        self.ingest_lock = threading.Lock()
        self.token = api_token(config)

    def check(self, credentials: HTTPAuthorizationCredentials | None, write: bool) -> None:
        """401 without a token, 403 with a wrong one, or for a write when none is set."""
        if not write and not self.config.serve.token_for_reads:
            return
        if write and not self.token:
            raise HTTPException(403, f"This server is read-only: set {API_TOKEN_ENV} or "
                                     "serve.token_file to allow uploads and removals.")
        if credentials is None:
            raise HTTPException(401, "Send the API token: Authorization: Bearer TOKEN.",
                                headers={"WWW-Authenticate": "Bearer"})
        if not hmac.compare_digest(credentials.credentials.encode(), self.token.encode()):
            raise HTTPException(403, "The API token is not valid.")


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def reader(request: Request, credentials: Credentials) -> Service:
    """The service, for a request that reads (the token only with serve.token_for_reads)."""
    service = service_of(request)
    service.check(credentials, write=False)
    return service


def writer(request: Request, credentials: Credentials) -> Service:
    """The service, for a request that changes the index (the token always)."""
    service = service_of(request)
    service.check(credentials, write=True)
    return service


Reader = Annotated[Service, Depends(reader)]
Writer = Annotated[Service, Depends(writer)]


class TokenBeforeBody:
    """Checks the token of a request that would change the library before its body is read.
    FastAPI parses an upload's form, and Starlette spools every file in it to a temporary file
    with no size limit, before the route's `Writer` check runs: without this, a client with no
    token could fill the server's disk."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] in ("POST", "DELETE")
                and scope["path"].startswith("/v1/documents")):
            header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            scheme, _, token = header.partition(" ")
            credentials = (HTTPAuthorizationCredentials(scheme=scheme, credentials=token.strip())
                           if scheme.lower() == "bearer" and token.strip() else None)
            try:
                scope["app"].state.service.check(credentials, write=True)
            except HTTPException as exc:
                refusal = JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                       headers=exc.headers)
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(config: Config, engine: Engine | None = None) -> FastAPI:
    """The API's ASGI app; `engine` lets a caller that holds one share it."""
    from ui.api_answers import router as answers
    from ui.api_chat import router as chat
    from ui.api_documents import router as documents

    app = FastAPI(title="meditron-rag", version=__version__,
                  description=f"Answers from clinical guidelines with checkable sources. "
                              f"{NOT_FOR_CLINICAL_USE}")
    app.state.service = Service(config, engine)
    app.add_middleware(TokenBeforeBody)  # inside CORS, so a refusal carries its headers
    if config.serve.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=config.serve.cors_origins,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])

    @app.exception_handler(MeditronRagError)
    async def product_error(request: Request, exc: MeditronRagError) -> JSONResponse:
        status = 400 if isinstance(exc, QuestionError) else 500
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.get("/healthz", tags=["service"])
    def healthz(request: Request) -> dict[str, object]:
        """Alive, with the model's line: how many hold or wait for it, and the room left."""
        service = service_of(request)
        return {"status": "ok", "version": __version__, "model": config.llm.model,
                "queue": {"length": service.queue.length,
                          "waiting_max": service.queue.waiting}}

    for router in (answers, chat, documents):
        app.include_router(router)
    return app


def serve(config: Config, host: str, port: int) -> None:
    """Serve the API at http://host:port until interrupted."""
    import uvicorn

    uvicorn.run(create_app(config), host=host, port=port, log_level="info")
