"""Where the project's data lives: the camera and model presets (``presets/``) and the shipped assets
(``assets/``: example photos, the caption font).

In a source checkout they sit beside the package; an installed wheel carries them inside the package as
``pipelines/_data/presets`` and ``pipelines/_data/assets`` (see pyproject.toml).
"""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent
_CHECKOUT = _PACKAGE.parent


def _data(name: str) -> Path:
    installed = _PACKAGE / "_data" / name
    return installed if installed.is_dir() else _CHECKOUT / name


#: presets/camera/*.json and presets/models/*.json
PRESETS = _data("presets")
#: assets/examples/*.jpg and assets/fonts/*
ASSETS = _data("assets")
