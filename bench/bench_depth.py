"""Seconds per depth estimator for one 1920x1080 photo on this machine.

    .venv/bin/python bench/bench_depth.py [--repeat 3] [--midas]

Prints the median wall time and process CPU time of each estimator after one warm-up run. The
learned estimators run their real architecture with random weights (no downloads), so the time is
what a user with the weights would see, minus loading. A same-run baseline (a plain OpenCV resize
round-trip of the photo) shows how loaded the machine was. MiDaS (123 M parameters, ~20 s to build)
runs only with --midas; Zoe (345 M) and LeReS are not timed here.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import pipelines  # noqa: F401  (sets OMP_WAIT_POLICY=PASSIVE before torch is imported)


def _photo():
    import cv2
    import numpy as np
    from skimage import data

    from pipelines.core.photo import Photo

    img = cv2.resize(data.astronaut(), (1080, 1080), interpolation=cv2.INTER_CUBIC)
    side = cv2.resize(data.coffee(), (420, 1080), interpolation=cv2.INTER_CUBIC)
    pad = cv2.resize(data.chelsea(), (420, 1080), interpolation=cv2.INTER_CUBIC)
    return Photo(np.ascontiguousarray(np.concatenate([side, img, pad], axis=1)))  # 1920x1080


def _time(fn, repeat: int) -> tuple[float, float]:
    fn()  # warm-up: imports, first-call allocations
    walls, cpus = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def _depth_anything_small():
    """The Depth Anything V2 Small architecture (24.8 M parameters) with random weights."""
    import torch
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    torch.manual_seed(0)
    backbone = Dinov2Config(image_size=518, patch_size=14, hidden_size=384, num_hidden_layers=12,
                            num_attention_heads=6, intermediate_size=1536, out_indices=[3, 6, 9, 12],
                            reshape_hidden_states=False)
    cfg = DepthAnythingConfig(backbone_config=backbone, patch_size=14, reassemble_hidden_size=384,
                              reassemble_factors=[4, 2, 1, 0.5], neck_hidden_sizes=[48, 96, 192, 384],
                              fusion_hidden_size=64, head_hidden_size=32)
    return DepthAnythingForDepthEstimation(cfg).eval()


def _midas():
    from controlnet_aux.midas import MidasDetector
    from controlnet_aux.midas.api import MiDaSInference
    from controlnet_aux.midas.midas.dpt_depth import DPTDepthModel

    inf = MiDaSInference.__new__(MiDaSInference)
    import torch

    torch.nn.Module.__init__(inf)
    inf.model = DPTDepthModel(path=None, backbone="vitb_rn50_384", non_negative=True).eval()
    return MidasDetector(inf)


def main() -> None:
    import cv2
    import torch

    from pipelines import depth

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--midas", action="store_true", help="also time MiDaS DPT-hybrid (slow to build)")
    args = ap.parse_args()

    photo = _photo()
    print(f"photo {photo.size[0]}x{photo.size[1]}, torch threads {torch.get_num_threads()}")

    def baseline():
        small = cv2.resize(photo.pixels, (480, 270), interpolation=cv2.INTER_AREA)
        cv2.resize(small, photo.size, interpolation=cv2.INTER_LINEAR)

    rows = [("baseline: resize round-trip", _time(baseline, args.repeat))]
    # A fresh cache folder per run: every run estimates (and pays for writing its cache entry).
    from skimage import data

    from pipelines.core.photo import Photo

    # The collage has no single subject; the stretched portrait runs every step (GrabCut twice).
    portrait = Photo(cv2.resize(data.astronaut(), (1920, 1080), interpolation=cv2.INTER_CUBIC))
    with tempfile.TemporaryDirectory() as tmp:
        fresh = iter(range(10**6))
        for label, ph in (("classical (collage)", photo), ("classical (portrait)", portrait)):
            rows.append((label, _time(
                lambda: depth.estimate(ph, "classical", cache_dir=f"{tmp}/{next(fresh)}"), args.repeat)))
    da = _depth_anything_small()
    rows.append(("depth-anything-v2-small (random weights, 518)",
                 _time(lambda: depth.estimate(photo, "depth-anything-v2-small", model=da), args.repeat)))
    if args.midas:
        det = _midas()
        rows.append(("midas dpt-hybrid (random weights, 512)",
                     _time(lambda: depth.estimate(photo, "midas", model=det), args.repeat)))
    for name, (wall, cpu) in rows:
        print(f"{name:48s} {wall:7.3f} s wall  {cpu:7.3f} s cpu")


if __name__ == "__main__":
    main()
