"""A cited sentence found on its PDF page, with boxes over its words: real PDFs by fpdf2."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from ingest.pdf_locate import locate, render_page

FIRST = "Wash hands before touching a patient."
SECOND = ("Health workers should clean their hands with an alcohol-based hand rub after "
          "touching the surroundings of a patient, and with soap and water when hands are "
          "visibly soiled.")


def two_pages(path: Path) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(80, 7, FIRST)
    pdf.add_page()
    pdf.multi_cell(80, 7, "Hand hygiene. " + SECOND)  # wraps over several lines
    path.write_bytes(bytes(pdf.output()))
    return path


def test_a_sentence_is_boxed_line_by_line_on_its_page(tmp_path: Path) -> None:
    path = two_pages(tmp_path / "guide.pdf")
    found = locate(path, [1, 2], SECOND.replace("alcohol-based", "alcohol- based"))
    assert found is not None and found.page == 2
    assert len(found.boxes) >= 3  # one box a line
    tops = [box[1] for box in found.boxes]
    assert tops == sorted(tops) and all(box[0] < box[2] for box in found.boxes)
    column = (10 * 72 / 25.4, 90 * 72 / 25.4)  # the 80 mm cell after the 10 mm margin
    assert all(column[0] - 1 <= box[0] and box[2] <= column[1] + 1 for box in found.boxes)
    assert locate(path, [1], SECOND) is None
    assert locate(path, [1, 2], FIRST) is not None
    image = render_page(path, found.page, found.boxes, scale=1.0)
    left, top, right, bottom = (round(v) for v in found.boxes[0])
    assert image.getpixel(((left + right) // 2, top - 1)) != (255, 255, 255)  # the outline


def test_a_missing_file_or_an_empty_sentence_is_not_found(tmp_path: Path) -> None:
    assert locate(tmp_path / "gone.pdf", [1], FIRST) is None
    assert locate(two_pages(tmp_path / "guide.pdf"), [1], " .. ") is None
