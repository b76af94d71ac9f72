"""Batch inputs, output names and the manifest: pure functions, no rendering."""
import json
import os

import pytest

from pipelines.batch.inputs import output_stems, resolve_inputs
from pipelines.batch.item import BatchJob, check_writable
from pipelines.batch.manifest import ManifestRow, is_done, item_key, read_manifest, write_manifest
from pipelines.core.errors import InputError, OutputError
from pipelines.core.schema import FinishSettings, RenderSettings


@pytest.fixture
def library(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("b.jpg", "a.PNG", "c.webp", "notes.txt", "a/deep.jpg"):
        (tmp_path / name).write_bytes(b"x")
    return tmp_path


def test_folder_gives_its_photos_sorted_not_recursive(library):
    assert [p.name for p in resolve_inputs(library)] == ["a.PNG", "b.jpg", "c.webp"]


def test_glob_gives_every_file_it_matches(library):
    assert [p.name for p in resolve_inputs(str(library / "**" / "*.jpg"))] == ["deep.jpg", "b.jpg"]


def test_list_file_paths_are_relative_to_the_list_and_kept_when_missing(library):
    (library / "list.txt").write_text("# my shoot\nb.jpg\n\n  a/deep.jpg  \nmissing.jpg\nb.jpg\n")
    got = resolve_inputs(library / "list.txt")
    assert got == [library / "b.jpg", library / "a" / "deep.jpg", library / "missing.jpg"]  # each once
    assert all(p.is_absolute() for p in got)


def test_output_folder_files_are_never_inputs(library):
    out = library / "a"
    assert library / "a" / "deep.jpg" not in resolve_inputs(str(library / "**" / "*.jpg"), exclude=out)


@pytest.mark.parametrize("spec,match", [
    ("nowhere/", "is not a folder, a text file of paths or a glob"),
    ("nowhere/*.jpg", "no files match"),
])
def test_bad_inputs_name_the_value_and_the_fix(tmp_path, spec, match):
    with pytest.raises(InputError, match=match):
        resolve_inputs(str(tmp_path / spec))


def test_empty_folder_and_empty_list_are_errors(tmp_path):
    with pytest.raises(InputError, match="no photos in folder"):
        resolve_inputs(tmp_path)
    (tmp_path / "list.txt").write_text("# nothing\n")
    with pytest.raises(InputError, match="names no files"):
        resolve_inputs(tmp_path / "list.txt")


def test_output_stems_stay_unique(tmp_path):
    paths = [tmp_path / "a" / "cat.jpg", tmp_path / "b" / "cat.jpg", tmp_path / "Cat.png", tmp_path / "dog.jpg"]
    stems = output_stems(paths)
    assert stems[3] == "dog" and len(set(s.lower() for s in stems)) == 4
    assert all(s.startswith(("cat-", "Cat-")) for s in stems[:3])
    assert output_stems(paths) == stems  # the same names on every run


def test_job_file_names():
    one = BatchJob("/out", (RenderSettings(),))
    assert [(str(t), f) for t, f in one.files_for("cat")] == [("/out/cat.mp4", None)]
    two = BatchJob("/out", (RenderSettings(seed=0), RenderSettings(seed=1)), FinishSettings(format="webm"))
    assert [(str(t), str(f)) for t, f in two.files_for("cat")] == [
        ("/out/cat-take1.take.mp4", "/out/cat-take1.webm"), ("/out/cat-take2.take.mp4", "/out/cat-take2.webm")]
    assert one.fingerprint != two.fingerprint
    assert one.fingerprint == BatchJob("/elsewhere", (RenderSettings(),)).fingerprint  # the folder is not a setting


def test_manifest_round_trip_one_line_per_row(tmp_path):
    rows = [ManifestRow(input="/p/a.jpg", outputs=("/o/a.mp4",), status="ok", seconds=1.5, recipe=("/o/a.mp4.json",),
                        key="k1"),
            ManifestRow(input="/p/b.jpg", status="failed", error="photo file '/p/b.jpg' is empty; export it again")]
    path = write_manifest(tmp_path, rows)
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["error"].startswith("photo file")
    assert set(json.loads(lines[0])) >= {"input", "outputs", "status", "error", "seconds", "recipe"}
    assert read_manifest(tmp_path) == {"/p/a.jpg": rows[0], "/p/b.jpg": rows[1]}
    assert not [p for p in os.listdir(tmp_path) if p != "manifest.jsonl"]  # no temporary file left
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)


def test_a_torn_manifest_line_is_dropped_not_fatal(tmp_path):
    (tmp_path / "manifest.jsonl").write_text('{"input": "/p/a.jpg", "status": "ok"}\n{"input": "/p/b.j')
    assert list(read_manifest(tmp_path)) == ["/p/a.jpg"]


def test_is_done_needs_the_same_key_and_the_files(tmp_path):
    video = tmp_path / "a.mp4"
    video.write_bytes(b"v")
    (tmp_path / "a.mp4.json").write_text("{}")
    row = ManifestRow(input="/p/a.jpg", outputs=(str(video),), status="ok", recipe=(str(video) + ".json",), key="k")
    assert is_done(row, "k") and not is_done(row, "other") and not is_done(None, "k")
    failed = ManifestRow(input="/p/a.jpg", status="failed", error="broken", key="k")
    assert not is_done(failed, "k")
    video.unlink()
    assert not is_done(row, "k")
    assert item_key(None, "f") is None and item_key("sha", "f") != item_key("sha", "g")


def test_row_checks_its_status():
    with pytest.raises(InputError, match="status must be one of"):
        ManifestRow(input="x", status="done")
    with pytest.raises(InputError, match="needs its error message"):
        ManifestRow(input="x", status="failed")


def test_unwritable_output_folder_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="cannot write to the output folder .*choose a folder you can write to"):
        check_writable(tmp_path / "file" / "videos")
