"""The studio API: sizes and crops with known answers, caching, per-request folders, takes, typed errors."""
import json
import os
import time

import numpy as np
import pytest
from studio_stubs import CountingDepth, decode, stub_frames, stub_take

from pipelines import studio as st
from pipelines.studio import takes
from pipelines.studio.photos import DEPTH_SIDE
from pipelines.core.errors import InputError
from pipelines.core.photo import Photo
from pipelines.studio.prompt import parse_prompt


@pytest.fixture
def depth_fn():
    return CountingDepth()


@pytest.fixture
def studio(tmp_path, depth_fn):
    return st.Studio(output_root=tmp_path / "out", stages=st.Stages(depth=depth_fn, scene=None, take=stub_take))


@pytest.mark.parametrize("aspect, size", [("16:9", (960, 540)), ("9:16", (540, 960)), ("1:1", (960, 960)),
                                          ("4:5", (768, 960)), ("original", (960, 640)),
                                          ("photo", (960, 640))])  # "photo": the old name, still accepted
def test_output_size(aspect, size):
    assert st.output_size((600, 400), aspect, 960) == size


def test_output_size_is_even():
    w, h = st.output_size((601, 333), "photo", 501)
    assert (w % 2, h % 2) == (0, 0) and abs(w - 500) <= 2


def test_crop_box_known_answers():
    assert st.crop_box((200, 100), (100, 100)) == (0.25, 0.0, 0.75, 1.0)
    assert st.crop_box((100, 200), (100, 100)) == (0.0, 0.25, 1.0, 0.75)
    assert st.crop_box((160, 90), (16, 9)) == (0.0, 0.0, 1.0, 1.0)


def test_fit_crops_the_centre_and_resamples_exactly(depth_fn):
    cols = np.tile(np.arange(200, dtype=np.uint8)[None, :, None], (100, 1, 3))
    photo = Photo(cols)
    prepared = st.Prepared(photo, depth_fn(photo), photo.sha256)
    small, depth = st.fit(prepared.photo, prepared.depth, (100, 100))
    assert small.size == depth.size == (100, 100)
    assert small.pixels[0, 0, 0] == 50 and small.pixels[0, -1, 0] == 149  # columns 50..149 kept, unscaled
    down, _ = st.fit(prepared.photo, prepared.depth, (50, 50))
    assert down.size == (50, 50)


def test_take_settings_vary_seed_and_strength():
    plan = parse_prompt("orbit")
    by_seed = takes.take_settings(plan, 3, 7, "seed", duration=1.0, fps=8)
    assert [s.seed for s in by_seed] == [7, 8, 9] and {s.strength for s in by_seed} == {0.5}
    by_strength = takes.take_settings(plan, 3, 7, "strength")
    assert [s.strength for s in by_strength] == [0.25, 0.5, 0.75] and {s.seed for s in by_strength} == {7}
    assert takes.take_settings(plan, 1, 2**31 - 1, "seed")[0].seed == 2**31 - 1


def test_generate_renders_takes_in_their_own_folders(studio, astronaut):
    r = studio.generate(astronaut, prompt="slow push in", seed=3, num_takes=2, duration=0.5, fps=8,
                        aspect="16:9", long_side=96)
    assert r.plan.label == "Dolly in - gentle"
    assert [t.settings.seed for t in r.takes] == [3, 4]
    assert [t.label for t in r.takes] == ["Take 1 - seed 3 - Dolly in - strength 0.30",
                                          "Take 2 - seed 4 - Dolly in - strength 0.30"]
    for t in r.takes:
        assert t.video.parent == r.out_dir and t.video.name.startswith(f"take{t.label[5]}-dolly-in-seed")
        frames = decode(t.video)
        assert frames.shape == (4, 54, 96, 3)
        recipe = json.loads(t.video.with_name(t.video.name + ".json").read_text())
        assert recipe["settings"]["seed"] == t.settings.seed and recipe["source"]["photo_sha256"] == r.prepared.key
    assert r.depth_preview.shape == r.prepared.depth.z.shape and r.depth_preview.dtype == np.uint8
    # the video is what the renderer made of the fitted photo with these settings
    fitted = studio.photos.fitted(r.prepared, (96, 54))
    want = stub_frames(fitted.photo.pixels, r.takes[1].settings)
    assert np.abs(decode(r.takes[1].video).astype(int) - want).mean() < 6


def test_progress_reports_estimate_then_stages(studio, astronaut):
    seen = []
    studio.generate(astronaut, seed=1, num_takes=2, duration=0.25, fps=8, long_side=64,
                    progress=lambda frac, msg: seen.append((frac, msg)))
    msgs = [m for _, m in seen]
    assert msgs[0].startswith("About ") and "2 take(s)" in msgs[0]
    stages = ["Estimating depth", "Building the 3-D scene", "Take 1/2: rendering", "Take 1/2: encoding",
              "Take 2/2: rendering", "Take 2/2: encoding", "Done"]
    staged = [m for m in msgs if m in stages]
    assert [m for k, m in enumerate(staged) if k == 0 or m != staged[k - 1]] == stages
    fracs = [f for f, _ in seen]
    assert fracs == sorted(fracs) and fracs[-1] == 1.0


def test_iter_generate_yields_each_take_as_it_is_ready(studio, astronaut):
    seen = []
    for result in studio.iter_generate(astronaut, seed=2, num_takes=3, duration=0.25, fps=8, long_side=64):
        # each take's video is complete when it is announced, before the next one renders
        frames = decode(result.takes[-1].video).shape[0] if result.takes else None
        seen.append((len(result.takes), result.planned, result.complete, frames))
    assert seen == [(0, 3, False, None), (1, 3, False, 2), (2, 3, False, 2), (3, 3, True, 2)]


def test_depth_computed_once_per_photo(studio, depth_fn, astronaut, coffee):
    for seed in (1, 2):
        studio.generate(astronaut, seed=seed, duration=0.25, fps=8, long_side=64)
    assert depth_fn.calls == 1
    studio.generate(coffee, seed=1, duration=0.25, fps=8, long_side=64)
    assert depth_fn.calls == 2


def test_cache_is_bounded(tmp_path, depth_fn, astronaut, coffee):
    small = st.Studio(output_root=tmp_path, cache_size=1, stages=st.Stages(depth=depth_fn, scene=None, take=stub_take))
    for img in (astronaut, coffee, astronaut):
        small.prepare(img)
    assert depth_fn.calls == 3 and len(small.photos._prepared) == 1


def test_big_photo_depth_runs_on_a_small_copy(studio, depth_fn):
    big = np.zeros((3000, 1500, 3), np.uint8)
    prepared = studio.prepare(big)
    assert max(prepared.depth.size) == DEPTH_SIDE and prepared.photo.size == (1500, 3000)


def test_random_seed_is_recorded(studio, astronaut):
    r = studio.generate(astronaut, seed=None, duration=0.25, fps=8, long_side=64)
    assert 0 <= r.takes[0].settings.seed <= 2**31 - 1
    assert r.takes[0].recipe.settings.seed == r.takes[0].settings.seed


def test_request_folders_are_unique_and_old_ones_cleaned(studio):
    a, b = studio.outputs.new(), studio.outputs.new()
    assert a != b and a.is_dir() and b.is_dir()
    old = time.time() - studio.outputs.max_age_s - 10
    os.utime(a, (old, old))
    assert studio.outputs.cleanup() == 1
    assert not a.exists() and b.exists()


def test_estimate_known_answer():
    secs = takes.estimate_seconds(1000, 1000, 10, 2, depth_cached=False, seconds_per_mpix_frame=0.1)
    assert secs == pytest.approx(2 * (10 * 0.1 + takes.TAKE_OVERHEAD_SECONDS) + takes.DEPTH_SECONDS)
    assert takes.estimate_seconds(1000, 1000, 10, 2, depth_cached=True, seconds_per_mpix_frame=0.1) < secs


def test_preset_by_hand_overrides_prompt(studio, astronaut, monkeypatch):
    monkeypatch.setattr(st.Studio, "preset_names", staticmethod(lambda: ("dolly-in", "orbit")))
    r = studio.generate(astronaut, prompt="dramatic push in", preset="orbit", seed=0, duration=0.25, fps=8,
                        long_side=64)
    assert r.takes[0].settings.preset == "orbit" and r.takes[0].settings.strength == 0.8


# -- one test per typed error ------------------------------------------------------------------------------

def test_error_no_photo(studio):
    with pytest.raises(InputError, match="no photo"):
        studio.generate(None)


def test_error_corrupt_photo(studio, tmp_path):
    bad = tmp_path / "photo.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(InputError, match="cannot read photo"):
        studio.generate(str(bad))


def test_error_unknown_aspect(studio, astronaut):
    with pytest.raises(InputError, match="aspect"):
        studio.generate(astronaut, aspect="3:1")


def test_error_size_out_of_range(studio, astronaut):
    with pytest.raises(InputError, match="long_side"):
        studio.generate(astronaut, long_side=100000)


def test_error_takes_out_of_range(studio, astronaut):
    with pytest.raises(InputError, match="num_takes"):
        studio.generate(astronaut, num_takes=5)


def test_error_unknown_vary(studio, astronaut):
    with pytest.raises(InputError, match="vary"):
        studio.generate(astronaut, num_takes=2, vary="colour")


def test_error_schema_value_out_of_range(studio, astronaut):
    with pytest.raises(InputError, match="fps"):
        studio.generate(astronaut, fps=500)
    with pytest.raises(InputError, match="seed"):
        studio.generate(astronaut, seed=-1)


def test_error_unknown_preset(studio, astronaut, monkeypatch):
    monkeypatch.setattr(st.Studio, "preset_names", staticmethod(lambda: ("dolly-in",)))
    with pytest.raises(InputError, match="preset 'warp'"):
        studio.generate(astronaut, preset="warp")


def test_concurrent_takes_of_one_photo_share_the_scene_and_match(tmp_path, astronaut):
    """Real renderer: two threads rendering the same photo and size at once get the same frames as a
    lone render (the shared, cached scene is read-only)."""
    import threading

    studio = st.Studio(output_root=tmp_path, stages=st.Stages(depth=CountingDepth()))
    kw = dict(prompt="orbit", seed=4, duration=0.5, fps=8, aspect="16:9", long_side=96)
    alone = decode(studio.generate(astronaut, **kw).takes[0].video)
    out = {}
    threads = [threading.Thread(target=lambda k=k: out.update({k: studio.generate(astronaut, **kw)}))
               for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert out[0].out_dir != out[1].out_dir
    for r in out.values():
        assert np.array_equal(decode(r.takes[0].video), alone)
