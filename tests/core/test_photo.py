"""Photo and depth files: every common kind loads right; bad files fail with a clear, typed error."""
import numpy as np
import pytest
from PIL import Image

from pipelines.depth import DepthMap, load_depth, save_depth_png
from pipelines.core.errors import InputError
from pipelines.core.photo import load_image


def save(img, path, **kw):
    img.save(path, **kw)
    return path


def test_exif_rotation_is_applied(tmp_path):
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display
    p = save(Image.fromarray(arr), tmp_path / "r.jpg", exif=exif, quality=95)
    photo = load_image(p)
    assert photo.size == (20, 40)  # portrait now
    assert photo.pixels[:15].mean() > 200 and photo.pixels[25:].mean() < 50  # white ends up on top


def test_alpha_grey_cmyk_and_16_bit(tmp_path):
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:5, :, 3] = 255  # top half opaque red, bottom transparent
    photo = load_image(save(Image.fromarray(rgba), tmp_path / "a.png"))
    assert tuple(photo.pixels[0, 0]) == (255, 0, 0) and tuple(photo.pixels[9, 0]) == (255, 255, 255)
    assert "flattened" in photo.notices[0]
    grey = load_image(save(Image.fromarray(np.full((6, 6), 77, np.uint8)), tmp_path / "g.png"))
    assert grey.pixels.shape == (6, 6, 3) and (grey.pixels == 77).all()
    cmyk = load_image(save(Image.new("CMYK", (6, 6), (0, 255, 255, 0)), tmp_path / "c.jpg"))
    assert cmyk.pixels[..., 0].mean() > 200 and cmyk.pixels[..., 1].mean() < 60
    g16 = np.full((6, 6), 65535 // 2, np.uint16)
    photo16 = load_image(save(Image.fromarray(g16), tmp_path / "g16.png"))
    assert abs(int(photo16.pixels[0, 0, 0]) - 127) <= 1


def test_huge_photo_is_downscaled_with_notice():
    photo = load_image(np.zeros((100, 5000, 3), np.uint8), max_side=1000)
    assert photo.size == (1000, 20) and "downscaled from 5000x100" in photo.notices[0]


@pytest.mark.parametrize("data,match", [(b"", "empty"), (b"not an image at all", "cannot read photo")])
def test_bad_photo_files(tmp_path, data, match):
    p = tmp_path / "x.jpg"
    p.write_bytes(data)
    with pytest.raises(InputError, match=match):
        load_image(p)
    with pytest.raises(InputError, match="not found"):
        load_image(tmp_path / "missing.jpg")


def test_depth_npy_is_z_and_png_is_white_near(tmp_path):
    z = np.linspace(1, 4, 12, dtype=np.float32).reshape(3, 4)
    np.save(tmp_path / "d.npy", z)
    assert np.array_equal(load_depth(tmp_path / "d.npy").z, z)
    png = np.zeros((3, 4), np.uint16)
    png[:, 2:] = 65535  # right half white = near
    save(Image.fromarray(png), tmp_path / "d.png")
    d = load_depth(tmp_path / "d.png")
    assert d.z[0, 3] < d.z[0, 0]
    save_depth_png(DepthMap(z), tmp_path / "out.png")
    back = np.asarray(Image.open(tmp_path / "out.png"))
    assert back.dtype == np.uint16 and back[0, 0] == 65535 and back[-1, -1] == 0  # nearest is white


@pytest.mark.parametrize("z,match", [
    (np.array([[1.0, np.nan]], np.float32), "NaN"),
    (np.array([[1.0, 0.0]], np.float32), "zero or negative"),
    (np.array([[1.0, -2.0]], np.float32), "zero or negative"),
])
def test_bad_depth_values(tmp_path, z, match):
    np.save(tmp_path / "d.npy", z)
    with pytest.raises(InputError, match=match):
        load_depth(tmp_path / "d.npy")


def test_bad_depth_files(tmp_path):
    (tmp_path / "c.npy").write_bytes(b"garbage")
    with pytest.raises(InputError, match="cannot read depth"):
        load_depth(tmp_path / "c.npy")
    save(Image.fromarray(np.full((4, 4), 9, np.uint8)), tmp_path / "flat.png")
    with pytest.raises(InputError, match="flat"):
        load_depth(tmp_path / "flat.png")
    (tmp_path / "d.txt").write_text("1")
    with pytest.raises(InputError, match="unknown type"):
        load_depth(tmp_path / "d.txt")


def test_wrong_size_depth_is_resampled_with_notice(tmp_path):
    np.save(tmp_path / "d.npy", np.full((10, 10), 2.0, np.float32))
    d = load_depth(tmp_path / "d.npy", size=(20, 30))
    assert d.size == (20, 30) and np.allclose(d.z, 2.0) and "resampled" in d.notices[0]
