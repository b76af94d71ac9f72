"""Batch runs as a user runs them: `python -m pipelines batch ...` and `pipelines.batch.batch(...)` on real
photos (small, with short takes), with broken files, re-runs, a killed worker and Ctrl-C."""
import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipelines.batch import ManifestRow, batch, run_batch
from pipelines.core.errors import InputError, StudioError
from pipelines.core.photo import load_image
from studio_stubs import decode

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera")
FAST = ["--estimator", "classical", "--duration", "0.2", "--fps", "10", "--quiet"]  # 2 frames a take
FAST_SETTINGS = {"duration": 0.2, "fps": 10}


def cli(*args, wait=True):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "pipelines", "batch", *map(str, args)]
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def save_photos(folder: Path, names=PHOTOS, side=64) -> list[Path]:
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        img = Image.fromarray(getattr(data, name)())
        img.thumbnail((side, side))
        paths.append(folder / f"{name}.png")
        img.convert("RGB").save(paths[-1])
    return paths


def bomb_png(path: Path) -> None:
    """A valid PNG header that claims 30000 x 30000 pixels: Pillow's decompression-bomb guard trips."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 30001)) + chunk(b"IEND", b""))


def manifest(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def test_six_photos_one_broken_then_rerun_skips_and_redoes_only_a_deleted_output(tmp_path):
    photos = save_photos(tmp_path / "photos")
    (tmp_path / "photos" / "broken.jpg").write_bytes(b"this is not a JPEG")
    out = tmp_path / "videos"

    r = cli(tmp_path / "photos", "--out", out, "--preset", "orbit", "--seed", "3", "--workers", "2", *FAST)
    assert r.returncode == 1, r.stderr  # one failed, the others finished
    rows = manifest(out)
    by_name = {Path(x["input"]).name: x for x in rows}
    assert len(rows) == 6 and set(by_name) == {p.name for p in photos} | {"broken.jpg"}
    assert [x["input"] for x in rows] == sorted(x["input"] for x in rows)  # input order
    broken = by_name.pop("broken.jpg")
    with pytest.raises(InputError) as exc:
        load_image(tmp_path / "photos" / "broken.jpg")
    assert broken["status"] == "failed" and broken["error"] == str(exc.value) and broken["outputs"] == []
    assert f"failed: {broken['input']}: {broken['error']}" in r.stderr
    for photo in photos:
        row = by_name[photo.name]
        assert row["status"] == "ok" and row["error"] is None and row["seconds"] > 0
        assert row["outputs"] == [str(out / f"{photo.stem}.mp4")]
        frames = decode(row["outputs"][0])
        src = np.asarray(Image.open(photo))
        h, w = src.shape[0] - src.shape[0] % 2, src.shape[1] - src.shape[1] % 2  # video sizes are even
        assert frames.shape == (2, h, w, 3)
        err = np.abs(frames[0].astype(int) - src[:h, :w].astype(int)).mean()
        assert err < 10 and err < 0.5 * np.abs(frames[0].astype(int) - src[:h, :w][::-1].astype(int)).mean()
        recipe = json.loads(Path(row["recipe"][0]).read_text())
        assert row["recipe"] == [row["outputs"][0] + ".json"]
        assert recipe["settings"]["preset"] == "orbit" and recipe["settings"]["seed"] == 3
    assert "5 ok, 1 failed, 0 skipped" in r.stdout

    # Re-run without the broken photo: everything is skipped, nothing is rewritten.
    (tmp_path / "photos" / "broken.jpg").unlink()
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*.mp4")}
    r = cli(tmp_path / "photos", "--out", out, "--preset", "orbit", "--seed", "3", *FAST)
    assert r.returncode == 0, r.stderr
    assert [x["status"] for x in manifest(out) if Path(x["input"]).name != "broken.jpg"] == ["skipped"] * 5
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.mp4")} == stamps

    # Delete one output: only that photo is rendered again.
    (out / "coffee.mp4").unlink()
    r = cli(tmp_path / "photos", "--out", out, "--preset", "orbit", "--seed", "3", *FAST)
    assert r.returncode == 0, r.stderr
    statuses = {Path(x["input"]).stem: x["status"] for x in manifest(out) if Path(x["input"]).name != "broken.jpg"}
    assert statuses == {"astronaut": "skipped", "chelsea": "skipped", "coffee": "ok", "rocket": "skipped",
                        "camera": "skipped"}
    assert (out / "coffee.mp4").is_file()


def test_each_kind_of_broken_photo_fails_with_the_cli_message(tmp_path):
    good = save_photos(tmp_path, ["rocket"])[0]
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("hello")
    full = (tmp_path / "full.jpg")
    Image.open(good).save(full, quality=90)
    (tmp_path / "truncated.jpg").write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    bomb_png(tmp_path / "bomb.png")
    names = ["empty.jpg", "text.jpg", "truncated.jpg", "bomb.png", "missing.jpg", good.name]
    (tmp_path / "list.txt").write_text("\n".join(names) + "\n")

    rows = batch(tmp_path / "list.txt", tmp_path / "out", FAST_SETTINGS, workers=1, estimator="classical",
                 progress=False)
    assert [Path(r.input).name for r in rows] == names and all(isinstance(r, ManifestRow) for r in rows)
    for row in rows[:-1]:
        with pytest.raises(InputError) as exc:
            load_image(row.input)
        assert (row.status, row.error, row.outputs) == ("failed", str(exc.value), ())
    assert "is empty" in rows[0].error and "truncated" in rows[2].error and "decompression bomb" in rows[3].error
    assert "not found" in rows[4].error and rows[4].key is None
    assert rows[-1].status == "ok" and Path(rows[-1].outputs[0]).is_file()


def test_bad_arguments_exit_2_with_one_line(tmp_path):
    save_photos(tmp_path / "p", ["rocket"])
    for args, match in [(["--takes", "9"], "takes must be 1..4 per photo"),
                        (["--preset", "warp-9"], "unknown preset 'warp-9'"),
                        (["--strength", "2"], "strength=2"),
                        (["--workers", "0"], "--workers must be 1 or more")]:
        r = cli(tmp_path / "p", "--out", tmp_path / "o", *args, "--quiet")
        assert r.returncode == 2 and match in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
    r = cli(tmp_path / "nowhere", "--out", tmp_path / "o")
    assert r.returncode == 2 and "is not a folder, a text file of paths or a glob" in r.stderr
    (tmp_path / "file").write_text("x")
    r = cli(tmp_path / "p", "--out", tmp_path / "file" / "videos")
    assert r.returncode == 2 and "cannot write to the output folder" in r.stderr and "Traceback" not in r.stderr


def test_without_ray_installed_ray_says_how_to_install(monkeypatch, tmp_path):
    save_photos(tmp_path / "p", ["rocket"])
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(StudioError, match=r"pip install 'ray\[data\]'"):
        batch(tmp_path / "p", tmp_path / "o", FAST_SETTINGS, ray=True, progress=False)


def test_a_killed_worker_retries_its_photo_once_then_fails_it(tmp_path):
    photos = save_photos(tmp_path / "p", ["astronaut", "chelsea", "rocket"])
    kills = {0: 1, 1: 2}  # astronaut's worker is killed once, chelsea's on both tries

    def kill(index, pid):
        if kills.get(index, 0) > 0:
            kills[index] -= 1
            os.kill(pid, signal.SIGKILL)

    report = run_batch(tmp_path / "p", tmp_path / "o", FAST_SETTINGS, workers=2, estimator="classical",
                       progress=False, on_start=kill)
    by_name = {Path(r.input).name: r for r in report.rows}
    assert by_name[photos[0].name].status == "ok"  # retried on a fresh worker
    failed = by_name[photos[1].name]
    assert failed.status == "failed" and "worker process rendering this photo died (killed by signal 9" in failed.error
    assert by_name[photos[2].name].status == "ok"
    assert not list((tmp_path / "o").glob(".*partial*"))
    assert [r["status"] for r in manifest(tmp_path / "o")] == [r.status for r in report.rows]


def test_ctrl_c_stops_cleanly_and_the_manifest_says_what_finished(tmp_path):
    save_photos(tmp_path / "p", PHOTOS + ("grass", "horse", "page"), side=160)
    out = tmp_path / "o"
    proc = cli(tmp_path / "p", "--out", out, "--workers", "1", "--estimator", "classical", "--duration", "1",
               "--fps", "10", "--quiet", wait=False)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "manifest.jsonl").is_file() or not manifest(out):
        assert time.time() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "lists the photos that finished; run the same command again" in stderr and "Traceback" not in stderr
    rows = manifest(out)
    assert 1 <= len(rows) < 8 and all(r["status"] == "ok" and Path(r["outputs"][0]).is_file() for r in rows)
    assert sorted(p.name for p in out.glob("*.mp4")) == sorted(Path(r["outputs"][0]).name for r in rows)
    assert not list(out.glob(".*"))  # no half-written video or manifest


def test_a_full_disk_stops_the_batch_with_one_clear_error(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    from pipelines.core.errors import OutputError

    save_photos(tmp_path / "p", ["astronaut", "chelsea", "rocket"])
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10 * 2**30, 10 * 2**30 - 2**20, 2**20))
    with pytest.raises(OutputError, match=r"nearly full \(1 MB free\); free some space or choose another --out"):
        batch(tmp_path / "p", tmp_path / "o", FAST_SETTINGS, workers=1, estimator="classical", progress=False)
    rows = manifest(tmp_path / "o")
    assert [r["status"] for r in rows] == ["ok"]  # what finished before the stop is recorded
    assert not list((tmp_path / "o").glob(".*"))


def test_batch_recipes_replay_and_apply_to_another_library(tmp_path):
    save_photos(tmp_path / "p", ["astronaut"], side=96)
    settings = {"preset": "orbit", "seed": 7, "strength": 0.8, **FAST_SETTINGS}
    [row] = batch(tmp_path / "p", tmp_path / "o", settings, finishing={"aspect": "1:1"}, estimator="classical",
                  workers=1, progress=False)
    video = Path(row.outputs[0])
    assert video.name == "astronaut.mp4" and (tmp_path / "o" / "astronaut.take.mp4").is_file()
    assert row.recipe == (str(video) + ".json",)

    # The recipe beside a batch output replays it: the same decoded frames.
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "pipelines", "replay", row.recipe[0], "-o", str(tmp_path / "again.mp4")],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    again, first = decode(tmp_path / "again.mp4"), decode(video)
    assert first.shape[1] == first.shape[2] and np.array_equal(again, first)

    # --recipe applies that take's settings and finishing to the photos of another batch.
    save_photos(tmp_path / "q", ["coffee"], side=96)
    r = cli(tmp_path / "q", "--out", tmp_path / "o2", "--recipe", row.recipe[0], "--estimator", "classical", "--quiet")
    assert r.returncode == 0, r.stderr
    source = json.loads(Path(row.recipe[0]).read_text())
    made = json.loads((tmp_path / "o2" / "coffee.mp4.json").read_text())
    assert made["settings"] == source["settings"] and made["finish"]["aspect"] == "1:1"
    frames = decode(tmp_path / "o2" / "coffee.mp4")
    assert frames.shape[0] == 2 and frames.shape[1] == frames.shape[2]
