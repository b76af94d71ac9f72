"""The HTTP API under a barrage of bad values (one server for the module, the real gradio_client): every
schema field of the Generate and Finish endpoints, fed values out of range, NaN and infinity, the wrong type
and huge strings, gets an error that names the field; afterwards good requests still succeed. The page's
controls read their ranges and choices from the schema. Depth is a stub; the renderer is real, at 32 px."""
import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image
from schema_strategies import HUGE, bad_values
from studio_stubs import CountingDepth, decode, serve_studio

from pipelines.core import schema

BARRAGE = settings(max_examples=15, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                          HealthCheck.function_scoped_fixture])
SMALL = dict(duration=0.25, fps=4, long_side=32, num_takes=1)
#: The Generate endpoint's parameters that are StudioRequest fields (the others: photo, random_seed).
GENERATE_FIELDS = ("prompt", "preset", "strength", "seed", "num_takes", "vary", "duration", "fps", "aspect",
                   "long_side", "engine", "negative_prompt")
#: The Finish endpoint's parameters that are FinishSettings fields.
FINISH_FIELDS = ("caption", "title", "caption_position", "volume", "aspect", "reframe", "format", "loop")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve_studio(tmp_path_factory.mktemp("takes"), CountingDepth())


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


@pytest.fixture(scope="module")
def photo_file(tmp_path_factory, coffee) -> str:
    path = tmp_path_factory.mktemp("in") / "coffee.png"
    Image.fromarray(coffee[::8, ::8]).save(path)
    return str(path)


def blank(value) -> bool:
    """What a cleared control sends: the handlers leave it to the schema's default, so it is not an error."""
    return value is None or (isinstance(value, str) and not value.strip())


def json_safe(value):
    """NaN and infinity as the JSON text a client sends ("NaN" is not JSON)."""
    return str(value) if isinstance(value, float) and not math.isfinite(value) else value


#: Free-text fields: any string is a value they take.
TEXT_FIELDS = ("prompt", "negative_prompt", "caption", "title")


def refusable(name, value) -> bool:
    """Whether ``value``, as a client sends it, is still a bad value for field ``name``: not blank (a cleared
    control), and not a non-finite number sent to a free-text field (it travels as the word "inf" or "nan",
    a fine prompt or caption)."""
    return not blank(value) and not (name in TEXT_FIELDS and isinstance(json_safe(value), str)
                                     and not isinstance(value, str))


def generate(client, photo_file, **values):
    from gradio_client import handle_file

    values = {"prompt": "slow push in", "random_seed": False, "seed": 1, **SMALL, **values}
    return client.predict(photo=handle_file(photo_file), **values, api_name="/generate")


def test_the_page_reads_its_ranges_and_choices_from_the_schema(server):
    import httpx

    config = httpx.get(server + "config", timeout=30).json()
    props = {c["props"].get("elem_id"): c["props"] for c in config["components"] if c["props"].get("elem_id")}
    values = lambda p: [v for _, v in p["choices"]]  # noqa: E731  (choices are (label, value) pairs)
    assert (props["takes"]["minimum"], props["takes"]["maximum"]) == (1, schema.bound(schema.StudioRequest,
                                                                                       "num_takes", "le"))
    assert (props["fps"]["minimum"], props["fps"]["maximum"]) == (1, 60)
    assert values(props["aspect"]) == schema.choices(schema.StudioRequest, "aspect")
    assert values(props["vary"]) == schema.choices(schema.StudioRequest, "vary")
    assert values(props["long-side"]) == schema.examples(schema.StudioRequest, "long_side")
    assert props["prompt"]["max_length"] == schema.PROMPT_CHARS
    assert values(props["finish-aspect"]) == schema.choices(schema.FinishSettings, "aspect")
    assert values(props["finish-format"]) == schema.choices(schema.FinishSettings, "format")


@BARRAGE
@given(data=st.data())
def test_generate_refuses_bad_values_naming_the_field(client, photo_file, data):
    from gradio_client.exceptions import AppError

    name = data.draw(st.sampled_from(GENERATE_FIELDS), label="parameter")
    value = data.draw(bad_values(schema.StudioRequest, name), label="value")
    assume(refusable(name, value))
    with pytest.raises(AppError) as err:
        generate(client, photo_file, **{name: json_safe(value)})
    assert name in str(err.value) and "\n" not in str(err.value), str(err.value)


@pytest.mark.parametrize("photo", [{"path": None, "url": "data:image/png;base64,%%", "meta": {"_type": "gradio.FileData"}},
                                   {"path": None, "url": "data:image/png;base64," + HUGE, "meta": {"_type": "gradio.FileData"}}],
                         ids=["bad-base64", "huge-paste"])
def test_generate_refuses_bad_photos_naming_the_photo(client, photo):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="photo") as err:
        client.predict(photo=photo, prompt="", random_seed=True, **SMALL, api_name="/generate")
    assert len(str(err.value)) < 400


@pytest.mark.parametrize("photo", [5, HUGE, {"url": 7}, [1, 2]], ids=["int", "huge", "odd-dict", "list"])
def test_generate_leaves_malformed_file_payloads_to_gradio(client, photo):
    # Not a file reference at all: Gradio's own payload check (ImageData) answers before the studio sees it.
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="ImageData"):
        client.predict(photo=photo, prompt="", random_seed=True, **SMALL, api_name="/generate")


def test_plan_and_engine_notes_answer_any_value(client):
    for strength in ("strong", HUGE, [1], None, -1, "NaN"):
        text = client.predict(prompt="orbit", preset="from the prompt", strength=strength, api_name="/plan")
        assert text.startswith("**Plan:**") and "strength" in text and len(text) < 400
    for engine in (5, HUGE, ["x"], "sora"):
        note = client.predict(engine, api_name="/engine_status")[0]
        assert note.startswith("**Engine:**") and "unknown" in note and len(note) < 400


@pytest.fixture(scope="module")
def finishing(server, photo_file):
    """A session (its own client) that generated and kept one take."""
    from gradio_client import Client, handle_file

    session = Client(server, verbose=False)
    session.predict(handle_file(photo_file), "slow push in", random_seed=False, seed=2, api_name="/generate",
                    **{**SMALL, "long_side": 128, "duration": 0.5})
    session.predict(api_name="/keep_take_1")
    return session


@BARRAGE
@given(data=st.data())
def test_finish_refuses_bad_values_naming_the_field(finishing, data):
    from gradio_client.exceptions import AppError

    name = data.draw(st.sampled_from(FINISH_FIELDS), label="parameter")
    value = data.draw(bad_values(schema.FinishSettings, name), label="value")
    assume(refusable(name, value))
    with pytest.raises(AppError) as err:
        finishing.predict(**{name: json_safe(value)}, api_name="/finish")
    assert name in str(err.value) and "\n" not in str(err.value), str(err.value)


@pytest.mark.parametrize("values, message", [
    (dict(sound="thunder"), "sound='thunder'"), (dict(sound=7), "sound=7"),
    (dict(take=HUGE), "(100000 characters) is not one of your kept takes"),
    (dict(sound="my audio file"), "upload an audio file"),
])
def test_finish_refuses_bad_sound_and_take_choices(finishing, values, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message.replace("(", r"\(").replace(")", r"\)")):
        finishing.predict(**values, api_name="/finish")


def test_the_server_still_serves_after_the_barrage(client, finishing, photo_file):
    out = generate(client, photo_file, aspect="photo", seed=9)
    assert decode(out[0]).shape == (1, 22, 32, 3)
    video, gif, download, status = finishing.predict(caption="Still here", aspect="1:1", api_name="/finish")
    assert decode(video).shape[1:3] == (72, 72) and "Finished take1-" in status
