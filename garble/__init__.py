"""garble: find the sentences of machine-translated English a reviewer must fix.

>>> import garble
>>> scorer = garble.Scorer(model=False)          # detectors alone; no torch
>>> result = scorer.score_document("It is legal and it is legal. Fine.")
>>> result.ranked()[0].text
'It is legal and it is legal.'
"""

from .api import Scorer
from .document import Document
from .errors import GarbleError, InputError, ModelError, OutputError, UsageError
from .segment import segment
from .types import DocumentResult, Finding, LMFeatures, Unit, UnitResult

__version__ = "0.2.0"

__all__ = [
    "Scorer",
    "Document",
    "DocumentResult",
    "Finding",
    "LMFeatures",
    "Unit",
    "UnitResult",
    "segment",
    "GarbleError",
    "InputError",
    "ModelError",
    "OutputError",
    "UsageError",
    "__version__",
]
