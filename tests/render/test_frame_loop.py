"""The faster frame loop renders the same bytes as the loop before it (tests/render/previous_frame_loop.py):
colour, hole masks and depth, on one- and several-layer scenes, at sizes whose coarse grid steps differ,
with a living photo's moving regions, and with the frames rendered side by side in threads."""
import numpy as np
import pytest

import previous_frame_loop
from pipelines.core import schema
from pipelines.core.photo import load_image
from pipelines.depth import DepthMap
from pipelines.render import camera, parallax


def _scene(astronaut, layers: int):
    img = np.ascontiguousarray(astronaut[::2, ::2])  # 256x256
    z = np.full(img.shape[:2], 6.0, np.float32)
    if layers > 1:
        z[40:230, 60:200] = 2.5
    if layers > 2:
        z[90:160, 100:170] = 1.2
    scene = parallax.build_scene(load_image(img), DepthMap(z))
    assert len(scene.layers) == layers
    return scene, DepthMap(z)


@pytest.mark.parametrize("layers, preset, size", [(1, "orbit", (256, 256)), (3, "orbit", (250, 140)),
                                                  (3, "dolly-zoom", (320, 180)), (2, "circle", (498, 282))])
def test_frames_are_the_previous_loops_to_the_byte(astronaut, layers, preset, size):
    scene, depth = _scene(astronaut, layers)
    settings = schema.RenderSettings(preset=preset, strength=1.0, duration=0.5, fps=12, width=size[0],
                                     height=size[1])
    path = camera.preset_path(preset, depth, settings)
    new = list(parallax.iter_frames(scene, path, holes=True, depth=True))
    old = list(previous_frame_loop.iter_frames(scene, path, holes=True, depth=True))
    assert len(new) == len(old) == 6
    for a, b in zip(new, old):
        assert np.array_equal(a.image, b.image) and np.array_equal(a.holes, b.holes)
        assert np.array_equal(a.depth, b.depth)
    plain = [f.image for f in parallax.iter_frames(scene, path, workers=1)]
    assert all(np.array_equal(a, b.image) for a, b in zip(plain, old))
    assert not np.array_equal(old[0].image, old[-1].image)  # the camera moved: the check has teeth


def test_a_living_photo_renders_as_before(astronaut):
    from pipelines.living import Motion, Region, animate
    from pipelines.living.warp import MovingLayers

    scene, depth = _scene(astronaut, 3)
    path = camera.preset_path("orbit", depth, schema.RenderSettings(preset="orbit", duration=0.5, fps=12))
    mask = np.zeros((256, 256), np.float32)
    mask[:90] = 1.0  # the top of the photo flows, over the far layer and the nearer ones
    living = animate(np.ascontiguousarray(astronaut[::2, ::2]), Motion((Region(mask, "flow", 0.0, 0.6),)),
                     path.num_frames, 12)
    new = [f.image for f in parallax.iter_frames(scene, path, moving=MovingLayers(living, scene))]
    old = [f.image for f in previous_frame_loop.iter_frames(scene, path, moving=MovingLayers(living, scene))]
    plain = [f.image for f in parallax.iter_frames(scene, path)]
    assert all(np.array_equal(a, b) for a, b in zip(new, old))
    assert not np.array_equal(new[3], plain[3])  # the regions moved: the check has teeth
