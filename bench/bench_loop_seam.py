"""Benchmark: how visible is the seam of a looping MP4? Prints, for closed loops of real photos moving
by a sub-pixel to a few pixels, the (blurred) difference from the last frame back to the first against
the largest difference between neighbouring frames, encoded with the loop's x264 zones (this project)
and without them (plain x264, the same run's baseline), plus the file sizes.

A seam is invisible when "wrap" is no larger than "max pair". Blurring (sigma 1.5 px) keeps the
comparison on what an eye sees as flicker, not on grain.

    .venv/bin/python bench/bench_loop_seam.py [--frames 36] [--size 240]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pipelines  # noqa: F401  (sets OMP_WAIT_POLICY before anything heavy)

import numpy as np


def closed_loop(photo: np.ndarray, n: int, radius: float) -> list[np.ndarray]:
    """``n`` frames of ``photo`` shifted around a circle of ``radius`` px: frame n would be frame 0."""
    import cv2

    img = photo.astype(np.float32)
    out = []
    for k in range(n):
        a = 2 * np.pi * k / n
        m = np.float32([[1, 0, radius * np.cos(a)], [0, 1, radius * np.sin(a)]])
        warped = cv2.warpAffine(img, m, img.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        out.append(np.clip(warped, 0, 255).astype(np.uint8))
    return out


def seam(path: Path) -> tuple[float, float]:
    """(blurred |last - first|, largest blurred |next - this|) of a decoded video."""
    import cv2

    from pipelines.render.video import read_video

    frames, _ = read_video(path)
    b = np.stack([cv2.GaussianBlur(f, (0, 0), 1.5) for f in frames.astype(np.float32)])
    pairs = [float(np.abs(b[i + 1] - b[i]).mean()) for i in range(len(b) - 1)]
    return float(np.abs(b[0] - b[-1]).mean()), max(pairs)


def main() -> None:
    import cv2
    from skimage import data

    from pipelines.render.video import write_video

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=36)
    ap.add_argument("--size", type=int, default=240)
    args = ap.parse_args()
    print(f"{'photo':10s} {'radius':>6s} | {'zones: wrap':>11s} {'max pair':>8s} {'kB':>5s} | "
          f"{'plain: wrap':>11s} {'max pair':>8s} {'kB':>5s}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("astronaut", "coffee", "rocket"):
            photo = cv2.resize(getattr(data, name)(), (args.size, args.size), interpolation=cv2.INTER_AREA)
            for radius in (0.3, 0.6, 2.0):
                frames = closed_loop(photo, args.frames, radius)
                row = []
                for loop_frames in (args.frames, None):
                    path = write_video(frames, Path(tmp) / f"{name}-{radius}-{loop_frames}.mp4", 12,
                                       loop_frames=loop_frames)
                    row.append((*seam(path), path.stat().st_size / 1e3))
                (zw, zm, zs), (pw, pm, ps) = row
                print(f"{name:10s} {radius:6.1f} | {zw:11.3f} {zm:8.3f} {zs:5.0f} | {pw:11.3f} {pm:8.3f} {ps:5.0f}"
                      f"{'' if zw <= zm else '   <- seam shows'}")


if __name__ == "__main__":
    main()
