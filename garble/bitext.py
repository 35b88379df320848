"""Translation pairs in and out: line-aligned files, bitext TSV, XLIFF 1.2/2.0 and TMX.

XLIFF and TMX are read and written with translate-toolkit (the ``qa`` extra
of garble-mt); a reviewed file is the same file with each flagged unit marked
for review and a note with garble's score and reasons:

* XLIFF 1.2: ``<target state="needs-review-translation">`` and
  ``<note from="garble">`` (and ``approved="yes"`` becomes ``"no"``);
* XLIFF 2.0: ``<segment subState="garble:needs-review">`` (``state`` set to
  ``translated`` when it was absent: the spec requires it beside
  ``subState``) and ``<note category="garble">`` in the unit's ``<notes>``;
* TMX: ``<prop type="x-garble-review">needs-review</prop>`` and ``<note>`` on
  the ``<tu>``.

Everything else is what translate-toolkit writes back: every unit,
attribute and inline tag; its serializer may re-indent whitespace between
elements (not inside ``<source>``/``<target>``/``<seg>``).

XML input is untrusted: a document type declaration that declares entities
(the way to an external-entity read, XXE, or an entity-expansion bomb) is
refused before parsing, and the parser resolves no entities and fetches
nothing. Every bad input is an :class:`~garble.errors.InputError` naming the
file (and line when known).
"""

from __future__ import annotations

import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from .errors import InputError, UsageError
from .types import UnitResult

#: input formats by file suffix
SUFFIXES = {".xlf": "xliff", ".xliff": "xliff", ".tmx": "tmx"}
#: the XLIFF 2.0 subState and the TMX prop of a flagged unit
SUBSTATE = "garble:needs-review"
TMX_PROP = "x-garble-review"
MAX_XML_BYTES = 512 * 1024 * 1024


@dataclass
class Segment:
    """One translation pair: ``id`` (unit id, or line number), ``line`` (1-based line in the file, when known)."""

    id: str
    source: str
    target: str
    line: Optional[int] = None


@dataclass
class Bitext:
    path: str
    format: str  # lines, tsv, xliff1, xliff2, tmx
    segments: list[Segment]
    source_lang: Optional[str] = None
    target_lang: Optional[str] = None
    store: Any = None  # the translate-toolkit store (XLIFF/TMX)
    units: list = field(default_factory=list)  # its units, aligned with segments


def bilingual_format(path: str) -> Optional[str]:
    """``xliff`` or ``tmx`` by the file's suffix (``.gz``/``.zst`` not accepted), else ``None``."""
    return SUFFIXES.get(Path(path).suffix.lower())


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def read_aligned(target_path: str, source_path: str) -> Bitext:
    """Line-aligned target and source files (line ``i`` of one translates line ``i`` of the other)."""
    from .io import read_document

    tgt, _ = read_document(target_path)
    src, _ = read_document(source_path)
    t, s = _lines(tgt), _lines(src)
    if len(t) != len(s):
        raise InputError(
            f"{len(t):,} lines but the source {source_path} has {len(s):,}: "
            "line-aligned files need the same number of lines",
            path=target_path,
        )
    return Bitext(target_path, "lines", [Segment(str(i), a, b, i) for i, (a, b) in enumerate(zip(s, t), 1)])


def read_tsv(path: str) -> Bitext:
    """Bitext TSV: ``source<TAB>target`` per line, no quoting; a first line ``source<TAB>target`` is a header."""
    from .io import read_document

    text, _ = read_document(path)
    segs: list[Segment] = []
    for i, line in enumerate(_lines(text), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) != 2:
            raise InputError(f"expected 2 tab-separated columns (source, target), found {len(cols)}", path=path, line=i)
        if i == 1 and [c.strip().lower() for c in cols] == ["source", "target"]:
            continue
        segs.append(Segment(str(i), cols[0], cols[1], i))
    return Bitext(path, "tsv", segs)


_DOCTYPE_RE = re.compile(rb"<!DOCTYPE\b")
_ENTITY_RE = re.compile(rb"<!ENTITY\b")


def check_xml_safe(data: bytes, path: str) -> None:
    """Refuse XML whose document type declaration declares entities (XXE, entity bombs)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        data = data.decode("utf-16", errors="replace").encode("utf-8")
    m = _DOCTYPE_RE.search(data)
    if m is None:
        if _ENTITY_RE.search(data):  # an entity declaration outside a DOCTYPE is malformed anyway
            raise InputError(
                "malformed XML: entity declaration outside a document type declaration",
                path=path,
                line=data[: _ENTITY_RE.search(data).start()].count(b"\n") + 1,
            )
        return
    e = _ENTITY_RE.search(data, m.start())
    if e is not None:
        line = data[: e.start()].count(b"\n") + 1
        raise InputError(
            "refused: the XML declares entities in its DOCTYPE (external entities or entity expansion are never read)",
            path=path,
            line=line,
        )


def read_xml(path: str, fmt: Optional[str] = None) -> Bitext:
    """An XLIFF 1.2/2.0 or TMX file, read with translate-toolkit (``fmt``: xliff or tmx; default by suffix)."""
    fmt = fmt or bilingual_format(path)
    if fmt not in ("xliff", "tmx"):
        raise UsageError(
            f"not an XLIFF or TMX file (suffix {Path(path).suffix!r}); give --input-format xliff or tmx", path=path
        )
    try:
        from lxml import etree
        from translate.storage import tmx, xliff, xliff2
    except ImportError:
        raise UsageError(
            "reading XLIFF/TMX needs translate-toolkit: pip install 'translate-toolkit>=3.13' "
            '(the qa extra; from a checkout: pip install "./[qa]")',
            path=path,
        ) from None
    from .io import open_binary

    fh = open_binary(path)
    try:
        data = fh.read(MAX_XML_BYTES + 1)
    except OSError as e:
        raise InputError(f"cannot read: {e}", path=path) from None
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()
    if len(data) > MAX_XML_BYTES:
        raise InputError(f"larger than {MAX_XML_BYTES // 2**20} MiB: split it first", path=path)
    check_xml_safe(data, path)
    head = data[:4096]
    if fmt == "tmx":
        cls, kind = tmx.tmxfile, "tmx"
    elif b"urn:oasis:names:tc:xliff:document:2" in head or re.search(rb"<xliff[^>]*version=[\"']2", head):
        cls, kind = xliff2.Xliff2File, "xliff2"
    else:
        cls, kind = xliff.xlifffile, "xliff1"
    try:
        store = cls.parsestring(data)
    except etree.XMLSyntaxError as e:
        msg = (e.msg or str(e)).split(", line ")[0]
        raise InputError(f"malformed XML: {msg}", path=path, line=e.lineno) from None
    except AssertionError:
        root = re.search(
            rb"<([A-Za-z_][\w:.-]*)", re.sub(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", b"", data[:4096], flags=re.S)
        )
        raise InputError(
            f"not a {'TMX' if kind == 'tmx' else 'XLIFF'} file "
            f"(root element <{root.group(1).decode(errors='replace') if root else '?'}>)",
            path=path,
        ) from None
    except Exception as e:  # the toolkit's own errors on a file it cannot make sense of
        raise InputError(
            f"cannot read as {'TMX' if kind == 'tmx' else 'XLIFF'}: {type(e).__name__}: {e}", path=path
        ) from None
    segs: list[Segment] = []
    units = []
    for u in store.units:
        if getattr(u, "isheader", lambda: False)():
            continue
        src, tgt = u.source, u.target
        if not src or tgt is None or not str(tgt).strip():
            continue  # nothing translated: nothing to review
        uid = str(u.getid() or "").split("\x04")[-1]
        segs.append(Segment(uid, str(src), str(tgt), getattr(u.xmlelement, "sourceline", None)))
        units.append(u)
    sl = _lang(store, "getsourcelanguage")
    tl = _lang(store, "gettargetlanguage")
    return Bitext(path, kind, segs, sl, tl, store, units)


def _lang(store, getter: str) -> Optional[str]:
    try:
        v = getattr(store, getter)()
    except Exception:
        return None
    return str(v).split("-")[0].split("_")[0].lower() if v else None


def note_text(r: UnitResult, max_reasons: int = 5) -> str:
    """The note garble adds to a unit: its score and strongest reasons."""
    reasons = r.reasons()[:max_reasons]
    return f"garble: review score {r.score:.2f}" + (": " + "; ".join(reasons) if reasons else "")


def mark_reviewed(bt: Bitext, results: Sequence[UnitResult], threshold: float) -> int:
    """Mark the units of ``bt`` whose result scores at least ``threshold``; returns how many."""
    n = 0
    for u, r in zip(bt.units, results):
        if r.score < threshold:
            continue
        n += 1
        text = note_text(r)
        if bt.format == "xliff1":
            node = u.getlanguageNode(lang=None, index=1)
            if node is not None:
                node.set("state", "needs-review-translation")
            if u.xmlelement.get("approved") == "yes":
                u.xmlelement.set("approved", "no")  # a unit that needs review is not approved
            u.addnote(text, origin="garble")
        elif bt.format == "xliff2":
            seg = u.xmlelement
            if seg.get("state") is None:
                seg.set("state", "translated")
            seg.set("subState", SUBSTATE)
            # <notes> belongs to the <unit>, before its segments (the toolkit's addnote puts it in the segment)
            from lxml import etree

            unit_el = seg.getparent()
            notes = unit_el.find(u.namespaced("notes"))
            if notes is None:
                notes = etree.Element(u.namespaced("notes"))
                unit_el.insert(0, notes)
            note = etree.SubElement(notes, u.namespaced("note"), category="garble")
            note.text = text
        elif bt.format == "tmx":
            from lxml import etree

            tu = u.xmlelement
            prop = etree.Element("prop", type=TMX_PROP)
            prop.text = "needs-review"
            note = etree.Element("note")
            note.text = text
            tu.insert(0, prop)  # <tu>: (note | prop)*, tuv+
            tu.insert(0, note)
    return n


def serialize(bt: Bitext) -> bytes:
    """The (marked) XLIFF/TMX file as translate-toolkit writes it."""
    buf = io.BytesIO()
    bt.store.serialize(buf)
    return buf.getvalue()


def score_bitext(bt: Bitext, scorer, source_lang: Optional[str] = None) -> list[UnitResult]:
    """Each segment scored on its own, with its source (:meth:`garble.Scorer.score_segments`)."""
    return scorer.score_segments(
        [s.target for s in bt.segments], [s.source for s in bt.segments], source_lang=source_lang or bt.source_lang
    )
