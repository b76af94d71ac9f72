"""Picture quality of the parallax engine on real photos and on built scenes with known depth, against the
previous commit's renderer, in one run.

    .venv/bin/python bench/bench_quality.py                 # this tree vs the commit before it
    .venv/bin/python bench/bench_quality.py --baseline main  # vs another commit or branch
    .venv/bin/python bench/bench_quality.py --baseline faa84c8 --baseline main  # vs several, one column each

The baseline is checked out in a temporary git worktree; both trees are measured by this same script in a
subprocess each, with PYTHONPATH pointing at the tree, so each runs its own depth estimator and renderer.

Figures:
- Real photos (astronaut, chelsea, coffee, rocket; classical depth; orbit and truck-right at strength 1
  and 0.5; the photo's own size):
  * texture: band-pass texture ratio of the revealed pixels (notes, section G): the energy of a
    difference of Gaussian blurs (sigma 1 and 2) over the revealed pixels, divided by the same energy
    over a 7-px ring of seen background around them (no nearer than the revealed surface, and 4 px from
    anything nearer), both 4 px from the seam, each patch of revealed pixels against its own ring
    (weighted by its revealed pixels), pooled over every 4th frame; slivers thinner than 8 px are left out, and so is the
    ring around them. A smooth blend scores ~0.06, the truth 0.8-1.7; "nan"
    where the move reveals too little to judge (under 200 px once the seam is left out).
  * tear (last frame, where the camera has moved most): per mille of the image that shows a strong edge (Canny 60/160) which frame 0's edges,
    carried to frame t by a continuous per-pixel warp of the same depth (a forward splat, Canny 20/60,
    2 px of slack), do not explain. Pixels the continuous warp leaves uncovered (true disocclusions) are
    not counted: a textured fill there is not a tear. A crack inside an object, a doubled contour, a
    floating fragment or a speckle along an edge is. Near 0 is good. The splat carries four sub-pixel
    samples per pixel and keeps an edge wherever one lands (single samples left a grid of holes where a
    near subject is magnified, and a plain pixel landing later erased an edge: both counted as tears).
  * tear, outlines whole: the same, with the warp also letting the nearer side of each depth edge carry
    the 2 px past it, as the renderer's layers do (scene.EDGE_GROW: estimated depth edges lag the colour
    edges). The plain figure counts an outline moved whole with its subject as a tear wherever the
    estimate left its last pixel or two at the depth behind; this one does not.
- Built scenes (a photo-textured wall, two photo-textured cards in front of it and a slanted floor,
  640x360, ray-cast exactly): PSNR over all pixels, over pixels seen in the photo (2 px away from any
  revealed pixel), over revealed pixels,
  and flicker (RMS of frame-to-frame change minus the truth's), averaged over 12 frames of truck-right
  and orbit at strength 1; with the true depth, and with it blurred, lumpy and with its edges shifted
  by 3 px. Degraded depth stands for an estimator's output, so where the tree has the estimators' edge
  refinement (pipelines.depth.refine) it goes through it, as any estimate does. "f0" says whether frame 0 is the photo exactly.
- Speed (1920x1080 astronaut): depth estimate (classical, refinement included), scene build, frames/s.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")
MOVES = (("orbit", 1.0), ("orbit", 0.5), ("truck-right", 1.0), ("truck-right", 0.5))
FRAMES = 24
#: Every TEXTURE_STEP-th frame of a real-photo move is measured for texture (pooled).
TEXTURE_STEP = 4
#: Frames of each built-scene move (flicker needs consecutive frames).
BUILT_FRAMES = 12
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# -- measures -------------------------------------------------------------------------------------------

def texture_energies(frame: np.ndarray, revealed: np.ndarray, z: np.ndarray) -> tuple[float, float, int]:
    """Band-pass energy summed over the revealed pixels and over a 7-px ring of seen background around
    them (no nearer than the revealed surface, by the frame's z, and 4 px from anything nearer), and the
    revealed pixel count, each taken 4 px from the seam (slivers are left out: they are all seam)."""
    import cv2

    disk = lambda r: cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))  # noqa: E731
    rev = revealed.astype(np.uint8)
    # Both sides are measured 4 px from the seam: the band-pass of the foreground's own outline (and of
    # the seam) reaches about that far into either side.
    m = cv2.erode(rev, disk(4)) > 0
    if m.sum() == 0:
        return 0.0, 0.0, 0
    g = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    band = (cv2.GaussianBlur(g, (0, 0), 1.0) - cv2.GaussianBlur(g, (0, 0), 2.0)) ** 2
    # The ring surrounds the revealed pixels that are measured (with the 4 px to their seam), not the
    # slivers left out: on the rocket those lie along the launch towers and the pad lights, whose edges
    # gave 99.7 % of the ring's energy while the measured pixels were open sky.
    kept = (rev > 0) & (cv2.dilate(m.astype(np.uint8), disk(4)) > 0)
    ring = (cv2.dilate(kept.astype(np.uint8), disk(11)) > 0) & ~(cv2.dilate(rev, disk(4)) > 0)
    far = z >= 0.9 * float(np.median(z[m]))
    # ... and 4 px from anything nearer too: the band-pass of a foreground outline standing right beside
    # the revealed pixels reaches as far into the seen background as into them (the rocket's lit flank
    # gave the ring 30-170 times the energy of the open sky around it).
    ring &= far & ~(cv2.dilate((~far).astype(np.uint8), disk(4)) > 0)
    n = int(m.sum())
    if not ring.any():
        return float(band[m].mean()) * n, 0.0, n
    # Each patch of revealed pixels is set against its own ring, weighted by its revealed pixels: pooled
    # over the whole frame, a ring weighs by its length, and a small patch by the rocket's pad lights (129
    # px revealed, a 386-px ring of lit starbursts) outweighed a sky strip 57 times its size.
    _, near = cv2.distanceTransformWithLabels((~kept).astype(np.uint8), cv2.DIST_L2, 5,
                                              labelType=cv2.DIST_LABEL_CCOMP)
    k = int(near.max()) + 1
    n_c = np.bincount(near[m], minlength=k).astype(np.float64)
    e_c = np.bincount(near[ring], weights=band[ring].astype(np.float64), minlength=k)
    r_c = np.bincount(near[ring], minlength=k)
    mean_c = np.where(r_c > 0, e_c / np.maximum(r_c, 1), float(band[ring].mean()))
    return float(band[m].mean()) * n, float((mean_c * n_c).sum()), n


def forward_splat(values: np.ndarray, z: np.ndarray, path, i: int):
    """Carry each photo pixel to frame ``i`` by the continuous warp of depth ``z``; returns (splatted
    values, covered mask) at the output size (nearest pixel, no z-order: a lenient reference; where
    several pixels land on one, the largest value stays, so an edge is never erased by a plain pixel
    that happens to land on it later).

    Each pixel is carried as four samples a quarter pixel from its centre: where the move magnifies (a
    near subject coming closer), single samples land a pixel or more apart and leave a grid of holes
    that the reference would wrongly count as unexplained edges and uncovered pixels."""
    from pipelines.render.camera import intrinsics

    h, w = z.shape
    Ks = intrinsics(path.source_fov_deg, w, h)
    R, C = path.poses[i, :3, :3], path.poses[i, :3, 3]
    W, H = path.width, path.height
    out = np.zeros((H, W), values.dtype)
    cov = np.zeros((H, W), bool)
    y0, x0 = np.mgrid[0:h, 0:w].astype(np.float64)
    for dy in (-0.25, 0.25):
        for dx in (-0.25, 0.25):
            xs, ys = x0 + dx, y0 + dy
            X = np.stack([(xs - Ks[0, 2]) / Ks[0, 0] * z, (ys - Ks[1, 2]) / Ks[1, 1] * z, z.astype(np.float64)], -1)
            cam = (X - C) @ R
            uv = cam @ path.K(i).T
            u = np.rint(uv[..., 0] / uv[..., 2]).astype(int)
            v = np.rint(uv[..., 1] / uv[..., 2]).astype(int)
            ok = (cam[..., 2] > 0) & (u >= 0) & (u < W) & (v >= 0) & (v < H)
            np.maximum.at(out, (v[ok], u[ok]), values[ok])
            cov[v[ok], u[ok]] = True
    return out, cov


def tear_figure(photo: np.ndarray, frame: np.ndarray, z: np.ndarray, path, i: int, grow: int = 0) -> float:
    """Per mille of frame ``i`` showing a strong edge that the warp of the photo's edges by depth ``z`` does
    not explain (module docstring). ``grow``: the warp also lets the nearer side of every depth edge carry
    the ``grow`` pixels past it (as the renderer's layers do, scene.EDGE_GROW), so an outline that moves
    whole with its subject, its last pixel or two included, is explained too."""
    import cv2

    src_edges = (cv2.Canny(cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY), 20, 60) > 0).astype(np.uint8)
    moved, cov = forward_splat(src_edges, z, path, i)
    if grow:
        disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
        moved |= forward_splat(src_edges, 1.0 / cv2.dilate(1.0 / z, disk), path, i)[0]
    explained = cv2.dilate(moved, np.ones((5, 5), np.uint8)) > 0
    covered = cv2.morphologyEx(cov.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)) > 0
    covered = cv2.erode(covered.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    edges = cv2.Canny(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), 60, 160) > 0
    return 1000.0 * float((edges & ~explained & covered).mean())


def real_photos() -> list[dict]:
    from skimage import data

    from pipelines.core import schema
    from pipelines.core.photo import load_image
    from pipelines.depth import estimate
    from pipelines.render import camera, parallax

    rows = []
    with tempfile.TemporaryDirectory() as cache:
        for name in PHOTOS:
            photo = load_image(getattr(data, name)())
            depth = estimate(photo, "classical", cache_dir=cache)
            scene = parallax.build_scene(photo, depth)
            for preset, strength in MOVES:
                s = schema.RenderSettings(preset=preset, strength=strength, seed=0, duration=FRAMES / 24, fps=24)
                full = camera.preset_path(preset, depth, s)
                pick = np.arange(full.num_frames)[TEXTURE_STEP - 1::TEXTURE_STEP]  # ends on the last frame
                path = camera.CameraPath(full.poses[pick], full.fov_deg[pick], full.width, full.height,
                                         source_fov_deg=full.source_fov_deg)
                fr = parallax.render(scene, path, holes=True, depth=True)
                e_in = e_ring = count = 0
                for i in range(path.num_frames):
                    a, b, c = texture_energies(fr.images[i], fr.holes[i] > 127, fr.depth[i])
                    e_in, e_ring, count = e_in + a, e_ring + b, count + c
                texture = e_in / e_ring if count >= 200 and e_ring > 0 else float("nan")
                last = path.num_frames - 1
                rows.append({"photo": name, "move": f"{preset}@{strength:g}", "texture": texture,
                             "tear": tear_figure(photo.pixels, fr.images[last], depth.z, path, last),
                             "tear_grown": tear_figure(photo.pixels, fr.images[last], depth.z, path, last, grow=2)})
    return rows


# -- built scenes with known depth ------------------------------------------------------------------------

class BuiltScene:
    """A wall at z=10 (texture: 'coffee'), a floor rising toward the camera below the middle (texture:
    'grass'), and two fronto-parallel cards at z=3 ('astronaut') and z=5 ('chelsea'). Textures are
    addressed by the photo's own pixel coordinates, so frame 0 is the photo and any camera can be
    ray-cast exactly (bilinear texture lookups)."""

    W, H, FOV = 640, 360, 60.0

    def __init__(self):
        import cv2
        from skimage import data

        W, H = self.W, self.H
        big = (W * 2, H * 2)
        self.tex = {
            "wall": cv2.resize(data.coffee(), big, interpolation=cv2.INTER_AREA),
            "floor": cv2.resize(np.dstack([data.grass()] * 3), big, interpolation=cv2.INTER_AREA),
            "near": cv2.resize(data.astronaut(), (W // 2, H), interpolation=cv2.INTER_AREA),
            "mid": cv2.resize(data.chelsea(), (W // 3, H // 2), interpolation=cv2.INTER_AREA),
        }
        # Card rectangles in source pixels (x0, y0, x1, y1) and depths.
        self.cards = {"near": ((60, 60, 60 + W // 4, 330), 3.0), "mid": ((360, 90, 360 + W // 4, 90 + H // 3), 5.0)}
        self.wall_z = 10.0
        self.floor_y = 1.2  # floor plane: world y = 1.2 (below the camera), visible in the lower part

    def K(self, fov, w, h):
        from pipelines.render.camera import intrinsics

        return intrinsics(fov, w, h)

    def render(self, pose: np.ndarray, fov: float):
        """(image uint8, seen mask, depth z) for camera ``pose`` (camera-to-world) and ``fov``."""
        import cv2

        W, H = self.W, self.H
        Ks = self.K(self.FOV, W, H)
        Ko = self.K(fov, W, H)
        ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
        d = np.stack([xs, ys, np.ones_like(xs)], -1) @ np.linalg.inv(Ko).T @ pose[:3, :3].T
        C = pose[:3, 3]
        best_t = np.full((H, W), np.inf)
        img = np.zeros((H, W, 3), np.float32)
        which = np.full((H, W), -1)
        hits = []

        def plane(tz, texname, mask_fn, idx, offset):
            X = C + tz[..., None] * d
            uv = X @ Ks.T
            u, v = uv[..., 0] / uv[..., 2], uv[..., 1] / uv[..., 2]
            ok = (tz > 1e-6) & mask_fn(u, v, X)
            tex = self.tex[texname]
            col = cv2.remap(tex, (u + offset[0]).astype(np.float32), (v + offset[1]).astype(np.float32),
                            cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT).astype(np.float32)
            nearer = ok & (tz < best_t)
            img[nearer] = col[nearer]
            best_t[nearer] = tz[nearer]
            which[nearer] = idx
            hits.append((idx, u, v))

        with np.errstate(divide="ignore", invalid="ignore"):
            plane((self.wall_z - C[2]) / d[..., 2], "wall", lambda u, v, X: np.ones(u.shape, bool), 0, (W / 2, H / 2))
            plane((self.floor_y - C[1]) / d[..., 1], "floor", lambda u, v, X: (X[..., 2] < self.wall_z) & (X[..., 2] > 0.5),
                  1, (W / 2, H / 2))
            for i, (name, ((x0, y0, x1, y1), z)) in enumerate(self.cards.items()):
                plane((z - C[2]) / d[..., 2], name,
                      lambda u, v, X, b=(x0, y0, x1, y1): (u >= b[0] - 0.5) & (u < b[2] - 0.5) & (v >= b[1] - 0.5) & (v < b[3] - 0.5),
                      2 + i, (-x0, -y0))
        zc = best_t * (d @ pose[:3, :3])[..., 2]  # z-depth in the output camera
        return np.clip(np.rint(img), 0, 255).astype(np.uint8), which, zc

    def seen_in_photo(self, pose, fov, which, zt):
        """Per output pixel: is the surface point it shows visible in the photo (not hidden there)?"""
        W, H = self.W, self.H
        Ks, Ko = self.K(self.FOV, W, H), self.K(fov, W, H)
        ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
        d = np.stack([xs, ys, np.ones_like(xs)], -1) @ np.linalg.inv(Ko).T @ pose[:3, :3].T
        if not hasattr(self, "_which0"):
            self._which0 = self.render(np.eye(4), self.FOV)[1]
        which0 = self._which0
        C = pose[:3, 3]
        X = C + (zt / (d @ pose[:3, :3])[..., 2])[..., None] * d
        uv = X @ Ks.T
        u = np.rint(uv[..., 0] / uv[..., 2]).astype(int)
        v = np.rint(uv[..., 1] / uv[..., 2]).astype(int)
        inside = (u >= 0) & (u < W) & (v >= 0) & (v < H)
        seen = np.zeros((H, W), bool)
        seen[inside] = which0[v[inside], u[inside]] == which[inside]
        return seen, inside


def degrade(z: np.ndarray, kind: str) -> np.ndarray:
    import cv2

    if kind == "true":
        return z
    disp = 1.0 / z
    if kind == "blurred":
        return 1.0 / cv2.GaussianBlur(disp, (0, 0), 4.0)
    if kind == "lumpy":
        rng = np.random.default_rng(7)
        noise = cv2.resize(rng.normal(0, 1, (6, 10)).astype(np.float32), z.shape[::-1], interpolation=cv2.INTER_CUBIC)
        return z * np.exp(0.12 * noise)
    if kind == "shift3":
        # Near things reach 3 px past their true outline (depth edges off by 3 px).
        return 1.0 / cv2.dilate(disp, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    raise ValueError(kind)


def psnr(a, b, mask):
    if mask.sum() == 0:
        return float("nan")
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2)[mask].mean())
    return float("inf") if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def built_scenes() -> list[dict]:
    import cv2

    from pipelines.core import schema
    from pipelines.core.photo import load_image
    from pipelines.depth import DepthMap
    from pipelines.render import camera, parallax

    bs = BuiltScene()
    photo_px, _, z_true = bs.render(np.eye(4), bs.FOV)
    photo = load_image(photo_px)
    rows = []
    paths = {}
    for preset in ("truck-right", "orbit"):
        s = schema.RenderSettings(preset=preset, strength=1.0, seed=0, duration=BUILT_FRAMES / 24, fps=24)
        paths[preset] = camera.preset_path(preset, DepthMap(z_true.astype(np.float32)), s)
    truth = {}
    for preset, path in paths.items():
        frames = []
        for i in range(path.num_frames):
            img, which, zt = bs.render(path.poses[i], float(path.fov_deg[i]))
            seen, inside = bs.seen_in_photo(path.poses[i], float(path.fov_deg[i]), which, zt)
            frames.append((img, seen, inside))
        truth[preset] = frames
    try:  # degraded depth stands for an estimator's output: it gets what every estimate gets
        from pipelines.depth.refine import snap_edges
    except ImportError:  # a tree without the refinement
        snap_edges = None
    for kind in ("true", "blurred", "lumpy", "shift3"):
        depth = DepthMap(degrade(z_true, kind).astype(np.float32))
        if kind != "true" and snap_edges is not None:
            depth = DepthMap.from_relative(snap_edges(depth.relative, photo.pixels),
                                           near=float(depth.z.min()), far=float(depth.z.max()))
        scene = parallax.build_scene(photo, depth)
        for preset, path in paths.items():
            fr = parallax.render(scene, path).images
            p_all, p_vis, p_rev, flick = [], [], [], []
            for i, (img, seen, inside) in enumerate(truth[preset]):
                p_all.append(psnr(fr[i], img, inside))
                # Seen, and 2 px away from anything revealed (the seen/revealed line is rounded to pixels).
                away = cv2.erode(seen.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
                p_vis.append(psnr(fr[i], img, inside & away))
                if (inside & ~seen).sum() > 50:
                    p_rev.append(psnr(fr[i], img, inside & ~seen))
                if i:
                    dr = fr[i].astype(np.float64) - fr[i - 1]
                    dt = img.astype(np.float64) - truth[preset][i - 1][0]
                    flick.append(float(np.sqrt(((dr - dt) ** 2)[inside].mean())))
            fin = lambda xs: float(np.mean([x for x in xs if math.isfinite(x)])) if any(map(math.isfinite, xs)) else float("inf")
            rows.append({"depth": kind, "move": preset, "all": fin(p_all[1:]), "visible": fin(p_vis[1:]),
                         "revealed": fin(p_rev), "flicker": float(np.mean(flick)),
                         "f0": bool(np.array_equal(fr[0], photo_px))})
    return rows


def speed() -> dict:
    import cv2
    from skimage import data

    from pipelines.core import schema
    from pipelines.core.photo import load_image
    from pipelines.depth import estimate
    from pipelines.render import camera, parallax

    photo = load_image(cv2.resize(data.astronaut(), (1920, 1080), interpolation=cv2.INTER_CUBIC))
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        depth = estimate(photo, "classical", cache_dir=cache)
        t_depth = time.perf_counter() - t0
    builds = []
    for _ in range(2):
        t0 = time.perf_counter()
        scene = parallax.build_scene(photo, depth)
        builds.append(time.perf_counter() - t0)
    s = schema.RenderSettings(preset="orbit", strength=1.0, seed=0, duration=0.5, fps=30)
    path = camera.preset_path("orbit", depth, s)
    t0 = time.perf_counter()
    for _ in parallax.iter_frames(scene, path):
        pass
    fps = path.num_frames / (time.perf_counter() - t0)
    return {"depth_s": t_depth, "scene_s": float(min(builds)), "fps": fps}


def measure() -> dict:
    return {"real": real_photos(), "built": built_scenes(), "speed": speed()}


# -- driver -----------------------------------------------------------------------------------------------

def run_tree(tree: str) -> dict:
    env = dict(os.environ, PYTHONPATH=tree, OMP_WAIT_POLICY="PASSIVE")
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--measure"], cwd=tree, env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"measuring {tree} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline", action="append", default=None,
                    help="commit or branch to compare with; repeat for several (default: HEAD~1)")
    ap.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure()))
        return
    baselines = args.baseline or ["HEAD~1"]
    t0 = time.perf_counter()
    runs = []
    for name in baselines:
        prev = tempfile.mkdtemp(prefix="prev-quality-")
        subprocess.run(["git", "-C", HERE, "worktree", "add", "--detach", prev, name], check=True, capture_output=True)
        try:
            runs.append(run_tree(prev))
        finally:
            subprocess.run(["git", "-C", HERE, "worktree", "remove", "--force", prev], capture_output=True)
    runs.append(run_tree(HERE))
    names = [b[:10] for b in baselines] + ["now"]
    print(f"{' vs '.join(baselines)} vs this tree ({time.perf_counter() - t0:.0f} s); columns: {', '.join(names)}\n")
    col = lambda values, fmt: " ".join(format(v, fmt) for v in values)  # noqa: E731
    print("Real photos, classical depth: texture ratio of revealed pixels (truth 0.8-1.7, smear ~0.06)"
          " and tear (per mille of the last frame; plain, and with outlines moving whole)")
    print(f"{'photo':10} {'move':16} {'texture':>{7 * len(runs)}}   {'tear':>{7 * len(runs)}}   "
          f"{'tear, whole':>{7 * len(runs)}}")
    for rows in zip(*(r["real"] for r in runs)):
        print(f"{rows[0]['photo']:10} {rows[0]['move']:16} {col([r['texture'] for r in rows], '6.2f')}   "
              f"{col([r['tear'] for r in rows], '6.2f')}   {col([r['tear_grown'] for r in rows], '6.2f')}")
    print("\nBuilt scenes with known depth, 640x360, 12 frames: PSNR dB (all / visible / revealed), flicker, f0")
    for rows in zip(*(r["built"] for r in runs)):
        print(f"{rows[0]['depth']:8} {rows[0]['move']:12} all {col([r['all'] for r in rows], '6.2f')} | "
              f"visible {col([r['visible'] for r in rows], '6.2f')} | revealed {col([r['revealed'] for r in rows], '6.2f')} | "
              f"flicker {col([r['flicker'] for r in rows], '6.2f')} | f0 {' '.join(str(r['f0']) for r in rows)}")
    print("\nSpeed at 1920x1080 (astronaut upscaled)")
    print(f"depth estimate (classical), s  {col([r['speed']['depth_s'] for r in runs], '6.2f')}")
    print(f"scene build, s                 {col([r['speed']['scene_s'] for r in runs], '6.2f')}")
    print(f"render, frames/s               {col([r['speed']['fps'] for r in runs], '6.1f')}")


if __name__ == "__main__":
    main()
