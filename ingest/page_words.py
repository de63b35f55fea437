"""An OCR'd page's words with their boxes and confidences, kept at ingest for two readers: the
page viewer, which boxes a cited sentence on a scan (a page with no text layer to search), and
each chunk from an OCR'd page, which carries the mean confidence of its own words.

A page is stored compactly (`encode`): the boxes as 16-bit pixels of the image the engine
read, column by column, with that image's resolution beside them so they map onto a page
rendered at any scale; each confidence as a whole percent in one byte; the words' text once;
the whole compressed with zlib.
"""

from __future__ import annotations

import functools
import re
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ingest.ocr import OcrPage

Box = tuple[float, float, float, float]  # left, top, right, bottom in points from top left

_FORMAT = 1  # the first byte of an encoded page; a later layout gets another number
_HEADER = struct.Struct("<BHI")  # format, dpi, words


def squash(text: str) -> str:
    """Letters and digits only, lowercased: how a cited sentence is matched against a page,
    whatever the index's cleaning did to spaces, hyphens and punctuation."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def ocr_note(confidence: float) -> str:
    """How a passage read by OCR is marked beside its source: a scan's words may be misread."""
    return f"scanned, read by OCR with confidence {confidence:.2f}"


def merge_lines(boxes: Iterable[Box]) -> list[Box]:
    """Boxes in reading order merged line by line: a box that shares most of its height with
    the one before widens it (a font or an engine may give a line's pieces in any order)."""
    merged: list[Box] = []
    for box in boxes:
        last = merged[-1] if merged else None
        if last and min(last[3], box[3]) - max(last[1], box[1]) > 0.5 * (box[3] - box[1]):
            merged[-1] = (min(last[0], box[0]), min(last[1], box[1]), max(last[2], box[2]),
                          max(last[3], box[3]))
        else:
            merged.append(box)
    return merged


@dataclass(frozen=True)
class PageWords:
    """A page's words in the engine's reading order; `boxes` (n, 4) uint16 left, top, right,
    bottom in pixels of the image read at `dpi`; `confidences` (n,) uint8 percents."""

    dpi: int
    texts: tuple[str, ...]
    boxes: np.ndarray
    confidences: np.ndarray

    @classmethod
    def from_ocr(cls, page: OcrPage, dpi: int) -> PageWords:
        boxes = np.array([w.box for w in page.words], dtype=np.int64).reshape(-1, 4)
        confidences = np.array([round(w.confidence * 100) for w in page.words], dtype=np.int64)
        return cls(dpi, tuple(w.text for w in page.words),
                   np.clip(boxes, 0, 65535).astype(np.uint16),
                   np.clip(confidences, 0, 100).astype(np.uint8))

    def encode(self) -> bytes:
        body = (_HEADER.pack(_FORMAT, self.dpi, len(self.texts))
                + self.boxes.astype("<u2").T.tobytes() + self.confidences.tobytes()
                + "\n".join(self.texts).encode("utf-8"))
        return zlib.compress(body, 9)

    @classmethod
    def decode(cls, data: bytes) -> PageWords:
        """A page from `encode`'s bytes; ValueError when they are not such a page."""
        try:
            body = zlib.decompress(data)
            form, dpi, n = _HEADER.unpack_from(body)
        except (zlib.error, struct.error) as exc:
            raise ValueError(f"not an OCR page record ({exc})") from None
        if form != _FORMAT:
            raise ValueError(f"OCR page record of format {form}, not {_FORMAT}")
        at = _HEADER.size
        boxes = np.frombuffer(body, "<u2", 4 * n, at).reshape(4, n).T.astype(np.uint16)
        at += 8 * n
        confidences = np.frombuffer(body, np.uint8, n, at).copy()
        texts = tuple(body[at + n:].decode("utf-8").split("\n")) if n else ()
        if len(texts) != n:
            raise ValueError(f"OCR page record with {len(texts)} words for {n} boxes")
        return cls(dpi, texts, boxes, confidences)

    def to_dict(self) -> dict[str, object]:
        """The page as JSON: boxes as [left, top, right, bottom] pixels at `dpi`, confidences
        as percents."""
        return {"dpi": self.dpi, "words": list(self.texts), "boxes": self.boxes.tolist(),
                "confidences": self.confidences.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PageWords:
        """A page from `to_dict`'s JSON; ValueError when it is not one."""
        try:
            texts = tuple(str(t) for t in data["words"])
            boxes = np.array(data["boxes"], dtype=np.uint16).reshape(len(texts), 4)
            confidences = np.array(data["confidences"], dtype=np.uint8).reshape(len(texts))
            return cls(int(data["dpi"]), texts, boxes, confidences)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an OCR page ({exc})") from None

    @functools.cached_property
    def squashed(self) -> tuple[str, list[int]]:
        """The page's letters and digits, lowercased, with each one's word index."""
        chars: list[str] = []
        where: list[int] = []
        for index, text in enumerate(self.texts):
            part = squash(text)
            chars.append(part)
            where.extend([index] * len(part))
        return "".join(chars), where

    def find(self, text: str) -> list[int]:
        """The indexes of the words that hold `text` (matched by its letters and digits), the
        first place it occurs; [] where it does not."""
        target = squash(text)
        squashed, where = self.squashed
        at = squashed.find(target) if target else -1
        return sorted(set(where[at:at + len(target)])) if at >= 0 else []

    def confidence(self, indexes: Sequence[int]) -> float:
        """Mean confidence of these words, 0 to 1."""
        return float(self.confidences[list(indexes)].mean()) / 100 if len(indexes) else 0.0

    def line_boxes(self, indexes: Sequence[int]) -> list[Box]:
        """The words' boxes in PDF points, merged one a line."""
        points = self.boxes[list(indexes)].astype(np.float64) * 72 / self.dpi
        return merge_lines((float(a), float(b), float(c), float(d)) for a, b, c, d in points)
