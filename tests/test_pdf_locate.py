"""A cited sentence found on its PDF page, with boxes over its words: real PDFs by fpdf2."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from ingest.pdf_locate import locate, locate_words, render_page

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


HEAD, TAIL = "Discard single-dose vials after one use and never", (
    "reuse a needle or syringe for more than one patient.")
FILLER = " ".join(f"Rule {n}: clean and disinfect surfaces in patient care areas at least "
                  "daily, and whenever they are visibly contaminated." for n in range(1, 9))


def over_a_page_break(path: Path) -> Path:
    """A sentence that starts at the foot of page 1 and ends at the head of page 2, between a
    running header and a page number, as a guideline's body text flows."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.set_auto_page_break(False)
    for number, body in ((1, FILLER + HEAD), (2, TAIL + " " + FILLER)):
        pdf.add_page()
        pdf.cell(0, 10, "Infection prevention guide", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(30)
        pdf.multi_cell(0, 7, body)
        pdf.set_y(277)
        pdf.cell(0, 10, str(number))
    path.write_bytes(bytes(pdf.output()))
    return path


def text_in(path: Path, page: int, boxes: list) -> str:  # type: ignore[type-arg]
    """The letters and digits of `page` whose character centres lie in `boxes`."""
    import pypdfium2 as pdfium

    from ingest.page_words import squash

    pdf = pdfium.PdfDocument(path)
    textpage = pdf[page - 1].get_textpage()
    height = pdf[page - 1].get_height()
    out = []
    for index in range(textpage.count_chars()):
        left, bottom, right, top = textpage.get_charbox(index)
        x, y = (left + right) / 2, height - (bottom + top) / 2
        if any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes):
            out.append(textpage.get_text_range(index, 1))
    pdf.close()
    return squash("".join(out))


def test_a_sentence_over_a_page_break_is_boxed_on_both_pages(tmp_path: Path) -> None:
    from ingest.page_words import squash

    path = over_a_page_break(tmp_path / "guide.pdf")
    found = locate(path, [1, 2], f"{HEAD} {TAIL}")
    assert found is not None and found.page == 1 and found.then is not None
    assert found.then.page == 2 and found.then.then is None
    assert text_in(path, 1, found.boxes) == squash(HEAD)
    assert text_in(path, 2, found.then.boxes) == squash(TAIL)
    assert locate(path, [2], f"{HEAD} {TAIL}") is None  # its start is not among the pages
    # Parts far from the foot of one page and the head of the next are no sentence.
    assert locate(path, [1, 2], f"{FILLER[:40]} {FILLER[-40:]}") is None


def test_across_break_wants_both_parts_near_the_break() -> None:
    from ingest.pdf_locate import MIN_PART, REACH, across_break

    foot, head = "x" * 2000 + "startsherefooter12", "headerthenendshere" + "y" * 2000
    assert across_break(foot, head, "startshere" + "thenendshere") == (2000, 10, 6)
    assert across_break(foot, head, "startshere" + "endsnowhere") is None
    far = "startshere" + "x" * (2 * REACH) + "footer"
    assert across_break(far + "x" * 2000, head, "startsherethenendshere") is None
    short = "x" * 10 + "theend"
    assert across_break(foot, short, "startshere" + "theend"[:MIN_PART - 1]) is None


def test_ocr_words_over_a_page_break_are_boxed_on_both_pages() -> None:
    import numpy as np

    from ingest.page_words import PageWords

    def page(texts: tuple[str, ...], top: int) -> PageWords:
        boxes = [[10 + 60 * i, top, 60 + 60 * i, top + 20] for i in range(len(texts))]
        return PageWords(72, texts, np.array(boxes, np.uint16),
                         np.full(len(texts), 90, np.uint8))

    pages = {1: page(("Keep", "vials", "closed", "and", "discard", "them", "after", "7"), 700),
             2: page(("Guide", "days", "of", "opening", "them."), 20)}
    found = locate_words([1, 2], pages.get, "Discard them after 7 days of opening them.")
    assert found is not None and found.page == 1 and found.then is not None
    assert found.boxes == [(250.0, 700.0, 480.0, 720.0)]
    assert found.then.page == 2 and found.then.boxes == [(70.0, 20.0, 300.0, 40.0)]
    assert locate_words([2], pages.get, "Discard them after 7 days of opening them.") is None


def page_view(path: str, sentence: str) -> None:
    """The app's page view of one passage over pages 1-2 of `path`, as an app of its own."""
    from rag.records import Passage
    from ui.app_page import show_page

    passage = Passage(chunk_id=1, document_id="guide", title="Guide", organisation="",
                      date="", url="", path=path, paginated=True, text="", section="",
                      page_start=1, page_end=2, char_start=0, char_end=0)
    show_page(passage, [sentence], "page", lambda doc_id, n: None)


def test_the_app_shows_both_pages_of_a_sentence_over_a_page_break(tmp_path: Path) -> None:
    from streamlit.testing.v1 import AppTest

    path = over_a_page_break(tmp_path / "guide.pdf")
    at = AppTest.from_function(page_view, args=(str(path), f"{HEAD} {TAIL}"),
                               default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    captions = [image.proto.imgs[0].caption for image in at.get("image")]
    assert captions == [
        "Page 1 of guide.pdf: the sentence the answer rests on is highlighted; it runs on to "
        "page 2, below.",
        "Page 2 of guide.pdf: the rest of the sentence."]
    at = AppTest.from_function(page_view, args=(str(path), HEAD), default_timeout=60).run()
    assert [image.proto.imgs[0].caption for image in at.get("image")] == [
        "Page 1 of guide.pdf: the sentence the answer rests on is highlighted."]
