"""The studio with the generative engine: photo to finished MP4 through a tiny Wan VACE injected into the
Studio (Python API) and into the running app (gradio_client); the honest fallback when the engine cannot
run here; Stop. Depth is a stub (near at the bottom); the parallax renderer, the model and the encoders
are real."""
import functools
import threading

import numpy as np
import pytest
from studio_stubs import CountingDepth, decode, probe, serve_studio

from pipelines.generative import engine as generative
import tiny_models as gt
from pipelines import studio as st
from pipelines.core.errors import InputError

TAKE = dict(duration=0.5, fps=8, aspect="16:9", long_side=128, num_inference_steps=2)  # 4 frames of 128x72


@pytest.fixture(scope="module")
def pipelines_loaded():
    """The tiny pipeline per engine, built once (as the real ones are loaded once per process); counts loads."""
    loads = []

    @functools.lru_cache(maxsize=None)
    def pipeline(engine):
        loads.append(engine)
        return gt.tiny_pipeline(engine)

    pipeline.loads = loads
    return pipeline


@pytest.fixture(scope="module")
def studio(tmp_path_factory, pipelines_loaded):
    return st.Studio(output_root=tmp_path_factory.mktemp("takes"),
                     stages=st.Stages(depth=CountingDepth(), pipeline=pipelines_loaded))


def test_photo_to_finished_mp4_through_wan_vace(studio, astronaut, pipelines_loaded):
    result = studio.generate(astronaut, prompt="she waves, slow push in", seed=5, num_takes=2, engine="wan-vace",
                             negative_prompt="blurry", **TAKE)
    assert [t.recipe.engine for t in result.takes] == ["wan-vace", "wan-vace"]
    assert [t.settings.seed for t in result.takes] == [5, 6]
    assert result.takes[0].label.endswith(" - wan-vace")
    recipe = result.takes[0].recipe
    assert (recipe.generative.prompt, recipe.generative.negative_prompt) == ("she waves, slow push in", "blurry")
    assert recipe.generative_ran["num_inference_steps"] == 2
    # The model runs at the sizes it accepts (4k+1 frames, multiples of 16) and says so.
    assert any("generates 5 frames" in n for n in result.notices)
    assert any("works at 128x80" in n for n in result.notices)
    assert pipelines_loaded.loads.count("wan-vace") == 1  # one pipeline for both takes

    frames = decode(result.takes[0].video)
    assert frames.shape == (4, 72, 128, 3)
    # The tiny model's output is not the parallax take: the model redrew it.
    draft = decode(studio.generate(astronaut, prompt="she waves, slow push in", seed=5, **TAKE).takes[0].video)
    assert np.abs(frames.astype(int) - draft.astype(int)).mean() > 10

    # Finish the kept take: caption, sea bed, 9:16, MP4.
    done = studio.finish(result.takes[0].video, caption="Hello", audio="sea", aspect="9:16")
    info = probe(done.path)
    assert info["size"] == (40, 72)  # the 72 px height kept; 9:16 of it, even
    v = info["streams"]["video"]
    assert (v["codec"], v["pix_fmt"]) == ("h264", "yuv420p")
    assert info["streams"]["audio"]["codec"] == "aac" and abs(info["streams"]["audio"]["duration"] - 0.5) < 0.1
    assert abs(info["streams"]["video"]["duration"] - 0.5) <= 1 / 8 + 1e-6
    assert not any("no depth map" in n for n in done.notices)  # the take's own depth centred the crop
    assert result.takes[0].video.is_file()  # the take itself stays


def test_same_seed_same_generative_take(studio, astronaut):
    a = studio.generate(astronaut, prompt="waves", seed=9, engine="wan-vace", **TAKE).takes[0]
    b = studio.generate(astronaut, prompt="waves", seed=9, engine="wan-vace", **TAKE).takes[0]
    c = studio.generate(astronaut, prompt="waves", seed=10, engine="wan-vace", **TAKE).takes[0]
    fa, fb, fc = decode(a.video), decode(b.video), decode(c.video)
    assert np.array_equal(fa, fb)
    assert np.abs(fa.astype(int) - fc.astype(int)).mean() > 0.3  # the tiny model draws near-grey noise


def test_unavailable_engine_delivers_parallax_takes_with_reason_and_fix(tmp_path, astronaut, monkeypatch):
    monkeypatch.setattr(generative, "default_device", lambda: "cpu")
    studio = st.Studio(output_root=tmp_path, stages=st.Stages(depth=CountingDepth()))  # no pipeline: the real check runs
    status = studio.engine_status("wan-vace")
    assert not status.ok and "GPU" in status.reason and "parallax" in status.fix
    result = studio.generate(astronaut, seed=1, num_takes=2, engine="wan-vace", **TAKE)
    assert [t.recipe.engine for t in result.takes] == ["parallax", "parallax"]
    assert result.takes[0].label.endswith("parallax (wan-vace did not run)")
    assert len([n for n in result.notices if "needs a CUDA or Apple MPS GPU" in n]) == 1  # said once
    assert decode(result.takes[1].video).shape == (4, 72, 128, 3)


def test_out_of_memory_delivers_the_parallax_take_and_the_studio_keeps_serving(tmp_path, astronaut):
    import torch

    class OutOfMemoryPipe:
        def __call__(self, **kwargs):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    pipes = {"wan-vace": OutOfMemoryPipe()}
    studio = st.Studio(output_root=tmp_path, stages=st.Stages(depth=CountingDepth(), pipeline=pipes.get))
    result = studio.generate(astronaut, seed=1, engine="wan-vace", **TAKE)
    assert result.takes[0].recipe.engine == "parallax"
    assert any("ran out of GPU memory at 5 frames of 128x80" in n and "parallax take was delivered" in n
               for n in result.notices)
    pipes["wan-vace"] = gt.tiny_pipeline("wan-vace")  # memory freed: the next click runs the model
    assert studio.generate(astronaut, seed=1, engine="wan-vace", **TAKE).takes[0].recipe.engine == "wan-vace"


def test_stop_during_the_model_delivers_the_parallax_take_and_skips_the_rest(tmp_path, astronaut):
    cancel = threading.Event()

    def progress(frac, msg):
        if "step 1/" in msg:  # the model's first denoising step
            cancel.set()

    studio = st.Studio(output_root=tmp_path, stages=st.Stages(depth=CountingDepth(), pipeline=gt.tiny_pipeline))
    result = studio.generate(astronaut, seed=3, num_takes=3, engine="wan-vace", progress=progress, cancel=cancel,
                             **TAKE)
    assert len(result.takes) == 1
    take = result.takes[0]
    assert take.recipe.engine == "parallax" and take.recipe.generative_ran["cancelled"] is True
    assert "cancelled: 1 of 3 take(s) made" in result.notices
    parallax = st.Studio(output_root=tmp_path, stages=st.Stages(depth=CountingDepth())).generate(astronaut, seed=3, **TAKE)
    assert np.array_equal(decode(take.video), decode(parallax.takes[0].video))


def test_stop_before_the_first_take_is_a_clear_error(tmp_path, astronaut):
    cancel = threading.Event()
    cancel.set()
    studio = st.Studio(output_root=tmp_path, stages=st.Stages(depth=CountingDepth()))
    with pytest.raises(generative.GenerationCancelled, match="stopped before the first take was made"):
        studio.generate(astronaut, cancel=cancel, **TAKE)


def test_unknown_engine_is_input_error_naming_the_engines(studio, astronaut):
    with pytest.raises(InputError, match="generative engine 'sora' is unknown; choose one of: wan-vace"):
        studio.generate(astronaut, engine="sora", **TAKE)
    with pytest.raises(InputError, match="unknown"):
        studio.engine_status("sora")


def test_engines_list_parallax_first_then_every_backend():
    names = [name for _, name in st.engines()]
    assert names == ["parallax", *generative.list_backends()]


# -- the same path through the running app ----------------------------------------------------------------

@pytest.fixture(scope="module")
def client(tmp_path_factory, pipelines_loaded):
    from gradio_client import Client

    gen = serve_studio(tmp_path_factory.mktemp("app-takes"), CountingDepth(), pipeline=pipelines_loaded)
    url = next(gen)
    yield Client(url, verbose=False)
    gen.close()


def test_app_photo_to_finished_mp4_through_wan_vace(client, tmp_path, astronaut):
    from gradio_client import handle_file
    from PIL import Image

    photo = tmp_path / "photo.jpg"
    Image.fromarray(astronaut).save(photo, quality=92)
    note, _ = client.predict("wan-vace", api_name="/engine_status")
    assert "wan-vace: ready" in note
    out = client.predict(handle_file(str(photo)), "she waves", seed=2, num_takes=2, duration=0.5, fps=8,
                         long_side=128, engine="wan-vace", negative_prompt="blurry", api_name="/generate")
    recipes = out[7]
    assert [r["engine"] for r in recipes] == ["wan-vace", "wan-vace"]
    assert "works at 128x80" in out[6]
    client.predict(api_name="/keep_take_2")
    video, gif, download, status = client.predict(caption="Hello", sound="rain", aspect="1:1", format="mp4",
                                                  api_name="/finish")
    assert gif is None and video == download and "Finished take2-" in status
    info = probe(video)
    assert info["size"] == (72, 72) and info["streams"]["audio"]["codec"] == "aac"
    assert decode(video).shape == (4, 72, 72, 3)
