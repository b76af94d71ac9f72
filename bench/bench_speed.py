"""The CLI end to end against the previous commit, interleaved: a 5 s, 30 fps, 1080p take from a photo with
the depth estimated and with the depth given; peak memory; and the encoder's share of the CPU per frame.

    .venv/bin/python bench/bench_speed.py [--baseline HEAD~1] [--runs 3] [--photos astronaut,rocket]

Each run is `python -m pipelines render PHOTO --preset orbit --duration 5 -o OUT.mp4` in a fresh process
(imports included), once with `--estimator auto` as a new user offline meets it (the Depth Anything
weights not in the Hugging Face cache, the hub unreachable, so auto falls back to the classical estimator;
an empty depth cache, so the depth is estimated every time), once with `--depth DEPTH.png` (16-bit, white =
near, written once by the classical estimator). The photos are scikit-image's, scaled to 1920x1080. Trees
alternate run by run (baseline, this, baseline, ...) so a change of load hits both; medians, with the
spread. Peak memory is the largest resident set of the CLI process (ffmpeg runs beside it and is smaller).

The encoder's share: the same take rendered in a process of its own (render_take, the path the CLI takes),
the ffmpeg child's CPU time against the whole (the Python process, its render threads included, plus
ffmpeg), per frame. The RGB -> yuv420p conversion done in Python before the pipe (this tree) is listed
on its own line and counted on the encoder's side.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
PRESET, DURATION, FPS, SIZE = "orbit", 5, 30, (1920, 1080)


def make_inputs(folder: Path, names: list[str]) -> dict[str, tuple[Path, Path]]:
    """Each photo as a 1080p JPEG, and its depth as a 16-bit PNG (classical estimator, this tree)."""
    import cv2
    import numpy as np
    from skimage import data

    from pipelines import depth
    from pipelines.core.photo import load_image

    out = {}
    for name in names:
        px = getattr(data, name)()
        px = np.dstack([px] * 3) if px.ndim == 2 else px[..., :3]
        photo = folder / f"{name}1080.jpg"
        cv2.imwrite(str(photo), cv2.cvtColor(cv2.resize(px, SIZE, interpolation=cv2.INTER_CUBIC), cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 92])
        dm = depth.estimate(load_image(photo), "classical", cache_dir=folder / "depth-cache")
        depth.save_depth_png(dm, folder / f"{name}-depth.png")
        out[name] = (photo, folder / f"{name}-depth.png")
    return out


def offline_env(tree: Path, scratch: Path) -> dict[str, str]:
    """Environment of one run: the tree's code, an empty depth cache, an empty Hugging Face cache and a hub
    that refuses connections (what "auto" meets on a machine without the weights and without network)."""
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_WAIT_POLICY="PASSIVE",
               PHOTO_STUDIO_DEPTH_CACHE=str(scratch / "depth-cache"), HF_HUB_CACHE=str(scratch / "hf"),
               HF_ENDPOINT="http://127.0.0.1:9")
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        env.pop(name, None)
    return env


def run_cli(tree: Path, photo: Path, depth_png: Path | None, scratch: Path) -> dict:
    """One CLI run in a fresh process: wall seconds, CPU seconds (with ffmpeg), peak RSS of the CLI (MB)."""
    scratch.mkdir(parents=True)
    cmd = [sys.executable, "-m", "pipelines", "render", str(photo), "--preset", PRESET, "--duration", str(DURATION),
           "--fps", str(FPS), "-o", str(scratch / "take.mp4")]
    cmd += ["--depth", str(depth_png)] if depth_png else ["--estimator", "auto"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=scratch, env=offline_env(tree, scratch), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {tree}:\n{stderr.decode()[-2000:]}")
    # wait4's ru_maxrss is the largest of the process and the children it waited for (ffmpeg).
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


def measure_encoder(photo: str, depth_png: str, out: str) -> dict:
    """In this process: render and encode the take as the CLI does; CPU of Python and of ffmpeg per frame."""
    from pipelines import depth
    from pipelines.core.photo import load_image
    from pipelines.core.schema import RenderSettings
    from pipelines.render import take, video

    img = load_image(photo)
    dm = depth.load_depth(depth_png, size=img.size)
    convert = {"cpu": 0.0}
    if hasattr(video, "rgb_to_yuv420p"):  # the conversion before the pipe, where the tree has one
        plain = video.rgb_to_yuv420p

        def timed(frame):
            t0 = time.thread_time()
            result = plain(frame)
            convert["cpu"] += time.thread_time() - t0
            return result

        video.rgb_to_yuv420p = timed
    settings = RenderSettings(preset=PRESET, duration=DURATION, fps=FPS)
    me0, kids0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    result = take.render_take(img, dm, settings, video=out)
    wall = time.perf_counter() - t0
    me1, kids1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    n = result.path.num_frames
    py = me1.ru_utime + me1.ru_stime - me0.ru_utime - me0.ru_stime
    ff = kids1.ru_utime + kids1.ru_stime - kids0.ru_utime - kids0.ru_stime
    return {"frames": n, "python_ms": 1000 * py / n, "ffmpeg_ms": 1000 * ff / n,
            "convert_ms": 1000 * convert["cpu"] / n, "wall": wall, "bytes": os.path.getsize(out)}


def run_encoder(tree: Path, photo: Path, depth_png: Path, scratch: Path) -> dict:
    scratch.mkdir(parents=True)
    out = subprocess.run([sys.executable, __file__, "--measure-encoder", str(photo), str(depth_png),
                          str(scratch / "take.mp4")], env=offline_env(tree, scratch), capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"measuring the encoder in {tree} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _med(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def report(name: str, base: dict, now: dict) -> None:
    print(f"\n{name} 1920x1080, {PRESET}, {DURATION} s at {FPS} fps: median (min-max) of {len(now['estimated'])}")
    print(f"{'':44} {'baseline':>22} {'this tree':>22} {'ratio':>6}")
    for mode, label in (("estimated", "depth estimated (auto, offline)"), ("given", "depth given (PNG)")):
        for key, unit in (("wall", "s"), ("cpu", "s CPU")):
            a, b = [r[key] for r in base[mode]], [r[key] for r in now[mode]]
            ratio = statistics.median(b) / statistics.median(a)
            print(f"{label + ', ' + unit:44} {_med(a):>22} {_med(b):>22} {ratio:6.2f}")
        a, b = [r["rss_mb"] for r in base[mode]], [r["rss_mb"] for r in now[mode]]
        print(f"{label + ', peak MB':44} {statistics.median(a):22.0f} {statistics.median(b):22.0f}"
              f" {statistics.median(b) / statistics.median(a):6.2f}")
    print("encoder, per frame (CPU ms, median):")
    for key, label in (("ffmpeg_ms", "ffmpeg (x264 and its input)"), ("convert_ms", "RGB -> yuv420p in Python"),
                       ("python_ms", "Python process (render + convert)")):
        a, b = [r[key] for r in base["encoder"]], [r[key] for r in now["encoder"]]
        print(f"  {label:32} {statistics.median(a):22.1f} {statistics.median(b):22.1f}")
    for tree, runs in (("baseline", base["encoder"]), ("this tree", now["encoder"])):
        share = [(r["ffmpeg_ms"] + r["convert_ms"]) / (r["ffmpeg_ms"] + r["python_ms"]) for r in runs]
        size = statistics.median(r["bytes"] for r in runs) / 1e6
        print(f"  encoder's share of the CPU, {tree:10} {100 * statistics.median(share):5.1f} %  (file {size:.2f} MB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline", default="HEAD~1", help="commit or branch to compare with (default: HEAD~1)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--photos", default="astronaut", help="scikit-image photos, comma-separated")
    ap.add_argument("--measure-encoder", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure_encoder:
        print(json.dumps(measure_encoder(*args.measure_encoder)))
        return
    names = args.photos.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        tmp = Path(tmp)
        inputs = make_inputs(tmp, names)
        prev = tmp / "baseline"
        subprocess.run(["git", "-C", str(HERE), "worktree", "add", "--detach", str(prev), args.baseline], check=True,
                       capture_output=True)
        commit = subprocess.run(["git", "-C", str(prev), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        print(f"baseline {args.baseline} ({commit}) vs this tree {HERE}; load average at start "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
        try:
            results = {}
            for name, (photo, depth_png) in inputs.items():
                trees = {"baseline": prev, "this": HERE}
                res = {t: {"estimated": [], "given": [], "encoder": []} for t in trees}
                for i in range(args.runs):
                    for t, tree in trees.items():
                        scratch = tmp / f"{name}-{t}-{i}"
                        res[t]["estimated"].append(run_cli(tree, photo, None, scratch / "estimated"))
                        res[t]["given"].append(run_cli(tree, photo, depth_png, scratch / "given"))
                        res[t]["encoder"].append(run_encoder(tree, photo, depth_png, scratch / "encoder"))
                results[name] = res
        finally:
            subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force", str(prev)], capture_output=True)
        for name, res in results.items():
            report(name, res["baseline"], res["this"])
        print(f"\nload average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
