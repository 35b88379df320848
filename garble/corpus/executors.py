"""Executors: what turns chunks into output bytes, in this process or in worker processes.

Every executor has the same two methods (the Ray one, :class:`garble.ray.RayExecutor`, too):

* ``map(chunks)``: an iterator of :class:`Scored`, one per chunk, in input
  order; warnings raised while scoring are passed to the executor's ``warn``;
* ``close(wait)``: release what ``map`` started (``wait=False`` after a
  failure: cancel what is still running). Closing twice is harmless.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Iterator, NamedTuple, Protocol

from .chunking import Chunk
from .readers import Warn
from .scoring import chunk_bytes


class Scored(NamedTuple):
    """The output of one chunk."""

    data: bytes  # its JSONL records (uncompressed)
    errors: int  # error records among them
    n: int  # records
    end: tuple[int, int]  # input position after the chunk


class Executor(Protocol):
    """What :func:`garble.corpus.driver.run` needs of an executor."""

    def map(self, chunks: Iterator[Chunk]) -> Iterator[Scored]: ...

    def close(self, wait: bool = True) -> None: ...


class SerialExecutor:
    """Scores the chunks one after another, in this process."""

    def __init__(self, scorer: Any, grouped: bool, warn: Warn):
        self.scorer = scorer
        self.grouped = grouped
        self.warn = warn

    def map(self, chunks: Iterator[Chunk]) -> Iterator[Scored]:
        for c in chunks:
            yield Scored(*chunk_bytes(self.scorer, c.groups, self.grouped, self.warn), c.n, c.end)

    def close(self, wait: bool = True) -> None:
        pass


# the worker processes' state
_WORKER: dict = {}


def _worker_init(scorer: Any) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _WORKER["scorer"] = scorer


def _worker_warn(msg: str) -> None:
    _WORKER.setdefault("warnings", []).append(msg)


def _worker_run(groups: list, grouped: bool) -> tuple[bytes, int, list[str]]:
    _WORKER["warnings"] = []
    data, errs = chunk_bytes(_WORKER["scorer"], groups, grouped, _worker_warn)
    return data, errs, _WORKER.pop("warnings", [])


class PoolExecutor:
    """Scores chunks in ``workers`` processes (detectors-only scorers), at most two per worker in flight."""

    def __init__(self, scorer: Any, workers: int, grouped: bool, warn: Warn):
        self.scorer = scorer
        self.workers = workers
        self.grouped = grouped
        self.warn = warn
        self.pool: Any = None

    def _start(self) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        if "fork" in methods:
            try:  # load lazily loaded detector data (word lists) once, before the workers share it
                text = "The committee said that the café in São Paulo is open again."
                self.scorer.score_units([text])
                self.scorer.score_units([text], sources=["委员会说，圣保罗的咖啡馆又开门了。"], source_lang="zh")
            except Exception:
                pass
        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=ctx, initializer=_worker_init, initargs=(self.scorer,)
        )

    def map(self, chunks: Iterator[Chunk]) -> Iterator[Scored]:
        self.pool = self._start()
        window: deque = deque()
        for c in chunks:
            window.append((c, self.pool.submit(_worker_run, c.groups, self.grouped)))
            if len(window) >= 2 * self.workers:
                yield self._result(*window.popleft())
        while window:
            yield self._result(*window.popleft())

    def _result(self, c: Chunk, future: Any) -> Scored:
        data, errs, warns = future.result()
        for w in warns:
            self.warn(w)
        return Scored(data, errs, c.n, c.end)

    def close(self, wait: bool = True) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=wait, cancel_futures=not wait)
            self.pool = None
