"""The CLI's source-aware paths: ``rank --source``/``--format-in tsv`` and ``score`` on XLIFF, TMX and bitext TSV.

Called from :mod:`garble.cli.rank` and :mod:`garble.cli.score`; the pairs are
read and written by :mod:`garble.bitext`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional, Sequence

from ..errors import UsageError


def rank_documents(
    inputs: Sequence, scorer, *, source: Optional[Path], fmt_in: str, unit: str, source_lang: Optional[str]
):
    """``garble rank`` with sources: each TARGET (with ``--source``) or TSV file is one document of line units."""
    from ..bitext import read_aligned, read_tsv

    if source is not None:
        if fmt_in == "tsv":
            raise UsageError(
                "--source and --format-in tsv: a TSV file holds its sources already; give one or the other"
            )
        if len(inputs) != 1:
            raise UsageError(f"--source goes with one TARGET file, not {len(inputs)}")
        if unit != "line":
            raise UsageError("--source needs --unit line: line i of SOURCE is the source of line i of TARGET")
        bts = [read_aligned(str(inputs[0]), str(source))]
    else:
        bts = [read_tsv(str(p)) for p in inputs]
    out = []
    for bt in bts:
        if not bt.segments:
            sys.stderr.write(f"garble: warning: {bt.path}: empty document (no units)\n")
        targets, sources = [s.target for s in bt.segments], [s.source for s in bt.segments]
        out.append(scorer.score_units(targets, doc_id=bt.path, sources=sources, source_lang=source_lang))
    return out


def score_bilingual(
    inputs: Sequence[str],
    output: str,
    scorer,
    *,
    input_format: str,
    flag_score: float,
    source_lang: Optional[str],
    quiet: bool,
    source_field: Optional[str] = None,
    field: str = "text",
    id_field: Optional[str] = None,
) -> None:
    """``garble score`` on XLIFF, TMX or bitext TSV: each pair scored on its own with its source.

    With ``source_field``, the inputs are JSONL or Parquet records with the
    target in ``field`` and the source in ``source_field``.

    Output: the same XLIFF/TMX file with flagged units marked (``-o`` with the
    input's suffix, one input), or JSON lines (``-o -`` or ``.jsonl``), one
    record per pair: file, id, line, source, text, score, rank, reasons, findings.
    """
    import time

    from ..bitext import (
        SUFFIXES,
        mark_reviewed,
        read_records,
        read_tsv,
        read_xml,
        result_record,
        score_bitext,
        serialize,
    )
    from ..io import atomic_output

    t0 = time.time()
    kinds = _input_kinds(inputs, input_format, source_field)
    out_kind = SUFFIXES.get(Path(output).suffix.lower()) if output != "-" else None
    if out_kind is not None:
        if len(inputs) != 1 or kinds[0] != out_kind:
            kind = out_kind.upper()
            raise UsageError(
                f"-o {output}: a reviewed {kind} file is written from one {kind} input; "
                "give -o FILE.jsonl for JSON lines"
            )
    elif output != "-" and not output.endswith((".jsonl", ".ndjson")):
        raise UsageError(
            f"-o {output}: XLIFF/TMX/TSV input is written as the same XLIFF/TMX file (.xlf, .xliff, .tmx) "
            "or as JSON lines (.jsonl or -)"
        )
    bts = [
        read_tsv(str(p))
        if k == "tsv"
        else read_records(str(p), k, field=field, source_field=source_field, id_field=id_field)
        if k in ("jsonl", "parquet")
        else read_xml(str(p), k)
        for p, k in zip(inputs, kinds)
    ]
    results = [score_bitext(bt, scorer, source_lang) for bt in bts]
    n = sum(len(r) for r in results)
    if out_kind is not None:
        flagged = mark_reviewed(bts[0], results[0], flag_score)
        data = serialize(bts[0])
        with atomic_output(output, "wb") as fh:
            fh.write(data)
        if not quiet:
            units = f"{n:,} unit{'' if n == 1 else 's'}"
            marked = f"{flagged:,} marked for review (score >= {flag_score:g})"
            sys.stderr.write(f"garble: {units} scored, {marked}, in {time.time() - t0:.1f} s -> {output}\n")
        return
    with atomic_output(output) as fh:
        for bt, res in zip(bts, results):
            for seg, r in zip(bt.segments, res):
                fh.write(json.dumps(result_record(bt, seg, r), ensure_ascii=False) + "\n")
    if not quiet:
        where = "standard output" if output == "-" else output
        sys.stderr.write(f"garble: {n:,} pair{'' if n == 1 else 's'} in {time.time() - t0:.1f} s -> {where}\n")


def _input_kinds(inputs: Sequence[str], input_format: str, source_field: Optional[str]) -> list[str]:
    """The format of each input of :func:`score_bilingual`: xliff, tmx, tsv (with ``source_field``: jsonl, parquet)."""
    from ..bitext import bilingual_format

    kinds = []
    for p in inputs:
        if str(p) == "-":
            raise UsageError("XLIFF/TMX/TSV input is read from a file, not standard input")
        if source_field is not None:
            from ..corpus import input_format as corpus_format

            k = corpus_format(str(p), input_format if input_format in ("jsonl", "parquet") else "auto")
            if k not in ("jsonl", "parquet"):
                raise UsageError(f"--source-field reads JSONL or Parquet records, not {k}", path=str(p))
            kinds.append(k)
        else:
            kinds.append(input_format if input_format in ("xliff", "tmx", "tsv") else bilingual_format(str(p)))
    return kinds
