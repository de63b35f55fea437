"""Fitting passages into a small context window, counted in the generator's own tokens.

The window must hold the prompt (instructions, worked example, passages, question) and
leave `answer_tokens` free. Passages go in by rank; the one that no longer fits is trimmed at a
sentence boundary rather than dropped, and the best passage is never dropped. Whatever is
left out is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from meditron_rag.text import clause_spans

MIN_PASSAGE_TOKENS = 24


@dataclass
class Packed:
    """The prompt that fits, which passages it holds (and how much of each), what was cut."""

    prompt: str
    prompt_tokens: int
    texts: dict[int, str]  # passage index -> the text that went in
    trimmed: list[int] = field(default_factory=list)
    left_out: list[int] = field(default_factory=list)


def trim_to_sentences(text: str, budget: int, count: Callable[[str], int]) -> str:
    """The longest run of whole leading sentences of `text` that fits `budget` tokens; if not
    even the first sentence fits, its leading words, ending in an ellipsis."""
    best = ""
    for _, end in clause_spans(text):
        candidate = text[:end]
        if count(candidate) > budget:
            break
        best = candidate
    if best:
        return best
    words = text.split()
    lo, hi = 0, len(words)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(" ".join(words[:mid]) + " …") <= budget:
            lo = mid
        else:
            hi = mid - 1
    return " ".join(words[:lo]) + " …" if lo else ""


def pack(
    render: Callable[[list[str]], str],
    passages: Sequence[str],
    count: Callable[[str], int],
    window: int,
    answer_tokens: int,
) -> Packed:
    """Choose how much of each passage goes into the prompt.

    `render(texts)` builds the whole prompt from the chosen passage blocks; its token count
    (by `count`) plus `answer_tokens` never exceeds `window`. Raises ValueError when even the
    prompt with no passage does not fit.
    """
    limit = window - answer_tokens
    empty_tokens = count(render([]))
    if empty_tokens > limit:
        raise ValueError(
            f"the prompt without passages takes {empty_tokens} tokens; the window of {window} "
            f"leaves {limit} after {answer_tokens} for the answer"
        )
    chosen: dict[int, str] = {}
    trimmed: list[int] = []
    for i, text in enumerate(passages):
        candidate = {**chosen, i: text}
        if count(render(list(candidate.values()))) <= limit:
            chosen = candidate
            continue
        spare = limit - count(render(list(chosen.values())))
        if spare >= MIN_PASSAGE_TOKENS or not chosen:
            # Shrink until the rendered prompt fits: token counts of parts do not add exactly.
            budget = spare
            while budget > 0:
                cut = trim_to_sentences(text, budget, count)
                if cut and count(render([*chosen.values(), cut])) <= limit:
                    chosen[i] = cut
                    trimmed.append(i)
                    break
                budget -= max(4, budget // 8)
        break
    prompt = render(list(chosen.values()))
    left_out = [i for i in range(len(passages)) if i not in chosen]
    return Packed(prompt, count(prompt), chosen, trimmed, left_out)
