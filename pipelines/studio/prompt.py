"""Words become motion: a prompt such as "slow push in toward the mountain" becomes a :class:`MotionPlan`.

The parser is a small, readable rule table, not a model: it runs in microseconds, needs no weights, and a
user can predict what it will do. It serves the app (the plan is shown as "Dolly in - gentle") and the CLI
(``render --prompt ...``).

How words are read:
- **The move.** Phrases are matched in two passes. Strong phrases name a move outright ("push in",
  "pull back", "orbit", "pan left", "crane up", "vertigo"); weak cues only hint at one ("toward",
  "around", "left", "up"). The first strong phrase in rule order wins; weak cues count only when there
  is no strong phrase. A prompt with no motion words gets the default move, and the explanation says so.
- **"Pan" means a sideways slide (truck), not a rotation.** In film a pan turns the camera on its
  tripod; in everyday speech and in photo-animation apps "pan left across the skyline" means sliding
  the view sideways. A rotation about the camera centre shows no parallax (nothing reveals depth), so a
  photo-to-3D studio has nothing to show for it; a lateral move does. "Pan" with no direction slides
  right (reading order). "Tilt up/down" likewise becomes a pedestal (vertical slide).
- **"Zoom"** is a focal-length change (``zoom-in``); "zoom out" maps to ``zoom-out`` where that preset
  exists, else to a dolly out.
- **Strength** starts at ``base_strength`` (the slider). Calming words ("slow", "subtle", "gentle",
  "slight") scale it down; energetic words ("dramatic", "fast", "big", "strong") move it towards 1. Only
  the strongest word of each kind counts, so "slow, gentle drift" is not twice as slow; "very" /
  "extremely" before a modifier applies it twice. Negation ("not too fast") is not understood.
- **Actions** (a living photo: parts of the photo that move). A subject ("water", "clouds", "steam",
  "grass") with a verb that suits it ("flows", "drift", "rises", "sways", "shimmering") is an action:
  ``flow`` (flows, drifts, pours, falls, streams), ``rise`` (rises, billows, curls up), ``sway`` (sways,
  rustles, flutters, "in the wind") or ``ripple`` (shimmers, ripples, sparkles). The verb follows its
  subject within three words ("the water of the river flows") or comes just before it as an -ing or -ed
  form ("shimmering lake", "drifting clouds"). A direction phrase right after the verb ("to the left",
  "down", "upwards") sets the direction (0 = right, 90 = down, 180 = left, 270 = up); otherwise
  waterfalls flow down, rise goes up and the rest go right. The words of an action are not read as a
  camera move: "water flows to the left" keeps the default move, "steam rises" does not crane up. The
  speed starts at 0.5 and the same calming and energetic words scale it ("slow", "gentle": 0.3;
  "dramatic": 0.8). Which part of the photo moves is found from the subject by
  :func:`pipelines.living.regions.find_region` (the sky, water) or painted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipelines.core.errors import InputError
from pipelines.core.schema import PROMPT_CHARS, RenderSettings, short

#: The move used when the prompt names none: the most forgiving one on any photo.
DEFAULT_PRESET = "dolly-in"
#: Strength used when neither the caller nor the words say otherwise (the schema's default).
DEFAULT_STRENGTH = RenderSettings.model_fields["strength"].default

#: Longest prompt accepted (the schema's); longer text is almost certainly a paste accident.
MAX_PROMPT_CHARS = PROMPT_CHARS

# (preset, regex) in priority order. Strong phrases name a move; a later rule only wins if no earlier
# one matched. Verbs allow inflections ("pushing", "pulls", "slides").
_V = r"(?:s|es|ed|ing)?"
_MOVE, _GLIDE, _FLY = r"mov(?:e|es|ed|ing)", r"glid(?:e|es|ing)", r"fl(?:y|ies|ying)"
_LATERAL = rf"(?:pan|truck|slid(?:e|es|ing)|track|drift|{_MOVE}|{_GLIDE}|sweep|strafe|crab|travel){_V}[\s-]+"
_VERTICAL = rf"(?:crane|boom|pedestal|tilt|{_MOVE}|float|{_FLY}|lift|drift|{_GLIDE}|go|pan){_V}[\s-]+"
_OUTWARD = rf"(?:pull|dolly|{_MOVE}|track|{_FLY}|draw|back|push|step|drift|{_GLIDE}){_V}[\s-]+"
_INWARD = rf"(?:push|dolly|{_MOVE}|track|{_FLY}|creep|drift|{_GLIDE}|step|close|go|head|travel){_V}[\s-]+"
_STRONG: tuple[tuple[str, str], ...] = (
    ("dolly-zoom", r"\bvertigo\b|\bdolly[\s-]?zoom\b|\bhitchcock\b|\bzolly\b|\bcontra[\s-]?zoom\b"),
    ("ken-burns", r"\bken[\s-]?burns\b"),
    ("orbit", rf"\borbit{_V}\b|\brevolv(?:e|es|ed|ing)\b|\barc{_V}[\s-]+(?:a)?round\b"
              rf"|\bcircl(?:e|es|ed|ing)\s+(?:a)?round\b"),
    ("circle", rf"\bcircl(?:e|es|ed|ing)\b|\bcircular\b|\bloop{_V}\b|\bswirl{_V}\b"),
    ("zoom-out", rf"\bzoom{_V}[\s-]+(?:back\s+)?out\b"),
    ("zoom-in", rf"\bzoom{_V}\b"),
    ("dolly-out", rf"\b{_OUTWARD}(?:back|out|away|backwards?)\b|\bretreat{_V}\b|\brec(?:ede|edes|eding)\b"
                  rf"|\bwiden{_V}\b"),
    ("dolly-in", rf"\b{_INWARD}(?:in\b|into\b|closer\b|forwards?\b|toward|towards\b|on\b)|\bapproach{_V}\b"),
    ("truck-left", rf"\b{_LATERAL}(?:to\s+(?:the\s+)?)?left\b|\bleft\s*ward\w*|\bright\s+to\s+left\b"),
    ("truck-right", rf"\b{_LATERAL}(?:to\s+(?:the\s+)?)?right\b|\bright\s*ward\w*|\bleft\s+to\s+right\b"),
    ("pedestal-up", rf"\b{_VERTICAL}up(?:wards?)?\b|\bascend{_V}\b|\bris(?:e|es|ing)\b|\brose\b"),
    ("pedestal-down", rf"\b{_VERTICAL}down(?:wards?)?\b|\bdescend{_V}\b|\bsink{_V}\b|\bsank\b|\blower{_V}\b"),
)
_WEAK: tuple[tuple[str, str], ...] = (
    ("orbit", r"\b(?:a)?round\b"),
    ("dolly-in", rf"\btowards?\b|\bcloser\b|\bforwards?\b|\binto\b|\bpush{_V}\b|\bin\s+on\b"),
    ("dolly-out", rf"\baway\b|\bbackwards?\b|\breveal\w*|\bpull{_V}\b"),
    ("truck-left", r"\bleft\b"),
    ("truck-right", r"\bright\b|\bpan\w*|\btruck\w*|\bslid(?:e|es|ing)\b|\bsweep\w*|\btrack\w*"),
    ("pedestal-up", r"\bup(?:wards?)?\b|\bhigher\b|\bcrane\b|\bboom\b"),
    ("pedestal-down", r"\bdown(?:wards?)?\b"),
)
_STRONG_RE = tuple((p, re.compile(rx)) for p, rx in _STRONG)
_WEAK_RE = tuple((p, re.compile(rx)) for p, rx in _WEAK)

# Modifier word -> factor. Calming words multiply strength by the factor; energetic words move it a
# fraction of the way to 1 (s + (1 - s) * g), so neither can leave [0, 1].
_CALM = {
    "slow": 0.6, "slowly": 0.6, "gentle": 0.6, "gently": 0.6, "soft": 0.6, "softly": 0.6, "calm": 0.6,
    "calmly": 0.6, "relaxed": 0.6, "lazy": 0.6, "lazily": 0.6, "easy": 0.7, "light": 0.7, "lightly": 0.7,
    "subtle": 0.5, "subtly": 0.5, "slight": 0.5, "slightly": 0.5, "small": 0.6, "little": 0.7,
    "tiny": 0.4, "minimal": 0.4, "barely": 0.3,
}
_ENERGETIC = {
    "dramatic": 0.6, "dramatically": 0.6, "fast": 0.5, "quick": 0.5, "quickly": 0.5, "rapid": 0.5,
    "rapidly": 0.5, "big": 0.5, "large": 0.5, "strong": 0.5, "strongly": 0.5, "bold": 0.5, "boldly": 0.5,
    "epic": 0.6, "intense": 0.6, "huge": 0.7, "massive": 0.7, "extreme": 0.8, "wild": 0.6,
}
_INTENSIFIERS = {"very", "really", "extremely", "super", "so", "ultra"}

# Actions: (type, verb regex, subjects that can do it). Verbs allow inflections.
_ACTION_VERBS: tuple[tuple[str, str], ...] = (
    ("rise", r"ris(?:e|es|ing)|rose|billow\w*|curl(?:s|ed|ing)?\s+up|waft\w*"),
    ("sway", r"sway\w*|rustl\w*|flutter\w*|wav(?:e|es|ed|ing)\s+in\s+the\s+(?:wind|breeze)"
             r"|blow(?:s|ing|n)?\s+in\s+the\s+(?:wind|breeze)|bend(?:s|ing)?\s+in\s+the\s+(?:wind|breeze)"
             r"|danc(?:e|es|ing)\s+in\s+the\s+(?:wind|breeze)"),
    ("ripple", r"shimmer\w*|rippl\w*|sparkl\w*|glisten\w*|glitter\w*|twinkl\w*"),
    ("flow", r"flow\w*|drift\w*|stream(?:s|ed|ing)|pour\w*|cascad\w*|rush\w*|run(?:s|ning)?|roll(?:s|ed|ing)?"
             r"|fall(?:s|ing)?|mov(?:e|es|ing)|float\w*|churn\w*|crash\w*|tumbl\w*"),
)
_WATER = {"water", "waters", "lake", "sea", "river", "ocean", "pond", "stream", "waves", "surf", "bay", "creek"}
_SKY = {"sky", "skies", "cloud", "clouds"}
_ACTION_SUBJECTS = {
    "flow": _WATER | _SKY | {"waterfall", "waterfalls", "falls", "fog", "mist", "smoke", "traffic", "lights",
                             "lava", "sand", "snow", "rain"},
    "rise": {"steam", "smoke", "mist", "fog", "vapour", "vapor", "bubbles", "fire", "flames", "flame"},
    "sway": {"grass", "leaves", "leaf", "tree", "trees", "branches", "branch", "hair", "flag", "flags", "wheat",
             "flowers", "reeds", "plants", "field", "fields", "palms", "curtains", "dress"},
    "ripple": _WATER | {"heat", "haze", "surface", "reflection", "reflections", "light"},
}
_DIRECTIONS = ((180.0, r"(?:to\s+(?:the\s+)?)?left(?:wards?)?|leftwards?"),
               (0.0, r"(?:to\s+(?:the\s+)?)?right(?:wards?)?|rightwards?"),
               (90.0, r"down(?:wards?|hill|stream)?"), (270.0, r"up(?:wards?|hill|stream)?"))
_ACTION_VERB_RE = tuple((t, re.compile(rf"\b(?:{rx})\b")) for t, rx in _ACTION_VERBS)
_DIRECTION_RE = tuple((d, re.compile(rf"^\s*(?:{rx})\b")) for d, rx in _DIRECTIONS)
#: Speed of an action before modifiers (the schema's default speed).
DEFAULT_SPEED = 0.5

_MODIFIER_WORDS = set(_CALM) | set(_ENERGETIC) | _INTENSIFIERS | {"and", "along", "away"}

#: Strength tiers for the label a user sees ("Dolly in - gentle").
_TIERS = ((0.35, "gentle"), (0.65, "medium"), (1.01, "strong"))


@dataclass(frozen=True)
class Action:
    """A part of the photo that moves, read from words.

    subject: the noun that moves ("water", "clouds", "steam"), what region finding looks for.
    type: flow, sway, ripple or rise. direction_deg: image axes, 0 right, 90 down.
    speed: 0..1 (MOTION.json's speed). words: the phrase that said so, e.g. "water flows to the left".
    """

    subject: str
    type: str
    direction_deg: float
    speed: float
    words: str

    def describe(self) -> str:
        from pipelines.living.spec import direction_words

        way = f" {direction_words(self.direction_deg)}" if self.type in ("flow", "rise") else ""
        return f"{self.subject}: {self.type}{way}, speed {self.speed:.2f}"


@dataclass(frozen=True)
class MotionPlan:
    """What a prompt asks for.

    preset: camera preset name (kebab-case, e.g. "dolly-in").
    strength: motion strength in [0, 1] (schema ``RenderSettings.strength``).
    label: short text for users, "Dolly in - gentle".
    explanation: one or two sentences on which words did what (or that none were found).
    words: the prompt words that chose the move and changed the strength, in that order.
    defaulted: True when the prompt named no move and the default was used.
    actions: the parts of the photo the words set in motion (a living photo), in prompt order.
    """

    preset: str
    strength: float
    label: str
    explanation: str
    words: tuple[str, ...] = field(default=())
    defaulted: bool = False
    actions: tuple[Action, ...] = field(default=())

    def __post_init__(self):
        if not 0.0 <= self.strength <= 1.0:
            raise InputError(f"motion strength must be in 0..1, got {self.strength}")


def preset_label(preset: str) -> str:
    """ "dolly-in" -> "Dolly in" (the move's name as a user reads it)."""
    text = preset.replace("-", " ").strip()
    return (text[:1].upper() + text[1:]) if text else preset


def strength_tier(strength: float) -> str:
    """"gentle", "medium" or "strong" for a strength in [0, 1]."""
    return next(name for top, name in _TIERS if strength < top)


def plan_label(preset: str, strength: float) -> str:
    return f"{preset_label(preset)} - {strength_tier(strength)}"


def _find_move(text: str, available: frozenset[str] | None) -> tuple[str, str] | None:
    """(preset, matched words) of the first rule that matches, strong phrases before weak cues."""
    for table in (_STRONG_RE, _WEAK_RE):
        for preset, rx in table:
            m = rx.search(text)
            if m is None:
                continue
            name = preset
            if available is not None and name not in available:
                name = {"zoom-out": "dolly-out", "zoom-in": "dolly-in", "circle": "orbit",
                        "ken-burns": "dolly-in", "dolly-zoom": "zoom-in"}.get(name, name)
                if name not in available:
                    continue
            return name, m.group(0)
    return None


def _find_actions(text: str, speed: float) -> tuple[list[Action], str]:
    """Actions in ``text`` (lower case, single spaces), and the text with their words blanked out so the
    camera rules do not read them ("flows to the left" is the water's direction, not a truck left)."""
    spans = []
    words = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"[a-z0-9]+", text)]
    for kind, rx in _ACTION_VERB_RE:
        for m in rx.finditer(text):
            if any(a < m.end() and m.start() < b for a, b, _ in spans):
                continue
            before = [w for w in words if w[1] <= m.start()]
            after = [w for w in words if w[0] >= m.end()]
            subject = None
            # The subject before the verb (within three words), or right after an -ing/-ed verb.
            for w in reversed(before[-4:]):
                if w[2] in _ACTION_SUBJECTS[kind]:
                    subject = w
                    break
            if subject is None and re.search(r"(?:ing|ed)$", m.group(0)):
                for w in after[:3]:
                    if w[2] in _ACTION_SUBJECTS[kind]:
                        subject = w
                        break
            if subject is None:
                continue
            start, end = min(subject[0], m.start()), max(subject[1], m.end())
            direction = 90.0 if (kind == "flow" and subject[2] in ("waterfall", "waterfalls", "falls", "rain")) \
                or m.group(0).startswith(("fall", "pour", "cascad", "tumbl")) else (270.0 if kind == "rise" else 0.0)
            # A direction may follow the verb after a modifier or two ("drift slowly to the left").
            skip = re.match(r"^(?:\s*(?:" + "|".join(sorted(_MODIFIER_WORDS)) + r"))*\b", text[m.end():])
            at = m.end() + (skip.end() if skip else 0)
            for deg, drx in _DIRECTION_RE:
                d = drx.match(text[at:])
                if d:
                    direction, end = deg, max(end, at + d.end())
                    break
            wind = re.match(r"^\s*in\s+the\s+(?:wind|breeze)\b", text[end:])
            if wind:
                end += wind.end()
            spans.append((start, end, Action(subject[2], kind, direction, speed, text[start:end].strip())))
    spans.sort(key=lambda s: s[0])
    blanked = text
    for a, b, _ in spans:
        blanked = blanked[:a] + " " * (b - a) + blanked[b:]
    return [s[2] for s in spans], blanked


def _strength(words: list[str], base: float) -> tuple[float, list[str]]:
    """Apply the strongest calming and the strongest energetic modifier to ``base``."""
    calm: tuple[float, str] | None = None
    energy: tuple[float, str] | None = None
    for i, w in enumerate(words):
        twice = i > 0 and words[i - 1] in _INTENSIFIERS
        said = f"{words[i - 1]} {w}" if twice else w
        if w in _CALM:
            f = _CALM[w] ** (2 if twice else 1)
            if calm is None or f < calm[0]:
                calm = (f, said)
        elif w in _ENERGETIC:
            g = 1.0 - (1.0 - _ENERGETIC[w]) ** (2 if twice else 1)
            if energy is None or g > energy[0]:
                energy = (g, said)
    s, used = base, []
    if calm is not None:
        s *= calm[0]
        used.append(calm[1])
    if energy is not None:
        s += (1.0 - s) * energy[0]
        used.append(energy[1])
    return round(min(1.0, max(0.0, s)), 3), used


def parse_prompt(prompt: str | None, base_strength: float = DEFAULT_STRENGTH,
                 default_preset: str = DEFAULT_PRESET, presets: list[str] | tuple[str, ...] | None = None
                 ) -> MotionPlan:
    """Turn a motion prompt into a :class:`MotionPlan`.

    base_strength: the strength before modifiers, in [0, 1] (the app passes its slider).
    presets: the preset names that exist; a move outside them falls back to its nearest relative
        (zoom-out -> dolly-out, ...) or is skipped. None accepts every name the rules produce.
    """
    if prompt is not None and not isinstance(prompt, str):
        raise InputError(f"prompt must be text, got {type(prompt).__name__}")
    prompt = prompt or ""
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InputError(f"prompt is {len(prompt)} characters; keep it under {MAX_PROMPT_CHARS}")
    if not (isinstance(base_strength, (int, float)) and 0.0 <= float(base_strength) <= 1.0):
        raise InputError(f"strength must be a number in 0..1, got {short(base_strength)}")
    available = frozenset(presets) if presets is not None else None
    if available is not None and default_preset not in available:
        raise InputError(f"default preset {default_preset!r} is not one of {sorted(available)}")

    text = re.sub(r"[^a-z0-9\s-]", " ", prompt.lower())
    text = re.sub(r"\s+", " ", text).strip()
    speed, _ = _strength(text.replace("-", " ").split(), DEFAULT_SPEED)
    actions, camera_text = _find_actions(text, speed)
    move = _find_move(camera_text, available)
    strength, mod_words = _strength(text.replace("-", " ").split(), float(base_strength))
    preset = move[0] if move else default_preset
    label = plan_label(preset, strength)

    if move:
        said = f'"{move[1]}" -> {preset_label(preset).lower()}'
        if re.match(r"(pan|tilt)", move[1]):
            said += " (a pan or tilt slides the camera here: turning in place would show no depth)"
    elif text and actions:
        said = f"no camera move named, so the default move ({preset_label(preset).lower()}) is used (strength 0 keeps the camera still)"
    elif text:
        said = f"no camera move named in the prompt, so the default move ({preset_label(preset).lower()}) is used"
    else:
        said = f"empty prompt, so the default move ({preset_label(preset).lower()}) is used"
    if mod_words:
        how = ", ".join(f'"{w}"' for w in mod_words)
        said += f"; {how} set the strength from {float(base_strength):.2f} to {strength:.2f}"
    else:
        said += f"; strength {strength:.2f}"
    for a in actions:
        said += f'; "{a.words}" -> {a.describe()}'
    words = ((move[1],) if move else ()) + tuple(mod_words)
    return MotionPlan(preset=preset, strength=strength, label=label, explanation=said[:1].upper() + said[1:] + ".",
                      words=words, defaulted=move is None, actions=tuple(actions))


def apply_words(prompt: str, values: dict) -> tuple[dict, MotionPlan]:
    """RenderSettings ``values`` with the move and strength the words make: the strength words scale
    ``values["strength"]`` (or the default). Returns the new values and the plan (for its label)."""
    from pipelines.render import camera

    plan = parse_prompt(prompt, base_strength=values.get("strength", DEFAULT_STRENGTH), presets=camera.list_presets())
    return {**values, "preset": plan.preset, "strength": plan.strength}, plan
