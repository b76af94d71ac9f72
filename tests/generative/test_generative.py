"""The generative engine with tiny random pipelines: the real diffusers pipelines run end to end on the CPU;
spies on the pipelines' own steps check that the photo, the draft, the depth of the camera path and the
masks reach the model as designed."""
import threading

import numpy as np
import pytest

from pipelines.generative import engine as generative
import tiny_models as gt
from pipelines.core.errors import InputError, ModelUnavailableError

T, H, W = 9, 32, 32


@pytest.fixture(scope="module")
def take():
    """A synthetic dolly-in: a gradient photo; background and a near square both approach the camera;
    a hole strip on the right widens with time. depth is z-depth in world units."""
    yy, xx = np.mgrid[0:H, 0:W]
    photo = np.stack([xx * 255 // (W - 1), yy * 255 // (H - 1), (xx + yy) * 255 // (W + H - 2)], -1).astype(np.uint8)
    draft = np.stack([np.roll(photo, -t, axis=1) for t in range(T)])
    depth = np.empty((T, H, W), np.float32)
    holes = np.zeros((T, H, W), np.uint8)
    for t in range(T):
        depth[t] = 4.0 - 0.3 * t
        depth[t, 8:24, 8:24] = 1.5 - 0.1 * t
        holes[t, :, W - t:] = 255
    return dict(photo=photo, draft=draft, depth=depth, holes=holes)


@pytest.fixture(scope="module")
def pipes():
    return {name: gt.tiny_pipeline(name) for name in generative.BACKENDS}


def _run(backend, take, pipe, **kw):
    args = dict(prompt="waves roll in", seed=3, strength=0.5, num_inference_steps=2, pipe=pipe)
    args.update(kw)
    return generative.generate(backend, **take, **args)


def _spy(monkeypatch, obj, name, record):
    original = getattr(obj, name)

    def spy(*args, **kwargs):
        record.append((args, kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(obj, name, spy)


# ----------------------------------------------------------------------------------------------------
# Planning and conventions (pure functions, known answers)


def test_backends_listed_with_presets():
    assert generative.list_backends() == ["wan-vace", "animatediff-depth", "svd"]
    assert generative.get_preset("wan-vace").repo == "Wan-AI/Wan2.1-VACE-1.3B-diffusers"
    assert generative.get_preset("wan-vace").licence == "Apache-2.0"


def test_plan_frames_rounds_to_what_each_model_accepts():
    wan, anim = generative.get_preset("wan-vace"), generative.get_preset("animatediff-depth")
    assert [generative.plan_frames(wan, n) for n in (1, 9, 10, 12, 120)] == [5, 9, 9, 13, 81]
    assert [generative.plan_frames(anim, n) for n in (1, 16, 40)] == [1, 16, 16]


def test_plan_size_keeps_aspect_within_area_and_multiples():
    wan = generative.get_preset("wan-vace")
    h, w = generative.plan_size(wan, 720, 1280)
    assert (h % 16, w % 16) == (0, 0) and h * w <= wan.max_area
    assert abs(w / h - 1280 / 720) < 0.05
    assert generative.plan_size(wan, 32, 48) == (32, 48)  # already acceptable: untouched


def test_depth_to_control_is_clip_normalised_disparity_white_near():
    depth = np.array([[[1.0, 2.0]], [[4.0, np.inf]]], np.float32)  # (T=2, H=1, W=2)
    # disparity 1, 0.5, 0.25, (nothing seen -> farthest 0.25): 1 -> 255, 0.25 -> 0, 0.5 -> 85
    np.testing.assert_array_equal(generative.depth_to_control(depth), [[[255, 85]], [[0, 0]]])


def test_frame_indices_keep_first_and_last():
    np.testing.assert_array_equal(generative.frame_indices(5, 9), [0, 1, 1, 2, 2, 3, 3, 4, 4])
    np.testing.assert_array_equal(generative.frame_indices(120, 3), [0, 60, 119])


# ----------------------------------------------------------------------------------------------------
# wan-vace


def test_wan_vace_first_frame_is_photo_then_depth_of_the_path(take, pipes, monkeypatch):
    seen = []
    _spy(monkeypatch, pipes["wan-vace"], "prepare_video_latents", seen)
    result = _run("wan-vace", take, pipes["wan-vace"])
    video, mask = seen[0][0][0], seen[0][0][1]  # (1, 3, T, H, W) in [-1, 1]; (1, 3, T, H, W) in {0, 1}
    assert video.shape == (1, 3, T, H, W)
    np.testing.assert_allclose(video[0, :, 0].permute(1, 2, 0).numpy(), take["photo"] / 127.5 - 1, atol=1e-5)
    control = generative.depth_to_control(take["depth"])
    for t in range(1, T):  # grey depth images, white = near, in the camera path's order
        for c in range(3):
            np.testing.assert_allclose(video[0, c, t].numpy(), control[t] / 127.5 - 1, atol=1e-5)
    brightness = video[0, 0, 1:].mean(dim=(1, 2)).numpy()
    assert np.all(np.diff(brightness) > 0)  # dolly-in: everything gets nearer, so brighter
    assert video[0, 0, T - 1, 16, 16] == pytest.approx(1.0)  # nearest point of the clip is white
    m = mask[0, 0].numpy()
    assert m[0].max() == 0 and m[1:].min() == 1  # keep frame 0, generate the rest
    assert result.frames.shape == (T, H, W, 3) and result.frames.dtype == np.uint8


def test_wan_vace_same_seed_same_video_and_prompt_matters(take, pipes):
    a = _run("wan-vace", take, pipes["wan-vace"], seed=5)
    b = _run("wan-vace", take, pipes["wan-vace"], seed=5)
    c = _run("wan-vace", take, pipes["wan-vace"], seed=6)
    d = _run("wan-vace", take, pipes["wan-vace"], seed=5, prompt="a storm")
    np.testing.assert_array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, c.frames)
    assert not np.array_equal(a.frames, d.frames)
    assert a.settings["seed"] == 5 and a.settings["model_frames"] == T


def test_wan_vace_rounds_frames_and_size_then_restores_the_takes(take, pipes):
    t, h, w = 11, 24, 40
    odd = dict(photo=take["photo"], draft=np.resize(take["draft"], (t, h, w, 3)).astype(np.uint8),
               depth=np.resize(take["depth"], (t, h, w)).astype(np.float32), holes=np.zeros((t, h, w), np.uint8))
    result = _run("wan-vace", odd, pipes["wan-vace"])
    assert result.frames.shape == (t, h, w, 3)
    assert result.settings["model_frames"] == 9 and result.settings["model_size"] == [48, 32]
    assert any("9 frames" in n for n in result.notices) and any("48x32" in n for n in result.notices)


# ----------------------------------------------------------------------------------------------------
# animatediff-depth


def test_animatediff_draft_is_the_video_and_depth_the_control(take, pipes, monkeypatch):
    pipe = pipes["animatediff-depth"]
    latents_calls, control_calls = [], []
    _spy(monkeypatch, pipe, "prepare_latents", latents_calls)
    _spy(monkeypatch, pipe.controlnet, "forward", control_calls)
    steps = []
    result = _run("animatediff-depth", take, pipe, strength=0.5, num_inference_steps=4,
                  progress=lambda f, msg: steps.append(f))
    video = latents_calls[0][1].get("video", latents_calls[0][0][0] if latents_calls[0][0] else None)
    assert video.shape == (1, T, 3, H, W)  # (B, F, C, H, W) in [-1, 1]
    np.testing.assert_allclose(video[0].permute(0, 2, 3, 1).numpy(), take["draft"] / 127.5 - 1, atol=1e-5)
    cond = control_calls[0][1]["controlnet_cond"]  # (B*F, 3, H, W) in [0, 1]
    control = generative.depth_to_control(take["depth"])
    np.testing.assert_allclose(cond[:T, 0].numpy(), control / 255.0, atol=1e-5)
    # strength 0.5 of 4 steps: the img2img schedule runs 2 of them
    assert steps[1:-1] == [0.5, 1.0]
    assert result.frames.shape == (T, H, W, 3)


def test_animatediff_same_seed_same_video(take, pipes):
    a = _run("animatediff-depth", take, pipes["animatediff-depth"], seed=1)
    b = _run("animatediff-depth", take, pipes["animatediff-depth"], seed=1)
    c = _run("animatediff-depth", take, pipes["animatediff-depth"], seed=2)
    np.testing.assert_array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, c.frames)


def test_animatediff_strength_zero_still_runs_one_step(take, pipes):
    result = _run("animatediff-depth", take, pipes["animatediff-depth"], strength=0.0, num_inference_steps=2)
    assert result.settings["strength"] == 0.0
    assert any("raised to 0.5" in n for n in result.notices)


# ----------------------------------------------------------------------------------------------------
# svd


def test_svd_photo_is_the_condition_and_strength_the_motion_bucket(take, pipes, monkeypatch):
    pipe = pipes["svd"]
    images, time_ids = [], []
    _spy(monkeypatch, pipe, "_encode_vae_image", images)
    _spy(monkeypatch, pipe, "_get_add_time_ids", time_ids)
    a = _run("svd", take, pipe, strength=0.5, seed=4)
    seen = images[0][0][0][0].permute(1, 2, 0).numpy()  # the photo in [-1, 1] plus SVD's 0.02 noise augmentation
    assert seen.shape == (H, W, 3) and np.abs(seen - (take["photo"] / 127.5 - 1)).mean() < 0.03
    assert time_ids[0][0][1] == 127  # strength 0.5 is the pipeline's default bucket
    b = _run("svd", take, pipe, strength=0.5, seed=4)
    np.testing.assert_array_equal(a.frames, b.frames)
    assert a.frames.shape == (T, H, W, 3)
    assert any("no text prompt" in n for n in a.notices)


def test_svd_strength_maps_to_the_documented_micro_conditioning():
    from pipelines.generative.backends import svd_motion

    settings = generative.get_preset("svd").settings
    # strength 0.5 is the pipeline's default pair; the docs' "more motion" pair is (180, 0.1)
    assert svd_motion(0.5, settings) == (127, 0.02)
    assert svd_motion(0.5 + 53 / 256, settings) == (180, 0.1)
    assert svd_motion(0.0, settings) == (1, 0.02) and svd_motion(1.0, settings) == (255, 0.1)
    assert svd_motion(0.6, settings) == (153, round(0.02 + 0.08 * 26 / 53, 4))


def test_every_preset_default_cites_its_source():
    for name in generative.list_backends():
        preset = generative.get_preset(name)
        for key in ("num_inference_steps", "guidance_scale", "max_frames", "max_area", "reference_seconds",
                    *preset.settings):
            assert preset.citations.get(key), f"{name}: {key} has no citation"


# ----------------------------------------------------------------------------------------------------
# Progress, cancel, errors


@pytest.mark.parametrize("backend", ["wan-vace", "svd"])  # a pipeline that honours pipe._interrupt, one that does not
def test_cancel_stops_the_run(take, pipes, backend):
    cancel = threading.Event()
    calls = []

    def progress(fraction, message):
        calls.append(fraction)
        if fraction > 0:
            cancel.set()

    with pytest.raises(generative.GenerationCancelled):
        _run(backend, take, pipes[backend], num_inference_steps=4, progress=progress, cancel=cancel)
    assert 0 < len(calls) <= 3  # "loading" then one step, perhaps two; never the last
    result = _run(backend, take, pipes[backend])  # the pipeline still serves the next request
    assert result.frames.shape == (T, H, W, 3)


def test_out_of_memory_becomes_model_unavailable(take):
    import torch

    class OOMPipe:
        def __call__(self, **kwargs):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    with pytest.raises(ModelUnavailableError, match="ran out of GPU memory at 9 frames of 32x32"):
        _run("wan-vace", take, OOMPipe())


def test_unknown_backend_is_input_error(take):
    with pytest.raises(InputError, match="'sora'.*wan-vace"):
        _run("sora", take, None)


def test_mismatched_depth_is_input_error(take):
    bad = dict(take, depth=take["depth"][:-1])
    with pytest.raises(InputError, match="same camera path"):
        _run("wan-vace", bad, None)


def test_strength_out_of_range_is_input_error(take):
    with pytest.raises(InputError, match="strength must be 0..1, got 1.5"):
        _run("wan-vace", take, None, strength=1.5)


# ----------------------------------------------------------------------------------------------------
# Availability and loading


def test_unavailable_without_gpu(monkeypatch):
    monkeypatch.setattr(generative, "default_device", lambda: "cpu")
    avail = generative.availability("wan-vace")
    assert not avail.ok and "GPU" in avail.reason and "parallax" in avail.fix


def test_unavailable_without_weights(tmp_path):
    avail = generative.availability("animatediff-depth", device="cpu", sources={
        "repo": str(tmp_path), "motion_adapter": str(tmp_path), "controlnet": str(tmp_path)})
    assert not avail.ok and "weights" in avail.reason and "huggingface-cli download" in avail.fix


def test_unavailable_without_memory_then_available(tmp_path, monkeypatch):
    (tmp_path / "model_index.json").write_text("{}")
    monkeypatch.setattr(generative, "_memory_gib", lambda device: 4.0)
    avail = generative.availability("wan-vace", device="cuda", sources={"repo": str(tmp_path)})
    assert not avail.ok and "8.2 GiB" in avail.reason and "4.0 GiB" in avail.reason
    monkeypatch.setattr(generative, "_memory_gib", lambda device: 24.0)
    assert generative.availability("wan-vace", device="cuda", sources={"repo": str(tmp_path)}).ok


def test_load_pipeline_from_pretrained_once_per_process(tmp_path, pipes, take):
    pipes["wan-vace"].save_pretrained(tmp_path)
    try:
        pipe = generative.load_pipeline("wan-vace", device="cpu", sources={"repo": str(tmp_path)})
        assert type(pipe).__name__ == "WanVACEPipeline"
        assert generative.load_pipeline("wan-vace", device="cpu", sources={"repo": str(tmp_path)}) is pipe
        result = generative.generate("wan-vace", **take, prompt="x", seed=1, num_inference_steps=2,
                                     device="cpu", pipe=pipe)
        assert result.frames.shape == (T, H, W, 3)
    finally:
        generative.unload_all()


def test_load_pipeline_without_weights_is_model_unavailable(tmp_path):
    with pytest.raises(ModelUnavailableError, match="could not load"):
        generative.load_pipeline("wan-vace", device="cpu", sources={"repo": str(tmp_path / "none")})
