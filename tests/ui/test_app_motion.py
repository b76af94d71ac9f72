"""The living-photo brush through the app: a painted layer moves only its region; a preview names it;
bad brushes get a clear message and the server keeps serving."""
import numpy as np
import pytest
from PIL import Image
from studio_stubs import CountingDepth, decode, serve_studio

from pipelines.ui import handlers
from pipelines.ui.motion_panel import brush_regions, motion_overlay


@pytest.fixture(scope="module")
def files(tmp_path_factory, astronaut):
    d = tmp_path_factory.mktemp("brush")
    photo = d / "photo.png"
    Image.fromarray(astronaut[::4, ::4]).save(photo)  # 128 x 128
    layer = np.zeros((128, 128, 4), np.uint8)
    layer[:, 64:] = (40, 120, 255, 255)  # group 1 paints the right half
    Image.fromarray(layer).save(d / "layer.png")
    return photo, d / "layer.png"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from gradio_client import Client

    gen = serve_studio(tmp_path_factory.mktemp("takes"), CountingDepth())
    url = next(gen)
    yield Client(url, verbose=False)
    next(gen, None)


def _generate(client, photo, brush, type_1="sway", strength=0.0):
    from gradio_client import handle_file

    return client.predict(handle_file(str(photo)), "", handlers.FROM_PROMPT, strength, 3, False, 1, "seed", 1.0, 8,
                          "1:1", 128, "parallax", "", brush, type_1, 0, 1.0, api_name="/generate")


def test_brush_moves_only_the_painted_group(client, files):
    from gradio_client import handle_file

    photo, layer = files
    brush = {"background": handle_file(str(photo)), "layers": [handle_file(str(layer))], "composite": None}
    out = _generate(client, photo, brush)
    frames = decode(out[0])
    assert frames.shape == (8, 128, 128, 3)
    # Left half unpainted: still (up to the video codec); right half sways.
    left = np.abs(frames[:, :, :56].astype(int) - frames[0, :, :56]).mean()
    right = np.abs(frames[:, :, 72:].astype(int) - frames[0, :, 72:]).mean()
    assert right > 4 * max(left, 0.25)
    assert "group 1" in out[6] and out[7][0]["motion"]["regions"][0]["type"] == "sway"


def test_a_loaded_recipe_paints_its_groups_back_and_generate_replays_the_take(client, files, tmp_path_factory):
    from pathlib import Path

    from gradio_client import handle_file

    photo, layer = files
    brush = {"background": handle_file(str(photo)), "layers": [handle_file(str(layer))], "composite": None}
    out = _generate(client, photo, brush, type_1="ripple")
    name = out[7][0]["video"]
    recipe = max(Path(tmp_path_factory.getbasetemp()).rglob(name + ".json"), key=lambda p: p.stat().st_mtime)
    masks = sorted(recipe.parent.glob(name + ".motion-*.png"))
    assert len(masks) == 1
    values = client.predict([handle_file(str(recipe)), handle_file(str(masks[0]))], handle_file(str(photo)),
                            api_name="/load_recipe")
    status, editor, controls = values[13], values[14], values[15:27]
    assert "motion groups are back in the brush: group 1 ripple" in status
    painted = np.asarray(Image.open(editor["layers"][0]["path"] if isinstance(editor["layers"][0], dict)
                                    else editor["layers"][0]))
    assert painted.shape[:2] == (128, 128)
    assert painted[:, 70:, 3].min() == 255 and painted[:, :60, 3].max() == 0  # the right half, as painted
    assert list(controls[:3]) == ["ripple", 0.0, 1.0]
    again = client.predict(handle_file(str(photo)), *values[:13], {"background": handle_file(str(photo)),
                           "layers": [handle_file(editor["layers"][0]["path"] if isinstance(editor["layers"][0], dict)
                                                  else editor["layers"][0])], "composite": None},
                           *controls, api_name="/generate")
    assert np.array_equal(decode(again[0]), decode(out[0]))  # the same take again
    # The recipe alone: its mask is found among this studio's takes (by name and recorded sha256).
    values = client.predict([handle_file(str(recipe))], None, api_name="/load_recipe")
    assert list(values[15:18]) == ["ripple", 0.0, 1.0] and "back in the brush" in values[13] and values[14] is None


def test_bad_brush_is_a_clear_error_and_the_server_keeps_serving(client, files):
    from gradio_client import handle_file

    photo, layer = files
    brush = {"background": handle_file(str(photo)), "layers": [handle_file(str(layer))], "composite": None}
    with pytest.raises(Exception, match="type"):
        _generate(client, photo, brush, type_1="spin")
    assert decode(_generate(client, photo, None)[0]).shape[0] == 8


def test_preview_tints_each_group_and_names_it(files):
    photo, layer = files
    editor = {"background": np.asarray(Image.open(photo)), "layers": [np.asarray(Image.open(layer)), None]}
    image, note = motion_overlay(editor, "", "flow", 180, 0.5)
    assert image.shape == (128, 128, 3)
    assert image[:, 100:, 2].mean() > np.asarray(Image.open(photo))[:, 100:, 2].mean() + 20  # tinted blue
    assert np.array_equal(image[:, :40], np.asarray(Image.open(photo))[:, :40])  # unpainted: untouched
    assert "Group 1**: flow to the left, speed 0.50" in note
    assert brush_regions(editor, "flow", 180, 0.5)[0]["direction_deg"] == 180.0


def test_preview_shows_the_regions_words_find(astronaut):
    from living_scenes import landscape as _landscape

    editor = {"background": _landscape(), "layers": []}
    image, note = motion_overlay(editor, "clouds drift to the left, steam rises")
    assert image is not None and image[:60, :, 2].mean() > _landscape()[:60, :, 2].mean() - 1
    assert "found the sky" in note and "paint the steam to animate it" in note
    assert not np.array_equal(image[:60], _landscape()[:60])  # the sky is tinted
