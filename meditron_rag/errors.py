"""One error hierarchy. Every message is one sentence that says what went wrong and what to do.

The CLI prints `str(error)` and exits with `error.exit_code`; the UI shows the same sentence.
"""

from __future__ import annotations


class MeditronRagError(Exception):
    """Base of every error a user can cause or fix."""

    exit_code = 1


class ConfigError(MeditronRagError):
    """A setting is unknown or has a bad value."""

    exit_code = 2


class ModelNotFoundError(MeditronRagError):
    """A configured model file or folder is not where the config says."""

    exit_code = 3


class ModelLoadError(MeditronRagError):
    """A model file exists but cannot be loaded (corrupt, truncated, wrong format)."""

    exit_code = 3


class DownloadError(MeditronRagError):
    """A model download failed (usually: no network)."""

    exit_code = 4


class LoadError(MeditronRagError):
    """A document could not be read. `reason` is short enough for a summary table."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class IndexError_(MeditronRagError):
    """The index on disk is missing, locked, or from another version or model."""

    exit_code = 5


class IndexLockedError(IndexError_):
    """Another process is writing the index."""


class IndexFormatError(IndexError_):
    """The index was written by another format version or embedding model."""


class IndexDamagedError(IndexError_):
    """The index's SQLite file is damaged on disk: only a rebuild from the documents helps."""


class EmptyIndexError(IndexError_):
    """There is nothing to search yet."""


class QuestionError(MeditronRagError):
    """The question is empty or cannot fit the model's window."""

    exit_code = 2


class GenerationError(MeditronRagError):
    """The generator failed: a model crash, a server that is down or too slow."""

    exit_code = 6
