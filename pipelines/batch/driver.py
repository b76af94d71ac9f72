"""The batch entry point: many photos to videos, resumable, with a manifest of what happened to each.

    rows = batch("photos/", "videos/", {"preset": "dolly-in", "duration": 4}, workers=2)

The driver resolves the inputs, skips what an earlier run already did with the same photo and settings,
hands the rest to a runner (local processes, or Ray) and rewrites ``OUT_DIR/manifest.jsonl`` atomically
as each item finishes. A broken photo fails its own row; the others still run.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional, Union

from pipelines.batch.inputs import InputSpec, output_stems, resolve_inputs
from pipelines.batch.item import BatchJob, check_writable
from pipelines.batch.local import Done, Task, default_workers, peak_memory_mb, run_local
from pipelines.batch.manifest import MANIFEST_NAME, ManifestRow, file_sha256, is_done, item_key, read_manifest, write_manifest
from pipelines.batch.on_ray import RayAddress, run_ray
from pipelines.core.errors import InputError, OutputError
from pipelines.core.schema import FinishSettings, RenderSettings, StudioRequest, bound, validate

#: Free space below which the driver stops handing out photos (a take is a few MB), bytes.
MIN_FREE_BYTES = 64 * 2**20


@dataclass(frozen=True)
class BatchReport:
    """What a batch did: one manifest row per input (input order), where the manifest is, and the peak
    resident memory of the driver and of each worker process (MB, by "pid N"; ffmpeg children not
    counted)."""

    rows: tuple[ManifestRow, ...]
    manifest: Path
    seconds: float
    driver_peak_mb: float
    workers: dict[str, float] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.rows)

    @property
    def ok(self) -> bool:
        """Every item is done (ok now, or skipped because an earlier run did it)."""
        return all(r.done for r in self.rows)


def make_job(out_dir: Union[str, os.PathLike], settings: Union[RenderSettings, dict, None] = None, *,
             takes: int = 1, finishing: Union[FinishSettings, dict, None] = None, estimator: str = "auto",
             prompt: str = "") -> BatchJob:
    """Check a batch's settings before any work: the render settings (a :class:`RenderSettings` or a
    dict of its fields), the number of takes per photo (seeds seed, seed+1, ... as in the studio), the
    finishing settings (fonts and audio file are checked too) and the depth estimator. ``prompt``, the
    motion in words, picks the move and scales the strength when a settings dict names no preset (as
    `render --prompt` does); it is recorded in every recipe."""
    from pipelines import depth
    from pipelines.render import camera
    from pipelines.studio import takes as take_plans
    from pipelines.studio.prompt import MotionPlan, apply_words

    if prompt and not isinstance(settings, RenderSettings) and "preset" not in (settings or {}):
        settings = apply_words(prompt, dict(settings or {}))[0]
    base = settings if isinstance(settings, RenderSettings) else validate(RenderSettings, **(settings or {}))
    camera.get_preset(base.preset)  # an unknown preset fails before any work
    depth.estimator_info(estimator)
    most = bound(StudioRequest, "num_takes", "le")
    if not isinstance(takes, int) or isinstance(takes, bool) or not 1 <= takes <= most:
        raise InputError(f"takes must be 1..{most} per photo (as in the studio), got {takes!r}")
    timing = base.model_dump(exclude={"preset", "strength", "seed"})
    plan = MotionPlan(preset=base.preset, strength=base.strength, label=base.preset, explanation="")
    series = take_plans.take_settings(plan, takes, base.seed, "seed", **timing)
    if isinstance(finishing, dict):
        finishing = validate(FinishSettings, **finishing)
    if finishing is not None:
        from pipelines.finish import compose as finish

        finish.preflight(finishing)
    return BatchJob(out_dir=os.path.abspath(out_dir), takes=tuple(series), finishing=finishing, estimator=estimator,
                    prompt=prompt)


def batch(inputs: InputSpec, out_dir: Union[str, os.PathLike], settings: Union[RenderSettings, dict, None] = None, *,
          workers: Optional[int] = None, ray: RayAddress = False, takes: int = 1,
          finishing: Union[FinishSettings, dict, None] = None, estimator: str = "auto", prompt: str = "",
          force: bool = False, progress: bool = True) -> list[ManifestRow]:
    """Render every photo of ``inputs`` into ``out_dir`` and return the manifest rows (input order).

    inputs: a folder, a glob, a text file of paths, or a list of paths (see :func:`resolve_inputs`).
    settings: :class:`RenderSettings` or a dict of its fields (preset, strength, seed, duration, fps,
        width, height, fov_deg), the same for every photo.
    workers: processes on this machine (default: the cores less one), or actors on Ray.
    ray: False runs here; True starts a Ray runtime on this machine; an address ("auto",
        "ray://head:10001") joins a cluster. A runtime already started with ``ray.init`` is used.
    takes: takes per photo (``<stem>-take<k>.mp4``), seeds seed, seed+1, ...
    finishing: captions, sound, aspect, format, loop for every take (:class:`FinishSettings` or a dict).
    estimator: the depth estimator (``pipelines.depth.ESTIMATORS``).
    prompt: the motion in words; picks the move when ``settings`` names no preset.
    force: redo items an earlier run finished with the same photo and settings.
    progress: show a progress bar (tqdm) on stderr.
    """
    return list(run_batch(inputs, out_dir, settings, workers=workers, ray=ray, takes=takes, finishing=finishing,
                          estimator=estimator, prompt=prompt, force=force, progress=progress).rows)


def run_batch(inputs: InputSpec, out_dir: Union[str, os.PathLike], settings: Union[RenderSettings, dict, None] = None, *,
              workers: Optional[int] = None, ray: RayAddress = False, takes: int = 1,
              finishing: Union[FinishSettings, dict, None] = None, estimator: str = "auto", prompt: str = "",
              force: bool = False, progress: bool = True,
              on_start: Optional[Callable[[int, int], None]] = None) -> BatchReport:
    """:func:`batch`, returning the whole :class:`BatchReport` (rows, memory, time). ``on_start(index,
    pid)`` is called when the local runner hands an item to a worker process.

    Ctrl-C stops the workers and raises KeyboardInterrupt; the manifest then lists what finished."""
    start = time.perf_counter()
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise InputError(f"workers must be a whole number of processes, 1 or more, got {workers!r}")

    # 1. Check the settings, find the photos, then make sure the output folder takes files
    job = make_job(out_dir, settings, takes=takes, finishing=finishing, estimator=estimator, prompt=prompt)
    paths = resolve_inputs(inputs, exclude=job.out_dir)
    stems = output_stems(paths)
    out = check_writable(job.out_dir)

    # 2. Skip what an earlier run did with the same photo and settings
    earlier = read_manifest(out)
    rows: dict[int, ManifestRow] = {}
    tasks: list[Task] = []
    for i, (path, stem) in enumerate(zip(paths, stems)):
        key = item_key(file_sha256(path), job.fingerprint)
        before = earlier.get(str(path))
        if not force and is_done(before, key):
            rows[i] = ManifestRow(input=str(path), outputs=before.outputs, status="skipped", seconds=0.0,
                                  recipe=before.recipe, key=key, notices=before.notices)
        else:
            tasks.append(Task(i, str(path), stem, key))
    others = [r for name, r in earlier.items() if name not in {str(p) for p in paths}]

    def save() -> None:
        write_manifest(out, [rows[i] if i in rows else earlier[str(p)] for i, p in enumerate(paths)
                             if i in rows or str(p) in earlier] + others)

    save()

    # 3. Render the rest, locally or on Ray; the manifest is rewritten as each item finishes
    bar = _ProgressBar(len(paths), len(rows), progress)
    memory: dict[str, float] = {}
    runs = _run(job, tasks, workers, ray, on_start)
    try:
        for done in runs:
            rows[done.index] = done.row
            if done.worker:
                memory[done.worker] = done.peak_mb
            save()
            bar.update(rows)
            _check_free_space(out)
    finally:
        runs.close()  # stops the workers when the batch ends early (Ctrl-C, a full disk)
        bar.close()

    # 4. Report: one row per input, in input order
    return BatchReport(rows=tuple(rows[i] for i in range(len(paths))), manifest=out / MANIFEST_NAME,
                       seconds=round(time.perf_counter() - start, 2), driver_peak_mb=peak_memory_mb(),
                       workers=memory)


def _run(job: BatchJob, tasks: list[Task], workers: Optional[int], ray: RayAddress, on_start) -> Iterator[Done]:
    if not tasks:
        return
    if ray is not False:
        yield from run_ray(job, tasks, workers, ray)
    else:
        yield from run_local(job, tasks, workers or default_workers(), on_start=on_start)


def _check_free_space(out: Path) -> None:
    free = shutil.disk_usage(out).free
    if free < MIN_FREE_BYTES:
        raise OutputError(f"the disk holding {str(out)!r} is nearly full ({free // 2**20} MB free); free some "
                          "space or choose another --out folder, then run the same command again")


class _ProgressBar:
    """tqdm bar of items done, with ok / failed / skipped counts and tqdm's time remaining."""

    def __init__(self, total: int, already: int, enabled: bool):
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=already, unit="photo", desc="batch", dynamic_ncols=True)

    def update(self, rows: dict[int, ManifestRow]) -> None:
        if self.bar is None:
            return
        counts = {s: sum(r.status == s for r in rows.values()) for s in ("ok", "failed", "skipped")}
        self.bar.set_postfix(counts, refresh=False)
        self.bar.update(len(rows) - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
