"""The one function that runs a generative model: the only function a ZeroGPU Space attaches a GPU to.

:func:`run` is a generator (ZeroGPU accepts generators, not ``async def``): it yields an event after each
denoising step, so the caller reports progress and can stop the run between steps, then one final event.
On ZeroGPU it runs in a forked worker that holds the pipelines loaded at start-up; its arguments and the
events it yields cross the process boundary pickled, so they are plain data: the pipeline travels as its
cache key (see :func:`pipelines.generative.engine.pipeline_key`), errors the studio explains travel as
events, and closing the generator (Stop) reaches the worker as ZeroGPU's stop signal.

Events: ``("step", i, total)`` after step i of total; then ``("frames", (n, h, w, 3) uint8)``, or
``("oom", message)`` when the GPU ran out of memory. Any other exception is raised as it is.
"""
from __future__ import annotations

import queue
import threading
from typing import Any, Iterator

from pipelines.generative import zerogpu

Event = tuple


class _Stopped(Exception):
    """Raised from the step callback to stop a pipeline at once. Not ``pipe._interrupt``: pipelines that
    honour it still decode the latents after the loop, which on ZeroGPU spends quota on a take nobody wants."""


@zerogpu.GPU(duration=zerogpu.run_seconds)
def run(pipe: Any, backend: str, kwargs: dict, seed: int, steps: int,
        shape: tuple[int, int, int]) -> Iterator[Event]:
    """Run the pipeline ``pipe`` (a diffusers pipeline, or the cache key of one loaded in this process) on
    ``kwargs`` (its call arguments, without generator and callbacks) with a CPU generator seeded by
    ``seed``, yielding the events above. ``steps`` is the number of steps the call runs (for progress
    and ZeroGPU's duration); ``shape`` is (frames, height, width) at the model's size. Closing the
    generator stops the pipeline at its next step and waits for it."""
    from pipelines.generative import engine

    model = engine.cached_pipeline(pipe) if isinstance(pipe, tuple) else pipe
    events: queue.Queue = queue.Queue()
    stop = threading.Event()
    # The pipeline runs in a thread so that this generator can yield between its steps.
    worker = threading.Thread(target=_call, args=(model, kwargs, seed, steps, stop, events),
                              name=f"denoise-{backend}", daemon=True)
    worker.start()
    try:
        while True:
            event = events.get()
            if event[0] == "error":
                raise event[1]
            yield event
            if event[0] != "step":
                return
    finally:
        stop.set()
        worker.join()


def _call(pipe, kwargs: dict, seed: int, steps: int, stop: threading.Event, events: queue.Queue) -> None:
    import torch

    from pipelines.generative import engine

    def on_step_end(p, i, timestep, callback_kwargs):
        events.put(("step", i + 1, getattr(p, "_num_timesteps", None) or steps))
        if stop.is_set():
            raise _Stopped()
        return callback_kwargs

    # The generator lives on the CPU: the same seed gives the same noise on any device.
    generator = torch.Generator("cpu").manual_seed(int(seed))
    try:
        with engine.run_lock(pipe):
            out = pipe(**kwargs, generator=generator, callback_on_step_end=on_step_end,
                       callback_on_step_end_tensor_inputs=["latents"])
    except _Stopped:  # the generator was closed: nobody reads on
        return
    except BaseException as exc:  # handed to the generator, which raises it in the caller's thread
        if _is_out_of_memory(exc):
            _free_memory()
            events.put(("oom", str(exc)))
        else:
            events.put(("error", exc))
        return
    events.put(("frames", engine.to_uint8(out.frames)))


def _is_out_of_memory(exc: BaseException) -> bool:
    import torch

    types = tuple(t for t in (getattr(torch, "OutOfMemoryError", None),
                              getattr(torch.cuda, "OutOfMemoryError", None)) if t is not None)
    # MPS (and some CUDA paths) report it as a plain RuntimeError
    return isinstance(exc, types) or (isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


def _free_memory() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
