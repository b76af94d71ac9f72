"""`python -m pipelines batch INPUT --out OUT_DIR [render options] [--recipe R.json] [--takes N]
[--workers N] [--ray [ADDRESS]] [--force]`: the batch command, a thin skin over :func:`batch`.

Exit status: 0 when every photo is done, 1 when any failed (the others still finish), 2 for bad
arguments, 130 after Ctrl-C (the manifest lists what finished; the same command finishes the rest).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EPILOG = """examples:
  python -m pipelines batch photos/ --out videos/ --preset dolly-in --duration 4
  python -m pipelines batch 'shop/**/*.jpg' --out videos/ --prompt "slow push in" --takes 2 --aspect 9:16
  ray start --head && python -m pipelines batch photos.txt --out /shared/videos --ray auto

OUT_DIR/manifest.jsonl has one line per photo: input, outputs, status (ok, failed, skipped), error,
seconds, recipe. Running the same command again skips what is done and retries what failed."""


def add_parser(sub) -> None:
    """Declare the batch command and its options (render's options, read from the schema)."""
    from pipelines import depth
    from pipelines.core import schema
    from pipelines.finish import compose as finish

    p = sub.add_parser("batch", help="render a folder, glob or list of photos to videos (resumable; Ray optional)",
                       description="Render many photos, one take each (or --takes N), with a manifest of what "
                                   "happened to each photo.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help="a folder of photos, a glob (quote it), or a text file with one path per line")
    p.add_argument("--out", required=True, help="output folder: the videos, their recipes and manifest.jsonl")
    move = p.add_mutually_exclusive_group()
    move.add_argument("--preset", help="camera move preset (see `python -m pipelines presets`)")
    move.add_argument("--prompt", help="the motion in words: picks the move and scales the strength")
    schema.add_options(p, schema.RenderSettings, skip=("preset", "width", "height"))
    p.add_argument("--size", help="output size WxH [default: each photo's own]")
    p.add_argument("--estimator", default="auto", choices=depth.ESTIMATORS, help="depth estimator [default auto]")
    p.add_argument("--recipe", help="a take's recipe JSON: its settings apply to every photo (options given "
                                    "here override them)")
    most = schema.bound(schema.StudioRequest, "num_takes", "le")
    p.add_argument("--takes", type=int, default=1, help=f"takes per photo, seeds seed, seed+1, ... as in the studio "
                                                        f"(named <stem>-take<k>.mp4) [1..{most}; default 1]")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes here, or actors on Ray [default: the cores less one]")
    p.add_argument("--ray", nargs="?", const=True, default=False, metavar="ADDRESS",
                   help="run on Ray: alone, a Ray runtime on this machine; with an address (auto, "
                        "ray://head:10001), that cluster (needs: pip install 'ray[data]')")
    p.add_argument("--force", action="store_true", help="redo photos an earlier run already did")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    finish.add_cli_options(p)
    p.set_defaults(run=run_command)


def options_from_args(args) -> tuple[dict, object, str]:
    """The render settings, finishing settings and words of the command line, on top of --recipe's;
    --prompt picks the move as in `render`."""
    from pipelines.cli import _notice, _parse_size
    from pipelines.core import schema
    from pipelines.finish import compose as finish

    values, finishing, prompt = {}, None, args.prompt or ""
    if args.recipe:
        recipe = load_recipe(args.recipe)
        values, finishing, prompt = recipe.settings.model_dump(), recipe.finish, args.prompt or recipe.source.prompt
    values.update(schema.picked(args, schema.RenderSettings))
    if args.preset:
        values["preset"] = args.preset
    if args.size:
        values["width"], values["height"] = _parse_size(args.size)
    if args.prompt:
        from pipelines.studio.prompt import apply_words

        values, plan = apply_words(args.prompt, values)
        _notice(f"motion: {plan.label}: {plan.explanation}")
    return values, finish.settings_from_args(args) or finishing, prompt


def load_recipe(path: str):
    """A take's recipe (``<video>.json``) whose settings can apply to any photo: a preset move, not an
    explicit camera path made for its own photo."""
    from pipelines.cli import _notice
    from pipelines.core import recipe as recipes
    from pipelines.core.errors import InputError

    recipe = recipes.load(path)
    if recipe.camera_path is not None:
        raise InputError(f"recipe {path!r} follows an explicit camera path made for its own photo; a batch "
                         "needs a preset move: give --preset, or a recipe of a preset take")
    if recipe.engine != recipes.PARALLAX or recipe.generative is not None:
        _notice(f"recipe {path!r} was made with the {recipe.engine} engine; the batch renders its move with "
                "the parallax engine")
    return recipe


def run_command(args) -> int:
    from pipelines.batch.driver import run_batch
    from pipelines.core.errors import InputError

    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers must be 1 or more, got {args.workers}")
    settings, finishing, prompt = options_from_args(args)
    try:
        report = run_batch(args.input, args.out, settings, workers=args.workers, ray=args.ray, takes=args.takes,
                           finishing=finishing, estimator=args.estimator, prompt=prompt, force=args.force,
                           progress=not args.quiet)
    except KeyboardInterrupt:
        print(f"interrupted: {Path(args.out) / 'manifest.jsonl'} lists the photos that finished; "
              "run the same command again to do the rest", file=sys.stderr)
        return 130
    for row in report.rows:
        if row.status == "failed":
            print(f"failed: {row.input}: {row.error}", file=sys.stderr)
    print(f"{report.count('ok')} ok, {report.count('failed')} failed, {report.count('skipped')} skipped "
          f"in {report.seconds:.1f} s; manifest: {report.manifest}")
    return 0 if report.ok else 1
