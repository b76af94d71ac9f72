"""The parallax renderer against scenes with exact answers (kornia's rhythm: smoke, shapes, analytic
cases, errors)."""
import math

import cv2
import numpy as np
import pytest

from pipelines.render import camera
from pipelines.render import cut
from pipelines.render import parallax
from pipelines.core import schema
from pipelines.render.camera import CameraPath, intrinsics
from pipelines.depth import DepthMap
from pipelines.core.errors import InputError
from pipelines.core.photo import load_image


def texture(w, h, seed=0):
    """Band-limited random texture: every pixel distinct, smooth enough for exact bilinear checks."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (h // 4 + 2, w // 4 + 2, 3)).astype(np.float32)
    return np.clip(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)


def box_depth(w, h, far, near, box) -> DepthMap:
    """A plane at z = ``far`` with the region ``box`` (a (rows, cols) pair of slices) at z = ``near``."""
    z = np.full((h, w), far, np.float32)
    z[box] = near
    return DepthMap(z)


def pose(tx=0.0, ty=0.0, tz=0.0):
    m = np.eye(4)
    m[:3, 3] = (tx, ty, tz)
    return m


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def test_identity_pose_gives_the_photo_back(astronaut):
    photo = load_image(astronaut)
    h, w = astronaut.shape[:2]
    z = np.full((h, w), 4.0, np.float32)
    z[100:420, 120:380] = 1.2  # a near layer with hard edges
    scene = parallax.build_scene(photo, DepthMap(z))
    assert len(scene.layers) == 2
    frame = parallax.render(scene, CameraPath(pose()[None], [60.0], w, h)).images[0]
    assert psnr(frame, astronaut) >= 45
    assert np.array_equal(frame, astronaut)  # integer sample positions: exact


@pytest.mark.parametrize("z,t", [(2.0, 0.1), (5.0, -0.3)])
def test_fronto_parallel_plane_shifts_by_f_t_over_z(z, t):
    w, h = 320, 200
    img = texture(w, h)
    scene = parallax.build_scene(load_image(img), DepthMap(np.full((h, w), z, np.float32)))
    path = CameraPath(pose(tx=t)[None], [60.0], w, h)
    frame = parallax.render(scene, path).images[0]
    shift = intrinsics(60.0, w, h)[0, 0] * t / z  # camera right by t: the plane moves left by f t / z
    expected = cv2.warpAffine(img, np.float32([[1, 0, -shift], [0, 1, 0]]), (w, h), flags=cv2.INTER_LINEAR)
    m = int(abs(shift)) + 4
    assert np.abs(frame[:, m:w - m].astype(int) - expected[:, m:w - m]).mean() < 0.6
    # and not by a pixel more or less: compare with the neighbouring shifts
    for off in (-1, 1):
        wrong = cv2.warpAffine(img, np.float32([[1, 0, -shift + off], [0, 1, 0]]), (w, h), flags=cv2.INTER_LINEAR)
        assert np.abs(frame[:, m:w - m].astype(int) - wrong[:, m:w - m]).mean() > 3


def test_near_layer_moves_more_than_far_and_hides_it():
    w, h = 320, 200
    far_img, near_img = texture(w, h, 1), np.zeros((h, w, 3), np.uint8)
    img = far_img.copy()
    near_img[:] = (255, 0, 0)
    box = (slice(60, 140), slice(120, 200))
    img[box] = near_img[box]
    scene = parallax.build_scene(load_image(img), box_depth(w, h, 8.0, 2.0, box))
    t = 0.2
    frame = parallax.render(scene, CameraPath(pose(tx=t)[None], [60.0], w, h), holes=True).images[0]
    f = intrinsics(60.0, w, h)[0, 0]
    near_shift, far_shift = f * t / 2.0, f * t / 8.0
    # the red box moved left by f t / z_near: its new interior is red, occluding the far texture
    x0, x1 = int(120 - near_shift) + 2, int(200 - near_shift) - 2
    assert (frame[64:136, x0:x1] == (255, 0, 0)).all()
    # where the box was (its right part), the far layer shows: not red, and the far texture shifted by f t / z_far
    reveal = frame[64:136, int(200 - near_shift) + 3:197]
    assert reveal.size and (reveal[..., 0].astype(int) - reveal[..., 1]).mean() < 100
    xs = slice(230, 300)
    expected = cv2.warpAffine(far_img, np.float32([[1, 0, -far_shift], [0, 1, 0]]), (w, h), flags=cv2.INTER_LINEAR)
    assert np.abs(frame[:, xs].astype(int) - expected[:, xs]).mean() < 1.0
    assert near_shift > 3 * far_shift


def test_revealed_region_is_filled_with_background_not_stretched_foreground():
    w, h = 320, 200
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = (0, 200, 0)  # green background
    img[50:150, 100:180] = (255, 0, 0)  # red foreground box
    scene = parallax.build_scene(load_image(img), box_depth(w, h, 10.0, 2.0, (slice(50, 150), slice(100, 180))))
    frames = parallax.render(scene, CameraPath(pose(tx=0.3)[None], [60.0], w, h), holes=True)
    frame, holes = frames.images[0], frames.holes[0]
    revealed = holes > 127
    assert revealed.sum() > 500  # the box moved left and uncovered a strip
    assert (frame[revealed][:, 1] > 150).mean() > 0.95  # ... which shows the green background
    assert (frame[revealed][:, 0] < 60).mean() > 0.95  # ... and no red smeared into it


def test_behind_a_sharp_edge_the_background_keeps_its_own_colour_next_to_the_edge():
    """Depth that knows its edges: the ring around it is seen background, so the layer behind keeps the
    photo's colour there (where the nearer layer grows over it too, EDGE_GROW, as over pixels whose
    colour is nearer its own); only what the box hides is invented."""
    w, h = 320, 200
    img = texture(w, h, 3)
    box = (slice(50, 150), slice(100, 180))
    scene = parallax.build_scene(load_image(img), box_depth(w, h, 10.0, 2.0, box))
    back = scene.layers[0]
    hidden = np.zeros((h, w), bool)
    hidden[box] = True
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * parallax.EDGE_GROW + 1,) * 2)
    ring = (cv2.dilate(hidden.astype(np.uint8), disk) > 0) & ~hidden
    assert np.array_equal(back.rgba[ring][:, :3], img[ring]) and not back.filled[ring].any()
    assert np.array_equal(back.filled, hidden)


def test_behind_an_estimated_sharp_edge_the_grown_ring_is_filled():
    """An estimate's step can be as sharp as given depth's and still sit a pixel or two inside the outline
    (the classical estimator's cut-out): the ring the nearer layer grows over then holds the outline's own
    fringe, and kept on the layer behind it stays there as a doubled contour. So for estimated depth the
    layer behind fills the ring as it fills what the box hides; the same depth given as an array keeps it."""
    from dataclasses import replace

    w, h = 320, 200
    img = texture(w, h, 3)
    box = (slice(50, 150), slice(100, 180))
    given = box_depth(w, h, 10.0, 2.0, box)
    hidden = np.zeros((h, w), bool)
    hidden[box] = True
    grown = cut.grow_edges(img, hidden.astype(np.uint8), parallax.EDGE_GROW) > 0
    assert grown.sum() > hidden.sum() + 100  # the box grows over part of the ring (where the colour says)
    back = parallax.build_scene(load_image(img), replace(given, estimator="classical")).layers[0]
    assert np.array_equal(back.filled, grown)
    assert np.array_equal(parallax.build_scene(load_image(img), given).layers[0].filled, hidden)


def test_thin_pole_stays_attached_to_its_layer():
    w, h = 320, 200
    img = texture(w, h, 2)
    img[:, 160:162] = (255, 255, 255)  # a 2-px white pole
    scene = parallax.build_scene(load_image(img), box_depth(w, h, 10.0, 2.0, (slice(None), slice(160, 162))))
    t = 0.15
    frame = parallax.render(scene, CameraPath(pose(tx=t)[None], [60.0], w, h)).images[0]
    x = 160.5 - intrinsics(60.0, w, h)[0, 0] * t / 2.0
    col = frame[20:180, int(round(x)) - 1:int(round(x)) + 2].min(axis=2).max(axis=1)
    assert (col > 200).all()  # the pole is whole at its new place, every row


def test_dolly_scales_a_plane_as_predicted():
    w, h = 320, 240
    img = texture(w, h, 3)
    z = 4.0
    scene = parallax.build_scene(load_image(img), DepthMap(np.full((h, w), z, np.float32)))
    tz = 1.0  # forward by 1: magnification z / (z - tz)
    frame = parallax.render(scene, CameraPath(pose(tz=tz)[None], [60.0], w, h)).images[0]
    s = z / (z - tz)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    M = np.float32([[s, 0, cx - s * cx], [0, s, cy - s * cy]])
    expected = cv2.warpAffine(img, M, (w, h), flags=cv2.INTER_LINEAR)
    assert np.abs(frame.astype(int) - expected).mean() < 1.0
    # magnification stays sharp: no holes, no blocks (neighbouring pixels still differ smoothly)
    steps = np.abs(np.diff(frame.astype(int), axis=1)).max()
    assert steps <= np.abs(np.diff(img.astype(int), axis=1)).max()


def test_zoom_by_fov_and_other_aspect_output_size(astronaut):
    photo = load_image(astronaut)
    scene = parallax.build_scene(photo, DepthMap(np.full((512, 512), 3.0, np.float32)))
    path = CameraPath(np.repeat(pose()[None], 2, 0), [60.0, 30.0], 320, 180, source_fov_deg=60.0)
    frames = parallax.render(scene, path)
    assert frames.images.shape == (2, 180, 320, 3)
    # Same centre, the output's focal length over the photo's: 0.625 at 60 degrees, x tan30/tan15 at 30.
    for i, fov in enumerate((60.0, 30.0)):
        s = (320 / 2) / math.tan(math.radians(fov / 2)) / ((512 / 2) / math.tan(math.radians(30)))
        M = np.float32([[s, 0, 159.5 - s * 255.5], [0, s, 89.5 - s * 255.5]])
        expected = cv2.warpAffine(astronaut, M, (320, 180), flags=cv2.INTER_LINEAR)
        assert np.abs(frames.images[i].astype(int) - expected).mean() < 1.0


def test_circle_loop_closes():
    w, h = 256, 160
    img = texture(w, h, 4)
    depth = box_depth(w, h, 6.0, 2.0, (slice(40, 120), slice(80, 170)))
    settings = schema.RenderSettings(preset="circle", strength=1.0, seed=5, duration=1.0, fps=24)
    path = camera.preset_path("circle", depth, settings)
    assert path.loop and path.num_frames == 24
    frames = parallax.render(parallax.build_scene(load_image(img), depth), path).images
    diffs = [np.abs(frames[i + 1].astype(int) - frames[i]).mean() for i in range(len(frames) - 1)]
    wrap = np.abs(frames[0].astype(int) - frames[-1]).mean()
    assert wrap <= max(diffs) * 1.05 and wrap > 0  # the frame after the last is the first
    assert np.array_equal(frames[0], img)


def test_same_seed_same_frames_different_seed_different():
    w, h = 192, 128
    img = texture(w, h, 5)
    depth = box_depth(w, h, 5.0, 1.5, (slice(30, 100), slice(60, 130)))
    scene = parallax.build_scene(load_image(img), depth)

    def take(seed):
        s = schema.RenderSettings(preset="orbit", strength=0.8, seed=seed, duration=0.5, fps=12)
        return parallax.render(scene, camera.preset_path("orbit", depth, s)).images

    a, b, c = take(1), take(1), take(2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_scene_split_where_depth_jumps_only():
    img = load_image(np.zeros((100, 200, 3), np.uint8))
    z = np.full((100, 200), 4.0, np.float32)
    z[:, 100:] = 2.0
    (t,) = parallax.build_scene(img, DepthMap(z)).thresholds
    assert math.exp(-t) == pytest.approx(math.sqrt(8), rel=0.02)  # halfway in log-disparity
    slope = np.tile(np.linspace(3, 6, 200, dtype=np.float32), (100, 1))
    assert parallax.build_scene(img, DepthMap(slope)).thresholds == ()


def test_depth_of_other_size_is_resampled_with_notice(astronaut):
    scene_depth = DepthMap(np.full((256, 256), 3.0, np.float32))
    resized = scene_depth.resized((512, 512))
    assert resized.size == (512, 512) and "resampled" in resized.notices[0]
    scene = parallax.build_scene(load_image(astronaut), scene_depth)
    assert scene.size == (512, 512)


def test_bad_max_layers():
    with pytest.raises(InputError, match="max_layers"):
        parallax.build_scene(load_image(np.zeros((8, 8, 3), np.uint8)), DepthMap(np.ones((8, 8), np.float32)),
                             max_layers=0)


def test_revealed_background_keeps_its_texture():
    """The strip a moving camera uncovers shows the background's grain, not a smooth smear."""
    w, h = 320, 200
    img = texture(w, h, 5)
    rng = np.random.default_rng(5)
    img = np.clip(img.astype(int) + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8)
    box = (slice(50, 150), slice(100, 180))
    img[box] = (230, 30, 30)
    scene = parallax.build_scene(load_image(img), box_depth(w, h, 10.0, 2.0, box))
    frames = parallax.render(scene, CameraPath(pose(tx=0.3)[None], [60.0], w, h), holes=True)
    frame, revealed = frames.images[0], frames.holes[0] > 127
    g = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    band = (cv2.GaussianBlur(g, (0, 0), 1.0) - cv2.GaussianBlur(g, (0, 0), 2.0)) ** 2
    inner = cv2.erode(revealed.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    ring = (cv2.dilate(revealed.astype(np.uint8), np.ones((15, 15), np.uint8)) > 0) & ~revealed
    red = (np.abs(frame.astype(int) - (230, 30, 30)).max(axis=2) < 40)
    ring &= ~red  # the background around it, not the box
    assert inner.sum() > 500
    assert band[inner].mean() / band[ring].mean() > 0.5  # a smooth blend scores ~0.06
    natural = (np.abs(img.astype(int) - (230, 30, 30)).max(axis=2) < 40)[:, :90].mean()  # the grain's own
    assert red[inner].mean() < natural + 0.01  # and none of the box copied into it


def test_bad_reveal_band():
    img = load_image(np.zeros((20, 30, 3), np.uint8))
    with pytest.raises(InputError, match="reveal_px"):
        parallax.build_scene(img, DepthMap(np.ones((20, 30), np.float32)), reveal_px=-1)
