"""Reframing a take to a social aspect ratio: a fixed crop around the subject (found from the depth
map), or the whole frame fitted onto a blurred, darkened fill of itself.

Frames are (H, W, 3) uint8 RGB. Output sizes are always even (H.264 yuv420p needs that).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from pipelines.core.errors import InputError
from pipelines.core.schema import aspect_ratio


def _even(v: float) -> int:
    return max(2, int(v) // 2 * 2)


def subject_centre(depth: np.ndarray, size: tuple[int, int]) -> tuple[float, float]:
    """Centre (x, y) in pixels of a (width, height) frame of the nearest part of the scene.

    depth: (h, w) relative depth, 1 = near, 0 = far, of frame 0 (any resolution; it is rescaled).
    The nearest 15 % of pixels, weighted by nearness, stand for the subject.
    """
    d = np.asarray(depth, np.float32)
    if d.ndim != 2 or min(d.shape) < 2 or not np.isfinite(d).all():
        raise InputError(f"depth for reframing must be a finite (H, W) array, got shape {d.shape}")
    w, h = size
    thresh = np.quantile(d, 0.85)
    wgt = np.where(d >= thresh, d - d.min() + 1e-6, 0.0)
    ys, xs = np.mgrid[0 : d.shape[0], 0 : d.shape[1]]
    tot = wgt.sum()
    cx = (xs * wgt).sum() / tot + 0.5
    cy = (ys * wgt).sum() / tot + 0.5
    return float(cx * w / d.shape[1]), float(cy * h / d.shape[0])


@dataclass(frozen=True)
class Reframe:
    """A per-frame transform from (src_h, src_w, 3) to (out_h, out_w, 3) uint8.

    mode: "crop" (take box = (x0, y0, x1, y1) of the source), "blur" (fit the whole source into the
    output, centred, over a blurred cover-fill of it) or "none" (crop to even size only).
    """

    mode: str
    src_size: tuple[int, int]
    out_size: tuple[int, int]
    box: tuple[int, int, int, int]

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        import cv2

        if self.mode in ("crop", "none"):
            x0, y0, x1, y1 = self.box
            return np.ascontiguousarray(frame[y0:y1, x0:x1])
        ow, oh = self.out_size
        sw, sh = self.src_size
        # The fill: cover-scaled at 1/16 size, blurred there (cheap), scaled up and darkened.
        small_w, small_h = max(2, ow // 16), max(2, oh // 16)
        k = max(small_w / sw, small_h / sh)
        cw, ch = max(1, round(small_w / k)), max(1, round(small_h / k))
        cx0, cy0 = (sw - cw) // 2, (sh - ch) // 2
        # Every 4th pixel is plenty for a fill that is blurred anyway, and 16x cheaper to shrink.
        step = max(1, int(1 / k) // 4)
        crop = frame[cy0 : cy0 + ch : step, cx0 : cx0 + cw : step]
        small = cv2.resize(crop, (small_w, small_h), interpolation=cv2.INTER_AREA)
        small = (cv2.GaussianBlur(small, (0, 0), 2.0).astype(np.uint16) * 160 >> 8).astype(np.uint8)
        out = cv2.resize(small, (ow, oh), interpolation=cv2.INTER_LINEAR)
        x0, y0, x1, y1 = self.box
        # Linear is sharp and ~5x faster than area averaging down to half size; below that it aliases.
        shrink = (x1 - x0) / sw
        interp = cv2.INTER_LINEAR if shrink >= 0.5 else cv2.INTER_AREA
        out[y0:y1, x0:x1] = cv2.resize(frame, (x1 - x0, y1 - y0), interpolation=interp)
        return out


def plan_reframe(src_size: tuple[int, int], aspect: str, mode: str,
                 depth: Optional[np.ndarray] = None, notices: Optional[list[str]] = None) -> Reframe:
    """Plan the reframe of (width, height) frames to ``aspect`` (a :data:`pipelines.core.schema.Aspect`).

    mode "subject": the largest crop of that aspect, centred on :func:`subject_centre` (frame centre
    when ``depth`` is None, with a notice), kept inside the frame and fixed for the whole take, so
    nothing jitters and a seamless loop stays seamless. The crop keeps the source's pixels.
    mode "blur": the output keeps the source's short side as its short side (1920x1080 -> 1080x1920
    for 9:16) and shows the whole frame, scaled to fit, over a blurred fill.
    """
    sw, sh = src_size
    ratio = aspect_ratio(aspect)
    if ratio is None:  # "original"
        ew, eh = _even(sw), _even(sh)
        return Reframe("none", src_size, (ew, eh), (0, 0, ew, eh))
    a = ratio[0] / ratio[1]
    if mode == "subject":
        cw, ch = (_even(sh * a), _even(sh)) if sw / sh > a else (_even(sw), _even(sw / a))
        cw, ch = min(cw, _even(sw)), min(ch, _even(sh))
        if depth is None:
            cx, cy = sw / 2, sh / 2
            if notices is not None:
                notices.append("no depth map given: reframed around the frame's centre")
        else:
            cx, cy = subject_centre(depth, src_size)
        if cw * ch < 0.5 * sw * sh and notices is not None:
            notices.append(f"the {aspect} crop keeps {cw}x{ch} pixels of the {sw}x{sh} take; make the takes in "
                           f"{aspect} for a larger video, or choose the blur reframe to show the whole frame")
        x0 = int(np.clip(round(cx - cw / 2), 0, sw - cw))
        y0 = int(np.clip(round(cy - ch / 2), 0, sh - ch))
        return Reframe("crop", src_size, (cw, ch), (x0, y0, x0 + cw, y0 + ch))
    if mode != "blur":
        raise InputError(f"reframe mode {mode!r} unknown; use subject or blur")
    short = min(sw, sh)
    ow, oh = (_even(short * a), _even(short)) if a >= 1 else (_even(short), _even(short / a))
    k = min(ow / sw, oh / sh)
    fw, fh = max(2, round(sw * k)), max(2, round(sh * k))
    x0, y0 = (ow - fw) // 2, (oh - fh) // 2
    return Reframe("blur", src_size, (ow, oh), (x0, y0, x0 + fw, y0 + fh))
