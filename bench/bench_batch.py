"""Batch throughput: photos per minute at 960x540 with 4 s takes (30 fps), and peak memory, in one run.

    PYTHONPATH=. .venv/bin/python bench/bench_batch.py [--photos 6] [--workers 2] [--seconds 4]

Modes, each timed from its command's start (process and model start-up included) to its last video,
each on its own empty depth cache (so every mode estimates depth for every photo):
  cli loop     the baseline: `python -m pipelines render PHOTO -o OUT.mp4` once per photo, one after another
  local 1      `batch` with one worker process
  local N      `batch` with N worker processes
  ray 2-cpu    `batch --ray` on a local Ray runtime started with num_cpus=2 (its start-up included)
Peak resident memory: the driver, and the largest worker (processes; Ray actors for the Ray mode; the
ffmpeg encoder children and Ray's own daemons are not counted).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "grass", "horse", "page")
SIZE = "960x540"


def make_photos(folder: Path, n: int) -> list[Path]:
    """n real photos (scikit-image samples, then copies with one pixel changed), as JPEG files."""
    from PIL import Image
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        name = PHOTOS[i % len(PHOTOS)]
        px = getattr(data, name)()
        px = px if px.ndim == 3 else px[:, :, None].repeat(3, axis=2)
        px = px.copy()
        px[0, 0, 0] ^= (i // len(PHOTOS)) & 0xFF
        paths.append(folder / f"{i:02d}-{name}.jpg")
        Image.fromarray(px).save(paths[-1], quality=92)
    return paths


def child_env(cache: Path) -> dict:
    return dict(os.environ, PHOTO_STUDIO_DEPTH_CACHE=str(cache), OMP_WAIT_POLICY="PASSIVE")


def cli_loop(photos: list[Path], out: Path, cache: Path, seconds: float) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for p in photos:
        r = subprocess.run([sys.executable, "-m", "pipelines", "render", str(p), "--size", SIZE, "--duration",
                            str(seconds), "-o", str(out / f"{p.stem}.mp4")], capture_output=True, text=True,
                           env=child_env(cache))
        if r.returncode != 0:
            raise SystemExit(f"render failed on {p}: {r.stderr}")
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest render process
    return {"wall": wall, "ok": len(photos), "driver_mb": peak, "worker_mb": None, "workers": 0}


def batch_mode(photos: Path, out: Path, cache: Path, seconds: float, workers: int, ray: bool) -> dict:
    """One batch in a fresh subprocess (so its peak memory is its own)."""
    r = subprocess.run([sys.executable, __file__, "--child", str(photos), str(out), str(workers), str(int(ray)),
                        str(seconds)], capture_output=True, text=True, env=child_env(cache))
    if r.returncode != 0:
        raise SystemExit(f"batch failed: {r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def child(photos: str, out: str, workers: int, ray: bool, seconds: float) -> None:
    t0 = time.perf_counter()
    from pipelines.batch import run_batch

    w, h = (int(x) for x in SIZE.split("x"))
    if ray:
        import ray as ray_mod

        ray_mod.init(num_cpus=2, include_dashboard=False, object_store_memory=128 * 2**20)
    report = run_batch(photos, out, {"width": w, "height": h, "duration": seconds}, workers=workers, ray=ray,
                       progress=False)
    wall = time.perf_counter() - t0
    if ray:
        ray_mod.shutdown()
    print(json.dumps({"wall": wall, "ok": report.count("ok"), "driver_mb": report.driver_peak_mb,
                      "worker_mb": max(report.workers.values(), default=None), "workers": len(report.workers),
                      "item_seconds": [r.seconds for r in report.rows]}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=int, default=6)
    ap.add_argument("--workers", type=int, default=2, help="workers of the 'local N' mode")
    ap.add_argument("--seconds", type=float, default=4.0, help="take length")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        photos, out, workers, ray, seconds = args.child
        return child(photos, out, int(workers), ray == "1", float(seconds))

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        tmp = Path(tmp)
        photos = make_photos(tmp / "photos", args.photos)
        print(f"{args.photos} photos -> {SIZE}, {args.seconds:g} s takes at 30 fps; {os.cpu_count()} CPUs")
        results = {"cli loop (baseline)": cli_loop(photos, tmp / "cli", tmp / "cache-cli", args.seconds)}
        for label, workers, ray in (("local 1 worker", 1, False), (f"local {args.workers} workers", args.workers, False),
                                    ("ray local 2-cpu", 2, True)):
            key = label.split()[0] + str(workers)
            results[label] = batch_mode(tmp / "photos", tmp / key, tmp / f"cache-{key}", args.seconds, workers, ray)
        base = results["cli loop (baseline)"]
        base_rate = base["ok"] / base["wall"] * 60
        print(f"{'mode':22s} {'photos/min':>10s} {'vs cli':>7s} {'wall s':>7s} {'driver MB':>9s} {'worker MB':>9s}")
        for label, r in results.items():
            rate = r["ok"] / r["wall"] * 60
            worker = f"{r['worker_mb']:9.0f}" if r["worker_mb"] else f"{'-':>9s}"
            print(f"{label:22s} {rate:10.2f} {rate / base_rate:6.2f}x {r['wall']:7.1f} {r['driver_mb']:9.0f} {worker}")
        print("cli loop 'driver MB' is the largest render process; worker MB is the largest worker process.")


if __name__ == "__main__":
    main()
