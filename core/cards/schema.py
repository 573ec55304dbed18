"""The model card's schema: every field a card holds, in one typed place, with one build function and one reader.

``build_card(**fields)`` is how a card is made (core.training.finish): a misspelled or unknown field is a
TypeError, never a key nobody reads. ``read_card(source)`` is how every card is read, older ones included: from a
model's path, a card's JSON path, or a card's JSON already in hand. A field an older card lacks takes its default
here, a key this version does not know is kept in ``extra``, never lost, and ``to_dict()`` writes the card back
exactly as it was read, plus what was set since. Tools that add to a finished card read it, set the field
(``dataclasses.replace``) and write it with core.cards.modelcard.write_card.

The parts code acts on are small typed records (the input, the architecture, the no-lesion gate, the malignancy
calibration, the ONNX export, a comparison, each cross-centre row). The nested figures (test_metrics and the
like) stay plain dicts: core.evaluation.scoring.summarise defines them.
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field, fields
from typing import Any

from core.cards.limits import LEGACY_WORDINGS
from core.files import read_json

_BOOKKEEPING = ("extra", "read_keys", "unread")


def _plain(value):
    """A field's JSON form: a record as its dict, a list of records as a list of dicts, anything else as it is."""
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@dataclass
class Record:
    """A typed part of a card that reads and writes its JSON exactly: ``from_dict`` keeps the order of the keys and
    any key this version does not know; ``to_dict`` writes back what was read, plus what was set since."""

    # keys this version does not know, kept as read
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    # the keys in the order they were read; None: built in code, not read
    read_keys: tuple[str, ...] | None = field(default=None, repr=False)
    # what the reader put in each field the JSON lacked, as JSON: such a field is written back only once it changes
    unread: dict[str, Any] = field(default_factory=dict, repr=False)

    # field -> the Record type its value is read as (RECORD_LISTS: a list of them)
    RECORDS = {}
    RECORD_LISTS = {}
    # fields a record built in code leaves out of its JSON while None
    OMIT_IF_NONE = ()

    def __post_init__(self):
        for name, kind in self.RECORDS.items():
            if isinstance(getattr(self, name), dict):
                setattr(self, name, kind.from_dict(getattr(self, name)))
        for name, kind in self.RECORD_LISTS.items():
            if isinstance(getattr(self, name), list):
                setattr(self, name, [kind.from_dict(v) if isinstance(v, dict) else v for v in getattr(self, name)])

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.name not in _BOOKKEEPING]

    @classmethod
    def from_dict(cls, data: dict | None):
        """This record from its JSON, whatever version wrote it."""
        data = dict(data or {})
        names = cls.field_names()
        record = cls(**{k: v for k, v in data.items() if k in names},
                     extra={k: v for k, v in data.items() if k not in names}, read_keys=tuple(data))
        record._complete(data)
        record.unread = {n: copy.deepcopy(_plain(getattr(record, n))) for n in names if n not in data}
        return record

    def _complete(self, data: dict) -> None:
        """Fill what an older JSON lacks from what it has (the reader's one place to map older cards)."""

    def to_dict(self) -> dict:
        """The JSON form: as read (in its order) plus what was set since; a record built in code in field order."""
        values = {n: _plain(getattr(self, n)) for n in self.field_names()}
        if self.read_keys is None:
            out = {n: v for n, v in values.items() if not (v is None and n in self.OMIT_IF_NONE)}
        else:
            out = {k: values[k] if k in values else self.extra[k] for k in self.read_keys
                   if k in values or k in self.extra}
            out.update({n: v for n, v in values.items() if n not in out and (n not in self.unread
                                                                               or v != self.unread[n])})
        return {**out, **{k: v for k, v in self.extra.items() if k not in out}}


@dataclass
class InputSpec(Record):
    """What the network takes (core.inference.predictor reads size when the model does not say)."""

    size: int | None = None
    channels: int | None = None
    dtype: str | None = None
    range: list[float] | None = None
    preprocessing: str | None = None


@dataclass
class Architecture(Record):
    summary: str | None = None
    base_filters: int | None = None
    depth: int | None = None
    params: int | None = None
    # the full-resolution level's width where it differs from base_filters (core.model.unet.build_unet)
    top_filters: int | None = None

    OMIT_IF_NONE = ("top_filters",)


@dataclass
class LesionGate(Record):
    """The no-lesion gate (core.evaluation.decision_fit): a mask is shown only when its lesion score reaches
    min_score."""

    score: str | None = None
    min_score: float | None = None
    validation: dict[str, Any] | None = None
    how_chosen: str | None = None
    test_by_dataset: dict[str, dict[str, Any]] | None = None  # dataset -> dice and false alarms without/with it
    site: dict[str, Any] | None = None  # fitted at a hospital on its own images (core.evaluation.site_fit)

    OMIT_IF_NONE = ("site",)


@dataclass
class MalignancyCalibration(Record):
    """Platt scaling of the malignancy head (core.evaluation.decision_fit): p = sigmoid(a * logit + b)."""

    method: str | None = None
    a: float | None = None
    b: float | None = None
    n: int | None = None
    fitted_on: str | None = None
    test_by_dataset: dict[str, dict[str, Any]] | None = None  # dataset -> {"raw": ..., "calibrated": ...}


@dataclass
class OnnxRecord(Record):
    """The ONNX export CPU serving runs (core.inference.onnx_export)."""

    file: str | None = None
    sha256: str | None = None
    keras_sha256: str | None = None  # the .keras it was exported from
    exporter: str | None = None
    opset: int | None = None
    checked_with: str | None = None
    max_abs_difference: dict[str, float] | None = None  # output -> largest difference from Keras
    check: str | None = None
    shapes_written: bool | None = None  # every tensor's shape written in, so ONNX Runtime fuses each residual Add
    export_seconds: float | None = None
    created: str | None = None

    OMIT_IF_NONE = ("shapes_written",)  # exports made before it was recorded


@dataclass
class Comparison(Record):
    """The model a run may replace, scored on the same test images (core.training.finish)."""

    model: str | None = None
    threshold: float | None = None
    test_metrics: dict[str, Any] | None = None
    test_metrics_by_dataset: dict[str, Any] | None = None
    dice_difference: dict[str, Any] | None = None
    test_images_it_trained_on: int | None = None
    error: str | None = None  # why the comparison could not be made


@dataclass
class CrossCentreEntry(Record):
    """One row of what a hospital the model never saw gets (tools/leave_one_out.py, tools/cross_centre.py)."""

    trained_on: str | None = None
    scored_on: str | None = None
    left_out: str | None = None  # "centre" or "scanner"; rows written before scanners were left out lack it
    recipe: str | None = None
    model: str | None = None
    images: str | None = None
    threshold: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    by_device: dict[str, dict[str, Any]] | None = None
    note: str | None = None
    # a left-out scanner's network on its own test images of the scanners it trained on (tools/leave_one_out.py):
    # {"dice_mean", "n_lesion", "scanners"}, so the drop at the unseen scanner reads apart from the network's budget
    seen_scanners: dict[str, Any] | None = None
    # the same images scored without the network's no-lesion gate: {"gate", "dice_mean", "n_unmarked", ...}
    without_gate: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        """What it left out: "centre" (rows without left_out are centres) or "scanner"."""
        return self.left_out or "centre"


# fields that tools add to a finished card (tools/ship_default.py, tools/leave_one_out.py, tools/cross_centre.py,
# core.inference.onnx_export): absent from a built card until then, so left out of its JSON while unset
ADDED_LATER = ("cross_centre", "cross_centre_auc", "selection_note", "recipe", "onnx")


@dataclass
class ModelCard(Record):
    """A model card. The JSON beside a model (name.card.json) is ``to_dict()`` of this, in this order."""

    name: str = "model"
    format_version: int = 1
    created: str | None = None  # UTC, ISO 8601
    modality: str = "US"
    # MONAI-bundle-style metadata (core.cards.modelcard.bundle_metadata)
    version: str | None = None
    authors: list[str] = field(default_factory=list)
    license: str | None = None
    task: str | None = None
    network_data_format: dict[str, Any] = field(default_factory=dict)
    input: InputSpec = field(default_factory=InputSpec)  # size, channels, dtype, range, preprocessing
    outputs: dict[str, str] = field(default_factory=dict)
    architecture: Architecture = field(default_factory=Architecture)
    # the decision rule (core.inference.decision.Decision.from_card); None: the card states no threshold
    threshold: float | None = None
    lesion_gate: LesionGate | None = None
    malignancy_calibration: MalignancyCalibration | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # the run's TrainSettings, less extra
    data: dict[str, Any] = field(default_factory=dict)  # counts, split, manifest, audit
    training: dict[str, Any] = field(default_factory=dict)  # device, duration, epochs, selection
    val_metrics: dict[str, Any] = field(default_factory=dict)
    val_metrics_on_trained_images: bool = False  # a train+val refit: its validation figures are not held out
    test_metrics: dict[str, Any] = field(default_factory=dict)
    test_metrics_by_dataset: dict[str, Any] = field(default_factory=dict)
    test_metrics_by_device: dict[str, Any] = field(default_factory=dict)
    val_metrics_by_dataset: dict[str, Any] = field(default_factory=dict)
    comparison: Comparison | None = None
    speed: dict[str, Any] = field(default_factory=dict)
    intended_use: str | None = None  # None: the card states none (core.cards.modelcard.INTENDED_USE stands)
    limitations: list[str] | None = None  # None: the card states none (core.cards.limits.LIMITATIONS stand)
    # stable keys of the known limitations (core.cards.modelcard.has_limitation); the reader fills them in for a
    # card written before them, from the wordings it was written with, and never writes them onto it
    limitation_keys: list[str] | None = None
    citation: str | None = None
    command: str | None = None
    cross_centre: list[CrossCentreEntry] | None = None
    cross_centre_auc: dict[str, Any] | None = None  # left-out centre -> malignancy AUC there
    selection_note: str | None = None
    recipe: str | None = None
    onnx: OnnxRecord | None = None

    RECORDS = {"input": InputSpec, "architecture": Architecture, "lesion_gate": LesionGate,
               "malignancy_calibration": MalignancyCalibration, "comparison": Comparison, "onnx": OnnxRecord}
    RECORD_LISTS = {"cross_centre": CrossCentreEntry}
    OMIT_IF_NONE = (*ADDED_LATER, "limitation_keys")

    def _complete(self, data: dict) -> None:
        # the one place an older card's sentences are mapped to keys (core.cards.limits.LEGACY_WORDINGS)
        if "limitation_keys" not in data:
            self.limitation_keys = list(dict.fromkeys(LEGACY_WORDINGS[t] for t in self.limitations or []
                                                      if t in LEGACY_WORDINGS))


def build_card(**card_fields) -> ModelCard:
    """A new card from its fields; TypeError for a field the schema does not have."""
    if set(_BOOKKEEPING) & set(card_fields):
        raise TypeError(f"build_card takes the schema's fields; {', '.join(_BOOKKEEPING)} are for cards read back")
    return ModelCard(**card_fields)


def card_paths(model_path: str) -> tuple[str, str]:
    """The card's JSON and Markdown beside a model: ``name.keras`` -> ``name.card.json``, ``name.card.md``."""
    stem = os.path.splitext(model_path)[0]
    return f"{stem}.card.json", f"{stem}.card.md"


def read_card(source: str | os.PathLike | dict | ModelCard | None) -> ModelCard | None:
    """The one reader of a card: from a model's path (the card beside it), a ``.card.json`` path, a card's JSON,
    or a ModelCard (returned as it is). None for None, and for a model without a readable card."""
    if source is None or isinstance(source, ModelCard):
        return source
    if isinstance(source, dict):
        return ModelCard.from_dict(source)
    path = os.fspath(source)
    data = read_json(path if path.endswith(".card.json") else card_paths(path)[0])
    return None if data is None else ModelCard.from_dict(data)
