"""A model card's stated limitations: the sentences a card states, and the stable keys code acts on.

Code never compares a limitation's sentence: it asks for its key (core.cards.modelcard.has_limitation). A card
written before the keys carries only sentences; core.cards.schema.read_card maps each wording such a card was
written with (LEGACY_WORDINGS, frozen) to its key, once, so rewording a sentence here never changes an older card.
"""
from __future__ import annotations

# Measured on 2026-11-25 (experiments/LOG.md, "Axillary lymph nodes"): true of every model trained here so far.
AXILLARY_WORDING_2026_11 = (
    "Benign axillary lymph nodes are missed. BUSI files some scans of normal-looking axillary nodes (frames "
    "labelled 'AXILLA') as benign lesions. Of the 7 in the validation split, five models trained without them "
    "found none, and a sixth trained to emphasise such frames found one, partly. The test split holds no such "
    "frame, so its figures do not show this.")
AXILLARY_LIMITATION = AXILLARY_WORDING_2026_11  # today's wording; reword freely, code looks for AXILLARY_NODES

# Known limitations that code acts on, by a stable key written on the card ("limitation_keys"), so rewording a
# sentence never changes what the app does. Cards written before the keys carry only the sentences: each wording
# they were written with stays in LEGACY_WORDINGS, frozen, so those cards still read.
AXILLARY_NODES = "axillary_nodes"
LIMITATION_TEXT = {AXILLARY_NODES: AXILLARY_LIMITATION}
LEGACY_WORDINGS = {AXILLARY_WORDING_2026_11: AXILLARY_NODES}
LIMITATIONS = [
    "Trained on BUSI only: one centre (Baheya Hospital, Cairo), one acquisition period, women aged 25-75.",
    "Images with lesions only from BUSI classes; other pathologies and devices are untested.",
    "The malignancy probability comes from a small head trained on a few hundred lesions; it is not calibrated for clinical use.",
    "Figures on the card come from a held-out split of the same dataset; expect lower figures on other scanners.",
    AXILLARY_LIMITATION,
]


# What a model trained on several centres must say about itself (limitations_for).
MULTI_CENTRE_LIMITATIONS = [
    "Trained on two centres only: BUSI (Baheya Hospital, Cairo) and BUS-BRA (Brazil; GE Logiq 5 and 7, Toshiba "
    "Aplio 300, U-Systems). Other scanners, centres and populations are untested beyond the leave-one-dataset-out "
    "figures above, which are the better guide for a new hospital.",
    "BUS-BRA holds no normal scans, so every false-alarm figure comes from BUSI's normal scans.",
    "The no-lesion gate was chosen on the validation split's normal scans, all from BUSI, which the starting model had "
    "trained on: on another centre's normal scans it may let more false alarms through.",
    "On BUS-BRA's rarer scanners it does markedly worse than on the GE scanners most of its BUS-BRA images come from "
    "(see 'By scanner'): few training images come from them.",
    "The malignancy estimate is calibrated on validation lesions of both datasets and worded in bands. On images from "
    "a hospital it never trained on it separates benign from malignant far less well (see the AUC above): it is a "
    "research estimate, not a diagnosis.",
]


def limitations_for(datasets: list[str]) -> list[str]:
    """The card's stated limits for a model trained on these datasets ("busi", "busbra")."""
    if set(datasets) == {"busi"}:
        return list(LIMITATIONS)
    if set(datasets) == {"busi", "busbra"}:
        return [*MULTI_CENTRE_LIMITATIONS, AXILLARY_LIMITATION]
    return [f"Trained on {' and '.join(sorted(datasets))} only: other centres, scanners and populations are untested "
            "beyond any cross-centre figures on this card.",
            "Without normal scans in training, its false-alarm rate on normal scans is unknown.",
            MULTI_CENTRE_LIMITATIONS[-1]]


def limitation_keys(limitations: list[str]) -> list[str]:
    """The stable keys of the known limitations among these sentences (LIMITATION_TEXT), for the card."""
    key_of = {text: key for key, text in LIMITATION_TEXT.items()}
    return [key_of[t] for t in limitations if t in key_of]
