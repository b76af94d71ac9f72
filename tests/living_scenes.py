"""Test photos for living photos: a landscape with a sky, a band of trees and rippled water."""
import cv2
import numpy as np


def landscape() -> np.ndarray:
    """(240, 320, 3) uint8: blue sky (rows 0-89), dark green trees (90-129), water whose ripples run
    sideways (130-239)."""
    h, w = 240, 320
    rng = np.random.default_rng(0)
    img = np.zeros((h, w, 3), np.uint8)
    img[:90] = (110, 160, 230)
    trees = rng.uniform(20, 90, (40, w // 4, 1)).astype(np.float32)
    img[90:130] = np.clip(cv2.resize(trees, (w, 40))[..., None] * [0.6, 1.0, 0.5], 0, 255).astype(np.uint8)
    rows = np.arange(h - 130)[:, None] + rng.normal(0, 0.3, (1, w))
    img[130:] = np.clip(np.array([90, 140, 200]) + (25 * np.sin(rows * 1.3))[..., None], 0, 255).astype(np.uint8)
    return img
