"""The generative engine on a ZeroGPU Space, checked on the CPU with a stand-in ``spaces`` module that records
what is decorated and called, the way ZeroGPU would: the decorated function's arguments must pickle (they
cross into a forked GPU worker), its duration comes from the same arguments, and closing its generator is
the Stop signal."""
import importlib
import inspect
import math
import os
import pickle
import subprocess
import sys
import textwrap
import threading
import types
from pathlib import Path

import numpy as np
import pytest

import tiny_models as gt
from pipelines.core.errors import InputError
from pipelines.generative import denoise, zerogpu
from pipelines.generative import engine as generative

ROOT = Path(__file__).resolve().parents[2]
T, H, W = 9, 32, 32

STAND_IN = '''
"""A stand-in for the `spaces` package (in-process): records what @spaces.GPU decorates and each call's duration."""
import inspect, pickle

decorated = []   # (qualified name, duration)
calls = []       # dicts: name, seconds, pickled_bytes, closed_early


def GPU(task=None, *, duration=None, size=None):
    def wrap(fn):
        decorated.append((f"{fn.__module__}.{fn.__qualname__}", duration))

        def gpu_call(*args, **kwargs):
            record = dict(name=fn.__qualname__, pickled_bytes=len(pickle.dumps((args, kwargs))),
                          seconds=duration(*args, **kwargs) if callable(duration) else duration, closed_early=True)
            calls.append(record)
            for event in fn(*args, **kwargs):
                yield event
            record["closed_early"] = False

        gpu_call.__wrapped__ = fn
        assert inspect.isgeneratorfunction(fn), "only generators keep Stop and progress working on ZeroGPU"
        return gpu_call

    return wrap(task) if callable(task) else wrap
'''


@pytest.fixture
def spaces_stand_in(monkeypatch, tmp_path):
    """ZeroGPU switched on, with the stand-in as `spaces`; the denoising module is decorated again."""
    module = types.ModuleType("spaces")
    exec(STAND_IN, module.__dict__)
    monkeypatch.setenv(zerogpu.ZERO_GPU_ENV, "true")
    monkeypatch.setitem(sys.modules, "spaces", module)
    importlib.reload(denoise)
    yield module
    monkeypatch.undo()
    importlib.reload(denoise)  # back to the plain function


@pytest.fixture(scope="module")
def take():
    yy, xx = np.mgrid[0:H, 0:W]
    photo = np.stack([xx * 255 // (W - 1), yy * 255 // (H - 1), (xx + yy) * 255 // (W + H - 2)], -1).astype(np.uint8)
    depth = np.stack([np.full((H, W), 4.0 - 0.3 * t, np.float32) for t in range(T)])
    return dict(photo=photo, draft=np.stack([np.roll(photo, -t, axis=1) for t in range(T)]), depth=depth,
                holes=np.zeros((T, H, W), np.uint8))


@pytest.fixture(scope="module")
def wan_folder(tmp_path_factory):
    """A tiny Wan VACE pipeline saved like hub weights, so the engine loads and caches it itself."""
    folder = tmp_path_factory.mktemp("wan")
    gt.tiny_pipeline("wan-vace").save_pretrained(folder)
    return {"repo": str(folder)}


def _generate(take, **kw):
    args = dict(prompt="waves roll in", seed=3, strength=0.5, num_inference_steps=2, device="cpu")
    args.update(kw)
    return generative.generate("wan-vace", **take, **args)


# ----------------------------------------------------------------------------------------------------
# Off a Space: nothing changes


def test_off_a_space_the_app_imports_no_torch_nor_spaces_and_the_function_is_the_original():
    env = {k: v for k, v in os.environ.items() if k != zerogpu.ZERO_GPU_ENV}
    code = ("import sys, inspect, app\n"
            "from pipelines.generative import denoise, zerogpu\n"
            "print(sorted(m for m in ('torch', 'spaces', 'gradio') if m in sys.modules))\n"
            "print(inspect.isgeneratorfunction(denoise.run), hasattr(denoise.run, '__wrapped__'))\n"
            "f = lambda: 1\n"
            "print(zerogpu.GPU(duration=zerogpu.run_seconds)(f) is f, zerogpu.load_at_startup())")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:3] == ["[]", "True False", "True {}"]


def test_the_real_spaces_package_off_a_space_returns_the_function_unchanged(monkeypatch):
    spaces = pytest.importorskip("spaces")
    monkeypatch.delenv(zerogpu.ZERO_GPU_ENV, raising=False)
    fn = denoise.run.__wrapped__ if hasattr(denoise.run, "__wrapped__") else denoise.run
    assert spaces.GPU(duration=zerogpu.run_seconds)(fn) is fn


# ----------------------------------------------------------------------------------------------------
# On ZeroGPU (stand-in): what is decorated, what it is asked, what crosses the boundary


FORKING_STAND_IN = '''
"""A stand-in for `spaces` that works the way ZeroGPU does: the decorated generator runs in a forked worker
process, its arguments and events cross pickled, and closing the caller's generator sets a stop event
the worker checks after each event."""
import inspect, multiprocessing, pickle

decorated = []   # (qualified name, duration)
requested = []   # seconds asked for, per call
fork = multiprocessing.get_context("fork")


def GPU(task=None, *, duration=None, size=None):
    def wrap(fn):
        decorated.append((f"{fn.__module__}.{fn.__qualname__}", duration))
        assert inspect.isgeneratorfunction(fn), "only generators keep Stop and progress working"

        def worker(payload, results, stop):
            try:
                args, kwargs = pickle.loads(payload)
                events = fn(*args, **kwargs)
                for event in events:
                    if stop.is_set():
                        events.close()
                        break
                    results.put(("event", pickle.dumps(event)))
                results.put(("end", None))
            except Exception as exc:
                results.put(("error", type(exc).__name__))

        def gpu_call(*args, **kwargs):
            requested.append(duration(*args, **kwargs))
            results, stop = fork.Queue(), fork.Event()
            process = fork.Process(target=worker, args=(pickle.dumps((args, kwargs)), results, stop), daemon=True)
            process.start()
            try:
                while True:
                    kind, payload = results.get(timeout=120)
                    if kind == "end":
                        return
                    if kind == "error":
                        raise RuntimeError(f"GPU worker error: {payload}")
                    try:
                        yield pickle.loads(payload)
                    except GeneratorExit:
                        stop.set()
                        raise
            finally:
                process.join(60)

        gpu_call.__wrapped__ = fn
        return gpu_call

    return wrap(task) if callable(task) else wrap
'''


def test_on_zerogpu_exactly_the_denoising_function_runs_in_a_forked_worker(tmp_path):
    """A fresh process, as on a Space: import the app and every module of the package (torch must not load),
    load at start-up (no weights here: nothing loads), then load a tiny pipeline before any fork and run
    takes through a stand-in that forks like ZeroGPU: the worker finds the pipeline by its key, progress
    and Stop cross the process boundary, and the take equals the one made in-process."""
    (tmp_path / "spaces.py").write_text(FORKING_STAND_IN)
    folder = tmp_path / "wan"
    code = textwrap.dedent(f"""
        import importlib, os, pkgutil, sys, threading
        import app, pipelines, spaces
        for info in pkgutil.walk_packages(pipelines.__path__, "pipelines."):
            if info.name != "pipelines.__main__":
                importlib.import_module(info.name)
        print("torch at import:", "torch" in sys.modules)
        report = app.zerogpu.load_at_startup()   # no weights on this machine: nothing loads
        print("decorated:", [name for name, duration in spaces.decorated], spaces.decorated[0][1].__name__)
        print("start-up:", sorted(report), all("weights" in why for why in report.values()))

        import numpy as np, tiny_models
        from pipelines.generative import denoise, engine
        T, H, W = 9, 32, 32
        yy, xx = np.mgrid[0:H, 0:W]
        photo = np.stack([xx * 8, yy * 8, (xx + yy) * 4], -1).astype(np.uint8)
        take = dict(photo=photo, draft=np.stack([np.roll(photo, -t, 1) for t in range(T)]),
                    depth=np.stack([np.full((H, W), 4 - 0.3 * t, np.float32) for t in range(T)]),
                    holes=np.zeros((T, H, W), np.uint8))
        tiny_models.tiny_pipeline("wan-vace").save_pretrained({str(folder)!r})
        args = dict(prompt="x", seed=3, device="cpu", sources={{"repo": {str(folder)!r}}})
        engine.load_pipeline("wan-vace", **{{k: args[k] for k in ("device", "sources")}})  # before any fork
        seen = []
        on = engine.generate("wan-vace", **take, **args, num_inference_steps=3, progress=lambda f, m: seen.append(m))
        print("progress:", [m for m in seen if "step" in m], "requested:", spaces.requested)
        cancel, stopped = threading.Event(), []
        def stop_after_first(fraction, message):
            stopped.append(message)
            cancel.set() if "step 1/" in message else None
        try:
            engine.generate("wan-vace", **take, **args, num_inference_steps=6, progress=stop_after_first, cancel=cancel)
        except engine.GenerationCancelled:
            print("stopped after:", [m for m in stopped if "step" in m])
        os.environ.pop("SPACES_ZERO_GPU")
        importlib.reload(denoise)
        off = engine.generate("wan-vace", **take, **args, num_inference_steps=3)
        print("same take in-process:", np.array_equal(on.frames, off.frames))
    """)
    env = dict(os.environ, SPACES_ZERO_GPU="true", HF_HUB_OFFLINE="1",
               PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT), str(ROOT / "tests")]))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().split("\n")
    assert lines[0] == "torch at import: False"
    assert lines[1] == "decorated: ['pipelines.generative.denoise.run'] run_seconds"
    assert lines[2] == "start-up: ['animatediff-depth', 'svd', 'wan-vace'] True"
    assert lines[3] == "progress: ['wan-vace: step 1/3', 'wan-vace: step 2/3', 'wan-vace: step 3/3'] requested: [16]"
    assert lines[4] == "stopped after: ['wan-vace: step 1/6']"
    assert lines[5] == "same take in-process: True"


def test_a_take_runs_through_the_decorated_call_with_plain_data_and_the_same_result(spaces_stand_in, take,
                                                                                   wan_folder):
    try:
        on = _generate(take, sources=wan_folder)
        call = spaces_stand_in.calls[-1]
        assert call["name"] == "run" and not call["closed_early"]
        # The pipeline travels as its cache key: the arguments are the photo, draft and depth images
        # and the settings, a few tens of KB, not the model.
        assert call["pickled_bytes"] < 200_000
        assert call["seconds"] == math.ceil(zerogpu.ATTACH_SECONDS + zerogpu.MARGIN *
                                            generative.estimate_seconds("wan-vace", T, H, W, 2))
        os.environ.pop(zerogpu.ZERO_GPU_ENV)
        importlib.reload(denoise)
        off = _generate(take, sources=wan_folder)
        np.testing.assert_array_equal(on.frames, off.frames)  # same seed, same take, on or off ZeroGPU
    finally:
        generative.unload_all()


def test_duration_is_seconds_for_a_small_take_and_the_cap_for_a_large_one(monkeypatch):
    monkeypatch.delenv(zerogpu.MAX_SECONDS_ENV, raising=False)
    # Wan2.1's published run: 81 frames at 832x480, 50 steps, 240 s on an RTX 4090.
    small = zerogpu.run_seconds(None, "wan-vace", {}, 0, 30, (17, 480, 832))
    assert small == math.ceil(15 + 1.25 * 240 * (17 / 81) * (30 / 50)) == 53
    assert zerogpu.gpu_seconds("wan-vace", 81, 480, 832, 50) == pytest.approx(15 + 1.25 * 240)
    large = zerogpu.run_seconds(None, "wan-vace", {}, 0, 50, (81, 480, 832))
    assert large == zerogpu.DEFAULT_MAX_SECONDS == 210  # never asks for more than a take may use
    svd = zerogpu.run_seconds(None, "svd", {}, 0, 25, (25, 576, 1024))
    assert svd == math.ceil(15 + 1.25 * 25)  # its reference run exactly


def test_max_seconds_reads_the_space_variable_and_rejects_nonsense(monkeypatch):
    monkeypatch.setenv(zerogpu.MAX_SECONDS_ENV, "1500")
    assert zerogpu.max_seconds() == 1500
    monkeypatch.setenv(zerogpu.MAX_SECONDS_ENV, "ten")
    with pytest.raises(InputError, match="STUDIO_ZEROGPU_MAX_SECONDS must be a whole number.*'ten'"):
        zerogpu.max_seconds()


# ----------------------------------------------------------------------------------------------------
# Refusal, Stop, progress


def test_a_take_over_the_limit_is_refused_before_the_gpu_and_the_parallax_takes_are_delivered(
        spaces_stand_in, monkeypatch, tmp_path, astronaut):
    from studio_stubs import CountingDepth

    from pipelines.studio import Stages, Studio

    monkeypatch.setenv(zerogpu.MAX_SECONDS_ENV, "10")  # less than attaching a GPU takes: every take is refused
    studio = Studio(output_root=tmp_path, stages=Stages(depth=CountingDepth(), pipeline=gt.tiny_pipeline))
    result = studio.generate(astronaut, prompt="slow push in", seed=2, num_takes=2, duration=0.5, fps=8,
                             long_side=64, engine="wan-vace", num_inference_steps=2)
    assert spaces_stand_in.calls == []  # no GPU was asked for
    assert len(result.takes) == 2 and all(t.video.is_file() for t in result.takes)
    assert all(t.recipe.engine == "parallax" and "did not run" in t.label for t in result.takes)
    note = next(n for n in result.notices if "ZeroGPU time" in n)
    assert "more than the 10 s one take may use" in note and "no quota was used" in note
    assert "Choose a shorter take, a smaller output size or fewer steps" in note
    assert note.endswith("the parallax take was delivered")


def test_stop_and_progress_work_inside_the_decorated_call(spaces_stand_in, take, wan_folder):
    cancel, seen = threading.Event(), []

    def progress(fraction, message):
        seen.append(message)
        if "step 1/" in message:
            cancel.set()

    try:
        with pytest.raises(generative.GenerationCancelled):
            _generate(take, sources=wan_folder, num_inference_steps=4, progress=progress, cancel=cancel)
        assert spaces_stand_in.calls[-1]["closed_early"]  # the caller closed the GPU call: ZeroGPU's stop
        assert "wan-vace: step 1/4" in seen and "wan-vace: step 4/4" not in seen
        assert _generate(take, sources=wan_folder).frames.shape == (T, H, W, 3)  # serves the next take
    finally:
        generative.unload_all()


class _OOMPipe:
    def __call__(self, **kwargs):
        import torch

        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")


def test_out_of_memory_inside_the_decorated_call_is_the_studios_message(spaces_stand_in, take, monkeypatch):
    monkeypatch.setitem(generative._PIPELINES, generative.pipeline_key("wan-vace", "cpu"), _OOMPipe())
    with pytest.raises(generative.ModelUnavailableError, match="ran out of GPU memory at 9 frames of 32x32"):
        _generate(take)
    assert spaces_stand_in.calls[-1]["name"] == "run"  # it happened inside the GPU call, and came out typed


# ----------------------------------------------------------------------------------------------------
# Start-up loading


def test_startup_loads_on_cuda_only_engines_whose_weights_are_present(spaces_stand_in, monkeypatch):
    loaded = []
    monkeypatch.setattr(generative, "_memory_gib", lambda device: 69.5)  # a ZeroGPU slice
    monkeypatch.setattr(generative, "_in_local_cache", lambda source: "stable-video" not in source)
    monkeypatch.setattr(generative, "load_pipeline", lambda name, device=None: loaded.append((name, device)))
    report = zerogpu.load_at_startup()
    assert loaded == [("wan-vace", "cuda"), ("animatediff-depth", "cuda")]
    assert report["wan-vace"] == report["animatediff-depth"] == "loaded"
    assert "weights not in the local Hugging Face cache" in report["svd"]
    # a request on the Space: an engine that did not load says so instead of loading mid-request
    status = generative.availability("wan-vace", "cuda")
    assert not status.ok and "not loaded when this ZeroGPU Space started" in status.reason


def test_depth_runs_on_the_cpu_on_zerogpu(monkeypatch):
    from pipelines.depth import models

    monkeypatch.setenv(zerogpu.ZERO_GPU_ENV, "1")
    assert models._device() == "cpu"  # torch is patched to say "cuda" there, outside the GPU function
    monkeypatch.setenv(zerogpu.ZERO_GPU_ENV, "false")
    assert not zerogpu.active()


def test_denoise_run_is_a_generator_not_a_coroutine():
    fn = getattr(denoise.run, "__wrapped__", denoise.run)
    assert inspect.isgeneratorfunction(fn) and not inspect.iscoroutinefunction(fn)


# ----------------------------------------------------------------------------------------------------
# What visitors and deployers read


def test_the_estimate_on_zerogpu_says_the_gpu_seconds_or_that_the_take_is_over_the_limit(monkeypatch, tmp_path):
    from studio_stubs import CountingDepth

    from pipelines.studio import Stages, Studio
    from pipelines.ui import handlers

    monkeypatch.setenv(zerogpu.ZERO_GPU_ENV, "true")
    monkeypatch.delenv(zerogpu.MAX_SECONDS_ENV, raising=False)
    studio = Studio(output_root=tmp_path, stages=Stages(depth=CountingDepth(), pipeline=lambda engine: None))
    short = handlers.estimate_text(studio, None, 1, 1.0, 16, "16:9", 960, engine="wan-vace")
    assert "plus up to 53 s of ZeroGPU time per take for wan-vace" in short
    monkeypatch.setenv(zerogpu.MAX_SECONDS_ENV, "120")
    long = handlers.estimate_text(studio, None, 1, 4.0, 30, "16:9", 960, engine="wan-vace")
    assert "about 195 s of ZeroGPU time per take, over this Space's 120 s limit" in long


def test_the_readme_zerogpu_table_matches_the_duration_function(monkeypatch):
    monkeypatch.delenv(zerogpu.MAX_SECONDS_ENV, raising=False)
    readme = (ROOT / "README.md").read_text()
    for backend, take, asks in (("wan-vace", (17, 480, 832, 30), 53), ("wan-vace", (81, 480, 832, 30), 195),
                                ("animatediff-depth", (16, 384, 680, 12), 27), ("svd", (25, 544, 960, 25), 43)):
        assert round(zerogpu.gpu_seconds(backend, *take)) == asks
        assert f"| {asks} s | {round(100 * asks / 210)} %" in readme
