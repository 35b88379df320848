"""Training data for the error model and the combiner: token streams with labels.

Two sources, both turned into :class:`Stream` records by one LM pass each:

* **MQM spans** (``mqm_ted_zhen_spans.jsonl``): each (system, talk) is one
  document, its segments joined by newlines as :meth:`garble.Scorer.score_units`
  joins them; a token is labelled with the worst severity of a rater's span
  it overlaps (2 Major, 1 Minor, 0 none).
* **Synthetic corruptions** (:mod:`garble.synth`) of clean text (the human
  references and clean_en.tsv): the clean unit and its corrupted copy, each
  scored after the unit before it (or alone, for half of the pairs: single
  lines are scored that way), tokens labelled by :func:`garble.synth.error_spans`.

Used by ``scripts/train_tagger.py`` and ``scripts/fit_scorer.py``; kept in the
package so that training and evaluation read data the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

from .errors import InputError
from .eval.data import SpanSegment, read_spans, split_of


@dataclass
class Stream:
    """One scored text with its units and labels (what the trainers consume)."""

    kind: str  # "mqm" or the synthetic error type (clean copies: "clean:<type>")
    group: str  # documents: "system/doc"; synthetic: the pair id
    split: str
    text: str
    units: list  # (start, end) character spans
    unit_meta: list  # per unit: dict (seg, mqm labels, ...)
    token_label: list = field(default_factory=list)  # per token: 0, 1 (minor), 2 (major)
    pair: object = None  # synthetic: the garble.synth.SynthPair


def mqm_streams(segs: Sequence[SpanSegment]) -> list[Stream]:
    by: dict = {}
    for s in segs:
        by.setdefault((s.system, s.doc), []).append(s)
    out = []
    for (system, doc), rows in by.items():
        rows.sort(key=lambda r: r.seg)
        pos, units, meta, spans = 0, [], [], []
        for r in rows:
            units.append((pos, pos + len(r.text)))
            meta.append(
                {
                    "system": system,
                    "doc": doc,
                    "seg": r.seg,
                    "is_ref": r.is_ref,
                    "n_err": len(r.errors),
                    "major": sum(e[2] == 2 for e in r.errors),
                    "categories": sorted({e[3] for e in r.errors}),
                }
            )
            for a, b, sev, _ in r.errors:
                if a is not None and b > a:
                    spans.append((pos + a, pos + b, sev))
            pos += len(r.text) + 1
        text = "\n".join(r.text for r in rows)
        st = Stream("mqm", f"{system}/{doc}", split_of(doc), text, units, meta)
        st.token_label = spans  # character spans for now; turned into token labels after tokenizing
        out.append(st)
    return out


def synthetic_streams(
    sources: Sequence[tuple[str, Sequence[str], str]], kinds: Sequence[str], per_kind: dict, seed: int = 0
) -> list[Stream]:
    """Clean/corrupted stream pairs from clean documents ``(doc_id, texts, split)``.

    ``per_kind``: pairs per type for each split (e.g. ``{"train": 120, "test": 40}``).
    Half of the pairs (by a hash of the pair) are scored after the unit
    before them, half alone.
    """
    from .synth import error_spans, make_pairs, pair_in_context

    out = []
    for split, n in per_kind.items():
        src = [(d, t) for d, t, s in sources if s == split]
        for p in make_pairs(src, kinds=kinds, per_kind=n, seed=seed):
            pid = f"{p.doc_id}:{p.index}:{p.corruption.kind}"
            prev = [p.texts[p.index - 1]] if pair_in_context(p) and p.index > 0 else []
            for version, units in (("clean", [p.corruption.original]), ("bad", list(p.corruption.units))):
                texts = prev + units
                pos, spans = 0, []
                for t in texts:
                    spans.append((pos, pos + len(t)))
                    pos += len(t) + 1
                text = "\n".join(texts)
                marked = list(range(len(prev), len(prev) + (p.corruption.n_marked if version == "bad" else 1)))
                meta = [{"marked": i in marked, "context": bool(prev)} for i in range(len(texts))]
                labels = []
                if version == "bad":
                    joined_start = spans[len(prev)][0]
                    # error_spans works on the units joined by spaces; map back onto the newline-joined text
                    # (same length)
                    for a, b in error_spans(p.corruption.original, " ".join(units)):
                        labels.append((joined_start + a, joined_start + b, 2))
                st = Stream(("" if version == "bad" else "clean:") + p.corruption.kind, pid, split, text, spans, meta)
                st.token_label = labels
                st.pair = p
                out.append(st)
    return out


def label_tokens(offsets, char_spans) -> list[int]:
    """Per token, the worst severity of the character spans it overlaps."""
    lab = [0] * len(offsets)
    for a, b, sev in char_spans:
        for i, (x, y) in enumerate(offsets):
            if x < b and a < y and sev > lab[i]:
                lab[i] = sev
    return lab


def extract(
    lm, streams: Sequence[Stream], out: Path, batch_docs: int = 8, progress: Optional[Callable[[int, int], None]] = None
) -> None:
    """Score ``streams`` with ``lm`` (hidden states kept) and save them to ``out`` (.npz + .json).

    The arrays are concatenated over streams: per token ``stream``,
    ``surprisal``, ``entropy``, ``rank``, ``label``, ``hidden`` (float16);
    per stream ``end_surprisal``; the JSON holds the streams' metadata and
    token offsets.
    """
    import numpy as np

    cols: dict = {k: [] for k in ("stream", "surprisal", "entropy", "rank", "label", "hidden")}
    ends, meta = [], []
    for i in range(0, len(streams), batch_docs):
        chunk = streams[i : i + batch_docs]
        res = lm.score_stream([s.text for s in chunk], keep_hidden=True)
        for k, (st, r) in enumerate(zip(chunk, res)):
            n = r.n_tokens
            labels = label_tokens(r.offsets, st.token_label)
            cols["stream"].append(np.full(n, i + k, np.int32))
            cols["surprisal"].append(r.surprisal)
            cols["entropy"].append(r.entropy)
            cols["rank"].append(r.rank)
            cols["label"].append(np.asarray(labels, np.int8))
            cols["hidden"].append(r.hidden.astype(np.float16))
            ends.append((r.end_surprisal, r.end_entropy, r.end_rank))
            meta.append(
                {
                    "kind": st.kind,
                    "group": st.group,
                    "split": st.split,
                    "units": st.units,
                    "unit_meta": st.unit_meta,
                    "offsets": [list(o) for o in r.offsets],
                    "n": n,
                }
            )
        if progress:
            progress(min(i + batch_docs, len(streams)), len(streams))
    arrays = {k: np.concatenate(v) if v else np.zeros(0) for k, v in cols.items() if v}
    arrays["end"] = np.asarray(ends, np.float32).reshape(-1, 3)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out.with_suffix(".npz"), **arrays)
    out.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")


def extract_all(
    eval_dir: Path,
    out: Path,
    model: Optional[str] = None,
    dtype: str = "bfloat16",
    per_kind: int = 70,
    seed: int = 0,
    log=print,
) -> None:
    """Score the MQM talks and the synthetic pairs once, hidden states kept (``out/mqm.*``, ``out/synth.*``)."""
    from .lm import LanguageModel

    lm = LanguageModel(model, dtype=dtype, tagger=False)
    log(f"model {lm.name} ({lm.dtype})")
    mqm, synth = load_streams(eval_dir, per_kind, seed)
    log(f"{len(mqm)} MQM documents, {len(synth)} synthetic streams")
    extract(
        lm,
        synth,
        out / "synth",
        batch_docs=64,
        progress=lambda i, n: log(f"synthetic {i}/{n}") if i % 640 == 0 or i == n else None,
    )
    extract(lm, mqm, out / "mqm", batch_docs=4, progress=lambda i, n: log(f"mqm {i}/{n}"))


@dataclass
class TokenData:
    """The extracted token arrays of one file (``out/mqm`` or ``out/synth``) with per-stream metadata."""

    meta: list
    stream: object
    surprisal: object
    entropy: object
    rank: object
    label: object
    hidden: object
    end: object  # (n_streams, 3): surprisal, entropy, rank of the newline after the text

    @classmethod
    def load(cls, path: Path) -> "TokenData":
        import numpy as np

        z = np.load(path.with_suffix(".npz"))
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        return cls(meta, z["stream"], z["surprisal"], z["entropy"], z["rank"], z["label"], z["hidden"], z["end"])

    def bounds(self):
        """``(start, end)`` token index range of each stream."""
        import numpy as np

        starts = np.searchsorted(self.stream, np.arange(len(self.meta)), side="left")
        ends = np.searchsorted(self.stream, np.arange(len(self.meta)), side="right")
        return list(zip(starts.tolist(), ends.tolist()))

    def matrix(self):
        """The head's input (:func:`garble.tagger.token_matrix`) for every token, stream by stream."""
        import numpy as np

        from .tagger import stream_matrix

        parts = [stream_matrix(st, self.hidden[a:b]) for st, (a, b) in zip(self.streams(), self.bounds())]
        return np.concatenate(parts).astype(np.float32)

    def streams(self, p=None):
        """:class:`garble.lm.TokenStream` of each stream (``p``: per-token error probabilities to attach)."""
        from .lm import TokenStream

        out = []
        for i, (a, b) in enumerate(self.bounds()):
            e = self.end[i]
            offs = tuple(tuple(o) for o in self.meta[i]["offsets"])
            out.append(
                TokenStream(
                    offs,
                    self.surprisal[a:b],
                    self.entropy[a:b],
                    self.rank[a:b],
                    float(e[0]),
                    None if p is None else p[a:b],
                    None,
                    float(e[1]),
                    int(e[2]),
                )
            )
        return out


def fit_head(x, y, w, hidden_units: int = 0, l2: float = 1e-4, epochs: int = 150, seed: int = 0, log=None):
    """A :class:`garble.tagger.Tagger` fitted by weighted logistic loss (full-batch Adam, torch)."""
    import numpy as np
    import torch

    from .tagger import Tagger

    torch.manual_seed(seed)
    mean = x.mean(0)
    std = x.std(0) + 1e-6
    xt = torch.from_numpy((x - mean) / std)
    yt = torch.from_numpy(y.astype(np.float32))
    wt = torch.from_numpy((w / w.mean()).astype(np.float32))
    d = x.shape[1]
    if hidden_units:
        net = torch.nn.Sequential(torch.nn.Linear(d, hidden_units), torch.nn.ReLU(), torch.nn.Linear(hidden_units, 1))
    else:
        net = torch.nn.Sequential(torch.nn.Linear(d, 1))

    def objective():
        z = net(xt)[:, 0]
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(z, yt, reduction="none") * wt).mean()
        reg = sum((p**2).sum() for n, p in net.named_parameters() if "weight" in n)
        return loss, loss + l2 * reg

    if not hidden_units:  # convex: L-BFGS converges in a few dozen full-batch steps
        opt = torch.optim.LBFGS(
            net.parameters(), lr=1.0, max_iter=epochs, history_size=20, line_search_fn="strong_wolfe"
        )

        def closure():
            opt.zero_grad()
            total = objective()[1]
            total.backward()
            return total

        opt.step(closure)
        if log:
            log(f"  L-BFGS loss {objective()[0].item():.4f}")
    else:
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        for ep in range(epochs):
            opt.zero_grad()
            loss, total = objective()
            total.backward()
            opt.step()
            if log and ep % 100 == 0:
                log(f"  epoch {ep} loss {loss.item():.4f}")
    layers = [
        (m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy())
        for m in net
        if isinstance(m, torch.nn.Linear)
    ]
    return Tagger(mean.astype(np.float32), std.astype(np.float32), layers)


def token_weights(data: TokenData, minor: float = 0.3):
    """Per-token (target, weight): Major spans 1 at weight 1, Minor spans 1 at weight ``minor``,
    the rest 0 at weight 1."""
    import numpy as np

    lab = data.label
    y = (lab > 0).astype(np.float32)
    w = np.where(lab == 1, minor, 1.0).astype(np.float32)
    return y, w


def split_mask(data: TokenData, split: str):
    import numpy as np

    s = np.array([m["split"] == split for m in data.meta])
    return s[data.stream]


def _card(name: str, head, hidden_units: int, results: dict, n_mqm: int, n_synth: int) -> dict:
    """The head's JSON card: the LM it belongs to, inputs, training data, held-out metrics, how to rebuild it."""
    import datetime

    return {
        "lm": name,
        "hidden_size": head.hidden_size,
        "date": datetime.date.today().isoformat(),
        "architecture": "logistic regression"
        if not hidden_units
        else f"MLP, one hidden layer of {hidden_units} ReLU units",
        "inputs": (
            "garble.tagger.token_matrix: 8 scalar features (surprisal, entropy, log rank, surprisal-entropy, "
            "next token's surprisal/entropy/log rank, previous token's surprisal) + the last hidden state"
        ),
        "training_data": {
            "mqm": (
                "mqm_ted_zhen_spans.jsonl, train talks only (garble.eval.data.split_of): Major spans weight 1, "
                "Minor 0.3; each (system, talk) one document"
            ),
            "synthetic": (
                "garble.synth corruptions (all ALL_TYPES kinds) of the human references and clean_en.tsv, "
                "train split; token labels from garble.synth.error_spans"
            ),
            "tokens": {"mqm_train": n_mqm, "synthetic_train": n_synth},
        },
        "metrics_held_out": results,
        "rebuild": "python scripts/train_tagger.py all (then copy out/tagger/tagger_*.npz and .json to data/)",
    }


def train_head(
    out: Path,
    model: Optional[str] = None,
    hidden_units: int = 0,
    w_synth: float = 1.0,
    w_mqm: float = 1.0,
    eval_dir: Optional[Path] = None,
    log=print,
):
    """Fit the head on train talks + train-split synthetic pairs; write ``out/tagger_<model>.npz`` and its card."""

    import numpy as np

    from .eval.metrics import roc_auc
    from .lm import DEFAULT_MODEL

    mqm, syn = TokenData.load(out / "mqm"), TokenData.load(out / "synth")
    xm, xs = mqm.matrix(), syn.matrix()
    ym, wm = token_weights(mqm)
    ys, ws = token_weights(syn)
    tm, ts = split_mask(mqm, "train"), split_mask(syn, "train")
    # a synthetic stream's context unit and its clean copy are negatives; the two sources are balanced by token count
    results = {}
    variants = {"mqm+synthetic": (w_mqm, w_synth), "mqm only": (1.0, 0.0), "synthetic only": (0.0, 1.0)}
    heads = {}
    for name, (a, b) in variants.items():
        x = np.concatenate([xm[tm], xs[ts]])
        y = np.concatenate([ym[tm], ys[ts]])
        w = np.concatenate([wm[tm] * a, ws[ts] * b * (tm.sum() / max(ts.sum(), 1))])
        keep = w > 0
        log(f"fit {name}: {int(keep.sum())} tokens")
        head = fit_head(x[keep], y[keep], w[keep], hidden_units=hidden_units, log=log)
        heads[name] = head
        pm, ps = head.predict(xm[~tm]), head.predict(xs[~ts])
        major = mqm.label[~tm]
        results[name] = {
            "token_auc_major_test_talks": round(roc_auc(pm[major != 1], major[major != 1] == 2), 4),
            "token_auc_synthetic_test": round(roc_auc(ps, syn.label[~ts] > 0), 4),
        }
        log(f"  {name}: {results[name]}")
    base = {
        "token_auc_major_test_talks": round(
            roc_auc(mqm.surprisal[~tm][mqm.label[~tm] != 1], mqm.label[~tm][mqm.label[~tm] != 1] == 2), 4
        ),
        "token_auc_synthetic_test": round(roc_auc(syn.surprisal[~ts], syn.label[~ts] > 0), 4),
    }
    results["surprisal alone"] = base
    log(f"  surprisal alone: {base}")
    head = heads["mqm+synthetic"]
    name = Path(model or DEFAULT_MODEL).name
    head.card = _card(name, head, hidden_units, results, int(tm.sum()), int(ts.sum()))
    eval_dir = out.parent.parent.parent / "shared" / "eval" if eval_dir is None else eval_dir
    head.card["finding_threshold"] = 0.5
    oof = out_of_fold_p(eval_dir, out, head, hidden_units=hidden_units, log=log)
    thr, thr_table = choose_threshold(eval_dir, out, head, log=log, p_mqm=oof["mqm"])
    head.card["finding_threshold"] = thr
    head.card["finding_threshold_train_talks_out_of_fold"] = {
        str(k): {kk: (round(vv, 4) if isinstance(vv, float) else vv) for kk, vv in v.items()}
        for k, v in thr_table.items()
    }
    path = out / f"tagger_{name}.npz"
    head.save(path)
    for k, h in heads.items():
        if k != "mqm+synthetic":
            h.card = {"variant": k}
            h.save(out / f"variant_{k.replace(' ', '_').replace('+', '_')}.npz")
    log(f"wrote {path}")
    return head, results


def load_streams(eval_dir: Path, per_kind: int = 70, seed: int = 0) -> tuple[list[Stream], list[Stream]]:
    """The (MQM, synthetic) streams :func:`extract_all` scores (deterministic: rebuilt the same for training)."""
    from .eval.data import read_annotated, read_clean
    from .eval.synthetic import synthetic_sources
    from .synth import ALL_TYPES

    mqm = mqm_streams(read_spans(eval_dir / "mqm_ted_zhen_spans.jsonl"))
    rows = read_annotated(eval_dir / "mqm_ted_zhen.tsv")
    clean = read_clean(eval_dir / "clean_en.tsv") if (eval_dir / "clean_en.tsv").is_file() else []
    synth = synthetic_streams(
        synthetic_sources(rows, clean), ALL_TYPES, {"train": per_kind, "test": max(1, per_kind * 2 // 5)}, seed=seed
    )
    return mqm, synth


def out_of_fold_p(
    eval_dir: Path, out: Path, head, per_kind: int = 70, seed: int = 0, hidden_units: int = 0, log=print
) -> dict:
    """Per data set (``mqm``, ``synth``), the error model's token probabilities where no token was predicted by a
    head that saw it.

    The combiner is fitted on the train split: features from a head trained on
    those same tokens would look far better there than on new text (stacking
    leakage). So each train-split token gets the prediction of a head fitted
    without its fold (the folds of :func:`garble.combiner.choose_and_fit`: MQM
    by talk, synthetic pairs by a hash of their source document); test-split
    tokens get ``head`` (fitted on the whole train split).
    """
    import numpy as np

    from .combiner import stable_fold

    mqm_s, syn_s = load_streams(eval_dir, per_kind, seed)
    mqm, syn = TokenData.load(out / "mqm"), TokenData.load(out / "synth")
    talks = sorted({s.group.split("/", 1)[1] for s in mqm_s if s.split == "train"})
    k = len(talks)
    fold_m = np.array([talks.index(s.group.split("/", 1)[1]) if s.split == "train" else -1 for s in mqm_s])[mqm.stream]
    fold_s = np.array([stable_fold(s.pair.doc_id, k) if s.split == "train" else -1 for s in syn_s])[syn.stream]
    xm, xs = mqm.matrix(), syn.matrix()
    ym, wm = token_weights(mqm)
    ys, ws = token_weights(syn)
    pm, ps = head.predict(xm), head.predict(xs)
    for f in range(k):
        tm, ts = (fold_m >= 0) & (fold_m != f), (fold_s >= 0) & (fold_s != f)
        w = np.concatenate([wm[tm], ws[ts] * (tm.sum() / max(ts.sum(), 1))])
        h = fit_head(np.concatenate([xm[tm], xs[ts]]), np.concatenate([ym[tm], ys[ts]]), w, hidden_units=hidden_units)
        pm[fold_m == f] = h.predict(xm[fold_m == f])
        ps[fold_s == f] = h.predict(xs[fold_s == f])
        log(f"  out-of-fold head {f + 1}/{k} ({talks[f]})")
    return {"mqm": pm, "synth": ps}


def frozen_features(
    eval_dir: Path,
    out: Path,
    head=None,
    per_kind: int = 70,
    seed: int = 0,
    log=print,
    p_override: Optional[dict] = None,
    with_sources: bool = False,
):
    """``(segments, synthetic results, split of each synthetic source doc)`` from the extracted streams.

    The real :class:`garble.Scorer` runs over the streams (through
    :class:`garble.combiner.FrozenLM`, with ``head`` applied to the stored
    hidden states; ``None``: surprisal features alone; ``p_override``: token
    probabilities per data set instead, see :func:`out_of_fold_p`), so the features are
    exactly those garble computes (``with_sources``: the MQM segments are
    scored with their sources, so the source-aware detectors run); MQM segments come out as
    :func:`garble.eval.data.load_segments` gives them, synthetic pairs as
    :func:`garble.eval.synthetic.score_synthetic` does.
    """
    from .api import Scorer
    from .combiner import FrozenLM
    from .eval.data import build_documents, read_annotated, row_order, score_documents
    from .eval.synthetic import score_synthetic

    mqm_s, syn_s = load_streams(eval_dir, per_kind, seed)
    streams = {}
    for name, ss in (("mqm", mqm_s), ("synth", syn_s)):
        data = TokenData.load(out / name)
        if len(data.meta) != len(ss) or any(m["group"] != s.group for m, s in zip(data.meta, ss)):
            raise InputError(
                f"{out / name}.json does not match the streams rebuilt from {eval_dir}: "
                "run `scripts/train_tagger.py extract` again"
            )
        if p_override is not None and name in p_override:
            p = p_override[name]
        else:
            p = head.predict(data.matrix()) if head is not None else None
        streams.update({s.text: t for s, t in zip(ss, data.streams(p))})
    scorer = Scorer(model=FrozenLM(streams, tagger=head))
    rows = read_annotated(eval_dir / "mqm_ted_zhen.tsv")
    srcs = (
        {(r.system, r.doc, r.seg): r.source for r in read_spans(eval_dir / "mqm_ted_zhen_spans.jsonl")}
        if with_sources
        else None
    )
    segs = row_order(score_documents(build_documents(rows), scorer, sources=srcs), rows)
    log(f"{len(segs)} MQM segments scored")
    pairs = [st.pair for st in syn_s if not st.kind.startswith("clean:")]
    split_of_pair = {id(st.pair): st.split for st in syn_s if not st.kind.startswith("clean:")}
    synth = score_synthetic(pairs, scorer, cache=False)
    splits = [split_of_pair[id(p)] for p in pairs]
    log(f"{len(synth)} synthetic pairs scored")
    return segs, synth, splits


def choose_threshold(
    eval_dir: Path, out: Path, head, min_precision: float = 0.5, log=print, p_mqm=None
) -> tuple[float, dict]:
    """The finding threshold with the most Major-span recall among those whose tagger spans reach ``min_precision``
    on the train talks.

    Precision: share of the error model's finding spans that overlap a
    rater's error span; recall: share of Major spans overlapped
    (:func:`garble.eval.metrics.span_metrics`). ``p_mqm``: the token
    probabilities to use (out-of-fold ones, :func:`out_of_fold_p`: a head's
    probabilities on the tokens it was fitted on run high, and a threshold
    chosen on them flags almost nothing on new text). Test talks are not looked at.
    """
    from .api import Scorer
    from .combiner import FrozenLM
    from .eval.data import build_documents, read_annotated, read_span_index, score_documents
    from .eval.metrics import span_metrics

    streams = mqm_streams(read_spans(eval_dir / "mqm_ted_zhen_spans.jsonl"))
    data = TokenData.load(out / "mqm")
    p = head.predict(data.matrix()) if p_mqm is None else p_mqm
    frozen = FrozenLM({s.text: t for s, t in zip(streams, data.streams(p))}, tagger=head)
    rows = [r for r in read_annotated(eval_dir / "mqm_ted_zhen.tsv") if split_of(r.doc) == "train" and not r.is_ref]
    spans = read_span_index(eval_dir / "mqm_ted_zhen_spans.jsonl")
    table = {}
    best = None
    for t in (0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        head.card["finding_threshold"] = t
        segs = score_documents(build_documents(rows), Scorer(model=frozen, detectors=[]))
        m = span_metrics(segs, spans).get("tagger", {"findings": 0, "precision": float("nan"), "major_recall": 0.0})
        table[t] = m
        log(f"  threshold {t}: {m}")
        if (
            m["findings"]
            and m["precision"] >= min_precision
            and (best is None or m["major_recall"] > table[best]["major_recall"])
        ):
            best = t
    if best is None:
        best = max(table, key=lambda t: table[t]["precision"] if table[t]["findings"] else -1)
    head.card["finding_threshold"] = best
    return best, table


def seed_stream_cache(eval_dir: Path, out: Path, cached_lm, per_kind: int = 70, seed: int = 0) -> int:
    """Put every extracted stream into a :class:`garble.eval.cache.CachedLM`'s stream cache (hidden states included).

    ``garble eval`` then reads the MQM talks and the test-split synthetic
    pairs without running the LM again. Returns the number of streams stored.
    """
    mqm_s, syn_s = load_streams(eval_dir, per_kind, seed)
    n = 0
    for name, ss in (("mqm", mqm_s), ("synth", syn_s)):
        data = TokenData.load(out / name)
        if len(data.meta) != len(ss):
            raise InputError(f"{out / name}.json does not match the streams rebuilt from {eval_dir}")
        for (a, b), s, st in zip(data.bounds(), ss, data.streams()):
            cached_lm.put_stream(s.text, st.__class__(**{**vars(st), "hidden": data.hidden[a:b]}))
            n += 1
    return n
