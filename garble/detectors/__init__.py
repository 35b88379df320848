"""Artifact detectors.

A detector is a small stateless class: a ``name``, a docstring that says what
artifact it catches with one example, thresholds as constructor arguments, and
one method, :meth:`Detector.detect`, that reads a :class:`~garble.document.Document`
and yields :class:`~garble.types.Finding` objects with document offsets.

Every module in this package is imported by :func:`all_detectors`; every
concrete :class:`Detector` subclass it defines is registered under its
``name``. Adding a detector is adding a module: nothing else changes (the
scorer gives a detector without a learned weight the default weight).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import ClassVar, Iterable, Iterator, Optional, Sequence

from ..document import Document
from ..types import Finding


class Detector:
    """Base class of all detectors. Subclasses set ``name`` and implement ``detect``."""

    name: ClassVar[str] = ""

    def detect(self, doc: Document) -> Iterator[Finding]:  # pragma: no cover - interface
        raise NotImplementedError

    def finding(self, kind: str, start: int, end: int, weight: float, message: str, source_span: Optional[tuple[int, int]] = None) -> Finding:
        """A finding of this detector (weight clipped to [0, 1]); ``source_span``: offsets into the unit's source."""
        return Finding(self.name, kind, start, end, max(0.0, min(1.0, float(weight))), message, source_span)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def registry() -> dict[str, type[Detector]]:
    """All detector classes by name (imports every module of this package)."""
    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")
    found: dict[str, type[Detector]] = {}
    for cls in _subclasses(Detector):
        if cls.name and not getattr(cls, "abstract", False):
            if cls.name in found and found[cls.name] is not cls:
                raise RuntimeError(f"two detectors named {cls.name!r}: {found[cls.name]} and {cls}")
            found[cls.name] = cls
    return dict(sorted(found.items()))


def all_detectors(only: Optional[Iterable[str]] = None, exclude: Iterable[str] = ()) -> list[Detector]:
    """One instance (default thresholds) of every registered detector.

    ``only`` keeps just those names; ``exclude`` drops names. Unknown names raise ``ValueError``.
    """
    reg = registry()
    names = list(reg) if only is None else list(only)
    excl = set(exclude)
    for n in [*names, *excl]:
        if n not in reg:
            raise ValueError(f"unknown detector {n!r}; known: {', '.join(reg)}")
    return [reg[n]() for n in names if n not in excl]


def run_detectors(detectors: Sequence[Detector], doc: Document) -> list[Finding]:
    """All findings of ``detectors`` on ``doc``, in document order."""
    out: list[Finding] = []
    for det in detectors:
        out.extend(det.detect(doc))
    out.sort(key=lambda f: (f.start, f.end, f.detector))
    return out


__all__ = ["Detector", "Document", "Finding", "all_detectors", "registry", "run_detectors"]
