"""Answers by constrained choice: the option a model scores highest after the prompt, closed-book
and with retrieved passages (the method is in `rag.evaluation.harness`'s docstring)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from rag.evaluation.metrics import accuracy
from rag.evaluation.questions import Question

if TYPE_CHECKING:
    from llama_cpp import Llama

    from rag.evaluation.harness import Harness, Index


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted).sum())


class ChoiceScorer:
    """Log-probabilities of fixed continuations after a prompt, from a llama-cpp `Llama`.

    Works with `logits_all=False`: after each `eval`, llama.cpp holds the logits of the last
    token evaluated, which is all the next token's probability needs.
    """

    def __init__(self, llm: Llama) -> None:
        self.llm = llm
        self.n_vocab = llm.n_vocab()

    def _last_logits(self) -> np.ndarray:
        pointer = self.llm._ctx.get_logits()  # noqa: SLF001 - llama-cpp-python's context
        return np.ctypeslib.as_array(pointer, shape=(self.n_vocab,)).astype(np.float64)

    def _eval_from(self, tokens: list[int], keep: int) -> np.ndarray:
        """Evaluate `tokens[keep:]` on top of the cached first `keep` tokens."""
        self.llm.n_tokens = keep
        self.llm.eval(tokens[keep:])
        return self._last_logits()

    def scores(self, prompt: str, options: Sequence[str]) -> list[float]:
        tokenize = self.llm.tokenize
        prompt_tokens = tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        if len(prompt_tokens) + 8 > self.llm.n_ctx():
            raise ValueError("the prompt does not fit the model's window")
        cached = list(self.llm.input_ids[: self.llm.n_tokens])
        keep = 0
        for a, b in zip(cached, prompt_tokens[:-1]):
            if a != b:
                break
            keep += 1
        base = _log_softmax(self._eval_from(prompt_tokens, keep))
        out = []
        for option in options:
            full = tokenize((prompt + option).encode("utf-8"), add_bos=True, special=True)
            if full[: len(prompt_tokens)] == prompt_tokens:
                extra = full[len(prompt_tokens):]
            else:  # the option merged with the prompt's last token: score it on its own
                extra = tokenize(option.encode("utf-8"), add_bos=False, special=False)
            total = float(base[extra[0]])
            for i in range(1, len(extra)):
                logits = _log_softmax(self._eval_from(prompt_tokens + extra[:i],
                                                      len(prompt_tokens) + i - 1))
                total += float(logits[extra[i]])
            out.append(total)
        self.llm.n_tokens = len(prompt_tokens)
        return out


def choice_prompt(question: Question, passages: Sequence[str] = ()) -> str:
    keys = list(question.options)
    if keys == [k for k in question.options.values()]:  # yes/no/maybe: the keys are the words
        instruction = f"Answer the question with one word: {', '.join(keys[:-1])} or {keys[-1]}."
        body = f"Question: {question.question}"
    else:
        instruction = f"Answer with the letter of the correct option ({', '.join(keys)})."
        lines = "\n".join(f"{k}. {v}" for k, v in question.options.items())
        body = f"Question: {question.question}\n{lines}"
    context = ""
    if passages:
        context = "Context:\n" + "\n\n".join(passages) + "\n\n"
        instruction += " Use the context."
    return f"{context}{instruction}\n\n{body}\nAnswer:"


def choice_accuracy(
    h: Harness, index: Index | None, questions: Sequence[Question], n_passages: int = 3,
    mode: str = "hybrid",
) -> dict[str, object]:
    """Accuracy closed-book and with the top `n_passages` retrieved passages (`index` given)."""
    from rag.generator import LocalGenerator
    from rag.packing import pack

    gen = h.engine.generator
    if not isinstance(gen, LocalGenerator):
        raise ValueError("constrained choice needs the in-process model, not a server")
    scorer = ChoiceScorer(gen.llm)
    retriever = h.retriever(index) if index is not None else None
    labelled = [q for q in questions if q.label]
    conditions = ["closed_book"] + (["rag"] if retriever else [])
    predictions: dict[str, list[str]] = {c: [] for c in conditions}
    seconds: dict[str, float] = dict.fromkeys(conditions, 0.0)
    for n, q in enumerate(labelled, start=1):
        keys = list(q.options)
        for condition in conditions:
            started = time.perf_counter()
            context: list[str] = []
            if condition == "rag":
                assert retriever is not None
                found = retriever.search(q.question, n_passages, None, mode)
                packed = pack(partial(choice_prompt, q),
                              [p.text for p in found], gen.count_tokens, gen.n_ctx, 16)
                context = list(packed.texts.values())
            values = scorer.scores(choice_prompt(q, context), [f" {key}" for key in keys])
            predictions[condition].append(keys[int(np.argmax(values))])
            seconds[condition] += time.perf_counter() - started
        if n % 50 == 0:
            h.log(f"  answered {n}/{len(labelled)}")
    gold = [q.label for q in labelled]
    majority = Counter(gold).most_common(1)[0] if gold else ("", 0)
    out: dict[str, object] = {
        "model": gen.name, "questions": len(labelled), "k": n_passages, "mode": mode,
        "gold_distribution": dict(Counter(gold)),
        "majority_class": majority[0],
        "majority_rate": round(majority[1] / len(gold), 4) if gold else 0.0,
        "method": "constrained choice: sum of option-token log-probabilities after the prompt",
    }
    for condition in conditions:
        preds = predictions[condition]
        out[condition] = {
            "accuracy": round(accuracy(preds, gold), 4),
            "predicted_distribution": dict(Counter(preds)),
            "seconds_per_question": round(seconds[condition] / max(1, len(gold)), 3),
        }
    return out
