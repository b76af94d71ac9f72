"""The app end to end: a real server on 127.0.0.1, called with the real gradio_client.

The studio behind the server uses the real renderer and encoder; depth is a stub (a known gradient) so the
test does not depend on the depth estimator's speed. `test_python_app_py_honours_port_env` starts
`python app.py` itself, with the real depth stage.
"""
import base64
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from studio_stubs import CountingDepth, decode, free_port, serve_studio

from pipelines.ui import handlers

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def photo_file(tmp_path_factory, astronaut) -> str:
    path = tmp_path_factory.mktemp("in") / "photo.jpg"
    Image.fromarray(astronaut).save(path, quality=92)
    return str(path)


@pytest.fixture(scope="module")
def depth_fn():
    return CountingDepth()


@pytest.fixture(scope="module")
def server(tmp_path_factory, depth_fn):
    yield from serve_studio(tmp_path_factory.mktemp("takes"), depth_fn)


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


def call(client, photo, seed=5, takes=2, prompt="slow push in", strength=0.5, vary="seed", duration=0.5, fps=8,
         aspect="16:9", long_side=128, preset=handlers.FROM_PROMPT):
    from gradio_client import handle_file

    return client.predict(handle_file(photo) if photo else None, prompt, preset, strength, seed, False,
                          takes, vary, duration, fps, aspect, long_side, api_name="/generate")


def test_generate_returns_videos_of_requested_frames_and_size(client, photo_file):
    out = call(client, photo_file, takes=3, aspect="9:16", long_side=96, duration=0.75, fps=8)
    videos, depth_png, plan, status, recipes = out[:4], out[4], out[5], out[6], out[7]
    assert videos[3] is None
    for v in videos[:3]:
        assert decode(v).shape == (6, 96, 54, 3)
    assert [r["settings"]["seed"] for r in recipes] == [5, 6, 7]
    assert "Dolly in - gentle" in plan and "3 take(s)" in status
    assert np.asarray(Image.open(depth_png)).ndim == 2


def test_same_seed_same_video_other_seed_other_video(client, photo_file):
    a = decode(call(client, photo_file, seed=11, takes=1)[0])
    b = decode(call(client, photo_file, seed=11, takes=1)[0])
    c = decode(call(client, photo_file, seed=12, takes=1)[0])
    assert np.array_equal(a, b)
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 0.5


def test_takes_arrive_one_by_one(client, photo_file):
    from gradio_client import handle_file

    job = client.submit(handle_file(photo_file), "slow push in", seed=3, num_takes=2, duration=0.5, fps=8,
                        long_side=128, api_name="/generate")
    final = job.result()
    steps = job.outputs()
    assert len(steps) == 3 and steps[-1] == final
    start, first = steps[0], steps[1]
    # At once: the old takes cleared, two slots waiting.
    assert start[:4] == (None,) * 4 and "Rendering 2 take(s)" in start[6]
    assert start[7] == [{"label": f"Take {i} - rendering", "pending": True} for i in (1, 2)]
    # Then take 1 while take 2 renders, then both.
    assert first[0] is not None and first[1] is None and "1 of 2 takes ready" in first[6]
    assert [r.get("settings", {}).get("seed") for r in first[7]] == [3, None] and first[7][1]["pending"]
    assert "2 take(s) of 0.5 s" in final[6] and not any(r.get("pending") for r in final[7])


def test_stop_delivers_the_takes_made_so_far(server, photo_file):
    from gradio_client import Client, handle_file

    client = Client(server, verbose=False)  # one session: /stop reaches this session's click
    job = client.submit(handle_file(photo_file), "orbit", seed=1, num_takes=4, duration=3.0, fps=30, long_side=480,
                        api_name="/generate")
    deadline = time.time() + 60
    while len(job.outputs()) < 2 and time.time() < deadline:  # the first take is out; the second renders
        time.sleep(0.05)
    assert "Stopping" in client.predict(api_name="/stop")
    final = job.result()
    made = [v for v in final[:4] if v]
    assert 1 <= len(made) < 4 and f"cancelled: {len(made)} of 4 take(s) made" in final[6]
    assert decode(made[-1]).shape == (90, 270, 480, 3)  # the last take delivered is whole


def test_depth_computed_once_for_repeated_clicks(client, photo_file, depth_fn):
    call(client, photo_file, seed=1, takes=1)
    before = depth_fn.calls
    call(client, photo_file, seed=2, takes=2)
    assert depth_fn.calls == before


def test_four_concurrent_clients_each_get_their_own_result(server, photo_file):
    from gradio_client import Client

    sizes = {0: ("16:9", 128, (72, 128)), 1: ("9:16", 128, (128, 72)), 2: ("1:1", 96, (96, 96)),
             3: ("4:5", 160, (160, 128))}
    results, errors = {}, []

    def one(i):
        try:
            aspect, side, _ = sizes[i]
            results[i] = call(Client(server, verbose=False), photo_file, seed=100 + i, takes=1, aspect=aspect,
                              long_side=side)
        except Exception as exc:  # surfaced below with the client's index
            errors.append((i, exc))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    for i, out in results.items():
        assert decode(out[0]).shape[1:3] == sizes[i][2]
        assert out[7][0]["settings"]["seed"] == 100 + i
    assert len({out[0] for out in results.values()}) == 4


@pytest.mark.parametrize("kwargs, message", [
    (dict(photo=None), "no photo"),
    (dict(strength=5), "strength"),
    (dict(fps=500), "fps"),
    (dict(takes=9), "num_takes"),
    (dict(long_side=100000), "long_side"),
    (dict(seed=-3), "seed"),
    (dict(aspect="2:1"), "aspect"),
    (dict(preset="warp"), "preset 'warp' is unknown"),
    (dict(vary="colour"), "vary"),
    (dict(duration="long"), "duration=.long.: Input should be a valid number"),
])
def test_bad_values_through_the_api_get_a_clear_message(client, photo_file, kwargs, message):
    from gradio_client.exceptions import AppError

    kwargs.setdefault("photo", photo_file)
    with pytest.raises(AppError, match=message):
        call(client, **kwargs)


def test_corrupt_file_then_server_keeps_serving(client, photo_file, tmp_path):
    from gradio_client.exceptions import AppError

    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    with pytest.raises(AppError, match="cannot read photo"):
        call(client, str(bad))
    assert decode(call(client, photo_file, takes=1)[0]).shape == (4, 72, 128, 3)


@pytest.mark.parametrize("mode", ["L", "RGBA", "CMYK", "I;16"])
def test_odd_photo_modes_render(client, astronaut, tmp_path, mode):
    img = Image.fromarray(astronaut)
    if mode == "I;16":
        img = Image.fromarray((np.asarray(img.convert("L")).astype(np.uint16) * 257))
        path = tmp_path / "photo16.png"
    else:
        img = img.convert(mode)
        path = tmp_path / ("photo.jpg" if mode == "CMYK" else "photo.png")
    img.save(path)
    assert decode(call(client, str(path), takes=1, aspect="photo", long_side=64)[0]).shape == (4, 64, 64, 3)


def test_exif_rotated_photo_is_upright(client, coffee, tmp_path):
    # coffee is 600x400 landscape; stored rotated with EXIF orientation 6 (rotate 90 cw to display)
    img = Image.fromarray(coffee).transpose(Image.Transpose.ROTATE_90)  # stored as 400x600
    exif = Image.Exif()
    exif[274] = 6
    path = tmp_path / "rotated.jpg"
    img.save(path, exif=exif)
    out = call(client, str(path), takes=1, aspect="photo", long_side=120)
    assert decode(out[0]).shape[1:3] == (80, 120)  # displayed landscape, as the camera meant


def test_huge_photo_is_downscaled_with_a_notice(client, tmp_path):
    path = tmp_path / "huge.jpg"
    Image.new("RGB", (12000, 12000), (90, 120, 150)).save(path, quality=60)
    out = call(client, str(path), takes=1, aspect="1:1", long_side=64)
    assert "downscaled from 12000x12000" in out[6]


def test_plan_endpoint(client):
    assert "Dolly out - strong" in client.predict("dramatic pull back", handlers.FROM_PROMPT, 0.5, api_name="/plan")


def test_keep_take_endpoint_keeps_this_sessions_take(server, photo_file):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(server, verbose=False)  # a session of its own: keep sees this session's takes only
    with pytest.raises(AppError, match="there is no take 1; generate first"):
        client.predict(api_name="/keep_take_1")
    video = call(client, photo_file, takes=2, seed=21)[1]
    kept, choice = client.predict(api_name="/keep_take_2")
    assert len(kept) == 1 and np.array_equal(decode(kept[0]), decode(video))  # not streamed: already quality
    assert choice["value"] == "take2-dolly-in-seed22-strength0.30.mp4"


def test_kept_takes_with_the_same_name_are_told_apart():
    kept = ["/t/a/take1-orbit-seed7.mp4", "/t/a/take2-orbit-seed8.mp4", "/t/b/take1-orbit-seed7.mp4"]
    assert handlers.kept_labels(kept) == ["take1-orbit-seed7.mp4", "take2-orbit-seed8.mp4", "take1-orbit-seed7.mp4 (2)"]


def test_photo_source_reads_pasted_data_url():
    png = Path(__file__)  # any bytes: the handler only unpacks the URL
    data = base64.b64encode(png.read_bytes()[:10]).decode()
    assert handlers._photo_source({"path": None, "url": f"data:image/png;base64,{data}"}) == png.read_bytes()[:10]
    assert handlers._photo_source({"path": "/x/photo.jpg"}) == "/x/photo.jpg"
    assert handlers._photo_source(None) is None


def test_import_app_loads_no_heavy_library():
    code = ("import sys, app; bad = [m for m in ('torch', 'gradio', 'transformers', 'diffusers') if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(not hasattr(__import__("pipelines.depth").depth, "estimate"),
                    reason="the depth stage (pipelines.depth.estimate) is not on this branch yet")
def test_python_app_py_honours_port_env(photo_file):
    from gradio_client import Client

    port = free_port()
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), GRADIO_SERVER_NAME="127.0.0.1")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(proc.stderr.read())
                time.sleep(0.5)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        out = call(client, photo_file, takes=1, long_side=96)
        assert decode(out[0]).shape == (4, 54, 96, 3)
    finally:
        proc.terminate()
        proc.wait(20)


def test_readme_client_example_runs_as_written(server, photo_file, tmp_path, monkeypatch, capsys):
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Python client"):]
    code = section[section.index("```python") + len("```python"):]
    code = code[:code.index("```")]
    assert 'Client("http://127.0.0.1:7860/")' in code
    (tmp_path / "photo.jpg").write_bytes(Path(photo_file).read_bytes())
    monkeypatch.chdir(tmp_path)
    exec(code.replace("http://127.0.0.1:7860/", server), {})  # the server under test is on another port
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    assert decode(printed).shape == (120, 540, 960, 3)  # the defaults: 4 s at 30 fps, 16:9 at 960 px


def test_other_files_in_the_temp_folder_are_not_served(server, tmp_path):
    import urllib.request
    from urllib.error import HTTPError

    secret = Path(tempfile.mkdtemp()) / "secret.txt"
    secret.write_text("not for the web")
    for route in ("gradio_api/file=", "file="):
        try:
            with urllib.request.urlopen(f"{server}{route}{secret}", timeout=10) as r:
                body = r.read().decode(errors="replace")
        except HTTPError as exc:
            assert exc.code in (403, 404)
        else:
            assert "not for the web" not in body


def test_estimate_endpoint(client, photo_file):
    from gradio_client import handle_file

    text = client.predict(handle_file(photo_file), 3, 2.0, 24, "9:16", 640, api_name="/estimate")
    assert "3 take(s) of 48 frames at 360x640; the first moves on screen as it renders and is whole after about" in text


def test_a_loaded_recipe_fills_the_controls_and_generate_renders_the_same_take(client, photo_file,
                                                                               tmp_path_factory):
    from gradio_client import handle_file

    for vary, prompt, take in (("seed", "dramatic orbit around her", 1), ("strength", "slow push in", 2)):
        out = call(client, photo_file, seed=9, takes=2, prompt=prompt, vary=vary, aspect="9:16", long_side=96)
        name = out[7][take - 1]["video"]
        recipe = max(Path(tmp_path_factory.getbasetemp()).rglob(name + ".json"), key=lambda p: p.stat().st_mtime)
        values = client.predict([handle_file(str(recipe))], None, api_name="/load_recipe")
        prompt_box, preset, strength, seed, random_seed, num_takes, vary_box, duration, fps, aspect, side = values[:11]
        expected_seed = 9 + take - 1 if vary == "seed" else 9
        assert (seed, random_seed, num_takes, vary_box, aspect, side) == (expected_seed, False, 1, "seed", "9:16", 96)
        assert f"seed {seed}" in values[13] and "Upload its photo" in values[13]
        # Words that cannot give the take's strength back (a strength sweep) are cleared.
        assert prompt_box == (prompt if vary == "seed" else "")
        again = client.predict(handle_file(photo_file), prompt_box, preset, strength, seed, random_seed, num_takes,
                               vary_box, duration, fps, aspect, side, api_name="/generate")
        assert np.array_equal(decode(again[0]), decode(out[take - 1]))


def test_loading_a_bad_recipe_is_a_clear_error_and_the_server_keeps_serving(client, photo_file, tmp_path):
    from gradio_client import handle_file

    bad = tmp_path / "bad.json"
    bad.write_text('{"format": 99}')
    with pytest.raises(Exception, match="format 99"):
        client.predict([handle_file(str(bad))], None, api_name="/load_recipe")
    assert decode(call(client, photo_file, takes=1)[0]).shape[0] == 4
