"""A living photo along a camera path: the moving regions ride in the photo's own layer of the 3-D scene.

With a moving camera the regions move inside the renderer's own resample of each layer
(``parallax.iter_frames(..., moving=warp.MovingLayers(...))``), so occlusion and the revealed background
behave as in a camera-only take and nothing outside the regions differs from it. With a still camera (strength 0) whose
output pixels are photo pixels, the frames are the animated photo itself, cropped: a cinemagraph, exactly
still outside the regions, with no resampling at all.
"""
from __future__ import annotations

import dataclasses
from typing import Iterator, Optional

import numpy as np

from pipelines.living.animate import LivingPhoto
from pipelines.living.warp import MovingLayers
from pipelines.render import parallax
from pipelines.render.camera import CameraPath, intrinsics


def still_offset(path: CameraPath, size: tuple[int, int]) -> Optional[tuple[int, int]]:
    """(x, y) of the output's top-left pixel in the photo when every frame of ``path`` is the identity
    camera showing photo pixels 1:1 (an integer crop of a photo of ``size`` (w, h)); else None."""
    w_src, h_src = size
    if not (np.abs(path.poses - np.eye(4)).max() < 1e-9 and np.ptp(path.fov_deg) < 1e-9):
        return None
    A = path.K(0) @ np.linalg.inv(intrinsics(path.source_fov_deg, w_src, h_src))
    ox, oy = -A[0, 2], -A[1, 2]
    if np.abs(A[:2, :2] - np.eye(2)).max() > 1e-9 or abs(ox - round(ox)) > 1e-6 or abs(oy - round(oy)) > 1e-6:
        return None
    ox, oy = int(round(ox)), int(round(oy))
    if ox < 0 or oy < 0 or ox + path.width > w_src or oy + path.height > h_src:
        return None
    return ox, oy


def closed(path: CameraPath) -> CameraPath:
    """A still camera path marked closed: with a living photo its take loops (the region motion closes
    over the take), so the encoder and finishing treat it as a seamless loop."""
    if path.loop or np.abs(path.poses - path.poses[0]).max() > 1e-12 or np.ptp(path.fov_deg) > 1e-12:
        return path
    return dataclasses.replace(path, loop=True)


def iter_images(scene: parallax.Scene, path: CameraPath, living: LivingPhoto) -> Iterator[np.ndarray]:
    """Frames (height, width, 3) uint8 of ``living`` seen along ``path``, in order."""
    off = still_offset(path, scene.size)
    if off is not None:
        x, y = off
        for i in range(path.num_frames):
            yield np.ascontiguousarray(living.frame(i % living.num_frames)[y:y + path.height, x:x + path.width])
        return
    for f in parallax.iter_frames(scene, path, moving=MovingLayers(living, scene)):
        yield f.image
