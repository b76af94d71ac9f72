"""The same batch on a local Ray runtime (2 CPUs, started and stopped here) gives the same frames as the
local runner."""
from pathlib import Path

import numpy as np
import pytest

from pipelines.batch import batch, read_manifest
from studio_stubs import decode
from test_batch_run import FAST_SETTINGS, save_photos


def test_ray_run_gives_the_same_decoded_frames_as_the_local_run(tmp_path):
    ray = pytest.importorskip("ray")
    save_photos(tmp_path / "p", ["astronaut", "coffee"], side=96)
    settings = {**FAST_SETTINGS, "preset": "orbit", "seed": 5}
    local = batch(tmp_path / "p", tmp_path / "local", settings, takes=2, workers=1, estimator="classical",
                  progress=False)

    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 * 2**20)
    try:
        on_ray = batch(tmp_path / "p", tmp_path / "ray", settings, takes=2, workers=2, ray=True,
                       estimator="classical", progress=False)
    finally:
        ray.shutdown()

    assert [r.status for r in local] == [r.status for r in on_ray] == ["ok", "ok"]
    assert [r.input for r in on_ray] == [r.input for r in local]
    for a, b in zip(local, on_ray):
        assert [Path(p).name for p in a.outputs] == [Path(p).name for p in b.outputs] == [
            f"{Path(a.input).stem}-take1.mp4", f"{Path(a.input).stem}-take2.mp4"]
        fa, fb = [decode(p) for p in a.outputs], [decode(p) for p in b.outputs]
        assert all(np.array_equal(x, y) for x, y in zip(fa, fb))
        assert not np.array_equal(fa[0][1], fa[1][1])  # take 2 has its own seed: another move
    assert set(read_manifest(tmp_path / "ray")) == {r.input for r in on_ray}  # the driver wrote the manifest
