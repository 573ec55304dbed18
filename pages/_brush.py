"""A small brush canvas (a Streamlit v2 component, inline JavaScript): the image, and strokes drawn over it.

Why not streamlit-drawable-canvas: its 0.13 frontend debounces every send by 200 ms (``Bc = 200`` in its
bundle), so a stroke could not reach the area readout within the 300 ms the page aims for (measured: 371 ms
median). This one sends a stroke the moment the mouse (or pen, or finger) is lifted, as a trigger value
(``stroke``: canvas-pixel points, the brush width, the tool), so it never causes a rerun by itself. With the box
tool a drag draws a rectangle and sends its two corners. The drawn
stroke stays on screen until the next picture (with the edited mask) has loaded.
"""
from __future__ import annotations

import base64

import streamlit as st

_JS = """
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let root = parentElement.querySelector(".bs-root");
  if (!root) {
    root = document.createElement("div");
    root.className = "bs-root";
    const img = document.createElement("img");
    img.className = "bs-image";
    img.alt = "image and mask";
    img.draggable = false;
    const cv = document.createElement("canvas");
    cv.className = "bs-canvas";
    root.append(img, cv);
    parentElement.appendChild(root);
    root._seq = 0;
    let pts = null;
    const pos = (e) => {
      const r = cv.getBoundingClientRect();
      return [(e.clientX - r.left) * cv.width / r.width, (e.clientY - r.top) * cv.height / r.height];
    };
    const draw = () => {
      const ctx = cv.getContext("2d"), d = root._data;
      ctx.clearRect(0, 0, cv.width, cv.height);
      if (!pts) return;
      ctx.strokeStyle = ctx.fillStyle = d.colour;
      ctx.lineWidth = d.brush; ctx.lineCap = "round"; ctx.lineJoin = "round";
      ctx.beginPath();
      if (d.tool === "box") {  // the box from where the drag began to where the pointer is
        if (pts.length < 2) return;
        ctx.lineWidth = 2;
        ctx.strokeRect(pts[0][0], pts[0][1], pts[1][0] - pts[0][0], pts[1][1] - pts[0][1]);
        return;
      }
      if (d.tool === "recover" || pts.length === 1) {
        const r = d.tool === "recover" ? 5 : d.brush / 2;
        ctx.arc(pts[0][0], pts[0][1], r, 0, 2 * Math.PI); ctx.fill();
        return;
      }
      ctx.moveTo(pts[0][0], pts[0][1]);
      for (const [x, y] of pts.slice(1)) ctx.lineTo(x, y);
      ctx.stroke();
    };
    root._clear = () => { pts = null; draw(); };
    cv.addEventListener("pointerdown", (e) => {
      if (root._data.tool === "none") return;
      cv.setPointerCapture(e.pointerId);
      pts = [pos(e)];
      draw();
    });
    cv.addEventListener("pointermove", (e) => {
      if (!pts || root._data.tool === "recover") return;
      if (root._data.tool === "box") pts = [pts[0], pos(e)];
      else pts.push(pos(e));
      draw();
    });
    const end = () => {
      if (!pts) return;
      const d = root._data;
      // a box needs a drag: a click, or a box under 4 canvas pixels across, is dropped
      if (d.tool === "box" && (pts.length < 2 || Math.abs(pts[1][0] - pts[0][0]) < 4
                               || Math.abs(pts[1][1] - pts[0][1]) < 4)) { root._clear(); return; }
      setTriggerValue("stroke", { points: pts, width: d.brush, tool: d.tool, seq: ++root._seq });
    };
    cv.addEventListener("pointerup", end);
    cv.addEventListener("pointercancel", () => root._clear());
    img.addEventListener("load", () => root._clear());
  }
  const img = root.querySelector(".bs-image"), cv = root.querySelector(".bs-canvas");
  const before = root._data;
  root._data = data;
  if (cv.width !== data.width || cv.height !== data.height) { cv.width = data.width; cv.height = data.height; }
  // shown at its natural size, or narrower on a narrow screen: the pointer mapping uses the shown size
  root.style.width = data.width + "px";
  root.style.aspectRatio = data.width + " / " + data.height;
  if (img.getAttribute("src") !== data.image) img.setAttribute("src", data.image);
  else if (before && before.steps !== data.steps) root._clear();
}
"""

_CSS = """
.bs-root { position: relative; max-width: 100%; touch-action: none; user-select: none; }
.bs-image { position: absolute; left: 0; top: 0; width: 100%; height: 100%; display: block; }
.bs-canvas { position: absolute; left: 0; top: 0; width: 100%; height: 100%; cursor: crosshair; touch-action: none; }
"""

_component = st.components.v2.component("busseg.brush_canvas", js=_JS, css=_CSS)


def brush_canvas(jpeg: bytes, width: int, height: int, brush_px: float, tool: str, colour: str, steps: int,
                 key: str, on_stroke):
    """Mount the canvas over a JPEG of the picture (shown at width × height CSS pixels).

    on_stroke runs (as a callback, before the next script run) with the stroke when one is released:
    {"points": [[x, y], ...] in canvas pixels, "width": brush width in canvas pixels, "tool": tool}."""
    data = {"image": "data:image/jpeg;base64," + base64.b64encode(jpeg).decode(), "width": int(width),
            "height": int(height), "brush": float(brush_px), "tool": tool, "colour": colour, "steps": int(steps)}

    def _stroke_changed():
        value = st.session_state.get(key)
        stroke = value.get("stroke") if hasattr(value, "get") else getattr(value, "stroke", None)
        if stroke:
            on_stroke(stroke)

    return _component(data=data, key=key, on_stroke_change=_stroke_changed, width="content", height="content")
