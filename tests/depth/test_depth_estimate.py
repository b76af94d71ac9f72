"""The depth stage's interface: estimators (tiny models, offline fallback), cache, edits, bad input, CLI."""
import numpy as np
import pytest
from PIL import Image

from pipelines import cli, depth
from pipelines.depth import models as depth_models
from pipelines.depth import refine
from pipelines.core.errors import InputError, ModelUnavailableError
from pipelines.core.photo import Photo


@pytest.fixture()
def photo(astronaut):
    return Photo(np.ascontiguousarray(astronaut[::4, ::4]))  # 128x128


@pytest.fixture(scope="module")
def tiny_depth_anything():
    """A randomly initialised Depth Anything (98k parameters) built from an in-code config."""
    import torch
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    torch.manual_seed(0)
    backbone = Dinov2Config(image_size=518, patch_size=14, hidden_size=32, num_hidden_layers=2,
                            num_attention_heads=2, intermediate_size=37, out_indices=[1, 2],
                            reshape_hidden_states=False)
    cfg = DepthAnythingConfig(backbone_config=backbone, patch_size=14, reassemble_hidden_size=32,
                              reassemble_factors=[4, 2], neck_hidden_sizes=[8, 16], fusion_hidden_size=8,
                              head_hidden_size=8)
    model = DepthAnythingForDepthEstimation(cfg).eval()
    with torch.no_grad():
        model.head.conv3.bias.fill_(1.0)  # random weights leave the final ReLU all zero (a flat map) otherwise
    return model


# -- estimators ---------------------------------------------------------------------------------------

def test_estimators_have_licence_and_hub_id():
    assert depth.ESTIMATORS[0] == "auto" and "classical" in depth.ESTIMATORS
    small = depth.estimator_info("auto")
    assert small.hub_id == "depth-anything/Depth-Anything-V2-Small-hf" and small.commercial_use
    for size in ("base", "large"):
        info = depth.estimator_info(f"depth-anything-v2-{size}")
        assert not info.commercial_use and "NC" in info.licence
    assert depth.estimator_info("classical").hub_id is None
    with pytest.raises(InputError, match="unknown depth estimator 'dpt'"):
        depth.estimator_info("dpt")


def test_depth_anything_bare_model_runs_through_the_v2_processor(photo, tiny_depth_anything):
    seen = []
    hook = tiny_depth_anything.register_forward_pre_hook(
        lambda mod, args, kwargs: seen.append(kwargs["pixel_values"].shape), with_kwargs=True)
    try:
        dm = depth.estimate(photo, "depth-anything-v2-small", model=tiny_depth_anything)
    finally:
        hook.remove()
    assert dm.size == photo.size
    # The V2 preprocessing: short side 518, a multiple of 14 (square photo -> 518x518).
    assert seen == [(1, 3, 518, 518)]
    rel = dm.relative
    assert rel.min() == 0.0 and rel.max() == 1.0 and rel.std() > 0.01


def test_depth_anything_output_is_the_models_prediction_upsampled(photo, tiny_depth_anything):
    import torch
    from transformers import DPTImageProcessorPil, pipeline

    proc = DPTImageProcessorPil(**{**depth_models.DEPTH_ANYTHING_PROCESSOR, "size": {"height": 70, "width": 70}})
    pipe = pipeline("depth-estimation", model=tiny_depth_anything, image_processor=proc, device=-1)
    dm = depth.estimate(photo, "auto", model=pipe)  # the same object users get from transformers.pipeline
    with torch.inference_mode():
        pv = proc(images=Image.fromarray(photo.pixels), return_tensors="pt")["pixel_values"]
        raw = tiny_depth_anything(pixel_values=pv).predicted_depth
        up = torch.nn.functional.interpolate(raw[:, None], size=(128, 128), mode="bicubic")[0, 0].numpy()
    expect = refine.snap_edges(depth_models.normalise(up), photo.pixels)  # edges snapped to the photo's
    got = depth.DepthMap.from_relative(expect).relative
    np.testing.assert_allclose(dm.relative, got, atol=1e-4)


class _RampNet:
    """Stands in for a controlnet-aux network: returns a left-to-right ramp of the input's size."""

    def __init__(self, increasing=True):
        import torch

        self.increasing = increasing
        self._p = torch.nn.Parameter(torch.zeros(1))

    def parameters(self):
        return iter([self._p])

    def _ramp(self, x):
        import torch

        h, w = x.shape[-2:]
        r = torch.linspace(0, 1, w).expand(h, w)
        return r if self.increasing else 1 - r

    def __call__(self, x):  # MiDaS: m(x)[0] -> (H, W) disparity
        return self._ramp(x)[None]

    def infer(self, x):  # Zoe: m.infer(x)[0, 0] -> (H, W) metric depth (large = far)
        return (1.0 + 9.0 * self._ramp(x))[None, None]


@pytest.fixture(scope="module")
def controlnet_aux():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import controlnet_aux
    return controlnet_aux


def test_midas_detector_disparity_comes_out_with_near_as_one(photo, controlnet_aux):
    dm = depth.estimate(photo, "midas", model=controlnet_aux.MidasDetector(_RampNet(increasing=True)))
    rel = dm.relative
    assert dm.size == photo.size
    cols = rel.mean(axis=0)
    assert cols[-1] > 0.95 and cols[0] < 0.05 and np.all(np.diff(cols) > -1e-3)


def test_zoe_detector_metric_depth_comes_out_far_as_zero(photo, controlnet_aux):
    # Zoe's network gives metric depth (large = far) and the detector inverts it: the right side,
    # where the stub's depth is largest, must come out far.
    dm = depth.estimate(photo, "zoe", model=controlnet_aux.ZoeDetector(_RampNet(increasing=True)))
    cols = dm.relative.mean(axis=0)
    assert cols[0] > cols[-1] + 0.5


def test_auto_falls_back_to_classical_offline_and_says_so(photo, tmp_path):
    dm = depth.estimate(photo, "auto", cache_dir=tmp_path)
    assert dm.size == photo.size
    assert any("fell back to the classical estimator" in n and "HF_HUB_OFFLINE" in n for n in dm.notices)
    classical = depth.estimate(photo, "classical", cache_dir=tmp_path)
    np.testing.assert_array_equal(dm.z, classical.z)
    assert not any("fell back" in n for n in classical.notices)


def test_auto_falls_back_fast_when_the_hub_cannot_be_reached(photo, tmp_path, monkeypatch):
    import time

    from huggingface_hub import constants

    monkeypatch.setattr(depth_models, "hub_offline", lambda: False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    t0 = time.monotonic()
    dm = depth.estimate(photo, "auto", cache_dir=tmp_path)
    assert time.monotonic() - t0 < 30  # a guard against hanging, not a timing test
    assert any("fell back" in n and "cannot be reached" in n for n in dm.notices)


def test_unobtainable_weights_are_refused_before_transformers_is_imported(monkeypatch):
    import sys

    from huggingface_hub import constants

    depth_models.load_depth_anything.cache_clear()
    monkeypatch.setitem(sys.modules, "transformers", None)  # importing it now raises ImportError
    monkeypatch.setattr(depth_models, "hub_offline", lambda: False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(ModelUnavailableError, match="cannot be reached"):
        depth_models.load_depth_anything("depth-anything-v2-small", "depth-anything/Depth-Anything-V2-Small-hf")
    monkeypatch.setattr(depth_models, "hub_offline", lambda: True)
    with pytest.raises(ModelUnavailableError, match="HF_HUB_OFFLINE"):
        depth_models.load_depth_anything("depth-anything-v2-small", "depth-anything/Depth-Anything-V2-Small-hf")


def test_cached_weights_go_on_to_load_the_model(monkeypatch, tmp_path):
    import sys

    depth_models.load_depth_anything.cache_clear()
    monkeypatch.setitem(sys.modules, "transformers", None)
    monkeypatch.setattr(depth_models, "weights_cached", lambda repo, name: True)
    with pytest.raises(ModelUnavailableError, match="needs transformers"):  # past the check, into the import
        depth_models.load_depth_anything("depth-anything-v2-small", "depth-anything/Depth-Anything-V2-Small-hf")


def test_weights_cached_reads_the_cache_as_huggingface_hub_does(monkeypatch, tmp_path):
    from huggingface_hub import constants, try_to_load_from_cache

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    repo = tmp_path / "models--org--net"
    cases = []

    def agree(name):
        ours = depth_models.weights_cached("org/net", name)
        assert ours == isinstance(try_to_load_from_cache("org/net", name), str)
        cases.append(ours)

    agree("config.json")  # no folder for the model
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123")
    (repo / "snapshots" / "abc123").mkdir(parents=True)
    agree("config.json")  # the commit is there, the file is not
    (repo / "snapshots" / "abc123" / "config.json").write_text("{}")
    agree("config.json")
    agree("model.safetensors")
    (repo / "snapshots" / "old").mkdir()
    (repo / "snapshots" / "old" / "model.safetensors").write_text("")
    agree("model.safetensors")  # in another commit than main's: not what would load
    (repo / "refs" / "main").unlink()
    (repo / "snapshots" / "main").mkdir()
    (repo / "snapshots" / "main" / "config.json").write_text("{}")
    agree("config.json")
    assert cases == [False, False, True, False, False, True]


def test_progress_reports_rising_fractions(photo, tmp_path):
    seen = []
    depth.estimate(photo, "classical", cache_dir=tmp_path, progress=lambda f, what: seen.append(f))
    assert seen[0] < 0.5 and seen[-1] == 1.0 and seen == sorted(seen)


@pytest.mark.parametrize("name", ["depth-anything-v2-small", "depth-anything-v2-large", "midas", "leres"])
def test_explicit_model_without_weights_raises_naming_the_fix(photo, tmp_path, name):
    with pytest.raises(ModelUnavailableError, match="HF_HUB_OFFLINE.*classical"):
        depth.estimate(photo, name, cache_dir=tmp_path)


def test_not_a_photo_is_refused():
    with pytest.raises(InputError, match="needs a Photo"):
        depth.estimate(np.zeros((8, 8, 3), np.uint8))


def test_huge_photo_is_refused_before_any_work():
    huge = Photo(np.zeros((10000, 10000, 3), np.uint8))  # calloc'd pages: never touched
    with pytest.raises(InputError, match="10000x10000.*load_image"):
        depth.estimate(huge, "classical")


def test_flat_model_output_is_handled_with_a_notice(photo, controlnet_aux):
    class Flat(_RampNet):
        def __call__(self, x):
            return 0 * self._ramp(x)[None]

    dm = depth.estimate(photo, "midas", model=controlnet_aux.MidasDetector(Flat()))
    assert np.ptp(dm.z) == 0 and any("flat" in n for n in dm.notices)


def test_smallest_photo_gives_a_map_of_its_size(tmp_path):
    dm = depth.estimate(Photo(np.full((2, 2, 3), 9, np.uint8)), "auto", cache_dir=tmp_path)
    assert dm.size == (2, 2)


# -- cache --------------------------------------------------------------------------------------------

def test_cache_reuses_one_run_per_photo_and_estimator(photo, tmp_path, monkeypatch):
    first = depth.estimate(photo, "classical", cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npy"))) == 1

    def boom(*a, **k):
        raise AssertionError("estimated again instead of reading the cache")

    monkeypatch.setattr("pipelines.depth.classical.estimate_relative", boom)
    again = depth.estimate(photo, "classical", cache_dir=tmp_path)
    np.testing.assert_allclose(again.relative, first.relative, atol=1e-4)
    other = Photo(np.ascontiguousarray(photo.pixels[:, ::-1]))
    with pytest.raises(AssertionError, match="estimated again"):
        depth.estimate(other, "classical", cache_dir=tmp_path)


def test_cache_is_bounded_oldest_evicted(photo, tmp_path, monkeypatch):
    monkeypatch.setenv("PHOTO_STUDIO_DEPTH_CACHE_MB", str(1.5 * 128 * 128 * 2 / 2**20))  # room for one map
    import os
    import time

    depth.estimate(photo, "classical", cache_dir=tmp_path)
    (old,) = tmp_path.glob("*.npy")
    os.utime(old, (time.time() - 100, time.time() - 100))
    depth.estimate(Photo(np.ascontiguousarray(photo.pixels[::-1])), "classical", cache_dir=tmp_path)
    left = list(tmp_path.glob("*.npy"))
    assert len(left) == 1 and left[0] != old


def test_corrupt_cache_entry_is_recomputed(photo, tmp_path):
    good = depth.estimate(photo, "classical", cache_dir=tmp_path)
    (entry,) = tmp_path.glob("*.npy")
    entry.write_bytes(b"not a numpy file")
    again = depth.estimate(photo, "classical", cache_dir=tmp_path)
    np.testing.assert_allclose(again.relative, good.relative, atol=1e-4)


def test_unwritable_cache_still_returns_depth_with_a_notice(photo, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    dm = depth.estimate(photo, "classical", cache_dir=blocker / "sub")
    assert dm.size == photo.size and any("could not be written" in n for n in dm.notices)


# -- edits --------------------------------------------------------------------------------------------

def _ramp_depth(h=20, w=30):
    return depth.DepthMap.from_relative(np.repeat(np.linspace(0, 1, w, dtype=np.float32)[None], h, 0))


def test_push_moves_only_the_masked_region():
    dm = _ramp_depth()
    mask = np.zeros((20, 30), bool)
    mask[:, :5] = True  # the far end
    out = depth.adjust(dm, mask=mask, push=0.5)
    before, after = dm.relative, out.relative
    assert after[:, :5].mean() > before[:, :5].mean() + 0.3
    # Outside the mask the order is kept.
    assert np.all(np.diff(after[0, 5:]) > 0)


def test_contrast_and_range():
    dm = _ramp_depth()
    flat = depth.adjust(dm, contrast=0.5)
    # Half the contrast, renormalised: the same order, a linear map of the input.
    np.testing.assert_allclose(flat.relative, dm.relative, atol=1e-5)
    shallow = depth.adjust(dm, near=1.0, far=0.5)
    # A narrower range is a shallower scene: z spans less.
    assert shallow.z.max() / shallow.z.min() < dm.z.max() / dm.z.min() / 5


@pytest.mark.parametrize("kw, msg", [
    (dict(push=2.0), "push must be within"),
    (dict(contrast=0.0), "contrast must be > 0"),
    (dict(near=0.3, far=0.6), "far .* must be less than near"),
    (dict(push=0.1, mask=np.ones((5, 5))), "mask is 5x5, the depth is 30x20"),
])
def test_adjust_rejects_bad_values(kw, msg):
    with pytest.raises(InputError, match=msg):
        depth.adjust(_ramp_depth(), **kw)


def test_fatten_edges_grows_the_near_side_by_radius():
    rel = np.zeros((20, 40), np.float32)
    rel[:, 20:] = 1.0
    dm = depth.DepthMap.from_relative(rel)
    fat = depth.fatten_edges(dm, radius=3).relative
    assert fat[:, 17:20].min() == 1.0 and fat[:, :16].max() == 0.0
    np.testing.assert_allclose(depth.fatten_edges(_ramp_depth(), radius=3).z, _ramp_depth().z)  # slopes kept
    with pytest.raises(InputError, match="radius must be an integer"):
        depth.fatten_edges(dm, radius=-1)


def test_preview_is_rgb_and_near_is_brighter():
    img = depth.preview(_ramp_depth())
    assert img.shape == (20, 30, 3) and img.dtype == np.uint8
    assert img[:, -1].sum() > img[:, 0].sum() + 300


def test_png_round_trip_keeps_16_bits(tmp_path):
    dm = _ramp_depth(10, 1000)
    depth.save_depth_png(dm, tmp_path / "d.png")
    with Image.open(tmp_path / "d.png") as im:
        assert im.mode.startswith("I")
    back = depth.load_depth(tmp_path / "d.png")
    np.testing.assert_allclose(back.relative, dm.relative, atol=2e-5)


@pytest.mark.parametrize("content, suffix, msg", [
    (b"", ".png", "cannot read depth image"),
    (b"\x89PNG garbage", ".png", "cannot read depth image"),
    (None, ".npy", "NaN/inf"),
])
def test_bad_depth_files_raise(tmp_path, content, suffix, msg):
    path = tmp_path / f"d{suffix}"
    if content is None:
        np.save(path, np.full((4, 4), np.nan, np.float32))
    else:
        path.write_bytes(content)
    with pytest.raises(InputError, match=msg):
        depth.load_depth(path)


def test_constant_depth_png_is_refused(tmp_path):
    Image.fromarray(np.full((8, 8), 128, np.uint8)).save(tmp_path / "flat.png")
    with pytest.raises(InputError, match="one flat value"):
        depth.load_depth(tmp_path / "flat.png")


# -- CLI ----------------------------------------------------------------------------------------------

def test_cli_estimates_offline_with_a_warning_and_writes_16_bit_png(astronaut, tmp_path, capsys):
    Image.fromarray(astronaut[::4, ::4]).save(tmp_path / "p.png")
    rc = cli.main(["depth", str(tmp_path / "p.png"), "-o", str(tmp_path / "d.png"), "--preview",
                   str(tmp_path / "v.png"), "--cache-dir", str(tmp_path / "c"), "--fatten", "2"])
    assert rc == 0
    assert "fell back to the classical estimator" in capsys.readouterr().err
    with Image.open(tmp_path / "d.png") as im:
        assert im.size == (128, 128) and im.mode.startswith("I")
    with Image.open(tmp_path / "v.png") as im:
        assert im.size == (128, 128) and im.mode == "RGB"


def test_cli_edits_an_imported_depth_with_a_mask(tmp_path):
    Image.fromarray(np.full((20, 30, 3), 90, np.uint8)).save(tmp_path / "p.png")
    depth.save_depth_png(_ramp_depth(), tmp_path / "in.png")
    mask = np.zeros((20, 30), np.uint8)
    mask[:, :5] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    rc = cli.main(["depth", str(tmp_path / "p.png"), "--depth", str(tmp_path / "in.png"), "--mask",
                   str(tmp_path / "m.png"), "--push", "0.5", "-o", str(tmp_path / "out.npy")])
    assert rc == 0
    z = np.load(tmp_path / "out.npy")
    assert z.shape == (20, 30) and z[:, :5].mean() < _ramp_depth().z[:, :5].mean()


@pytest.mark.parametrize("argv, msg", [
    (["-o", "x.jpg"], "must end in .png"),
    (["-o", "x.png", "--far", "0.9", "--near", "0.5"], "far"),
    (["-o", "x.png", "--estimator", "midas"], "HF_HUB_OFFLINE"),
])
def test_cli_errors_are_one_line_with_status_2(astronaut, tmp_path, capsys, argv, msg):
    Image.fromarray(astronaut[::8, ::8]).save(tmp_path / "p.png")
    argv = [a if a != "x.png" else str(tmp_path / "x.png") for a in argv]
    rc = cli.main(["depth", str(tmp_path / "p.png"), "--cache-dir", str(tmp_path / "c")] + argv)
    err = capsys.readouterr().err
    assert rc == 2 and msg in err and "Traceback" not in err


def test_cli_resamples_an_imported_depth_of_another_size_with_a_notice(tmp_path, capsys):
    Image.fromarray(np.full((40, 60, 3), 90, np.uint8)).save(tmp_path / "p.png")
    depth.save_depth_png(_ramp_depth(20, 30), tmp_path / "in.png")
    rc = cli.main(["depth", str(tmp_path / "p.png"), "--depth", str(tmp_path / "in.png"), "-o", str(tmp_path / "o.png")])
    assert rc == 0 and "resampled from 30x20 to 60x40" in capsys.readouterr().err
    with Image.open(tmp_path / "o.png") as im:
        assert im.size == (60, 40)


def test_classical_takes_no_model(photo):
    with pytest.raises(InputError, match="classical estimator takes no model"):
        depth.estimate(photo, "classical", model=object())


def test_edits_and_framing_keep_the_name_of_the_estimator_that_made_the_depth():
    """The scene treats estimated depth's edges as estimates (render/scene.py): an edited or fitted map is
    still the estimate it was, and depth given as an array stays given."""
    from dataclasses import replace

    from pipelines.core import schema
    from pipelines.core.photo import load_image
    from pipelines.depth import DepthMap
    from pipelines.render.framing import fit

    rel = np.zeros((60, 80), np.float32)
    rel[20:40, 30:50] = 1.0
    est = replace(DepthMap.from_relative(rel), estimator="classical")
    edited = depth.apply_settings(est, schema.DepthSettings(push=0.1, contrast=1.5, fatten=2))
    assert edited.estimator == "classical"
    photo = load_image(np.zeros((60, 80, 3), np.uint8))
    assert fit(photo, edited, (40, 40))[1].estimator == "classical"
    assert fit(photo, DepthMap.from_relative(rel), (40, 40))[1].estimator is None
