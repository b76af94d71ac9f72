"""The studio's takes while they render and after: the first take streams as segments before it is whole (a
preview encode), and keeping it gives its quality encode of the very same frames (now, or already in the
background), in a file of its own: the preview, which a player or a download may still be reading, is never
written again. A take whose photo left memory stays the preview its recipe says it is."""
import time
from pathlib import Path

import numpy as np
import pytest
from studio_stubs import CountingDepth, decode

from pipelines import studio as st
from pipelines.core import recipe as recipes
from pipelines.core.photo import Photo
from pipelines.render.take import render_take
from pipelines.studio.quality import quality_path


@pytest.fixture
def studio(tmp_path):
    return st.Studio(output_root=tmp_path / "out", stages=st.Stages(depth=CountingDepth()))


def test_the_first_take_streams_as_segments_before_it_is_whole(studio, astronaut):
    photo = Photo(np.ascontiguousarray(astronaut[::4, ::4]))
    results, chunks = [], []
    for r in studio.iter_generate(photo, prompt="orbit", seed=2, num_takes=2, duration=2.0, fps=8, long_side=96,
                                  stream=True):
        results.append(r)
        chunks += [r.live.path.read_bytes()] if r.live else []  # read as they come: they go with the click
    live = [r for r in results if r.live is not None]
    assert live and all(not r.takes for r in live)  # every segment came before take 1 was delivered
    first = results.index(live[0])
    assert first == 1 and not results[0].takes  # the settings' result, then segments
    assert [r.live.index for r in live] == list(range(len(live))) == [0, 1, 2, 3]  # 2 s in 0.5 s segments
    take1 = results[-1].takes[0]
    (studio.outputs.root / "all.ts").write_bytes(b"".join(chunks))
    assert np.array_equal(decode(studio.outputs.root / "all.ts"), decode(take1.video))  # the same encode
    assert [t.recipe.encode for t in results[-1].takes] == ["preview", "quality"]  # only the streamed one
    assert not live[0].live.path.parent.exists()  # the segments went with the click; the videos stay
    assert not any(r.live for r in studio.iter_generate(photo, num_takes=1, duration=0.5, fps=8, long_side=96))


def test_keeping_a_take_makes_it_the_quality_encode_of_the_same_frames(studio, astronaut, tmp_path):
    photo = Photo(np.ascontiguousarray(astronaut[::4, ::4]))
    studio.quality.later = lambda videos: None  # no background encode: Keep does it
    take = studio.generate(photo, prompt="orbit", seed=2, num_takes=1, duration=0.5, fps=8, long_side=96,
                           stream=True).takes[0]
    assert take.recipe.encode == "preview"
    s = take.settings
    fitted = studio.photos.fitted_by_key(take.recipe.source.photo_sha256, (s.width, s.height))
    reference = render_take(fitted.photo, fitted.depth, s, video=tmp_path / "ref.mp4").video

    preview = take.video.read_bytes()
    kept = studio.keep(take.video)
    assert kept == take.video.with_name(take.video.stem + "-quality.mp4")
    assert recipes.load(str(kept) + ".json").encode == "quality"
    assert kept.read_bytes() == reference.read_bytes()  # byte for byte: same frames, same encode
    assert take.video.read_bytes() == preview and recipes.load(str(take.video) + ".json").encode == "preview"
    t0 = time.perf_counter()
    assert studio.keep(take.video) == kept  # kept again: the quality file is there
    assert time.perf_counter() - t0 < 0.5 and kept.read_bytes() == reference.read_bytes()
    assert studio.keep(kept) == kept  # the quality file itself, kept (Finish keeps what Keep returned)


def test_the_quality_encodes_start_in_the_background_once_the_click_is_done(studio, astronaut):
    photo = Photo(np.ascontiguousarray(astronaut[::4, ::4]))
    made = studio.generate(photo, prompt="orbit", seed=2, num_takes=2, duration=0.5, fps=8, long_side=96,
                           stream=True).takes
    previews = [t.video.read_bytes() for t in made]
    wanted = [quality_path(made[0].video), made[1].video]  # take 2 did not stream: it is a quality encode
    deadline = time.time() + 60
    while time.time() < deadline and not Path(str(wanted[0]) + ".json").is_file():
        time.sleep(0.05)
    assert [recipes.load(str(v) + ".json").encode for v in wanted] == ["quality", "quality"]
    assert [t.video.read_bytes() for t in made] == previews  # what the page plays is never written again
    assert [studio.keep(t.video) for t in made] == wanted


def test_keeping_a_take_whose_photo_left_memory_keeps_the_preview(tmp_path, astronaut, coffee):
    studio = st.Studio(output_root=tmp_path / "out", cache_size=1, stages=st.Stages(depth=CountingDepth()))
    studio.quality.later = lambda videos: None  # no background encodes: the take stays a preview
    first = studio.generate(Photo(np.ascontiguousarray(astronaut[::4, ::4])), num_takes=1, duration=0.25, fps=8,
                            long_side=64, stream=True).takes[0]
    assert first.recipe.encode == "preview"
    for other in (coffee, astronaut[::-1]):  # two more photos: the first one's photo and sizes leave memory
        studio.generate(Photo(np.ascontiguousarray(other[::4, ::4])), num_takes=1, duration=0.25, fps=8, long_side=64)
    assert studio.quality.ensure(first.video) is None
    assert studio.keep(first.video) == first.video
    assert recipes.load(str(first.video) + ".json").encode == "preview"  # the recipe tells the truth


def test_keeping_a_living_photo_take_moves_its_regions_the_same_way(studio, astronaut, tmp_path):
    from pipelines.living import load_motion

    pixels = np.ascontiguousarray(astronaut[::4, ::4])
    mask = np.zeros(pixels.shape[:2], bool)
    mask[:40] = True  # the top rows flow
    take = studio.generate(Photo(pixels), prompt="orbit", seed=2, num_takes=1, duration=0.5, fps=8, long_side=96,
                           motion=[{"mask": mask, "type": "flow", "direction_deg": 0, "speed": 1.0}],
                           stream=True).takes[0]
    assert take.recipe.motion is not None and take.recipe.encode == "preview"
    kept = studio.keep(take.video)
    assert recipes.load(str(kept) + ".json").encode == "quality"
    s = take.settings
    fitted = studio.photos.fitted_by_key(take.recipe.source.photo_sha256, (s.width, s.height))
    moving = load_motion(take.recipe.motion, fitted.photo.size, base_dir=kept.parent)
    ref = render_take(fitted.photo, fitted.depth, s, video=tmp_path / "ref.mp4", motion=moving).video
    assert kept.read_bytes() == ref.read_bytes()
