"""Command line: a thin skin over the Python API (`python -m pipelines COMMAND ...`).

Each command has an ``_add_<command>(sub)`` that declares its options (schema fields come from
``pipelines.core.schema``) and a ``_run_<command>(args)`` that calls the API. Errors the user can fix
(a bad option, file or value) print one line naming it and exit with status 2.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from pipelines.core.errors import StudioError


def _notice(msg: str) -> None:
    print(f"notice: {msg}", file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what is wrong, and where the help is), like every other
    error of the CLI; the subcommands' parsers are made by this class too."""

    def error(self, message: str):
        self.exit(2, f"error: {' '.join(message.split())} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    # The same commands run as `python -m pipelines ...` and as the installed `photo-studio ...`.
    prog = "photo-studio" if Path(sys.argv[0]).stem == "photo-studio" else "python -m pipelines"
    parser = _Parser(prog=prog, description="Photo-to-video studio.")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in _COMMANDS:
        add(sub)
    return parser


_COMMANDS: list = []


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (0 done, 2 a value the user can fix, as one line)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            return int(args.run(args) or 0)
    except StudioError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)  # one line, whatever the message holds
        return 2


# ---------------------------------------------------------------------------------------------- render
def _parse_size(text: str) -> tuple[int, int]:
    from pipelines.core.errors import InputError

    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise InputError(f"--size must look like 1920x1080, got {text!r}") from None
    return w, h


def _add_render(sub) -> None:
    from pipelines.core import schema

    p = sub.add_parser("render", help="render a camera move through a photo into frames and/or a video")
    p.add_argument("photo", help="photo file (JPEG, PNG, WebP, ...)")
    p.add_argument("--depth", help="depth file: .npy z-depth or PNG (white = near); estimated if omitted")
    p.add_argument("--estimator", default="auto", help="depth estimator when --depth is omitted [default auto]")
    move = p.add_mutually_exclusive_group()
    move.add_argument("--preset", help="camera move preset (see `python -m pipelines presets`)")
    move.add_argument("--camera-path", help="camera path JSON (the camera contract: docs/camera-contract.md)")
    schema.add_options(p, schema.RenderSettings, skip=("preset", "width", "height"))
    p.add_argument("--size", help="output size WxH [default: the photo's]")
    p.add_argument("-o", "--output", help="video file to write (.mp4 H.264, .webm VP9, .gif)")
    p.add_argument("--frames-dir", help="folder for frame_0000.png, frame_0001.png, ...")
    schema.add_options(p, schema.StudioRequest, only=("engine",))
    p.set_defaults(engine=schema.PARALLAX)
    p.add_argument("--motion", help='regions that move, MOTION.json: {"regions": [{"mask": "water.png", "type": '
                                    '"flow", "direction_deg": 180, "speed": 0.5}]} (types flow, sway, ripple, rise; '
                                    '--strength 0 keeps the camera still: a cinemagraph)')
    schema.add_options(p, schema.GenerativeSettings, skip=("engine",))
    from pipelines.finish import compose as finish

    finish.add_cli_options(p)
    p.set_defaults(run=_run_render)


def _render_settings(args, schema):
    """The RenderSettings and the explicit camera path (or None) the render options ask for; the words
    pick the move (and scale the strength) unless a preset or path says otherwise."""
    from pipelines.render import camera

    values = schema.picked(args, schema.RenderSettings)
    if args.preset:
        values["preset"] = args.preset
        camera.get_preset(args.preset)  # unknown names fail before any work
    if args.size:
        values["width"], values["height"] = _parse_size(args.size)
    if args.prompt and not args.preset and not args.camera_path:
        from pipelines.studio.prompt import apply_words

        values, plan = apply_words(args.prompt, values)
        _notice(f"motion: {plan.label}: {plan.explanation}")
    cam = None
    if args.camera_path:
        cam = camera.load_path(args.camera_path)
        values.setdefault("fps", 30)
    return schema.validate(schema.RenderSettings, **values), cam


def _run_render(args) -> int:
    from pipelines import depth as depth_stage
    from pipelines.core import schema
    from pipelines.core.errors import InputError
    from pipelines.core.photo import load_image
    from pipelines.finish import compose as finish
    from pipelines.render.take import files_source, render_take

    # 1. Check every option before any work
    if not args.output and not args.frames_dir:
        raise InputError("say where to write: -o take.mp4 and/or --frames-dir DIR")
    photo = load_image(args.photo)
    settings, cam = _render_settings(args, schema)
    finishing = finish.settings_from_args(args, out_path=args.output)  # bad text/audio fail before rendering
    if finishing is not None and not args.output:
        raise InputError("captions, sound, aspect and loop need a video to finish: add -o out.mp4")
    # The generative knobs are checked even for the parallax engine: a bad value is an error, not ignored.
    knobs = {k: v for k, v in schema.picked(args, schema.GenerativeSettings).items() if k != "engine"}
    gen = schema.validate(schema.GenerativeSettings, **knobs,
                          **({} if args.engine == schema.PARALLAX else {"engine": args.engine}))
    redraw = None
    if args.engine != schema.PARALLAX:
        from pipelines.generative import engine as generative
        from pipelines.generative.redraw import Redraw

        generative.get_preset(args.engine)  # unknown names fail before any work
        redraw = Redraw(gen)
        if not args.output:
            raise InputError(f"--engine {args.engine} writes a video: give -o take.mp4")
    motion = _motion(args, photo)
    # 2. Depth: the file given, or estimated
    depth = (depth_stage.load_depth(args.depth, size=photo.size) if args.depth
             else depth_stage.estimate(photo, estimator=args.estimator))
    for note in photo.notices + depth.notices:
        _notice(note)
    # 3. The take (kept beside a finished file as NAME.take.mp4, to finish again without rendering)
    video = args.output
    if finishing is not None:
        video = Path(args.output).with_name(Path(args.output).stem + ".take.mp4")
    take = render_take(photo, depth, settings, video=video, frames_dir=args.frames_dir, camera_path=cam,
                       redraw=redraw, motion=motion,
                       source=files_source(photo, depth, args.photo, video or args.frames_dir, args.prompt or "",
                                           args.depth))
    for note in take.notices:
        if note not in photo.notices + depth.notices:  # those were said before rendering
            _notice(note)
    # 4. Finishing: caption, sound, aspect, format, loop
    if finishing is not None:
        notes: list[str] = []
        final = finish.finish_take(take.video, finishing, args.output, notices=notes)
        for note in notes:
            _notice(note)
        print(final)
        return 0
    print(take.video or take.frames_dir)
    return 0


def _motion(args, photo):
    """The regions that move: the --motion file (masks checked before any work), or the actions in the
    words ("clouds drift") on the regions found for them; None for a camera-only take."""
    from pipelines.core.errors import InputError

    if args.motion:
        from pipelines import living

        if args.engine != "parallax":
            raise InputError(f"--motion animates regions with the parallax engine; drop --engine {args.engine} "
                             "or --motion")
        motion = living.load_motion(args.motion, photo.size)
        _notice("moving: " + motion.describe().replace("\n", "; "))
        return motion
    if not args.prompt or args.engine != "parallax":
        return None
    from pipelines.living.regions import motion_from_words
    from pipelines.studio.prompt import parse_prompt

    actions = parse_prompt(args.prompt).actions
    if not actions:
        return None
    motion, lines = motion_from_words(photo.pixels, actions)
    for line in lines:
        _notice(f"moving: {line}")
    return motion


def _add_replay(sub) -> None:
    p = sub.add_parser("replay", help="render a take again from its recipe (the .json beside its video)",
                       description="Render the same take again: with the same version and inputs, the decoded "
                                   "frames equal the original's.")
    p.add_argument("recipe", help="the take's recipe, TAKE.mp4.json")
    p.add_argument("--photo", help="the source photo [default: the path the recipe names]")
    p.add_argument("-o", "--output", help="video file to write (.mp4 H.264, .webm VP9)")
    p.add_argument("--frames-dir", help="folder for frame_0000.png, frame_0001.png, ...")
    p.set_defaults(run=_run_replay)


def _run_replay(args) -> int:
    from pipelines.core.errors import InputError
    from pipelines.render.replay import replay

    if not args.output and not args.frames_dir:
        raise InputError("say where to write: -o again.mp4 and/or --frames-dir DIR")
    take = replay(args.recipe, photo=args.photo, video=args.output, frames_dir=args.frames_dir)
    for note in take.notices:
        _notice(note)
    print(take.video or take.frames_dir)
    return 0


def _add_presets(sub) -> None:
    p = sub.add_parser("presets", help="list the camera presets")
    p.set_defaults(run=_run_presets)


def _run_presets(args) -> int:
    from pipelines.render import camera

    for name in camera.list_presets():
        pr = camera.get_preset(name)
        print(f"{name:14s} {pr.description}")
    return 0


_COMMANDS += [_add_render, _add_replay, _add_presets]


def _add_depth(sub) -> None:
    from pipelines import depth
    from pipelines.core import schema

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

    from pipelines import depth
    from pipelines.core import photo as io
    from pipelines.core import schema
    from pipelines.core.errors import InputError

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


from pipelines.batch.cli import add_parser as _add_batch  # noqa: E402  (the batch command lives in its stage)

_COMMANDS.append(_add_batch)
