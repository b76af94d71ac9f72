"""Where scenes are cut into layers: only at occlusion edges, snapped to the photo, without speckles."""
import math

import cv2
import numpy as np

from pipelines.core.photo import load_image
from pipelines.depth import DepthMap
from pipelines.render import cut, parallax


def grain(h, w, seed=0):
    """Fine, even texture (like fur or a table top): gradients everywhere, no outline."""
    rng = np.random.default_rng(seed)
    g = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.0)
    g = 128 + 15 * g / g.std()
    return np.clip(np.dstack([g, g * 0.8, g * 0.6]), 0, 255).astype(np.uint8)


def box_scene(h, w, seed, box, colour, far=8.0, near=2.0):
    """A grain photo with a flat-coloured box (y0, y1, x0, x1), and its z-depth: the box at ``near``."""
    y0, y1, x0, x1 = box
    img = grain(h, w, seed)
    img[y0:y1, x0:x1] = colour
    z = np.full((h, w), far, np.float32)
    z[y0:y1, x0:x1] = near
    return img, z


def labels_for(img, log_disp, max_layers=4):
    return cut.layer_labels(img, log_disp, cut.split_thresholds(log_disp, max_layers))


def test_a_lump_without_a_colour_edge_is_not_cut():
    h, w = 160, 240
    img = grain(h, w)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    # A steep bump in the estimated depth of a flat, evenly textured wall (a ring in a face, a lump).
    bump = 0.5 / (1 + np.exp(-(14 - np.hypot(xs - 120, ys - 80)) / 2.5))
    log_disp = np.log(0.25).astype(np.float32) + bump.astype(np.float32)
    assert cut.split_thresholds(log_disp, 4)  # the jump is there ...
    assert (labels_for(img, log_disp) == 0).all()  # ... but backed by nothing in the photo: no cut


def test_one_soft_edge_gives_one_cut():
    h, w = 160, 240
    img = grain(h, w, 1)
    img[:, 126:] = (img[:, 126:] * 0.3).astype(np.uint8) + np.array([150, 150, 40], np.uint8)  # an object
    z = np.full((h, w), 6.0, np.float32)
    z[:, 126:] = 2.0
    disp = cv2.GaussianBlur(1.0 / z, (0, 0), 2.0)  # a ramp that crosses several candidate thresholds
    labels = labels_for(img, np.log(disp))
    assert len(np.unique(labels)) == 2  # one cut, no ring of in-between layers
    rows_edge = [int(np.argmax(row > 0)) for row in labels]
    assert abs(float(np.median(rows_edge)) - 125.5) <= 1.5  # in the middle of the ramp


def test_speckles_along_an_edge_join_the_layer_around_them():
    h, w = 120, 200
    img, z = box_scene(h, w, 2, (30, 90, 60, 140), (200, 40, 40))
    rng = np.random.default_rng(3)
    specks = rng.integers(0, 2, (h, w)).astype(bool) & (cv2.dilate((z < 5).astype(np.uint8), np.ones((9, 9))) > 0)
    z[specks & (z > 5)] = 2.0  # a few pixels of the box's depth left outside it
    labels = labels_for(img, np.log(1.0 / z))
    n, _ = cv2.connectedComponents((labels > 0).astype(np.uint8))
    assert n == 2  # one near piece, no flecks
    near = labels > 0
    assert near[32:88, 62:138].all() and not near[:, :50].any() and not near[:, 150:].any()


def test_thin_pole_stays_on_its_layer_and_slivers_of_a_soft_edge_join_the_near_layer():
    h, w = 160, 240
    img = grain(h, w, 4)
    img[:, 60:63] = 250  # a 3-px pole
    img[40:120, 140:200] = (30, 30, 200)
    z = np.full((h, w), 10.0, np.float32)
    z[:, 60:63] = 3.0
    z[40:120, 140:200] = 2.0
    disp = 1.0 / z
    soft = cv2.GaussianBlur(disp, (0, 0), 1.5)
    disp[:, 100:] = soft[:, 100:]  # the box's edge ramps across every threshold
    labels = labels_for(img, np.log(disp))
    assert (labels[10:150, 61] > 0).all()
    box = labels[30:130, 130:210]
    assert len(np.unique(box[box > 0])) == 1  # no ring of an in-between layer around the box


def test_a_far_glow_is_not_cut():
    h, w = 120, 200
    img = grain(h, w, 5)
    rel = np.zeros((h, w), np.float32)
    rel[:, 100:] = 0.04  # a faint step in the far distance (haze), a large ratio of a small disparity
    rel[40:80, 20:60] = 1.0  # and a near object
    d = DepthMap.from_relative(rel)
    ts = cut.split_thresholds(np.log(1.0 / d.z), 4)
    assert len(ts) == 1 and math.exp(ts[0]) > 0.2


def test_scene_from_soft_depth_has_no_tear_inside_the_object():
    """A box with soft, lumpy estimated depth, moved sideways: its inside stays in one piece."""
    h, w = 160, 240
    img, z = box_scene(h, w, 6, (40, 120, 80, 160), (220, 200, 60))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    disp = cv2.GaussianBlur(1.0 / z, (0, 0), 3.0) * (1 + 0.3 * np.sin(xs / 9.0) * (z < 5))
    scene = parallax.build_scene(load_image(img), DepthMap((1.0 / disp).astype(np.float32)))
    nearest = scene.layers[-1].rgba[..., 3] > 0
    assert len(scene.layers) == 2
    assert nearest[40:120, 80:160].all()  # the whole object on one layer, however soft and lumpy its depth
    assert not nearest[:, :70].any() and not nearest[:, 170:].any()


def test_a_nearer_layer_grows_over_its_own_outline_and_not_over_the_background():
    """Labels that stop 2 px inside a red box's colour edge (an estimate's lag): the red outline joins
    the box. Labels on the colour edge: the grain around the box stays behind (a blind grow would carry
    a ring of it along with the box, a halo wherever the box moves)."""
    h, w = 120, 160
    img, _ = box_scene(h, w, 1, (40, 80, 50, 110), (220, 30, 30))
    lagging = np.zeros((h, w), np.uint8)
    lagging[42:78, 52:108] = 1
    grown = cut.grow_edges(img, lagging, 2)
    assert (grown[40:80, 50:110] == 1).all()  # the whole box, its outline included
    assert grown.sum() == 40 * 60  # ... and nothing of the grain

    exact = np.zeros((h, w), np.uint8)
    exact[40:80, 50:110] = 1
    assert np.array_equal(cut.grow_edges(img, exact, 2), exact)


def test_grow_edges_takes_a_soft_outline_only_as_far_as_its_colour_reaches():
    """An anti-aliased outline (a pixel halfway between the box's colour and the grain's) goes with the
    side it is nearer to, and a grow never jumps over a pixel it did not take."""
    h, w = 120, 160
    img, _ = box_scene(h, w, 2, (40, 80, 50, 110), (220, 30, 30))
    img[40:80, 49] = (190, 50, 45)  # nearer the red than the grain
    img[40:80, 110] = (135, 95, 75)  # nearer the grain
    img[40:80, 111] = (220, 30, 30)  # red again, past a pixel that stays behind
    labels = np.zeros((h, w), np.uint8)
    labels[40:80, 50:110] = 1
    grown = cut.grow_edges(img, labels, 2)
    assert (grown[40:80, 49] == 1).all() and (grown[40:80, 48] == 0).all()
    assert (grown[40:80, 110:112] == 0).all()
def test_a_blurred_step_moves_whole_with_its_object():
    # A card at z=2 on a wall at z=8, its depth blurred (a soft estimate) but centred on the outline.
    h, w = 360, 640
    img, z = box_scene(h, w, 3, (100, 260, 200, 440), (200, 60, 40))
    disp = cv2.GaussianBlur((1.0 / z).astype(np.float32), (0, 0), 4.0)
    log_disp = np.log(disp)
    steps = cut.sharp_steps(log_disp)
    labels = cut.layer_labels(img, log_disp, cut.split_thresholds(log_disp, 4), sharp=steps)
    ramps = cut.soft_edges(labels, log_disp, steps)
    assert ramps is not None and ramps[180, 198] and not ramps[180, 300] and not ramps[180, 100]

    def fields():
        scene = parallax.build_scene(load_image(img), DepthMap((1.0 / disp).astype(np.float32)))
        card, wall = scene.layers[-1].disparity, scene.layers[0].disparity
        sy, sx = card.shape[0] / h, card.shape[1] / w
        return ([float(card[int(180 * sy), int(x * sx)]) for x in range(198, 204)],
                [float(wall[int(180 * sy), int(x * sx)]) for x in range(192, 198)])

    # Each layer's surface runs on from its body: the card's outline moves with the card (disparity 1/2),
    # the wall beside it with the wall (1/8), where the blurred depth is between the two.
    card, wall = fields()
    assert all(abs(d - 0.5) < 0.11 for d in card) and all(abs(d - 0.125) < 0.02 for d in wall)
    # Fitted to the ramp instead, the outline lags (the known answer this guards against).
    no_ramps = cut.soft_edges
    try:
        cut.soft_edges = lambda *a: None
        card, wall = fields()
    finally:
        cut.soft_edges = no_ramps
    assert min(card) < 0.3 and max(wall) > 0.2


def test_a_ring_between_two_layers_on_a_ramp_goes_to_the_side_its_depth_is_nearer():
    # One soft edge that crossed two thresholds: far (0, disparity 0.1), a ring (1) one pixel wide, near
    # (2, disparity 0.5). The ramp's midpoint is sqrt(0.1 * 0.5) = 0.224 in log-disparity.
    disp = np.full((40, 40), 0.1, np.float32)
    disp[:, 20:] = 0.5
    disp[:20, 19], disp[20:, 19] = 0.2, 0.27
    log_disp = np.log(disp)
    labels = np.digitize(log_disp, [np.log(0.15), np.log(0.3)]).astype(np.uint8)
    assert (labels[:, 19] == 1).all()
    out = cut.settle_ramps(labels, log_disp, np.ones(labels.shape, bool))
    assert (out[:20, 19] == 0).all() and (out[20:, 19] == 2).all()  # farther half to the far side
    assert np.array_equal(out[:, :19], labels[:, :19]) and np.array_equal(out[:, 20:], labels[:, 20:])
    # Outside the ramps nothing moves.
    assert np.array_equal(cut.settle_ramps(labels, log_disp, np.zeros(labels.shape, bool)), labels)


def test_sharp_steps_and_short_soft_stretches_are_not_ramps():
    h, w = 180, 320
    img, z = box_scene(h, w, 4, (50, 130, 100, 220), (200, 60, 40))
    log_disp = np.log(1.0 / z).astype(np.float32)
    labels = labels_for(img, log_disp)
    assert cut.soft_edges(labels, log_disp, cut.sharp_steps(log_disp)) is None
    # A soft stretch far shorter than RAMP_LENGTH of the long side (a few pixels of an outline).
    soft = log_disp.copy()
    soft[60:66, 96:104] = cv2.GaussianBlur(log_disp, (0, 0), 3.0)[60:66, 96:104]
    assert cut.soft_edges(labels_for(img, soft), soft, cut.sharp_steps(soft)) is None
