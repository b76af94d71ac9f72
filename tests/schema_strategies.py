"""Hypothesis strategies read from the schema: for any field of any model, values that field must refuse
(out of its range, NaN and infinity, the wrong type, text too long, a word outside its vocabulary), and
anything at all. The property tests feed them through the Python API, the CLI and the HTTP API."""
from __future__ import annotations

import json
import typing
from typing import Any, Literal

from hypothesis import strategies as st
from pydantic import BaseModel

from pipelines.core import paths, recipe, schema

#: 100,000 characters: the "huge string" every text field and flag is fed.
HUGE = "x" * 100_000
#: Words pydantic reads as booleans (so they are not "the wrong type" for a bool field).
_BOOL_WORDS = {"0", "1", "t", "f", "y", "n", "on", "off", "yes", "no", "true", "false"}
#: Strings that are never a number, a colour, a name or a position: they start with a character none allows.
_NOT_A_WORD = st.text(max_size=12).map(lambda s: "#?" + s)
_LETTERS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=0, max_size=12)
_CONTAINERS = st.one_of(st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                             max_size=2))


def valid_base(model: type[BaseModel]) -> dict[str, Any]:
    """Values of a valid instance of ``model`` (the models with required fields get a known-good set)."""
    if model is schema.CameraPreset:
        return {"name": "test-move", "label": "Test move"}
    if model is recipe.DepthSource:
        return {"kind": "estimated"}
    if model is recipe.Source:
        return {"photo_sha256": "0" * 64, "depth": {"kind": "estimated"}}
    if model is recipe.Recipe:
        return {"studio_version": "0", "settings": {}, "source": valid_base(recipe.Source)}
    if model is schema.GenerativeModelPreset:
        raw = json.loads((paths.PRESETS / "models" / "generative.json").read_text())
        name, spec = next(iter(raw.items()))
        return {"name": name, **spec}
    return {}


def _inner(annotation: Any) -> tuple[Any, bool]:
    """(the type inside Optional[...], whether None is allowed)."""
    if typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else annotation), type(None) in typing.get_args(annotation)
    return annotation, False


def _limits(field) -> dict[str, Any]:
    return {k: getattr(m, k) for m in field.metadata for k in ("ge", "gt", "le", "lt", "max_length", "pattern")
            if getattr(m, k, None) is not None}


def bad_values(model: type[BaseModel], name: str) -> st.SearchStrategy:
    """Values that field ``name`` of ``model`` must refuse."""
    field = model.model_fields[name]
    typ, optional = _inner(field.annotation)
    lim = _limits(field)
    nested = isinstance(typ, type) and issubclass(typ, BaseModel)  # e.g. a recipe's settings: {} is valid
    scalar = typing.get_origin(typ) in (None, Literal) and not nested
    options: list[st.SearchStrategy] = [_CONTAINERS] if scalar else []
    lax_none = any(getattr(m, "func", None) is schema._none_is_empty for m in field.metadata)  # prompt: None -> ""
    if not optional and not lax_none:
        options.append(st.none())
    if typ in (int, float):
        options += [_LETTERS, st.sampled_from(["nan", "inf", "-inf", "1e999"]),
                    st.sampled_from([float("nan"), float("inf"), float("-inf")])]
        if "ge" in lim:
            options.append(st.floats(max_value=lim["ge"], exclude_max=True, allow_nan=False, allow_infinity=False)
                           if typ is float else st.integers(max_value=int(lim["ge"]) - 1))
        if "gt" in lim:
            options.append(st.floats(max_value=lim["gt"], allow_nan=False, allow_infinity=False)
                           if typ is float else st.integers(max_value=int(lim["gt"])))
        if "le" in lim:
            options.append(st.floats(min_value=lim["le"], exclude_min=True, allow_nan=False, allow_infinity=False)
                           if typ is float else st.integers(min_value=int(lim["le"]) + 1))
        if "lt" in lim:
            options.append(st.floats(min_value=lim["lt"], allow_nan=False, allow_infinity=False)
                           if typ is float else st.integers(min_value=int(lim["lt"])))
        if typ is int:
            options.append(st.integers(-1000, 1000).map(lambda i: i + 0.5))
    elif typ is bool:
        options += [_LETTERS.filter(lambda s: s.strip().lower() not in _BOOL_WORDS), st.integers(2, 10**6)]
    elif typ is str or typing.get_origin(typ) is Literal:
        options += [st.integers(), st.floats(allow_nan=True)]
        if "max_length" in lim:
            n = lim["max_length"]
            options += [st.just(HUGE[: n + 1]), st.just(HUGE), st.text(min_size=n + 1, max_size=n + 40)
                        .filter(lambda s, n=n: len(s.strip()) > n or len(s) > n)]
        if "pattern" in lim or typing.get_origin(typ) is Literal or name.endswith("colour"):
            options.append(_NOT_A_WORD)
        if name in ("caption", "title"):
            options.append(st.sampled_from(["", " ", "\n\t "]))
    elif typing.get_origin(typ) is tuple:
        size = len(typing.get_args(typ))
        options += [_LETTERS, st.lists(st.floats(allow_nan=False), min_size=size + 1, max_size=size + 3),
                    st.just([float("nan")] * size), st.just(["far"] * size)]
    else:  # dicts
        options += [st.integers(), _LETTERS, st.lists(st.integers(), min_size=1, max_size=3),
                    st.dictionaries(st.integers(), st.integers(), min_size=1, max_size=2)]
    return st.one_of(options)


def field_and_bad_value(model: type[BaseModel], fields: tuple[str, ...] | None = None) -> st.SearchStrategy:
    """(field name, a value it must refuse), over the fields of ``model`` (or ``fields``)."""
    names = sorted(fields or model.model_fields)
    return st.sampled_from(names).flatmap(lambda n: st.tuples(st.just(n), bad_values(model, n)))


#: Anything at all: the property is then "a model or an InputError naming the field", nothing else.
ANYTHING = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=50), st.just(HUGE),
                     _CONTAINERS, st.binary(max_size=8))

#: The schema models whose every field is a user knob, or read from a file a user may hand in.
MODELS = (schema.RenderSettings, schema.DepthSettings, schema.GenerativeSettings, schema.FinishSettings,
          schema.StudioRequest, schema.CameraPreset, schema.GenerativeModelPreset, recipe.DepthSource,
          recipe.Source, recipe.Recipe)
