"""The child process that reads PDFs for an ingest (see ingest.parsing): it takes a pickled
(file, limits and PDF settings) on stdin and answers each with the file parsed, or with why it
cannot be, pickled on stdout. Run as `python -m ingest.parse_child` by the ingest only."""

from __future__ import annotations

import os
import pickle
import sys

from ingest.parsing import READY, load_item


def main() -> None:
    # pytesseract imports pandas whenever it is installed (Streamlit installs it), for a
    # DataFrame output that OCR here never asks for: 67 MB this process has no other use for.
    sys.modules.setdefault("pandas", None)  # type: ignore[arg-type]
    # The parsers a PDF needs, imported before the child says it is ready for one.
    import pdfplumber.table  # noqa: F401
    import pypdfium2  # noqa: F401

    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a library's print must not break replies
    requests = sys.stdin.buffer
    answers.write(READY)
    answers.flush()
    while True:
        try:
            item, reading = pickle.load(requests)
        except EOFError:  # the ingest is done
            return
        pickle.dump(load_item(item, reading), answers)
        answers.flush()


if __name__ == "__main__":
    main()
