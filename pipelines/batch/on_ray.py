"""The Ray runner: the same items on a Ray cluster (or a Ray runtime started on this machine).

Ray Data streams the photo paths (``from_items``, one block per photo) through ``map_batches`` with an
actor class: each actor loads the depth model once and renders one photo per call, decoding it inside
the worker so no pixels travel through the object store. Actors write the videos and recipes to the
output folder themselves (a shared filesystem or a mounted bucket path on a cluster) and return only the
manifest row; the driver writes the manifest. An actor that dies is restarted and its photo retried
once, then recorded as failed.

Traps (ray 2.60): ``local_mode`` is gone; and on a small cluster, actors must leave part of a CPU free
for Ray Data's own tasks, or the pipeline waits forever: actors ask for fractional CPUs.
"""
from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Iterator, Optional, Union

import numpy as np

from pipelines.batch.item import BatchJob, ItemWorker, remove_partials
from pipelines.batch.local import MAX_ATTEMPTS, Done, Task, died_row, peak_memory_mb
from pipelines.batch.manifest import ManifestRow
from pipelines.core.errors import InputError, ModelUnavailableError, OutputError, StudioError

INSTALL_HINT = "pip install 'ray[data]'"
#: CPU share every actor leaves to Ray Data's own tasks, in total.
RAY_DATA_CPUS = 0.5
#: Object store of a runtime started here: the items are paths and rows, a few kB.
LOCAL_OBJECT_STORE_BYTES = 128 * 2**20

RayAddress = Union[bool, str, None]


def import_ray():
    """``ray`` and ``ray.data``, or an error that says how to install them."""
    import warnings

    # Ray Data's own deprecation notices (of its settings, not ours) would print under the bar.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ray\.")
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise InputError(f"--ray needs Ray Data, which is not installed ({exc.name}); install it with "
                         f"{INSTALL_HINT}, or leave out --ray to run on this machine") from None
    return ray


class RayWorker:
    """A Ray Data actor: loads the depth model once, then renders the photos of each batch it gets."""

    def __init__(self, job: BatchJob):
        try:
            self.worker = ItemWorker(job)
        except ModelUnavailableError as exc:
            self.worker, self.init_error = None, str(exc)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows, fatals = [], []
        for index, path, stem, key in zip(batch["index"], batch["input"], batch["stem"], batch["key"]):
            task = Task(int(index), str(path), str(stem), str(key) or None)
            if self.worker is None:
                row, fatal = ManifestRow(input=task.input, status="failed", error=self.init_error), self.init_error
            else:
                row, fatal = self._render(task)
            rows.append(row.to_json())
            fatals.append(fatal or "")
        n = len(rows)
        return {"index": np.asarray(batch["index"]), "row": np.asarray(rows, dtype=object),
                "fatal": np.asarray(fatals, dtype=object), "worker": np.asarray([f"pid {os.getpid()}"] * n, dtype=object),
                "peak_mb": np.full(n, peak_memory_mb())}


    def _render(self, task: Task) -> tuple[ManifestRow, Optional[str]]:
        # Ray restarts a dead actor and retries its photo without end; a count of tries kept beside the
        # outputs (which every node sees) turns a photo that kills its actor every time into a failed row.
        tries = _tries_file(self.worker.job, task.stem)
        count = int(tries.read_text() or 0) + 1 if tries.is_file() else 1
        if count > MAX_ATTEMPTS:
            tries.unlink(missing_ok=True)
            return died_row(task, "its Ray actor was lost"), None
        tries.write_text(str(count))
        remove_partials(self.worker.job, task.stem)
        try:
            return self.worker(task.input, task.stem, task.key)
        finally:
            tries.unlink(missing_ok=True)


def _tries_file(job: BatchJob, stem: str) -> Path:
    return Path(job.out_dir) / f".{stem}.tries"


class RayRunError(StudioError, RuntimeError):
    """Ray stopped the run (a cluster that went away, actors that cannot start)."""


def actor_cpus(cluster_cpus: float, actors: int) -> float:
    """CPUs each actor asks for: up to one, leaving RAY_DATA_CPUS of the cluster to Ray Data's tasks
    (rounded down to 0.05)."""
    share = (cluster_cpus - RAY_DATA_CPUS) / actors
    if share < 0.05:
        raise InputError(f"{actors} Ray workers do not fit on a cluster of {cluster_cpus:g} CPUs; "
                         f"use --workers {max(1, int((cluster_cpus - RAY_DATA_CPUS) / 0.25))} or fewer")
    return min(1.0, math.floor(share * 20) / 20)


def run_ray(job: BatchJob, tasks: list[Task], workers: Optional[int], address: RayAddress = True) -> Iterator[Done]:
    """Render ``tasks`` on Ray and yield each item as it finishes.

    address: True (or None, "local") starts a Ray runtime on this machine; a string such as "auto" or
    "ray://head:10001" joins that cluster. A runtime already started in this process (``ray.init``) is
    used as it is and left running. workers: actors (default: the cluster's CPUs less one, at least one).
    """
    ray = import_ray()
    started = False
    data_log = logging.getLogger("ray.data")
    log_level = data_log.level
    ctx = ray.data.DataContext.get_current()
    pending = {t.index: t for t in tasks}
    if not ray.is_initialized():
        _init(ray, address)
        started = True
    try:
        cpus = float(ray.cluster_resources().get("CPU", 1))
        actors = workers or max(1, int(cpus) - 1)
        actors = max(1, min(actors, len(tasks)))
        ctx.enable_progress_bars = False  # the batch has its own bar
        ctx.print_on_execution_start = False
        data_log.setLevel(logging.ERROR)  # no per-dataset chatter under the batch's bar
        items = [{"index": t.index, "input": t.input, "stem": t.stem, "key": t.key or ""} for t in tasks]
        ds = ray.data.from_items(items, override_num_blocks=len(items))
        # One photo in flight per actor: photos take seconds, so queueing more only unbalances the end.
        pool = ray.data.ActorPoolStrategy(size=actors, max_tasks_in_flight_per_actor=1)
        ds = ds.map_batches(RayWorker, fn_constructor_kwargs={"job": job}, batch_size=1, compute=pool,
                            num_cpus=actor_cpus(cpus, actors))
        for task in tasks:
            _tries_file(job, task.stem).unlink(missing_ok=True)  # an interrupted run's count starts afresh
        try:
            for out in ds.iter_rows():
                done = Done(int(out["index"]), ManifestRow.from_json(out["row"]), out["fatal"] or None,
                            str(out["worker"]), float(out["peak_mb"]))
                pending.pop(done.index, None)
                yield done
                if done.fatal:
                    raise OutputError(done.fatal)
        except ray.exceptions.RayError as exc:
            raise RayRunError(f"the Ray run stopped: {str(exc).splitlines()[0]}; the manifest lists the photos "
                              "that finished; run the same command again to do the rest") from exc
    finally:
        data_log.setLevel(log_level)
        if started:
            ray.shutdown()
        for task in pending.values():  # stopped early: no count of tries or half-written file stays
            _tries_file(job, task.stem).unlink(missing_ok=True)
            remove_partials(job, task.stem)


def _init(ray, address: RayAddress) -> None:
    import pipelines

    # Workers import this checkout's package (a cluster's nodes need the project installed instead).
    here = str(Path(pipelines.__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)
    env = {"env_vars": {"PYTHONPATH": path, "OMP_WAIT_POLICY": "PASSIVE"}}
    common = dict(runtime_env=env, logging_level=logging.WARNING, log_to_driver=True)
    if address in (True, None, "local"):
        ray.init(include_dashboard=False, object_store_memory=LOCAL_OBJECT_STORE_BYTES, **common)
    else:
        try:
            ray.init(address=str(address), **common)
        except ConnectionError as exc:
            raise InputError(f"cannot join the Ray cluster at {address!r}: {exc}; start one with "
                             "`ray start --head` (then use --ray auto), or leave out the address to run "
                             "Ray on this machine") from exc
