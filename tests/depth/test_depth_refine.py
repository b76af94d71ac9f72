"""Estimated depth edges snapped to the photo's colour edges."""
import cv2
import numpy as np

from pipelines.depth import refine


def photo_with_object(h=160, w=240, x=130, seed=0):
    rng = np.random.default_rng(seed)
    g = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.0)
    img = np.clip(128 + 15 * np.dstack([g, g * 0.8, g * 0.6]) / g.std(), 0, 255).astype(np.uint8)
    img[:, x:] = (img[:, x:] * 0.3).astype(np.uint8) + np.array([150, 150, 40], np.uint8)  # an object from x
    return img


def edge_column(rel):
    return float(np.median([int(np.argmax(row > 0.5)) for row in rel]))


def test_soft_depth_edge_a_few_pixels_off_snaps_onto_the_colour_edge():
    img = photo_with_object()
    rel = np.zeros(img.shape[:2], np.float32)
    rel[:, 126:] = 1.0  # the estimate puts the edge 4 px early ...
    rel = cv2.GaussianBlur(rel, (0, 0), 2.0)  # ... and soft
    out = refine.snap_edges(rel, img)
    assert abs(edge_column(rel) - 126) <= 1 and abs(edge_column(out) - 130) <= 1
    assert out[:, 133:].min() > 0.9 and out[:, :122].max() < 0.1  # both sides keep their depth


def test_smooth_depth_on_texture_stays_smooth():
    img = photo_with_object(x=240)  # texture only, no outline
    ys, xs = np.mgrid[0:160, 0:240].astype(np.float32)
    rel = (0.2 + 0.6 * ys / 160).astype(np.float32)  # a floor
    out = refine.snap_edges(rel, img)
    assert np.abs(out - rel).max() < 0.03


def test_without_a_colour_edge_the_step_stays():
    img = photo_with_object(x=240)
    rel = np.zeros(img.shape[:2], np.float32)
    rel[:, 120:] = 1.0
    out = refine.snap_edges(rel, img)
    assert abs(edge_column(out) - 120) <= 1


def test_flecks_of_the_backdrops_colour_on_an_object_do_not_become_specks_of_depth():
    # A textured object (a card printed with a photo) with flecks of the backdrop's colour just inside its
    # outline: deciding pixel by pixel sends each fleck back to the backdrop's depth, a speck of the object
    # that the warp tears off and leaves floating in the revealed strip.
    img = photo_with_object(x=128, seed=3)
    for y in range(4, 150, 12):
        img[y:y + 4, 129:132] = img[y:y + 4, 100:103]
    rel = np.zeros(img.shape[:2], np.float32)
    rel[:, 124:] = 1.0  # 4 px early and soft, as an estimate is
    rel = cv2.GaussianBlur(rel, (0, 0), 2.0)
    out = refine.snap_edges(rel, img)
    assert abs(edge_column(out) - 128) <= 1  # snapped onto the outline
    assert (out[:, 129:] < 0.5).sum() == 0  # and no fleck of the object went back to the backdrop's depth


def test_a_stripe_of_the_objects_colour_beyond_a_soft_edge_that_is_right_stays_behind():
    # The depth edge is where the colour edge is, only soft; beyond it the backdrop has a stripe of the
    # object's colour wider than the snap's reach: no outline within reach, so nothing moves there.
    img = photo_with_object()
    img[:, 108:130] = np.array([150, 150, 40], np.uint8) + (img[:, 108:130] * 0.3).astype(np.uint8)
    img[:, 130:] = (img[:, 130:].astype(np.int16) - 30).clip(0, 255).astype(np.uint8)  # a faint outline at x=130
    rel = np.zeros(img.shape[:2], np.float32)
    rel[:, 130:] = 1.0
    rel = cv2.GaussianBlur(rel, (0, 0), 2.0)
    out = refine.snap_edges(rel, img)
    assert np.array_equal(out[:, :128], rel[:, :128])  # the stripe keeps the backdrop's depth
    assert abs(edge_column(out) - 130) <= 1
