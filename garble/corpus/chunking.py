"""Chunking: records cut into chunks of whole documents, the unit of scoring and of checkpoints."""

from __future__ import annotations

from typing import Any, Iterator, NamedTuple

from ..errors import InputError
from .readers import Record, Warn

#: the first chunk's records; each next chunk may be as large as all records before it, up to
#: batch_size (16, 16, 32, 64, 128, 256, 256, ...): the first checkpoint comes after a few
#: seconds even with a language model on a CPU. Chunk boundaries depend only on the input and
#: the options (not on time), so a resumed run cuts the rest as an uninterrupted one does.
FIRST_CHUNK = 16


class Chunk(NamedTuple):
    """Whole documents (or single records) in input order, scored together."""

    groups: list  # list[list[Record]]
    end: tuple[int, int]  # input position after the chunk's last record
    n: int  # records


def chunk_records(
    records: Iterator[tuple[tuple[int, int], Record]],
    batch_size: int,
    grouped: bool,
    max_doc_units: int,
    warn: Warn,
    done: int = 0,
) -> Iterator[Chunk]:
    """Records in chunks of whole groups, each chunk at least ``batch_size`` records (but the last).

    The first chunks are smaller: a chunk closes at ``min(batch_size,
    max(FIRST_CHUNK, records before it))`` records, counted from the start of
    the input (``done``: records before ``records``, when resuming).

    A group is a document (``grouped``: consecutive records of one file with
    the same ``doc``; a doc value that comes back after other documents is an
    :class:`InputError` at its line), else one record. An error record without a document
    joins the open group (it is not scored, so it changes no score); a good
    record without a document (a text line among JSONL documents) is a group
    of its own.
    """
    groups: list[list[Record]] = []
    n = 0
    group: list[Record] = []
    key: Any = None
    pos = (0, 0)
    warned: set = set()
    finished: set = set()  # (file, doc) of the documents closed so far
    for pos_, rec in records:
        ride = grouped and rec.doc is None and rec.error is not None
        k: Any = (pos_[0], rec.doc) if grouped and rec.doc is not None else object()
        if grouped and rec.doc is not None and k != key and k in finished:
            raise InputError(
                f"document {rec.doc!r} appears again after other documents: "
                "the records of a document must be consecutive (sort the input by its document field)",
                path=rec.source,
                line=rec.line,
            )
        if group and not ride:
            close = key is not None and k != key
            if not close and len(group) >= max_doc_units:
                close = True
                if k not in warned:
                    warned.add(k)
                    warn(
                        f"{rec.source}: document {rec.doc!r} has more than {max_doc_units} records: "
                        f"scored and ranked in parts of {max_doc_units}"
                    )
            if close:
                if key is not None and k != key:
                    finished.add(key)
                groups.append(group)
                n += len(group)
                group, key = [], None
                if n >= min(batch_size, max(FIRST_CHUNK, done)):
                    yield Chunk(groups, pos, n)
                    done += n
                    groups, n = [], 0
        group.append(rec)
        if key is None and not ride:
            key = k
        pos = pos_
    if group:
        groups.append(group)
        n += len(group)
    if groups:
        yield Chunk(groups, pos, n)
