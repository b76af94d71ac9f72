"""The studio's Finish panel through the running app (gradio_client): a kept take in, a finished MP4, WebM
or GIF out; bad input gets a clear message and the kept take stays. The renderer and encoders are real;
depth is a stub (near at the bottom)."""
import wave

import numpy as np
import pytest
from PIL import Image
from studio_stubs import CountingDepth, decode, probe, serve_studio

FPS = 8


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve_studio(tmp_path_factory.mktemp("takes"), CountingDepth())


@pytest.fixture(scope="module")
def photo_file(tmp_path_factory, coffee) -> str:
    path = tmp_path_factory.mktemp("in") / "coffee.jpg"
    Image.fromarray(coffee).save(path, quality=92)
    return str(path)


def session(server, photo_file, preset="from the prompt", keep=(1,)):
    """A new browser session (its own kept takes) that generated two 1 s takes of 128x72 and kept ``keep``."""
    from gradio_client import Client, handle_file

    client = Client(server, verbose=False)
    client.predict(handle_file(photo_file), "slow push in", preset=preset, seed=4, num_takes=2, duration=1.0,
                   fps=FPS, long_side=128, api_name="/generate")
    for i in keep:
        client.predict(api_name=f"/keep_take_{i}")
    return client


def test_finish_before_keeping_says_keep_first(server):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=r"keep a take first \(the Keep button under it\)"):
        Client(server, verbose=False).predict(caption="Hi", api_name="/finish")


def test_own_audio_file_is_trimmed_to_the_video(server, photo_file, tmp_path):
    from gradio_client import handle_file

    wav = tmp_path / "tone.wav"
    t = np.arange(3 * 44100) / 44100
    with wave.open(str(wav), "wb") as w:  # 3 s of a 440 Hz tone; the video is 1 s
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(44100)
        w.writeframes((0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes())
    client = session(server, photo_file)
    video, gif, download, status = client.predict(sound="my audio file", audio_file=handle_file(str(wav)),
                                                  aspect="9:16", api_name="/finish")
    info = probe(video)
    v = info["streams"]["video"]
    assert info["size"] == (40, 72) and (v["codec"], v["pix_fmt"]) == ("h264", "yuv420p")
    assert info["streams"]["audio"]["codec"] == "aac" and abs(info["streams"]["audio"]["duration"] - 1.0) < 0.1
    assert "Finished take1-dolly-in-seed4" in status
    assert "the 9:16 crop keeps 40x72 pixels of the 128x72 take; make the takes in 9:16" in status


def test_webm_seamless_loop_and_gif_boomerang(server, photo_file):
    client = session(server, photo_file, keep=(1, 2))
    video, gif, download, _ = client.predict(take="take1-dolly-in-seed4-strength0.30.mp4", sound="sea",
                                             format="webm", loop="seamless", api_name="/finish")
    info = probe(video)
    assert info["streams"]["video"]["codec"] == "vp9" and info["streams"]["audio"]["codec"] == "opus"
    assert info["size"] == (128, 72)
    video, gif, download, status = client.predict(format="gif", loop="boomerang", api_name="/finish")
    assert video is None and gif is not None and download.endswith(".gif")
    assert "take2-dolly-in-seed5" in status  # no choice: the take kept last
    with Image.open(download) as img:
        assert img.format == "GIF" and img.size == (128, 72) and img.n_frames > 8
        assert img.info.get("loop") == 0  # loops forever


def test_bad_input_gets_a_clear_message_and_the_kept_take_stays(server, photo_file, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    client = session(server, photo_file)
    junk = tmp_path / "song.mp3"
    junk.write_text("this is not audio " * 100)
    with pytest.raises(AppError, match="song.mp3") as err:
        client.predict(sound="my audio file", audio_file=handle_file(str(junk)), api_name="/finish")
    assert "kept takes are unchanged" in str(err.value)
    with pytest.raises(AppError, match="upload an audio file"):
        client.predict(sound="my audio file", api_name="/finish")
    with pytest.raises(AppError, match=r"\(5000 characters\): String should have at most 500 characters") as err:
        client.predict(caption="x" * 5000, api_name="/finish")
    assert len(str(err.value)) < 300
    with pytest.raises(AppError, match=r"not one of your kept takes; choose one of: take1-"):
        client.predict(take="../../etc/passwd", api_name="/finish")
    # The server still serves, and the kept take still finishes.
    video, *_ = client.predict(caption="Still here", sound="wind", api_name="/finish")
    assert decode(video).shape == (FPS, 72, 128, 3)


def test_closed_path_finishes_as_a_loop_without_a_jump(server, photo_file):
    """A circle take is a closed path: the seamless loop plays it as it is (no crossfade, same length), and
    the step from the last frame back to the first is no bigger than the steps between neighbours."""
    client = session(server, photo_file, preset="circle")
    video, *_ = client.predict(loop="seamless", api_name="/finish")
    frames = decode(video).astype(np.float32)
    assert frames.shape == (FPS, 72, 128, 3)
    steps = [np.abs(frames[i + 1] - frames[i]).mean() for i in range(len(frames) - 1)]
    assert np.abs(frames[0] - frames[-1]).mean() <= max(steps) * 1.1
