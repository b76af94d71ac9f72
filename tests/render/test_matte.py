"""Soft layer edges: the outline's anti-aliased pixels get a partial alpha on the nearer layer (matte.matte)
over the decontaminated background (matte.unmix), and frame 0 stays the photo byte for byte."""
from dataclasses import replace

import cv2
import numpy as np
import pytest

from pipelines.core.photo import load_image
from pipelines.depth import DepthMap, estimate
from pipelines.render import matte, parallax
from pipelines.render.camera import CameraPath


def pose(tx=0.0):
    m = np.eye(4)
    m[0, 3] = tx
    return m


def soft_box(h=120, w=160, share=0.3):
    """A flat red box (rows 40:80, cols 50:110) on flat green, its right outline (col 110) an anti-aliased
    mix with ``share`` of the red, and the box's labels (the outline on the background's side)."""
    red, green = np.array([220, 30, 30]), np.array([20, 160, 40])
    img = np.empty((h, w, 3), np.uint8)
    img[:] = green
    img[40:80, 50:110] = red
    img[40:80, 110] = np.rint(share * red + (1 - share) * green).astype(np.uint8)
    labels = np.zeros((h, w), np.uint8)
    labels[40:80, 50:110] = 1
    return img, labels, red, green


def composite(back: np.ndarray, front: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The renderer's composite of a premultiplied ``front`` over ``back`` (parallax._render_frame)."""
    inv = cv2.cvtColor(cv2.bitwise_not(alpha[:, None]), cv2.COLOR_GRAY2RGB)[:, 0]
    return cv2.add(front[:, None], cv2.multiply(back[:, None], inv[:, None], scale=1.0 / 255.0))[:, 0]


def test_an_anti_aliased_outline_gets_the_alpha_its_colour_shows():
    img, labels, red, _ = soft_box(share=0.3)
    m = matte.matte(img, labels)
    on = m.xs == 110
    assert on.sum() >= 36 and (m.near[on] == 1).all() and (m.behind[on] == 0).all()
    assert np.abs(m.alpha[on].astype(int) - round(0.3 * 255)).max() <= 3
    assert np.abs(m.fg[on] - red).max() < 1
    # Flat sides, their own colour: nothing else changes.
    assert set(m.xs.tolist()) == {110}


def test_texture_next_to_a_hard_edge_is_not_a_mix():
    """A hard edge between two textures (fur against a table): pixels next to it vary with the texture,
    not with a mix; they keep their labels."""
    rng = np.random.default_rng(3)
    h, w = 120, 160
    g = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.0)
    g = 15 * g / g.std()
    img = np.clip(np.dstack([90 + g, 120 + g, 60 + g]), 0, 255)
    img[40:80, 50:110] = np.clip(np.dstack([200 + g, 150 + g, 120 + g]), 0, 255)[40:80, 50:110]
    img = img.astype(np.uint8)
    labels = np.zeros((h, w), np.uint8)
    labels[40:80, 50:110] = 1
    band = 2 * matte.MATTE_REACH * 2 * (40 + 60)  # pixels within reach of the outline, both sides
    assert matte.matte(img, labels).ys.size < 0.05 * band


def test_unmix_composites_back_exactly_and_keeps_the_front_premultiplied():
    rng = np.random.default_rng(0)
    n = 20000
    colour = rng.integers(0, 256, (n, 3)).astype(np.uint8)
    alpha = rng.integers(1, 255, n).astype(np.uint8)
    fg = rng.uniform(0, 255, (n, 3)).astype(np.float32)
    bg = rng.uniform(0, 255, (n, 3)).astype(np.float32)
    back, front = matte.unmix(colour, alpha, fg, bg, rng.uniform(0, 20, n).astype(np.float32))
    assert np.array_equal(composite(back, front, alpha), colour)
    assert (front <= alpha[:, None]).all()


def test_unmix_of_a_true_mix_gives_its_background():
    fg, bg = np.array([[220.0, 30, 30]] * 3), np.array([[20.0, 160, 40]] * 3)
    alpha = np.array([60, 128, 200], np.uint8)
    a = alpha[:, None] / 255.0
    colour = np.rint(a * fg + (1 - a) * bg).astype(np.uint8)
    back, front = matte.unmix(colour, alpha, fg.astype(np.float32), bg.astype(np.float32), np.zeros(3, np.float32))
    assert np.abs(back.astype(int) - bg).max() <= 2
    assert np.array_equal(composite(back, front, alpha), colour)


def test_the_outline_leaves_with_its_subject_and_no_ghost_stays_behind():
    """The box's faint outline (30 % red, nearer the green: it stays on the background's label) goes with
    the box as a partial alpha, and the background behind it is green again: no dotted ghost where the box
    was. Frame 0 is the photo. (Depth from an estimate: given depth that steps sharply knows its edges, and
    its layers stay hard.)"""
    h, w = 120, 160
    img, labels, red, green = soft_box(h, w, 0.3)
    given = DepthMap(np.where(labels > 0, 2.0, 8.0).astype(np.float32))
    hard = parallax.build_scene(load_image(img), given).layers[-1].rgba[..., 3]
    assert ((hard == 0) | (hard == 255)).all()
    scene = parallax.build_scene(load_image(img), replace(given, estimator="classical"))
    near = scene.layers[-1]
    assert abs(int(near.rgba[60, 110, 3]) - 77) <= 3  # the outline's alpha on the box's layer
    assert np.abs(scene.layers[0].rgba[60, 110, :3].astype(int) - green).max() <= 2  # background behind it
    frame0 = parallax.render(scene, CameraPath(pose()[None], [60.0], w, h)).images[0]
    assert np.array_equal(frame0, img)
    moved = parallax.render(scene, CameraPath(pose(0.3)[None], [60.0], w, h)).images[0]  # box moves left
    left = moved[45:75, 106:115].astype(int)  # where the outline was: the background, the box long gone
    assert np.abs(left - green).max() <= 3


def test_no_layer_between_covers_a_soft_pixel():
    """Three layers: a box at the front, half over a middle slab (its left side) and half over the far wall
    (its right side). The box's soft right outline lies between the box and the wall, and the middle layer
    (which holds the box's pixels as its filled background) has nothing there."""
    h, w = 120, 200
    img, labels, _, _ = soft_box(h, w, 0.5)
    slab = (slice(20, 100), slice(10, 80))
    img[slab] = (40, 40, 200)
    img[labels > 0] = (220, 30, 30)
    z = np.full((h, w), 12.0, np.float32)
    z[slab] = 5.0
    z[labels > 0] = 2.0
    scene = parallax.build_scene(load_image(img), DepthMap(z, estimator="classical"))
    assert len(scene.layers) == 3
    soft = (scene.layers[2].rgba[..., 3] > 0) & (scene.layers[2].rgba[..., 3] < 255)
    assert soft[40:80, 110].all()
    assert (scene.layers[1].rgba[soft] == 0).all()
    frame0 = parallax.render(scene, CameraPath(pose()[None], [60.0], w, h), holes=True)
    assert np.array_equal(frame0.images[0], img) and not frame0.holes[0].any()


@pytest.mark.parametrize("name", ["astronaut", "chelsea", "coffee", "rocket"])
def test_frame_0_is_the_photo_byte_for_byte_on_real_photos(name):
    from skimage import data

    photo = load_image(getattr(data, name)())
    scene = parallax.build_scene(photo, estimate(photo, "classical"))
    h, w = photo.pixels.shape[:2]
    frame0 = parallax.render(scene, CameraPath(pose()[None], [60.0], w, h), holes=True, depth=True)
    assert np.array_equal(frame0.images[0], photo.pixels)
    assert not frame0.holes[0].any()
    assert np.isfinite(frame0.depth[0]).all() and (frame0.depth[0] > 0).all()
