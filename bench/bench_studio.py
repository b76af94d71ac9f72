"""How long from clicking Generate to a playable take in the page: one take of 4 s at 960x540 (30 fps) from
a freshly uploaded photo, depth included.

Starts the real app (real depth stage with an empty depth cache, real renderer) on a free port on 127.0.0.1,
drives headless Debian Chromium with Playwright, and times click -> the <video> reports readyState >= 2 and
its duration. Each run uploads a photo the studio has not seen (a different scikit-image photo, or one with a
changed pixel), so depth is computed every time. Same-run baselines: the studio API without server or
browser, with and without depth cached.

    .venv/bin/python bench/bench_studio.py [--runs 3] [--stub-depth]

--stub-depth replaces depth estimation by a gradient (to time the rest before the depth stage exists).
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import time
from pathlib import Path

import pipelines  # noqa: F401  (OMP_WAIT_POLICY before torch)

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

import numpy as np  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")


def photos(n: int):
    """n photos the studio has not seen: the sample photos, then copies with one pixel changed."""
    from skimage import data

    for i in range(n):
        px = getattr(data, PHOTOS[i % len(PHOTOS)])().copy()
        px[0, 0, 0] ^= (i // len(PHOTOS)) & 0xFF
        yield PHOTOS[i % len(PHOTOS)], px


def stub_depth(photo):
    from pipelines.depth import DepthMap

    w, h = photo.size
    return DepthMap.from_relative(np.repeat(np.linspace(0, 1, h, dtype=np.float32)[:, None], w, axis=1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


READY = """() => { const v = document.querySelector('#take-1 video');
                 return !!v && v.readyState >= 2 && v.duration > 3.9 && v.videoWidth === 960; }"""


def bench_browser(url: str, runs: int, folder: Path) -> list[float]:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        for i, (name, px) in enumerate(photos(runs)):
            path = folder / f"{name}-{i}.jpg"
            Image.fromarray(px).save(path, quality=92)
            # Not "networkidle": the app's session state keeps a heartbeat connection open.
            page.goto(url, wait_until="load")
            page.wait_for_function("() => document.querySelector('#estimate')?.innerText.includes('Estimated')",
                                   timeout=60_000)
            box = page.locator("#takes input[type=number]")
            box.fill("1")
            box.press("Enter")
            page.locator("#photo input[type=file]").set_input_files(str(path))
            page.wait_for_selector("#photo img")
            t0 = time.perf_counter()
            page.locator("#generate").click()
            page.wait_for_function(READY, timeout=120_000, polling=20)
            times.append(time.perf_counter() - t0)
            status = page.locator("#status").inner_text().strip()
            print(f"  browser run {i + 1}: {name} {px.shape[1]}x{px.shape[0]} -> playable in {times[-1]:.2f} s"
                  f" (server: {status})")
        page.screenshot(path=str(folder / "bench.png"))
        browser.close()
    return times


def bench_api(studio, runs: int) -> tuple[list[float], list[float]]:
    cold, warm = [], []
    for i, (name, px) in enumerate(photos(runs)):
        px = px.copy()
        px[1, 1, 1] ^= 0x55  # unseen by the browser runs too
        for times in (cold, warm):
            t0 = time.perf_counter()
            studio.generate(px, prompt="slow push in", seed=i, num_takes=1, duration=4.0, fps=30, aspect="16:9",
                            long_side=960)
            times.append(time.perf_counter() - t0)
    return cold, warm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--stub-depth", action="store_true")
    args = ap.parse_args()

    from pipelines.ui import blocks as app  # what app.py serves
    from pipelines.studio import facade as st

    folder = Path(tempfile.mkdtemp(prefix="bench-studio-"))
    os.environ["PHOTO_STUDIO_DEPTH_CACHE"] = str(folder / "depth-cache")  # empty: depth is computed
    kwargs = {"depth_fn": stub_depth} if args.stub_depth else {}
    studio = st.Studio(output_root=folder / "takes", **kwargs)
    demo = app.build_demo(studio)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **app.launch_kwargs())
    try:
        print(f"app on 127.0.0.1:{port}; depth: {'stub' if args.stub_depth else 'real (empty cache)'}; "
              f"cpu cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.2f}")
        # As `python app.py` does at start: load the depth stack before the first click.
        print(f"warm-up (depth stack import/load, once per server start): {studio.warm_up():.2f} s")
        browser = bench_browser(f"http://127.0.0.1:{port}/", args.runs, folder)
        cold, warm = bench_api(st.Studio(output_root=folder / "api", **kwargs), args.runs)
    finally:
        demo.close()

    def row(name, xs):
        print(f"| {name} | {statistics.median(xs):.2f} | {min(xs):.2f} | {max(xs):.2f} |")

    print("\nOne take, 4 s at 960x540, 30 fps (seconds; median, min, max over runs)")
    print("| path | median | min | max |\n|---|---|---|---|")
    row("browser: click -> playable <video>, new photo, depth included", browser)
    row("baseline, Python API: new photo, depth included", cold)
    row("baseline, Python API: same photo again (depth and scene cached)", warm)
    print(f"\nscreenshot: {folder / 'bench.png'}")


if __name__ == "__main__":
    main()
