"""The local runner: N worker processes on this machine, each loading the depth model once and rendering
one item at a time.

Each worker has its own inbox and holds at most one item, so the driver always knows which photo a
worker was rendering: when a worker dies (killed, out of memory), that item is retried once on a fresh
worker and then recorded as failed, never silently lost. Workers ignore Ctrl-C; the driver stops them.
"""
from __future__ import annotations

import os
import queue
import resource
import signal
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

from pipelines.batch.item import BatchJob, ItemWorker, remove_partials
from pipelines.batch.manifest import ManifestRow
from pipelines.core.errors import ModelUnavailableError, OutputError

#: Tries of an item whose worker process died under it (the first try and one retry).
MAX_ATTEMPTS = 2
#: How often the driver looks for dead workers while it waits, seconds.
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Task:
    """One item to render: its position in the input list, the photo path, its output stem and skip key."""

    index: int
    input: str
    stem: str
    key: Optional[str]


@dataclass(frozen=True)
class Done:
    """A finished item as a runner reports it; ``fatal`` is set when the batch must stop (disk full).
    ``worker`` identifies the process and ``peak_mb`` is its peak resident memory so far."""

    index: int
    row: ManifestRow
    fatal: Optional[str] = None
    worker: str = ""
    peak_mb: float = 0.0


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def default_workers() -> int:
    """Worker processes by default: one per core, less one that the encoders (ffmpeg) and the driver
    share; at least one."""
    return max(1, cores() - 1)


def peak_memory_mb() -> float:
    """Peak resident memory of this process, MB (not counting its ffmpeg children)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux reports kB


def _worker_main(job: BatchJob, threads: int, inbox, outbox) -> None:
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides how Ctrl-C ends the batch
    # Stopped by the driver: unwind, so the encoder closes and its half-written file is removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    import cv2

    cv2.setNumThreads(threads)
    try:
        worker = ItemWorker(job)
    except ModelUnavailableError as exc:
        outbox.put(("init_failed", os.getpid(), str(exc)))
        return
    while True:
        task = inbox.get()
        if task is None:
            return
        row, fatal = worker(task.input, task.stem, task.key)
        outbox.put(("done", os.getpid(), Done(task.index, row, fatal, f"pid {os.getpid()}", peak_memory_mb())))


class _Slot:
    def __init__(self, ctx, job: BatchJob, threads: int, outbox):
        self.inbox = ctx.Queue()
        self.proc = ctx.Process(target=_worker_main, args=(job, threads, self.inbox, outbox), daemon=True)
        self.proc.start()
        self.task: Optional[Task] = None


def run_local(job: BatchJob, tasks: list[Task], workers: int,
              on_start: Optional[Callable[[int, int], None]] = None) -> Iterator[Done]:
    """Render ``tasks`` on ``workers`` processes and yield each item as it finishes (in finishing order).

    on_start: called as ``on_start(index, pid)`` when an item is handed to a worker process."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # no fork of a driver that may hold threads or torch
    outbox = ctx.Queue()
    workers = max(1, min(workers, len(tasks)))
    threads = max(1, cores() // workers)  # OpenCV threads per worker: together, the machine's cores
    pending: deque[Task] = deque(tasks)
    attempts: dict[int, int] = {}
    slots = [_Slot(ctx, job, threads, outbox) for _ in range(workers)]
    try:
        while pending or any(s.task for s in slots):
            for s in slots:
                if s.task is None and pending and s.proc.is_alive():
                    s.task = pending.popleft()
                    attempts[s.task.index] = attempts.get(s.task.index, 0) + 1
                    s.inbox.put(s.task)
                    if on_start is not None:
                        on_start(s.task.index, s.proc.pid)
            for msg in _drain(outbox):
                kind, pid, payload = msg
                if kind == "init_failed":
                    raise ModelUnavailableError(payload)
                slot = next((s for s in slots if s.proc.pid == pid), None)
                if slot is None or slot.task is None or slot.task.index != payload.index:
                    continue  # a late report from a worker already given up for dead
                slot.task = None
                yield payload
                if payload.fatal:
                    raise OutputError(payload.fatal)
            for i, s in enumerate(slots):
                if s.proc.is_alive():
                    continue
                task, s.task = s.task, None
                if task is not None:
                    remove_partials(job, task.stem)
                    if attempts[task.index] < MAX_ATTEMPTS:
                        pending.appendleft(task)
                    else:
                        yield Done(task.index, _died(task, s.proc.exitcode))
                if pending:
                    slots[i] = _Slot(ctx, job, threads, outbox)
    finally:
        _stop(slots, job)


def _drain(outbox) -> list:
    """Wait up to POLL_SECONDS for a report, then take every report already there."""
    try:
        msgs = [outbox.get(timeout=POLL_SECONDS)]
    except queue.Empty:
        return []
    while True:
        try:
            msgs.append(outbox.get_nowait())
        except queue.Empty:
            return msgs


def _died(task: Task, exitcode: Optional[int]) -> ManifestRow:
    how = f"killed by signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit status {exitcode}"
    return died_row(task, how)


def died_row(task: Task, how: str) -> ManifestRow:
    """The row of a photo whose worker died under it on every try."""
    return ManifestRow(input=task.input, status="failed", key=task.key,
                       error=f"the worker process rendering this photo died ({how}; out of memory?) on "
                             f"{MAX_ATTEMPTS} tries; run the same command again to retry it, or try fewer --workers")


def _stop(slots: list[_Slot], job: BatchJob) -> None:
    """Ask idle workers to finish, stop busy ones (an interrupted batch), and clean their half-written files."""
    for s in slots:
        if s.proc.is_alive() and s.task is None:
            s.inbox.put(None)
    for s in slots:
        if s.task is not None and s.proc.is_alive():
            s.proc.terminate()
    for s in slots:
        s.proc.join(timeout=10)
        if s.proc.is_alive():
            s.proc.kill()
            s.proc.join()
        if s.task is not None:
            remove_partials(job, s.task.stem)
