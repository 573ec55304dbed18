"""Evaluation figures in words and tables, for a person to read (the pages and the terminal)."""
from __future__ import annotations

from core.cards.modelcard import format_size_summary
from core.evaluation.folder import Evaluation, seen_warning
from core.evaluation.scoring import MISSED_DICE
from core.metrics.intervals import format_bounds, format_interval


def class_table(per_class: dict) -> list[dict]:
    """summarise's per-class figures as rows for a person to read; None where a figure does not apply."""
    r3 = lambda v: None if v is None else round(v, 3)  # noqa: E731
    return [{"class": c, "images": v["n_images"], "mean Dice": r3(v.get("dice_mean")), "mean IoU": r3(v.get("iou_mean")),
             "HD95 median (px)": None if v.get("hd95_median_px") is None else round(v["hd95_median_px"], 1),
             "mean sensitivity": r3(v.get("sensitivity_mean")), "false-alarm rate": r3(v.get("false_alarm_rate"))}
            for c, v in per_class.items()]


def size_table(by_size: list[dict]) -> list[dict]:
    """size_summary's bands as rows for a person to read: rounded figures and the interval as text."""
    return [{"lesion size (share of the image)": b["band"], "lesions": b["n"], "mean Dice": round(b["dice_mean"], 3),
             "95 % interval": format_bounds(b.get("dice_mean_ci")) or "—",
             f"missed (Dice < {MISSED_DICE})": b["n_missed"], "nothing marked": b["n_unmarked"]} for b in by_size]


def interval_caption(summary: dict) -> str:
    """One line of the headline figures' 95 % intervals, for the pages; '' when there are none."""
    parts = [f"{name} {format_bounds(summary[key], percent=percent)}"
             for key, name, percent in (("dice_mean_ci", "mean Dice", False), ("false_alarm_rate_ci", "false alarms", True),
                                        ("malignancy_auc_ci", "AUC", False)) if summary.get(key)]
    return ("95 % intervals: " + " · ".join(parts) + " (how far each could move on another sample this size)") if parts else ""


def format_summary(ev: Evaluation) -> str:
    s = ev.summary
    f = lambda v, d=3: "—" if v is None else f"{v:.{d}f}"  # noqa: E731
    ci = lambda c: f" ({format_interval(c)})" if c else ""  # noqa: E731
    lines = [f"model: {ev.model}  threshold: {ev.threshold}",
             f"images: {s['n_images']} ({s['n_lesion']} with a lesion, {s['n_normal']} normal)",
             f"lesion images: mean Dice {f(s['dice_mean'])}{ci(s.get('dice_mean_ci'))}, median Dice {f(s['dice_median'])}, "
             f"mean IoU {f(s['iou_mean'])}, HD95 median {f(s['hd95_median_px'], 1)} px",
             *([f"  missed or mostly missed (Dice < {MISSED_DICE}): {s['n_missed']} of {s['n_lesion']}, "
                f"{s['n_unmarked']} of them with nothing marked"] if s['n_lesion'] else []),
             *([f"  by lesion size (share of the image): {format_size_summary(s['by_size'])}"] if s.get('by_size') else []),
             f"normal images: false-alarm rate {f(s['false_alarm_rate'])}{ci(s.get('false_alarm_rate_ci'))}",
             f"malignancy AUC: {f(s['malignancy_auc'])}{ci(s.get('malignancy_auc_ci'))} (n={s['n_auc']})"]
    for c, v in s["per_class"].items():
        lines.append(f"  {c:9s} n={v['n_images']:3d}  Dice {f(v['dice_mean'])}  IoU {f(v['iou_mean'])}"
                     + (f"  false alarms {f(v['false_alarm_rate'])}" if v.get("false_alarm_rate") is not None else ""))
    for title, by in (("per dataset", ev.by_dataset), ("per device", ev.by_device)):
        if len(by) > 1:
            lines.append(f"{title}:")
            for group, v in by.items():
                lines.append(f"  {group}: n={v['n_images']}  Dice {f(v['dice_mean'])}{ci(v.get('dice_mean_ci'))}"
                             + (f"  false alarms {f(v['false_alarm_rate'])}" if v.get("false_alarm_rate") is not None else "")
                             + (f"  AUC {f(v['malignancy_auc'])}" if v.get("malignancy_auc") is not None else ""))
    warning = seen_warning(ev)
    if warning:
        lines.append("note: " + warning)
    if ev.problems:
        lines.append(f"skipped {len(ev.problems)} files: " + "; ".join(ev.problems[:5]))
    return "\n".join(lines)



def group_table(by_group: dict[str, dict], name: str = "dataset") -> list[dict]:
    """summarise_by's figures as one row per dataset (or device), with each headline figure's 95 % interval."""
    r3 = lambda v: None if v is None else round(v, 3)  # noqa: E731
    return [{name: group, "images": s["n_images"], "lesion images": s["n_lesion"], "normal images": s["n_normal"],
             "mean Dice": r3(s.get("dice_mean")), "Dice 95 % interval": format_bounds(s.get("dice_mean_ci")) or "—",
             "median Dice": r3(s.get("dice_median")), f"missed (Dice < {MISSED_DICE})": s.get("n_missed"),
             "false-alarm rate": r3(s.get("false_alarm_rate")),
             "false alarms 95 % interval": format_bounds(s.get("false_alarm_rate_ci"), percent=True) or "—",
             "malignancy AUC": r3(s.get("malignancy_auc")),
             "AUC 95 % interval": format_bounds(s.get("malignancy_auc_ci")) or "—"}
            for group, s in by_group.items()]


def table_csv_text(rows: list[dict]) -> str:
    """Table rows (group_table, class_table, ...) as CSV text; None becomes an empty cell."""
    import csv
    import io

    if not rows:
        return ""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    for r in rows:
        w.writerow({k: "" if v is None else v for k, v in r.items()})
    return buf.getvalue()
