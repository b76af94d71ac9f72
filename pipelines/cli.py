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


def _add_depth(sub) -> None:
    from pipelines import depth, schema

    p = sub.add_parser("depth", help="estimate (or import) and edit a photo's depth map",
                       description="Write the photo's depth as a 16-bit PNG (white = near) or .npy z-depth.")
    p.add_argument("photo", help="photo file")
    p.add_argument("-o", "--output", required=True, help="depth file to write: .png (16-bit, white = near) or .npy")
    p.add_argument("--estimator", default="auto", choices=depth.ESTIMATORS,
                   help="depth estimator; auto = depth-anything-v2-small, or classical when offline [default auto]")
    p.add_argument("--depth", default=None, help="edit this depth file (.png white = near, or .npy) instead of estimating")
    p.add_argument("--mask", default=None, help="greyscale PNG, white = region that --push moves")
    p.add_argument("--preview", default=None, help="also write a coloured preview PNG here")
    p.add_argument("--cache-dir", default=None, help="depth cache folder [default ~/.cache/photo-studio/depth]")
    schema.add_options(p, schema.DepthSettings)
    p.set_defaults(run=_run_depth)


def _run_depth(args) -> int:
    from pathlib import Path

    import numpy as np
    from PIL import Image

    from pipelines import depth, io, schema
    from pipelines.errors import InputError

    out = Path(args.output)
    if out.suffix.lower() not in (".png", ".npy"):
        raise InputError(f"output {args.output!r} must end in .png (16-bit, white = near) or .npy (z-depth)")
    settings = schema.validate(schema.DepthSettings, **schema.picked(args, schema.DepthSettings))
    photo = io.load_image(args.photo)
    if args.depth:
        dm = depth.load_depth(args.depth, size=photo.size)
    else:
        info = depth.estimator_info(args.estimator)
        _notice(f"depth estimator {args.estimator}: {info.label}, licence {info.licence}")
        dm = depth.estimate(photo, args.estimator, cache_dir=args.cache_dir)
    mask = depth.load_mask(args.mask, photo.size) if args.mask else None
    if mask is not None and settings.push == 0.0:
        raise InputError("--mask selects the region that --push moves; give --push too (e.g. --push 0.2)")
    dm = depth.apply_settings(dm, settings, mask=mask)
    for msg in dm.notices:
        _notice(msg)
    if out.suffix.lower() == ".npy":
        np.save(out, dm.z)
    else:
        depth.save_depth_png(dm, out)
    if args.preview:
        Image.fromarray(depth.preview(dm)).save(args.preview)
    print(out)
    return 0


_COMMANDS.append(_add_depth)
