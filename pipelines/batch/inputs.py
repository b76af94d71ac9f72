"""What a batch runs on: the photos named by a folder, a glob or a text file of paths, and the name each
photo's outputs get in the output folder."""
from __future__ import annotations

import glob
import hashlib
import os
from pathlib import Path
from typing import Iterable, Union

from pipelines.core.errors import InputError

#: File types a folder contributes (case-insensitive). A glob or a list takes whatever it names: a file
#: that is not a photo gets a ``failed`` row, not a silent skip.
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
#: Suffixes read as a text file of paths, one per line.
LIST_SUFFIXES = (".txt", ".lst", ".list")

InputSpec = Union[str, os.PathLike, Iterable[Union[str, os.PathLike]]]


def resolve_inputs(spec: InputSpec, *, exclude: str | os.PathLike | None = None) -> list[Path]:
    """The photos of a batch, as absolute paths, in a stable order, each once.

    spec: a folder (its photo files, sorted by name, not recursive), a glob (``photos/**/*.jpg``; files
        it matches, sorted), a text file of paths (one per line; blank lines and ``#`` comments skipped;
        relative paths are relative to the list's folder), a single photo, or, from Python, an iterable
        of paths. Paths in a list or an iterable are kept even when the file is missing: that item fails
        with the reason, and the others still run.
    exclude: a folder whose files are never inputs (the output folder: its depth PNGs are not photos).
    """
    if not isinstance(spec, (str, os.PathLike)):
        paths = [Path(p) for p in spec]
        if not paths:
            raise InputError("no inputs: give at least one photo path")
        return _unique(paths, exclude)
    text = os.fspath(spec)
    path = Path(text)
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)
        found = _unique(found, exclude)
        if not found:
            raise InputError(f"no photos in folder {text!r} (looked for {', '.join(PHOTO_SUFFIXES)}); "
                             "check the folder, or give a glob such as 'photos/**/*.jpg'")
        return found
    if path.is_file():
        if path.suffix.lower() in LIST_SUFFIXES:
            return _read_list(path, exclude)
        return _unique([path], exclude)
    if glob.has_magic(text):
        found = _unique(sorted(Path(p) for p in glob.glob(text, recursive=True) if os.path.isfile(p)), exclude)
        if not found:
            raise InputError(f"no files match {text!r}; check the pattern (quote it so the shell does not expand it)")
        return found
    raise InputError(f"input {text!r} is not a folder, a text file of paths or a glob that matches files; "
                     "check the path")


def _read_list(path: Path, exclude) -> list[Path]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputError(f"list of photos {str(path)!r} is not UTF-8 text; write one path per line") from None
    paths = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            p = Path(line).expanduser()
            paths.append(p if p.is_absolute() else path.parent / p)
    if not paths:
        raise InputError(f"list of photos {str(path)!r} names no files; write one path per line")
    return _unique(paths, exclude)


def _unique(paths: list[Path], exclude) -> list[Path]:
    skip = Path(os.path.abspath(exclude)) if exclude is not None else None
    seen: dict[Path, None] = {}
    for p in paths:
        p = Path(os.path.abspath(p))
        if skip is not None and p.parent == skip:
            continue
        seen.setdefault(p, None)
    return list(seen)


def output_stems(paths: list[Path]) -> list[str]:
    """The base name of each photo's outputs: the file's stem, or, where two photos share a stem
    (``a/cat.jpg``, ``b/cat.png``), the stem and a short hash of the full path, so no output is
    overwritten by another photo's."""
    counts: dict[str, int] = {}
    for p in paths:
        counts[p.stem.lower()] = counts.get(p.stem.lower(), 0) + 1
    stems = []
    for p in paths:
        if counts[p.stem.lower()] == 1:
            stems.append(p.stem)
        else:
            stems.append(f"{p.stem}-{hashlib.sha256(str(p).encode()).hexdigest()[:8]}")
    return stems
