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


# ---------------------------------------------------------------------------------------------- render
def _parse_size(text: str) -> tuple[int, int]:
    from pipelines.errors import InputError

    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise InputError(f"--size must look like 1920x1080, got {text!r}") from None
    return w, h


def _add_render(sub) -> None:
    from pipelines import schema

    p = sub.add_parser("render", help="render a camera move through a photo into frames and/or a video")
    p.add_argument("photo", help="photo file (JPEG, PNG, WebP, ...)")
    p.add_argument("--depth", help="depth file: .npy z-depth or PNG (white = near); estimated if omitted")
    p.add_argument("--estimator", default="auto", help="depth estimator when --depth is omitted [default auto]")
    move = p.add_mutually_exclusive_group()
    move.add_argument("--preset", help="camera move preset (see `python -m pipelines presets`)")
    move.add_argument("--camera-path", help="camera path JSON (DESIGN.md's camera contract)")
    schema.add_options(p, schema.RenderSettings, skip=("preset", "width", "height"))
    p.add_argument("--size", help="output size WxH [default: the photo's]")
    p.add_argument("-o", "--output", help="video file to write (.mp4 H.264 or .webm VP9)")
    p.add_argument("--frames-dir", help="folder for frame_0000.png, frame_0001.png, ...")
    p.set_defaults(run=_run_render)


def _run_render(args) -> int:
    from pipelines import camera, schema
    from pipelines.depth import load_depth
    from pipelines.errors import InputError
    from pipelines.io import load_image
    from pipelines.render import render_take

    if not args.output and not args.frames_dir:
        raise InputError("say where to write: -o take.mp4 and/or --frames-dir DIR")
    photo = load_image(args.photo)
    values = schema.picked(args, schema.RenderSettings)
    if args.preset:
        values["preset"] = args.preset
        camera.get_preset(args.preset)  # unknown names fail before any work
    if args.size:
        values["width"], values["height"] = _parse_size(args.size)
    cam = None
    if args.camera_path:
        cam = camera.load_path(args.camera_path)
        values.setdefault("fps", 30)
    settings = schema.validate(schema.RenderSettings, **values)
    if args.depth:
        depth = load_depth(args.depth, size=photo.size)
    else:
        from pipelines import depth as depth_stage

        depth = depth_stage.estimate(photo, estimator=args.estimator)
    for note in photo.notices + depth.notices:
        _notice(note)
    take = render_take(photo, depth, settings, video=args.output, frames_dir=args.frames_dir, camera_path=cam)
    print(take.video or take.frames_dir)
    return 0


def _add_presets(sub) -> None:
    p = sub.add_parser("presets", help="list the camera presets")
    p.set_defaults(run=_run_presets)


def _run_presets(args) -> int:
    from pipelines import camera

    for name in camera.list_presets():
        pr = camera.get_preset(name)
        print(f"{name:14s} {pr.description}")
    return 0


_COMMANDS += [_add_render, _add_presets]
