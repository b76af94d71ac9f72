"""How long from clicking Generate to motion in the page: three takes of 4 s at 960x540 (30 fps), as a new
user gets them, for this checkout and (``--baseline TREE``) another one, interleaved on the same machine.

Each measurement starts the real app (real depth stage, real renderer) on a free port on 127.0.0.1 in a fresh
process with PYTHONPATH set to the tree under test, drives headless Debian Chromium with Playwright and times,
from the click:

- first motion: a video in the page is playing (its currentTime advances): the live player of take 1 where
  the app streams it, else take 1's own player once it can play (a user presses play);
- first take: take 1's player can play the whole take (readyState >= 2, 4 s, 960x540);
- all takes: takes 1-3 can play.

Twice per server: a photo the studio has not seen (depth included), then the same photo again (depth and scene
cached). The app is warmed up first, as ``python app.py`` does.

    .venv/bin/python bench/bench_studio.py [--runs 3] [--baseline /tmp/prev] [--stub-depth]
    .venv/bin/python bench/bench_studio.py --clients 4 [--baseline /tmp/prev]   # 4 users click at once
    .venv/bin/python bench/bench_studio.py --encodes      # preview vs quality encode: CPU, PSNR, SSIM, size

--stub-depth replaces depth estimation by a gradient.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

import numpy as np  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
TAKES = 3
MEASURES = ("first motion", "first take", "all takes")


def photo_pixels(i: int) -> np.ndarray:
    """A photo no earlier run has used: a sample photo with one pixel changed by the run number."""
    from skimage import data

    px = getattr(data, PHOTOS[i % len(PHOTOS)])().copy()
    px[0, 0, :] = [(i * 37) % 256, (i * 11) % 256, 7]
    return px


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


MOTION = """() => { const live = document.querySelector('#take-1-live video');
                    if (live && live.currentTime > 0.04 && !live.paused) return 'live';
                    const v = document.querySelector('#take-1 video');
                    return !!v && v.readyState >= 2 && v.duration > 3.9 && v.videoWidth === 960 && 'take'; }"""
PLAYABLE = """(ids) => ids.every(id => { const v = document.querySelector('#' + id + ' video');
                 return !!v && v.readyState >= 2 && v.duration > 3.9 && v.videoWidth === 960; })"""


def click_and_time(page, photo: Path, shot: Path | None) -> dict[str, float]:
    page.locator("#photo input[type=file]").set_input_files(str(photo))
    page.wait_for_selector("#photo img")
    time.sleep(0.5)  # the estimate and brush updates after an upload settle first
    t0 = time.perf_counter()
    page.locator("#generate").click()
    out: dict[str, float] = {}
    how = page.wait_for_function(MOTION, timeout=120_000, polling=20).json_value()
    out["first motion"] = time.perf_counter() - t0
    if shot is not None and how == "live":
        page.screenshot(path=str(shot))
    page.wait_for_function(PLAYABLE, arg=["take-1"], timeout=120_000, polling=20)
    out["first take"] = time.perf_counter() - t0
    out["streamed"] = float(how == "live")
    page.wait_for_function(PLAYABLE, arg=[f"take-{i + 1}" for i in range(TAKES)], timeout=180_000, polling=50)
    out["all takes"] = time.perf_counter() - t0
    return out


def child(run: int, stub: bool, folder: Path) -> dict:
    """One server of the tree on PYTHONPATH: a new photo, then the same photo again."""
    from PIL import Image
    from playwright.sync_api import sync_playwright

    demo, url = serve(folder, stub)
    photo = folder / f"photo-{run}.jpg"
    Image.fromarray(photo_pixels(run)).save(photo, quality=92)
    result = {"load": os.getloadavg()[0]}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"])
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            for case in ("new photo", "depth cached"):
                page.goto(url, wait_until="load")
                page.wait_for_function("() => document.querySelector('#estimate')?.innerText.includes('Estimated')",
                                       timeout=60_000)
                box = page.locator("#takes input[type=number]")
                box.fill(str(TAKES))
                box.press("Enter")
                shot = folder / f"live-{run}-{case.replace(' ', '-')}.png"
                result[case] = click_and_time(page, photo, shot)
            page.screenshot(path=str(folder / f"done-{run}.png"), full_page=True)
            browser.close()
    finally:
        demo.close()
    return result


def serve(folder: Path, stub: bool):
    """The real app of the tree on PYTHONPATH on a free port, warmed up; (demo, url)."""
    from pipelines.studio import facade as st
    from pipelines.ui import blocks as app

    os.environ["PHOTO_STUDIO_DEPTH_CACHE"] = str(folder / "depth-cache")  # empty: depth is computed
    stages = {}
    if stub:
        from pipelines.depth import DepthMap
        from pipelines.studio.stages import Stages

        def flat(photo):
            w, h = photo.size
            return DepthMap.from_relative(np.repeat(np.linspace(0, 1, h, dtype=np.float32)[:, None], w, axis=1))

        stages = {"stages": Stages(depth=flat)}
    studio = st.Studio(output_root=folder / "takes", **stages)
    studio.warm_up()
    demo = app.build_demo(studio)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **app.launch_kwargs())
    return demo, f"http://127.0.0.1:{port}/"


def clients_child(run: int, clients: int, stub: bool, folder: Path) -> dict:
    """``clients`` API sessions click Generate at once (2 takes of 4 s at 960x540, each its own new photo);
    the seconds each waited for its last take."""
    import threading

    from gradio_client import Client, handle_file
    from PIL import Image

    demo, url = serve(folder, stub)
    times: list[float] = []
    try:
        def one(k: int) -> None:
            photo = folder / f"photo-{run}-{k}.jpg"
            Image.fromarray(photo_pixels(100 * run + k)).save(photo, quality=92)
            client = Client(url, verbose=False)
            t0 = time.perf_counter()
            client.predict(handle_file(str(photo)), "slow push in", "from the prompt", 0.5, k, False, 2, "seed", 4.0,
                           30, "16:9", 960, api_name="/generate")
            times.append(time.perf_counter() - t0)

        threads = [threading.Thread(target=one, args=(k,)) for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        demo.close()
    if len(times) != clients:
        raise RuntimeError(f"only {len(times)} of {clients} clients were served")
    return {"load": os.getloadavg()[0], "slowest": max(times), "median": statistics.median(times)}


def _child_cpu(fn) -> float:
    """CPU seconds the child processes (ffmpeg) used while ``fn()`` ran."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    fn()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def _x264_yuv(frames: np.ndarray, preset: str, out: Path) -> None:
    """x264 alone: the frames handed to ffmpeg as yuv420p (converted here, no swscale in ffmpeg)."""
    import cv2
    import imageio_ffmpeg

    from pipelines.render.video import CODECS

    h, w = frames.shape[1:3]
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s",
           f"{w}x{h}", "-r", "30", "-i", "-"] + CODECS[".mp4"] + ["-preset", preset, "-threads", "2", str(out)]
    # the last -preset given wins over CODECS' own
    yuv = b"".join(cv2.cvtColor(f, cv2.COLOR_RGB2YUV_I420).tobytes() for f in frames)
    subprocess.run(cmd, input=yuv, check=True)


def encodes(runs: int) -> None:
    """Preview against quality encode of the same frames: ffmpeg CPU per frame (rgb24 in, as write_video pipes
    today, and yuv420p in: x264 alone), PSNR/SSIM against the lossless frames, size; and the renderer's CPU
    per frame, for the encoder's share."""
    from skimage import data
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    from pipelines.core.photo import Photo
    from pipelines.core.schema import RenderSettings
    from pipelines.depth import estimate
    from pipelines.render import camera, framing, parallax
    from pipelines.render.video import read_video, write_video

    for name in ("astronaut", "coffee"):
        photo = Photo(getattr(data, name)())
        size = framing.output_size(photo.size, "16:9", 960)
        photo, depth = framing.fit(photo, estimate(photo, estimator="auto"), size)
        s = RenderSettings(preset="dolly-in", width=size[0], height=size[1], duration=4.0, fps=30)
        path = camera.preset_path(s.preset, depth, s)
        scene = parallax.build_scene(photo, depth)
        t0 = time.process_time()
        frames = np.stack([f.image for f in parallax.iter_frames(scene, path)])
        print(f"| {name} | renderer alone | - | {(time.process_time() - t0) / len(frames) * 1e3:.1f} | | | |")
        variants = [("quality", "rgb24", None), ("preview, streamed", "rgb24", None)] + \
            [(f"x264 {p}", "yuv420p (x264 alone)", p) for p in ("veryfast", "superfast", "ultrafast")]
        for label, feed, preset in variants:
            cpu = []
            for _ in range(runs):
                out = Path(tempfile.mkdtemp()) / "t.mp4"
                if preset is not None:
                    cpu.append(_child_cpu(lambda: _x264_yuv(frames, preset, out)))
                elif label == "quality":
                    cpu.append(_child_cpu(lambda: write_video(iter(frames), out, 30)))
                else:
                    cpu.append(_child_cpu(lambda: write_video(iter(frames), out, 30, encode="preview",
                                                              segments=out.parent / "live")))
            dec, _ = read_video(out)
            idx = range(0, len(frames), 10)
            psnr = statistics.mean(peak_signal_noise_ratio(frames[i], dec[i]) for i in idx)
            ssim = statistics.mean(structural_similarity(frames[i], dec[i], channel_axis=2) for i in idx)
            print(f"| {name} | {label} | {feed} | {statistics.median(cpu) / len(frames) * 1e3:.1f}"
                  f" | {psnr:.2f} | {ssim:.4f} | {out.stat().st_size / 1e3:.0f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--baseline", help="another checkout (e.g. a `git worktree add` of the previous commit)")
    ap.add_argument("--stub-depth", action="store_true")
    ap.add_argument("--encodes", action="store_true", help="compare the preview and quality encodes")
    ap.add_argument("--clients", type=int, default=0, help="this many API clients click at once")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.encodes:
        print("| photo | encode | frames in | CPU ms/frame | PSNR dB | SSIM | KB |\n|---|---|---|---|---|---|---|")
        encodes(args.runs)
        return
    if args.child is not None:
        folder = Path(tempfile.mkdtemp(prefix="bench-studio-"))
        got = clients_child(args.child, args.clients, args.stub_depth, folder) if args.clients else \
            child(args.child, args.stub_depth, folder)
        print(json.dumps(got))
        return

    here = str(Path(__file__).resolve().parents[1])
    trees = {"this": here} | ({"baseline": str(Path(args.baseline).resolve())} if args.baseline else {})
    got: dict[str, list[dict]] = {k: [] for k in trees}
    for run in range(args.runs):
        for label, tree in trees.items():  # interleaved: both trees see the same load
            env = {**os.environ, "PYTHONPATH": tree}
            cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(run), "--clients", str(args.clients)] \
                + (["--stub-depth"] if args.stub_depth else [])
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tree, timeout=900)
            if out.returncode:
                sys.exit(f"{label} run {run} failed:\n{out.stderr[-3000:]}")
            got[label].append(json.loads(out.stdout.strip().splitlines()[-1]))
            r = got[label][-1]
            if args.clients:
                print(f"  {label} run {run + 1} (load {r['load']:.1f}): slowest click {r['slowest']:.2f} s, "
                      f"median {r['median']:.2f} s", flush=True)
                continue
            print(f"  {label} run {run + 1} (load {r['load']:.1f}): "
                  + "; ".join(f"{case}: " + ", ".join(f"{m} {r[case][m]:.2f}" for m in MEASURES)
                              for case in ("new photo", "depth cached")), flush=True)

    if args.clients:
        print(f"\n{args.clients} clients at once, 2 takes of 4 s at 960x540 each: seconds, median of {args.runs}")
        print("| measure | " + " | ".join(trees) + " |\n|---|" + "---|" * len(trees))
        for m in ("slowest", "median"):
            print(f"| {m} click | " + " | ".join(f"{statistics.median(r[m] for r in got[k]):.2f}" for k in trees)
                  + " |")
        return
    print(f"\n{TAKES} takes of 4 s at 960x540, 30 fps: seconds from the click, median of {args.runs} "
          f"(cpu cores: {os.cpu_count()}, load average now {os.getloadavg()[0]:.2f})")
    print("| case | measure | " + " | ".join(trees) + " |\n|---|---|" + "---|" * len(trees))
    for case in ("new photo", "depth cached"):
        for m in MEASURES:
            cells = [f"{statistics.median(r[case][m] for r in got[k]):.2f}" for k in trees]
            print(f"| {case} | {m} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
