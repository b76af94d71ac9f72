"""Learned depth estimators: Depth Anything V2 (transformers) and the controlnet-aux annotators.

Loading never waits on the network when it cannot help: cached weights are tried first with
``local_files_only=True``; a download is tried only when the hub is not switched off (``HF_HUB_OFFLINE``)
and answers a TCP connect within a few seconds. Whether the weights can be had at all (in the local cache,
or from a hub that answers) is checked before transformers or controlnet-aux is imported, which alone
takes seconds. Every failure becomes a :class:`ModelUnavailableError` that names the fix. Models are
injected (``model=``) by tests and by callers that hold one already.

Outputs are relative depth maps, (H, W) float32 in [0, 1], 1 = near, at the photo's size.
"""
from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np

from pipelines.core.errors import ModelUnavailableError

#: Short side the Depth Anything processor resizes to (its preprocessor_config.json; a multiple of 14).
DEPTH_ANYTHING_SIZE = 518
#: The V2 preprocessor settings, used when a bare model is injected without its processor.
DEPTH_ANYTHING_PROCESSOR = dict(
    do_resize=True, size={"height": DEPTH_ANYTHING_SIZE, "width": DEPTH_ANYTHING_SIZE}, keep_aspect_ratio=True,
    ensure_multiple_of=14, resample=3, do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
    image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225], do_pad=False,
)
#: Seconds to wait for the hub to accept a connection before calling it unreachable.
HUB_CONNECT_TIMEOUT = 3.0


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def hub_offline() -> bool:
    """True when the user switched the Hugging Face hub off (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE)."""
    if _env_true("HF_HUB_OFFLINE") or _env_true("TRANSFORMERS_OFFLINE"):
        return True
    try:
        from huggingface_hub import constants

        return bool(constants.HF_HUB_OFFLINE)
    except ImportError:
        return True


def hub_reachable(timeout: float = HUB_CONNECT_TIMEOUT) -> bool:
    """Whether the hub's host accepts a TCP connection within ``timeout`` seconds (DNS included)."""
    import socket
    import threading
    from urllib.parse import urlparse

    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    host, port = url.hostname or "huggingface.co", url.port or (443 if url.scheme == "https" else 80)
    result: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    # A thread, because name resolution ignores socket timeouts and can hang for much longer.
    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 0.5)
    return bool(result and result[0])


def _offline_error(name: str, hub_id: str) -> ModelUnavailableError:
    return ModelUnavailableError(
        f"{name} weights ({hub_id}) are not in the local Hugging Face cache and HF_HUB_OFFLINE is set; "
        f"download them once online (`hf download {hub_id}`), or choose the 'classical' estimator"
    )


def _unreachable_error(name: str, hub_id: str) -> ModelUnavailableError:
    return ModelUnavailableError(
        f"{name} weights ({hub_id}) are not cached and the Hugging Face hub cannot be reached; "
        "connect to the internet once to download them, or use the 'classical' estimator"
    )


def weights_cached(hub_id: str, filename: str) -> bool:
    """Whether ``filename`` of the model ``hub_id`` (its main revision) is in the local Hugging Face cache.

    Reads the cache's documented layout (``models--ORG--NAME/refs/main`` names the commit, the file is
    ``snapshots/COMMIT/FILE``) as ``huggingface_hub.try_to_load_from_cache`` does, without importing the
    hub's download stack (0.2 s of CPU, httpx) on the way to finding out that nothing is cached."""
    from pathlib import Path

    from huggingface_hub import constants

    repo = Path(constants.HF_HUB_CACHE) / constants.REPO_ID_SEPARATOR.join(["models", *hub_id.split("/")])
    try:
        revision = (repo / "refs" / "main").read_text()
    except OSError:
        revision = "main"
    return (repo / "snapshots" / revision / filename).is_file()


def check_obtainable(name: str, hub_id: str, probe_file: str) -> None:
    """Raise :class:`ModelUnavailableError` when ``probe_file`` of ``hub_id`` is not in the local cache and
    cannot be downloaded (the hub switched off, or not answering). Cheap (no transformers, no torch), so
    the callers run it before paying seconds for importing and building a model that cannot load."""
    if weights_cached(hub_id, probe_file):
        return
    if hub_offline():
        raise _offline_error(name, hub_id)
    if not hub_reachable():
        raise _unreachable_error(name, hub_id)


def _fetch(name: str, hub_id: str, load):
    """Call ``load(local_files_only)``: the local cache first, then the network if it can answer."""
    try:
        return load(True)
    except Exception as local_exc:  # transformers/hf_hub raise OSError, ValueError, EntryNotFound...
        if hub_offline():
            raise _offline_error(name, hub_id) from local_exc
    if not hub_reachable():
        raise _unreachable_error(name, hub_id)
    try:
        return load(False)
    except Exception as exc:  # network, disk full, gated repo...: all mean "cannot load here"
        raise ModelUnavailableError(
            f"cannot download {name} weights ({hub_id}): {exc}; check disk space and network, "
            "or use the 'classical' estimator"
        ) from exc


# -- Depth Anything V2 (transformers) ----------------------------------------------------------------

@functools.lru_cache(maxsize=2)
def load_depth_anything(name: str, hub_id: str) -> tuple[Any, Any]:
    """(model, image processor) for a Depth Anything checkpoint; loaded once per process."""
    check_obtainable(name, hub_id, "config.json")
    try:
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation
    except ImportError as exc:
        raise ModelUnavailableError(f"{name} needs transformers and torch: pip install transformers torch") from exc

    def load(local_only: bool):
        # The PIL processor: no torchvision needed, and it is the faster one on CPU.
        proc = AutoImageProcessor.from_pretrained(hub_id, backend="pil", local_files_only=local_only)
        model = AutoModelForDepthEstimation.from_pretrained(hub_id, local_files_only=local_only)
        return model.eval().to(_device()), proc

    return _fetch(name, hub_id, load)


def unpack_depth_anything(model: Any) -> tuple[Any, Any]:
    """An injected transformers depth pipeline, (model, processor) pair, or bare model -> (model, processor)."""
    if isinstance(model, tuple) and len(model) == 2:
        return model
    if hasattr(model, "model") and hasattr(model, "image_processor"):  # transformers Pipeline
        return model.model, model.image_processor
    from transformers import DPTImageProcessorPil

    return model, DPTImageProcessorPil(**DEPTH_ANYTHING_PROCESSOR)


def run_depth_anything(model: Any, processor: Any, pixels: np.ndarray) -> np.ndarray:
    """Relative depth (H, W) float32 in [0, 1] (1 = near) from a Depth Anything model."""
    import torch
    from PIL import Image

    h, w = pixels.shape[:2]
    inputs = processor(images=Image.fromarray(pixels), return_tensors="pt")
    device = next(model.parameters()).device
    with torch.inference_mode():
        pred = model(pixel_values=inputs["pixel_values"].to(device)).predicted_depth  # (1, h', w'), disparity-like
        pred = torch.nn.functional.interpolate(pred[:, None].float(), size=(h, w), mode="bicubic",
                                               align_corners=False)[0, 0]
    return normalise(pred.cpu().numpy())


# -- controlnet-aux annotators -----------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def load_annotator(name: str, detector: str, hub_id: str, weights_file: str) -> Any:
    """A controlnet-aux detector (MidasDetector, ZoeDetector, LeresDetector) from its annotator weights."""
    import warnings

    check_obtainable(name, hub_id, weights_file)
    try:
        with warnings.catch_warnings():
            # Importing controlnet_aux registers dozens of timm models and warns about each, and about
            # mediapipe (which must stay uninstalled); none of it concerns depth.
            warnings.simplefilter("ignore")
            import controlnet_aux
    except ImportError as exc:
        raise ModelUnavailableError(f"{name} needs controlnet-aux: pip install controlnet-aux") from exc
    cls = getattr(controlnet_aux, detector)
    det = _fetch(name, hub_id, lambda local_only: cls.from_pretrained(hub_id, local_files_only=local_only))
    return det.to(_device())


def _device() -> str:
    """Where loaded models run: the GPU when torch sees one (a Space with a GPU), else the CPU. On a
    ZeroGPU Space torch says it has a GPU, but one is attached only inside the generative model's
    decorated function, so depth runs on the CPU there."""
    from pipelines.generative import zerogpu

    if zerogpu.active():
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def run_annotator(detector: Any, pixels: np.ndarray, resolution: int = 512) -> np.ndarray:
    """Relative depth (H, W) float32 in [0, 1] (1 = near: every controlnet-aux depth map is white = near)."""
    import cv2

    h, w = pixels.shape[:2]
    out = detector(pixels, detect_resolution=resolution, image_resolution=resolution, output_type="np")
    out = np.asarray(out)
    if out.ndim == 3:
        out = out[:, :, 0]
    rel = cv2.resize(out.astype(np.float32) / 255.0, (w, h), interpolation=cv2.INTER_CUBIC)
    return normalise(rel)


def normalise(disp: np.ndarray) -> np.ndarray:
    """Disparity-like values to [0, 1] by robust min/max (0.5th and 99.5th percentiles), NaN-safe."""
    disp = np.nan_to_num(disp.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = np.percentile(disp, [0.5, 99.5])
    if hi - lo < 1e-8:
        return np.full(disp.shape, 0.5, np.float32)
    return np.clip((disp - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)
