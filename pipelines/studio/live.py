"""Watching a take while it renders, and running a click's takes beside the caller.

The take's encoder writes short MPEG-TS segments next to the MP4 (:func:`pipelines.render.video.write_video`,
``segments=``); :class:`Segments` hands them out as each one closes. :func:`run_beside` runs the click's takes
in a worker thread and passes their results back as events, so the caller can hand out segments (and takes)
while the renderer works.
"""
from __future__ import annotations

import contextvars
import queue
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

#: How often the caller looks for a closed segment while a take renders (s).
POLL_SECONDS = 0.03


@dataclass(frozen=True)
class Segment:
    """One closed MPEG-TS segment of a take that is still rendering.

    path: the .ts file (H.264 yuv420p, starting on a keyframe; timestamps continue from the segment before).
    seconds: its length in seconds of video. index: 0 for the first segment of the take.
    """

    path: Path
    seconds: float
    index: int

    def __post_init__(self):
        if self.seconds <= 0 or self.index < 0:
            raise ValueError(f"a segment has a positive length and index >= 0, got {self.seconds} s, #{self.index}")


class Segments:
    """The segments listed in ``folder/segments.csv`` (name,start,end per closed segment), each handed out once."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._seen = 0

    def new(self) -> list[Segment]:
        """The segments closed since the last call, in order."""
        try:
            lines = (self.folder / "segments.csv").read_text().split("\n")[:-1]  # the last: "" or half-written
        except FileNotFoundError:
            return []
        out = []
        for line in lines[self._seen:]:
            name, start, end = line.split(",")
            start, end = float(start), float(end)
            out.append(Segment(self.folder / name, max(end - start, 1e-3), self._seen + len(out)))
        self._seen += len(out)
        return out


def run_beside(work: Callable[[Callable[[Any], None]], None]) -> Iterator[tuple[str, Any]]:
    """Run ``work(emit)`` in a worker thread (with the caller's context variables, so progress reporting
    reaches the caller's request) and yield ``("item", x)`` for each ``emit(x)`` as it comes, then
    ``("tick", None)`` every :data:`POLL_SECONDS` while nothing comes. An exception in ``work`` is raised here.
    Closing this generator early leaves the worker to finish on its own (``work`` checks its own stop flag).
    """
    events: queue.Queue = queue.Queue()
    done = object()

    def target() -> None:
        try:
            work(lambda item: events.put(("item", item)))
        except BaseException as exc:  # handed to the caller, who raises it
            events.put(("error", exc))
        finally:
            events.put(("done", done))

    ctx = contextvars.copy_context()
    threading.Thread(target=ctx.run, args=(target,), name="studio-takes", daemon=True).start()
    while True:
        try:
            kind, value = events.get(timeout=POLL_SECONDS)
        except queue.Empty:
            yield "tick", None
            continue
        if kind == "error":
            raise value
        if kind == "done":
            return
        yield kind, value


def run_overlapped(jobs: Sequence[Callable[..., Any]], emit: Callable[[Any], None], stopped: Callable[[], bool]) -> int:
    """Run ``jobs`` in order, each called as ``job(rendered=event)``, and ``emit`` their results in order; returns
    how many started. The first job (the take being watched) runs alone; each later one starts once the one
    before has set its event (its frames are rendered: only its encoder's tail and the files beside its video
    are left) or has finished, so two overlap at most. No job starts once ``stopped()``; an error is raised
    after the jobs already running have finished."""
    futures, handed = [], 0
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="studio-take") as pool:
        for job in jobs:
            if stopped():
                break
            rendered = threading.Event()
            # each in a copy of this thread's context variables (a Context is entered by one thread at a time)
            futures.append(pool.submit(contextvars.copy_context().run, job, rendered=rendered))
            while True:  # hand out the takes that are done (in order) while this one renders its frames
                while handed < len(futures) and futures[handed].done():
                    emit(futures[handed].result())
                    handed += 1
                if handed == len(futures):
                    break
                if len(futures) == 1:  # the watched take, alone until it is done
                    wait(futures, timeout=POLL_SECONDS)
                elif rendered.wait(POLL_SECONDS):
                    break
        for future in futures[handed:]:
            emit(future.result())
    return len(futures)
