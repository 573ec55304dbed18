"""The Segment page's mask editing: brush, eraser and click-to-recover on a canvas over the image; undo, reset.

Edits live in st.session_state only (``edits``: image key -> core.analysis.editing.Edits), never on disk.
The canvas hands each finished stroke (or click) to ``_take``, a callback that runs before the script, so
the readout of the very run it triggers already includes it. The stroke goes through ``edit_inbox``, which
``apply_pending`` empties; a test can fill that inbox with the same records the canvas makes.
"""
from __future__ import annotations

import cv2
import streamlit as st

from core.analysis import editing as ed
from core.analysis import segment as an
from core.analysis.overlay import draw_contour, lesion_overlay

EDITS, INBOX, PROPOSALS = "edits", "edit_inbox", "edit_proposals"
TOOLS = {"Brush (add)": ed.ADD, "Eraser (remove)": ed.REMOVE, "Click a missed lesion": "recover"}
CANVAS_PX = 720  # the longer side on screen: large enough to follow a lesion's edge
HOW = ("Your strokes are kept as *add* and *remove* layers over the model's mask at this threshold, so moving the "
       "threshold keeps them; the readout, Dice, table and every export use the edited mask and say it was edited.")


def image_key(a: an.Analysis) -> str:
    return f"{a.name}|{a.image.width}x{a.image.height}"


def edits_for(a: an.Analysis) -> ed.Edits | None:
    return st.session_state.get(EDITS, {}).get(image_key(a))


def _edits(a: an.Analysis) -> ed.Edits:
    return st.session_state.setdefault(EDITS, {}).setdefault(image_key(a), ed.Edits.empty(a.image.gray.shape))


def canvas_scale(a: an.Analysis) -> tuple[float, float, int, int]:
    """(scale_x, scale_y, canvas width, canvas height): canvas pixels per image pixel on each axis."""
    s = CANVAS_PX / max(a.image.width, a.image.height)
    cw, ch = max(1, round(a.image.width * s)), max(1, round(a.image.height * s))
    return cw / a.image.width, ch / a.image.height, cw, ch


def _point(obj: dict) -> tuple[float, float]:
    """The centre of a canvas point (a Fabric circle), whatever its origin."""
    x, y = float(obj.get("left", 0)), float(obj.get("top", 0))
    if obj.get("originX", "left") == "left":
        x += float(obj.get("radius", 0)) * float(obj.get("scaleX", 1)) + float(obj.get("strokeWidth", 0)) / 2
    if obj.get("originY", "top") == "top":
        y += float(obj.get("radius", 0)) * float(obj.get("scaleY", 1)) + float(obj.get("strokeWidth", 0)) / 2
    return x, y


def apply_pending(analyses: list[an.Analysis]) -> None:
    """Apply the strokes and clicks waiting in the inbox to their images' edits (or proposals)."""
    pending = st.session_state.pop(INBOX, [])
    by_key = {image_key(a): a for a in analyses}
    for rec in pending:
        a = by_key.get(rec["image"])
        if a is None:
            continue
        sx, sy = rec["scale"]
        for obj in rec["objects"]:
            if rec["tool"] == "recover":
                x, y = _point(obj)
                region = ed.propose_region(a.probability, a.image.gray, (x / sx, y / sy))
                st.session_state.setdefault(PROPOSALS, {})[rec["image"]] = region
            elif obj.get("path"):
                pts = ed.canvas_path_points(obj["path"], sx, sy)
                width = float(obj.get("strokeWidth", 1)) / ((sx + sy) / 2)
                ed.apply(_edits(a), ed.stroke_mask(a.image.gray.shape, pts, width), rec["tool"])


def _take(canvas_key: str, image: str, tool: str, scale: tuple[float, float]) -> None:
    value = st.session_state.get(canvas_key) or {}
    objects = ((value.get("drawing") or {}).get("raw") or {}).get("objects") or []
    if objects:  # the canvas also reports its empty drawing when it mounts
        st.session_state.setdefault(INBOX, []).append(
            {"image": image, "tool": tool, "objects": objects, "scale": scale})


def _undo(key: str) -> None:
    e = st.session_state.get(EDITS, {}).get(key)
    if e is not None:
        ed.undo(e)


def _reset(key: str) -> None:
    e = st.session_state.get(EDITS, {}).get(key)
    if e is not None:
        ed.reset(e)
    st.session_state.get(PROPOSALS, {}).pop(key, None)


def _keep(a: an.Analysis) -> None:
    region = st.session_state.get(PROPOSALS, {}).pop(image_key(a), None)
    if region is not None and region.any():
        ed.apply(_edits(a), region, ed.ADD)


def _discard(key: str) -> None:
    st.session_state.get(PROPOSALS, {}).pop(key, None)


def edit_toggle_ui() -> bool:
    return st.toggle("Edit the mask", False, key="editing",
                     help="Brush, eraser, or one click inside a lesion the model missed.")


def edit_ui(a: an.Analysis, v: an.View, opacity: float) -> None:
    """The editing controls and the canvas, over the image with the current (edited) mask."""
    key = image_key(a)
    e = edits_for(a)
    c = st.columns([3, 2, 1, 2])
    tool = TOOLS[c[0].radio("Tool", list(TOOLS), key="edit_tool", horizontal=True)]
    brush = c[1].slider("Brush size (image px)", 1, 60, 10, key="brush_px")
    c[2].button("Undo", key="edit_undo", on_click=_undo, args=(key,), disabled=not (e and e.steps))
    c[3].button("Reset to the model's mask", key="edit_reset", on_click=_reset, args=(key,),
                disabled=not (e and e.edited) and key not in st.session_state.get(PROPOSALS, {}))
    st.caption(HOW)
    proposal = st.session_state.get(PROPOSALS, {}).get(key)
    picture = lesion_overlay(a.image.gray, v.mask, opacity)
    if proposal is not None:
        draw_contour(picture, proposal, (64, 200, 255))
        p = st.columns([4, 1, 1])
        p[0].info(f"Proposed region (blue outline): {int(proposal.sum()):,} px." if proposal.any() else
                  "No bounded region was found around that click: try a little further inside the lesion.")
        p[1].button("Keep", key="proposal_keep", on_click=_keep, args=(a,), disabled=not proposal.any())
        p[2].button("Discard", key="proposal_discard", on_click=_discard, args=(key,))
    sx, sy, cw, ch = canvas_scale(a)
    ok, jpg = cv2.imencode(".jpg", cv2.cvtColor(picture, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    canvas_key = f"canvas|{key}|{e.steps if e else 0}|{tool}|{proposal is not None}"
    from streamlit_drawable_canvas import st_canvas

    colour = {"add": "rgba(40, 220, 80, 0.6)", "remove": "rgba(60, 140, 255, 0.6)"}.get(tool, "#ffd000")
    st_canvas(stroke_width=max(1, round(brush * (sx + sy) / 2)), stroke_color=colour, fill_color=colour,
              background_image=jpg.tobytes(), width=cw, height=ch,
              drawing_mode="point" if tool == "recover" else "freedraw", point_display_radius=4,
              key=canvas_key, on_change=lambda: _take(canvas_key, key, tool, (sx, sy)))
