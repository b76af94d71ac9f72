"""Text overlays: a title or caption rendered once into a premultiplied RGBA block, then blended into
each frame inside its time window.

Fonts come from the project's assets (IBM Plex Sans Bold, OFL, in ``assets/fonts/``), from Pillow
(it bundles Aileron, ASCII only) or from a file the user names. A font on the system (Noto Sans CJK) is
used only when it is there and the built-in one lacks a character. Text is never drawn with missing glyphs: a
character no available font has raises :class:`InputError` naming it and the fix (``--font FILE``).
"""
from __future__ import annotations

import functools
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.core import paths
from pipelines.core.errors import InputError

#: The caption font shipped with the project.
BUILTIN_FONT = paths.ASSETS / "fonts" / "IBMPlexSans-Bold.woff2"

#: Used when present and the text needs it; never assumed.
SYSTEM_FALLBACKS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)
#: Margin between text and the frame's edge, fraction of frame height.
EDGE_MARGIN = 0.06
#: Text may fill at most this fraction of the frame's width (wrapping) and height (else it is refused).
MAX_FILL = 0.9


def builtin_font() -> str | None:
    """IBM Plex Sans Bold (OFL; licence in ``assets/fonts/OFL.txt``), shipped with the project; None if
    the file is missing (a broken install): ASCII text then falls back to Pillow's font."""
    return str(BUILTIN_FONT) if BUILTIN_FONT.is_file() else None


@functools.lru_cache(maxsize=32)
def _font(path: str | None, size: int):
    from PIL import ImageFont

    if path is None:
        return ImageFont.load_default(size)  # Pillow's bundled Aileron (ASCII only)
    try:
        return ImageFont.truetype(path, size)
    except OSError as exc:
        raise InputError(f"font {path!r} cannot be opened ({exc}); pass a .ttf, .otf, .ttc or .woff2 file") from None


def _glyph(font, ch: str) -> tuple:
    mask = font.getmask(ch)
    return mask.size, bytes(mask)


def missing_glyphs(path: str | None, text: str) -> list[str]:
    """Characters of ``text`` that the font at ``path`` (None: Pillow's default) would draw as its
    .notdef box (or as nothing). Spaces and control characters are not checked."""
    font = _font(path, 32)
    notdef = _glyph(font, "\U0010FFFD")  # a private-use code point no font maps
    out = []
    for ch in dict.fromkeys(text):
        if unicodedata.category(ch)[0] in "ZC":
            continue
        if _glyph(font, ch) == notdef:
            out.append(ch)
    return out


def pick_font(text: str, font: str | os.PathLike | None = None) -> str | None:
    """The font file to draw ``text`` with: the user's ``font`` if given (it must have every
    character), else the first of the built-in font, Pillow's default and present system fallbacks
    that has them all. Raises InputError naming the characters and the fix otherwise."""
    if font is not None:
        path = str(font)
        if not Path(path).is_file():
            raise InputError(f"font file {path!r} not found; pass an existing .ttf/.otf/.ttc/.woff2 file")
        missing = missing_glyphs(path, text)
        if missing:
            raise InputError(f"font {Path(path).name!r} has no glyph for {''.join(missing)!r}; "
                             "pass --font with a font that covers them (for CJK: Noto Sans CJK)")
        return path
    # Pillow's default font is ASCII-only: worth trying only when the built-in font is missing.
    candidates = [builtin_font()] + ([None] if text.isascii() else [])
    candidates += [p for p in SYSTEM_FALLBACKS if Path(p).is_file()]
    best_missing = None
    for cand in dict.fromkeys(candidates):
        missing = missing_glyphs(cand, text)
        if not missing:
            return cand
        if best_missing is None or len(missing) < len(best_missing):
            best_missing = missing
    raise InputError(f"no available font has {''.join(best_missing)!r} (text would show as boxes); "
                     "pass --font FILE with a font that covers it (for Chinese/Japanese/Korean: "
                     "NotoSansCJK-Regular.ttc)")


@dataclass(frozen=True)
class Overlay:
    """A rendered text block.

    rgb: (h, w, 3) float32, colour premultiplied by alpha, 0..255.
    alpha: (h, w, 1) float32 in [0, 1].
    x, y: top-left corner in frame pixels; the block lies fully inside the frame.
    """

    rgb: np.ndarray
    alpha: np.ndarray
    x: int
    y: int

    def __post_init__(self):
        h, w = self.alpha.shape[:2]
        if self.rgb.shape != (h, w, 3) or self.alpha.shape != (h, w, 1):
            raise ValueError(f"overlay rgb {self.rgb.shape} and alpha {self.alpha.shape} disagree")

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) in frame pixels."""
        h, w = self.alpha.shape[:2]
        return self.x, self.y, self.x + w, self.y + h


def _wrap(draw, text: str, font, max_w: float, stroke: int) -> str:
    """Greedy wrap to ``max_w`` pixels; words too long for a line (and unspaced scripts) break
    between characters."""
    def width(s):
        x0, _, x1, _ = draw.textbbox((0, 0), s, font=font, stroke_width=stroke)
        return x1 - x0

    lines = []
    for para in text.splitlines() or [""]:
        tokens = para.split(" ") if " " in para else list(para)
        sep = " " if " " in para else ""
        line = ""
        for tok in tokens:
            trial = f"{line}{sep}{tok}" if line else tok
            if width(trial) <= max_w:
                line = trial
                continue
            if line:
                lines.append(line)
            line = ""
            for ch in tok:  # the token alone is too wide: break it
                if line and width(line + ch) > max_w:
                    lines.append(line)
                    line = ""
                line += ch
        lines.append(line)
    return "\n".join(lines)


def render_text(text: str, frame_size: tuple[int, int], *, size: float, position: str, colour: str,
                stroke_colour: str, stroke: float, shadow: float, font: str | None, what: str = "caption") -> Overlay:
    """Render ``text`` for a frame of ``frame_size`` = (width, height).

    size: font size as a fraction of the frame height. position: top, centre, bottom or "x,y" (the
    block's centre in frame fractions; the block is kept inside the frame). stroke: outline width as
    a fraction of the font size. shadow: opacity of a soft drop shadow. font: a path from
    :func:`pick_font`.
    """
    from PIL import Image, ImageColor, ImageDraw, ImageFilter

    fw, fh = frame_size
    px = max(8, round(size * fh))
    f = _font(font, px)
    sw = round(stroke * px)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    wrapped = _wrap(probe, text, f, MAX_FILL * fw, sw)
    spacing = round(0.15 * px)
    x0, y0, x1, y1 = probe.multiline_textbbox((0, 0), wrapped, font=f, stroke_width=sw, spacing=spacing, align="center")
    x0, y0 = int(np.floor(x0)), int(np.floor(y0))
    tw, th = int(np.ceil(x1)) - x0, int(np.ceil(y1)) - y0
    if th > MAX_FILL * fh or tw > fw:
        lines = wrapped.count("\n") + 1
        raise InputError(f"{what} does not fit the {fw}x{fh} frame ({len(text)} characters make {lines} lines "
                         f"at size {size}); shorten it or lower --{what}-size")

    blur = max(1, round(0.08 * px)) if shadow > 0 else 0
    off = (round(0.04 * px), round(0.06 * px)) if shadow > 0 else (0, 0)
    pad = 2 * blur + max(off)
    w, h = tw + 2 * pad, th + 2 * pad
    origin = (pad - x0, pad - y0)
    kw = dict(font=f, spacing=spacing, align="center", stroke_width=sw)

    alpha_img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(alpha_img).multiline_text(origin, wrapped, fill=255, stroke_fill=255, **kw)
    fill_img = Image.new("RGB", (w, h), ImageColor.getrgb(stroke_colour)[:3])
    # Fill colour where the glyph body is, stroke colour in the outline ring.
    body = Image.new("L", (w, h), 0)
    ImageDraw.Draw(body).multiline_text(origin, wrapped, fill=255, **{**kw, "stroke_width": 0})
    fill_img.paste(ImageColor.getrgb(colour)[:3], mask=body if sw > 0 else alpha_img)

    a_text = np.asarray(alpha_img, np.float32)[..., None] / 255.0
    rgb = np.asarray(fill_img, np.float32)
    if shadow > 0:
        sh = Image.new("L", (w, h), 0)
        sh.paste(alpha_img.filter(ImageFilter.GaussianBlur(blur)), off)
        a_sh = np.asarray(sh, np.float32)[..., None] / 255.0 * shadow
        shadow_rgb = np.array(ImageColor.getrgb(stroke_colour)[:3], np.float32)
        # Text over shadow, premultiplied: C = Ct*at + Cs*as*(1-at); a = at + as*(1-at).
        premul = rgb * a_text + shadow_rgb * a_sh * (1 - a_text)
        alpha = a_text + a_sh * (1 - a_text)
    else:
        premul, alpha = rgb * a_text, a_text

    cx, cy = _anchor(position, fw, fh, w, h)
    x = int(np.clip(round(cx - w / 2), 0, max(0, fw - w)))
    y = int(np.clip(round(cy - h / 2), 0, max(0, fh - h)))
    # A block wider than the frame (only the padding can be) is trimmed to it.
    premul, alpha = premul[: fh - y, : fw - x], alpha[: fh - y, : fw - x]
    return Overlay(np.ascontiguousarray(premul), np.ascontiguousarray(alpha), x, y)


def _anchor(position: str, fw: int, fh: int, w: int, h: int) -> tuple[float, float]:
    m = EDGE_MARGIN * fh
    if position == "top":
        return fw / 2, m + h / 2
    if position == "bottom":
        return fw / 2, fh - m - h / 2
    if position in ("centre", "center"):
        return fw / 2, fh / 2
    try:
        fx, fy = (float(v) for v in position.split(","))
    except ValueError:
        raise InputError(f"text position {position!r} unknown; use top, centre, bottom or x,y fractions") from None
    if not (0 <= fx <= 1 and 0 <= fy <= 1):
        raise InputError(f"text position {position!r} must have x and y in 0..1")
    return fx * fw, fy * fh


def blend(frame: np.ndarray, overlay: Overlay, opacity: float) -> np.ndarray:
    """Draw ``overlay`` at ``opacity`` (0..1) onto ``frame`` (H, W, 3) uint8, in place; returns it."""
    if opacity <= 0:
        return frame
    x0, y0, x1, y1 = overlay.box
    region = frame[y0:y1, x0:x1]
    a = overlay.alpha if opacity >= 1 else overlay.alpha * np.float32(opacity)
    src = overlay.rgb if opacity >= 1 else overlay.rgb * np.float32(opacity)
    out = region.astype(np.float32)
    out *= 1 - a
    out += src
    np.clip(out, 0, 255, out=out)
    region[...] = (out + 0.5).astype(np.uint8)
    return frame


def fade_opacity(t: float, start: float, end: float, fade: float) -> float:
    """Opacity at time ``t`` of text shown over [start, end) with linear fades of ``fade`` seconds
    (shortened to half the window if the window is short)."""
    if t < start or t >= end:
        return 0.0
    fade = min(fade, (end - start) / 2)
    if fade <= 0:
        return 1.0
    return float(min(1.0, (t - start) / fade, (end - t) / fade))
