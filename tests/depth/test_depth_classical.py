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


def test_sky_inside_the_cut_out_goes_back_to_the_sky():
    """Known answer: GrabCut's subject (a tower on a pad) runs on up into the sky just below where the sky
    test stops looking (SKY_LOWEST), a block with a flat top; the part of it that looks like sky and joins
    the sky through sky-like pixels is sky again; the tower and the ground stay."""
    from pipelines.depth.sky import _sky_under_subject

    h, w = 60, 80
    rgb = np.zeros((h, w, 3), np.float32)
    rgb[:] = (0.25, 0.35, 0.6)  # an even dusk sky
    rgb[45:] = (0.3, 0.2, 0.1)  # brown ground
    rgb[10:45, 36:42] = (0.9, 0.9, 0.85)  # a white tower
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)
    sky = np.zeros((h, w), bool)
    sky[:35] = True
    sky[10:35, 34:44] = False
    subject = np.zeros((h, w), bool)
    subject[10:60, 36:42] = True
    subject[35:60, 30:70] = True  # the block: sky from row 35 to 45, then the ground
    sky2, subject2 = _sky_under_subject(sky, subject, lab)
    # All of it but the pixel against the tower or the ground (its colour, blurred, is theirs).
    block = np.zeros((h, w), bool)
    block[35:44, 43:70] = True
    block[35:44, 30:35] = True
    assert np.array_equal(subject2, subject & ~block)
    assert np.array_equal(sky2, sky | block)


def test_rocket_sky_above_the_clouds_is_sky():
    """Beside the rocket, just above the clouds, the dusk sky had the launch pad's depth (0.39 mean, 0.90
    at most): GrabCut's cut-out of the pad ran up into it, and it moved with the rocket as a faint box."""
    from skimage import data

    rel = estimate_relative(data.rocket())
    assert rel[300:335, 345:395].max() < 0.05
    assert rel[360:427, 300:400].mean() > 0.7  # the pad is still near


def test_a_wide_subject_in_front_of_a_bright_backdrop_keeps_its_outline():
    from pipelines.depth.subject import _attach_standing

    sky = np.zeros((60, 80), bool)
    sky[:40] = True
    subject = np.zeros((60, 80), bool)
    subject[15:60, 20:60] = True  # a head and shoulders, half the frame wide
    sky[13:40, 18:62] = False  # the backdrop's rim around it, which the sky test leaves out
    assert (_attach_standing(subject, sky) == subject).all()


def test_no_ring_of_in_between_depth_around_a_thin_subject():
    """The rocket against an even dusk sky: the depth steps from the rocket to the sky at the rocket's
    outline. A guided filter of the depth itself left a ramp about 20 px wide on either side (0.49 down
    to 0 across x 335-357 on row 200, 0.22 still at x 345), which the layer split turned into a ring
    sliding at its own speed."""
    from skimage import data

    rel = estimate_relative(data.rocket())
    assert rel[150:250, 340:360].max() < 0.05  # the sky right of the rocket
    assert rel[150:250, 282:302].max() < 0.05  # and left of it
    assert rel[150:250, 315:328].min() > 0.7  # the rocket's body


def test_regions_upsample_gives_each_pixel_one_regions_depth():
    """Known answer: a vertical bar (the subject, depth 0.8) in a sky (0) over ground (0.3), at 1/4 size,
    brought to full size with the photo's colour edges: away from the outline (2 px) every pixel has
    exactly its own region's depth, none a blend, and the outline follows the photo's edge, which lies
    2 px (half a working pixel) off the region mask's edge."""
    from pipelines.depth.classical import _regions, _upsample_regions

    H, W, s = 160, 240, 4
    pixels = np.zeros((H, W, 3), np.uint8)
    pixels[:] = (40, 60, 120)  # sky
    pixels[100:] = (90, 80, 60)  # ground
    pixels[:, 98:122] = (230, 230, 220)  # the bar, full height
    sky = np.zeros((H // s, W // s), bool)
    sky[:25] = True
    subject = np.zeros_like(sky)
    subject[:, 24:30] = True  # columns 96-119 at full size: the photo's bar is 98-121
    sky &= ~subject
    rel = np.where(subject, 0.8, np.where(sky, 0.0, 0.3)).astype(np.float32)
    small = cv2.resize(pixels, (W // s, H // s), interpolation=cv2.INTER_AREA)
    out = _upsample_regions(pixels, small.astype(np.float32) / 255.0, rel, _regions(sky, subject), r=2)
    assert out.shape == (H, W)
    bar = np.zeros((H, W), bool)
    bar[:, 98:122] = True
    away = cv2.erode(bar.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    outside = cv2.dilate(bar.astype(np.uint8), np.ones((5, 5), np.uint8)) == 0
    assert np.abs(out[away] - 0.8).max() < 0.01
    sky_full = outside.copy()
    sky_full[96:] = False
    assert np.abs(out[sky_full]).max() < 0.01
    ground_full = outside.copy()
    ground_full[:104] = False
    assert np.abs(out[ground_full] - 0.3).max() < 0.01


def test_the_sky_grows_up_to_the_outlines_standing_in_it():
    """The sky test leaves a band around what stands in the sky; pixels of the sky's colour in that band
    join it, the thing itself (another colour) and the subject never do."""
    from pipelines.depth.sky import SKY_GROW, _grow_sky

    h, w = 60, 80
    pixels = np.zeros((h, w, 3), np.float32)
    pixels[:] = (0.3, 0.4, 0.7)
    pixels[20:, 30:40] = (0.9, 0.9, 0.85)  # a tower
    pixels[30:, 60:70] = (0.9, 0.5, 0.2)  # the subject: also another colour
    lab = cv2.cvtColor(pixels, cv2.COLOR_RGB2Lab)
    sky = np.zeros((h, w), bool)
    sky[:45] = True
    sky[17:, 27:43] = False  # a 3-px band around the tower
    sky[27:, 57:73] = False  # and around the subject
    subject = np.zeros((h, w), bool)
    subject[30:, 60:70] = True
    out = _grow_sky(sky, lab, keep_out=subject)
    assert (out >= sky).all()
    # The band, but for the pixel next to the tower (its colour is a blend of the two).
    assert out[17:19, 30:40].all() and out[20:45, 27:29].all() and out[20:45, 41:43].all()
    assert not out[20:, 30:40].any() and not (out & subject).any()
    assert out[27:29, 60:70].all()  # the band above the subject is sky
    assert 3 <= SKY_GROW


def test_structure_hugging_a_narrow_subject_joins_it_whatever_it_connects_to():
    """A gantry along a rocket's flank is part of one large structure that also reaches far away (too
    large to join whole): the part within ATTACH_HUG of the subject joins, the rest does not. A launch pad
    just above the horizon does not make the rocket a wide subject."""
    from pipelines.depth.subject import ATTACH_HUG, _attach_standing

    h, w = 80, 120
    sky = np.zeros((h, w), bool)
    sky[:60] = True
    subject = np.zeros((h, w), bool)
    subject[10:80, 55:62] = True  # the rocket
    subject[55:80, 40:100] = True  # and its pad, wide, reaching just above the horizon
    gantry = np.zeros((h, w), bool)
    gantry[20:60, 62:64] = True  # along the flank
    gantry[20:22, 62:92] = True  # an arm reaching far off to a tower (too large to join)
    gantry[5:50, 92:120] = True
    sky &= ~subject & ~gantry
    out = _attach_standing(subject, sky)
    assert out[20:50, 62:64].all()  # the flank
    assert not out[5:50, 92:120].any()  # the tower far off
    assert (out & ~subject & gantry)[:, 62 + ATTACH_HUG + 1:].sum() == 0


def _tower_on_a_pad(h=80, w=120):
    """A narrow rocket on a wide pad below the horizon, a band at the horizon that neither the sky nor the
    subject takes, and a lattice tower standing in the sky on the pad: its bars are fine structure the
    working size averages into the sky, so the sky test takes them."""
    sky = np.zeros((h, w), bool)
    sky[:60] = True
    subject = np.zeros((h, w), bool)
    subject[10:80, 55:62] = True  # the rocket
    subject[62:80, 20:110] = True  # the pad, two rows below the horizon band
    sky &= ~subject
    fine = np.zeros((h, w), np.float32)
    fine[15:60, 85:95] = 6.0  # the tower's lattice
    fine[20:60, 5:8] = 6.0  # a mast standing apart, no subject under its foot
    return sky, subject, fine


def test_a_tower_standing_on_the_pad_joins_the_subject_whole():
    """Known answer: the tower joins from its top to the pad (its foot across the horizon band too), the
    mast with no subject below its foot does not, and nothing else changes; without the fine-structure
    cue nothing joins."""
    from pipelines.depth.subject import _attach_standing

    sky, subject, fine = _tower_on_a_pad()
    assert (_attach_standing(subject, sky) == subject).all()
    out = _attach_standing(subject, sky, fine=lambda: fine)
    tower = np.zeros_like(subject)
    tower[15:62, 85:95] = True  # the lattice and the band under it, down to the pad
    assert np.array_equal(out, subject | tower)


def test_a_tower_on_the_pad_too_large_to_be_part_of_the_subject_stays_apart():
    from pipelines.depth import subject as S

    sky, subject, fine = _tower_on_a_pad()
    fine[5:60, 70:115] = 6.0  # a wide block, larger than ATTACH_SHARE of the subject
    assert (S._attach_standing(subject, sky, fine=lambda: fine) == subject).all()


@pytest.mark.parametrize("height", [427, 1080])
def test_rocket_right_tower_is_at_one_depth_along_its_height(height):
    """The lattice tower right of the rocket (x 445-475 at the photo's size) was cut in two at the horizon:
    its foot in the launch pad's cut-out (0.9) or the ground's slope, its lattice at the sky's depth (0.0).
    Now it is one depth from the top of its pole to its foot, at the photo's size and at 1080p (where
    GrabCut's pad stops further below the tower's foot)."""
    from skimage import data

    img = data.rocket()
    s = height / img.shape[0]
    if height != img.shape[0]:
        img = cv2.resize(img, (round(img.shape[1] * s), height), interpolation=cv2.INTER_CUBIC)
    rel = estimate_relative(img)
    bands = [(130, 180), (200, 240), (260, 300), (340, 380), (390, 425)]
    near = [float(np.percentile(rel[round(a * s):round(b * s), round(445 * s):round(475 * s)], 90))
            for a, b in bands]
    assert min(near) > 0.8 and max(near) - min(near) < 0.1, near
