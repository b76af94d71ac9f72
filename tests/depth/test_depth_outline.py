"""The classical estimator's outline at full size: the fringe the working size missed joins the subject."""
import numpy as np

from pipelines.depth.outline import claim_fringe


def _case(fringe_colour):
    """A 4x-upsampled scene: background grey 200 on the left, a dark subject (60) from x=40 at full size,
    whose working-size mask (and so the upsampled depth) starts only at x=44."""
    H, W, s = 64, 96, 4
    pixels = np.full((H, W, 3), 200, np.uint8)
    pixels[:, 40:] = 60
    pixels[:, 40:44] = fringe_colour
    h, w = H // s, W // s
    subject = np.zeros((h, w), bool)
    subject[:, 11:] = True
    rgb = np.full((h, w, 3), 200 / 255, np.float32)
    rgb[:, 11:] = 60 / 255
    out = np.zeros((H, W), np.float32)
    out[:, 44:] = 1.0
    subj_rel = np.ones((h, w), np.float32)
    other_rel = np.zeros((h, w), np.float32)
    return claim_fringe(pixels, out, rgb, subject, subj_rel, other_rel), out


def test_fringe_of_the_subjects_colour_joins_it():
    got, before = _case(60)
    assert (got[:, 40:44] == 1.0).all()  # the four fringe columns now at the subject's depth
    assert (got[:, :40] == 0.0).all()  # the background stays
    assert (before[:, 40:44] == 0.0).all()  # the input is not changed


def test_fringe_of_the_backgrounds_colour_stays_behind():
    got, _ = _case(200)  # the subject really starts at x=44: nothing to join
    assert (got[:, :44] == 0.0).all()
    assert (got[:, 44:] == 1.0).all()


def test_no_subject_no_change():
    pixels = np.full((32, 32, 3), 100, np.uint8)
    out = np.zeros((32, 32), np.float32)
    z = np.zeros((8, 8), np.float32)
    got = claim_fringe(pixels, out, np.zeros((8, 8, 3), np.float32), np.zeros((8, 8), bool), z, z)
    assert got is out
