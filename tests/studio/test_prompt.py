"""Words -> motion plan: known prompts give known moves and strengths."""
import dataclasses

import pytest

from pipelines.core.errors import InputError
from pipelines.studio.prompt import MotionPlan, parse_prompt, plan_label

ALL = ("dolly-in", "dolly-out", "truck-left", "truck-right", "pedestal-up", "pedestal-down", "orbit",
       "circle", "zoom-in", "dolly-zoom", "ken-burns")


@pytest.mark.parametrize("prompt, preset", [
    ("slow push in toward the mountain", "dolly-in"),
    ("orbit around her, gentle", "orbit"),
    ("dramatic pull back", "dolly-out"),
    ("pan left across the skyline", "truck-left"),
    ("Pan right!", "truck-right"),
    ("pan across the skyline", "truck-right"),
    ("zoom in on the cup", "zoom-in"),
    ("zoom", "zoom-in"),
    ("vertigo effect on the hallway", "dolly-zoom"),
    ("a Hitchcock dolly zoom", "dolly-zoom"),
    ("circle", "circle"),
    ("loop the camera", "circle"),
    ("circle around the statue", "orbit"),
    ("rise above the trees", "pedestal-up"),
    ("crane up over the city", "pedestal-up"),
    ("tilt down to the street", "pedestal-down"),
    ("descend slowly", "pedestal-down"),
    ("move closer to her face", "dolly-in"),
    ("very slow dolly-in", "dolly-in"),
    ("fast truck-right", "truck-right"),
    ("ken burns", "ken-burns"),
    ("walk towards the door", "dolly-in"),          # weak cue only
    ("slide left toward the door", "truck-left"),   # a named move beats a weak cue
])
def test_moves(prompt, preset):
    assert parse_prompt(prompt, presets=ALL).preset == preset


def test_gentle_push_in_label_and_strength():
    plan = parse_prompt("slow push in toward the mountain")
    assert plan == MotionPlan("dolly-in", 0.3, "Dolly in - gentle", plan.explanation, ("push in", "slow"), False)
    assert '"push in"' in plan.explanation and '"slow"' in plan.explanation


def test_dramatic_raises_strength():
    plan = parse_prompt("dramatic pull back")
    assert (plan.preset, plan.strength, plan.label) == ("dolly-out", 0.8, "Dolly out - strong")


@pytest.mark.parametrize("word", ["slow", "subtle", "gentle", "slight"])
def test_calming_words_lower_strength(word):
    assert parse_prompt(f"{word} orbit", base_strength=0.5).strength < 0.5


@pytest.mark.parametrize("word", ["dramatic", "fast", "big", "strong"])
def test_energetic_words_raise_strength(word):
    assert parse_prompt(f"{word} orbit", base_strength=0.5).strength > 0.5


def test_only_strongest_modifier_of_a_kind_counts_and_very_doubles():
    assert parse_prompt("slow gentle orbit").strength == parse_prompt("slow orbit").strength == 0.3
    assert parse_prompt("very slow orbit").strength == pytest.approx(0.5 * 0.6 * 0.6, abs=1e-3)


def test_modifiers_stay_in_range_at_the_ends():
    assert parse_prompt("extremely dramatic orbit", base_strength=1.0).strength == 1.0
    assert parse_prompt("barely orbit", base_strength=0.0).strength == 0.0


def test_no_motion_words_gives_default_and_says_so():
    plan = parse_prompt("a cat on a sofa", base_strength=0.4)
    assert (plan.preset, plan.strength, plan.defaulted) == ("dolly-in", 0.4, True)
    assert "default" in plan.explanation
    assert parse_prompt("", default_preset="orbit").preset == "orbit"
    assert parse_prompt(None).defaulted


def test_pan_is_explained_as_a_slide():
    assert "slides" in parse_prompt("pan left").explanation


def test_missing_preset_falls_back_to_a_relative():
    assert parse_prompt("zoom out", presets=ALL).preset == "dolly-out"
    assert parse_prompt("zoom out").preset == "zoom-out"


def test_plan_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_prompt("orbit").preset = "circle"


def test_label_tiers():
    assert [plan_label("orbit", s) for s in (0.1, 0.5, 0.9)] == ["Orbit - gentle", "Orbit - medium", "Orbit - strong"]


def test_error_strength_out_of_range():
    with pytest.raises(InputError, match="strength"):
        parse_prompt("orbit", base_strength=1.5)


def test_error_prompt_not_text():
    with pytest.raises(InputError, match="prompt must be text"):
        parse_prompt(42)


def test_error_prompt_too_long():
    with pytest.raises(InputError, match="characters"):
        parse_prompt("orbit " * 1000)


def test_error_unknown_default_preset():
    with pytest.raises(InputError, match="default preset"):
        parse_prompt("orbit", default_preset="warp", presets=ALL)


# -------------------------------------------------------------------------- actions (living photos)

@pytest.mark.parametrize("prompt, subject, kind, direction, speed, preset", [
    ("water flows to the left", "water", "flow", 180.0, 0.5, "dolly-in"),
    ("clouds drift", "clouds", "flow", 0.0, 0.5, "dolly-in"),
    ("steam rises from the cup", "steam", "rise", 270.0, 0.5, "dolly-in"),
    ("grass sways in the wind", "grass", "sway", 0.0, 0.5, "dolly-in"),
    ("shimmering lake", "lake", "ripple", 0.0, 0.5, "dolly-in"),
    ("slow push in while the waterfall flows", "waterfall", "flow", 90.0, 0.3, "dolly-in"),
    ("dramatic clouds drift slowly to the left, orbit around the tower", "clouds", "flow", 180.0, 0.72, "orbit"),
    ("gentle drifting clouds", "clouds", "flow", 0.0, 0.3, "dolly-in"),
])
def test_actions(prompt, subject, kind, direction, speed, preset):
    plan = parse_prompt(prompt, presets=ALL)
    (action,) = plan.actions
    assert (action.subject, action.type, action.direction_deg) == (subject, kind, direction)
    assert action.speed == pytest.approx(speed)
    assert plan.preset == preset
    assert action.words in plan.explanation


@pytest.mark.parametrize("prompt, preset", [
    ("rise above the trees", "pedestal-up"),   # a camera move, not trees that rise
    ("drift left", "truck-left"),               # no subject: the camera drifts
    ("steam rises", "dolly-in"),                # the steam's rise is not a crane up
])
def test_action_words_are_not_camera_moves(prompt, preset):
    assert parse_prompt(prompt, presets=ALL).preset == preset
