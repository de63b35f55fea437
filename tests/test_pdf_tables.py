"""Ruled tables in PDFs kept as Markdown tables: real PDFs drawn by fpdf2 in the test."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from ingest.chunking import chunk_document
from ingest.loaders import load_document
from ingest.pdf_tables import Table
from meditron_rag.config import PdfConfig

ROWS = [
    ("Weight", "Amoxicillin dose", "Doses per day"),
    ("10 to 14 kg", "250 mg", "2"),
    ("15 to 19 kg", "375 mg", "2"),
    ("20 to 29 kg", "500 mg", "2"),
    ("30 kg or more", "1000 mg", "2"),
]


def table_pdf(path: Path) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Children with pneumonia should receive oral amoxicillin for five "
                         "days. Give the dose for the child's weight from the table below.")
    pdf.ln(4)
    pdf.cell(0, 6, "Table 2: Oral amoxicillin by weight", new_x="LMARGIN", new_y="NEXT")
    with pdf.table(first_row_as_headings=True) as table:
        for row in ROWS:
            table.row(row)
    pdf.ln(4)
    pdf.multi_cell(0, 6, "Review the child after three days of treatment.")
    path.write_bytes(bytes(pdf.output()))
    return path


def test_a_ruled_table_becomes_a_markdown_table_with_its_caption(tmp_path: Path) -> None:
    doc = load_document(table_pdf(tmp_path / "dose.pdf"))
    expected = "\n".join([
        "Table 2: Oral amoxicillin by weight",
        "| Weight | Amoxicillin dose | Doses per day |",
        "| --- | --- | --- |",
        "| 10 to 14 kg | 250 mg | 2 |",
        "| 15 to 19 kg | 375 mg | 2 |",
        "| 20 to 29 kg | 500 mg | 2 |",
        "| 30 kg or more | 1000 mg | 2 |",
    ])
    assert expected in doc.text
    assert doc.text.count("375 mg") == 1  # the flattened cells are gone
    assert doc.text.count("Table 2") == 1
    assert doc.text.index("five days") < doc.text.index("Table 2") < doc.text.index("three days")


def test_a_split_table_repeats_its_caption_and_header_in_every_chunk(tmp_path: Path) -> None:
    doc = load_document(table_pdf(tmp_path / "dose.pdf"), pdf=PdfConfig(table_chars=150))
    chunks = chunk_document(doc, lambda text: len(text.split()), chunk_tokens=40,
                            overlap_tokens=0)
    rows = [c for c in chunks if "kg |" in c.text]
    assert len(rows) >= 2
    for chunk in rows:
        assert "| Weight | Amoxicillin dose | Doses per day |" in chunk.text
        assert "Table 2: Oral amoxicillin by weight" in chunk.text
        assert chunk.page_start == 1
    assert "(continued)" in rows[-1].text


def test_tables_off_keeps_the_flattened_text(tmp_path: Path) -> None:
    doc = load_document(table_pdf(tmp_path / "dose.pdf"), pdf=PdfConfig(tables=False))
    assert "| --- |" not in doc.text and "375 mg" in doc.text


def test_markdown_pieces() -> None:
    table = Table(1, [["a", "b"], ["1", "x"], ["2", "z"]], "Table 9: T")
    assert table.markdown(1000) == ["Table 9: T\n| a | b |\n| --- | --- |\n| 1 | x |\n| 2 | z |"]
    assert table.markdown(10) == [
        "Table 9: T\n| a | b |\n| --- | --- |\n| 1 | x |",
        "Table 9: T (continued)\n| a | b |\n| --- | --- |\n| 2 | z |",
    ]
    untitled = Table(1, [["a", "b"], ["1", "x"], ["2", "z"]]).markdown(10)
    assert untitled[1] == "(continued)\n| a | b |\n| --- | --- |\n| 2 | z |"  # not a new table


def test_a_cell_read_across_its_line_break_keeps_its_words_and_hyphens(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    rows = [("Surface", "Product"), ("Exam table", "EPA-\nregistered hospital disinfectant"),
            ("Instruments", "Enzymatic cleaner, then high-\nlevel disinfection"),
            ("Floors", "Detergent"), ("Linen", "Hot wash"), ("Sharps", "Puncture-proof bin")]
    with pdf.table(first_row_as_headings=True, col_widths=(30, 60)) as table:
        for row in rows:  # six rows of two boxes: enough lines to be searched for a table
            table.row(row)
    path = tmp_path / "cells.pdf"
    path.write_bytes(bytes(pdf.output()))
    text = load_document(path).text
    assert "| Exam table | EPA-registered hospital disinfectant |" in text
    assert "| Instruments | Enzymatic cleaner, then high-level disinfection |" in text


def test_a_page_with_lines_but_no_grid_has_no_table(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for i in range(14):  # rules under headings: many lines, no cells
        pdf.cell(0, 8, f"Section {i + 1}. Hand hygiene before patient contact.",
                 new_x="LMARGIN", new_y="NEXT")
        pdf.line(10, pdf.get_y(), 200, pdf.get_y())
    path = tmp_path / "rules.pdf"
    path.write_bytes(bytes(pdf.output()))
    doc = load_document(path)
    assert "| --- |" not in doc.text and doc.text.count("Hand hygiene") == 14
