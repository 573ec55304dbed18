"""core.analysis.editing: add/remove layers, undo, reset, canvas-to-image mapping, click-to-recover."""
import numpy as np
import pytest

from core.analysis import editing as ed
from tests.helpers import synthetic_case


def test_add_and_remove_layers_combine_with_the_base_mask():
    base = np.zeros((4, 5), bool)
    base[1:3, 1:3] = True  # 4 pixels
    e = ed.Edits.empty(base.shape)
    assert not e.edited and ed.combine(base, e).sum() == 4
    add = np.zeros_like(base)
    add[0, :] = True  # 5 new pixels
    ed.apply(e, add, ed.ADD)
    assert ed.combine(base, e).sum() == 9 and e.edited
    rm = np.zeros_like(base)
    rm[:, 1] = True  # column 1: 1 added pixel (row 0) and 2 base pixels
    ed.apply(e, rm, ed.REMOVE)
    out = ed.combine(base, e)
    assert out.sum() == 6 and not out[:, 1].any()
    # the last stroke over a pixel wins: painting column 1 again takes it out of the remove layer
    ed.apply(e, rm, ed.ADD)
    assert ed.combine(base, e)[:, 1].all() and not e.remove.any()


def test_edits_survive_a_new_base_mask():
    e = ed.apply(ed.Edits.empty((3, 3)), np.eye(3, dtype=bool), ed.REMOVE)
    assert ed.combine(np.ones((3, 3), bool), e).sum() == 6   # low threshold: big base
    assert ed.combine(np.zeros((3, 3), bool), e).sum() == 0  # high threshold: nothing, and nothing negative
    assert ed.combine(np.ones((3, 3), bool), None).sum() == 9


def test_undo_walks_back_and_reset_is_undoable():
    base = np.zeros((3, 3), bool)
    e = ed.Edits.empty(base.shape)
    a, b = np.zeros_like(base), np.zeros_like(base)
    a[0, 0], b[2, 2] = True, True
    ed.apply(e, a, ed.ADD)
    ed.apply(e, b, ed.ADD)
    assert e.steps == 2 and ed.combine(base, e).sum() == 2
    ed.undo(e)
    assert ed.combine(base, e).sum() == 1 and e.add[0, 0]
    ed.reset(e)
    assert not e.edited and ed.combine(base, e).sum() == 0
    ed.undo(e)  # undoing the reset brings the stroke back
    assert ed.combine(base, e).sum() == 1
    ed.undo(e)
    ed.undo(e)  # nothing left: no error
    assert not e.edited and e.steps == 0


def test_bad_strokes_are_refused():
    e = ed.Edits.empty((3, 3))
    with pytest.raises(ValueError, match="shape"):
        ed.apply(e, np.ones((2, 2), bool), ed.ADD)
    with pytest.raises(ValueError, match="mode"):
        ed.apply(e, np.ones((3, 3), bool), "paint")


def test_canvas_points_map_back_to_image_pixels_with_the_scale_factors():
    # a 200×100 image drawn on a 600×400 canvas: 3 canvas px per image px across, 4 down
    pts = ed.canvas_to_image([[30, 40], [90, 40], [150, 80]], 3.0, 4.0)
    assert pts.tolist() == [[10, 10], [30, 10], [50, 20]]
    assert ed.canvas_to_image([], 2, 2).shape == (0, 2)


def test_stroke_mask_draws_a_line_of_the_brush_width():
    m = ed.stroke_mask((40, 60), np.array([[10, 20], [50, 20]]), 5)
    assert m[20, 10:51].all() and m[18:23, 30].all()
    assert not m[15, 30] and not m[25, 30]  # 5 px wide: rows 18..22
    assert m.sum() == pytest.approx(41 * 5, rel=0.15)
    dot = ed.stroke_mask((40, 60), np.array([[30, 20]]), 9)
    assert dot[20, 30] and dot[20, 34] and not dot[20, 36]
    assert not ed.stroke_mask((5, 5), np.zeros((0, 2)), 3).any()


def test_a_click_recovers_a_region_from_the_probability_map():
    prob = np.zeros((60, 80), np.float32)
    prob[20:30, 30:45] = 0.3  # a lesion the model saw faintly, under the 0.5 threshold
    prob[25, 37] = 0.35
    prob[50:55, 5:10] = 0.3  # another faint region, not connected: not proposed
    region = ed.propose_region(prob, np.zeros((60, 80), np.uint8), (36, 24))
    assert region.sum() == 150 and region[20:30, 30:45].all()
    # outside the image: nothing
    assert not ed.propose_region(prob, np.zeros((60, 80), np.uint8), (500, 5)).any()


def test_a_click_falls_back_to_the_image_when_the_model_saw_nothing():
    gray, lesion = synthetic_case(96, 112, seed=4, centre=(48, 56), axes=(15, 20))
    region = ed.propose_region(np.zeros(gray.shape, np.float32), gray, (56, 48))
    inter = (region & lesion).sum()
    dice = 2 * inter / (region.sum() + lesion.sum())
    assert dice > 0.7, dice
    assert region.sum() <= 0.25 * gray.size


def test_a_click_on_a_flat_field_is_bounded_in_size():
    gray = np.full((50, 50), 90, np.uint8)
    assert not ed.propose_region(np.zeros((50, 50), np.float32), gray, (25, 25)).any()


def test_undo_history_is_bounded_and_restores_exact_layers():
    rng = np.random.default_rng(0)
    e = ed.Edits.empty((7, 9))  # 63 pixels: not a multiple of 8, so packing must keep the shape exact
    layers = []
    for _ in range(ed.MAX_UNDO + 5):
        layers.append((e.add.copy(), e.remove.copy()))
        ed.apply(e, rng.random((7, 9)) > 0.7, ed.ADD if rng.random() > 0.5 else ed.REMOVE)
    assert e.steps == ed.MAX_UNDO
    for add, remove in reversed(layers[-3:]):
        ed.undo(e)
        assert np.array_equal(e.add, add) and np.array_equal(e.remove, remove)


def test_a_box_mask_replaces_the_mask_a_second_adds_and_undo_and_reset_take_them_back():
    base = np.zeros((6, 8), bool)
    base[0, :] = True  # the model's mask: the top row
    first = np.zeros((6, 8), bool)
    first[2:4, 1:3] = True
    second = np.zeros((6, 8), bool)
    second[4:6, 6:8] = True
    e = ed.Edits.empty((6, 8))
    ed.apply_box(e, first)
    assert (ed.combine(base, e) == first).all() and e.prompts == 1  # the box's mask is the mask: the top row is gone
    ed.apply_box(e, second)
    assert (ed.combine(base, e) == (first | second)).all() and e.prompts == 2
    ed.undo(e)
    assert (ed.combine(base, e) == first).all() and e.prompts == 1
    ed.reset(e)
    assert (ed.combine(base, e) == base).all() and e.prompts == 0
    ed.undo(e)  # the reset itself is undoable
    assert (ed.combine(base, e) == first).all() and e.prompts == 1
