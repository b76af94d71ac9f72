"""Benchmark: finish a 5 s 1080p30 take (caption + title + sound bed) and print frames per second.

Same-run baseline: re-encoding the same frames to MP4 with moviepy and nothing else (no decode, no
text, no sound), so the cost of finishing shows apart from the box's current load.

    .venv/bin/python bench/bench_finish.py [--seconds 5] [--size 1920x1080] [--look /tmp/finish-look]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pipelines  # noqa: F401  (sets OMP_WAIT_POLICY before anything heavy)

import numpy as np


def make_take(path: Path, w: int, h: int, n: int, fps: int) -> np.ndarray:
    """A slow push-in on a real photo, written as a take's H.264 MP4; returns the frames too."""
    import av
    import cv2
    from skimage import data

    photo = cv2.resize(data.coffee(), (int(w * 1.2), int(h * 1.2)), interpolation=cv2.INTER_CUBIC)
    frames = np.empty((n, h, w, 3), np.uint8)
    for i in range(n):
        s = 1.0 + 0.15 * i / n
        m = np.array([[s, 0, (w * 1.2 - w * s) / -2 + 0], [0, s, (h * 1.2 - h * s) / -2]], np.float32)
        m[:, 2] = [w / 2 - s * photo.shape[1] / 2, h / 2 - s * photo.shape[0] / 2]
        frames[i] = cv2.warpAffine(photo, m, (w, h), flags=cv2.INTER_LINEAR)
    with av.open(str(path), "w") as c:
        st = c.add_stream("libx264", rate=fps)
        st.width, st.height, st.pix_fmt = w, h, "yuv420p"
        st.options = {"crf": "18", "preset": "veryfast"}
        for f in frames:
            for p in st.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in st.encode():
            c.mux(p)
    return frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--look", default="/tmp/finish-look", help="folder for a PNG of a finished frame")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    n = round(args.seconds * args.fps)

    from moviepy import VideoClip

    from pipelines.finish import compose as finish
    from pipelines.core.schema import FinishSettings

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        take = tmp / "take.mp4"
        frames = make_take(take, w, h, n, args.fps)
        print(f"take: {n} frames {w}x{h} @ {args.fps} fps; cpu cores {os.cpu_count()}; "
              f"load {os.getloadavg()[0]:.2f}")

        t0 = time.perf_counter()
        clip = VideoClip(lambda t: frames[min(n - 1, round(t * args.fps))], duration=n / args.fps + 1e-6)
        clip.with_fps(args.fps).write_videofile(str(tmp / "base.mp4"), codec="libx264", preset="veryfast",
                                                 threads=2, ffmpeg_params=finish.MP4_PARAMS, logger=None, audio=False)
        base = time.perf_counter() - t0
        print(f"baseline  moviepy encode only (array, no text/sound): {n / base:6.1f} frames/s ({base:.2f} s)")

        settings = FinishSettings(caption="Morning coffee, slow and warm", title="Café",
                                  audio="pad", audio_seed=3)
        runs = [("finish MP4 from take file, caption+title+pad", take, settings, "fin.mp4"),
                ("finish MP4 from array,     caption+title+pad", frames, settings, "fin2.mp4"),
                ("finish WebM from take file, caption+title+pad", take, settings, "fin.webm"),
                ("finish MP4 9:16 subject crop, caption+pad", take,
                 settings.model_copy(update={"aspect": "9:16"}), "fin916.mp4"),
                ("finish MP4 9:16 blurred fill, caption+pad", take,
                 settings.model_copy(update={"aspect": "9:16", "reframe": "blur"}), "finblur.mp4")]
        for label, src, s, name in runs:
            t0 = time.perf_counter()
            out = finish.finish(src, s, tmp / name, fps=args.fps, notices=[])
            dt = time.perf_counter() - t0
            print(f"{label}: {n / dt:6.1f} frames/s ({dt:.2f} s, {out.stat().st_size / 1e6:.2f} MB)")

        import av
        from PIL import Image

        look = Path(args.look)
        look.mkdir(parents=True, exist_ok=True)
        for name in ("fin.mp4", "fin916.mp4", "finblur.mp4"):
            with av.open(str(tmp / name)) as c:
                for i, f in enumerate(c.decode(video=0)):
                    if i == n // 2:
                        png = look / f"{Path(name).stem}-frame{i}.png"
                        Image.fromarray(f.to_ndarray(format="rgb24")).save(png)
                        print(f"saved {png}")
                        break


if __name__ == "__main__":
    main()
