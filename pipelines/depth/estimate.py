"""Depth estimation: one interface over several estimators (presets/models/depth.json lists them with hub
ids and licences), a fallback that never leaves the user stuck offline, and an on-disk cache so every take
of a photo reuses one depth run."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pipelines.core import paths
from pipelines.core.errors import InputError, ModelUnavailableError
from pipelines.depth.maps import DepthMap

#: Longest photo side estimate() accepts; larger photos should come through io.load_image (which downscales).
MAX_ESTIMATE_SIDE = 8192
#: Default size bound of the depth cache, megabytes (env PHOTO_STUDIO_DEPTH_CACHE_MB overrides).
CACHE_MAX_MB = 200
_MODELS_JSON = paths.PRESETS / "models" / "depth.json"


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
    """Relative depth of ``photo`` (a :class:`pipelines.core.photo.Photo`) as a DepthMap of the photo's size.

    estimator: a name from :data:`ESTIMATORS`. "auto" uses Depth Anything V2 Small and falls back to
        "classical" when its weights cannot be had, saying so in the result's ``notices``; an explicit
        model that cannot load raises :class:`ModelUnavailableError` naming the fix.
    cache_dir: depth cache folder (default env PHOTO_STUDIO_DEPTH_CACHE or ~/.cache/photo-studio/depth).
        Results are keyed on the photo's pixels, the estimator that ran and its settings.
    The estimator's depth edges are snapped to the photo's colour edges (:mod:`pipelines.depth.refine`;
    the classical estimator decides a cut-out subject's outline at full size itself, :mod:`pipelines.depth.outline`).
    model: an already-loaded model to use instead of loading weights: a transformers depth pipeline,
        a (model, processor) pair or a bare Depth Anything model for "auto"/"depth-anything-*", a
        controlnet-aux detector for "midas"/"zoe"/"leres". Injected models bypass the cache.
    progress: optional callable ``progress(fraction, description)``.
    """
    from pipelines.depth import classical as depth_classical
    from pipelines.depth import refine as depth_refine

    pixels = getattr(photo, "pixels", None)
    if not (isinstance(pixels, np.ndarray) and pixels.ndim == 3 and pixels.dtype == np.uint8):
        raise InputError(f"estimate() needs a Photo (from pipelines.core.photo.load_image), got {type(photo).__name__}")
    h, w = pixels.shape[:2]
    if max(h, w) > MAX_ESTIMATE_SIDE:
        raise InputError(f"photo is {w}x{h}; depth estimation takes photos up to {MAX_ESTIMATE_SIDE} px on the "
                         "long side; load it with pipelines.core.photo.load_image, which downscales large photos")
    info = estimator_info(estimator)  # validates the name
    name = info.name
    notices: list[str] = []

    def report(frac: float, what: str) -> None:
        if progress is not None:
            progress(frac, f"depth ({name}): {what}")

    if model is not None:
        report(0.0, "running injected model")
        rel = depth_refine.snap_edges(_run_model(info, model, pixels), pixels)
        return replace(DepthMap.from_relative(rel, notices=_flat_notice(rel, name)), estimator=name)

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
            # Every estimator's edges are soft or a few pixels off: snap them to the photo's colour edges.
            # (The classical estimator snaps its own: a cut-out subject's outline is decided at full size
            # there, and the snap's median would round its fringe back onto the backdrop.)
            if info.backend != "classical":
                rel = depth_refine.snap_edges(rel, pixels)
            # Quantised as the cache stores it, so a first run and a cached run give identical depth.
            rel = np.round(np.clip(rel, 0.0, 1.0) * 65535.0).astype(np.float32) / 65535.0
            note = cache.put(key, rel)
            if note:
                notices.append(note)
    report(1.0, "done")
    return replace(DepthMap.from_relative(rel, notices=tuple(notices) + _flat_notice(rel, name)), estimator=name)


def _flat_notice(rel: np.ndarray, name: str) -> tuple[str, ...]:
    if float(rel.max() - rel.min()) > 1e-6:
        return ()
    return (f"depth: the {name} estimator returned a flat map, so the scene will have no parallax; "
            "try another estimator or import a depth map",)


def _version(info: EstimatorInfo) -> str:
    from pipelines.depth import classical as depth_classical
    from pipelines.depth import models as depth_models

    from pipelines.depth import refine as depth_refine

    if info.backend == "classical":
        return f"{depth_classical.VERSION}+{depth_refine.VERSION}"
    if info.backend == "transformers":
        return f"{info.hub_id}@{depth_models.DEPTH_ANYTHING_SIZE}+{depth_refine.VERSION}"
    return f"{info.hub_id}:{info.detector}@512+{depth_refine.VERSION}"


def _load_model(info: EstimatorInfo):
    from pipelines.depth import models as depth_models

    if info.backend == "transformers":
        return depth_models.load_depth_anything(info.name, info.hub_id)
    return depth_models.load_annotator(info.name, info.detector, info.hub_id, info.files[0])


def _run_model(info: EstimatorInfo, model, pixels: np.ndarray) -> np.ndarray:
    from pipelines.depth import models as depth_models

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

