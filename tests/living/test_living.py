"""Living photos: known answers for the motion field, the loop, the still pixels, the renderer hook, and
one test per typed error of the MOTION.json contract."""
import json

import cv2
import numpy as np
import pytest
from PIL import Image

from pipelines.core.errors import InputError
from pipelines.living import Motion, Region, animate, load_motion, motion_from_regions
from pipelines.living.animate import FULL_SPEED
from pipelines.living.regions import find_region
from living_scenes import landscape


def _texture(h=160, w=240, seed=0) -> np.ndarray:
    """Smooth random texture (optical flow needs structure at a few pixels' scale)."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0, 255, (h // 4, w // 4, 3)).astype(np.float32)
    return np.clip(cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)


def _box_mask(h, w, box) -> np.ndarray:
    m = np.zeros((h, w), np.float32)
    x0, y0, x1, y1 = box
    m[y0:y1, x0:x1] = 1.0
    return m


def test_flow_moves_right_by_the_expected_pixels_per_frame():
    img = _texture()
    h, w = img.shape[:2]
    mask = _box_mask(h, w, (20, 20, 220, 140))
    fps, speed = 10, 0.5
    living = animate(img, Motion((Region(mask, "flow", 0.0, speed),)), num_frames=20, fps=fps)
    expected = speed * FULL_SPEED * w / fps  # 1.2 px per frame
    # Early in the take the forward term dominates; measure frame 1 -> 2 well inside the region.
    a = cv2.cvtColor(living.frame(1), cv2.COLOR_RGB2GRAY)
    b = cv2.cvtColor(living.frame(2), cv2.COLOR_RGB2GRAY)
    flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    inner = flow[50:110, 60:180]
    assert np.median(inner[..., 0]) == pytest.approx(expected, abs=0.15)
    assert abs(np.median(inner[..., 1])) < 0.1


def test_flow_loop_closes_and_seam_is_an_ordinary_step():
    img = _texture()
    h, w = img.shape[:2]
    mask = _box_mask(h, w, (20, 20, 220, 140))
    n = 24
    living = animate(img, Motion((Region(mask, "flow", 180.0, 0.4),)), num_frames=n, fps=12)
    frames = [living.frame(i).astype(np.float32) for i in range(n)]
    steps = [np.abs(frames[(i + 1) % n] - frames[i]).mean() for i in range(n)]
    # Frames sit half a step into their time: frame 0 is half a step from the photo, and the seam
    # (last -> first) is an ordinary step, within the range of the others (bench_living prints it against
    # the median on a real photo).
    assert np.abs(frames[0] - img).mean() < 0.75 * np.median(steps)
    assert steps[-1] <= max(steps[:-1])


def test_sway_returns_to_its_start():
    img = _texture()
    h, w = img.shape[:2]
    mask = _box_mask(h, w, (0, 60, 240, 160))
    n = 40
    living = animate(img, Motion((Region(mask, "sway", 0.0, 0.8),)), num_frames=n, fps=10, seed=3)
    mid = living.frame(n // 4).astype(np.int16)
    assert np.abs(mid - img).max() > 20  # it does move
    # The displacement is periodic with a whole number of cycles per take: frame n would be frame 0.
    osc_n = living._oscillation(n)
    assert np.abs(osc_n).max() < 1e-3
    last_step = np.abs(living.frame(n - 1).astype(np.int16) - img).mean()
    assert last_step < np.abs(mid - img).mean() / 3


@pytest.mark.parametrize("kind", ["flow", "sway", "ripple", "rise"])
def test_black_pixels_never_change(kind):
    img = _texture(seed=1)
    h, w = img.shape[:2]
    rng = np.random.default_rng(2)
    mask = cv2.GaussianBlur(_box_mask(h, w, (40, 30, 200, 130)), (0, 0), 6)
    mask[mask < 0.05] = 0.0
    mask[rng.uniform(size=mask.shape) < 0.02] = 0.0  # black specks inside the region stay put too
    living = animate(img, Motion((Region(mask.astype(np.float32), kind, 30.0, 1.0),)), num_frames=16, fps=8)
    still = mask == 0
    for i in range(16):
        f = living.frame(i)
        assert np.array_equal(f[still], img[still])
    assert np.abs(living.frame(8).astype(np.int16) - img)[~still].max() > 5


def test_regions_mix_and_seed_varies_the_phase():
    img = _texture()
    h, w = img.shape[:2]
    motion = Motion((Region(_box_mask(h, w, (0, 0, 240, 70)), "flow", 0.0, 0.5),
                     Region(_box_mask(h, w, (0, 90, 240, 160)), "sway", 0.0, 0.5)))
    a = animate(img, motion, 12, 6, seed=1).frame(5)
    b = animate(img, motion, 12, 6, seed=2).frame(5)
    assert np.array_equal(animate(img, motion, 12, 6, seed=1).frame(5), a)  # same seed, same frame
    assert not np.array_equal(a[90:], b[90:])  # the sway's phase follows the seed
    assert np.array_equal(a[70:90], img[70:90])  # between the regions nothing moves


def test_strokes_bend_the_flow():
    img = _texture()
    h, w = img.shape[:2]
    mask = _box_mask(h, w, (0, 0, 240, 160))
    down = ((120.0, 20.0), (120.0, 140.0))
    region = Region(mask, "flow", 0.0, 0.5, strokes=(down,))
    living = animate(img, Motion((region,)), 20, 10)
    a = cv2.cvtColor(living.frame(1), cv2.COLOR_RGB2GRAY)
    b = cv2.cvtColor(living.frame(2), cv2.COLOR_RGB2GRAY)
    flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    near = flow[60:100, 110:130]
    assert np.median(near[..., 1]) > 0.8 and abs(np.median(near[..., 0])) < 0.4


# ---------------------------------------------------------------------------------------- the renderer

def test_regions_move_inside_the_renderers_resample():
    """Through the camera's own resample (one remap per layer), a flowing region shows what the photo's own
    animation shows, and everything the region cannot reach is the camera-only frame, bit for bit."""
    from pipelines.depth import DepthMap
    from pipelines.core.photo import Photo
    from pipelines.living.warp import MovingLayers
    from pipelines.render import parallax
    from pipelines.render.camera import CameraPath

    img = _texture(120, 160)
    z = np.full((120, 160), 4.0, np.float32)
    z[70:110, 60:100] = 1.5  # a near box below the region: its own layer
    scene = parallax.build_scene(Photo(img), DepthMap(z=z))
    assert len(scene.layers) == 2
    n = 6
    living = animate(img, Motion((Region(_box_mask(120, 160, (0, 0, 160, 50)), "flow", 0.0, 0.6),)), n, 6)
    still = CameraPath(np.repeat(np.eye(4)[None], n, axis=0), 60.0, 160, 120)
    frames = [f.image for f in parallax.iter_frames(scene, still, workers=1, moving=MovingLayers(living, scene))]
    for i in (1, 3, 5):
        inner = np.abs(frames[i][12:36, 24:136].astype(int) - living.frame(i)[12:36, 24:136]).mean()
        step = np.abs(living.frame(i + 1 if i < n - 1 else 0).astype(int) - living.frame(i))[12:36, 24:136].mean()
        # The same motion, to a fraction of one frame's step (the offsets are interpolated between the grid's
        # nodes, and the region's edge is held still a node spacing further in).
        assert inner < 0.35 * step
        assert np.abs(frames[i][:40].astype(int) - img[:40]).mean() > 5  # and it does move
        assert np.array_equal(frames[i][52:], img[52:])  # the identity camera gives the photo exactly
    poses = np.repeat(np.eye(4)[None], n, axis=0)
    poses[:, 0, 3] = np.linspace(0.0, 0.2, n)
    moving = CameraPath(poses, 60.0, 160, 120)
    live = list(parallax.iter_frames(scene, moving, workers=2, moving=MovingLayers(living, scene)))
    plain = list(parallax.iter_frames(scene, moving, workers=1))
    for a, b in zip(live[1:], plain[1:]):
        assert np.array_equal(a.image[60:], b.image[60:])  # the near box and the ground: as without motion
        assert not np.array_equal(a.image[:40], b.image[:40])


def test_still_camera_take_is_exact_outside_the_regions(tmp_path):
    from pipelines.depth import DepthMap
    from pipelines.core.photo import Photo
    from pipelines.core.schema import RenderSettings
    from pipelines.render.take import render_take

    img = _texture(96, 128)
    mask = _box_mask(96, 128, (0, 0, 128, 40))
    motion = Motion((Region(mask, "flow", 0.0, 0.6),))
    z = np.linspace(2, 6, 96, dtype=np.float32)[:, None].repeat(128, 1)
    settings = RenderSettings(strength=0.0, duration=1.0, fps=12)
    take = render_take(Photo(img), DepthMap(z=z), settings, frames_dir=tmp_path / "f", video=tmp_path / "t.mp4",
                       motion=motion)
    frames = [np.array(Image.open(p)) for p in sorted((tmp_path / "f").glob("*.png"))]
    assert len(frames) == 12 and take.path.loop
    for f in frames:
        assert np.array_equal(f[40:], img[40:])
    assert np.abs(frames[6][:40].astype(int) - img[:40]).max() > 10
    # The recipe records the motion as a MOTION.json body that loads again, with its masks beside the take.
    recipe = json.loads((tmp_path / "t.mp4.json").read_text())
    again = load_motion(recipe["motion"], (128, 96), base_dir=tmp_path)
    assert np.array_equal(again.regions[0].mask, mask) and again.regions[0].type == "flow"
    # A mask changed after the take is refused by its recorded hash.
    Image.fromarray(np.zeros((96, 128), np.uint8) + 255).save(tmp_path / recipe["motion"]["regions"][0]["mask"])
    with pytest.raises(InputError, match="regions.0.mask.*not the mask this take was made with"):
        load_motion(recipe["motion"], (128, 96), base_dir=tmp_path)


# ------------------------------------------------------------------------------------ regions by words

def test_sky_and_water_are_found_in_a_landscape():
    img = landscape()
    sky = find_region(img, "clouds")
    water = find_region(img, "lake")
    assert sky.mask is not None and sky.mask[:80].mean() > 0.9 and sky.mask[100:].max() == 0
    assert water.mask is not None and water.mask[150:].mean() > 0.8 and water.mask[:120].max() == 0
    assert "found the lake" in water.note
    steam = find_region(img, "steam")
    assert steam.mask is None and steam.note == "paint the steam to animate it"


def test_no_water_without_a_horizon(coffee):
    found = find_region(coffee, "water")
    assert found.mask is None and found.note.startswith("paint the water")


# -------------------------------------------------------------------------------------- typed errors

def _write_mask(path, h=40, w=60, value=255):
    Image.fromarray(np.full((h, w), value, np.uint8)).save(path)


def _spec(tmp_path, **region):
    body = {"regions": [{"mask": "m.png", "type": "flow", "direction_deg": 0, "speed": 0.5, **region}]}
    (tmp_path / "motion.json").write_text(json.dumps(body))
    return tmp_path / "motion.json"


def test_loads_and_resizes_a_mask_with_a_notice(tmp_path):
    _write_mask(tmp_path / "m.png", 80, 120)
    motion = load_motion(_spec(tmp_path), (60, 40))
    assert motion.regions[0].mask.shape == (40, 60) and "resized from 120x80" in motion.notices[0]


@pytest.mark.parametrize("region, value, words", [
    ({}, 0, "all black"),
    ({"type": "spin"}, 255, "regions.0.type"),
    ({"speed": 1.5}, 255, "regions.0.speed"),
    ({"mask": "missing.png"}, 255, "not found"),
])
def test_bad_regions_name_the_field(tmp_path, region, value, words):
    _write_mask(tmp_path / "m.png", value=value)
    with pytest.raises(InputError, match=words):
        load_motion(_spec(tmp_path, **region), (60, 40))


def test_mask_of_another_aspect_is_refused(tmp_path):
    _write_mask(tmp_path / "m.png", 40, 40)
    with pytest.raises(InputError, match="regions.0.mask.*another aspect ratio"):
        load_motion(_spec(tmp_path), (60, 40))


def test_more_than_four_regions_is_refused():
    mask = np.ones((10, 10), np.float32)
    with pytest.raises(InputError, match="at most 4"):
        motion_from_regions([{"mask": mask, "type": "flow"}] * 5, (10, 10))


def test_words_move_what_they_find_and_ask_to_paint_the_rest():
    from pipelines.living.regions import motion_from_words
    from pipelines.studio.prompt import parse_prompt

    img = landscape()
    motion, lines = motion_from_words(img, parse_prompt("clouds drift to the left while steam rises").actions)
    (sky,) = motion.regions
    assert (sky.type, sky.direction_deg, sky.name) == ("flow", 180.0, "sky") and sky.mask[:80].mean() > 0.9
    assert lines[0].startswith("clouds: flow to the left, speed 0.50: found the sky")
    assert lines[1] == "steam: rise up, speed 0.50: paint the steam to animate it"
    assert motion_from_words(img, parse_prompt("steam rises").actions)[0] is None


def test_studio_takes_move_the_painted_group_only(tmp_path):
    from pipelines.depth import DepthMap
    from pipelines.studio.facade import Studio
    from pipelines.studio.stages import Stages

    img = landscape()
    studio = Studio(output_root=tmp_path, stages=Stages(depth=lambda p: DepthMap(z=np.full(p.pixels.shape[:2], 3.0,
                                                                                           np.float32))))
    mask = np.zeros(img.shape[:2], np.uint8)
    mask[130:] = 255
    result = studio.generate(img, strength=0.0, seed=4, duration=1.0, fps=8, aspect="photo", long_side=320,
                             motion=[{"mask": mask, "type": "ripple", "speed": 1.0, "name": "lake"}])
    (take,) = result.takes
    assert take.recipe.loop and take.recipe.motion.regions[0].type == "ripple"
    assert "moving: lake: shimmers, speed 1.00, 46 % of the photo" in result.notices
    import av

    with av.open(str(take.video)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    still = np.abs(np.stack(frames)[:, :120].astype(int) - frames[0][:120]).max()
    moving = np.abs(np.stack(frames)[:, 140:].astype(int) - frames[0][140:]).max()
    assert still <= 3 < 20 < moving  # the codec's noise above, the shimmer below


def test_flow_seam_on_a_banded_sky_is_an_ordinary_step():
    """A smooth sky rounded to 8 bits (its banding moves with the nearest pixel) flowing a little over 1 px
    per frame: frames symmetric about the photo would put the seam's two frames on opposite pixels (the
    rounding's double step); the measured phase makes the seam one ordinary step."""
    h, w = 96, 240
    rng = np.random.default_rng(4)
    clouds = cv2.resize(rng.uniform(-6, 6, (6, 15)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    sky = np.clip(150 + np.linspace(0, 20, w, dtype=np.float32)[None] + clouds, 0, 255).round().astype(np.uint8)
    img = np.dstack([sky] * 3)
    mask = np.ones((h, w), np.float32)
    n, fps = 36, 12
    living = animate(img, Motion((Region(mask, "flow", 0.0, 0.5333),)), num_frames=n, fps=fps)
    frames = [living.frame(i).astype(np.float32) for i in range(n)]
    inner = (slice(10, h - 10), slice(30, w - 30))
    steps = [float(np.abs(frames[(i + 1) % n][inner] - frames[i][inner]).mean()) for i in range(n)]
    assert living.phase != 0.5
    assert steps[-1] <= np.median(steps[:-1])


@pytest.mark.parametrize("size", [(1920, 1080), (960, 540), (160, 120), (3840, 2160)])
def test_upsample_over_a_rectangle_is_the_renderers_own_with_a_power_of_two_step(size):
    """With a power-of-two node step a layer's maps are built over its roi alone: the same maps as the
    renderer's full upsample, cropped, bit for bit (a last-bit difference would be a 1/32 px step, a grey
    level on a sharp edge)."""
    from pipelines.living.warp import upsample_rect
    from pipelines.render import parallax

    w, h = size
    grid = parallax._Grid.for_size(w, h)
    assert grid.step & (grid.step - 1) == 0
    rng = np.random.default_rng(w)
    nodes = np.stack([grid.xs, grid.ys], -1) * rng.uniform(0.9, 1.1, (grid.ny, grid.nx, 1))
    nodes = (nodes + rng.normal(0, 3, nodes.shape)).astype(np.float32)
    full = grid.upsample(nodes, w, h)
    for _ in range(8):
        x0, y0 = int(rng.integers(0, w // 2)), int(rng.integers(0, h // 2))
        x1, y1 = int(rng.integers(x0 + 1, w + 1)), int(rng.integers(y0 + 1, h + 1))
        assert np.array_equal(upsample_rect(grid, nodes, (x0, y0, x1, y1)), full[y0:y1, x0:x1])
    assert np.array_equal(upsample_rect(grid, nodes, (0, 0, w, h)), full)
