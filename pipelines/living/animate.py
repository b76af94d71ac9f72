"""Region motion without weights: the Eulerian motion field of a living photo, frame by frame.

The method (Holynski et al. 2021, "Animating Pictures with Eulerian Motion Fields", made cheap for a CPU):

1. **A static motion field.** Each flow or rise region gets a dense field M (pixels per frame): the
   region's direction, bent by the user's strokes (each stroke's tangent spread by a normalised Gaussian),
   scaled by its speed and multiplied by the region's *feathered* mask. The feather runs inwards from the
   mask's edge, so the field reaches zero smoothly where moving meets still (no tear) and is exactly zero
   on the mask's black pixels (those pixels never change).
2. **Integration, step by step.** D_{k+1}(y) = D_k(y) + s M(y + D_k(y)) traces where the texture seen at y
   came from (s = -1, k steps back) or goes to (s = +1, k steps ahead). The fields are smooth, so they
   are integrated on a coarse grid (FIELD_SIDE) and upsampled per frame; every CHECKPOINT-th step is kept,
   so any frame is a few coarse steps from a checkpoint (random access for the renderer's threads; memory
   grows with sqrt(frames), not frames).
3. **Symmetric blending closes the loop.** Time t of N is (1 - t/N) I(y + D^-_t) + (t/N) I(y + D^+_{N-t}):
   the first term is the photo advected forward t steps, the second the photo that the advection reaches
   at time N, advected backwards. Time 0 is the photo, time N the photo again: the loop
   closes by construction over the take's duration.
4. **Oscillations in closed form.** Sway (a travelling wave along the direction, its phase varying over
   the region and with the seed) and ripple (a few small travelling waves) are periodic displacements
   with a whole number of cycles per take, measured from time 0, so time 0 is the photo and the loop
   closes exactly. They add to the flow's sampling offsets, so any mix of regions costs two remaps per
   frame (one when nothing flows).

5. **Frame i shows time i + phase, 0 < phase < 1.** Every frame is then resampled alike. The untouched photo
   is sharper than any resampled frame, so a frame 0 equal to it would pop at the loop point on fine
   textures (grass); with the offset the seam (time N - 1 + phase to N + phase) is an ordinary step.
   The phase is 1/2 unless a flow's texture says otherwise: the seam's two frames lie on either side of
   the photo, and where they fall between its pixels decides how large the seam's step is
   (:mod:`pipelines.living.phase` measures it on the photo and picks the phase).

Units: speed 1 = 10 % of the frame width per second (sway: peak speed; ripple: amplitude scale).
Everything outside the union of the masks is copied from the photo, bit for bit.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np

from pipelines.core.errors import InputError
from pipelines.living.blend import blend_keep_contrast
from pipelines.living.field import FEATHER, FEATHER_MIN_PX, direction_field, feathered
from pipelines.living.phase import seam_phase
from pipelines.living.spec import Motion, Region

#: Speed 1 moves the texture this fraction of the frame width per second.
FULL_SPEED = 0.10
#: Longest side of the coarse grid the fields live on (they are smooth: a few px per cell is plenty).
FIELD_SIDE = 384
#: Sway: one back-and-forth every this many seconds (rounded to whole cycles per take).
SWAY_PERIOD_S = 2.0
#: Sway: the wave's length across the region, fraction of the longer side.
SWAY_WAVELENGTH = 0.35
#: Ripple: amplitude at speed 1 (fraction of the width), wavelength (fraction of the longer side), period.
RIPPLE_AMPLITUDE = 0.004
RIPPLE_WAVELENGTH = 0.05
RIPPLE_PERIOD_S = 1.0
#: Rise: lateral wobble at the downstream end (fraction of the width) and how much the texture dissolves
#: towards a blur there (0 = not at all, 1 = fully).
RISE_WOBBLE = 0.012
RISE_DISSOLVE = 0.6
#: Flow and rise: texture is carried only from this far inside the region (fraction of the longer side);
#: what lies at its edge (a cup's rim under the steam, the rocks along a stream) stays where it is.
SOURCE_BAND = 0.03
#: Flow and rise: the share of the take over which the forward-advected photo cross-fades into the
#: backward-advected one (centred on the middle of the take). The two copies are a whole take's travel
#: apart, so while both show the texture is doubled; a short span shows one copy most of the time.
FADE_SPAN = 0.4
#: Segments of integrated displacement kept per direction (between checkpoints; see LivingPhoto._segment):
#: two, so that the frames rendered side by side in threads find theirs.
SEGMENTS_KEPT = 2


@dataclass(frozen=True)
class _Wave:
    """A travelling wave of the displacement: amplitude (px) * unit vector * sin(k.x - w t + phase)."""

    vector: tuple[float, float]
    k: tuple[float, float]
    omega: float
    phase: float


@dataclass(frozen=True)
class FrameFields:
    """The sampling offsets of one frame on a living photo's coarse grid ((h, w, 2) float32, photo pixels:
    the texture shown at y comes from y + offset). back: the photo advected forward to this time (or the
    oscillation alone when nothing flows; None when nothing moves); ahead: the photo the advection reaches at
    the loop's end, advected back (None when nothing flows), blended in with ``weight``; ``dissolve``: how
    far a rising region's downstream end blurs now (0..1, times the region's own dissolve map)."""

    back: Optional[np.ndarray]
    ahead: Optional[np.ndarray]
    weight: float
    dissolve: float


class LivingPhoto:
    """A photo whose regions move: :meth:`frame` gives the animated photo for frame i of ``num_frames``.

    Frames are pure functions of (photo, motion, num_frames, fps, seed) and of i alone, so threads may ask
    for them in any order. ``box`` (x0, y0, x1, y1) bounds every pixel that can change; ``support`` (H, W)
    bool marks them (the masks' non-black pixels). :meth:`fields` lives on a coarse grid over the box, the
    box's size over the grid's photo pixels per cell (sx, sy): coarse (u, v) sits at photo
    (x0 + (u + 1/2) sx - 1/2, ...).
    """

    def __init__(self, pixels: np.ndarray, motion: Motion, num_frames: int, fps: float, seed: int = 0):
        h, w = pixels.shape[:2]
        if motion.size != (w, h):
            raise InputError(f"motion masks are {motion.size[0]}x{motion.size[1]} but the photo is {w}x{h}; "
                             "fit the motion to the photo (Motion.fitted) first")
        if num_frames < 1 or fps <= 0:
            raise InputError(f"num_frames must be >= 1 and fps > 0, got {num_frames} and {fps}")
        self.pixels = pixels
        self.num_frames = int(num_frames)
        self.fps = float(fps)
        self.seed = int(seed)
        support = np.zeros((h, w), bool)
        for r in motion.regions:
            if r.speed > 0:
                support |= r.mask > 0
        self.support = support
        if not support.any():
            self.box = None
            return
        ys, xs = np.nonzero(support)
        self.box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        x0, y0, x1, y1 = self.box
        bw, bh = x1 - x0, y1 - y0
        self._scale = max(1.0, max(bw, bh) / FIELD_SIDE)
        fw, fh = max(2, round(bw / self._scale)), max(2, round(bh / self._scale))
        self._coarse = (fw, fh)
        # Photo pixels per coarse cell along each axis (they differ slightly after rounding).
        self._sx, self._sy = bw / fw, bh / fh
        self._build_fields(motion, w, h)

    # -- set-up ---------------------------------------------------------------------------------------
    def _coarse_mask(self, mask: np.ndarray, feather_px: float) -> np.ndarray:
        x0, y0, x1, y1 = self.box
        # Over the box with a still border where the photo goes on (every pixel outside the box is still; the
        # photo's own edge is not): the distances to the still pixels are those over the whole photo, at a
        # fraction of the cost.
        h, w = mask.shape
        pad = ((int(y0 > 0), int(y1 < h)), (int(x0 > 0), int(x1 < w)))
        m = feathered(np.pad(mask[y0:y1, x0:x1], pad), feather_px)
        m = m[pad[0][0]:m.shape[0] - pad[0][1], pad[1][0]:m.shape[1] - pad[1][1]]
        return cv2.resize(m, self._coarse, interpolation=cv2.INTER_AREA)

    def _build_fields(self, motion: Motion, w: int, h: int) -> None:
        x0, y0, x1, y1 = self.box
        fw, fh = self._coarse
        n, fps = self.num_frames, self.fps
        rng = np.random.default_rng(self.seed)
        feather = max(FEATHER_MIN_PX, FEATHER * max(w, h))
        px_per_frame = FULL_SPEED * w / fps  # speed 1, in photo pixels
        flow = np.zeros((fh, fw, 2), np.float32)
        self._waves: list[tuple[np.ndarray, list[_Wave]]] = []
        self._dissolve: Optional[np.ndarray] = None
        # Coarse cell centres in photo pixels (relative to the box), for the waves' phases.
        gy, gx = np.mgrid[0:fh, 0:fw].astype(np.float32)
        self._cells = (gy, gx)
        self._pixel_grid: Optional[np.ndarray] = None  # the box's pixel positions, built when first sampled
        self._gx, self._gy = (gx + 0.5) * self._sx - 0.5, (gy + 0.5) * self._sy - 0.5
        for region in motion.regions:
            if region.speed <= 0:
                continue
            cm = self._coarse_mask(region.mask, feather)
            dirs = direction_field(_cropped(region, self.box), (fh, fw), max(self._sx, self._sy))
            if region.type in ("flow", "rise"):
                speed = region.speed * px_per_frame
                if region.type == "rise":
                    speed_map, wobble, dissolve = self._rise_profile(cm, dirs, rng, w)
                    flow += dirs * (cm * speed * speed_map)[..., None]
                    self._waves.append((cm * wobble, self._sway_waves(region, rng, w, h, lateral=True)))
                    d = cm * dissolve
                    self._dissolve = d if self._dissolve is None else np.maximum(self._dissolve, d)
                else:
                    flow += dirs * (cm * speed)[..., None]
            elif region.type == "sway":
                # Peak speed = speed * FULL_SPEED * w per second; amplitude = peak speed / angular frequency.
                cycles = max(1, round(n / fps / SWAY_PERIOD_S))
                omega_s = 2 * math.pi * cycles / (n / fps)
                amp = region.speed * FULL_SPEED * w / omega_s
                self._waves.append((cm * amp, self._sway_waves(region, rng, w, h, cycles=cycles)))
            else:  # ripple
                amp = region.speed * RIPPLE_AMPLITUDE * w
                self._waves.append((cm * amp, self._ripple_waves(region, rng, w, h)))
        self._flow = flow if np.abs(flow).max() > 0 else None
        #: Frame i shows time i + phase (module note, 5).
        self.phase = 0.5
        if self._flow is not None:
            self.phase = seam_phase(self.pixels, self._flow, self.box, (self._sx, self._sy))
        if self._flow is not None:
            self._checkpoints = {s: self._integrate_checkpoints(s) for s in (-1, 1)}
            self._segments: dict[tuple[int, int], list[np.ndarray]] = {}
            self._lock = threading.Lock()
            carried = np.zeros((y1 - y0, x1 - x0), np.uint8)
            for region in motion.regions:
                if region.speed > 0 and region.type in ("flow", "rise"):
                    carried |= (region.mask[y0:y1, x0:x1] > 0).astype(np.uint8)
            band = max(FEATHER_MIN_PX, SOURCE_BAND * max(w, h))
            self._source = cv2.resize(feathered(np.pad(carried, 1), band)[1:-1, 1:-1], self._coarse,
                                      interpolation=cv2.INTER_AREA)
        #: What the camera's renderer reads (pipelines.living.warp): the dissolve map on the coarse grid and
        #: the blur it dissolves towards.
        self.dissolve_map = self._dissolve
        self.blur_sigma = max(1.0, 0.01 * max(w, h))
        if self._dissolve is not None:
            crop = self.pixels[y0:y1, x0:x1]
            self._blurred = cv2.GaussianBlur(crop, (0, 0), self.blur_sigma)
            self._dissolve_full = cv2.resize(self._dissolve, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
        # Each wave's static part, so a frame costs two multiply-adds per wave:
        # sin(arg - w i) - sin(arg) = sin(arg) (cos(w i) - 1) - cos(arg) sin(w i).
        self._wave_terms = []
        for amp, waves in self._waves:
            shift = self._rest_time(amp, waves)
            for wv in waves:
                arg = wv.k[0] * self._gx + wv.k[1] * self._gy + wv.phase - wv.omega * shift
                self._wave_terms.append((wv.omega, (amp * np.sin(arg)).astype(np.float32),
                                         (amp * np.cos(arg)).astype(np.float32), wv.vector))
        self._photo_box = np.ascontiguousarray(self.pixels[y0:y1, x0:x1])
        self._keep = np.ascontiguousarray(self.support[y0:y1, x0:x1]).view(np.uint8)

    def _rest_time(self, amp: np.ndarray, waves: list[_Wave], candidates: int = 64) -> float:
        """The time (frames) at which these waves move slowest over their region: the loop point is put
        there, as at a pendulum's turning point, so the seam is the gentlest step of the cycle, not an
        arbitrary one. Shifting every wave by the same time keeps the whole number of cycles per take."""
        amp, gx, gy = amp[::4, ::4], self._gx[::4, ::4], self._gy[::4, ::4]  # smooth: a sparse grid will do
        weight = amp / max(float(amp.sum()), 1e-6)
        best, best_speed = 0.0, math.inf
        for tau in np.linspace(0.0, self.num_frames, candidates, endpoint=False):
            vx = np.zeros_like(amp)
            vy = np.zeros_like(amp)
            for wv in waves:
                c = wv.omega * np.cos(wv.k[0] * gx + wv.k[1] * gy + wv.phase - wv.omega * tau)
                vx += c * wv.vector[0]
                vy += c * wv.vector[1]
            speed = float((weight * np.hypot(vx, vy)).sum())
            if speed < best_speed:
                best, best_speed = float(tau), speed
        return best

    def _rise_profile(self, cm, dirs, rng, w):
        """Along-travel coordinate of a rise region in [0, 1] (0 upstream, 1 downstream): the speed grows
        along it (buoyancy), the lateral wobble grows, and the texture dissolves towards a blur."""
        along = self._gx * dirs[..., 0] + self._gy * dirs[..., 1]
        inside = cm > 0
        lo, hi = (float(along[inside].min()), float(along[inside].max())) if inside.any() else (0.0, 1.0)
        u = np.clip((along - lo) / max(hi - lo, 1e-6), 0.0, 1.0).astype(np.float32)
        speed_map = 0.6 + 0.8 * u
        wobble = (RISE_WOBBLE * w) * u
        dissolve = RISE_DISSOLVE * u * u
        return speed_map, wobble, dissolve

    def _sway_waves(self, region: Region, rng, w, h, cycles: int | None = None, lateral: bool = False):
        """Sway: displacement along the direction (or across it, for rise's wobble), a wave travelling
        along the direction so neighbouring parts of the region lag each other."""
        n, fps = self.num_frames, self.fps
        a = math.radians(region.direction_deg)
        d = (math.cos(a), math.sin(a))
        vec = (-d[1], d[0]) if lateral else d
        if cycles is None:
            cycles = max(1, round(n / fps / SWAY_PERIOD_S))
        kmag = 2 * math.pi / (SWAY_WAVELENGTH * max(w, h))
        waves = []
        for j, share in enumerate((0.75, 0.25)):
            ang = a + rng.uniform(-0.4, 0.4)
            waves.append(_Wave((vec[0] * share, vec[1] * share), (kmag * (1 + j) * math.cos(ang), kmag * (1 + j) * math.sin(ang)),
                               2 * math.pi * cycles * (1 + j) / n, float(rng.uniform(0, 2 * math.pi))))
        return waves

    def _ripple_waves(self, region: Region, rng, w, h):
        n, fps = self.num_frames, self.fps
        a = math.radians(region.direction_deg)
        base_cycles = max(1, round(n / fps / RIPPLE_PERIOD_S))
        waves = []
        for j in range(3):
            ang = a + rng.uniform(-0.6, 0.6)
            lam = RIPPLE_WAVELENGTH * max(w, h) * rng.uniform(0.7, 1.4)
            kmag = 2 * math.pi / lam
            # Displacement across the wave front (the surface tilts), travelling along the direction.
            vec = (-math.sin(ang) / 3 ** 0.5 + math.cos(ang) * 0.3, math.cos(ang) / 3 ** 0.5)
            waves.append(_Wave(vec, (kmag * math.cos(ang), kmag * math.sin(ang)),
                               2 * math.pi * (base_cycles + j) / n, float(rng.uniform(0, 2 * math.pi))))
        return waves

    def _integrate_checkpoints(self, sign: int) -> list[np.ndarray]:
        """Every ``_every``-th D^sign_{k + f}, k = 0..N-1, f the frames' share of a step away from the photo:
        ``phase`` backwards (frame i at time i + phase) and 1 - phase forwards (time N - i - phase)."""
        n = self.num_frames
        self._every = max(1, int(math.ceil(math.sqrt(n))))
        first = self.phase if sign < 0 else 1.0 - self.phase
        out, d = [], first * sign * self._flow  # a part step first
        for k in range(n + 1):
            if k % self._every == 0:
                out.append(d.copy())
            if k < n:
                d = self._step(d, sign)
        return out

    def _step(self, d: np.ndarray, sign: int) -> np.ndarray:
        """D_{k+1}(y) = D_k(y) + sign * M(y + D_k(y)); D in photo pixels on the coarse grid."""
        return d + sign * self._at(self._flow, d)

    def _at(self, field: np.ndarray, d: np.ndarray) -> np.ndarray:
        """``field`` (coarse grid) read at each cell displaced by ``d`` (photo pixels), 0 outside."""
        mx = self._cells[1] + d[..., 0] / self._sx
        my = self._cells[0] + d[..., 1] / self._sy
        return cv2.remap(field, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def _displacement(self, k: int, sign: int) -> np.ndarray:
        """D^sign_{k + f} (see :meth:`_integrate_checkpoints`) on the coarse grid, from the segment of steps
        that starts at the nearest checkpoint at or below k."""
        c = k // self._every
        return self._segment(sign, c)[k - c * self._every]

    def _segment(self, sign: int, c: int) -> list[np.ndarray]:
        """D^sign from checkpoint c on, one per step up to the next checkpoint. Frames come in order (the
        forward copy's k rises, the backward copy's falls), so a segment serves ``_every`` frames for the
        cost of integrating it once; the last SEGMENTS_KEPT per sign are kept. Every D is integrated from
        its checkpoint by the same steps, so it is the same whichever thread or frame asked first."""
        key = (sign, c)
        with self._lock:
            seg = self._segments.get(key)
        if seg is not None:
            return seg
        seg = [self._checkpoints[sign][c]]
        for _ in range(min(self._every, self.num_frames + 1 - c * self._every) - 1):
            seg.append(self._step(seg[-1], sign))
        with self._lock:
            self._segments[key] = seg
            mine = [kk for kk in self._segments if kk[0] == sign]
            for old in mine[:-SEGMENTS_KEPT]:  # dicts keep insertion order: the oldest first
                del self._segments[old]
        return seg

    def _oscillation(self, t: float) -> Optional[np.ndarray]:
        """Sampling offset of the sway, ripple and rise-wobble waves at time t (frames), (h, w, 2); zero at
        time 0 and every whole take."""
        if not self._wave_terms:
            return None
        out = np.zeros(self._coarse[::-1] + (2,), np.float32)
        for omega, amp_sin, amp_cos, vector in self._wave_terms:
            s = amp_sin * (math.cos(omega * t) - 1.0) - amp_cos * math.sin(omega * t)
            # The texture moves by +amp*s, so the output samples at -amp*s.
            out[..., 0] -= s * vector[0]
            out[..., 1] -= s * vector[1]
        return out

    # -- frames ---------------------------------------------------------------------------------------
    def _sample(self, offset: np.ndarray) -> np.ndarray:
        """The photo's box sampled at y + offset (offset on the coarse grid, photo pixels)."""
        x0, y0, x1, y1 = self.box
        bw, bh = x1 - x0, y1 - y0
        maps = cv2.resize(offset, (bw, bh), interpolation=cv2.INTER_LINEAR)
        if self._pixel_grid is None:  # only a still camera's frames (the cinemagraph) sample the box itself
            py, px = np.mgrid[y0:y1, x0:x1].astype(np.float32)
            self._pixel_grid = np.dstack([px, py])
        maps += self._pixel_grid
        m1, m2 = cv2.convertMaps(maps, None, cv2.CV_16SC2)
        # Bilinear, like the renderer: every frame is resampled (frames sit part of a step into their time), so
        # none is sharper than its neighbours; bicubic costs ~1.5x for no visible gain here.
        return cv2.remap(self.pixels, m1, m2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)

    def frame(self, i: int) -> np.ndarray:
        """The animated photo at frame ``i`` (0 <= i < num_frames), time i + phase: (H, W, 3) uint8, the
        photo itself outside the masks."""
        if self.box is None:
            if not 0 <= i < self.num_frames:
                raise InputError(f"frame index must be in 0..{self.num_frames - 1}, got {i}")
            return self.pixels
        x0, y0, x1, y1 = self.box
        out = self.pixels.copy()
        out[y0:y1, x0:x1] = self.frame_box(i)
        return out

    def fields(self, i: int) -> "FrameFields":
        """What frame ``i`` (time i + phase) samples, on the coarse grid: both renderers (the photo's box here,
        the camera's own resample in :mod:`pipelines.living.warp`) read the same fields."""
        if not 0 <= i < self.num_frames:
            raise InputError(f"frame index must be in 0..{self.num_frames - 1}, got {i}")
        n, t = self.num_frames, i + self.phase
        osc = self._oscillation(t)
        dissolve = math.sin(math.pi * t / n) ** 2 if self._dissolve is not None else 0.0  # eased: closes on the photo
        if self._flow is None:
            return FrameFields(osc, None, 0.0, dissolve)
        u = np.clip((t / n - 0.5) / FADE_SPAN + 0.5, 0.0, 1.0)
        weight = float(u * u * (3.0 - 2.0 * u))
        # Outside the cross-fade one copy shows alone: the other is not computed (nor resampled).
        back = self._carried(self._displacement(i, -1)) if weight < 1.0 else None  # D^-_{i + phase}
        ahead = self._carried(self._displacement(n - 1 - i, 1)) if weight > 0.0 else None  # D^+_{N - i - phase}
        if osc is not None:
            back, ahead = (None if d is None else d + osc for d in (back, ahead))
        if back is None or ahead is None:
            return FrameFields(ahead if back is None else back, None, 0.0, dissolve)
        return FrameFields(back, ahead, weight, dissolve)

    def _carried(self, d: np.ndarray) -> np.ndarray:
        """The displacement scaled by how deep inside the flowing regions its source lies (SOURCE_BAND), so
        texture from a region's edge is not carried into it: there the photo stays (coarse grid)."""
        return d * self._at(self._source, d)[..., None]

    def frame_box(self, i: int) -> np.ndarray:
        """The animated pixels of ``box`` at frame ``i``: (y1 - y0, x1 - x0, 3) uint8 (the photo outside
        the masks). The cinemagraph (a still camera) asks for this much only."""
        if self.box is None:
            if not 0 <= i < self.num_frames:
                raise InputError(f"frame index must be in 0..{self.num_frames - 1}, got {i}")
            return self.pixels
        f = self.fields(i)
        if f.back is None:  # regions too small for the coarse grid: nothing moves
            return self._photo_box
        moved = self._sample(f.back)
        if f.ahead is not None:
            moved = blend_keep_contrast(moved, self._sample(f.ahead), f.weight)
        if f.dissolve:
            wgt = self._dissolve_full * f.dissolve
            moved = cv2.blendLinear(moved, self._blurred, 1.0 - wgt, wgt)
        out = self._photo_box.copy()
        cv2.copyTo(moved, self._keep, out)  # in place (numpy's copyto with a mask is ~40x slower)
        return out


def _cropped(region: Region, box) -> Region:
    """The region's strokes moved into the box's coordinates (for the coarse direction field)."""
    x0, y0 = box[0], box[1]
    strokes = tuple(tuple((x - x0, y - y0) for x, y in s) for s in region.strokes)
    return Region(region.mask, region.type, region.direction_deg, region.speed, strokes, region.name)


def animate(pixels: np.ndarray, motion: Motion, num_frames: int, fps: float, seed: int = 0) -> LivingPhoto:
    """Prepare the living photo of ``pixels`` (H, W, 3 uint8) for a take of ``num_frames`` at ``fps``:
    fields built and integrated once; ask :meth:`LivingPhoto.frame` for each frame."""
    return LivingPhoto(pixels, motion, num_frames, fps, seed)
