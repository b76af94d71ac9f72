"""The schema as the single source, and its refusals as properties: every field of every model, fed values
out of range, NaN and infinity, the wrong type and huge strings, through ``schema.validate``, the studio's
Python API and the CLI (in-process), gets an InputError on one line that names the field; never a traceback.
(The HTTP API gets the same barrage in tests/ui/test_api_properties.py.)"""
import typing

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schema_strategies import ANYTHING, HUGE, MODELS, bad_values, field_and_bad_value, valid_base
from studio_stubs import CountingDepth, stub_take

from pipelines import cli
from pipelines.core import schema
from pipelines.core.errors import InputError

FAST = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
FEW = settings(FAST, max_examples=15)


def names_field_on_one_line(message: str, *names: str) -> bool:
    return "\n" not in message and len(message) < 800 and any(n in message for n in names)


# -- the far validator (it returned None, so every --far ended in a TypeError) ------------------------------

def test_far_keeps_its_value():
    assert schema.validate(schema.DepthSettings, far=0.2).far == 0.2
    assert schema.validate(schema.DepthSettings, near=0.8, far=0.3).model_dump()["far"] == 0.3


@FAST
@given(near=st.floats(0, 1), far=st.floats(0, 1))
def test_far_must_lie_below_near(near, far):
    if far < near:
        assert schema.validate(schema.DepthSettings, near=near, far=far).far == far
    else:
        with pytest.raises(InputError, match=r"far \(.*\) must be less than near"):
            schema.validate(schema.DepthSettings, near=near, far=far)


# -- one vocabulary, one set of ranges -----------------------------------------------------------------------

def test_one_aspect_vocabulary_everywhere():
    from pipelines.finish import reframe
    from pipelines.render import framing
    from pipelines.studio import facade  # noqa: F401  (the studio imports its aspects from framing)

    names = list(schema.ASPECT_RATIOS)
    assert names == list(typing.get_args(typing.get_args(schema.Aspect)[0]))
    assert schema.choices(schema.FinishSettings, "aspect") == schema.choices(schema.StudioRequest, "aspect") == names
    assert framing.ASPECTS is schema.ASPECT_RATIOS
    for name in names:  # every name works in both stages
        framing.output_size((600, 400), name, 96)
        reframe.plan_reframe((600, 400), name, "blur")


def test_photo_is_the_old_name_of_original():
    from pipelines.finish import reframe
    from pipelines.render import framing

    assert schema.validate(schema.StudioRequest, aspect="photo").aspect == "original"
    assert schema.validate(schema.FinishSettings, aspect="photo").aspect == "original"
    assert framing.output_size((600, 400), "photo", 96) == framing.output_size((600, 400), "original", 96) == (96, 64)
    assert reframe.plan_reframe((600, 400), "photo", "subject").mode == "none"


def test_limits_are_read_from_the_schema():
    from pipelines.finish import compose, sound
    from pipelines.studio import prompt, takes

    assert takes.MAX_TAKES == schema.bound(schema.StudioRequest, "num_takes", "le") == 4
    assert takes.VARY == tuple(schema.choices(schema.StudioRequest, "vary"))
    assert compose.MAX_TEXT_CHARS == {"caption": schema.bound(schema.FinishSettings, "caption", "max_length"),
                                      "title": schema.bound(schema.FinishSettings, "title", "max_length")}
    assert prompt.MAX_PROMPT_CHARS == schema.bound(schema.StudioRequest, "prompt", "max_length") \
        == schema.bound(schema.GenerativeSettings, "prompt", "max_length")
    assert prompt.DEFAULT_STRENGTH == schema.StudioRequest.model_fields["strength"].default
    assert sound.SOUND_BEDS == typing.get_args(schema.SoundBed)
    for name in ("strength", "seed", "duration", "fps"):  # the studio's request shares the take's ranges
        for which in ("ge", "le"):
            assert schema.bound(schema.StudioRequest, name, which) == schema.bound(schema.RenderSettings, name, which)


def test_cli_flags_are_the_schema_fields():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    render = {a.dest for a in sub["render"]._actions}
    depth = {a.dest for a in sub["depth"]._actions}
    assert set(schema.FinishSettings.model_fields) <= render
    assert set(schema.GenerativeSettings.model_fields) <= render  # engine included, from StudioRequest
    assert set(schema.RenderSettings.model_fields) - {"width", "height"} <= render  # --size stands for those
    assert set(schema.DepthSettings.model_fields) <= depth


# -- schema.validate: each field of each model ----------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@FAST
@given(data=st.data())
def test_every_field_refuses_bad_values_naming_the_field(model, data):
    name, value = data.draw(field_and_bad_value(model), label="field, value")
    with pytest.raises(InputError) as err:
        schema.validate(model, **{**valid_base(model), name: value})
    assert names_field_on_one_line(str(err.value), f"{name}=", f"{name}.")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@FAST
@given(data=st.data())
def test_any_value_gives_a_model_or_an_input_error_naming_the_field(model, data):
    name = data.draw(st.sampled_from(sorted(model.model_fields)), label="field")
    value = data.draw(ANYTHING, label="value")
    try:
        out = schema.validate(model, **{**valid_base(model), name: value})
    except InputError as exc:
        assert names_field_on_one_line(str(exc), name)
    else:
        assert isinstance(out, model)


def test_a_huge_value_is_named_not_echoed():
    with pytest.raises(InputError) as err:
        schema.validate(schema.FinishSettings, caption=HUGE)
    assert "(100000 characters)" in str(err.value) and len(str(err.value)) < 300


# -- the Python API -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    from pipelines.studio import Stages, Studio

    return Studio(output_root=tmp_path_factory.mktemp("takes"),
                  stages=Stages(depth=CountingDepth(), scene=None, take=stub_take))


@pytest.fixture(scope="module")
def small_photo(coffee):
    return np.ascontiguousarray(coffee[::8, ::8])  # 75 x 50


SMALL = dict(duration=0.25, fps=4, long_side=32)


@FAST
@given(case=field_and_bad_value(schema.StudioRequest))
def test_studio_generate_refuses_bad_values_before_any_work(studio, small_photo, case):
    name, value = case
    assume(not (name == "engine" and value is None))  # None means the default engine, as documented
    before = set(studio.outputs.root.glob("*")) if studio.outputs.root.exists() else set()
    with pytest.raises(InputError) as err:
        studio.generate(small_photo, **{**SMALL, name: value})
    assert names_field_on_one_line(str(err.value), name)
    assert (set(studio.outputs.root.glob("*")) if studio.outputs.root.exists() else set()) == before


def test_studio_still_renders_after_bad_values(studio, small_photo):
    result = studio.generate(small_photo, prompt="slow push in", aspect="photo", num_takes=2, seed=3, **SMALL)
    assert [t.settings.seed for t in result.takes] == [3, 4]
    assert (result.takes[0].settings.width, result.takes[0].settings.height) == (32, 22)


@FAST
@given(case=field_and_bad_value(schema.FinishSettings))
def test_studio_finish_refuses_bad_values(studio, case):
    name, value = case
    with pytest.raises(InputError) as err:
        studio.finish("take1.mp4", **{name: value})
    assert names_field_on_one_line(str(err.value), f"{name}=", f"{name}.")


@FEW
@given(case=field_and_bad_value(schema.RenderSettings))
def test_render_take_refuses_bad_settings(small_photo, tmp_path_factory, case):
    from pipelines.core.photo import Photo
    from pipelines.render.take import render_take

    name, value = case
    out = tmp_path_factory.mktemp("take") / "take.mp4"
    depth = CountingDepth()(Photo(small_photo))
    with pytest.raises(InputError) as err:
        render_take(Photo(small_photo), depth, {"duration": 0.25, "fps": 4, name: value}, video=out)
    assert names_field_on_one_line(str(err.value), f"{name}=") and not out.exists()


def test_render_take_refuses_what_is_not_settings(small_photo, tmp_path):
    from pipelines.core.photo import Photo
    from pipelines.render.take import render_take

    with pytest.raises(InputError, match="settings must be a RenderSettings or a dict of its fields, got list"):
        render_take(Photo(small_photo), CountingDepth()(Photo(small_photo)), [0.5], video=tmp_path / "t.mp4")


# -- the CLI, in-process ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cli_inputs(tmp_path_factory, coffee):
    from PIL import Image

    d = tmp_path_factory.mktemp("cli")
    Image.fromarray(np.ascontiguousarray(coffee[::12, ::12])).save(d / "photo.png")  # 50 x 34
    np.save(d / "depth.npy", np.linspace(1.0, 4.0, 34 * 50, dtype=np.float32).reshape(34, 50))
    return d


def cli_values(model, name) -> st.SearchStrategy:
    """What a user can type for ``--name`` that the schema must refuse: the bad values that survive being
    text (a number is a fine caption, so only a too long caption is a bad one)."""
    typ = typing.get_args(model.model_fields[name].annotation) or (model.model_fields[name].annotation,)
    numeric = any(t in (int, float) for t in typ)

    def as_text(v):
        return None if v is None or isinstance(v, (list, dict)) else str(v)

    keep = bad_values(model, name).map(as_text).filter(lambda s: s is not None)
    if not numeric:  # for text, only what is bad as text: too long, outside a vocabulary, blank
        keep = keep.filter(lambda s: not _valid(model, name, s))
    return keep


def _valid(model, name, text) -> bool:
    try:
        schema.validate(model, **{name: text})
        return True
    except InputError:
        return False


CLI_FIELDS = ([(schema.RenderSettings, n) for n in schema.RenderSettings.model_fields if n not in
               ("preset", "width", "height")]
              + [(schema.GenerativeSettings, n) for n in schema.GenerativeSettings.model_fields if n != "engine"]
              + [(schema.FinishSettings, n) for n in schema.FinishSettings.model_fields])


def run_cli(capsys, argv) -> tuple[int, list[str]]:
    capsys.readouterr()
    rc = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, [line for line in err.splitlines() if not line.startswith("notice:")]


@FAST
@given(data=st.data())
def test_cli_render_refuses_bad_flags_with_one_line_naming_them(cli_inputs, capsys, data):
    model, name = data.draw(st.sampled_from(CLI_FIELDS), label="flag")
    value = data.draw(cli_values(model, name), label="value")
    flag = "--" + name.replace("_", "-")
    out = cli_inputs / "x.mp4"
    rc, lines = run_cli(capsys, ["render", cli_inputs / "photo.png", "--depth", cli_inputs / "depth.npy",
                                 "--preset", "dolly-in", "--duration", "0.25", "--fps", "4", f"{flag}={value}",
                                 "-o", out])
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("error: "), lines
    assert names_field_on_one_line(lines[0], flag, f"{name}="), lines[0]
    assert not out.exists()


@FEW
@given(data=st.data())
def test_cli_depth_refuses_bad_flags_with_one_line_naming_them(cli_inputs, capsys, data):
    name = data.draw(st.sampled_from(sorted(schema.DepthSettings.model_fields)), label="flag")
    value = data.draw(cli_values(schema.DepthSettings, name), label="value")
    flag = "--" + name.replace("_", "-")
    out = cli_inputs / "d.png"
    rc, lines = run_cli(capsys, ["depth", cli_inputs / "photo.png", "--depth", cli_inputs / "depth.npy",
                                 f"{flag}={value}", "-o", out])
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("error: "), lines
    assert names_field_on_one_line(lines[0], flag, f"{name}="), lines[0]
    assert not out.exists()


@pytest.mark.parametrize("argv, message", [
    (["--far", "0.9", "--near", "0.5"], "far (0.9) must be less than near (0.5)"),
    (["--far", "2"], "far=2.0: Input should be less than or equal to 1"),
    (["--far", "nan"], "far=nan: Input should be a finite number"),
    (["--far", "zero"], "argument --far: invalid float value: 'zero'"),
])
def test_cli_depth_far_errors(cli_inputs, capsys, argv, message):
    rc, lines = run_cli(capsys, ["depth", cli_inputs / "photo.png", "--estimator", "classical", *argv,
                                 "-o", cli_inputs / "bad.png"])
    assert rc == 2 and len(lines) == 1 and message in lines[0]


def test_cli_depth_far_works(cli_inputs, capsys, tmp_path):
    from pipelines import depth

    rc, lines = run_cli(capsys, ["depth", cli_inputs / "photo.png", "--depth", cli_inputs / "depth.npy",
                                 "--far", "0.2", "-o", tmp_path / "d.npy"])
    assert rc == 0 and lines == []
    given = depth.load_depth(cli_inputs / "depth.npy", size=(50, 34))
    expected = depth.adjust(given, far=0.2).z  # the farthest point moved a fifth of the way to the nearest
    np.testing.assert_allclose(np.load(tmp_path / "d.npy"), expected, rtol=1e-6)
    assert not np.allclose(expected, given.z)
    rc, lines = run_cli(capsys, ["depth", cli_inputs / "photo.png", "--estimator", "classical", "--far", "0.2",
                                 "-o", tmp_path / "d.png"])
    assert rc == 0 and lines == [] and (tmp_path / "d.png").stat().st_size > 0


def test_cli_usage_errors_are_one_line(capsys):
    rc, lines = run_cli(capsys, ["render"])
    assert rc == 2 and len(lines) == 1 and "the following arguments are required: photo" in lines[0]
    rc, lines = run_cli(capsys, ["paint"])
    assert rc == 2 and len(lines) == 1 and "invalid choice: 'paint'" in lines[0]
