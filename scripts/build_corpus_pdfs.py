"""Build the starter corpus's PDF documents from their Markdown sources.

corpora/pdf-sources/NAME.md -> corpora/starter/NAME.pdf, with the front matter in the PDF's
info dictionary (Title, Author = organisation, PublicationDate, SourceURL, Topic, ...) and one
bookmark per heading, so the PDF loader is exercised on real pagination, outlines and
metadata. Run with `make corpus-pdfs` after editing a source; the PDFs are committed.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import yaml
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "corpora" / "pdf-sources"
TARGET = ROOT / "corpora" / "starter"
LATIN = str.maketrans({"–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"',
                       "≥": ">=", "≤": "<=", "•": "-", "…": "...", "×": "x"})


def _plain(text: str) -> str:
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 (\2)", text)
    return text.translate(LATIN).encode("latin-1", "replace").decode("latin-1")


def split_front_matter(source: str) -> tuple[dict[str, str], str]:
    match = re.match(r"^---\n(.*?)\n---\n", source, re.S)
    if not match:
        raise SystemExit("a PDF source needs YAML front matter")
    return yaml.safe_load(match.group(1)), source[match.end():]


class _Digest(FPDF):
    """An A4 page with the organisation and page number in its footer."""

    def __init__(self, org: str) -> None:
        super().__init__(format="A4")
        self.org = org

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("Helvetica", "", 8)
        self.cell(0, 5, f"{self.org} - study digest - page {self.page_no()}", align="C")


def render(meta: dict[str, str], body: str, out: Path) -> None:
    pdf = _Digest(_plain(meta.get("organisation", "")))
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=timezone.utc))  # reproducible bytes
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    for line in body.splitlines():
        text = line.rstrip()
        heading = re.match(r"^(#{1,3})\s+(.*)", text)
        if heading:
            level, title = len(heading.group(1)), _plain(heading.group(2))
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", {1: 16, 2: 13, 3: 11}[level])
            pdf.start_section(title, level=level - 1)
            pdf.multi_cell(0, 7, title)
            pdf.ln(1)
        elif not text.strip():
            pdf.ln(2)
        else:
            bullet = re.match(r"^(\s*)([-*]|\d+\.)\s+(.*)", text)
            pdf.set_font("Helvetica", "", 10.5)
            if bullet:
                mark = "-" if bullet.group(2) in "-*" else bullet.group(2)
                pdf.set_x(26)
                pdf.multi_cell(0, 5.5, f"{mark} {_plain(bullet.group(3))}")
            else:
                pdf.multi_cell(0, 5.5, _plain(text))
    pdf.output(str(out))
    writer = PdfWriter(clone_from=PdfReader(out))
    writer.add_metadata({
        "/Title": meta.get("title", ""),
        "/Author": meta.get("organisation", ""),
        "/Subject": meta.get("covers", ""),
        "/PublicationDate": str(meta.get("date", "")),
        "/SourceURL": meta.get("url", ""),
        "/Topic": meta.get("topic", ""),
        "/Notice": meta.get("notice", ""),
    })
    with out.open("wb") as handle:
        writer.write(handle)


def main() -> int:
    for source in sorted(SOURCES.glob("*.md")):
        meta, body = split_front_matter(source.read_text(encoding="utf-8"))
        out = TARGET / f"{source.stem}.pdf"
        render(meta, body, out)
        print(f"{source.name} -> {out.relative_to(ROOT)} ({out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
