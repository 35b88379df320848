#!/usr/bin/env python3
"""Corpus-scale benchmark: garble vs lmppl, and the LM backends/levers tried.

    python scripts/bench.py                      # every stage (about an hour on 2 cores)
    python scripts/bench.py --only lm:fp32_t2,llamacpp,nolm_t1
    python scripts/bench.py --n 500 --quick      # a fast smoke run
    python scripts/bench.py --md docs/BENCHMARKS.md.table   # also write the Markdown table
    python scripts/bench.py --startup            # what a user waits for: Scorer(), the seed, first output
    python scripts/bench.py --install            # pip install "./[lm]" into fresh venvs: size, no torch

``--startup`` times, each in a fresh process and with a warm model cache,
``--repeat`` times (the median is shown): ``import garble``; ``garble
--version``; the imports of torch and transformers alone; ``garble.Scorer()``
with the default model (imports included); ``score_document`` on the seed
article after it; and ``garble rank`` on the seed end to end, with the time
to its first byte of output (in a pipe: the results; on a terminal, a
pseudo-terminal here: whatever garble writes first, stdout or stderr). ``--install`` makes two venvs under ``--tmp``:
one gets ``pip install "./[lm]"`` (its size, whether any torch or nvidia
wheel came with it), the other ``torch==2.13.0`` first and then the same
(torch must stay as it was).

Every measurement runs in a fresh subprocess (so its peak RSS is its own) on
the same segments: the first ``--n`` (2,000) non-empty rows of
``../shared/eval/mqm_ted_zhen.tsv``. Throughput counts scoring only (the
model is loaded and warmed up first; load time is printed apart), except the
``cli:*`` rows, which time a whole ``garble score`` command.

The ``long:*`` rows time ``garble rank FILE --top 5`` on one document on a
single line (the ``--n`` segments joined by spaces, repeated to size, no
newline) of 100 KB and of 1 MB, with the LM (``long:lm``) and without it
(``long:nolm``), and on a one-sentence file for the start-up (process and
model load). Their columns are the seconds per MB of each size, start-up
taken off, and the ratio of the two: time linear in the input keeps it near
1 (issue 20 asks for at most 2 with the LM). The 1 MB run with the LM takes
tens of minutes on 2 cores.

Rows whose numerics differ from the fp32 baseline get the Spearman rank
correlation of their per-segment mean surprisal with the baseline's, and the
ROC-AUC of mean surprisal for "has a Major fluency error" vs "no error" (the
eval's target) so a lever's effect on quality shows next to its speed.

lmppl runs in its own virtual environment (``--lmppl-python``, default
``/tmp/lmppl-venv/bin/python``), made with::

    python3 -m venv /tmp/lmppl-venv
    /tmp/lmppl-venv/bin/pip install torch==2.13.0 'transformers<5' lmppl==0.3.2

and a copy of garble's cached model directory whose tokenizer_config.json
names ``GPT2TokenizerFast`` (transformers 4.x cannot read the class name
transformers 5 saves); the copy is made under ``--tmp`` automatically.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "eval" / "mqm_ted_zhen.tsv"
SLOW_N = int(
    os.environ.get("BENCH_SLOW_N", "300")
)  # segments for the levers that are far slower than fp32 (bf16 without native bf16)

# ---------------------------------------------------------------------------
# helpers shared by parent and children


def load_segments(path: Path, n: int) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE) if r["text"].strip()]
    out = []
    for r in rows[:n]:
        out.append(
            {
                "text": r["text"],
                "system": r["system"],
                "doc": r["doc"],
                "seg": int(r["seg"]),
                "mqm": float(r["mqm"]),
                "fluency_major": float(r["fluency_major"]),
            }
        )
    return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def mean_surprisals(scores) -> list[float]:
    return [statistics.fmean(s.surprisals) if s.n_tokens else 0.0 for s in scores]


def n_positions(scores) -> int:
    """Token positions the model ran on (each text's tokens plus its BOS prefix), padding excluded."""
    return sum(s.n_tokens + 1 for s in scores)


N_PARAMS = None


def model_params(model) -> int:
    """Parameters that cost 2 FLOP per token: every matrix, the tied embedding counted once (as the LM head)."""
    seen = set()
    n = 0
    for p in model.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            n += p.numel()
    return n


# ---------------------------------------------------------------------------
# child stages: each prints one JSON object as its last stdout line


def _lm_variant(variant: str, segs: list[dict], tmp: Path) -> dict:
    """Time garble.lm.LanguageModel.score(texts) (one pass, no context) under one lever."""
    import torch

    from garble.lm import LanguageModel

    threads = 1 if "_t1" in variant else 2
    set_threads(threads)
    texts = [s["text"] for s in segs]
    if variant.startswith(("bf16", "autocast")):
        texts = texts[:SLOW_N]
    t0 = time.perf_counter()
    lm = LanguageModel(device="cpu", dtype="bfloat16" if variant.startswith("bf16") else "float32")
    info: dict = {"params": model_params(lm.model)}
    if variant.startswith("int8"):
        from torch.ao.quantization import quantize_dynamic

        if variant.startswith("int8_all"):
            lm.model = quantize_dynamic(lm.model, {torch.nn.Linear}, dtype=torch.qint8)
        else:  # keep the (tied) LM head in fp32: it sets the log-softmax normaliser
            body = lm.model.model
            lm.model.model = quantize_dynamic(body, {torch.nn.Linear}, dtype=torch.qint8)
    if variant.startswith("fulllogits"):
        lm._use_rows = False  # the model's whole logits tensor and a full log-softmax (garble <= 0.1)
    if "_bt" in variant:  # batch_tokens override, e.g. fp32_bt2048_t2
        lm.batch_tokens = int(variant.split("_bt")[1].split("_")[0])
    load_s = time.perf_counter() - t0

    def run(tx):
        if variant.startswith("autocast"):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return lm.score(tx)
        if variant.startswith("unsorted"):
            # no length bucketing: fixed batches of 64 in input order (padded to the longest)
            out = []
            for i in range(0, len(tx), 64):
                out.extend(lm.score(tx[i : i + 64]))
            return out
        if variant.startswith("dedup"):
            uniq = list(dict.fromkeys(tx))
            got = dict(zip(uniq, lm.score(uniq)))
            info["unique"] = len(uniq)
            return [got[t] for t in tx]
        return lm.score(tx)

    return {**_timed(run, texts, tmp), "load_s": load_s, "threads": threads, "dtype": str(lm.dtype), **info}


def _timed(run, texts: list[str], tmp: Path) -> dict:
    """Warm up, then time ``run(texts)``; with BENCH_PART=k/n only every n-th text from k, after a barrier."""
    run(texts[:16])
    part = os.environ.get("BENCH_PART")  # the 2-process rows
    if part:
        k, n = map(int, part.split("/"))
        texts = texts[k::n]
        _barrier(tmp, k, n)
    t1 = time.perf_counter()
    wall0 = time.time()
    scores = run(texts)
    seconds = time.perf_counter() - t1
    return {
        "n": len(texts),
        "seconds": seconds,
        "start": wall0,
        "end": wall0 + seconds,
        "positions": n_positions(scores),
        "means": mean_surprisals(scores),
    }


def _barrier(tmp: Path, k: int, n: int) -> None:
    (tmp / f"ready.{k}").touch()
    deadline = time.time() + 600
    while not all((tmp / f"ready.{i}").exists() for i in range(n)):
        if time.time() > deadline:
            raise SystemExit("barrier timeout")
        time.sleep(0.01)


def _llamacpp(variant: str, segs: list[dict], tmp: Path) -> dict:
    from garble.lm.backends import LlamaCppModel

    threads = 1 if "_t1" in variant else 2
    texts = [s["text"] for s in segs]
    t0 = time.perf_counter()
    kw = {}
    if "_b" in variant:
        kw["batch_tokens"] = int(variant.split("_b")[1].split("_")[0])
    lm = LlamaCppModel(n_threads=threads, **kw)
    load_s = time.perf_counter() - t0
    return {
        **_timed(lm.score, texts, tmp),
        "load_s": load_s,
        "threads": threads,
        "dtype": "Q4_1 weights, q8 activations (llama.cpp)",
    }


def _onnx(variant: str, segs: list[dict], tmp: Path) -> dict:
    import onnxruntime as ort
    import torch

    from garble.lm import LanguageModel

    set_threads(2)
    texts = [s["text"] for s in segs]
    t0 = time.perf_counter()
    lm = LanguageModel(device="cpu", dtype="float32")
    path = tmp / "smollm2.onnx"
    if not path.exists():

        class Wrap(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, ids, mask):
                return torch.log_softmax(self.m(input_ids=ids, attention_mask=mask, use_cache=False).logits, -1)

        ids = torch.ones((2, 8), dtype=torch.long)
        torch.onnx.export(
            Wrap(lm.model),
            (ids, ids),
            str(path),
            input_names=["ids", "mask"],
            output_names=["logp"],
            dynamic_axes={"ids": {0: "b", 1: "t"}, "mask": {0: "b", 1: "t"}, "logp": {0: "b", 1: "t"}},
            dynamo=False,
        )
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    load_s = time.perf_counter() - t0

    class OrtModel:
        def __call__(self, input_ids, attention_mask):
            out = sess.run(None, {"ids": input_ids.numpy(), "mask": attention_mask.numpy()})[0]

            class R:
                logits = torch.from_numpy(out)

            return R

    lm.model = OrtModel()  # log_softmax of log-probs is the identity: lm.score works unchanged
    lm.score(texts[:16])
    t1 = time.perf_counter()
    scores = lm.score(texts)
    seconds = time.perf_counter() - t1
    return {
        "n": len(texts),
        "seconds": seconds,
        "load_s": load_s,
        "positions": n_positions(scores),
        "means": mean_surprisals(scores),
        "threads": 2,
        "dtype": "float32 (onnxruntime " + ort.__version__ + ")",
    }


def _docs(segs: list[dict]) -> list[list[str]]:
    """Segments regrouped into documents by (system, doc), in seg order."""
    docs: dict = {}
    for s in segs:
        docs.setdefault((s["system"], s["doc"]), []).append(s)
    return [[s["text"] for s in sorted(d, key=lambda s: s["seg"])] for d in docs.values()]


def _garble(variant: str, segs: list[dict]) -> dict:
    """The full pipeline through the public API: Scorer().score_units per document."""
    import garble

    docs = _docs(segs)
    t0 = time.perf_counter()
    if variant.startswith("nolm"):
        scorer = garble.Scorer(model=False)
    else:
        set_threads(2)
        scorer = garble.Scorer(
            device="cpu", dtype="float32" if "fp32" in variant else "auto", context=not variant.endswith("noctx")
        )
    load_s = time.perf_counter() - t0
    if variant.startswith("nolm") and "torch" in sys.modules:
        raise SystemExit("--no-lm imported torch")
    scorer.score_units(docs[0][:8])  # warm-up (detector word lists load lazily)
    reps = 5 if variant.startswith("nolm") else 1
    t1 = time.perf_counter()
    for _ in range(reps):
        [scorer.score_units(d) for d in docs]
    seconds = (time.perf_counter() - t1) / reps
    n = sum(len(d) for d in docs)
    out = {"n": n, "seconds": seconds, "load_s": load_s, "docs": len(docs)}
    if not variant.startswith("nolm"):
        out["dtype"] = str(scorer.lm.dtype)  # dtype=auto: bfloat16 on a CPU with native bf16, else float32
        out["means"] = None  # documents reorder the segments; compared through the lm rows instead
    return out


def _matmul() -> dict:
    import torch

    out = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name, dtype, size in (("fp32", torch.float32, 2048), ("bf16", torch.bfloat16, 1024)):
            a = torch.randn(size, size, dtype=dtype)
            b = torch.randn(size, size, dtype=dtype)
            torch.matmul(a, b)
            reps, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < 2.0:
                torch.matmul(a, b)
                reps += 1
            out[f"{name}_t{threads}_gflops"] = 2 * size**3 * reps / (time.perf_counter() - t0) / 1e9
        # int8 dynamic-quantised linear (what quantize_dynamic runs): activations quantised per call
        lin = torch.ao.nn.quantized.dynamic.Linear(2048, 2048, dtype=torch.qint8)
        x = torch.randn(2048, 2048)
        lin(x)
        reps, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 2.0:
            lin(x)
            reps += 1
        out[f"int8dyn_t{threads}_gflops"] = 2 * 2048**3 * reps / (time.perf_counter() - t0) / 1e9
    return out


def child(stage: str, data: Path, tmp: Path) -> None:
    segs = json.loads(data.read_text(encoding="utf-8"))
    if stage == "matmul":
        res = _matmul()
    elif stage.startswith("lm:"):
        res = _lm_variant(stage[3:], segs, tmp)
    elif stage.startswith("llamacpp"):
        res = _llamacpp(stage, segs, tmp)
    elif stage == "onnx":
        res = _onnx(stage, segs, tmp)
    elif stage.startswith("garble:"):
        res = _garble(stage[7:], segs)
    else:
        raise SystemExit(f"unknown stage {stage}")
    res["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(res))


# ---------------------------------------------------------------------------
# parent


def run_child(args: list[str], env: dict | None = None, taskset: str | None = None, timeout: float = 1800) -> dict:
    cmd = ([shutil.which("taskset") or "taskset", "-c", taskset] if taskset else []) + args
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env={**os.environ, **(env or {})}, cwd=ROOT)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if p.returncode != 0:
        return {
            "error": f"exit {p.returncode}: {stderr.strip().splitlines()[-1] if stderr.strip() else ''}",
            "stderr": stderr[-3000:],
        }
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    res = json.loads(lines[-1]) if lines else {}
    res["wall_s"] = wall
    res["peak_rss_mb_wait4"] = ru.ru_maxrss / 1024
    return res


def lmppl_model_dir(tmp: Path) -> Path:
    """A copy of garble's cached model dir that transformers 4.x can read."""
    from garble.lm import resolve_model

    src = Path(resolve_model(None)[0])
    dst = tmp / "SmolLM2-135M-Instruct-tf4"
    if not (dst / "config.json").exists():
        shutil.copytree(src, dst)
        cfg_path = dst / "tokenizer_config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg["tokenizer_class"] = "GPT2TokenizerFast"
        cfg.pop("backend", None)
        cfg_path.write_text(json.dumps(cfg, indent=2))
    return dst


def write_inputs(segs: list[dict], tmp: Path, reps: int) -> Path:
    p = tmp / f"segments_x{reps}.txt"
    if not p.exists():
        with open(p, "w", encoding="utf-8") as fh:
            for _ in range(reps):
                for s in segs:
                    fh.write(s["text"] + "\n")
    return p


def write_jsonl(segs: list[dict], tmp: Path) -> Path:
    p = tmp / "segments_docs.jsonl"
    if not p.exists():
        with open(p, "w", encoding="utf-8") as fh:
            for s in sorted(segs, key=lambda s: (s["system"], s["doc"], s["seg"])):
                fh.write(json.dumps({"text": s["text"], "doc": f"{s['system']}/{s['doc']}"}) + "\n")
    return p


def write_pairs(segs: list[dict], tmp: Path) -> Path:
    """The segments as JSONL translation pairs, each with its Chinese source from the spans file beside the TSV."""
    p = tmp / "segments_pairs.jsonl"
    from garble.eval.data import read_spans

    spans = read_spans(ROOT.parent / "shared" / "eval" / "mqm_ted_zhen_spans.jsonl")
    src = {(r.system, r.doc, r.seg): r.source for r in spans}
    with open(p, "w", encoding="utf-8") as fh:
        for s in segs:
            fh.write(json.dumps({"text": s["text"], "src": src.get((s["system"], s["doc"], s["seg"]), "")}) + "\n")
    return p


def cli_stage(stage: str, segs: list[dict], tmp: Path, cli_segs: list[dict]) -> dict:
    """``garble score`` end to end (start-up and model load included), peak RSS via wait4."""
    parts = stage.split(":")  # cli:nolm:x10, cli:lm:x1, cli:lmdocs, cli:nolm_j2:x1
    mode = parts[1]
    if mode.startswith("nolm"):
        segs = cli_segs  # detectors alone are fast: always 2k-based inputs
    tmp = tmp / f"cli{len(segs)}"
    tmp.mkdir(exist_ok=True)
    reps = int(parts[2][1:]) if len(parts) > 2 else 1
    out = tmp / f"out_{mode}_{reps}.jsonl"
    for p in (out, Path(str(out) + ".garble-partial"), Path(str(out) + ".garble-state.json")):
        p.unlink(missing_ok=True)
    if mode == "lmdocs":
        inp = write_jsonl(segs, tmp)
        extra = ["--doc-field", "doc"]
        n = len(segs)
    elif mode == "source":
        inp = write_pairs(segs, tmp)
        extra = ["--source-field", "src", "--source-lang", "zh"]
        n = len(segs)
    else:
        inp = write_inputs(segs, tmp, reps)
        extra = []
        n = len(segs) * reps
    args = [sys.executable, "-m", "garble", "score", str(inp), "-o", str(out), "-q", "--restart"] + extra
    taskset = None
    if mode.startswith("nolm"):
        args.append("--no-lm")
        if "_j2" in mode:
            args += ["-j", "2"]
        else:
            taskset = "0"
    else:
        args += ["--device", "cpu"]
    res = run_child(args, taskset=taskset)
    if "error" in res:
        return res
    res["n"] = n
    res["seconds"] = res["wall_s"]
    res["peak_rss_mb"] = res["peak_rss_mb_wait4"]
    with open(out, encoding="utf-8") as fh:
        res["records"] = sum(1 for _ in fh)
    return res


LONG_SIZES = (100_000, 1_000_000)  # bytes of the long:* rows' single-line documents


def write_long_inputs(segs: list[dict], tmp: Path) -> dict[int, Path]:
    """One-line documents of about each of :data:`LONG_SIZES` bytes (whole words, no newline), and a one-sentence
    one (key 0) for the start-up."""
    text = " ".join(" ".join(s["text"].split()) for s in segs)
    out = {}
    for size in (0, *LONG_SIZES):
        p = tmp / f"long_{size}.txt"
        if not p.exists():
            if size == 0:
                doc = segs[0]["text"].strip()
            else:
                data = ((text + " ") * (size // (len(text.encode("utf-8")) + 1) + 2)).encode("utf-8")[:size]
                doc = data.decode("utf-8", "ignore")
                doc = doc[: doc.rfind(" ")]
            p.write_text(doc, encoding="utf-8")
        out[size] = p
    return out


def _rank_once(path: Path, extra: list[str]) -> dict:
    """``garble rank PATH --top 5 -f jsonl`` in a pipe: wall seconds, peak RSS (wait4), its standard error lines."""
    args = [sys.executable, "-m", "garble", "rank", str(path), "--top", "5", "-f", "jsonl", *extra]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(args, stdout=out, stderr=err, cwd=ROOT)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if os.waitstatus_to_exitcode(status) != 0:
        return {"error": f"exit {os.waitstatus_to_exitcode(status)}: {stderr.strip()[-300:]}"}
    return {"wall_s": wall, "peak_rss_mb": ru.ru_maxrss / 1024, "stderr": stderr.splitlines()}


def long_stage(stage: str, segs: list[dict], tmp: Path) -> dict:
    """``long:lm`` / ``long:nolm``: seconds per MB of one single-line document of 100 KB and of 1 MB, and the ratio."""
    extra = ["--no-lm"] if stage == "long:nolm" else ["--device", "cpu"]
    paths = write_long_inputs(segs, tmp)
    runs = {}
    for size, path in paths.items():
        r = _rank_once(path, extra)
        if "error" in r:
            return r
        r["bytes"] = path.stat().st_size
        runs[size] = r
        print(f" [{r['bytes']:,} B: {r['wall_s']:.1f} s, {len(r['stderr'])} lines on stderr]", end="", flush=True)
    startup = runs[0]["wall_s"]
    small, big = (runs[s] for s in LONG_SIZES)

    def per_mb(r: dict) -> float:
        return max(r["wall_s"] - startup, 0.0) / (r["bytes"] / 1e6)

    return {
        "total_s": sum(r["wall_s"] for r in runs.values()),
        "load_s": startup,
        "s_mb_small": per_mb(small),
        "s_mb_big": per_mb(big),
        "mb_ratio": per_mb(big) / per_mb(small) if per_mb(small) else float("nan"),
        "peak_rss_mb": big["peak_rss_mb"],
        "runs": {str(k): v for k, v in runs.items()},
    }


def spearman(a: list[float], b: list[float]) -> float:
    from scipy.stats import spearmanr

    pairs = [(x, y) for x, y in zip(a, b) if math.isfinite(x) and math.isfinite(y)]
    return float(spearmanr([p[0] for p in pairs], [p[1] for p in pairs]).statistic)


def auc(means: list[float], segs: list[dict]) -> float:
    from sklearn.metrics import roc_auc_score

    y, s = [], []
    for m, seg in zip(means, segs):
        if not math.isfinite(m):
            continue
        if seg["fluency_major"] > 0:
            y.append(1)
            s.append(m)
        elif seg["mqm"] == 0:
            y.append(0)
            s.append(m)
    return float(roc_auc_score(y, s)) if len(set(y)) == 2 else float("nan")


STAGES = {
    # name: (description, how)
    "matmul": "torch.matmul GFLOP/s (compute limit)",
    "lmppl": "lmppl 0.3.2 LM.get_perplexity (fp32, batch 32, 2 threads)",
    "garble:full": (
        "garble Scorer() score_units per (system, doc): one LM pass per document (+ error model) + detectors"
    ),
    "garble:full_fp32": "garble Scorer(dtype='float32'): the same in float32 (the unoptimised numerics)",
    "garble:full_noctx": "garble Scorer(context=False): each unit read alone + detectors",
    "cli:lmdocs": "garble score segments.jsonl --doc-field doc (end to end, model load incl.)",
    "cli:source": (
        "garble score pairs.jsonl --source-field src (the QE model reads each segment after its Chinese source; "
        "the detectors too; SmolLM2 loads but reads only segments QE does not score; end to end, both models' "
        "loads incl.)"
    ),
    "cli:lm:x1": "garble score 2k.txt (end to end, model load incl.)",
    "cli:lm:x3": "garble score 6k.txt (end to end, model load incl.)",
    "garble:nolm_t1": "garble Scorer(model=False) score_units, 1 core (taskset -c 0)",
    "cli:nolm:x1": "garble score --no-lm 2k.txt, 1 core (taskset -c 0)",
    "cli:nolm:x10": "garble score --no-lm 20k.txt, 1 core (taskset -c 0)",
    "cli:nolm_j2:x10": "garble score --no-lm -j 2 20k.txt (2 worker processes)",
    "lm:fp32_t2": "LM fp32, torch 2 threads (baseline)",
    "lm:fp32_t1": "LM fp32, torch 1 thread",
    "lm2p:fp32_t1": "LM fp32, 2 processes x 1 thread (half the texts each)",
    "lm:fulllogits_t2": (
        "LM fp32, full logits + log_softmax per batch (before: now the LM head runs on 256 real positions at a time)"
    ),
    "lm:fp32_bt2048_t2": "LM fp32, batch_tokens 2048 instead of 8192",
    "lm:unsorted_t2": "LM fp32, no length bucketing (batches of 64 in input order)",
    "lm:dedup_t2": "LM fp32, identical texts scored once",
    "lm:bf16_t2": "LM bf16 weights (first --slow-n segments)",
    "lm:autocast_t2": "LM fp32 weights + torch.autocast bf16 (first --slow-n segments)",
    "lm:int8_t2": "LM torch dynamic int8 (quantize_dynamic nn.Linear, LM head fp32)",
    "lm:int8_all_t2": "LM torch dynamic int8 (every nn.Linear incl. LM head)",
    "onnx": "LM fp32 via ONNX Runtime (CPUExecutionProvider)",
    "llamacpp": "LM llama.cpp (llama-cpp-python, the GGUF Q4_1 natively), 2 threads",
    "llamacpp_t1": "LM llama.cpp, 1 thread",
    "llamacpp2p": "LM llama.cpp, 2 processes x 1 thread",
    "long:nolm": "garble rank --no-lm FILE --top 5 on one line of 100 KB and of 1 MB (s/MB after start-up)",
    "long:lm": "garble rank FILE --top 5 on one line of 100 KB and of 1 MB, with the LM (s/MB after start-up)",
}

# the default run, most important first (the others: --only)
DEFAULT_ORDER = [
    "matmul",
    "lm:fp32_t2",
    "lmppl",
    "llamacpp",
    "garble:full",
    "garble:full_fp32",
    "garble:nolm_t1",
    "cli:nolm:x1",
    "cli:nolm:x10",
    "cli:nolm_j2:x10",
    "lm:int8_t2",
    "lm:fulllogits_t2",
    "lm:fp32_t1",
    "lm2p:fp32_t1",
    "llamacpp_t1",
    "llamacpp2p",
    "cli:lm:x1",
    "cli:lm:x3",
    "lm:bf16_t2",
    "lm:autocast_t2",
    "lm:int8_all_t2",
    "lm:fp32_bt2048_t2",
    "lm:unsorted_t2",
    "garble:full_noctx",
    "cli:lmdocs",
    "cli:source",
    "long:nolm",
    "long:lm",
]


def run_stage(stage: str, segs: list[dict], data: Path, tmp: Path, lmppl_python: str, cli_segs: list[dict]) -> dict:
    me = [sys.executable, str(Path(__file__).resolve()), "--child"]
    if stage == "lmppl":
        if not Path(lmppl_python).exists():
            return {"error": f"{lmppl_python} missing (see the module docstring)"}
        model = lmppl_model_dir(tmp)
        return run_child(
            [
                lmppl_python,
                str(ROOT / "scripts" / "bench_lmppl_worker.py"),
                "--model",
                str(model),
                "--data",
                str(data),
                "--batch",
                "32",
                "--threads",
                "2",
            ]
        )
    if stage.startswith("cli:"):
        return cli_stage(stage, segs, tmp, cli_segs)
    if stage.startswith("long:"):
        return long_stage(stage, segs, tmp)
    if stage in ("lm2p:fp32_t1", "llamacpp2p"):
        bar = tmp / f"barrier-{stage.replace(':', '_')}"
        shutil.rmtree(bar, ignore_errors=True)
        bar.mkdir()
        sub = "lm:fp32_t1" if stage.startswith("lm2p") else "llamacpp_t1"
        procs = []
        for k in range(2):
            f = open(bar / f"out{k}", "w+")
            env = {**os.environ, "BENCH_PART": f"{k}/2"}
            procs.append(
                (
                    subprocess.Popen(
                        ["taskset", "-c", str(k)] + me + [sub, "--data", str(data), "--tmp", str(bar)],
                        stdout=f,
                        stderr=subprocess.DEVNULL,
                        env=env,
                        cwd=ROOT,
                    ),
                    f,
                )
            )
        res = []
        for p, f in procs:
            p.wait()
            f.seek(0)
            lines = [ln for ln in f.read().splitlines() if ln.startswith("{")]
            if p.returncode or not lines:
                return {"error": f"part exit {p.returncode}"}
            res.append(json.loads(lines[-1]))
        means = [0.0] * sum(r["n"] for r in res)
        for k, r in enumerate(res):
            means[k::2] = r["means"]
        return {
            "n": sum(r["n"] for r in res),
            "seconds": max(r["end"] for r in res) - min(r["start"] for r in res),
            "load_s": max(r["load_s"] for r in res),
            "positions": sum(r["positions"] for r in res),
            "means": means,
            "peak_rss_mb": sum(r["peak_rss_mb"] for r in res),
            "threads": "2x1",
            "params": res[0].get("params"),
            "dtype": res[0].get("dtype"),
        }
    taskset = "0" if stage.endswith("_t1") else None
    return run_child(me + [stage, "--data", str(data), "--tmp", str(tmp)], taskset=taskset)


def fmt_row(
    name: str, desc: str, r: dict, base: dict | None, lmppl: dict | None, segs: list[dict], flops: dict
) -> dict:
    if "error" in r:
        return {"stage": name, "what": desc, "error": r["error"]}
    row = {"stage": name, "what": desc, "n": r.get("n")}
    if r.get("seconds"):
        row["seg_s"] = r["n"] / r["seconds"]
    if r.get("positions"):
        row["tok_s"] = r["positions"] / r["seconds"]
        params = r.get("params") or (base or {}).get("params") or 134515008
        if "int8" in name:
            limit = flops.get("int8dyn_t2_gflops")
        elif "bf16" in name or "autocast" in name or "bfloat16" in str(r.get("dtype")):
            limit = flops.get("bf16_t2_gflops")
        else:
            limit = flops.get("fp32_t2_gflops")
        row["gflops"] = 2 * params * row["tok_s"] / 1e9
        if limit:
            row["pct_limit"] = 100 * row["gflops"] / limit
    row["peak_rss_mb"] = r.get("peak_rss_mb")
    row["load_s"] = r.get("load_s")
    for k in ("s_mb_small", "s_mb_big", "mb_ratio"):
        row[k] = r.get(k)
    if lmppl and lmppl.get("seconds") and row.get("seg_s"):
        row["x_lmppl"] = row["seg_s"] / (lmppl["n"] / lmppl["seconds"])
    if base and base.get("seconds") and r.get("positions") and name != "lm:fp32_t2":
        row["x_fp32"] = row["seg_s"] / (base["n"] / base["seconds"])
    means = r.get("means")
    if means:
        k = len(means)
        row["auc_fluency"] = auc(means, segs[:k])
        if base and base.get("means") and name != "lm:fp32_t2":
            row["spearman_fp32"] = spearman(means, base["means"][:k])
    return row


def markdown(rows: list[dict]) -> str:
    cols = [
        ("stage", "row"),
        ("n", "segments"),
        ("seg_s", "seg/s"),
        ("x_lmppl", "× lmppl"),
        ("x_fp32", "× fp32"),
        ("tok_s", "tok/s"),
        ("pct_limit", "% of matmul limit"),
        ("peak_rss_mb", "peak RSS MB"),
        ("load_s", "load s"),
        ("spearman_fp32", "Spearman vs fp32"),
        ("auc_fluency", "AUC fluency"),
    ]
    if any(r.get("s_mb_big") is not None for r in rows):  # the long:* rows
        cols += [("s_mb_small", "s/MB at 100 KB"), ("s_mb_big", "s/MB at 1 MB"), ("mb_ratio", "1 MB / 100 KB")]
    lines = ["| " + " | ".join(c[1] for c in cols) + " | what |", "|" + "---|" * (len(cols) + 1)]
    for r in rows:
        if "error" in r:
            lines.append(
                f"| {r['stage']} | " + " | ".join("" for _ in cols[1:]) + f" | {r['what']}: **failed** ({r['error']}) |"
            )
            continue
        cells = []
        for k, _ in cols:
            v = r.get(k)
            if v is None:
                cells.append("")
            elif k in ("spearman_fp32", "auc_fluency"):
                cells.append(f"{v:.4f}" if k == "spearman_fp32" else f"{v:.3f}")
            elif k in ("x_lmppl", "x_fp32", "mb_ratio"):
                cells.append(f"{v:.2f}")
            elif isinstance(v, float):
                cells.append(f"{v:,.0f}" if v >= 100 else f"{v:.1f}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + f" | {r['what']} |")
    return "\n".join(lines)


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        flags = Path("/proc/cpuinfo").read_text()
        feats = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "avx_vnni") if f" {f}" in flags]
    except OSError:
        feats = []
    import torch

    return (
        f"{cpu}, {os.cpu_count()} cores ({', '.join(feats)}), "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}, torch {torch.__version__}, "
        f"load average at start {os.getloadavg()[0]:.2f}"
    )


# ---------------------------------------------------------------------------
# startup and install: what a new user waits for


SEED = ROOT.parent / "shared" / "seed" / "article.txt"

_STARTUP_SNIPPETS = {
    "import garble": "import time; t = time.perf_counter(); import garble; print(time.perf_counter() - t)",
    "import torch + transformers": (
        "import time; t = time.perf_counter(); import torch; "
        "from transformers import AutoModelForCausalLM, AutoTokenizer; print(time.perf_counter() - t)"
    ),
    "Scorer() (imports included)": (
        "import time; t = time.perf_counter(); import garble; garble.Scorer(); print(time.perf_counter() - t)"
    ),
    "Scorer(model=False)": (
        "import time; t = time.perf_counter(); import garble; garble.Scorer(model=False); "
        "print(time.perf_counter() - t)"
    ),
    "score_document(seed) after Scorer()": (
        "import sys, time, garble; s = garble.Scorer(); "
        "text = open(sys.argv[1], encoding='utf-8').read(); t = time.perf_counter(); s.score_document(text); "
        "print(time.perf_counter() - t)"
    ),
}


def _timed_command(argv: list[str], env: dict) -> tuple[float, float]:
    """(seconds to the first byte on stdout, seconds to the end) of a command."""
    import selectors

    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    first = None
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    while True:
        sel.select()
        chunk = p.stdout.read1(65536)
        if chunk and first is None:
            first = time.perf_counter() - t0
        if not chunk:
            break
    p.wait()
    end = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}")
    return (first if first is not None else end), end


def _first_on_tty(argv: list[str], env: dict) -> tuple[float, float, str]:
    """(seconds to the first byte on a terminal, stdout and stderr both; to the end; that first line)."""
    import pty
    import select

    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command, on the pseudo-terminal
        os.chdir(ROOT)
        os.execvpe(argv[0], argv, env)
    first, head = None, b""
    while True:
        ready, _, _ = select.select([fd], [], [], 600)
        if not ready:
            break
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        if first is None:
            first = time.perf_counter() - t0
        head += data if len(head) < 200 else b""
    os.waitpid(pid, 0)
    end = time.perf_counter() - t0
    return (
        (first if first is not None else end),
        end,
        head.decode("utf-8", "replace").replace("\r", "\n").splitlines()[0][:70],
    )


def startup(repeat: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    subprocess.run(
        [sys.executable, "-c", "import garble; garble.Scorer()"], env=env, check=True, capture_output=True
    )  # the model cache is warm from here
    out: dict = {"machine": machine(), "repeat": repeat}
    for name, code in _STARTUP_SNIPPETS.items():
        vals = []
        for _ in range(repeat):
            r = subprocess.run(
                [sys.executable, "-c", code, str(SEED)], env=env, capture_output=True, text=True, check=True
            )
            vals.append(float(r.stdout.strip().splitlines()[-1]))
        out[name] = statistics.median(vals)
        print(f"{name:<40} {out[name]:6.2f} s   (runs: {', '.join(f'{v:.2f}' for v in vals)})", flush=True)
    for name, argv in (
        ("garble --version", [sys.executable, "-m", "garble", "--version"]),
        ("garble rank seed --no-lm", [sys.executable, "-m", "garble", "rank", str(SEED), "--top", "10", "--no-lm"]),
        ("garble rank seed (LM)", [sys.executable, "-m", "garble", "rank", str(SEED), "--top", "10"]),
    ):
        firsts, ends = [], []
        for _ in range(repeat):
            f, e = _timed_command(argv, env)
            firsts.append(f)
            ends.append(e)
        out[name] = {"first_output": statistics.median(firsts), "end": statistics.median(ends)}
        print(
            f"{name:<40} {out[name]['end']:6.2f} s   first output at {out[name]['first_output']:.2f} s   "
            f"(runs: {', '.join(f'{v:.2f}' for v in ends)})",
            flush=True,
        )
    name = "garble rank seed (LM), on a terminal"
    runs = [
        _first_on_tty([sys.executable, "-m", "garble", "rank", str(SEED), "--top", "3"], env) for _ in range(repeat)
    ]
    out[name] = {
        "first_output": statistics.median(r[0] for r in runs),
        "end": statistics.median(r[1] for r in runs),
        "first_line": runs[0][2],
    }
    print(
        f"{name:<40} {out[name]['end']:6.2f} s   first output at {out[name]['first_output']:.2f} s: "
        f"{out[name]['first_line']!r}",
        flush=True,
    )
    return out


def _du_mb(path: Path) -> float:
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            fp = os.path.join(dirpath, f)
            if not os.path.islink(fp):
                total += os.path.getsize(fp)
    return total / 1e6


def install_check(tmp: Path, spec: str) -> dict:
    """Fresh venvs: ``pip install spec`` alone, and after torch==2.13.0; sizes and what came with it."""
    out: dict = {"spec": spec}
    for name, first in (("fresh", None), ("with_torch", "torch==2.13.0")):
        venv = tmp / f"venv-{name}"
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        py = str(venv / "bin" / "python")
        before = None
        if first:
            subprocess.run([py, "-m", "pip", "install", "--quiet", first], check=True)
            before = subprocess.run(
                [py, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True, check=True
            ).stdout.strip()
        t0 = time.perf_counter()
        subprocess.run([py, "-m", "pip", "install", "--quiet", spec], check=True, cwd=ROOT)
        secs = time.perf_counter() - t0
        pkgs = json.loads(
            subprocess.run(
                [py, "-m", "pip", "list", "--format", "json"], capture_output=True, text=True, check=True
            ).stdout
        )
        names = {p["name"].lower(): p["version"] for p in pkgs}
        torch_now = names.get("torch")
        out[name] = {
            "venv_mb": round(_du_mb(venv), 1),
            "packages": len(names),
            "torch": torch_now,
            "torch_before": before,
            "nvidia_wheels": sorted(n for n in names if n.startswith(("nvidia-", "cuda-", "triton"))),
            "install_s": round(secs, 1),
        }
        print(
            f"{name:<11} pip install {spec}: {out[name]['venv_mb']:,.0f} MB venv, {len(names)} packages, "
            f"torch {torch_now or 'none'}"
            + (f" (was {before})" if before else "")
            + f", nvidia/cuda wheels: {len(out[name]['nvidia_wheels'])}, {secs:.0f} s",
            flush=True,
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the eval TSV (or, for --child, the segments JSON)")
    ap.add_argument("--tmp", type=Path, default=None, help="work folder (default: a new temporary one)")
    ap.add_argument("--n", type=int, default=2000, help="segments (default 2000)")
    ap.add_argument("--cli-n", type=int, default=2000, help="segments of the --no-lm corpus runs' base file (x1, x10)")
    ap.add_argument(
        "--slow-n",
        type=int,
        default=None,
        help="segments for the bf16 rows (default: all --n on a CPU with native bf16, else 300: emulated bf16 is slow)",
    )
    ap.add_argument("--only", default=None, help="comma-separated stages (default: all): " + ", ".join(STAGES))
    ap.add_argument("--skip", default="", help="comma-separated stages to leave out")
    ap.add_argument("--lmppl-python", default="/tmp/lmppl-venv/bin/python")
    ap.add_argument("--json", type=Path, default=None, help="write raw results here")
    ap.add_argument(
        "--render", action="store_true", help="run nothing: print (and --md) the table of the results in --json"
    )
    ap.add_argument("--md", type=Path, default=None, help="write the Markdown table here")
    ap.add_argument(
        "--startup", action="store_true", help="time Scorer(), the seed and the first output instead (see above)"
    )
    ap.add_argument(
        "--install",
        action="store_true",
        help="pip install the [lm] extra into fresh venvs instead: size, torch (see above)",
    )
    ap.add_argument("--repeat", type=int, default=3, help="--startup: runs of each measurement (the median is shown)")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.data, args.tmp or Path(tempfile.gettempdir()))
        return
    if args.startup or args.install:
        result: dict = json.loads(args.json.read_text()) if args.json and args.json.exists() else {}
        print(f"# {machine()}", flush=True)
        if args.startup:
            result["startup"] = startup(args.repeat)
        if args.install:
            tmp = args.tmp or Path(tempfile.mkdtemp(prefix="garble-install."))
            tmp.mkdir(parents=True, exist_ok=True)
            result["install"] = install_check(tmp, f"{ROOT}[lm]")
        if args.json:
            args.json.write_text(json.dumps(result, indent=1))
        return

    tmp = args.tmp or Path(tempfile.mkdtemp(prefix="garble-bench."))
    tmp.mkdir(parents=True, exist_ok=True)
    segs = load_segments(args.data, args.n)
    cli_segs = load_segments(args.data, max(args.n, args.cli_n))
    if args.slow_n is None:
        from garble.lm import _cpu_has_fast_bf16

        args.slow_n = args.n if _cpu_has_fast_bf16() else 300
    os.environ["BENCH_SLOW_N"] = str(args.slow_n)
    data = tmp / "segments.json"
    data.write_text(json.dumps(segs), encoding="utf-8")
    stages = args.only.split(",") if args.only else DEFAULT_ORDER
    stages = [s for s in stages if s not in set(args.skip.split(","))]
    # the baseline and the compute limit first: the other rows are compared with them
    need = [s for s in ("matmul", "lm:fp32_t2", "lmppl") if s in stages]
    stages = need + [s for s in stages if s not in need]
    print(f"# {machine()}", flush=True)
    print(
        f"# {len(segs)} segments ({len(set(s['text'] for s in segs))} distinct) from {args.data}; work folder {tmp}",
        flush=True,
    )
    raw: dict = {}
    if args.json and args.json.exists():
        raw = json.loads(args.json.read_text())
    for s in [] if args.render else stages:
        t0 = time.perf_counter()
        print(f"# running {s} ... (load {os.getloadavg()[0]:.2f})", end="", flush=True)
        raw[s] = run_stage(s, segs, data, tmp, args.lmppl_python, cli_segs)
        print(
            f" {time.perf_counter() - t0:.0f}s" + (f" ERROR {raw[s]['error']}" if "error" in raw[s] else ""), flush=True
        )
        if args.json:
            args.json.write_text(json.dumps(raw))
    flops = {k: v for k, v in raw.get("matmul", {}).items() if k.endswith("_gflops")}
    base = raw.get("lm:fp32_t2")
    lmppl = raw.get("lmppl")
    if flops and "error" not in flops:
        print("# matmul GFLOP/s: " + ", ".join(f"{k[:-7]} {v:.1f}" for k, v in flops.items()))
    rows = [fmt_row(s, STAGES[s], raw[s], base, lmppl, segs, flops) for s in STAGES if s in raw and s != "matmul"]
    table = markdown(rows)
    print(table)
    if args.md:
        args.md.write_text(
            f"Machine: {machine()}\n\n"
            + ("matmul GFLOP/s: " + ", ".join(f"{k[:-7]} {v:.1f}" for k, v in flops.items()) + "\n\n" if flops else "")
            + table
            + "\n"
        )


if __name__ == "__main__":
    main()
