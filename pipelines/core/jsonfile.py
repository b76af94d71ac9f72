"""Reading the project's JSON files (recipes, camera paths, motion specs) with one kind of error."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pipelines.core.errors import InputError


def read_json(path: str | os.PathLike, what: str, hint: str = "check the path") -> Any:
    """The parsed JSON of ``path``; InputError naming ``what`` it should be ("recipe file", "camera path")
    when it is missing or not JSON, with ``hint`` as the fix for a missing file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} not found: {str(path)!r}; {hint}")
    try:
        return json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{what} {str(path)!r} is not valid JSON: {exc}") from None
