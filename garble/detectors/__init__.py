"""Artifact detectors and their registry.

A detector is a small stateless class in a module of its own: registered with
its name, its colour in the HTML report and its prior weight; a docstring that
says what artifact it catches, with an example that runs (a doctest of
:func:`flagged`, checked by tests/test_detector_contract.py); thresholds as
constructor arguments (dataclass fields; the docstring says where their
defaults come from); and one method, :meth:`Detector.detect`, that reads a
:class:`~garble.document.Document` and yields :class:`~garble.types.Finding`
objects with document offsets::

    @register("shouting", colour=("#fde2e1", "#a12622"), prior=4.0)
    @dataclass(eq=False)
    class Shouting(Detector):
        \"\"\"A word in capitals.

        >>> from garble.detectors import flagged
        >>> flagged(Shouting(), "A LOUD line.")
        [('caps', 'LOUD')]
        \"\"\"

        weight: float = 0.5

        def detect(self, doc):
            for t in doc.tokens:
                if len(t.text) > 3 and t.text.isupper():
                    yield self.finding("caps", t.start, t.end, self.weight, "a word in capitals")

:func:`register` adds the class to the default set (:func:`registry`, what a
default :class:`garble.Scorer` runs); a subclass that is not registered runs
only where it is passed explicitly (``Scorer(detectors=[...])``). Every module
of this package is imported, so adding a built-in detector is adding a module
(and its test). Another package adds one without touching garble through the
entry-point group ``garble.detectors``, naming a module whose classes use
:func:`register` or a class (registered, or declaring ``name``, ``colour`` and
``prior`` as class attributes)::

    [project.entry-points."garble.detectors"]
    shouting = "garble_shouting:Shouting"

A plugin that fails to load is skipped with a one-line warning. The scorer
gives a detector its weights file does not name ``default_detector_weight``,
so a new one counts without a refit; a refit starts it from its ``prior``.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import re
import sys
from importlib import metadata
from types import ModuleType
from typing import Callable, ClassVar, Iterable, Iterator, Optional, Sequence, TypeVar

from ..document import Document
from ..types import Finding

#: the entry-point group of detector plugins
ENTRY_POINT_GROUP = "garble.detectors"

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


class Detector:
    """Base class of all detectors: :func:`register` sets the class attributes, subclasses implement ``detect``."""

    #: the findings' ``detector`` and the key of its weight in the weights files (lowercase, digits, ``_``)
    name: ClassVar[str] = ""
    #: (background, border) of its flagged spans in the HTML report, ``#rrggbb``
    colour: ClassVar[tuple[str, str]]
    #: prior weight of its findings when the combiner is refitted (logit units per unit of finding
    #: weight, >= 0): the hand-set weights of garble 0.1, which order artifacts by how easily they
    #: slip past a reader (a contradicted place, a garbled name or a repeated phrase most; page
    #: furniture, fragments and punctuation least). The data pulls each weight from its prior; a
    #: detector that rarely fires in the training data keeps it.
    prior: ClassVar[float]

    def detect(self, doc: Document) -> Iterator[Finding]:  # pragma: no cover - interface
        raise NotImplementedError

    def finding(
        self,
        kind: str,
        start: int,
        end: int,
        weight: float,
        message: str,
        source_span: Optional[tuple[int, int]] = None,
    ) -> Finding:
        """A finding of this detector (weight clipped to [0, 1]); ``source_span``: offsets into the unit's source."""
        return Finding(self.name, kind, start, end, max(0.0, min(1.0, float(weight))), message, source_span)


D = TypeVar("D", bound=Detector)
_REGISTRY: dict[str, type[Detector]] = {}
_plugins_loaded = False


def _check(cls: object) -> None:
    """Raise ``TypeError`` unless ``cls`` is a complete Detector class."""
    if not (isinstance(cls, type) and issubclass(cls, Detector)):
        raise TypeError(f"{cls!r} is not a Detector subclass")
    name, colour, prior = cls.name, getattr(cls, "colour", None), getattr(cls, "prior", None)
    if not (isinstance(name, str) and _NAME.fullmatch(name)):
        raise TypeError(f"{cls.__qualname__}: name {name!r} must be lowercase letters, digits and _")
    pair = colour if isinstance(colour, tuple) and len(colour) == 2 else ()
    if not (pair and all(isinstance(c, str) and _HEX_COLOUR.fullmatch(c) for c in pair)):
        raise TypeError(f"{cls.__qualname__}: colour {colour!r} must be a (background, border) pair of #rrggbb")
    if isinstance(prior, bool) or not isinstance(prior, (int, float)) or not (math.isfinite(prior) and prior >= 0):
        raise TypeError(f"{cls.__qualname__}: prior {prior!r} must be a finite number >= 0")
    if cls.detect is Detector.detect:
        raise TypeError(f"{cls.__qualname__}: no detect() method")


def _add(cls: type[Detector]) -> None:
    """Register ``cls`` under its ``name`` (checked); another class under a taken name is a ``ValueError``."""
    _check(cls)
    old = _REGISTRY.get(cls.name)
    # the same class again, or its module's reloaded copy, replaces it
    if old is not None and old is not cls and (old.__module__, old.__qualname__) != (cls.__module__, cls.__qualname__):
        where = [f"{c.__module__}.{c.__qualname__}" for c in (old, cls)]
        raise ValueError(f"two detectors named {cls.name!r}: {where[0]} and {where[1]}")
    _REGISTRY[cls.name] = cls


def register(name: str, *, colour: tuple[str, str], prior: float) -> Callable[[type[D]], type[D]]:
    """Class decorator: a detector's ``name``, ``colour`` and ``prior`` (see :class:`Detector`), and its place
    in the default set. Bad declarations raise ``TypeError``, a taken name ``ValueError``."""

    def add(cls: type[D]) -> type[D]:
        cls.name, cls.colour, cls.prior = name, colour, prior
        _add(cls)
        return cls

    return add


def _load_plugins() -> None:
    """Register the detectors of the ``garble.detectors`` entry points (once per process)."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            if isinstance(obj, type):
                if _REGISTRY.get(getattr(obj, "name", None)) is not obj:
                    _add(obj)
            elif not isinstance(obj, ModuleType):
                raise TypeError(f"{obj!r} is neither a Detector class nor a module")
        except Exception as e:  # noqa: BLE001 - a broken plugin must not stop garble
            why = " ".join(f"{type(e).__name__}: {e}".split())
            sys.stderr.write(f"garble: warning: detector plugin {ep.name!r} ({ep.value}) not loaded: {why}\n")


def registry() -> dict[str, type[Detector]]:
    """The registered detector classes by name, sorted: this package's modules (all imported) and plugins."""
    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")
    _load_plugins()
    return dict(sorted(_REGISTRY.items()))


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


def flagged(
    detector: Detector, text: str, source: Optional[str] = None, source_lang: str = "zh"
) -> list[tuple[str, str]]:
    """``(kind, flagged text)`` of each finding of ``detector`` on ``text``: what the docstring examples show.

    Without ``source``, ``text`` is split into sentences as :class:`garble.Scorer` splits a document;
    with it, ``text`` is one unit translated from ``source`` (in ``source_lang``), and a finding with
    no span in the target (something missing) shows the source text it points at as ``"src:..."``.
    """
    from ..segment import segment
    from ..types import Unit

    if source is None:
        doc = Document(text, segment(text))
    else:
        doc = Document(text, [Unit(0, 0, len(text), text, 0)], sources=[source], source_lang=source_lang)
    out = []
    for f in run_detectors([detector], doc):
        if f.start == f.end and source is not None and f.source_span is not None:
            out.append((f.kind, "src:" + source[f.source_span[0] : f.source_span[1]]))
        else:
            out.append((f.kind, text[f.start : f.end]))
    return out


__all__ = [
    "ENTRY_POINT_GROUP",
    "Detector",
    "Document",
    "Finding",
    "all_detectors",
    "flagged",
    "register",
    "registry",
    "run_detectors",
]
