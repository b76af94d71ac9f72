"""The textured fill behind edges, on pictures with known answers."""
import cv2
import numpy as np
import pytest

from pipelines.render.fill import reflect_fill


def band_energy(img, mask):
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    b = cv2.GaussianBlur(g, (0, 0), 1.0) - cv2.GaussianBlur(g, (0, 0), 2.0)
    return float((b[mask] ** 2).mean())


def noise(h, w, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(128, 40, (h, w, 3)), 0, 255).astype(np.uint8)


def test_horizon_runs_on_across_the_fill_and_texture_is_kept():
    h, w = 120, 200
    img = noise(h, w)
    img[60:63] = (250, 250, 250)  # a horizon line
    hidden = np.zeros((h, w), bool)
    hidden[:, 80:120] = True  # a foreground post hides a vertical band
    img[hidden] = (255, 0, 0)
    out, textured = reflect_fill(img, hidden, ~hidden, reach=30)
    assert textured[:, 80:120].all()  # 20 px from either side, within reach
    assert out[60:63, 80:120].min() >= 235  # the line continues at its height, not a blur (~140) ...
    assert out[56:59, 80:120].mean() < 150 and out[64:67, 80:120].mean() < 150  # ... and stays 3 px thick
    assert not (out[hidden] == (255, 0, 0)).all(axis=1).any()  # no foreground colour in the fill
    ratio = band_energy(out, hidden) / band_energy(out, ~hidden)
    assert 0.8 < ratio < 1.25  # the background's own grain, not a smear (a blend scores ~0.06)


def test_a_gradient_runs_on_under_the_texture():
    # A sky that brightens left to right and downwards, with grain; a post hides a band of it. The fill
    # continues the gradient (a mirrored copy of the colour turns it around: the strip left of the post's
    # middle copied darker sky, right of it brighter, with a step where they met).
    h, w = 120, 200
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    sky = 60 + 0.4 * xs + 0.3 * ys
    rng = np.random.default_rng(3)
    grain = cv2.GaussianBlur(rng.normal(0, 6, (h, w)).astype(np.float32), (0, 0), 0.7)
    img = np.clip(np.rint(np.dstack([sky + grain] * 3)), 0, 255).astype(np.uint8)
    hidden = np.zeros((h, w), bool)
    hidden[30:, 80:120] = True  # a post with its top at row 30
    out, textured = reflect_fill(img, hidden, ~hidden, reach=30)
    assert textured[hidden].all()
    err = out[..., 0].astype(np.float32) - sky
    assert abs(float(err[hidden].mean())) < 1.0  # no darker (or brighter) fill
    rows = err[40:, 80:120].mean(axis=0)  # the error across the band, column by column
    assert np.abs(rows).max() < 4.0  # the gradient runs on, no step in the middle (a mirror: -15 to +13)
    ratio = band_energy(out, hidden) / band_energy(out, ~hidden)
    assert 0.7 < ratio < 1.4  # and the grain is there


def test_only_source_pixels_are_copied():
    h, w = 100, 100
    img = noise(h, w, 1)
    hidden = np.zeros((h, w), bool)
    hidden[30:70, 30:70] = True
    fg_ring = np.zeros((h, w), bool)
    fg_ring[25:75, 25:75] = True
    fg_ring &= ~hidden
    img[fg_ring] = (0, 255, 0)  # foreground-coloured pixels around the hole are not a source
    out, _ = reflect_fill(img, hidden, ~hidden & ~fg_ring, reach=40)
    assert not (out[hidden] == (0, 255, 0)).all(axis=1).any()


def test_beyond_the_reach_a_smooth_blend_and_the_same_result_every_time():
    h, w = 100, 300
    img = noise(h, w, 2)
    hidden = np.zeros((h, w), bool)
    hidden[:, 50:250] = True
    out, textured = reflect_fill(img, hidden, ~hidden, reach=20)
    assert textured[:, 50:70].all() and textured[:, 230:250].all()
    assert not textured[:, 100:200].any()  # 50+ px from any edge: never revealed by this path
    again, _ = reflect_fill(img, hidden, ~hidden, reach=20)
    assert np.array_equal(out, again)
    assert np.array_equal(out[~hidden], img[~hidden])


def wall_and_stand():
    # A pale, grainy wall (surface 0) and a dark stand (surface 1) in its lower right; a post hides a band
    # that borders the wall on its left and, below row 60, the stand on its right.
    h, w = 120, 200
    rng = np.random.default_rng(4)
    img = np.clip(rng.normal(200, 8, (h, w, 3)), 0, 255)
    img[60:, 120:] = np.clip(rng.normal(20, 3, (60, 80, 3)), 0, 255)
    groups = np.zeros((h, w), np.uint8)
    groups[60:, 120:] = 1
    hidden = np.zeros((h, w), bool)
    hidden[:, 80:120] = True
    return img.astype(np.uint8), hidden, groups


def test_each_surface_runs_on_as_itself():
    img, hidden, groups = wall_and_stand()
    out, textured = reflect_fill(img, hidden, ~hidden, reach=30, groups=groups)
    assert textured[hidden].all()
    g = out.astype(np.float32).mean(axis=2)
    assert abs(g[:56, 80:120].mean() - 200) < 3  # the wall is wall up to the stand's top ...
    assert g[50:58, 102:120].min() > 165  # ... even right beside it, ...
    assert g[62:, 102:120].max() < 60  # ... the stand is stand, and the line between them runs on at row 60
    assert abs(g[62:, 80:100].mean() - 200) < 4  # the wall's side of the band below it stays wall
    assert g[62:, 92:100].min() > 165
    top = np.zeros_like(hidden)
    top[:54] = True
    ratio = band_energy(out, hidden & top) / band_energy(img, ~hidden & top)
    assert 0.8 < ratio < 1.25  # with the wall's own grain
    # One surface mixed: the stand's colour smears into the wall's side of the band (and the wall's into
    # the stand's), from 200 down to about 110 across it.
    mixed, _ = reflect_fill(img, hidden, ~hidden, reach=30)
    assert mixed.astype(np.float32).mean(axis=2)[62:, 92:100].mean() < 160


def test_one_surface_is_the_plain_fill():
    img, hidden, groups = wall_and_stand()
    plain, _ = reflect_fill(img, hidden, ~hidden, reach=30)
    one, _ = reflect_fill(img, hidden, ~hidden, reach=30, groups=np.zeros_like(groups))
    assert np.array_equal(plain, one)
    again, _ = reflect_fill(img, hidden, ~hidden, reach=30, groups=groups)
    first, _ = reflect_fill(img, hidden, ~hidden, reach=30, groups=groups)
    assert np.array_equal(first, again)


def test_bad_input():
    img = noise(10, 10)
    m = np.zeros((10, 10), bool)
    with pytest.raises(ValueError, match="source"):
        reflect_fill(img, ~m, m, reach=3)
    with pytest.raises(ValueError, match="uint8"):
        reflect_fill(img.astype(np.float32), m, ~m, reach=3)
    with pytest.raises(ValueError, match="groups"):
        reflect_fill(img, m, ~m, reach=3, groups=np.zeros((10, 10), np.float32))
    with pytest.raises(ValueError, match="groups"):
        reflect_fill(img, m, ~m, reach=3, groups=np.zeros((5, 10), np.uint8))
