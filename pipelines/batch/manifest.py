"""The manifest of a batch: ``OUT_DIR/manifest.jsonl``, one JSON line per input, rewritten atomically by
the driver each time an item finishes, so a reader (or a re-run after Ctrl-C or a crash) never sees half a
file.

A line holds: ``input`` (absolute path), ``outputs`` (the videos written, in take order), ``status``
(``ok``, ``failed`` or ``skipped``: done by an earlier run with the same photo and settings), ``error``
(the one-line message, or null), ``seconds`` (wall time of the item in its worker), ``recipe`` (the recipe
JSON beside each take, which re-renders it), ``key`` (hash of the photo file and the settings: what "the
same" means for skipping) and ``notices`` (what was adapted on the way, e.g. a downscaled photo).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from pipelines.core.errors import InputError, OutputError

MANIFEST_NAME = "manifest.jsonl"
STATUSES = ("ok", "failed", "skipped")


@dataclass(frozen=True)
class ManifestRow:
    """One input's line of the manifest (see the module docstring for the fields)."""

    input: str
    outputs: tuple[str, ...] = ()
    status: str = "failed"
    error: Optional[str] = None
    seconds: float = 0.0
    recipe: tuple[str, ...] = ()
    key: Optional[str] = None
    notices: tuple[str, ...] = field(default=())

    def __post_init__(self):
        if self.status not in STATUSES:
            raise InputError(f"manifest status must be one of {STATUSES}, got {self.status!r}")
        if self.status == "failed" and not self.error:
            raise InputError(f"a failed manifest row needs its error message ({self.input})")

    @property
    def done(self) -> bool:
        """The item's outputs are on disk from this run or an earlier one."""
        return self.status in ("ok", "skipped")

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> "ManifestRow":
        d = json.loads(line)
        return cls(input=d["input"], outputs=tuple(d.get("outputs") or ()), status=d["status"],
                   error=d.get("error"), seconds=float(d.get("seconds") or 0.0), recipe=tuple(d.get("recipe") or ()),
                   key=d.get("key"), notices=tuple(d.get("notices") or ()))


def read_manifest(out_dir: str | os.PathLike) -> dict[str, ManifestRow]:
    """The rows of an earlier run, by input path; lines that do not parse are dropped (their items are
    simply redone)."""
    path = Path(out_dir) / MANIFEST_NAME
    rows: dict[str, ManifestRow] = {}
    if not path.is_file():
        return rows
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            row = ManifestRow.from_json(line)
        except (ValueError, KeyError, TypeError):
            continue
        rows[row.input] = row
    return rows


def write_manifest(out_dir: str | os.PathLike, rows: Iterable[ManifestRow]) -> Path:
    """Replace the manifest with ``rows`` atomically (a temporary file, flushed to disk, then renamed)."""
    path = Path(out_dir) / MANIFEST_NAME
    text = "".join(row.to_json() + "\n" for row in rows)
    tmp = None
    try:
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".manifest.", suffix=".tmp",
                                         encoding="utf-8", delete=False) as f:
            tmp = f.name
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # as an ordinary new file (temporary files are private)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write the manifest {str(path)!r}: {exc.strerror or exc}; "
                          "free some disk space or choose another --out folder") from exc
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def file_sha256(path: str | os.PathLike) -> Optional[str]:
    """Hash of a file's bytes, or None when it cannot be read (the item will fail and say why)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def item_key(photo_sha256: Optional[str], fingerprint: str) -> Optional[str]:
    """What "the same item" means for a re-run: the photo file's bytes and the batch's settings."""
    if photo_sha256 is None:
        return None
    return hashlib.sha256(f"{photo_sha256}|{fingerprint}".encode()).hexdigest()[:32]


def is_done(row: Optional[ManifestRow], key: Optional[str]) -> bool:
    """An earlier row that lets a re-run skip the item: done, same photo and settings, outputs and
    recipes still on disk."""
    return (row is not None and row.done and key is not None and row.key == key and bool(row.outputs)
            and all(Path(p).is_file() for p in row.outputs + row.recipe))
