"""The starter corpus is complete, attributed and consistent with its question set."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[1]
STARTER = ROOT / "corpora" / "starter"
SOURCES = ROOT / "corpora" / "pdf-sources"
REQUIRED = ("title", "organisation", "date", "url", "topic", "covers", "notice")


def front_matter(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    assert match, f"{path.name} has no front matter"
    return yaml.safe_load(match.group(1)), text[match.end():]


def markdown_documents() -> list[Path]:
    return sorted([*STARTER.glob("*.md"), *SOURCES.glob("*.md")])


def headings(body: str) -> set[str]:
    return {m.group(2).strip() for m in re.finditer(r"^(#{2,3})\s+(.*)$", body, re.M)}


def source_of(name: str) -> Path:
    """The Markdown behind a corpus file name (a PDF's source lives in pdf-sources/)."""
    path = Path(name)
    return SOURCES / f"{path.stem}.md" if path.suffix == ".pdf" else STARTER / name


@pytest.mark.parametrize("path", markdown_documents(), ids=lambda p: p.name)
def test_every_document_is_attributed(path):
    meta, body = front_matter(path)
    for key in REQUIRED:
        assert str(meta.get(key, "")).strip(), f"{path.name}: {key} is missing"
    assert re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", str(meta["date"])), meta["date"]
    assert str(meta["url"]).startswith("https://")
    assert "not the guideline itself" in meta["notice"]
    assert "## Sources" in body, f"{path.name} must list its sources at the end"
    assert 250 <= len(body.split()) <= 1200


def test_between_ten_and_twenty_documents_some_of_them_pdf():
    documents = [*STARTER.glob("*.md"), *STARTER.glob("*.pdf")]
    assert 10 <= len(documents) <= 20
    assert len(list(STARTER.glob("*.pdf"))) >= 2


@pytest.mark.parametrize("source", sorted(SOURCES.glob("*.md")), ids=lambda p: p.name)
def test_pdfs_are_built_from_their_sources(source):
    meta, body = front_matter(source)
    reader = PdfReader(STARTER / f"{source.stem}.pdf")
    assert reader.metadata["/Title"] == meta["title"]
    assert reader.metadata["/PublicationDate"] == str(meta["date"])
    text = " ".join(page.extract_text() for page in reader.pages)
    first_heading = next(iter(sorted(headings(body))))
    assert first_heading.split()[0] in text


def test_supersession_links_point_at_files_that_exist():
    for path in markdown_documents():
        meta, _ = front_matter(path)
        for key in ("supersedes", "superseded_by"):
            if key in meta:
                other = source_of(meta[key])
                assert other.exists(), f"{path.name}: {key} {meta[key]} does not exist"
                other_meta, _ = front_matter(other)
                assert other_meta["topic"] == meta["topic"]


def load_questions() -> list[dict]:
    lines = (STARTER / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_question_set_is_consistent_with_the_corpus():
    questions = load_questions()
    assert len(questions) >= 60
    assert len({q["id"] for q in questions}) == len(questions)
    for q in questions:
        assert q["question"].strip() and q["answer"].strip()
        if not q["answerable"]:
            assert q["expected_documents"] == [] and q["expected_section"] == ""
            continue
        for name in q["expected_documents"]:
            assert (STARTER / name).exists(), f"{q['id']}: {name} is not in corpora/starter"
            _, body = front_matter(source_of(name))
            assert q["expected_section"] in headings(body), (
                f"{q['id']}: no section '{q['expected_section']}' in {name}")


def test_post_cutoff_share_and_unanswerable_questions():
    questions = load_questions()
    post = [q for q in questions if q["post_cutoff"]]
    assert len(post) * 3 >= len(questions)
    assert sum(not q["answerable"] for q in questions) >= 5
    dates = {}
    for q in post:
        for name in q["expected_documents"]:
            meta, _ = front_matter(source_of(name))
            dates[name] = str(meta["date"])
    assert all(d > "2023-08" for d in dates.values()), dates
