"""Where the project's data lives: the camera and model presets (``presets/``) and the shipped assets
(``assets/``: example photos, the caption font).

In a source checkout they sit beside the package; an installed wheel carries them inside the package as
``pipelines/_data/presets`` and ``pipelines/_data/assets`` (pyproject.toml maps them there).
"""
from __future__ import annotations

from pathlib import Path

#: The ``pipelines`` package folder.
PACKAGE = Path(__file__).resolve().parent.parent


def data_dir(name: str, package: Path = PACKAGE) -> Path:
    """``package/_data/<name>`` in an installed wheel, else ``<name>`` beside the package (a checkout)."""
    installed = package / "_data" / name
    return installed if installed.is_dir() else package.parent / name


#: presets/camera/*.json and presets/models/*.json
PRESETS = data_dir("presets")
#: assets/examples/*.jpg and assets/fonts/*
ASSETS = data_dir("assets")
