"""The Segment page's mask editing: brush, eraser, click-to-recover and box (LiteMedSAM) on a canvas over the image;
undo, reset.

Edits live in st.session_state only (``edits``: image key -> core.analysis.editing.Edits), never on disk.
The canvas (pages/_brush.py) hands each finished stroke (or click) to a callback that runs before the
script, so the readout of the very run it triggers already includes it. The stroke goes through
``edit_inbox``, which ``apply_pending`` empties; a test can fill that inbox with the same records.
"""
from __future__ import annotations

import cv2
import streamlit as st

from core.analysis import editing as ed
from core.analysis import segment as an
from core.analysis.memory import edits_bytes
from core.analysis.overlay import draw_contour, lesion_overlay
from core.inference.boxprompt import BoxPromptError, BoxSegmenter
from pages._brush import brush_canvas

EDITS, INBOX, PROPOSALS, BOX_MESSAGE = "edits", "edit_inbox", "edit_proposals", "box_message"
BOX = "box"
TOOLS = {"Brush (add)": ed.ADD, "Eraser (remove)": ed.REMOVE, "Click a missed lesion": "recover",
         "Box (LiteMedSAM)": BOX}
CANVAS_PX = 720  # the longer side on screen: large enough to follow a lesion's edge
HOW = ("Your strokes are kept as *add* and *remove* layers over the model's mask at this threshold, so moving the "
       "threshold keeps them; the readout, Dice, table and every export use the edited mask and say it was edited.")
BOX_HOW = ("Drag a box around a lesion: LiteMedSAM outlines it and its outline becomes the mask (a second box adds "
           "another lesion; Undo takes a box back). LiteMedSAM is a general medical model, not trained for this "
           "app: check its outline. Its figures: weights/litemedsam.card.md.")


@st.cache_resource(show_spinner=False)
def box_segmenter() -> BoxSegmenter:
    """One LiteMedSAM for every session (its sessions load on first use; core.inference.boxprompt)."""
    return BoxSegmenter()


def prepare_box_tool(a: an.Analysis) -> None:
    """Start encoding this image in the background (loading LiteMedSAM first, once), so a box the clinician draws
    later runs only the decoder (the encoder takes most of a second on two cores). Cheap when already cached."""
    box_segmenter().precompute_in_background(a.image.gray)


def image_key(a: an.Analysis) -> str:
    # a cine loop's frames are edited one by one: each frame has its own layers
    return f"{a.name}|{a.image.width}x{a.image.height}" + ("" if a.frame is None else f"|frame{a.frame + 1}")


def edits_for(a: an.Analysis) -> ed.Edits | None:
    return st.session_state.get(EDITS, {}).get(image_key(a))


def _keys_of(a: an.Analysis) -> list[str]:
    # the image's own layers, or every frame's of a cine loop
    base = f"{a.name}|{a.image.width}x{a.image.height}"
    return [k for k in st.session_state.get(EDITS, {}) if k == base or k.startswith(base + "|")]


def edits_bytes_for(a: an.Analysis) -> int:
    """Bytes of this image's edit layers (every frame's, for a cine loop), counted in the session's budget."""
    return sum(edits_bytes(st.session_state[EDITS][k]) for k in _keys_of(a))


def drop_edits(a: an.Analysis) -> None:
    """Forget this image's edits and proposals: its analysis left the session's memory."""
    for k in _keys_of(a):
        del st.session_state[EDITS][k]
        st.session_state.get(PROPOSALS, {}).pop(k, None)


def _edits(a: an.Analysis) -> ed.Edits:
    return st.session_state.setdefault(EDITS, {}).setdefault(image_key(a), ed.Edits.empty(a.image.gray.shape))


def canvas_scale(a: an.Analysis) -> tuple[float, float, int, int]:
    """(scale_x, scale_y, canvas width, canvas height): canvas pixels per image pixel on each axis."""
    s = CANVAS_PX / max(a.image.width, a.image.height)
    cw, ch = max(1, round(a.image.width * s)), max(1, round(a.image.height * s))
    return cw / a.image.width, ch / a.image.height, cw, ch


def apply_pending(analyses: list[an.Analysis]) -> None:
    """Apply the strokes and clicks waiting in the inbox to their images' edits (or proposals).

    A record: {"image": image_key, "tool": "add" | "remove" | "recover", "points": [[x, y], ...] and
    "width" in canvas pixels, "scale": (canvas px per image px across, down)}."""
    pending = st.session_state.pop(INBOX, [])
    by_key = {image_key(a): a for a in analyses}
    for rec in pending:
        a = by_key.get(rec["image"])
        if a is None or not rec["points"]:
            continue
        sx, sy = rec["scale"]
        pts = ed.canvas_to_image(rec["points"], sx, sy)
        if rec["tool"] == "recover":
            region = ed.propose_region(a.probability, a.image.gray, tuple(pts[-1]))
            st.session_state.setdefault(PROPOSALS, {})[rec["image"]] = region
        elif rec["tool"] == BOX:
            (x0, y0), (x1, y1) = pts[0], pts[-1]
            try:
                ed.apply_box(_edits(a), box_segmenter().segment(a.image.gray, (x0, y0, x1, y1)).mask)
                st.session_state.pop(BOX_MESSAGE, None)
            except BoxPromptError as exc:
                st.session_state[BOX_MESSAGE] = f"{exc}. Drag a box around the lesion."
        else:
            width = float(rec["width"]) / ((sx + sy) / 2)
            ed.apply(_edits(a), ed.stroke_mask(a.image.gray.shape, pts, width), rec["tool"])


def _take(stroke: dict, image: str, scale: tuple[float, float]) -> None:
    if stroke.get("tool") in (ed.ADD, ed.REMOVE, "recover", BOX):
        st.session_state.setdefault(INBOX, []).append({"image": image, "tool": stroke["tool"],
                                                       "points": stroke.get("points") or [],
                                                       "width": stroke.get("width", 1), "scale": scale})


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
                disabled=not (e and (e.edited or e.prompts)) and key not in st.session_state.get(PROPOSALS, {}))
    st.caption(HOW)
    # encode the image for LiteMedSAM in the background as soon as editing is on (whichever tool), so a box drawn
    # later runs only the decoder; not at the drop, where it would slow the first readout
    prepare_box_tool(a)
    if tool == BOX:
        if not BoxSegmenter.available():
            st.warning("LiteMedSAM's files (weights/litemedsam_*.onnx) are missing: restore them with "
                       "`git checkout weights/`. The other tools work without them.")
        else:
            st.caption(BOX_HOW)
        if st.session_state.get(BOX_MESSAGE):
            st.warning(st.session_state[BOX_MESSAGE])
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
    colour = {ed.ADD: "rgba(40, 220, 80, 0.6)", ed.REMOVE: "rgba(60, 140, 255, 0.6)"}.get(tool, "#ffd000")
    if tool == BOX and not BoxSegmenter.available():
        tool = "none"  # the canvas draws nothing and sends nothing
    brush_canvas(jpg.tobytes(), cw, ch, brush * (sx + sy) / 2, tool, colour, e.steps if e else 0,
                 key=f"brush|{key}", on_stroke=lambda stroke: _take(stroke, key, (sx, sy)))
