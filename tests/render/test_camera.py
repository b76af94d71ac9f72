"""Camera contract, path files and presets."""
import json
import math

import numpy as np
import pytest

from pipelines.render import camera
from pipelines.core import schema
from pipelines.render.camera import CameraPath, intrinsics, load_path
from pipelines.depth import DepthMap
from pipelines.core.errors import InputError

PRESETS = ["dolly-in", "dolly-out", "truck-left", "truck-right", "pedestal-up", "pedestal-down", "orbit",
           "circle", "zoom-in", "dolly-zoom", "ken-burns"]


def scene_depth(near=1.5, far=6.0):
    z = np.full((180, 320), far, np.float32)
    z[40:160, 100:220] = near
    return DepthMap(z)


def test_intrinsics_follow_the_contract():
    K = intrinsics(90.0, 640, 480)
    assert K[0, 0] == pytest.approx(320.0) and K[1, 1] == pytest.approx(320.0)
    assert (K[0, 2], K[1, 2]) == (319.5, 239.5)


def test_all_named_presets_exist_and_start_at_the_photo():
    assert set(PRESETS) <= set(camera.list_presets())
    for name in PRESETS:
        s = schema.RenderSettings(preset=name, strength=0.7, seed=3, duration=1, fps=10)
        p = camera.preset_path(name, scene_depth(), s)
        assert p.num_frames == 10 and (p.width, p.height) == (320, 180)
        assert np.allclose(p.poses[0], np.eye(4)) and p.fov_deg[0] == pytest.approx(60.0)


def near_motion(path, depth):
    stats = camera.scene_stats(depth, path.source_fov_deg)
    Ks = np.stack([path.K(i) for i in range(path.num_frames)])
    uv = camera._project(stats.points[stats.near], path.poses, Ks)
    return float(np.quantile(np.linalg.norm(uv - uv[:1], axis=-1), 0.9, axis=1).max()) / path.width


@pytest.mark.parametrize("near,far", [(1.5, 6.0), (10.0, 200.0)])
def test_strength_one_moves_the_nearest_subject_about_seven_percent(near, far):
    depth = scene_depth(near, far)
    for name in ("truck-left", "pedestal-up"):
        s = schema.RenderSettings(preset=name, strength=1.0, seed=0, duration=1, fps=10)
        assert 0.06 <= near_motion(camera.preset_path(name, depth, s), depth) <= 0.085
    still = camera.preset_path("truck-left", depth, schema.RenderSettings(preset="truck-left", strength=0.0))
    assert np.allclose(still.poses, np.eye(4)) and np.allclose(still.fov_deg, 60.0)


def test_seed_varies_the_take_deterministically():
    d = scene_depth()
    mk = lambda seed: camera.preset_path("orbit", d, schema.RenderSettings(preset="orbit", seed=seed, duration=1))
    assert np.array_equal(mk(4).poses, mk(4).poses)
    assert not np.allclose(mk(4).poses, mk(5).poses)
    # the seed varies the move within the preset: truck-left still goes left
    for seed in range(5):
        p = camera.preset_path("truck-left", d, schema.RenderSettings(preset="truck-left", seed=seed, duration=1))
        assert p.poses[-1, 0, 3] < 0


def test_path_json_round_trip(tmp_path):
    p = CameraPath(np.repeat(np.eye(4)[None], 3, 0), [60.0, 50.0, 40.0], 64, 48, source_fov_deg=60.0)
    f = camera.save_path(p, tmp_path / "p.json")
    q = load_path(f)
    assert np.array_equal(q.poses, p.poses) and np.array_equal(q.fov_deg, p.fov_deg)
    assert (q.width, q.height) == (64, 48)


@pytest.mark.parametrize("content,match", [
    ("{not json", "not valid JSON"),
    (json.dumps({"fov_deg": 60, "width": 8, "height": 8}), "lacks poses"),
    (json.dumps({"fov_deg": 60, "width": 8, "height": 8, "poses": []}), "zero poses"),
    (json.dumps({"fov_deg": 60, "width": 8, "height": 8, "poses": [[1, 0, 0]]}), "16 numbers"),
    (json.dumps({"fov_deg": 60, "width": 8, "height": 8, "poses": [[2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]]}),
     "orthonormal"),
    (json.dumps({"fov_deg": 200, "width": 8, "height": 8, "poses": [list(np.eye(4).ravel())]}), "fov_deg"),
    (json.dumps({"fov_deg": 60, "width": -1, "height": 8, "poses": [list(np.eye(4).ravel())]}), "width"),
])
def test_malformed_path_files_name_the_problem(tmp_path, content, match):
    f = tmp_path / "bad.json"
    f.write_text(content)
    with pytest.raises(InputError, match=match):
        load_path(f)


def test_unknown_preset_lists_the_choices():
    with pytest.raises(InputError, match="unknown preset 'warp-9'.*dolly-in"):
        camera.get_preset("warp-9")


def test_settings_out_of_range_name_the_value():
    with pytest.raises(InputError, match=r"strength=1\.5"):
        schema.validate(schema.RenderSettings, strength=1.5)
    with pytest.raises(InputError, match="duration"):
        schema.validate(schema.RenderSettings, duration=0)


def test_preset_files_are_valid_against_the_schema():
    for name in camera.list_presets():
        p = camera.get_preset(name)
        assert p.name == name and p.label
    with pytest.raises(InputError, match="orbit_deg"):
        schema.validate(schema.CameraPreset, name="x", label="X", orbit_deg=500)
    assert math.isfinite(camera.get_preset("circle").circle[0]) and camera.get_preset("circle").loop


def _plain_bisection(f, target, lo, hi, steps):
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) < target else (lo, mid)
    return (lo + hi) / 2


@pytest.mark.parametrize("f, target, lo, hi", [
    (lambda x: x, 0.3, 0.0, 1.0),                      # linear: one regula falsi step lands on the root
    (lambda x: x ** 3, 0.2, 0.0, 1.0),                 # curved
    (lambda x: math.sqrt(x), 0.9, 0.0, 1.0),           # steep at 0
    (lambda x: 0.0 if x < 0.625 else 1.0, 0.5, 0.0, 1.0),  # a step on a grid point
    (lambda x: math.floor(x * 7) / 7, 0.5, 4.0, 8.0),  # flat stretches, in a doubled bracket
    (lambda x: 0.1 * x, 5.0, 32.0, 64.0),              # never reached: plain bisection's answer, hi - d/2
])
def test_bisect_gives_plain_bisections_answer_bit_for_bit(f, target, lo, hi):
    assert camera.bisect(f, target, lo, hi, 40) == _plain_bisection(f, target, lo, hi, 40)


def test_bisect_takes_a_third_of_the_calls_on_a_real_strength_search():
    calls = []
    f = lambda a: calls.append(a) or math.tanh(a) * 0.07  # noqa: E731  a saturating motion curve
    answer = camera.bisect(f, 0.03, 0.0, 1.0, 40)
    assert len(calls) <= 14  # plain bisection: 40
    assert answer == _plain_bisection(f, 0.03, 0.0, 1.0, 40)


def test_preset_paths_equal_those_of_plain_bisection(monkeypatch):
    depth = DepthMap.from_relative(np.linspace(0, 1, 48 * 64, dtype=np.float32).reshape(48, 64) ** 2)
    fast = {}
    for preset in camera.list_presets():
        s = schema.RenderSettings(preset=preset, strength=0.7, seed=5, duration=0.5, fps=12)
        fast[preset] = camera.preset_path(preset, depth, s)
    monkeypatch.setattr(camera, "bisect", _plain_bisection)
    for preset, path in fast.items():
        s = schema.RenderSettings(preset=preset, strength=0.7, seed=5, duration=0.5, fps=12)
        plain = camera.preset_path(preset, depth, s)
        assert np.array_equal(path.poses, plain.poses) and np.array_equal(path.fov_deg, plain.fov_deg), preset
