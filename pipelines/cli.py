"""Command line: a thin skin over the Python API (`python -m pipelines COMMAND ...`).

Each command has an ``_add_<command>(sub)`` that declares its options (schema fields come from
``pipelines.schema``) and a ``_run_<command>(args)`` that calls the API. Errors the user can fix print
one line and exit with status 2.
"""
from __future__ import annotations

import argparse
import sys
import warnings

from pipelines.errors import StudioError


def _notice(msg: str) -> None:
    print(f"notice: {msg}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines", description="Photo-to-video studio.")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in _COMMANDS:
        add(sub)
    return parser


_COMMANDS: list = []


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            return int(args.run(args) or 0)
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
