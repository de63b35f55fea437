"""Shared foundation of meditron-rag: the typed config, the error hierarchy and model files.

Data flows one way: corpora -> ingest -> index -> rag -> ui (Streamlit app and CLI).
Every layer imports from here; nothing here imports a layer.
"""

from meditron_rag.config import Config, load_config
from meditron_rag.errors import MeditronRagError

__version__ = "0.1.0"

NOT_FOR_CLINICAL_USE = (
    "Not for clinical use: a study and research aid. Answers are written or chosen by software "
    "from the cited passages and can be wrong; check every source."
)

__all__ = ["Config", "MeditronRagError", "NOT_FOR_CLINICAL_USE", "__version__", "load_config"]
