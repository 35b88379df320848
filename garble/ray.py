"""Corpus scoring on a Ray cluster: a pool of Scorer actors mapped over the input with Ray Data.

Ray is an optional extra (``pip install "ray[data]>=2.9"``, or
``pip install "./[ray]"`` from a checkout); ``import garble`` never imports it,
and this module imports it only when one of its functions runs (without it,
they raise a :class:`~garble.errors.UsageError` saying what to install).

* :func:`score_files` is the Ray counterpart of
  :func:`garble.corpus.score_corpus`: the same inputs (text, JSONL, Parquet,
  compressed, folders, globs), the same output records in the same order,
  written to a JSONL (``.gz``/``.zst``) or Parquet file;
* :func:`score_dataset` scores a :class:`ray.data.Dataset` whose rows hold
  the segments and returns a Dataset of output records (the columns and types
  of :func:`garble.corpus.parquet_schema`), for pipelines that continue in Ray.

How the work is split
---------------------
The input is read once, on the driver, with garble's own readers (or, for
:func:`score_dataset`, by iterating the dataset in order), so every input line
gives exactly one record, error records included, numbered as the local path
numbers them. The records are then cut into chunks exactly as the local path
cuts them (:func:`garble.corpus.chunking.chunk_records`): whole documents (consecutive
records of one file with the same ``doc_field`` value, in parts of at most
``max_doc_units``), at least ``batch_size`` records a chunk. Each chunk
becomes **one row** of the Ray dataset, so a Ray batch, however Ray sizes or
splits it, can never cut a document in two: a document is scored whole, in
one :meth:`Scorer.score_units` call, and ranked within itself. Rows are put
into the object store as they are read (``block_records`` records a block;
Ray spills them to disk when it is full), so the driver holds one chunk at a
time.

A pool of actors (``num_actors``), each building one ``garble.Scorer(
**scorer_kwargs)`` once, scores the chunks with
:func:`garble.corpus.score_chunk`, the function the local path uses, so the
output records equal the local path's (byte for byte in JSONL, for the same
``batch_size``). Results come back in input order (Ray Data's
``preserve_order``, and a check of the chunk numbers); the driver writes them
to ``OUT.garble-partial`` and renames it into place when everything is written,
as the local path does: :class:`RayExecutor` is one of the executors of
:func:`garble.corpus.driver.run`, the local path's loop.

GPUs: when the cluster has GPUs and the scorer has a language model, each
actor gets one GPU (``num_gpus_per_actor``) and the scorer's device ``auto``
finds it; otherwise the actors run on CPUs (device ``cpu``). A detectors-only
scorer (``scorer_kwargs={"model": False}``) never asks for a GPU.

What differs from the local path: no checkpoints (an interrupted run starts
over), no standard output, and the whole input passes through the driver and
the object store before the output is written. garble must be installed on
every node of the cluster.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional, Union

from . import errors as _errors
from .corpus import CorpusSummary, Record, parquet_schema, record_of, score_chunk
from .corpus.chunking import chunk_records
from .corpus.driver import at_least_one, plan, run
from .corpus.executors import Scored
from .corpus.inputs import PathLike
from .corpus.output import state_path
from .corpus.progress import Progress, isatty
from .corpus.readers import Warn, default_warn
from .corpus.scoring import chunk_bytes
from .errors import GarbleError, InputError, UsageError

INSTALL_HINT = 'pip install "ray[data]>=2.9" (the ray extra; from a checkout: pip install "./[ray]")'
#: records per Ray block (the unit of work an actor takes at a time)
BLOCK_RECORDS = 4096

__all__ = ["score_files", "score_dataset", "init", "INSTALL_HINT"]


def _import_ray():
    try:
        import ray  # the Ray package (absolute import: not this module)
        import ray.data  # noqa: F401
    except ImportError as e:
        raise UsageError(f"the Ray path needs Ray ({e}): {INSTALL_HINT}") from None
    return ray


def init(address: Optional[str] = None, *, quiet: bool = False) -> bool:
    """Connect to a Ray cluster, or start a local instance; ``True`` when this call did it.

    ``address``: ``None`` (a running local instance, ``$RAY_ADDRESS``, else a
    new local instance), ``"local"`` (always a new one), ``"auto"`` (a running
    cluster, else an error), ``"ray://HOST:PORT"`` or ``"HOST:PORT"``. An
    already connected session is kept (``False``: the caller must not shut it
    down). ``quiet``: Ray's and Ray Data's informational log lines off. A
    cluster that cannot be reached is a :class:`UsageError`.
    """
    ray = _import_ray()
    kwargs: dict = {}
    if quiet:
        import logging

        logging.getLogger("ray.data").setLevel(logging.ERROR)  # no plan and progress log lines
        kwargs["logging_level"] = logging.WARNING
    if ray.is_initialized():
        return False
    try:
        ray.init(address=address or None, **kwargs)
    except Exception as e:  # ConnectionError, ValueError, RuntimeError, ...: whatever Ray raises
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise UsageError(f"cannot start or reach Ray{f' at {address!r}' if address else ''}: {first}") from None
    return True


def _ensure_ray():
    ray = _import_ray()
    if not ray.is_initialized():
        init()
    return ray


# ---------------------------------------------------------------------------
# the actors


def _error_payload(e: GarbleError) -> str:
    message = e.args[0] if e.args else str(e)
    return json.dumps({"type": type(e).__name__, "message": message, "path": e.path, "line": e.line})


def _raise_payload(payload: str) -> None:
    d = json.loads(payload)
    cls = getattr(_errors, d.get("type", ""), None)
    if not (isinstance(cls, type) and issubclass(cls, GarbleError)):
        cls = GarbleError
    raise cls(d.get("message", ""), path=d.get("path"), line=d.get("line"))


class _ScorerActor:
    """One Scorer, built once; scores chunk rows (``seq``, ``groups``) into output rows.

    ``mode="bytes"``: one row per chunk with its JSONL bytes (what the local
    path writes), the number of error records and the warnings raised;
    ``mode="records"``: one row per record, in the Parquet schema.
    """

    def __init__(self, scorer_kwargs: dict, grouped: bool, mode: str):
        self.grouped = grouped
        self.mode = mode
        self.fail: Optional[str] = None
        self.scorer = None
        try:
            from .api import Scorer

            self.scorer = Scorer(**scorer_kwargs)
        except GarbleError as e:  # reported with the first batch, as the garble error it is
            self.fail = _error_payload(e)

    def __call__(self, batch):
        import pyarrow as pa

        rows = batch.to_pylist()
        if self.mode == "records":
            if self.fail is not None:
                _raise_payload(self.fail)
            out: list[dict] = []
            for r in rows:
                out.extend(score_chunk(self.scorer, _decode_groups(r["groups"]), self.grouped, default_warn))
            return pa.Table.from_pylist(out, schema=parquet_schema())
        cols: dict = {"seq": [], "data": [], "errors": [], "warnings": [], "fail": []}
        for r in rows:
            warnings: list[str] = []
            if self.fail is not None:
                data, errs = b"", 0
            else:
                data, errs = chunk_bytes(self.scorer, _decode_groups(r["groups"]), self.grouped, warnings.append)
            cols["seq"].append(r["seq"])
            cols["data"].append(data)
            cols["errors"].append(errs)
            cols["warnings"].append(json.dumps(warnings))
            cols["fail"].append(self.fail)
        return pa.Table.from_pydict(cols, schema=_bytes_schema())


def _bytes_schema():
    """The rows of ``mode="bytes"``: a chunk's number, JSONL bytes, error records, warnings (JSON), failure."""
    import pyarrow as pa

    columns = [("seq", pa.int64()), ("data", pa.large_binary()), ("errors", pa.int64())]
    return pa.schema(columns + [("warnings", pa.string()), ("fail", pa.string())])


def _encode_groups(groups: list) -> str:
    return json.dumps([[list(r) for r in g] for g in groups])


def _decode_groups(s: str) -> list:
    return [[Record(*r) for r in g] for g in json.loads(s)]


# ---------------------------------------------------------------------------
# driver side


def _scorer_kwargs(scorer_kwargs: Optional[dict]) -> dict:
    """A copy of ``scorer_kwargs``, checked on the driver (without loading a model)."""
    if scorer_kwargs is None:
        kw: dict = {}
    elif isinstance(scorer_kwargs, dict):
        kw = dict(scorer_kwargs)
    else:
        raise UsageError(f"scorer_kwargs is {type(scorer_kwargs).__name__}: expected a dict of garble.Scorer arguments")
    from .api import Scorer

    try:
        Scorer(**{**kw, "model": False})  # bad unit, detectors, weights: fail here, before Ray starts actors
    except TypeError as e:
        raise UsageError(f"scorer_kwargs: {e}") from None
    return kw


def _check_counts(
    batch_size: int,
    max_doc_units: int,
    block_records: int,
    num_actors: Optional[int],
    num_gpus_per_actor: Optional[float],
) -> None:
    at_least_one(("batch size", batch_size), ("max_doc_units", max_doc_units), ("block_records", block_records))
    if num_actors is not None:
        at_least_one(("the number of Ray actors", num_actors))
    gpus = num_gpus_per_actor
    if gpus is not None and (isinstance(gpus, bool) or not isinstance(gpus, (int, float)) or gpus < 0):
        raise UsageError(f"num_gpus_per_actor must be a number >= 0, not {num_gpus_per_actor!r}")


def _block(ray: Any, seqs: list, groups: list) -> Any:
    import pyarrow as pa

    return ray.put(pa.table({"seq": pa.array(seqs, pa.int64()), "groups": pa.array(groups, pa.large_string())}))


def _put_chunks(ray: Any, chunks: Iterator, block_records: int) -> tuple[list, list]:
    """Chunks as rows (``seq``, ``groups``) in object-store blocks of about ``block_records`` records.

    Returns the blocks' references and, per chunk, its records and the input position after it.
    """
    refs: list = []
    sizes: list[tuple[int, tuple[int, int]]] = []
    seqs: list[int] = []
    groups: list[str] = []
    n = 0
    for c in chunks:
        seqs.append(len(sizes))
        groups.append(_encode_groups(c.groups))
        sizes.append((c.n, c.end))
        n += c.n
        if n >= block_records:
            refs.append(_block(ray, seqs, groups))
            seqs, groups, n = [], [], 0
    if seqs:
        refs.append(_block(ray, seqs, groups))
    return refs, sizes


def _map(
    ray: Any,
    refs: list,
    n_chunks: int,
    kw: dict,
    grouped: bool,
    mode: str,
    num_actors: Optional[int],
    num_gpus_per_actor: Optional[float],
    progress: bool,
):
    """The dataset of ``refs`` mapped by a pool of scorer actors (results in input order)."""
    res = ray.cluster_resources()
    uses_lm = kw.get("model", None) is not False
    gpus = float(res.get("GPU", 0) or 0)
    if num_gpus_per_actor is None:
        num_gpus_per_actor = 1 if gpus > 0 and uses_lm else 0
    if num_gpus_per_actor > 0 and gpus == 0:
        raise UsageError(f"num_gpus_per_actor is {num_gpus_per_actor}, but the Ray cluster has no GPU")
    if num_gpus_per_actor == 0 and kw.get("device", "auto") == "auto":
        kw = {**kw, "device": "cpu"}  # no GPU of its own: never try one the actor does not own
    if num_actors is None:
        if num_gpus_per_actor > 0:
            num_actors = max(1, int(gpus // num_gpus_per_actor))
        else:
            num_actors = max(1, int(res.get("CPU", 1) or 1))
    num_actors = max(1, min(num_actors, n_chunks))  # an idle actor would still build a Scorer (and load a model)
    ds = ray.data.from_arrow_refs(refs)
    ctx = ds.context  # a copy made for this dataset: changing it changes no other dataset
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = bool(progress)
    remote: dict = {"num_cpus": 1}
    if num_gpus_per_actor > 0:
        remote["num_gpus"] = num_gpus_per_actor
    return ds.map_batches(
        _ScorerActor,
        fn_constructor_kwargs={"scorer_kwargs": kw, "grouped": grouped, "mode": mode},
        batch_size=1,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=num_actors),
        zero_copy_batch=True,
        **remote,
    )


def _garble_error(e: BaseException) -> Optional[GarbleError]:
    """The garble error behind an exception Ray raised (a task's ``cause``, chained exceptions)."""
    stack: list = [e]
    seen: set = set()
    while stack:
        x = stack.pop()
        if x is None or id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, GarbleError) and type(x).__module__.startswith("garble"):
            return x
        stack.extend([x.__context__, x.__cause__, getattr(x, "cause", None)])
    return None


def _in_order(ds: Any, n_chunks: int) -> Iterator[dict]:
    """The result rows of ``ds`` in chunk order, whatever order Ray returns them in; an actor's garble error raised."""
    pending: dict = {}
    nxt = 0
    for batch in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
        for row in batch.to_pylist():
            if row["fail"] is not None:
                _raise_payload(row["fail"])
            pending[row["seq"]] = row
            while nxt in pending:
                yield pending.pop(nxt)
                nxt += 1
    if nxt != n_chunks or pending:  # pragma: no cover - Ray lost or duplicated a chunk
        raise GarbleError(f"the Ray run returned {nxt} of {n_chunks} chunks in order ({len(pending)} left over)")


@dataclass
class RayExecutor:
    """Scores chunks on a pool of Ray actors, each with its own ``garble.Scorer(**scorer_kwargs)``.

    An executor of :func:`garble.corpus.driver.run`: :meth:`map` connects to
    Ray (:func:`init`, ``address``), puts every chunk into the object store,
    and yields the results in input order; :meth:`close` disconnects if
    :meth:`map` connected. Ray is imported when the executor is made.
    """

    scorer_kwargs: dict
    grouped: bool
    warn: Warn
    num_actors: Optional[int] = None
    num_gpus_per_actor: Optional[float] = None
    block_records: int = BLOCK_RECORDS
    progress: bool = True
    address: Optional[str] = None

    def __post_init__(self) -> None:
        self.ray = _import_ray()
        self.started = False

    def map(self, chunks: Iterator) -> Iterator[Scored]:
        self.started = init(self.address, quiet=not self.progress)
        refs, sizes = _put_chunks(self.ray, chunks, self.block_records)
        if not refs:
            return
        progress = self.progress and isatty(sys.stderr)
        actors = (self.num_actors, self.num_gpus_per_actor)
        ds = _map(self.ray, refs, len(sizes), self.scorer_kwargs, self.grouped, "bytes", *actors, progress)
        try:
            for row in _in_order(ds, len(sizes)):
                for w in json.loads(row["warnings"]):
                    self.warn(w)
                yield Scored(row["data"], row["errors"], *sizes[row["seq"]])
        except GarbleError:
            raise
        except Exception as e:
            g = _garble_error(e)
            if g is not None:
                raise type(g)(g.args[0] if g.args else str(g), path=g.path, line=g.line) from None
            raise

    def close(self, wait: bool = True) -> None:
        if self.started:
            self.started = False
            self.ray.shutdown()


def score_files(
    inputs: Union[PathLike, Iterable[PathLike]],
    output: PathLike,
    *,
    scorer_kwargs: Optional[dict] = None,
    fmt: Optional[str] = None,
    input_fmt: str = "auto",
    field: str = "text",
    id_field: Optional[str] = None,
    doc_field: Optional[str] = None,
    source_field: Optional[str] = None,
    source_lang: Optional[str] = None,
    batch_size: int = 256,
    max_doc_units: int = 10000,
    num_actors: Optional[int] = None,
    num_gpus_per_actor: Optional[float] = None,
    block_records: int = BLOCK_RECORDS,
    progress: bool = True,
    warn: Optional[Warn] = None,
    address: Optional[str] = None,
) -> CorpusSummary:
    """Score every record of ``inputs`` on Ray and write one output record each to ``output``.

    The inputs, options and output records are those of
    :func:`garble.corpus.score_corpus` (same records, same order, same
    Parquet schema; translation pairs with ``source_field``, TSV, XLIFF, TMX,
    scored with their sources); see the module docstring for how the work is split.
    ``scorer_kwargs``: arguments of :class:`garble.Scorer`, sent to every actor
    (names and paths, not a loaded model; ``{"model": False}``: detectors
    only). ``num_actors``: scorer actors (default: one per GPU when GPUs are
    used, else one per CPU of the cluster; never more than there are
    chunks). ``num_gpus_per_actor``: default 1 when the cluster has GPUs and
    the scorer has a language model, else 0. ``block_records``: records per
    Ray block. ``progress``: Ray Data's progress bars when standard error is a
    terminal. Runs in the connected Ray session; without one, connects to
    ``address`` (:func:`init`; ``None``: a local instance, started or found)
    for this call, after the arguments are checked, and disconnects at the
    end. No checkpoints: an interrupted run starts over; the
    output appears (atomic rename) only when complete. ``output`` ``-``
    (standard output) is a :class:`UsageError`; so is an output with the
    checkpoint of an interrupted local run (finish or remove that first).
    """
    t0 = time.monotonic()
    _check_counts(batch_size, max_doc_units, block_records, num_actors, num_gpus_per_actor)
    if str(output) == "-":
        raise UsageError("the Ray path writes a file (-o FILE), not standard output")
    kw = _scorer_kwargs(scorer_kwargs)
    read = {"input_fmt": input_fmt, "field": field, "id_field": id_field, "doc_field": doc_field}
    read.update(source_field=source_field, source_lang=source_lang)
    job = plan(inputs, output, fmt=fmt, batch_size=batch_size, max_doc_units=max_doc_units, **read)
    if os.path.exists(state_path(job.output)):
        why = (
            "the checkpoint of an interrupted run without Ray; finish that run without --ray, or remove the checkpoint"
        )
        raise UsageError(why, path=state_path(job.output))
    feedback = Progress(False, warn)  # Ray Data shows its own progress bars
    pool = (num_actors, num_gpus_per_actor, block_records)
    executor = RayExecutor(kw, job.grouped, feedback.warn, *pool, progress=progress, address=address)
    return run(job, executor, feedback, keep_partial=False, started=t0)


def _dataset_records(
    ds: Any,
    source: str,
    field: str,
    id_field: Optional[str],
    doc_field: Optional[str],
    source_field: Optional[str] = None,
    source_lang: Optional[str] = None,
) -> Iterator[tuple[tuple[int, int], Record]]:
    """The rows of ``ds``, in order, as records with positions (for :func:`garble.corpus.chunking.chunk_records`)."""
    ctx = ds.context
    before = ctx.execution_options.preserve_order
    ctx.execution_options.preserve_order = True  # row numbers are the dataset's order
    try:
        line = 0
        for batch in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
            for row in batch.to_pylist():
                line += 1
                rec = record_of(row, source, f"{source}:{line}", line, field, id_field, doc_field, source_field)
                if rec.source_text and source_lang:
                    rec = rec._replace(source_lang=source_lang)
                yield (0, line), rec
    finally:
        ctx.execution_options.preserve_order = before


def score_dataset(
    ds: Any,
    *,
    field: str = "text",
    id_field: Optional[str] = None,
    doc_field: Optional[str] = None,
    source_field: Optional[str] = None,
    source_lang: Optional[str] = None,
    source: str = "dataset",
    scorer_kwargs: Optional[dict] = None,
    batch_size: int = 256,
    max_doc_units: int = 10000,
    num_actors: Optional[int] = None,
    num_gpus_per_actor: Optional[float] = None,
    block_records: int = BLOCK_RECORDS,
    warn: Optional[Warn] = None,
):
    """Score the rows of a :class:`ray.data.Dataset`; a Dataset of output records, in row order.

    Each row is one segment: ``field`` its text (a dotted path reaches into
    struct columns), ``id_field`` its id (default ``"SOURCE:ROW"``, rows
    numbered from 1 in the dataset's order), ``doc_field`` its document,
    ``source_field`` its source sentence (scored with it; ``source_lang``: its
    language, default identified per document, or per row without ``doc_field``).
    Values are checked as JSONL values are (a null or non-string text is an
    error record, never a dropped row). The result has the columns and types
    of :func:`garble.corpus.parquet_schema`, ``source`` = ``source``, ``line`` =
    the row number: the records :func:`garble.corpus.score_corpus` writes for
    the same rows.

    With ``doc_field``, consecutive rows with the same value form a document,
    scored whole and ranked within itself (in parts of ``max_doc_units``).
    To guarantee that no Ray batch splits a document, the rows are read on
    the driver, in order, and cut into chunks of whole documents (at least
    ``batch_size`` records each); each chunk is one row for the actors (see
    the module docstring). The input is therefore consumed when this
    function is called; the scoring runs when the returned dataset is
    consumed (``write_parquet``, ``iter_batches``, ...). A column named by
    ``field``, ``id_field`` or ``doc_field`` that the dataset lacks is an
    :class:`InputError`. Other arguments as for :func:`score_files`.
    """
    _check_counts(batch_size, max_doc_units, block_records, num_actors, num_gpus_per_actor)
    kw = _scorer_kwargs(scorer_kwargs)
    ray = _ensure_ray()
    warn = warn or default_warn
    if not isinstance(ds, ray.data.Dataset):
        raise UsageError(f"ds is {type(ds).__name__}, not a ray.data.Dataset")
    schema = ds.schema()
    names = list(schema.names) if schema is not None else []
    if schema is not None:
        for role, col in (("text", field), ("id", id_field), ("document", doc_field), ("source", source_field)):
            if col is not None and col not in names and col.split(".")[0] not in names:
                raise InputError(f"no {role} column {col!r} (columns: {', '.join(names) or 'none'})", path=source)
    grouped = doc_field is not None
    lang = source_lang.strip().lower() if source_lang else None
    records = _dataset_records(ds, source, field, id_field, doc_field, source_field, lang)
    chunks = chunk_records(records, batch_size, grouped, max_doc_units, warn)
    refs, sizes = _put_chunks(ray, chunks, block_records)
    if not refs:
        return ray.data.from_arrow(parquet_schema().empty_table())
    return _map(ray, refs, len(sizes), kw, grouped, "records", num_actors, num_gpus_per_actor, isatty(sys.stderr))
