"""Quality encodes of the studio's takes.

A take the studio streamed while it rendered is a preview encode (cut for streaming). A preview that is kept or
finished is encoded again at quality from the same frames: rendered again from its recipe with the photo, depth
and scene still in memory (the renderer is deterministic, so the frames are byte-identical), into a file of its
own beside the preview (:func:`quality_path`, with its recipe). The preview is never written again: the page's
players and an API client may still be reading it (a file replaced under a download ends it short, and a
player's next range request would read another file's bytes). Once a click's takes are all shown, a background
thread does this for its previews one at a time while no click is rendering, at the lowest CPU priority, so
Keep usually finds the quality file ready and a click never waits for it.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path
from typing import Callable, Optional

from pipelines.core import recipe as recipes

#: How long the background thread waits between checks while a click renders (s).
IDLE_POLL_SECONDS = 0.1
#: Added to a preview's file name for its quality encode.
QUALITY_SUFFIX = "-quality"


def quality_path(video: Path) -> Path:
    """Where the quality encode of the preview ``video`` goes: beside it, ``take1-....mp4`` ->
    ``take1-...-quality.mp4``."""
    return video.with_name(video.stem + QUALITY_SUFFIX + video.suffix)


class QualityEncodes:
    """Encodes takes at quality, on demand (:meth:`ensure`) and in the background (:meth:`later`).

    render: ``render(path, recipe) -> bool`` renders the take of ``recipe`` to ``path`` at quality; False
        when it cannot (the photo has left memory). busy: True while a click renders (the background thread
        waits for it).
    """

    def __init__(self, render: Callable[[Path, recipes.Recipe], bool], busy: Callable[[], bool]):
        self._render, self._busy = render, busy
        self._locks: dict[Path, threading.Lock] = {}
        self._guard = threading.Lock()
        self._queue: queue.Queue = queue.Queue()
        self._thread: Optional[threading.Thread] = None

    def _lock(self, video: Path) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(video, threading.Lock())

    def ensure(self, video: str | Path) -> Optional[Path]:
        """The quality encode of the take ``video``, made now unless it exists: ``video`` itself when it is one,
        else its :func:`quality_path`. None when the take can no longer be rendered here (the preview stays, and
        its recipe says it is one)."""
        video = Path(video).resolve()
        with self._lock(video):
            rec = recipes.load(str(video) + ".json")
            if rec.encode in (None, "quality"):
                return video
            target = quality_path(video)
            # Its recipe is written last (the take pipeline's last step): with it the file is whole.
            done = Path(str(target) + ".json")
            if done.is_file() and recipes.load(str(done)).encode == "quality":
                return target
            return target if self._render(target, rec) else None

    def later(self, videos: list[str | Path]) -> None:
        """Encode ``videos`` at quality in the background, one at a time, while no click renders."""
        for v in videos:
            self._queue.put(Path(v).resolve())
        with self._guard:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="studio-quality", daemon=True)
                self._thread.start()

    def _work(self) -> None:
        _lowest_priority()
        while True:
            try:
                video = self._queue.get(timeout=5.0)
            except queue.Empty:
                return
            while self._busy():
                time.sleep(IDLE_POLL_SECONDS)
            try:
                if video.is_file():
                    self.ensure(video)
            except Exception:  # noqa: BLE001 - Keep tries again and reports the error to the user
                logging.getLogger(__name__).warning("background quality encode of %s failed", video.name,
                                                    exc_info=True)


def _lowest_priority() -> None:
    """Give this thread, and the render threads and encoder it starts (they inherit it), the lowest CPU
    priority (Linux: nice is per thread), so a click that starts while a background encode runs keeps the
    cores."""
    import os

    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # not Linux, or not allowed: the encode still waits between takes
        pass


def render_again(photos, take: Callable) -> Callable[[Path, recipes.Recipe], bool]:
    """``render(path, recipe)`` for :class:`QualityEncodes`: the take of ``recipe`` rendered again to ``path`` (beside
    the preview) at quality through the take pipeline ``take``, from the photo, depth and scene in ``photos`` (a
    PhotoCache): the same frames. False when the photo has left memory."""

    def render(video: Path, rec: recipes.Recipe) -> bool:
        s = rec.settings
        fitted = photos.fitted_by_key(rec.source.photo_sha256, (s.width, s.height))
        if fitted is None:
            return False
        motion = None
        if rec.motion is not None:  # a living photo: its masks are beside the take, checked by hash
            from pipelines.living import load_motion

            motion = load_motion(rec.motion, fitted.photo.size, base_dir=video.parent)
        take(fitted.photo, fitted.depth, s, video=video, scene=fitted.scene, source=rec.source, motion=motion)
        return True

    return render
