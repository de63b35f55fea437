"""The question being answered, written by a thread of its own so that no rerun can lose it.

Streamlit runs the script again from the top on every click, and a run still in progress is
cut short at its next Streamlit command: an answer streamed by the script itself was lost, and
never joined the conversation, when anything was clicked (a second question, a setting, the
library) while it was written. So the answer is written by a worker thread into a `Turn` kept
in `st.session_state`; a run only draws the steps written so far and follows the rest, and
the run after any interruption picks the same turn up where it is. The worker calls no
Streamlit command (Streamlit's advice for threads of one's own): it reads `Source.ask` and
keeps its steps. "Stop" sets `Turn.stop`; the worker then closes the answer's stream (the
model's lock, or the HTTP stream to `meditron-rag serve`, is released), and the conversation
keeps what was written, marked as stopped (`Stopped`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator, Sequence

from meditron_rag.errors import MeditronRagError
from rag import Answer, Passage
from ui.api_client import Step
from ui.app_settings import Settings
from ui.app_source import Source


@dataclasses.dataclass
class Stopped:
    """An answer its reader stopped: the text written so far, never checked against the
    sources, and the sources found for it."""

    question: str
    text: str
    passages: list[Passage]


@dataclasses.dataclass
class Turn:
    """One question and its answer as the worker writes it: the steps so far (search, sources,
    queue, token), then the checked `answer` or the `error` that ended it."""

    question: str
    steps: list[Step] = dataclasses.field(default_factory=list)
    answer: Answer | None = None
    error: str = ""
    failure: Exception | None = None
    stop: threading.Event = dataclasses.field(default_factory=threading.Event)
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    started: bool = False
    _changed: threading.Condition = dataclasses.field(default_factory=threading.Condition,
                                                      repr=False)

    def start(self, source: Source, settings: Settings, earlier: Sequence[str]) -> None:
        """Answer in a daemon thread: a closed browser tab leaves it to finish on its own."""
        self.started = True
        worker = threading.Thread(target=self._work, args=(source, settings, list(earlier)),
                                  name=f"answer: {self.question[:40]}", daemon=True)
        worker.start()

    def _work(self, source: Source, settings: Settings, earlier: list[str]) -> None:
        try:
            with contextlib.closing(source.ask(self.question, earlier, settings.top_k,
                                               settings.filters, settings.max_tokens)) as steps:
                for step in steps:
                    if self.stop.is_set():
                        break
                    if isinstance(step.data, Answer):
                        # The history keeps the question as asked; the query searched is beside it.
                        self.answer = dataclasses.replace(step.data, question=self.question)
                    else:
                        with self._changed:
                            self.steps.append(step)
                            self._changed.notify_all()
        except MeditronRagError as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - carried to the script's thread, raised there
            self.failure = exc
        finally:
            with self._changed:
                self.done.set()
                self._changed.notify_all()

    def follow(self, every_s: float = 0.2) -> Iterator[Step | None]:
        """The steps written so far, then each new one as it comes until the answer is done;
        None after each `every_s` without one, so the caller draws something, which is where
        Streamlit can interrupt its run (for "Stop")."""
        shown = 0
        while True:
            with self._changed:
                if shown == len(self.steps) and not self.done.is_set():
                    self._changed.wait(every_s)
                new, finished = self.steps[shown:], self.done.is_set()
            shown += len(new)
            yield from new
            if finished:
                return
            if not new:
                yield None

    def query(self) -> str:
        """The query searched, where the search step has come."""
        return next((str(s.data) for s in self.steps if s.kind == "search"), "")

    def record(self) -> Answer | Stopped | dict[str, str]:
        """What the conversation keeps of this turn: the checked answer where it came, the
        error that ended it, else what was written until it was stopped."""
        if self.answer is not None:
            return self.answer
        if self.error or self.failure:
            return {"question": self.question,
                    "error": self.error or f"The answer failed ({self.failure!r})."}
        passages = next((s.data for s in self.steps if isinstance(s.data, list)), [])
        text = "".join(str(s.data) for s in self.steps if s.kind == "token")
        return Stopped(self.question, text, list(passages))
