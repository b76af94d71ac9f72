"""The living-photo brush: paint what moves (one layer per motion group, up to four), pick each group's
motion type, direction and speed, and see an overlay of the regions with an arrow for each direction.

Layout in :func:`motion_panel`; pure handlers below it (:func:`brush_regions` turns the editor's value into
the studio's motion groups, :func:`motion_overlay` draws the preview and names the groups). Ranges and
choices come from :class:`pipelines.living.spec.MotionRegionSpec`, never re-typed.
"""
from __future__ import annotations

import base64
import io
import math
from typing import Any, Optional

import numpy as np

from pipelines.core.errors import InputError
from pipelines.living.spec import DEFAULT_DIRECTION, MAX_REGIONS, MOTION_TYPES, MotionRegionSpec

#: Overlay colour of each group (RGB), the brush colour a user paints it with.
GROUP_COLOURS = ((40, 120, 255), (255, 140, 0), (40, 200, 90), (220, 40, 200))
GROUP_NAMES = tuple(f"group {i + 1}" for i in range(MAX_REGIONS))
#: Controls per group, in the order the handlers receive them.
PER_GROUP = 3


def motion_panel():
    """The brush, the per-group controls and the preview; returns (editor, controls, overlay, note)."""
    import gradio as gr

    from pipelines.core.schema import bound

    speed_field = MotionRegionSpec.model_fields["speed"]
    controls = []
    with gr.Accordion("Living photo: paint what moves (optional)", open=False, elem_id="motion-panel"):
        gr.Markdown("Paint each region that moves on its own layer (**group 1-4**), then choose how it moves. "
                    "Unpainted pixels stay exactly still. With no painting, the words decide "
                    "(\"clouds drift\" finds the sky). Set motion strength to 0 for a still camera: a cinemagraph.")
        with gr.Row():
            editor = gr.ImageEditor(label="Brush", type="numpy", image_mode="RGBA", format="png", height=360,
                                    sources=(), transforms=(), elem_id="motion-brush",
                                    # Smaller than any photo: the editor places layers given to it (a loaded
                                    # recipe's groups) centred in the larger of the photo and its first
                                    # canvas, so a larger first canvas would shift them off their place.
                                    canvas_size=(64, 64),
                                    layers=gr.LayerOptions(allow_additional_layers=False, layers=list(GROUP_NAMES)),
                                    brush=gr.Brush(colors=["#%02x%02x%02x" % c for c in GROUP_COLOURS],
                                                   default_size=24, color_mode="fixed"))
            overlay = gr.Image(label="What moves", interactive=False, height=360, format="png",
                               elem_id="motion-overlay")
        with gr.Row():
            for i, name in enumerate(GROUP_NAMES):
                with gr.Column(min_width=160):
                    kind = gr.Dropdown(list(MOTION_TYPES), value="flow", label=f"{name.capitalize()}: motion",
                                       elem_id=f"motion-type-{i + 1}")
                    direction = gr.Slider(0, 359, value=0, step=1, label="Direction (0 right, 90 down)",
                                          elem_id=f"motion-direction-{i + 1}")
                    speed = gr.Slider(bound(MotionRegionSpec, "speed", "ge"), bound(MotionRegionSpec, "speed", "le"),
                                      value=speed_field.default, step=0.05, label="Speed",
                                      info=speed_field.description, elem_id=f"motion-speed-{i + 1}")
                    controls += [kind, direction, speed]
                    kind.change(direction_for_type, [kind, direction], direction, api_visibility="private",
                                queue=False, show_progress="hidden")
        note = gr.Markdown(elem_id="motion-note")
    return editor, controls, overlay, note


# ------------------------------------------------------------------------------------------ handlers

def _image(payload: Any) -> Optional[np.ndarray]:
    """An editor image as an array: arrays pass; a raw payload (path, FileData dict, data: URL) is read."""
    from PIL import Image

    if payload is None:
        return None
    if isinstance(payload, np.ndarray):
        return payload
    if isinstance(payload, Image.Image):
        return np.asarray(payload)
    if isinstance(payload, dict):
        if payload.get("path"):
            payload = payload["path"]
        elif str(payload.get("url") or "").startswith("data:"):
            payload = io.BytesIO(base64.b64decode(payload["url"].split(",", 1)[1]))
        else:
            return None
    with Image.open(payload) as img:
        return np.asarray(img.convert("RGBA"))


def painted_layers(editor: Any) -> list[Optional[np.ndarray]]:
    """One (H, W) float32 coverage per editor layer (its alpha, 0..1), None for an empty layer."""
    if not isinstance(editor, dict):
        return []
    out = []
    for layer in editor.get("layers") or []:
        arr = _image(layer)
        if arr is None or arr.ndim != 3 or arr.shape[2] < 4 or not arr[..., 3].any():
            out.append(None)
            continue
        out.append(arr[..., 3].astype(np.float32) / 255.0)
    return out


def brush_regions(editor: Any, *groups: Any) -> list[dict]:
    """The studio's motion groups from the brush: one dict (mask, type, direction_deg, speed, name) per
    painted layer, its controls from ``groups`` (type, direction, speed per group, in order)."""
    layers = painted_layers(editor)
    painted = [(i, m) for i, m in enumerate(layers) if m is not None]
    if len(layers) > MAX_REGIONS and any(i >= MAX_REGIONS for i, _ in painted):
        raise InputError(f"the brush has {len(layers)} layers; at most {MAX_REGIONS} motion groups can move")
    regions = []
    for i, mask in painted:
        kind, direction, speed = (list(groups[i * PER_GROUP:(i + 1) * PER_GROUP]) + [None] * PER_GROUP)[:PER_GROUP]
        kind = kind or "flow"
        regions.append({"mask": mask, "type": kind, "name": GROUP_NAMES[i],
                        "direction_deg": DEFAULT_DIRECTION.get(kind, 0.0) if direction is None else float(direction),
                        "speed": MotionRegionSpec.model_fields["speed"].default if speed is None else float(speed)})
    return regions


def _arrow(img: np.ndarray, mask: np.ndarray, deg: float, kind: str, colour) -> None:
    import cv2

    ys, xs = np.nonzero(mask > 0.5)
    if xs.size == 0:
        return
    cx, cy = float(xs.mean()), float(ys.mean())
    length = 0.12 * max(img.shape[:2])
    dx, dy = math.cos(math.radians(deg)) * length, math.sin(math.radians(deg)) * length
    thick = max(2, round(max(img.shape[:2]) / 200))
    if kind == "sway":  # back and forth: an arrow each way
        p0, p1 = (int(cx - dx / 2), int(cy - dy / 2)), (int(cx + dx / 2), int(cy + dy / 2))
        for a, b in ((p0, p1), (p1, p0)):
            cv2.arrowedLine(img, a, b, (255, 255, 255), thick + 2, cv2.LINE_AA, tipLength=0.25)
            cv2.arrowedLine(img, a, b, colour, thick, cv2.LINE_AA, tipLength=0.25)
        return
    if kind == "ripple":  # a shimmer has no direction: rings
        for r in (0.25, 0.5):
            cv2.circle(img, (int(cx), int(cy)), int(r * length), (255, 255, 255), thick + 2, cv2.LINE_AA)
            cv2.circle(img, (int(cx), int(cy)), int(r * length), colour, thick, cv2.LINE_AA)
        return
    a, b = (int(cx - dx / 2), int(cy - dy / 2)), (int(cx + dx / 2), int(cy + dy / 2))
    cv2.arrowedLine(img, a, b, (255, 255, 255), thick + 2, cv2.LINE_AA, tipLength=0.3)
    cv2.arrowedLine(img, a, b, colour, thick, cv2.LINE_AA, tipLength=0.3)


def overlay_image(photo: np.ndarray, regions: list[dict]) -> np.ndarray:
    """The photo with each region tinted in its group's colour and an arrow (flow, rise), a double arrow
    (sway) or rings (ripple) at its centre. (H, W, 3) uint8."""
    import cv2

    out = photo[..., :3].astype(np.float32).copy()
    h, w = out.shape[:2]
    for r in regions:
        mask = r["mask"]
        if mask.shape != (h, w):
            mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
        colour = np.array(GROUP_COLOURS[GROUP_NAMES.index(r["name"])] if r["name"] in GROUP_NAMES else (255, 255, 0),
                          np.float32)
        a = 0.45 * mask[..., None]
        out = out * (1 - a) + colour * a
    img = np.clip(out, 0, 255).astype(np.uint8)
    for r in regions:
        mask = r["mask"]
        if mask.shape != (h, w):
            mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
        colour = GROUP_COLOURS[GROUP_NAMES.index(r["name"])] if r["name"] in GROUP_NAMES else (255, 255, 0)
        _arrow(img, mask, r["direction_deg"], r["type"], tuple(int(c) for c in colour))
    return img


def motion_overlay(editor: Any, prompt: str = "", *groups: Any) -> tuple[Optional[np.ndarray], str]:
    """The preview of what moves (overlay image) and one line per region, as Markdown: the brush's painted
    groups, or, with nothing painted, the regions the prompt's actions find ("clouds drift": the sky)
    and what must be painted."""
    from pipelines.living.spec import direction_words

    if not isinstance(editor, dict) or editor.get("background") is None:
        return None, ""
    try:
        regions = brush_regions(editor, *groups)
    except InputError as exc:
        return None, f"**Brush:** {exc}"
    photo = _image(editor.get("background"))
    if photo is None:
        return None, ""
    if not regions:
        return _words_overlay(photo[..., :3], prompt or "")
    lines = []
    for r in regions:
        way = f" {direction_words(r['direction_deg'])}" if r["type"] in ("flow", "rise") else \
            (" sideways" if r["type"] == "sway" and abs(math.sin(math.radians(r["direction_deg"]))) < 0.5 else
             (" up and down" if r["type"] == "sway" else ""))
        cover = float((r["mask"] > 0).mean()) * 100
        lines.append(f"- **{r['name'].capitalize()}**: {r['type']}{way}, speed {r['speed']:.2f}, "
                     f"{cover:.0f} % of the photo")
    return overlay_image(photo, regions), "**What moves:**\n" + "\n".join(lines)


def _words_overlay(photo: np.ndarray, prompt: str) -> tuple[Optional[np.ndarray], str]:
    from pipelines.living.regions import motion_from_words
    from pipelines.studio.prompt import parse_prompt

    try:
        actions = parse_prompt(prompt).actions
    except InputError:
        actions = ()
    if not actions:
        return None, "Nothing painted, and the words name nothing that moves (try \"clouds drift\")."
    motion, lines = motion_from_words(photo, actions)
    found = []
    if motion is not None:
        for k, r in enumerate(motion.regions):
            found.append({"mask": r.mask, "type": r.type, "direction_deg": r.direction_deg, "speed": r.speed,
                          "name": GROUP_NAMES[k]})
    image = overlay_image(photo, found) if found else None
    return image, "**What moves (from the words):**\n" + "\n".join(f"- {line}" for line in lines)


def direction_for_type(kind: str, direction: float) -> float:
    """A group's direction after its type changes: rise starts upwards; leaving rise goes back to right."""
    if kind == "rise":
        return DEFAULT_DIRECTION["rise"]
    return DEFAULT_DIRECTION.get(kind, 0.0) if direction == DEFAULT_DIRECTION["rise"] else direction


def editor_for_photo(photo: Any, pending: Optional[dict] = None) -> Any:
    """The brush's value for a newly chosen photo: the photo as background, the four empty layers; or, when
    it is the photo of a loaded recipe (``pending``: its photo's sha256, crop and groups), that take's
    painted groups."""
    if photo is None:
        return None
    if pending and pending.get("groups") and photo_sha256(photo) == pending.get("photo_sha256"):
        return editor_with_groups(photo, pending["groups"], pending.get("crop_box"))
    return {"background": photo, "layers": [], "composite": photo}


def photo_sha256(photo: Any) -> Optional[str]:
    """The sha256 a recipe records for ``photo`` (a path or an array): of its decoded RGB pixels."""
    from pipelines.core.photo import load_image
    from pipelines.studio.facade import MAX_PHOTO_SIDE

    try:
        return load_image(photo, max_side=MAX_PHOTO_SIDE).sha256  # as the studio loads it
    except InputError:
        return None


# ------------------------------------------------------------------------------- a recipe's groups back

def recipe_groups(recipe: Any, files: list, roots: list) -> tuple[list[dict], list[str]]:
    """The motion groups a take's recipe records, back as the brush's groups: one dict per region (mask at
    the take's size, type, direction_deg, speed, name "group k"), and the names of masks not found. Each
    mask is taken from the uploaded ``files`` (by its file name) or from this studio's takes under ``roots``,
    and only where its pixels match the sha256 the recipe recorded."""
    import glob
    import itertools
    from pathlib import Path

    from pipelines.living import load_motion

    from PIL import Image

    if recipe.motion is None:
        return [], []
    size = (recipe.settings.width, recipe.settings.height)
    by_name = {Path(f).name: Path(f) for f in files if f}
    groups, missing = [], []
    for k, region in enumerate(recipe.motion.model_dump(exclude_none=True)["regions"][:MAX_REGIONS]):
        name = Path(region["mask"]).name
        # An uploaded mask first; the takes' folders are searched only when it is not there (lazily).
        candidates = itertools.chain([by_name[name]] if name in by_name else [],
                                     (p for root in roots if Path(root).is_dir()
                                      for p in Path(root).rglob(glob.escape(name))))
        for path in candidates:
            try:
                if not all(size):  # a take at the photo's own size (the CLI, the API): the mask's
                    with Image.open(path) as img:
                        size = img.size
                (loaded,) = load_motion({"regions": [{**region, "mask": str(path.resolve())}]}, size).regions
            except (InputError, OSError):
                continue  # another take's mask of the same name (its pixels differ), or not an image
            groups.append({"mask": loaded.mask, "type": loaded.type, "direction_deg": loaded.direction_deg,
                           "speed": loaded.speed, "name": GROUP_NAMES[k]})
            break
        else:
            missing.append(name)
    return groups, missing


def editor_with_groups(photo: Any, groups: list[dict], crop_box: Optional[tuple] = None) -> Any:
    """The brush's value: ``photo`` as background and one layer per group, its mask (at the take's size)
    put back where the take's crop (``crop_box``, fractions of the photo) cut it, in the group's colour."""
    import cv2

    pixels = _image(photo)
    if pixels is None:
        return None
    h, w = pixels.shape[:2]
    x0, y0, x1, y1 = crop_box or (0.0, 0.0, 1.0, 1.0)
    bx0, by0 = int(round(x0 * w)), int(round(y0 * h))
    bx1, by1 = max(bx0 + 1, int(round(x1 * w))), max(by0 + 1, int(round(y1 * h)))
    layers = []
    for g in groups:
        alpha = np.zeros((h, w), np.uint8)
        alpha[by0:by1, bx0:bx1] = np.rint(np.clip(cv2.resize(g["mask"], (bx1 - bx0, by1 - by0),
                                                            interpolation=cv2.INTER_LINEAR), 0, 1) * 255)
        colour = GROUP_COLOURS[GROUP_NAMES.index(g["name"])]
        layers.append(np.dstack([np.broadcast_to(np.array(colour, np.uint8), (h, w, 3)), alpha]))
    return {"background": photo, "layers": layers, "composite": photo}


def group_controls(groups: list[dict]) -> list:
    """The four groups' (type, direction, speed) controls for ``groups`` (the rest at their defaults)."""
    values = []
    for k in range(MAX_REGIONS):
        g = next((g for g in groups if g["name"] == GROUP_NAMES[k]), None)
        values += ([g["type"], g["direction_deg"] % 360.0, g["speed"]] if g else
                   ["flow", 0.0, MotionRegionSpec.model_fields["speed"].default])
    return values
