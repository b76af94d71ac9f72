"""bench/gpu_check.py on a machine without CUDA: it says so in one line and checks every engine's tiny model
on the CPU (the same code proves the CUDA path on a GPU)."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "bench" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_check_runs_every_tiny_engine_on_the_cpu(gpu_check, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: run bench/gpu_check.py itself")
    assert gpu_check.main(["--steps", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("No CUDA GPU here") and "tiny random models on the CPU" in lines[0]
    header = [c.strip() for c in lines[1].split("|")]
    assert header[:5] == ["engine", "model", "dtype", "device", "s/step"]
    rows = {cells[0]: dict(zip(header, cells)) for cells in
            ([c.strip() for c in line.split("|")] for line in lines[3:6])}
    assert sorted(rows) == ["animatediff-depth", "svd", "wan-vace"]
    for row in rows.values():
        assert (row["model"], row["dtype"], row["device"], row["frames out"]) == ("tiny", "float32", "cpu", "9x32x48x3")
        assert row["differs from draft"].startswith("yes") and row["same seed"] == "yes"
        assert row["stop"] == "yes, after step 1" and float(row["s/step"].split()[0]) > 0
    assert rows["wan-vace"]["notes"] == "vae slicing+tiling"
    assert any(line.startswith("out of memory, simulated") and "ran out of GPU memory" in line
               and line.endswith("next take ran: yes") for line in lines)
    assert "3 rows, 0 failed; out of memory check passed" in lines[-1]
