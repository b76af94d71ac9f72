"""Depth maps: the type every stage passes around, and importing/exporting depth files.

Conventions (the camera contract, docs/camera-contract.md):
- ``DepthMap.z`` is z-depth in world units (distance along the optical axis, not ray length), > 0.
- "relative" depth is normalised disparity: 1 = nearest, 0 = farthest (white = near in a PNG).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from pipelines.core.errors import InputError

#: z-depth given to relative depth 1 (nearest) and 0 (farthest) when a relative map becomes a scene.
#: Only the ratio matters for what the camera shows (strength is normalised per scene).
RELATIVE_NEAR = 1.0
RELATIVE_FAR = 20.0


@dataclass(frozen=True)
class DepthMap:
    """Per-pixel z-depth of a photo.

    z: (H, W) float32, z-depth in world units (not ray length), finite and > 0.
    notices: what was changed on the way in (resampled, ...), for the user to see.
    estimator: the estimator that made it (after any fallback), None for depth from a file or an array.
    """

    z: np.ndarray
    notices: tuple[str, ...] = field(default=())
    estimator: Optional[str] = None

    def __post_init__(self):
        z = self.z
        if not isinstance(z, np.ndarray) or z.ndim != 2 or min(z.shape) < 1:
            raise InputError(f"depth must be a 2-D (H, W) array, got shape {getattr(z, 'shape', None)}")
        if z.dtype != np.float32:
            object.__setattr__(self, "z", z.astype(np.float32))
        z = self.z
        bad = ~np.isfinite(z)
        if bad.any():
            raise InputError(f"depth has {int(bad.sum())} NaN/inf values; fill them (e.g. with the nearest valid depth)")
        if (z <= 0).any():
            raise InputError(
                f"depth has {int((z <= 0).sum())} zero or negative values (min {float(z.min()):g}); "
                "z-depth must be > 0 (for disparity maps, save them as PNG: white = near)"
            )

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.z.shape[1], self.z.shape[0]

    @property
    def relative(self) -> np.ndarray:
        """Normalised disparity, (H, W) float32 in [0, 1]: 1 = nearest, 0 = farthest."""
        d = 1.0 / self.z
        lo, hi = float(d.min()), float(d.max())
        if hi - lo < 1e-12:
            return np.full_like(d, 0.5)
        return ((d - lo) / (hi - lo)).astype(np.float32)

    @classmethod
    def from_relative(cls, rel: np.ndarray, near: float = RELATIVE_NEAR, far: float = RELATIVE_FAR,
                      notices: tuple[str, ...] = ()) -> "DepthMap":
        """Relative depth (1 = near, 0 = far) to z-depth, linear in disparity between ``far`` and ``near``."""
        rel = np.asarray(rel, dtype=np.float32)
        if rel.ndim != 2:
            raise InputError(f"relative depth must be (H, W), got shape {rel.shape}")
        if not np.isfinite(rel).all():
            raise InputError("relative depth has NaN/inf values; fill them before use")
        rel = np.clip(rel, 0.0, 1.0)
        disp = 1.0 / far + rel * (1.0 / near - 1.0 / far)
        return cls((1.0 / disp).astype(np.float32), notices)

    def resized(self, size: tuple[int, int]) -> "DepthMap":
        """Resampled to (width, height), interpolating disparity (what projection is linear in)."""
        import cv2

        w, h = size
        if (w, h) == self.size:
            return self
        interp = cv2.INTER_AREA if w < self.size[0] else cv2.INTER_LINEAR
        disp = cv2.resize(1.0 / self.z, (w, h), interpolation=interp)
        note = f"depth was resampled from {self.size[0]}x{self.size[1]} to {w}x{h} to match the photo"
        return DepthMap((1.0 / np.maximum(disp, 1e-12)).astype(np.float32), self.notices + (note,), self.estimator)


def load_depth(path: str | os.PathLike, size: tuple[int, int] | None = None) -> DepthMap:
    """Read a depth file: ``.npy`` float z-depth (H, W), or an 8/16-bit PNG of relative disparity
    (white = near). With ``size`` (width, height), a map of another size is resampled with a notice."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"depth file not found: {str(path)!r}; check the path")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            z = np.load(path, allow_pickle=False)
        except Exception as exc:  # numpy raises ValueError/OSError/EOFError... for corrupt files
            raise InputError(f"cannot read depth {str(path)!r}: {exc}; save it with numpy.save") from exc
        if z.ndim == 3 and z.shape[2] == 1:
            z = z[:, :, 0]
        if not np.issubdtype(z.dtype, np.number):
            raise InputError(f"depth {str(path)!r} holds {z.dtype} values; it must be float z-depth")
        dm = DepthMap(np.asarray(z, np.float32))
    elif suffix in (".png", ".tif", ".tiff"):
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as img:
                img.load()
                arr = np.asarray(img)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise InputError(f"cannot read depth image {str(path)!r}: {exc}; use an 8- or 16-bit PNG") from exc
        if arr.ndim == 3:
            arr = arr[:, :, :3].mean(axis=2) if arr.dtype == np.uint8 else arr[:, :, 0]
        top = 65535.0 if arr.dtype == np.uint16 or arr.max() > 255 else 255.0
        rel = arr.astype(np.float32) / top
        if float(rel.max() - rel.min()) == 0.0:
            raise InputError(f"depth image {str(path)!r} is one flat value; it carries no depth (white = near)")
        dm = DepthMap.from_relative(rel)
    else:
        raise InputError(f"depth file {str(path)!r} has an unknown type; use .npy (z-depth) or .png (white = near)")
    return dm.resized(size) if size is not None else dm


def save_depth_png(depth: DepthMap, path: str | os.PathLike) -> Path:
    """Write relative depth as a 16-bit greyscale PNG (white = near)."""
    from PIL import Image

    path = Path(path)
    arr = np.round(depth.relative * 65535.0).astype(np.uint16)
    # zlib's fastest level: a fifth of the default's time (0.1 s instead of 0.6 s at 1080p, paid beside
    # every take) for a file about 5 % larger; the values are the same.
    Image.fromarray(arr).save(path, compress_level=1)
    return path
