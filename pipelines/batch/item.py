"""One item of a batch: a photo to its take(s), each with its recipe beside it. The same code runs in a
local worker process and in a Ray actor, so the same photo and settings give the same frames on both."""
from __future__ import annotations

import errno
import hashlib
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from pipelines.batch.manifest import ManifestRow
from pipelines.core.errors import InputError, ModelUnavailableError, OutputError, StudioError
from pipelines.core.schema import FinishSettings, RenderSettings

#: Errors that mean the output folder cannot take more files: the batch stops instead of failing every
#: remaining item one by one.
FULL_DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


@dataclass(frozen=True)
class BatchJob:
    """What every item of a batch does (picklable: it travels to worker processes and Ray actors).

    out_dir: the output folder (absolute; on a cluster, a path every node sees).
    takes: the settings of each take (one per take; seeds seed, seed+1, ... as in the studio).
    finishing: captions, sound, aspect, format, loop applied to each take, or None for the plain take.
    estimator: depth estimator name (``pipelines.depth.ESTIMATORS``).
    prompt: the words that chose the move, recorded in each recipe (the move itself is in ``takes``).
    """

    out_dir: str
    takes: tuple[RenderSettings, ...]
    finishing: Optional[FinishSettings] = None
    estimator: str = "auto"
    prompt: str = ""

    def __post_init__(self):
        if not self.takes:
            raise InputError("a batch needs at least one take per photo (--takes 1 or more)")

    @property
    def fingerprint(self) -> str:
        """Hash of everything that changes the outputs; with the photo's hash, the skip key of an item."""
        spec = {"takes": [s.model_dump() for s in self.takes], "estimator": self.estimator,
                "finishing": self.finishing.model_dump() if self.finishing else None}
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()

    def files_for(self, stem: str) -> list[tuple[Path, Optional[Path]]]:
        """(take video, finished video or None) per take: ``<stem>.mp4`` for one take,
        ``<stem>-take<k>.mp4`` for several; with finishing, the finished file takes that name and the
        plain take is kept beside it as ``<name>.take.mp4`` (as the render command does)."""
        out = Path(self.out_dir)
        names = [stem] if len(self.takes) == 1 else [f"{stem}-take{k + 1}" for k in range(len(self.takes))]
        if self.finishing is None:
            return [(out / f"{n}.mp4", None) for n in names]
        ext = self.finishing.format or "mp4"
        return [(out / f"{n}.take.mp4", out / f"{n}.{ext}") for n in names]


def load_depth_model(estimator: str) -> tuple[str, tuple[str, ...]]:
    """Load the estimator's weights into this process (the depth stage keeps them for every later call)
    and return the estimator that will run, with a notice when "auto" fell back to the classical one."""
    from pipelines import depth
    from pipelines.depth import models

    info = depth.estimator_info(estimator)
    if info.backend == "classical":
        return info.name, ()
    try:
        if info.backend == "transformers":
            models.load_depth_anything(info.name, info.hub_id)
        else:
            models.load_annotator(info.name, info.detector, info.hub_id, info.files[0])
    except ModelUnavailableError as exc:
        if estimator != "auto":
            raise
        return "classical", (f"depth: fell back to the classical estimator because {exc}",)
    return estimator, ()


class ItemWorker:
    """Renders items one after another in one process; the depth model is loaded once, here."""

    def __init__(self, job: BatchJob):
        self.job = job
        self.estimator, self.notices = load_depth_model(job.estimator)

    def __call__(self, path: str, stem: str, key: Optional[str]) -> tuple[ManifestRow, Optional[str]]:
        """The item's manifest row, and a message when the batch must stop (the disk is full)."""
        start = time.perf_counter()
        notes: list[str] = []
        try:
            outputs, recipes = self._render(path, stem, notes)
        except StudioError as exc:
            return self._failed(path, key, str(exc), start, notes), None
        except OSError as exc:
            if exc.errno in FULL_DISK_ERRNOS:
                msg = (f"cannot write to {self.job.out_dir!r}: {exc.strerror}; free some space or choose "
                       "another --out folder, then run the same command again")
                return self._failed(path, key, msg, start, notes), msg
            return self._failed(path, key, _unexpected(exc), start, notes), None
        except Exception as exc:  # a bug must not stop the other photos; it is recorded, not hidden
            return self._failed(path, key, _unexpected(exc), start, notes), None
        row = ManifestRow(input=path, outputs=tuple(map(str, outputs)), status="ok", error=None,
                          seconds=round(time.perf_counter() - start, 3), recipe=tuple(map(str, recipes)),
                          key=key, notices=tuple(dict.fromkeys(notes)))
        return row, None

    def _render(self, path: str, stem: str, notes: list[str]) -> tuple[list[Path], list[Path]]:
        from pipelines import depth
        from pipelines.core.photo import load_image
        from pipelines.render import parallax
        from pipelines.render.take import files_source, render_take

        job = self.job
        # 1. Load and check the photo (broken files fail here with the CLI's message)
        photo = load_image(path)
        # 2. Depth, with the model this worker loaded once
        dm = depth.estimate(photo, self.estimator)
        notes += self.notices + photo.notices + dm.notices
        # 3. The layered scene, built once and shared by every take of the photo
        scene = parallax.build_scene(photo, dm)
        outputs, recipes = [], []
        for settings, (take_file, final_file) in zip(job.takes, job.files_for(stem)):
            # 4. Render the take; its recipe is written beside it
            take = render_take(photo, dm, settings, video=take_file, scene=scene,
                               source=files_source(photo, dm, path, take_file, job.prompt))
            if final_file is None:
                outputs.append(take.video)
                recipes.append(Path(str(take.video) + ".json"))
                continue
            # 5. Finish it (captions, sound, aspect, format, loop); the finished file gets its recipe too
            from pipelines.finish import compose as finish

            outputs.append(finish.finish_take(take.video, job.finishing, final_file, notices=notes))
            recipes.append(Path(str(outputs[-1]) + ".json"))
        return outputs, recipes

    @staticmethod
    def _failed(path: str, key, error: str, start: float, notes: list[str]) -> ManifestRow:
        return ManifestRow(input=path, status="failed", error=_one_line(error), key=key,
                           seconds=round(time.perf_counter() - start, 3), notices=tuple(dict.fromkeys(notes)))


def _unexpected(exc: BaseException) -> str:
    traceback.print_exception(exc, file=sys.stderr)
    return f"unexpected {type(exc).__name__}: {exc} (the traceback is in the log; please report it)"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def remove_partials(job: BatchJob, stem: str) -> None:
    """Remove the half-written videos a killed worker left for ``stem``: the encoder and the finishing
    stage write ``.<name>.partial<ext>`` beside the final name and rename it only when complete."""
    for take_file, final_file in job.files_for(stem):
        for f in (take_file, final_file):
            if f is not None:
                f.with_name(f".{f.stem}.partial{f.suffix}").unlink(missing_ok=True)


def check_writable(out_dir: str | os.PathLike) -> Path:
    """Create the output folder if needed and prove a file can be written there."""
    import tempfile

    out = Path(os.path.abspath(out_dir))
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-check.", delete=True) as f:
            f.write(b"ok")
            f.flush()
    except OSError as exc:
        raise OutputError(f"cannot write to the output folder {str(out)!r}: {exc.strerror or exc}; "
                          "choose a folder you can write to (--out)") from exc
    return out
