"""The studio's output folders: one fresh folder per request under a root, old ones removed, and the
check that a file is one of this studio's takes (the studio finishes only its own, never an arbitrary
file on the server)."""
from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

from pipelines.core.errors import InputError


class OutputFolders:
    """Request folders under ``root``; folders older than ``max_age_s`` go when a new one is made."""

    def __init__(self, root: Path, max_age_s: float = 3600.0):
        self.root = Path(root)
        self.max_age_s = float(max_age_s)

    def new(self) -> Path:
        """A fresh folder for one request; removes request folders older than ``max_age_s``."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.cleanup()
        path = self.root / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:12]}"
        path.mkdir()
        return path

    def cleanup(self, max_age_s: float | None = None) -> int:
        """Delete request folders older than ``max_age_s`` (default: the folders' max age); returns how many."""
        max_age = self.max_age_s if max_age_s is None else max_age_s
        now, removed = time.time(), 0
        if not self.root.is_dir():
            return 0
        for child in self.root.iterdir():
            try:
                if child.is_dir() and now - child.stat().st_mtime > max_age:
                    shutil.rmtree(child, ignore_errors=True)
                    removed += 1
            except FileNotFoundError:  # another request cleaned it first
                continue
        return removed

    def own_take(self, video: str | os.PathLike) -> Path:
        """``video`` as a take made here (an .mp4 in one of the request folders), else InputError."""
        root = self.root.resolve()
        path = Path(video).resolve() if video else root
        if path.parent.parent != root or path.suffix != ".mp4":
            raise InputError(f"{Path(str(video)).name!r} is not a take of this studio; keep a take first")
        if not path.is_file():
            raise InputError(f"take {path.name!r} is gone (takes are kept {self.max_age_s / 3600:g} h); "
                             "generate it again")
        return path

    def keep(self, video: str | os.PathLike) -> Path:
        """Mark a take as kept: its folder counts as new again, so clean-up does not remove it while the
        user finishes it. Returns the take's path."""
        path = self.own_take(video)
        os.utime(path.parent)
        return path
