"""The boxes file of ``python -m core.predict INPUT... --boxes BOXES.csv``: which box prompts LiteMedSAM on which image.

BOXES.csv has a header with the columns ``file,x0,y0,x1,y1`` (others are ignored): one row per lesion, the box in
pixels of the original image (x across, y down). ``file`` is the image's path as given on the command line, or its
file name alone when that is unique among the inputs. Several rows for one file box several lesions. Every input
must have at least one row; rows for files that are not among the inputs are reported and ignored.
Whether a box lies inside its image is checked once the image is decoded (core.inference.boxprompt.check_box).
"""
from __future__ import annotations

import csv
import math
import os

COLUMNS = ("file", "x0", "y0", "x1", "y1")


class BoxesFileError(ValueError):
    """BOXES.csv cannot be used; the message names the file, the line and what to fix."""


def read_boxes(path: str) -> dict[str, list[tuple[float, float, float, float]]]:
    """BOXES.csv -> {file as written: [(x0, y0, x1, y1), ...]}. Raises BoxesFileError."""
    name = os.path.basename(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise BoxesFileError(f"{name}: the header must name the columns {','.join(COLUMNS)}; "
                                     f"missing {', '.join(missing)} (found: {','.join(header) or 'nothing'})")
            reader.fieldnames = header
            boxes: dict[str, list[tuple[float, float, float, float]]] = {}
            for line, row in enumerate(reader, start=2):
                file = (row.get("file") or "").strip()
                if not file:
                    raise BoxesFileError(f"{name}, line {line}: the file column is empty")
                try:
                    box = tuple(float((row.get(c) or "").strip()) for c in COLUMNS[1:])
                except ValueError:
                    raise BoxesFileError(f"{name}, line {line}: x0, y0, x1, y1 must be numbers (pixels), got "
                                         f"{', '.join(repr(row.get(c)) for c in COLUMNS[1:])}") from None
                if not all(math.isfinite(v) for v in box):
                    raise BoxesFileError(f"{name}, line {line}: the box {box} holds a number that is not finite")
                if box[2] == box[0] or box[3] == box[1]:
                    raise BoxesFileError(f"{name}, line {line}: the box {box} has no width or height")
                boxes.setdefault(file, []).append(box)
    except OSError as exc:
        raise BoxesFileError(f"{name}: cannot be read ({exc.strerror})") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BoxesFileError(f"{name}: not a readable CSV file ({exc})") from exc
    if not boxes:
        raise BoxesFileError(f"{name}: no boxes (a header {','.join(COLUMNS)} and one row per lesion)")
    return boxes


def boxes_for_inputs(boxes: dict[str, list], files: list[str]) -> tuple[list[list], list[str]]:
    """Each input file's boxes, in input order, and the notes on rows that matched no input.

    A row's file matches an input whose path is the same (normalised) or, when no path matches, whose file name is
    the same and unique among the inputs. Raises BoxesFileError naming the inputs that have no row, or a file name
    that several inputs share."""
    by_path = {os.path.normpath(k): v for k, v in boxes.items()}
    names: dict[str, list[str]] = {}
    for f in files:
        names.setdefault(os.path.basename(f), []).append(f)
    used, out, unmatched = set(), [], []
    for f in files:
        key = os.path.normpath(f)
        if key in by_path:
            out.append(by_path[key])
            used.add(key)
            continue
        base = os.path.basename(f)
        if base in by_path:
            if len(names[base]) > 1:
                raise BoxesFileError(f"several inputs are named {base} ({', '.join(names[base][:3])}): name each "
                                     "by its path in the file column")
            out.append(by_path[base])
            used.add(base)
            continue
        unmatched.append(f)
    if unmatched:
        raise BoxesFileError(f"{len(unmatched)} input file(s) have no box in the boxes file: "
                             f"{', '.join(unmatched[:5])}{' ...' if len(unmatched) > 5 else ''}. Add a row "
                             "file,x0,y0,x1,y1 for each, or leave them out of the inputs")
    notes = [f"boxes for {k} ignored: not among the inputs" for k in by_path if k not in used]
    return out, notes
