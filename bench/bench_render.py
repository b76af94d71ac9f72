"""Parallax renderer speed and memory, against a naive single-layer backward warp, in one run.

    .venv/bin/python bench/bench_render.py            # 960x540 and 1920x1080, 60 frames each

Prints frames/s (rendering only; encoding aside) and peak resident memory of each configuration, each
measured in its own subprocess so the peaks do not mix.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import pipelines  # noqa: F401  (sets OMP_WAIT_POLICY before anything imports torch)

import cv2
import numpy as np

FRAMES = 60


def scene_inputs(w: int, h: int):
    """A real photo at w x h with a layered depth: a subject ellipse in front of a receding floor/wall."""
    from skimage import data

    from pipelines.depth import DepthMap
    from pipelines.core.photo import load_image

    photo = load_image(cv2.resize(data.astronaut(), (w, h), interpolation=cv2.INTER_AREA))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    z = 6.0 - 3.0 * (ys / h)  # floor and wall: nearer toward the bottom
    subject = ((xs - 0.45 * w) / (0.22 * w)) ** 2 + ((ys - 0.6 * h) / (0.45 * h)) ** 2 < 1
    z[subject] = 1.5
    z[(np.abs(xs - 0.8 * w) < 0.004 * w + 1) & (ys > 0.2 * h)] = 2.0  # a thin pole
    return photo, DepthMap(z.astype(np.float32))


def run_one(kind: str, w: int, h: int) -> dict:
    from pipelines.render import camera
    from pipelines.render import parallax
    from pipelines.core import schema

    photo, depth = scene_inputs(w, h)
    settings = schema.RenderSettings(preset="orbit", strength=1.0, seed=1, duration=FRAMES / 30, fps=30)
    path = camera.preset_path("orbit", depth, settings)
    t0 = time.perf_counter()
    if kind == "parallax":
        scene = parallax.build_scene(photo, depth)
        t_scene = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in parallax.iter_frames(scene, path):
            pass
    else:
        t_scene = 0.0
        naive_warp(photo.pixels, depth.z, path)
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"kind": kind, "size": f"{w}x{h}", "fps": FRAMES / dt, "scene_s": t_scene, "peak_mb": peak}


def naive_warp(rgb: np.ndarray, z: np.ndarray, path) -> None:
    """The usual baseline: one backward warp per frame that reads the source depth at the target pixel
    (no layers, no occlusion, no fill: edges stretch)."""
    from pipelines.render.camera import intrinsics

    h, w = z.shape
    Ks = intrinsics(path.source_fov_deg, w, h)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    disp = 1.0 / z
    for i in range(path.num_frames):
        Ko = path.K(i)
        R, C = path.poses[i, :3, :3], path.poses[i, :3, 3]
        A_inv = np.linalg.inv(Ko @ R.T @ np.linalg.inv(Ks))
        b = Ko @ R.T @ C
        # source ~ A^-1 (p + w b) with w read at the target pixel (the approximation that stretches edges)
        u = A_inv @ np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size, np.float32)])
        v = A_inv @ b
        q = u + np.outer(v, disp.ravel())
        mx = (q[0] / q[2]).reshape(h, w).astype(np.float32)
        my = (q[1] / q[2]).reshape(h, w).astype(np.float32)
        cv2.remap(rgb, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def main() -> None:
    if len(sys.argv) == 4:
        print(json.dumps(run_one(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
        return
    print(f"{'renderer':10s} {'size':>10s} {'frames/s':>9s} {'scene s':>8s} {'peak MB':>8s}   ({FRAMES} frames, orbit)")
    for w, h in ((960, 540), (1920, 1080)):
        for kind in ("parallax", "naive"):
            out = subprocess.run([sys.executable, __file__, kind, str(w), str(h)], capture_output=True, text=True,
                                 check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"{r['kind']:10s} {r['size']:>10s} {r['fps']:9.1f} {r['scene_s']:8.2f} {r['peak_mb']:8.0f}")


if __name__ == "__main__":
    main()
