"""The classical (weightless) estimator on synthetic scenes whose depth order is known."""
import cv2
import numpy as np
import pytest

from pipelines.depth.classical import estimate_relative, guided_coefficients


def _texture(h, w, seed, base, spread=60.0, blur=1.0):
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, spread, (h, w, 3)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), blur)
    return np.clip(np.asarray(base, np.float32) + noise, 0, 255)


def _disc_scene(h=240, w=320, centre=(160, 110), radius=55):
    bg = _texture(h, w, 0, (90, 110, 140))
    fg = _texture(h, w, 1, (220, 120, 40))
    yy, xx = np.mgrid[0:h, 0:w]
    disc = (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 < radius**2
    img = np.where(disc[:, :, None], fg, bg).astype(np.uint8)
    return img, disc


def _ring(mask, inner, outer):
    k = lambda r: cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))  # noqa: E731
    m = mask.astype(np.uint8)
    return (cv2.dilate(m, k(outer)) > 0) & ~(cv2.dilate(m, k(inner)) > 0)


def test_output_shape_range_and_type():
    img, _ = _disc_scene(h=123, w=211, centre=(100, 60), radius=30)
    rel = estimate_relative(img)
    assert rel.shape == (123, 211) and rel.dtype == np.float32
    assert rel.min() == 0.0 and rel.max() == 1.0


@pytest.mark.parametrize("centre", [(160, 110), (110, 140)])
def test_textured_disc_comes_out_nearer_than_background(centre):
    img, disc = _disc_scene(centre=centre)
    rel = estimate_relative(img)
    inside = cv2.erode(disc.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    around = _ring(disc, 6, 30)
    assert rel[inside].mean() > rel[around].mean() + 0.2
    assert rel[inside].mean() > rel[~disc].mean() + 0.2
    # The occlusion edge sits on the disc's outline: depth steps up across it.
    just_in = _ring(~disc, 2, 5)
    just_out = _ring(disc, 2, 5)
    assert np.median(rel[just_in]) > np.median(rel[just_out]) + 0.15


def _ground_plane(h=240, w=320, horizon=70):
    """A checkered plane under a smooth sky, rendered in perspective (camera 1.5 m above it)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    f, cam_h = 300.0, 1.5
    below = yy > horizon + 0.5
    z = np.where(below, f * cam_h / np.maximum(yy - horizon, 0.5), 1e6)
    x = (xx - w / 2) * z / f
    checker = ((np.floor(x / 0.5) + np.floor(z / 0.5)) % 2).astype(np.float32)
    ground = np.stack([100 + 60 * checker, 120 + 40 * checker, 60 + 20 * checker], axis=2)
    ground += np.random.default_rng(2).normal(0, 8, ground.shape)
    sky = np.stack([150 + 0.2 * yy, 190 + 0.1 * yy, 250 + 0 * yy], axis=2)
    img = np.where(below[:, :, None], ground, sky)
    return np.clip(img, 0, 255).astype(np.uint8), horizon


def test_ground_plane_depth_is_monotonic_and_sky_is_farthest():
    img, horizon = _ground_plane()
    rel = estimate_relative(img)
    rows = rel[horizon + 8:].mean(axis=1)
    assert np.all(np.diff(rows) > -0.01), "nearer rows (lower in the frame) must not come out farther"
    assert rows[-1] - rows[0] > 0.5
    assert rel[: horizon - 8].mean() < 0.05  # the sky is the far plane


def test_sharp_subject_on_blurred_background_comes_out_near():
    h, w = 240, 320
    tex = _texture(h, w, 3, (120, 120, 120), spread=70.0, blur=0.6)
    bg = cv2.GaussianBlur(tex, (0, 0), 4.0)
    yy, xx = np.mgrid[0:h, 0:w]
    subject = ((xx - 170) / 60.0) ** 2 + ((yy - 130) / 80.0) ** 2 < 1.0
    img = np.where(subject[:, :, None], tex, bg).astype(np.uint8)
    rel = estimate_relative(img)
    inside = cv2.erode(subject.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert rel[inside].mean() > rel[_ring(subject, 6, 30)].mean() + 0.2


def test_tiny_and_flat_photos_give_a_handled_result():
    rel = estimate_relative(np.full((2, 2, 3), 7, np.uint8))
    assert rel.shape == (2, 2) and np.isfinite(rel).all()
    flat = estimate_relative(np.full((90, 160, 3), 128, np.uint8))
    assert flat.shape == (90, 160) and np.isfinite(flat).all()
    # No cue but the ground plane: bottom nearer than top.
    assert flat[-5:].mean() > flat[:5].mean()


def test_large_photo_is_handled_at_its_own_size():
    img = np.zeros((1080, 1920, 3), np.uint8)
    img[:, 960:] = 200
    rel = estimate_relative(img)
    assert rel.shape == (1080, 1920) and np.isfinite(rel).all()


def test_guided_filter_keeps_a_step_that_the_guide_shares():
    guide = np.zeros((40, 40, 3), np.float32)
    guide[:, 20:] = 1.0
    src = np.zeros((40, 40), np.float32)
    src[:, 18:] = 1.0  # the depth edge is 2 px off the photo's edge
    a, b = guided_coefficients(guide, src, r=4, eps=1e-4)
    out = np.einsum("hwc,hwc->hw", a, guide) + b
    # Snapped: the output steps where the photo does (columns 19 -> 20), not where the input did.
    assert (out[:, 20] - out[:, 19]).min() > 0.4
    assert (out[:, 18] - out[:, 17]).max() < 0.15
    assert out[:, 21:].min() > 0.9


def test_a_large_subject_is_a_close_up_only_where_its_outline_is_no_colour_edge():
    """The close-up decision by outline: a subject a third of the frame, outlined by a colour edge, stays
    a cut-out; the same outline drawn through one texture (GrabCut's cut through a cat's fur) is a
    close-up (one rounded surface)."""
    import cv2

    from pipelines.depth import subject as subject_rules

    h, w = 200, 300
    rng = np.random.default_rng(0)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.5)
    fur = np.clip(np.dstack([150 + 25 * grain, 120 + 20 * grain, 90 + 15 * grain]), 0, 255).astype(np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    subject = ((yy - 100) / 70.0) ** 2 + ((xx - 150) / 100.0) ** 2 < 1
    assert subject_rules.CLOSEUP_WEAK_SHARE <= subject.mean() < subject_rules.CLOSEUP_SHARE

    def lab(pixels):
        return cv2.cvtColor(pixels.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)

    outlined = fur.copy()
    outlined[~subject] = (outlined[~subject] * 0.4 + np.array([20, 60, 120])).astype(np.uint8)  # a blue wall
    assert not subject_rules._is_closeup(subject, lab(outlined))
    assert subject_rules._is_closeup(subject, lab(fur))


def test_portrait_person_in_front_of_the_wall(astronaut):
    rel = estimate_relative(astronaut)
    face = rel[90:150, 180:250]
    wall = rel[30:110, 310:350]  # backdrop between her hair and the shuttle model
    suit = rel[300:450, 60:250]
    assert face.mean() > wall.mean() + 0.3 and suit.mean() > wall.mean() + 0.3


def test_landscape_bottom_near_sky_far():
    from skimage import data

    rocket = data.rocket()  # dusk sky over a launch pad
    rel = estimate_relative(rocket)
    sky = rel[:120, 200:400]
    ground = rel[-30:, :]
    assert sky.max() < 0.1 and ground.mean() > 0.5


def _jpeg(pixels, quality):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=quality)
    return np.array(Image.open(buf))


@pytest.mark.parametrize("name, quality", [("chelsea", None), ("coffee", None), ("chelsea", 95)])
def test_close_up_is_one_rounded_surface_without_a_ring(name, quality):
    """A cat's head or a cup that fills the frame: no step (a ring, an island) inside it. The previous
    cut-out placement put a step of 0.57 (chelsea) and 0.82 (coffee) across 3 px inside the subject. The
    same photo uploaded as a JPEG gets a smaller GrabCut subject (0.32 of the frame for chelsea, under the
    close-up share) drawn through the cat's fur: its outline is no colour edge, so it is a close-up too."""
    from skimage import data

    pixels = getattr(data, name)()
    rel = estimate_relative(pixels if quality is None else _jpeg(pixels, quality))
    h, w = rel.shape
    inside = rel[int(0.3 * h):int(0.9 * h), int(0.15 * w):int(0.7 * w)]
    step = max(np.abs(inside[:, 3:] - inside[:, :-3]).max(), np.abs(inside[3:] - inside[:-3]).max())
    assert step < 0.25
    assert inside.mean() > np.median(rel)  # and it is nearer than the rest


def test_a_part_standing_in_the_sky_that_touches_the_subject_joins_it():
    from pipelines.depth.subject import _attach_standing

    sky = np.zeros((60, 80), bool)
    sky[:40] = True
    subject = np.zeros((60, 80), bool)
    subject[20:60, 30:40] = True  # a tower rising into the sky
    sky[20:40, 30:40] = False
    sky[12:20, 32:38] = False  # its tip, left out of the subject (in shadow)
    sky[10:40, 60:64] = False  # a pole standing apart
    out = _attach_standing(subject, sky)
    assert out[12:20, 32:38].all()
    assert not out[10:40, 60:64].any()
    assert (out & ~subject).sum() == 8 * 6


def test_rocket_nose_cone_stands_at_the_rocket_depth():
    from skimage import data

    rel = estimate_relative(data.rocket())
    # The cone's tip (rows 128-140 at x 322) must not sit at the sky's depth.
    assert rel[130:140, 318:326].mean() > 0.4
    assert rel[40:80, 300:340].max() < 0.1


def test_a_wide_subject_in_front_of_a_bright_backdrop_keeps_its_outline():
    from pipelines.depth.subject import _attach_standing

    sky = np.zeros((60, 80), bool)
    sky[:40] = True
    subject = np.zeros((60, 80), bool)
    subject[15:60, 20:60] = True  # a head and shoulders, half the frame wide
    sky[13:40, 18:62] = False  # the backdrop's rim around it, which the sky test leaves out
    assert (_attach_standing(subject, sky) == subject).all()
