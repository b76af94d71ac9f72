"""What the generative models are given and what they give back: the checked draft, its depth as the
control video (one disparity normalisation per clip), frames resampled to the model's count and size, and the
model's float output as uint8 frames."""
from __future__ import annotations

import numpy as np

from pipelines.core.errors import InputError
from pipelines.generative.backends import ModelInputs

def check_inputs(photo, draft, depth, holes) -> tuple[int, int, int]:
    for name, arr, ndim in (("photo", photo, 3), ("draft", draft, 4), ("depth", depth, 3), ("holes", holes, 3)):
        if not isinstance(arr, np.ndarray) or arr.ndim != ndim:
            raise InputError(f"{name} must be a {ndim}-D numpy array, got {getattr(arr, 'shape', type(arr))}")
    if photo.dtype != np.uint8 or photo.shape[-1] != 3:
        raise InputError(f"photo must be (H, W, 3) uint8, got {photo.dtype} {photo.shape}")
    if draft.dtype != np.uint8 or draft.shape[-1] != 3 or draft.shape[0] < 1:
        raise InputError(f"draft must be (T, H, W, 3) uint8 with T >= 1, got {draft.dtype} {draft.shape}")
    t, h, w = draft.shape[:3]
    if depth.shape != (t, h, w) or holes.shape != (t, h, w):
        raise InputError(f"depth {depth.shape} and holes {holes.shape} must match the draft's (T, H, W) = "
                         f"{(t, h, w)}; render them along the same camera path")
    if holes.dtype != np.uint8:
        raise InputError(f"holes must be uint8 (255 = revealed), got {holes.dtype}")
    finite = np.isfinite(depth)
    if not finite.any() or (depth[finite] <= 0).any():
        raise InputError("depth must be z-depth > 0 (world units) with at least one finite value")
    return t, h, w


def depth_to_control(depth: np.ndarray) -> np.ndarray:
    """(T, H, W) z-depth -> (T, H, W) uint8 disparity, 255 = nearest and 0 = farthest point of the whole
    clip (one normalisation for all frames, so a dolly-in brightens the scene instead of flickering).
    Non-finite depth (nothing seen) counts as the farthest."""
    disp = np.zeros(depth.shape, np.float64)
    finite = np.isfinite(depth)
    disp[finite] = 1.0 / depth[finite].astype(np.float64)
    lo, hi = disp[finite].min(), disp[finite].max()
    disp[~finite] = lo
    rel = (disp - lo) / (hi - lo) if hi > lo else np.ones_like(disp)
    return np.round(rel * 255).astype(np.uint8)


def resize(frames: np.ndarray, h: int, w: int, nearest: bool = False) -> np.ndarray:
    import cv2

    if frames.shape[1:3] == (h, w):
        return np.ascontiguousarray(frames)
    shrink = h * w < frames.shape[1] * frames.shape[2]
    interp = cv2.INTER_NEAREST if nearest else (cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
    return np.stack([cv2.resize(f, (w, h), interpolation=interp) for f in frames])


def frame_indices(src: int, dst: int) -> np.ndarray:
    """Indices of ``dst`` frames evenly spread over ``src`` frames; first and last are kept."""
    if dst == 1:
        return np.zeros(1, int)
    return np.floor(np.linspace(0, src - 1, dst) + 0.5).astype(int)  # half up: evenly spaced repeats


def model_inputs(photo, draft, depth, holes, n: int, h: int, w: int) -> tuple[ModelInputs, list[str]]:
    notices = []
    idx = frame_indices(draft.shape[0], n)
    ph, pw = photo.shape[:2]
    dh, dw = draft.shape[1:3]
    if abs(ph / pw - dh / dw) < 0.01:
        first = resize(photo[None], h, w)[0]
    else:  # a cropped take: its own frame 0 is the photo as framed
        first = resize(draft[:1], h, w)[0]
        notices.append("the photo's aspect differs from the take's; the take's first frame stands in for it")
    inputs = ModelInputs(photo=first, draft=resize(draft[idx], h, w),
                         control=resize(depth_to_control(depth)[idx], h, w),
                         holes=resize(holes[idx], h, w, nearest=True))
    return inputs, notices


def to_uint8(video) -> np.ndarray:
    """Pipeline output (1, n, h, w, 3) or (n, h, w, 3) float in [0, 1] -> (n, h, w, 3) uint8."""
    arr = np.asarray(video, dtype=np.float32)
    if arr.ndim == 5:
        arr = arr[0]
    return np.round(np.clip(arr, 0.0, 1.0) * 255).astype(np.uint8)
