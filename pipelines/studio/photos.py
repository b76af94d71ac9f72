"""Photos made ready once: validated pixels with their depth (per photo), and fitted to an output size with
the renderer's scene (per photo and size), kept in small in-memory LRUs keyed by the photo's pixel hash.

The caches hold pure functions of the photo's pixels (nothing a user typed), so sharing them between users
leaks nothing and changes no result.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from pipelines.core import photo as photo_io
from pipelines.depth import DepthMap
from pipelines.render.framing import fit

#: Longest side of the image depth is estimated on: depth is smooth, and estimators work at ~0.5 MP anyway.
DEPTH_SIDE = 1024

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Prepared:
    """A photo made ready once: pixels and depth.

    photo: validated RGB photo, longest side <= MAX_PHOTO_SIDE.
    depth: z-depth of the photo at DEPTH_SIDE resolution or less (same aspect as ``photo``).
    key: sha256 of the photo's pixels (cache key, recorded in every recipe).
    notices: what was changed on the way in (downscaled, flattened, depth fallback, ...).
    depth_side: the long side depth was estimated at (None: the photo's own size).
    """

    photo: photo_io.Photo
    depth: DepthMap
    key: str
    notices: tuple[str, ...] = ()
    depth_side: Optional[int] = None


@dataclass(frozen=True)
class Fitted:
    """A prepared photo cropped and resampled to one output size, with its scene.

    photo: (height, width, 3) uint8 pixels exactly the output size.
    depth: z-depth of the same size.
    scene: the renderer's scene for (photo, depth), or None when the renderer builds its own.
    """

    photo: photo_io.Photo
    depth: DepthMap
    scene: Any = None

    def __post_init__(self):
        if self.photo.size != self.depth.size:
            raise ValueError(f"photo {self.photo.size} and depth {self.depth.size} sizes differ")


class LRU:
    """A small thread-safe LRU mapping; values must be immutable (they are shared between requests)."""

    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)


class PhotoCache:
    """Prepared photos (pixels + depth) and fitted sizes (+ scene), each computed once.

    depth_fn: photo -> DepthMap; scene_fn: (photo, depth) -> scene, or None to leave scenes to the takes.
    """

    def __init__(self, depth_fn: Callable[[photo_io.Photo], DepthMap], scene_fn: Optional[Callable],
                 cache_size: int = 4):
        self._depth_fn, self._scene_fn = depth_fn, scene_fn
        self._prepared = LRU(cache_size)
        self._fitted = LRU(2 * cache_size)

    def is_prepared(self, photo: photo_io.Photo) -> bool:
        return self._prepared.get(photo.sha256) is not None

    def prepare(self, photo: photo_io.Photo, progress: Optional[Progress] = None) -> Prepared:
        """The photo with its depth, computed once per distinct photo and then served from memory."""
        key = photo.sha256
        hit = self._prepared.get(key)
        if hit is not None:
            # Notices of this upload (e.g. "downscaled") still apply even when depth came from the cache.
            return Prepared(hit.photo, hit.depth, key, tuple(dict.fromkeys(photo.notices + hit.notices)),
                            hit.depth_side)
        if progress:
            progress(0.02, "Estimating depth")
        small = photo_io.downscaled(photo, DEPTH_SIDE)
        depth = self._depth_fn(small)
        if not isinstance(depth, DepthMap):
            raise TypeError(f"the depth stage returned {type(depth).__name__}, not DepthMap")
        prepared = Prepared(photo, depth, key, tuple(dict.fromkeys(photo.notices + depth.notices)),
                            DEPTH_SIDE if small is not photo else None)
        self._prepared.put(key, prepared)
        return prepared

    def fitted_by_key(self, key: str, size: tuple[int, int]) -> Optional[Fitted]:
        """The photo with pixel hash ``key`` fitted to ``size``, while that photo is still in memory (None once
        it has left the cache)."""
        hit = self._fitted.get((key, size))
        if hit is not None:
            return hit
        prepared = self._prepared.get(key)
        return self.fitted(prepared, size) if prepared is not None else None

    def fitted(self, prepared: Prepared, size: tuple[int, int], progress: Optional[Progress] = None) -> Fitted:
        """The prepared photo at one output size with its scene; cached per (photo, size)."""
        key = (prepared.key, size)
        hit = self._fitted.get(key)
        if hit is not None:
            return hit
        if progress:
            progress(0.08, "Building the 3-D scene")
        photo, depth = fit(prepared.photo, prepared.depth, size)
        result = Fitted(photo, depth, self._scene_fn(photo, depth) if self._scene_fn else None)
        self._fitted.put(key, result)
        return result


def depth_preview(depth: DepthMap) -> np.ndarray:
    """(H, W) uint8 picture of the depth: white = near."""
    rel = depth.relative
    if not math.isfinite(float(rel.max())):
        raise ValueError("depth has no finite values")
    return np.round(rel * 255.0).astype(np.uint8)
