"""The README and docs/ stay true: the documents they point to exist, and the README's Python runs."""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def test_every_docs_reference_resolves_and_none_names_design_md():
    texts = [ROOT / "README.md", ROOT / "app.py", *ROOT.glob("docs/*.md"), *ROOT.glob("bench/*.py"),
             *ROOT.glob("assets/*.md"), *(ROOT / "pipelines").rglob("*.py")]
    refs, design = set(), []
    for path in texts:
        text = path.read_text()
        if "DESIGN.md" in text:
            design.append(path.relative_to(ROOT).as_posix())
        refs |= {(ROOT, r) for r in re.findall(r"\bdocs/[\w-]+\.md\b", text)}
        if path.parent.name == "docs":  # links between the docs pages
            refs |= {(path.parent, r) for r in re.findall(r"\]\(([\w-]+\.md)\)", text)}
    assert design == []
    assert {r for _, r in refs} >= {"docs/camera-contract.md", "docs/architecture.md"}
    assert sorted(r for base, r in refs if not (base / r).is_file()) == []


def test_readme_python_example_runs_as_written(tmp_path, astronaut):
    """The README's render_take example (its first paragraph; the batch one is tests/batch's)."""
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"## Python\n\n```python\n(.*?)```", readme, re.S).group(1)
    code = "\n\n".join(code.split("\n\n")[:2])  # the imports, then the take
    assert "render_take(" in code
    Image.fromarray(astronaut[::8, ::8]).save(tmp_path / "photo.jpg")  # 64 x 64
    z = np.full((64, 64), 4.0, np.float32)
    z[16:48, 16:48] = 2.0
    np.save(tmp_path / "depth.npy", z)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.startswith("take.mp4 ") and "preset='dolly-in'" in r.stdout
    assert (tmp_path / "take.mp4").stat().st_size > 0 and (tmp_path / "take.mp4.json").is_file()
