"""Depth maps: the type every stage passes around, and importing/exporting depth files.

Conventions (DESIGN.md, the camera contract):
- ``DepthMap.z`` is z-depth in world units (distance along the optical axis, not ray length), > 0.
- "relative" depth is normalised disparity: 1 = nearest, 0 = farthest (white = near in a PNG).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipelines.errors import InputError, ModelUnavailableError

#: z-depth given to relative depth 1 (nearest) and 0 (farthest) when a relative map becomes a scene.
#: Only the ratio matters for what the camera shows (strength is normalised per scene).
RELATIVE_NEAR = 1.0
RELATIVE_FAR = 20.0


@dataclass(frozen=True)
class DepthMap:
    """Per-pixel z-depth of a photo.

    z: (H, W) float32, z-depth in world units (not ray length), finite and > 0.
    notices: what was changed on the way in (resampled, ...), for the user to see.
    """

    z: np.ndarray
    notices: tuple[str, ...] = field(default=())

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
        return DepthMap((1.0 / np.maximum(disp, 1e-12)).astype(np.float32), self.notices + (note,))


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
    Image.fromarray(arr).save(path)
    return path


# == Estimation =======================================================================================
# One interface over several estimators (presets/models/depth.json lists them with hub ids and
# licences), a fallback that never leaves the user stuck offline, and an on-disk cache so every take of
# a photo reuses one depth run.

#: Longest photo side estimate() accepts; larger photos should come through io.load_image (which downscales).
MAX_ESTIMATE_SIDE = 8192
#: Default size bound of the depth cache, megabytes (env PHOTO_STUDIO_DEPTH_CACHE_MB overrides).
CACHE_MAX_MB = 200
_MODELS_JSON = Path(__file__).resolve().parent.parent / "presets" / "models" / "depth.json"


@dataclass(frozen=True)
class EstimatorInfo:
    """What to show about an estimator: its name, label, backend, weights on the hub and their licence."""

    name: str
    label: str
    backend: str  # "transformers" | "controlnet-aux" | "classical"
    hub_id: str | None
    licence: str
    commercial_use: bool
    download_mb: int
    detector: str | None = None
    files: tuple[str, ...] = ()


def _load_registry() -> dict[str, EstimatorInfo]:
    import json

    raw = json.loads(_MODELS_JSON.read_text())
    return {
        name: EstimatorInfo(name=name, label=v["label"], backend=v["backend"], hub_id=v.get("hub_id"),
                            licence=v["licence"], commercial_use=bool(v["commercial_use"]),
                            download_mb=int(v.get("download_mb", 0)), detector=v.get("detector"),
                            files=tuple(v.get("files", ())))
        for name, v in raw.items()
    }


_REGISTRY = _load_registry()
#: Estimator names accepted by :func:`estimate`; "auto" is Depth Anything V2 Small, or classical offline.
ESTIMATORS: tuple[str, ...] = ("auto",) + tuple(_REGISTRY)
DEFAULT_MODEL = "depth-anything-v2-small"


def estimator_info(name: str) -> EstimatorInfo:
    """Label, hub id and licence of an estimator, for display ("auto" describes its default model)."""
    key = DEFAULT_MODEL if name == "auto" else name
    if key not in _REGISTRY:
        raise InputError(f"unknown depth estimator {name!r}; choose one of: {', '.join(ESTIMATORS)}")
    return _REGISTRY[key]


def estimate(photo, estimator: str = "auto", *, cache_dir: str | os.PathLike | None = None, model=None,
             progress=None) -> DepthMap:
    """Relative depth of ``photo`` (a :class:`pipelines.io.Photo`) as a DepthMap of the photo's size.

    estimator: a name from :data:`ESTIMATORS`. "auto" uses Depth Anything V2 Small and falls back to
        "classical" when its weights cannot be had, saying so in the result's ``notices``; an explicit
        model that cannot load raises :class:`ModelUnavailableError` naming the fix.
    cache_dir: depth cache folder (default env PHOTO_STUDIO_DEPTH_CACHE or ~/.cache/photo-studio/depth).
        Results are keyed on the photo's pixels, the estimator that ran and its settings.
    model: an already-loaded model to use instead of loading weights: a transformers depth pipeline,
        a (model, processor) pair or a bare Depth Anything model for "auto"/"depth-anything-*", a
        controlnet-aux detector for "midas"/"zoe"/"leres". Injected models bypass the cache.
    progress: optional callable ``progress(fraction, description)``.
    """
    from pipelines import depth_classical

    pixels = getattr(photo, "pixels", None)
    if not (isinstance(pixels, np.ndarray) and pixels.ndim == 3 and pixels.dtype == np.uint8):
        raise InputError(f"estimate() needs a Photo (from pipelines.io.load_image), got {type(photo).__name__}")
    h, w = pixels.shape[:2]
    if max(h, w) > MAX_ESTIMATE_SIDE:
        raise InputError(f"photo is {w}x{h}; depth estimation takes photos up to {MAX_ESTIMATE_SIDE} px on the "
                         "long side; load it with pipelines.io.load_image, which downscales large photos")
    info = estimator_info(estimator)  # validates the name
    name = info.name
    notices: list[str] = []

    def report(frac: float, what: str) -> None:
        if progress is not None:
            progress(frac, f"depth ({name}): {what}")

    if model is not None:
        report(0.0, "running injected model")
        rel = _run_model(info, model, pixels)
        return DepthMap.from_relative(rel, notices=_flat_notice(rel, name))

    cache = _DepthCache(cache_dir)
    key = cache.key(photo, name, _version(info))
    rel = cache.get(key, (h, w))
    if rel is None:
        loaded = None
        try:
            if info.backend != "classical":
                report(0.0, "loading weights")
                loaded = _load_model(info)
        except ModelUnavailableError as exc:
            if estimator != "auto":
                raise
            notices.append(f"depth: fell back to the classical estimator because {exc}")
            name = "classical"
            info = estimator_info(name)
            key = cache.key(photo, name, _version(info))
            rel = cache.get(key, (h, w))
        if rel is None:
            report(0.1, "estimating")
            rel = (depth_classical.estimate_relative(pixels, progress=report) if info.backend == "classical"
                   else _run_model(info, loaded, pixels))
            # Quantised as the cache stores it, so a first run and a cached run give identical depth.
            rel = np.round(np.clip(rel, 0.0, 1.0) * 65535.0).astype(np.float32) / 65535.0
            note = cache.put(key, rel)
            if note:
                notices.append(note)
    report(1.0, "done")
    return DepthMap.from_relative(rel, notices=tuple(notices) + _flat_notice(rel, name))


def _flat_notice(rel: np.ndarray, name: str) -> tuple[str, ...]:
    if float(rel.max() - rel.min()) > 1e-6:
        return ()
    return (f"depth: the {name} estimator returned a flat map, so the scene will have no parallax; "
            "try another estimator or import a depth map",)


def _version(info: EstimatorInfo) -> str:
    from pipelines import depth_classical, depth_models

    if info.backend == "classical":
        return depth_classical.VERSION
    if info.backend == "transformers":
        return f"{info.hub_id}@{depth_models.DEPTH_ANYTHING_SIZE}"
    return f"{info.hub_id}:{info.detector}@512"


def _load_model(info: EstimatorInfo):
    from pipelines import depth_models

    if info.backend == "transformers":
        return depth_models.load_depth_anything(info.name, info.hub_id)
    return depth_models.load_annotator(info.name, info.detector, info.hub_id, info.files[0])


def _run_model(info: EstimatorInfo, model, pixels: np.ndarray) -> np.ndarray:
    from pipelines import depth_models

    if info.backend == "classical":
        raise InputError("the classical estimator takes no model; pass model=None")
    if info.backend == "transformers":
        net, proc = depth_models.unpack_depth_anything(model)
        return depth_models.run_depth_anything(net, proc, pixels)
    return depth_models.run_annotator(model, pixels)


class _DepthCache:
    """Relative depth maps on disk as uint16 ``.npy`` files, evicted oldest-used first past a size bound."""

    def __init__(self, cache_dir: str | os.PathLike | None):
        root = cache_dir or os.environ.get("PHOTO_STUDIO_DEPTH_CACHE") or Path.home() / ".cache" / "photo-studio" / "depth"
        self.root = Path(root)
        self.max_bytes = int(float(os.environ.get("PHOTO_STUDIO_DEPTH_CACHE_MB", CACHE_MAX_MB)) * 2**20)

    @staticmethod
    def key(photo, estimator: str, version: str) -> str:
        import hashlib

        return hashlib.sha256(f"{photo.sha256}|{estimator}|{version}".encode()).hexdigest()[:32]

    def get(self, key: str, shape: tuple[int, int]) -> np.ndarray | None:
        path = self.root / f"{key}.npy"
        if not path.is_file():
            return None
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            try:
                path.unlink(missing_ok=True)  # a torn or corrupt entry: recompute it
            except OSError:
                pass  # read-only cache: the entry stays, we recompute every time
            return None
        if arr.shape != shape or arr.dtype != np.uint16:
            path.unlink(missing_ok=True)
            return None
        try:
            os.utime(path)  # mark as recently used
        except OSError:
            pass  # a read-only cache still serves hits
        return arr.astype(np.float32) / 65535.0

    def put(self, key: str, rel: np.ndarray) -> str | None:
        """Store; returns a notice when the cache cannot be written (the result is still returned)."""
        import tempfile

        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, suffix=".tmp", delete=False) as f:
                np.save(f, np.round(np.clip(rel, 0, 1) * 65535).astype(np.uint16))
            os.replace(f.name, self.root / f"{key}.npy")  # atomic: readers never see half a file
            self._evict()
        except OSError as exc:
            return f"depth cache at {str(self.root)!r} could not be written ({exc}); depth will be recomputed next time"
        return None

    def _evict(self) -> None:
        entries = []
        for p in self.root.glob("*.npy"):
            try:
                st = p.stat()
            except FileNotFoundError:
                continue  # another process evicted it
            entries.append((st.st_mtime, st.st_size, p))
        total = sum(e[1] for e in entries)
        for _, size, p in sorted(entries, key=lambda e: e[0]):
            if total <= self.max_bytes:
                break
            p.unlink(missing_ok=True)
            total -= size


# == Edits ============================================================================================

def adjust(depth: DepthMap, *, mask: np.ndarray | None = None, push: float = 0.0, contrast: float = 1.0,
           near: float = 1.0, far: float = 0.0) -> DepthMap:
    """Edit a depth map in relative terms (1 = near, 0 = far), in this order:

    contrast: scales depth differences about the middle (2 = twice as much relief, 0.5 = flatter).
    push, mask: adds ``push`` (-1..1, positive = nearer) to the relative depth inside ``mask``
        ((H, W) bool or float weights in [0, 1]; None = the whole image).
    near, far: the relative depths the nearest and farthest points end at (0 <= far < near <= 1);
        a narrower range gives a shallower scene, i.e. less parallax. The z-depths keep this range;
        a saved PNG is re-normalised (white = nearest).
    """
    for label, v, lo, hi in (("push", push, -1.0, 1.0), ("contrast", contrast, 0.0, 10.0),
                             ("near", near, 0.0, 1.0), ("far", far, 0.0, 1.0)):
        if not (np.isfinite(v) and lo <= v <= hi):
            raise InputError(f"{label} must be within {lo:g}..{hi:g}, got {v!r}")
    if contrast == 0.0:
        raise InputError("contrast must be > 0 (0 would flatten the scene to a card); try 0.5 for flatter")
    if not far < near:
        raise InputError(f"far ({far:g}) must be less than near ({near:g})")
    rel = depth.relative
    rel = np.clip(0.5 + (rel - 0.5) * contrast, 0.0, 1.0)
    if push:
        weight = np.ones_like(rel) if mask is None else _check_mask(mask, depth.size)
        rel = np.clip(rel + push * weight, 0.0, 1.0)
    lo, hi = float(rel.min()), float(rel.max())
    if hi - lo > 1e-9:
        rel = (rel - lo) / (hi - lo)
    rel = far + rel * (near - far)
    return DepthMap.from_relative(rel, notices=depth.notices)


def _check_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    mask = np.asarray(mask)
    w, h = size
    if mask.shape != (h, w):
        raise InputError(f"mask is {mask.shape[1] if mask.ndim > 1 else '?'}x{mask.shape[0]}, the depth is {w}x{h}; "
                         "use a mask the size of the photo")
    m = mask.astype(np.float32)
    if mask.dtype == np.uint8:
        m /= 255.0
    if not np.isfinite(m).all():
        raise InputError("mask has NaN/inf values; use 0..1 weights or a 0/255 image")
    return np.clip(m, 0.0, 1.0)


def load_mask(path: str | os.PathLike, size: tuple[int, int]) -> np.ndarray:
    """A greyscale image (white = selected) as (H, W) float32 weights in [0, 1], resized to ``size`` (w, h)."""
    import cv2
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"mask file not found: {str(path)!r}; check the path")
    try:
        with Image.open(path) as img:
            arr = np.asarray(img.convert("L"), np.float32) / 255.0
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"cannot read mask {str(path)!r}: {exc}; use a greyscale PNG (white = selected)") from exc
    if arr.shape[::-1] != tuple(size):
        arr = cv2.resize(arr, tuple(size), interpolation=cv2.INTER_LINEAR)
    return arr


def fatten_edges(depth: DepthMap, radius: int = 3, threshold: float = 0.1) -> DepthMap:
    """Grow the near side of depth edges by ``radius`` pixels (grey dilation of disparity near edges).

    A depth map's edges rarely sit exactly on the photo's: the few pixels of foreground colour that
    fall on the background side get stretched into a halo when the camera moves. Dilating the near side
    pulls them onto the foreground. Only pixels within ``radius`` of a depth edge change, an edge being
    a jump of more than ``threshold`` in relative depth between neighbouring pixels; slopes stay as they are.
    """
    import cv2

    if not (isinstance(radius, (int, np.integer)) and 0 <= radius <= 256):
        raise InputError(f"edge fattening radius must be an integer 0..256 pixels, got {radius!r}")
    rel = depth.relative
    square = np.ones((3, 3), np.uint8)
    edges = (cv2.dilate(rel, square) - cv2.erode(rel, square)) > threshold
    if radius == 0 or not edges.any():
        return depth
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    zone = cv2.dilate(edges.astype(np.uint8), kernel) > 0
    grown = cv2.dilate(rel, kernel)
    rel = np.where(zone, np.maximum(grown, rel), rel)
    return DepthMap.from_relative(rel, near=float(depth.z.min()), far=float(depth.z.max()), notices=depth.notices)


def preview(depth: DepthMap) -> np.ndarray:
    """A coloured view of relative depth: (H, W, 3) uint8 RGB, bright yellow = near, dark purple = far."""
    import cv2

    grey = np.round(depth.relative * 255.0).astype(np.uint8)
    return np.ascontiguousarray(cv2.applyColorMap(grey, cv2.COLORMAP_INFERNO)[:, :, ::-1])


def apply_settings(depth: DepthMap, settings, mask: np.ndarray | None = None) -> DepthMap:
    """Apply a :class:`pipelines.schema.DepthSettings` (edits, then edge fattening)."""
    if (settings.push, settings.contrast, settings.near, settings.far) != (0.0, 1.0, 1.0, 0.0):
        depth = adjust(depth, mask=mask, push=settings.push, contrast=settings.contrast,
                       near=settings.near, far=settings.far)
    return fatten_edges(depth, settings.fatten)
