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

#: Strength tiers for the label a user sees ("Dolly in - gentle").
_TIERS = ((0.35, "gentle"), (0.65, "medium"), (1.01, "strong"))


@dataclass(frozen=True)
class MotionPlan:
    """What a prompt asks for.

    preset: camera preset name (kebab-case, e.g. "dolly-in").
    strength: motion strength in [0, 1] (schema ``RenderSettings.strength``).
    label: short text for users, "Dolly in - gentle".
    explanation: one or two sentences on which words did what (or that none were found).
    words: the prompt words that chose the move and changed the strength, in that order.
    defaulted: True when the prompt named no move and the default was used.
    """

    preset: str
    strength: float
    label: str
    explanation: str
    words: tuple[str, ...] = field(default=())
    defaulted: bool = False

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
    move = _find_move(text, available)
    strength, mod_words = _strength(text.replace("-", " ").split(), float(base_strength))
    preset = move[0] if move else default_preset
    label = plan_label(preset, strength)

    if move:
        said = f'"{move[1]}" -> {preset_label(preset).lower()}'
        if re.match(r"(pan|tilt)", move[1]):
            said += " (a pan or tilt slides the camera here: turning in place would show no depth)"
    elif text:
        said = f"no camera move named in the prompt, so the default move ({preset_label(preset).lower()}) is used"
    else:
        said = f"empty prompt, so the default move ({preset_label(preset).lower()}) is used"
    if mod_words:
        how = ", ".join(f'"{w}"' for w in mod_words)
        said += f"; {how} set the strength from {float(base_strength):.2f} to {strength:.2f}"
    else:
        said += f"; strength {strength:.2f}"
    words = ((move[1],) if move else ()) + tuple(mod_words)
    return MotionPlan(preset=preset, strength=strength, label=label, explanation=said[:1].upper() + said[1:] + ".",
                      words=words, defaulted=move is None)
