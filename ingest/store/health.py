"""Damage in a SQLite index: checked when it opens, and turned into one sentence that says
what to do, never a traceback and never an answer read from damaged pages."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from meditron_rag.errors import IndexDamagedError, IndexError_

TABLES = ("meta", "documents", "chunks", "terms", "migrations", "page_words")

_P = ParamSpec("_P")
_T = TypeVar("_T")


class _InFolder(Protocol):
    folder: Path


_S = TypeVar("_S", bound=_InFolder)


def damaged(folder: Path, what: str) -> IndexDamagedError:
    return IndexDamagedError(
        f"Index damaged in {folder} ({what}): run `meditron-rag ingest --rebuild DIR` on your "
        "documents' folder to build it anew."
    )


def sqlite_error(folder: Path, exc: sqlite3.Error) -> IndexError_:
    """The sentence for a failed SQLite call: a damaged file (malformed pages, a missing
    table) can only be rebuilt; anything else (a locked or failing disk) may pass."""
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and not any(
            word in text for word in ("no such", "malformed", "corrupt", "not a database")):
        return IndexError_(f"The index in {folder} cannot be used ({text}): check the disk and "
                           "that no other program holds the file, then try again.")
    return damaged(folder, text)


def guarded(method: Callable[Concatenate[_S, _P], _T]) -> Callable[Concatenate[_S, _P], _T]:
    """A store method whose SQLite errors become the one sentence that says what to do."""

    @functools.wraps(method)
    def wrapper(self: _S, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise sqlite_error(self.folder, exc) from None

    return wrapper


def check_pages(db: sqlite3.Connection, folder: Path) -> None:
    """SQLite's quick_check of every page: fast enough on a large index that each open can
    afford it, and a damaged page is found here rather than mid-answer or, worse,
    under an ingest that goes on adding documents."""
    problems = [row[0] for row in db.execute("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        raise damaged(folder, "; ".join(problems))


def check_tables(db: sqlite3.Connection, folder: Path) -> None:
    found = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = [name for name in TABLES if name not in found]
    if missing:
        raise damaged(folder, "no table " + ", ".join(missing))


def row_problems(query: Callable[..., list[Any]], dim: int) -> list[str]:
    """Problems in the stored rows, one sentence each: a document without all its chunks, a
    chunk without a document, a vector of the wrong size, missing or damaged term counts."""
    problems = []
    rows = query(
        "SELECT d.id, d.chunk_count, COUNT(c.id) FROM documents d "
        "LEFT JOIN chunks c ON c.document_id = d.id GROUP BY d.id"
    )
    for doc_id, expected, found in rows:
        if expected != found:
            problems.append(f"{doc_id}: {found} chunks stored, {expected} expected")
    orphans = query(
        "SELECT COUNT(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)"
    )[0][0]
    if orphans:
        problems.append(f"{orphans} chunks belong to no document")
    bad = query("SELECT COUNT(*) FROM chunks WHERE length(embedding) != ?", (dim * 4,))[0][0]
    if bad:
        problems.append(f"{bad} chunks have a vector of the wrong size")
    bad = query("SELECT COUNT(*) FROM chunks WHERE length(terms) % 8 != 0 "
                "OR (length(terms) = 0 AND length(text) > 200)")[0][0]
    if bad:
        problems.append(f"{bad} chunks have no or damaged term counts")
    return problems
