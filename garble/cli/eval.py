"""``garble eval``: detection quality on a human-annotated MT file; ``eval pairs`` and ``eval false-alarms``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import UsageError
from .options import Output, ScorerOptions, choices, scorer_options, split_names

EvalFormat = choices("EvalFormat", "table json")
EvalSplit = choices("EvalSplit", "test train all")

_FILE_HELP = (
    "Annotated TSV (system doc seg is_ref raters mqm major fluency_major categories text), e.g. mqm_ted_zhen.tsv; "
    "or the word `pairs` followed by a minimal-pairs JSONL; or the word `false-alarms` followed by TSVs; "
    "or the word `da` followed by an MLQE-PE-style TSV (original, translation, z_mean[, model_scores])."
)
_MORE_HELP = (
    "With `garble eval pairs FILE`: JSONL of {good, bad, type}; each sentence is scored alone. "
    "With `garble eval false-alarms FILE...`: annotated TSVs (their references are clean text, their MT rows "
    "MT output) or clean-English TSVs (corpus doc seg text)."
)
_SPLIT_HELP = (
    "test: the held-out talks the packaged weights were not fitted on; all: every row (the README baselines); train."
)
_SYNTHETIC_HELP = (
    "Also corrupt the human references (and --clean) with synthetic MT errors and report the detection rate per "
    "error type."
)
_CLEAN_HELP = "Clean-English TSV (corpus doc seg text) for --synthetic (default: clean_en.tsv beside FILE, if present)."
_PER_KIND_HELP = (
    "Synthetic pairs per error type (28: the test-split pairs that scripts/train_tagger.py extracts, so their LM "
    "reads are cached)."
)
_SHOW_HELP = (
    "List the N largest misses and false alarms (false-alarms: the first N findings per detector on clean text "
    "and on MT rows)."
)
_SEED_HELP = "Seed of the synthetic errors and the random baseline (false-alarms: of the planted artifacts)."
_DETECTOR_HELP = "With false-alarms: a detector to measure (repeat the option, or give a comma-separated list)."
_PARAGRAPH_HELP = (
    "With false-alarms: join N consecutive segments of a document into one paragraph (default 1: each segment its own)."
)
_TAGS_HELP = (
    "With da: an MLQE-PE word-tag file (OK/BAD per MT token, or per gap and token) with its .mt file beside it: "
    "also report the word-level MCC of the adequacy findings."
)
_SOURCE_LANG_HELP = "With da: the source language (ISO 639-1, e.g. ro); default: identified from the sources."
_LIMIT_HELP = "With da: score the first N rows only."
_CACHE_HELP = "Cache folder for features and LM surprisals (default: $GARBLE_CACHE/eval, else out/cache)."
_WITH_SOURCE_HELP = (
    "Also score each segment with its source (from mqm_ted_zhen_spans.jsonl beside FILE) and report the table and "
    "the recall per category with the source-aware detectors."
)


@scorer_options(context=False)
def eval_cmd(
    file: Path = typer.Argument(..., help=_FILE_HELP, show_default=False),
    more: Optional[List[Path]] = typer.Argument(None, metavar="FILE...", help=_MORE_HELP, show_default=False),
    fmt: EvalFormat = typer.Option(EvalFormat.table, "--format", "-f", help="table (text) or json."),
    split: EvalSplit = typer.Option(EvalSplit.test, "--split", help=_SPLIT_HELP),
    synthetic: bool = typer.Option(False, "--synthetic", help=_SYNTHETIC_HELP),
    clean: Optional[Path] = typer.Option(None, "--clean", help=_CLEAN_HELP),
    per_kind: int = typer.Option(28, "--per-kind", min=1, help=_PER_KIND_HELP),
    show: int = typer.Option(20, "--show", min=0, help=_SHOW_HELP),
    seed: int = typer.Option(0, "--seed", help=_SEED_HELP),
    output: Output = "-",
    opts: ScorerOptions = ScorerOptions(),
    detector: Optional[List[str]] = typer.Option(None, "--detector", metavar="NAME", help=_DETECTOR_HELP),
    paragraph_size: int = typer.Option(1, "--paragraph-size", min=1, metavar="N", help=_PARAGRAPH_HELP),
    cache: Optional[Path] = typer.Option(None, "--cache", help=_CACHE_HELP),
    with_source: bool = typer.Option(False, "--with-source", help=_WITH_SOURCE_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress messages."),
    tags: Optional[Path] = typer.Option(None, "--tags", help=_TAGS_HELP),
    source_lang: Optional[str] = typer.Option(None, "--source-lang", metavar="LANG", help=_SOURCE_LANG_HELP),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, metavar="N", help=_LIMIT_HELP),
) -> None:
    """Measure detection quality on human-annotated MT errors (ROC-AUC, length-controlled AUC, pairwise accuracy...).

    Each (system, doc) is scored as one document; features are cached, so a
    second run (another --weights) takes seconds. The first LM pass over
    the 7,935 segments of mqm_ted_zhen.tsv takes tens of minutes on a laptop CPU.
    `garble eval false-alarms FILE... --detector NAME` runs detectors alone on
    clean text and MT rows (findings per 1000 units, rows flagged per error group).
    """
    from ..eval import evaluate_pairs, format_pairs_report, format_report, make_cached_lm, run_evaluation
    from ..io import atomic_output

    mode = _mode(file, more or [])
    progress = _progress(quiet)
    if mode == "da":
        from ..eval.da import evaluate_da, format_da
        from ..eval.mlqe import read_da

        rows = read_da(more[0])[:limit]
        res = evaluate_da(rows, opts.build(), source_lang, tags=tags, progress=progress)
        text = format_da(res, str(more[0]))
    elif mode == "false-alarms":
        res, text = _false_alarms(more, detector, opts, show, paragraph_size, seed, progress)
    else:
        # the LM's reads are cached: the model loads only if some text is missing from the cache
        scorer = opts.build(lm=lambda: make_cached_lm(opts.model, device=opts.device, dtype=opts.dtype, cache=cache))
        if synthetic and clean is None:
            guess = file.parent / "clean_en.tsv"
            clean = guess if guess.is_file() else None
        if mode == "pairs":
            res = evaluate_pairs(more[0], scorer, progress=progress)
            text = format_pairs_report(res)
        else:
            res = run_evaluation(
                file,
                scorer,
                split=split.value,
                clean=clean,
                synthetic=synthetic,
                per_kind=per_kind,
                seed=seed,
                show=show,
                cache=cache,
                progress=progress,
                with_source=with_source,
            )
            text = format_report(res)
    with atomic_output(output) as out:
        if fmt is EvalFormat.json:
            out.write(json.dumps(res, indent=1, ensure_ascii=False) + "\n")
        else:
            out.write(text)


def _mode(file: Path, more: List[Path]) -> str:
    """``eval``, ``pairs`` or ``false-alarms`` (the first argument, when it names no file).

    A :class:`UsageError` for missing or extra files.
    """
    mode = str(file) if str(file) in ("pairs", "false-alarms", "da") and not file.exists() else "eval"
    if mode == "da" and len(more) != 1:
        raise UsageError("garble eval da needs one file: garble eval da FILE.tsv [--tags FILE.tags]")
    if mode == "pairs" and not more:
        raise UsageError("garble eval pairs needs a file: garble eval pairs FILE.jsonl")
    if mode == "pairs" and len(more) > 1:
        raise UsageError(f"unexpected extra argument {str(more[1])!r} (garble eval pairs takes one file)")
    if mode == "false-alarms" and not more:
        raise UsageError("garble eval false-alarms needs a file: garble eval false-alarms FILE.tsv... --detector NAME")
    if mode == "eval" and more:
        raise UsageError(f"unexpected extra argument {str(more[0])!r} (did you mean: garble eval pairs {more[0]}?)")
    return mode


def _false_alarms(
    files: List[Path],
    detector: Optional[List[str]],
    opts: ScorerOptions,
    show: int,
    paragraph_size: int,
    seed: int,
    progress,
):
    """``garble eval false-alarms``: the result and its report (``--detector``, ``--detectors``, less ``--exclude``)."""
    from ..eval import false_alarms, format_false_alarms

    names = split_names(",".join(detector or [])) + split_names(opts.detectors)
    if not names:
        raise UsageError("garble eval false-alarms needs a detector: --detector NAME (repeat it for more)")
    excl = set(split_names(opts.exclude))
    names = [n for n in dict.fromkeys(names) if n not in excl]
    res = false_alarms(files, names, show=show, para_size=paragraph_size, seed=seed, progress=progress)
    return res, format_false_alarms(res)


def _progress(quiet: bool):
    """A progress callback ``(what, i, n)``: about 20 lines per stage on standard error (none when ``quiet``)."""
    last = {"k": None}

    def progress(what: str, i: int, n: int) -> None:
        if quiet:
            return
        step = max(n // 20, 1)
        if i == n or i % step == 0 or last["k"] != what:
            sys.stderr.write(f"garble eval: {what} {i}/{n}\n")
            last["k"] = what

    return progress
