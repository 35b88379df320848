"""Corpus scale: stream millions of segments through a :class:`~garble.Scorer`, resumably.

Reading
-------
:func:`iter_records` streams :class:`Record` objects, one per input segment,
from any mix of

* plain text (``.txt`` and any unknown suffix): one segment per line (``\\n``
  or ``\\r\\n``); blank lines are records too, with ``error="empty line"``;
* JSON lines (``.jsonl``, ``.ndjson``): one object per line; ``field`` names
  the text (a dotted path such as ``tr.en`` reaches into nested objects when
  no key has that literal name), ``id_field`` an id carried through,
  ``doc_field`` the document a segment belongs to. A line that is not JSON,
  not an object, or lacks a named field is an error record with the reason;
* Parquet (``.parquet``, ``.pq``), read in record batches with pyarrow; a
  missing column is an :class:`~garble.errors.InputError` naming file and
  column, a null value an error record;
* translation pairs: JSONL/Parquet with ``source_field`` (each record's source
  sentence; missing or null: a segment without one, not a string: an error
  record), bitext TSV (``input_fmt="tsv"``: ``source<TAB>target`` per line, a
  first line ``source<TAB>target`` a header; a line without two columns stops
  the run with an :class:`~garble.errors.InputError` naming it), XLIFF 1.2/2.0
  and TMX (``.xlf``, ``.xliff``, ``.tmx``: one record per unit with a target;
  the file is parsed whole);
* ``.gz`` / ``.zst`` compression of text and JSONL (multi-member/-frame too);
* directories (walked recursively in sorted order, files with a known suffix
  only, hidden files and folders skipped), glob patterns (``'data/**/*.jsonl'``)
  and ``-`` for standard input (plain text).

Every input line (Parquet row; XLIFF/TMX: translated unit; TSV: line but a
header) gives exactly one record, never more and never fewer, and nothing but
XLIFF/TMX reads a whole file into memory.

Scoring
-------
:func:`score_corpus` writes one output record per input record, in input
order, with the same keys whatever the input (:data:`OUTPUT_FIELDS`;
docs/SCHEMA.md says what each holds): ``{"source", "id", "line", "doc",
"text", "source_text", "score", "rank", "findings", "lm", "qe", "error"}``.
``source`` is the input file, ``source_text`` the source sentence of a
translation pair (null without one). Finding offsets and ``lm.max_span`` are
character offsets into the record's own ``text`` (clipped to it), a finding's
``source_span`` offsets into ``source_text``.

Records are scored through the library API (:mod:`~garble.corpus.scoring`):
a document by :meth:`Scorer.score_units` (with its records' sources, when
they have any), a record on its own by ``score_units`` or, with a source, by
:meth:`Scorer.score_segments`. The source language is ``source_lang`` when
given, else XLIFF/TMX's declared one, else identified: per document, or per
input file for records scored on their own
(:func:`~garble.corpus.readers.read_file`).

* Without a document field every record is its own one-unit document: its
  score depends on its text (and source) alone (not on its neighbours, the
  batch size or the number of workers), and ``rank`` and ``doc`` are null. The LM's
  document-relative features are then neutral (``rel_median`` 0).
* With ``doc_field``, consecutive records of one file with the same value
  form a document, scored together (:meth:`Scorer.score_units`); ``rank`` is
  1..n within the document (error records are not ranked). A document longer
  than ``max_doc_units`` records is scored and ranked in parts of that size
  (with a warning). A document's records must be consecutive: a record whose
  doc value belongs to a document already closed (other documents came in
  between) stops the run with an :class:`InputError` naming its line, rather
  than splitting the document silently.
* Error records (empty line, broken JSON, missing field, a source that is
  not a string) have ``score``, ``rank`` and ``lm`` null, no findings, and
  the reason in ``error``.

Records are scored in chunks of about ``batch_size`` records (whole
documents; one LM call per chunk, so the GPU sees large batches; the first
chunks ramp up from ``FIRST_CHUNK``, so that a run killed early has a
checkpoint to resume from), optionally
in ``workers`` processes (detectors-only scoring). Memory is bounded by a
chunk (and, with ``workers``, a few chunks in flight), whatever the input size.

Resuming
--------
Output for a file path ``OUT`` is appended to ``OUT.garble-partial`` and
checkpointed in ``OUT.garble-state.json`` (records done, bytes of the partial
output flushed, input position, and a fingerprint of the inputs' paths, sizes
and mtimes and of every option that changes the output). After a kill at any
moment, running the same command again truncates the partial output to the
last checkpoint and continues from the input position recorded there; the
result is byte-identical to an uninterrupted run. When everything is written,
the output is published with one atomic rename (Parquet: converted into a
temporary file first), so ``OUT`` never holds a half-written file. If the
inputs or options changed since the checkpoint, resuming is refused with a
:class:`~garble.errors.UsageError` (``resume=False`` / ``--restart`` starts
over). ``OUT`` = ``-`` streams JSONL to standard output, without checkpoints.
A ``.gz`` or ``.zst`` JSONL output is compressed chunk by chunk (one gzip
member / zstd frame per chunk; standard tools read them as one stream).

Modules
-------
:mod:`~garble.corpus.inputs` (files, folders, globs, formats),
:mod:`~garble.corpus.readers` (records from text, JSONL, Parquet),
:mod:`~garble.corpus.chunking`, :mod:`~garble.corpus.scoring` (one chunk),
:mod:`~garble.corpus.executors` (serial, worker processes),
:mod:`~garble.corpus.output` (formats, Parquet schema, the partial output),
:mod:`~garble.corpus.checkpoint`, :mod:`~garble.corpus.progress`, and
:mod:`~garble.corpus.driver`, the one loop they make up (also the Ray
path's, :mod:`garble.ray`).
"""

from .chunking import FIRST_CHUNK
from .driver import CorpusSummary, score_corpus
from .inputs import INPUT_FORMATS, PARTIAL_SUFFIX, STATE_SUFFIX, expand_inputs, input_format
from .output import (
    OUTPUT_FIELDS,
    OUTPUT_FORMATS,
    PARQUET_ROW_GROUP,
    output_format,
    parquet_schema,
    partial_path,
    state_path,
)
from .readers import Record, iter_records, read_file, read_jsonl, read_parquet, read_txt, record_of
from .scoring import output_record, score_chunk

__all__ = [
    "score_corpus",
    "CorpusSummary",
    "Record",
    "iter_records",
    "read_file",
    "read_txt",
    "read_jsonl",
    "read_parquet",
    "record_of",
    "expand_inputs",
    "input_format",
    "output_format",
    "output_record",
    "score_chunk",
    "parquet_schema",
    "state_path",
    "partial_path",
    "FIRST_CHUNK",
    "INPUT_FORMATS",
    "OUTPUT_FIELDS",
    "OUTPUT_FORMATS",
    "PARQUET_ROW_GROUP",
    "PARTIAL_SUFFIX",
    "STATE_SUFFIX",
]
