"""The studio's example photos: shipped in assets/examples/ (no generation at start-up), the scikit-image
pictures they claim to be, each with its licence line in assets/README.md."""
import numpy as np
import pytest

from pipelines.core import paths
from pipelines.core.photo import load_image
from pipelines.ui import blocks

SHIPPED = ("astronaut", "coffee", "chelsea", "rocket", "camera", "grass")


def test_examples_are_read_from_assets_and_match_their_prompts():
    photos = blocks._example_photos()
    assert photos == [str(paths.ASSETS / "examples" / name) for name, _ in blocks.EXAMPLES]
    assert len(photos) == len(blocks.EXAMPLE_PROMPTS) == 4


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_photo_is_the_scikit_image_sample(name):
    from skimage import data

    original = getattr(data, name)()
    if original.ndim == 2:
        original = np.repeat(original[..., None], 3, axis=2)
    photo = load_image(paths.ASSETS / "examples" / f"{name}.jpg")
    assert photo.pixels.shape == original.shape
    # JPEG at quality 90: a few levels of error on average, never a different picture.
    assert np.abs(photo.pixels.astype(int) - original).mean() < 4.0


def test_every_shipped_photo_has_a_licence_line():
    lines = (paths.ASSETS / "README.md").read_text().splitlines()
    files = sorted(p.name for p in (paths.ASSETS / "examples").iterdir())
    assert files == sorted(f"{n}.jpg" for n in SHIPPED)
    for name in files:
        row = [line for line in lines if line.startswith(f"| `{name}`")]
        assert len(row) == 1, name
        assert "CC0" in row[0] or "public domain" in row[0], row[0]
