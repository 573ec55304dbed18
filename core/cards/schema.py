"""The model card's schema: every field a card holds, in one typed place, with one build function and one reader.

``build_card(**fields)`` is how a card is made (core.training.finish): a misspelled or unknown field is a
TypeError, never a key nobody reads. ``ModelCard.from_dict`` reads any card, older ones included: a field an
older card lacks takes its default here, and a key this version does not know is kept in ``extra``, never lost.
The nested figures (test_metrics and the like) stay plain dicts: core.evaluation.scoring.summarise defines them.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

# fields that tools add to a finished card (tools/ship_default.py, tools/leave_one_out.py, tools/cross_centre.py):
# absent from a card until then, so left out of its JSON while unset
ADDED_LATER = ("cross_centre", "cross_centre_auc", "selection_note", "recipe")


@dataclass
class ModelCard:
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
    input: dict[str, Any] = field(default_factory=dict)  # size, channels, dtype, range, preprocessing
    outputs: dict[str, str] = field(default_factory=dict)
    architecture: dict[str, Any] = field(default_factory=dict)  # summary, base_filters, depth, params
    # the decision rule (core.inference.decision.Decision.from_card)
    threshold: float = 0.5
    lesion_gate: dict[str, Any] | None = None
    malignancy_calibration: dict[str, Any] | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # the run's TrainSettings, less extra
    data: dict[str, Any] = field(default_factory=dict)  # counts, split, manifest, audit
    training: dict[str, Any] = field(default_factory=dict)  # device, duration, epochs, selection
    val_metrics: dict[str, Any] = field(default_factory=dict)
    val_metrics_on_trained_images: bool = False  # a train+val refit: its validation figures are not held out
    test_metrics: dict[str, Any] = field(default_factory=dict)
    test_metrics_by_dataset: dict[str, Any] = field(default_factory=dict)
    test_metrics_by_device: dict[str, Any] = field(default_factory=dict)
    val_metrics_by_dataset: dict[str, Any] = field(default_factory=dict)
    comparison: dict[str, Any] | None = None  # the model this run may replace, on the same test images
    speed: dict[str, Any] = field(default_factory=dict)
    intended_use: str | None = None
    limitations: list[str] = field(default_factory=list)
    # stable keys of the known limitations (modelcard.has_limitation); None on a card written before them
    limitation_keys: list[str] | None = None
    citation: str | None = None
    command: str | None = None
    cross_centre: list[dict[str, Any]] | None = None
    cross_centre_auc: dict[str, Any] | None = None
    selection_note: str | None = None
    recipe: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know, kept as read
    # fields the card it was read from did not have: written back without them, so an older card stays as it was
    absent: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_dict(cls, card: dict | None) -> ModelCard:
        """Any card's JSON, older ones included, as a ModelCard."""
        card = dict(card or {})
        known = [f.name for f in fields(cls) if f.name not in ("extra", "absent")]
        return cls(**{k: v for k, v in card.items() if k in known},
                   extra={k: v for k, v in card.items() if k not in known},
                   absent=tuple(k for k in known if k not in card))

    def to_dict(self) -> dict:
        """The card's JSON form: every field in order, tools' fields only once set, then any unknown keys."""
        out = {f.name: getattr(self, f.name) for f in fields(self)
               if f.name not in ("extra", "absent", *self.absent)}
        for name in (*ADDED_LATER, "limitation_keys"):
            if out.get(name, 0) is None:
                del out[name]
        return {**out, **self.extra}


def build_card(**card_fields) -> dict:
    """A new card's JSON from its fields; TypeError for a field the schema does not have."""
    if {"extra", "absent"} & set(card_fields):
        raise TypeError("build_card takes the schema's fields; 'extra' and 'absent' are for cards read back")
    return ModelCard(**card_fields).to_dict()
