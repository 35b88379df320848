"""``garble eval da``: how well garble's scores track human direct assessments (an MLQE-PE-style file).

Every row is scored as its own segment with its source (``Scorer.score_segments``). Reported beside garble's
score, on the same rows: the QE head alone, the source-reading LM's total and mean surprisal with and without
the source, length, a random score and, when the file has it, the MT system's own ``model_scores``. Each is
oriented so that higher means better (garble's score and surprisals are negated). With word tags, the Matthews
correlation of garble's ``adequacy`` findings with the post-editors' BAD tags over MT words.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from ..errors import InputError
from .metrics import mcc, pearson, spearman


def read_tags(tags: Path, n: int) -> tuple[list[list[str]], list[list[bool]]]:
    """MT tokens and BAD flags from an MLQE-PE ``.tags`` file and the ``.mt`` file beside it (same stem)."""
    mt = tags.with_suffix(".mt")
    try:
        mt_lines = mt.read_text(encoding="utf-8").split("\n")
        tag_lines = tags.read_text(encoding="utf-8").split("\n")
    except OSError as e:
        raise InputError(f"{e.filename}: {e.strerror} (--tags needs the .mt file beside it)") from None
    words, bad = [], []
    for i in range(n):
        toks = mt_lines[i].split() if i < len(mt_lines) else []
        tg = tag_lines[i].split() if i < len(tag_lines) else []
        if len(tg) == 2 * len(toks) + 1:
            tg = tg[1::2]  # gaps and words interleaved: the words' tags
        if len(tg) != len(toks):
            raise InputError(f"{tags}:{i + 1}: {len(tg)} tags for {len(toks)} MT tokens in {mt.name}")
        words.append(toks)
        bad.append([t == "BAD" for t in tg])
    return words, bad


def evaluate_da(
    rows: Sequence[Any],
    scorer: Any,
    source_lang: Optional[str],
    tags: Optional[Path] = None,
    batch: int = 200,
    progress: Optional[Callable[[str, int, int], None]] = None,
    seed: int = 0,
) -> dict:
    """Pearson and Spearman with ``z_mean`` of each score over ``rows`` (:class:`garble.eval.mlqe.DARow`)."""
    results = []
    for k in range(0, len(rows), batch):
        part = rows[k : k + batch]
        results.extend(
            scorer.score_segments([r.translation for r in part], [r.source for r in part], source_lang=source_lang)
        )
        if progress:
            progress("scored", min(k + batch, len(rows)), len(rows))
    z = [r.z_mean for r in rows]
    rng = random.Random(seed)
    cols: dict[str, list] = {"garble (-score)": [-u.score for u in results]}
    with_qe = all(u.qe is not None for u in results)
    if with_qe:
        cols["QE head alone (z)"] = [u.qe.z for u in results]
        cols["LM + source, total (-)"] = [-u.qe.lm_total for u in results]
        cols["LM + source, mean (-)"] = [-u.qe.lm_mean for u in results]
        cols["LM without the source, mean (-)"] = [-(u.qe.lm_mean + u.qe.pmi_mean) for u in results]
    cols["length in characters (-)"] = [-len(r.translation) for r in rows]
    cols["random"] = [rng.random() for _ in rows]
    if all(r.model_scores is not None for r in rows):
        cols["MT system's own (model_scores)"] = [r.model_scores for r in rows]
    out: dict = {
        "rows": len(rows),
        "qe": with_qe,
        "scores": {name: {"pearson": pearson(v, z), "spearman": spearman(v, z)} for name, v in cols.items()},
    }
    if tags is not None:
        out["words"] = _word_mcc(rows, results, tags)
    return out


def _word_mcc(rows, results, tags: Path) -> dict:
    from ..qe.features import word_spans

    words, bad = read_tags(tags, len(rows))
    pred, gold = [], []
    for r, u, ws, bs in zip(rows, results, words, bad):
        found = [(f.start, f.end) for f in u.findings if f.detector == "adequacy"]
        for (a, b), is_bad in zip(word_spans(r.translation, ws), bs):
            pred.append(any(a < fb and fa < b for fa, fb in found) if b > a else False)
            gold.append(is_bad)
    return {"words": len(gold), "bad_share": sum(gold) / max(1, len(gold)), "mcc": mcc(pred, gold)}


def format_da(res: dict, name: str) -> str:
    lines = [f"{name}: {res['rows']} rows, correlation with the human DA z-scores (higher score = better)", ""]
    lines.append(f"  {'score':36s} {'Pearson':>8s} {'Spearman':>9s}")
    for k, v in res["scores"].items():
        lines.append(f"  {k:36s} {v['pearson']:8.3f} {v['spearman']:9.3f}")
    if not res["qe"]:
        lines.append("  (no QE: the source-reading model is not installed, or the sources could not be used)")
    if "words" in res:
        w = res["words"]
        lines += ["", f"  word level: MCC {w['mcc']:.3f} over {w['words']} MT words ({w['bad_share']:.1%} BAD)"]
    return "\n".join(lines) + "\n"
