"""Regions found from words: what "clouds drift" or "the lake shimmers" should move, without painting.

Only regions a simple, explainable test finds with confidence are found; everything else asks to be
painted, and the plan says which:
- **sky** ("sky", "clouds"): the classical depth estimator's sky test (bright or blue, smooth, touching
  the top edge, in the upper three quarters), so the sky that moves is the sky the depth calls far.
- **water** ("water", "lake", "sea", "river", "ocean", "pond"): below the horizon, in a band touching the
  bottom or the sides, where the colour is close to the sky's (water mirrors it) or blue-green, and the
  texture runs sideways (ripples and reflections are horizontal: vertical gradients outweigh horizontal
  ones by WATER_ANISOTROPY). With no sky to find a horizon, no water is claimed.
- anything else (steam, grass, hair, a waterfall) is painted with the brush.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import cv2
import numpy as np

if TYPE_CHECKING:
    from pipelines.living.spec import Motion

#: Longest side the tests run at (they are about large regions; the mask is upsampled after).
WORK_SIDE = 512
#: Water's texture: mean |dI/dy| over mean |dI/dx| at least this (ripples and reflections run sideways).
WATER_ANISOTROPY = 1.3
#: ... and the same ratio over a whole candidate region.
WATER_COMPONENT_RATIO = 1.8
#: Lightness step (Lab L per pixel) that counts as an outline a found region does not cross.
EDGE_LEVEL = 2.0
#: Pixels kept still around anything a found region must not carry along.
SAFETY_PX = 2
#: Smallest region claimed, fraction of the photo.
MIN_AREA = 0.03

SKY_WORDS = ("sky", "skies", "cloud", "clouds", "cloudy")
WATER_WORDS = ("water", "waters", "lake", "sea", "river", "ocean", "pond", "stream", "waves", "surf", "bay")


@dataclass(frozen=True)
class Found:
    """A region found from words: mask (H, W) float32 in [0, 1] or None, and the sentence the plan shows
    ("found the sky: 31 % of the photo, top"; "paint the water to animate it: no horizon found")."""

    subject: str
    mask: Optional[np.ndarray]
    note: str


def _small(pixels: np.ndarray) -> tuple[np.ndarray, float]:
    h, w = pixels.shape[:2]
    s = min(1.0, WORK_SIDE / max(h, w))
    if s < 1.0:
        pixels = cv2.resize(pixels, (max(2, round(w * s)), max(2, round(h * s))), interpolation=cv2.INTER_AREA)
    return pixels, s


def _to_full(mask_small: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    m = cv2.resize(mask_small.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return (m > 0.5).astype(np.float32)


def sky_mask(pixels: np.ndarray) -> np.ndarray:
    """(H, W) bool: the sky of an RGB uint8 photo (the depth estimator's test), all False when none."""
    from pipelines.depth.sky import _sky_mask

    small, _ = _small(pixels)
    lab = cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    sky = _sky_mask(lab)
    if not sky.any():
        return np.zeros(pixels.shape[:2], bool)
    return _refine(pixels, _to_full(sky, (pixels.shape[1], pixels.shape[0])) > 0)


def _refine(pixels: np.ndarray, coarse: np.ndarray, tolerance: float = 6.0, from_top: bool = True) -> np.ndarray:
    """A coarse mask made exact at full resolution: pixels whose colour strays from the region's smooth
    colour (a thin antenna, a wire, a branch the coarse test swallowed) and a SAFETY_PX rim next to them
    are dropped, so nothing that should stay still is carried along."""
    lab = cv2.cvtColor(pixels.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    h, w = coarse.shape
    sigma = max(2.0, 0.01 * max(h, w))
    m = coarse.astype(np.float32)
    smooth = cv2.GaussianBlur(lab * m[..., None], (0, 0), sigma) / np.maximum(cv2.GaussianBlur(m, (0, 0), sigma), 1e-6)[..., None]
    near = np.linalg.norm(lab - smooth, axis=-1) < tolerance
    # Outlines cut the region: a pale tower or a dome as bright as the sky is enclosed by its edge, so it
    # is not reached from the top (where the sky is) without crossing one.
    L = lab[..., 0]
    grad = np.hypot(cv2.Sobel(L, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(L, cv2.CV_32F, 0, 1, ksize=3)) / 8.0
    edge = cv2.dilate((grad > EDGE_LEVEL).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    keep = (coarse & near & ~edge).astype(np.uint8)
    # Stray pixels and the rim around them stay still.
    stray = (coarse & ~near).astype(np.uint8)
    rim = cv2.dilate(stray, np.ones((2 * SAFETY_PX + 1,) * 2, np.uint8)) > 0
    keep[rim] = 0
    keep = cv2.morphologyEx(keep, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(keep, connectivity=4)
    top = set(np.unique(labels[0])) - {0}
    big = np.zeros((h, w), bool)
    for i in range(1, n):
        if stats[i, 4] >= 0.002 * h * w and (i in top or not from_top):
            big |= labels == i
    return big


def water_mask(pixels: np.ndarray, sky: Optional[np.ndarray] = None) -> tuple[np.ndarray, str]:
    """(H, W) bool water below the horizon, and why (or why not)."""
    h, w = pixels.shape[:2]
    small, _ = _small(pixels)
    sh, sw = small.shape[:2]
    sky = sky_mask(pixels) if sky is None else sky
    sky_s = cv2.resize(sky.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST) > 0
    if not sky_s.any():
        return np.zeros((h, w), bool), "no sky to find a horizon by"
    cols = sky_s.any(axis=0)
    lowest = np.where(cols, sh - 1 - np.argmax(sky_s[::-1], axis=0), 0)
    horizon = int(np.median(lowest[cols])) + 1
    if horizon >= sh - 4:
        return np.zeros((h, w), bool), "the sky reaches the bottom of the photo"
    lab = cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    sky_colour = np.median(lab[sky_s], axis=0)
    dist = np.linalg.norm(lab - sky_colour, axis=-1)
    a, b = lab[..., 1], lab[..., 2]
    bluish = (b < -3.0) | ((a < -3.0) & (b < 5.0))
    colour = (dist < 25.0) | bluish
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = cv2.blur(np.abs(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)), (15, 15))
    gy = cv2.blur(np.abs(cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)), (15, 15))
    sideways = gy >= WATER_ANISOTROPY * np.maximum(gx, 1.0)
    cand = colour & sideways
    cand[:horizon] = False
    cand = cv2.morphologyEx(cand.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    cand = cv2.morphologyEx(cand, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cand, connectivity=4)
    water = np.zeros((sh, sw), bool)
    for i in range(1, n):
        x, y, cw, ch, area = stats[i]
        touches = y + ch >= sh - 1 or x == 0 or x + cw >= sw
        part = labels == i
        # The component as a whole must ripple sideways and fill its band (grass and gravel pass the
        # pixel test in patches, water fills a band).
        ratio = float(gy[part].mean()) / max(float(gx[part].mean()), 1e-3)
        solid = area / float(cw * ch)
        if area >= MIN_AREA * sh * sw and cw >= 0.3 * sw and touches and ratio >= WATER_COMPONENT_RATIO \
                and solid >= 0.6:
            water |= labels == i
    if not water.any():
        return np.zeros((h, w), bool), "nothing below the horizon looks like water (sky-coloured, rippled sideways)"
    return _to_full(water, (w, h)) > 0, "below the horizon, sky-coloured and rippled sideways"


def find_region(pixels: np.ndarray, subject: str) -> Found:
    """The region of ``subject`` (a word from the prompt) in an RGB uint8 photo, or why it needs painting."""
    word = subject.lower()
    h, w = pixels.shape[:2]
    if word in SKY_WORDS:
        sky = sky_mask(pixels)
        if sky.mean() >= MIN_AREA:
            return Found("sky", sky.astype(np.float32), f"found the sky ({sky.mean() * 100:.0f} % of the photo)")
        return Found("sky", None, "paint the sky to animate it (no clear sky found: it must be smooth and touch the top)")
    if word in WATER_WORDS:
        water, why = water_mask(pixels)
        if water.mean() >= MIN_AREA:
            return Found("water", water.astype(np.float32),
                         f"found the {word} ({water.mean() * 100:.0f} % of the photo: {why})")
        return Found("water", None, f"paint the {word} to animate it ({why})")
    return Found(word, None, f"paint the {word} to animate it")


def motion_from_words(pixels: np.ndarray, actions) -> tuple[Optional["Motion"], tuple[str, ...]]:
    """The regions a prompt's actions (:class:`pipelines.studio.prompt.Action`) set in motion on this
    photo, and one plan line per action: what moves and how, and where it was found or that it must be
    painted. At most MAX_REGIONS actions are kept (the plan says so). None when nothing was found."""
    from pipelines.living.spec import MAX_REGIONS, Motion, Region

    regions, lines = [], []
    for k, action in enumerate(actions):
        if k >= MAX_REGIONS:
            lines.append(f"{action.subject}: left still (at most {MAX_REGIONS} regions move)")
            continue
        found = find_region(pixels, action.subject)
        lines.append(f"{action.describe()}: {found.note}")
        if found.mask is not None:
            regions.append(Region(found.mask, action.type, action.direction_deg, action.speed, name=found.subject))
    return (Motion(tuple(regions)) if regions else None), tuple(lines)
