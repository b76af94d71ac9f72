"""Proves the CUDA path of every generative engine in one run (under 5 minutes on one GPU), and prints a table.

    PYTHONPATH=. python bench/gpu_check.py               # tiny models always; real ones whose weights are cached
    PYTHONPATH=. python bench/gpu_check.py --steps 4 --no-real

For each engine: its tiny random model (tests/tiny_models.py) always, and on a GPU the real model too where
its weights are in the local Hugging Face cache (nothing is downloaded). Each row is one engine, model and
dtype: seconds per denoising step, total seconds, the GPU seconds the take would ask ZeroGPU for, peak GPU
memory, frames out, whether the output differs from the parallax draft it redraws, whether the same seed
gives the same take again, and whether Stop mid-run stops it (and the next take still runs). The rows
cover float32 and, on CUDA, float16 and bfloat16 for the tiny models and the preset's dtype for the real
ones; an "offload" row runs with model CPU offload; the notes say whether VAE slicing and tiling are on.
Last, out of memory: on CUDA a real one (the allocator is capped just above what is in use), on the CPU a
simulated one; either way it must come out as the studio's message, and the next take must run.

On a machine without CUDA the first line says so and the tiny models run on the CPU (a test runs this
script that way). The exit status is 1 when any check failed.
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
import traceback
from pathlib import Path

import pipelines  # noqa: F401  (sets OMP_WAIT_POLICY before anything imports torch)

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

#: Size of the take for each real model: the model's own size, few frames (the check, not a film).
REAL_TAKES = {"wan-vace": (17, 480, 832), "animatediff-depth": (16, 512, 512), "svd": (14, 576, 1024)}
#: Size of the take for the tiny models: multiples of 16 (Wan) and 8 (the others).
TINY_TAKE = (9, 32, 48)
COLUMNS = ("engine", "model", "dtype", "device", "s/step", "total s", "ZeroGPU asks s", "peak GPU MiB",
           "frames out", "differs from draft", "same seed", "stop", "notes")


def make_take(num_frames: int, height: int, width: int) -> dict:
    """A real photo (scikit-image's astronaut) with a layered depth, rendered as a parallax dolly-in: the
    draft, depth and holes the generative engine redraws."""
    import cv2
    from skimage import data

    from pipelines.core.photo import load_image
    from pipelines.core.schema import RenderSettings
    from pipelines.depth import DepthMap
    from pipelines.render import camera, parallax

    img = data.astronaut()  # 512 x 512: keep the full width and the top (her face), crop to the take's aspect
    keep = min(img.shape[0], round(img.shape[1] * height / width))
    photo = load_image(cv2.resize(img[:keep], (width, height), interpolation=cv2.INTER_AREA))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    z = 6.0 - 3.0 * ys / height
    z[((xs - 0.45 * width) / (0.25 * width)) ** 2 + ((ys - 0.55 * height) / (0.45 * height)) ** 2 < 1] = 1.5
    depth = DepthMap(z.astype(np.float32))
    settings = RenderSettings(preset="dolly-in", strength=0.8, seed=1, duration=num_frames / 8, fps=8,
                              width=width, height=height)
    path = camera.preset_path("dolly-in", depth, settings)
    frames = parallax.render(parallax.build_scene(photo, depth), path, holes=True, depth=True)
    return dict(photo=photo.pixels, draft=frames.images, depth=frames.depth, holes=frames.holes)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _vae_note(pipe) -> str:
    vae = getattr(pipe, "vae", None)
    on = [name for name, attr in (("slicing", "use_slicing"), ("tiling", "use_tiling")) if getattr(vae, attr, False)]
    return "vae " + ("+".join(on) if on else "plain")


def _generate(engine: str, pipe, take: dict, steps: int, seed: int = 7, progress=None, cancel=None):
    from pipelines.generative import engine as generative

    return generative.generate(engine, **take, pipe=pipe, prompt="the astronaut smiles, the flag waves",
                               seed=seed, strength=0.5, num_inference_steps=steps, progress=progress,
                               cancel=cancel)


def check_row(engine: str, model: str, pipe, take: dict, steps: int, dtype: str, device: str, notes: str) -> dict:
    """One row: time a run, run it again for determinism, then stop a third one after its first step."""
    import torch

    from pipelines.generative import engine as generative
    from pipelines.generative import zerogpu

    row = dict(engine=engine, model=model, dtype=dtype, device=device, notes=notes)
    stamps: list[float] = []

    def progress(fraction, message):
        if ": step " in message:
            stamps.append(time.perf_counter())

    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    first = _generate(engine, pipe, take, steps, progress=progress)
    total = time.perf_counter() - t0
    # between step callbacks: the denoising alone (text encoding and VAE decoding are in "total s")
    row["s/step"] = (f"{(stamps[-1] - stamps[0]) / (len(stamps) - 1):.3f}" if len(stamps) > 1
                     else f"{total / max(1, len(stamps)):.3f} (1 step, incl. encode/decode)")
    row["total s"] = f"{total:.2f}"
    n, (w, h) = first.settings["model_frames"], first.settings["model_size"]
    row["ZeroGPU asks s"] = f"{zerogpu.run_seconds(None, engine, {}, 0, len(stamps) or steps, (n, h, w))}"
    row["peak GPU MiB"] = f"{torch.cuda.max_memory_allocated() / 2**20:.0f}" if device == "cuda" else "n/a"
    frames = first.frames
    row["frames out"] = "x".join(map(str, frames.shape))
    if not np.isfinite(frames.astype(np.float32)).all() or frames.max() == frames.min():
        row["notes"] += "; flat or non-finite output"
    diff = float(np.abs(frames.astype(np.int16) - take["draft"].astype(np.int16)).mean())
    row["differs from draft"] = f"{'yes' if diff > 1.0 else 'NO'} ({diff:.1f})"
    again = _generate(engine, pipe, take, steps)
    row["same seed"] = "yes" if np.array_equal(again.frames, frames) else "NO"
    cancel, seen = threading.Event(), []

    def stop_after_first(fraction, message):
        if ": step " in message:
            seen.append(message)
            cancel.set()

    try:
        _generate(engine, pipe, take, max(3, steps), progress=stop_after_first, cancel=cancel)
        row["stop"] = "NO (ran to the end)"
    except generative.GenerationCancelled:
        next_ok = _generate(engine, pipe, take, steps).frames.shape == frames.shape
        row["stop"] = f"yes, after step {len(seen)}" + ("" if next_ok else "; next take FAILED")
    return row


def _tiny_models():
    """tests/tiny_models.py: the test-only tiny model builders (they are not part of the package)."""
    import importlib.util

    if "tiny_models" not in sys.modules:
        spec = importlib.util.spec_from_file_location("tiny_models", ROOT / "tests" / "tiny_models.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules["tiny_models"] = module
    return sys.modules["tiny_models"]


def tiny_rows(engine: str, device: str, take: dict, steps: int) -> list[dict]:
    import torch
    tiny_models = _tiny_models()

    from pipelines.generative import engine as generative

    preset = generative.get_preset(engine)
    dtypes = ["float32"] + (["float16", "bfloat16"] if device == "cuda" else [])
    rows = []
    for name in dtypes:
        pipe = tiny_models.tiny_pipeline(engine)
        generative._apply_memory_savers(pipe, device, preset)  # the loader's own placement, slicing, tiling
        pipe.to(dtype=getattr(torch, name))
        rows.append(_safe(check_row, engine, "tiny", pipe, take, steps, name, device, _vae_note(pipe)))
    if device == "cuda":
        pipe = tiny_models.tiny_pipeline(engine)
        pipe.enable_model_cpu_offload(device=device)
        rows.append(_safe(check_row, engine, "tiny", pipe, take, steps, "float32", device, "model CPU offload"))
    return rows


def real_rows(engine: str, steps: int) -> list[dict]:
    """The real weights on CUDA in the preset's dtype, loaded by the studio's own loader, then with offload."""
    import torch

    from pipelines.generative import engine as generative

    preset = generative.get_preset(engine)
    dtype = preset.dtype["cuda"]
    take = make_take(*REAL_TAKES[engine])
    try:
        pipe = generative.load_pipeline(engine, device="cuda")
        rows = [_safe(check_row, engine, "real", pipe, take, steps, dtype, "cuda", _vae_note(pipe))]
        pipe.enable_model_cpu_offload(device="cuda")
        rows.append(_safe(check_row, engine, "real", pipe, take, steps, dtype, "cuda", "model CPU offload"))
        return rows
    finally:
        generative.unload_all()
        torch.cuda.empty_cache()


def check_out_of_memory(device: str, take: dict) -> tuple[bool, str]:
    """Out of memory must come out as the studio's ModelUnavailableError, and the next take must run."""
    import torch
    tiny_models = _tiny_models()

    from pipelines.core.errors import ModelUnavailableError

    if device == "cuda":
        how = "real (allocator capped at what the weights hold)"
        engine, take = "svd", make_take(9, 256, 256)  # its VAE decode alone needs new memory segments
        pipe = tiny_models.tiny_pipeline(engine).to(device)
        torch.cuda.empty_cache()
        total = torch.cuda.get_device_properties(0).total_memory
        torch.cuda.set_per_process_memory_fraction(max(1e-6, torch.cuda.memory_reserved() / total))
        run_pipe = pipe
    else:
        how = "simulated (no GPU: the pipeline raises torch.OutOfMemoryError)"
        engine = "wan-vace"
        pipe = tiny_models.tiny_pipeline(engine)

        class OutOfMemory:
            def __call__(self, **kwargs):
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

        run_pipe = OutOfMemory()
    try:
        _generate(engine, run_pipe, take, 2)
        message, ok = "no error was raised", False
    except ModelUnavailableError as exc:
        message, ok = str(exc), "ran out of GPU memory" in str(exc)
    finally:
        if device == "cuda":
            torch.cuda.set_per_process_memory_fraction(1.0)
    next_ok = _generate(engine, pipe, take, 2).frames.shape[0] == take["draft"].shape[0]
    return ok and next_ok, f"out of memory, {how}: {message!r}; next take ran: {'yes' if next_ok else 'NO'}"


def _safe(fn, engine, model, *args) -> dict:
    try:
        return fn(engine, model, *args)
    except Exception as exc:  # a failed check is a row, so the other engines are still checked
        traceback.print_exc()
        return dict(engine=engine, model=model, notes=f"FAILED: {type(exc).__name__}: {exc}"[:200])


def print_table(rows: list[dict]) -> None:
    cells = [[str(r.get(c, "-")) for c in COLUMNS] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(COLUMNS)]
    print(" | ".join(c.ljust(w) for c, w in zip(COLUMNS, widths)))
    print("-+-".join("-" * w for w in widths))
    for row in cells:
        print(" | ".join(v.ljust(w) for v, w in zip(row, widths)))


def failed(row: dict) -> bool:
    return "FAILED" in row.get("notes", "") or any("NO" in str(row.get(c, "")) for c in
                                                   ("differs from draft", "same seed", "stop"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=4, help="denoising steps per run (at least 3 for the Stop check)")
    ap.add_argument("--no-real", action="store_true", help="skip the real models even where their weights are cached")
    ap.add_argument("--engines", default="", help="comma-separated engines (default: all)")
    args = ap.parse_args(argv)
    import torch
    from diffusers.utils import logging

    from pipelines.generative import engine as generative

    logging.set_verbosity_error()
    engines = [e for e in args.engines.split(",") if e] or generative.list_backends()
    t_start = time.perf_counter()

    # 1. The device
    if _cuda():
        device = "cuda"
        print(f"CUDA: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    else:
        device = "cpu"
        print(f"No CUDA GPU here (torch {torch.__version__}): running the tiny random models on the CPU.")

    # 2. Tiny models: every engine, every dtype the device has
    take = make_take(*TINY_TAKE)
    rows = []
    for engine in engines:
        rows += tiny_rows(engine, device, take, args.steps)

    # 3. Real models where their weights are cached (GPU only; nothing downloads)
    skipped = []
    for engine in engines:
        avail = generative.availability(engine, device="cuda") if device == "cuda" else None
        if args.no_real or device != "cuda":
            skipped.append(f"{engine}: real model not run ({'--no-real' if args.no_real else 'no GPU'})")
        elif not avail.ok:
            skipped.append(f"{engine}: real model not run ({avail.reason})")
        else:
            rows += real_rows(engine, args.steps)

    # 4. Out of memory
    oom_ok, oom_line = check_out_of_memory(device, take)

    print_table(rows)
    for line in skipped + [oom_line]:
        print(line)
    bad = [r for r in rows if failed(r)]
    print(f"{len(rows)} rows, {len(bad)} failed; out of memory check {'passed' if oom_ok else 'FAILED'}; "
          f"{time.perf_counter() - t_start:.0f} s in all")
    return 1 if bad or not oom_ok else 0


if __name__ == "__main__":
    sys.exit(main())
