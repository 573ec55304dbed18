"""Each rule about a card has one definition, and grep shows it: one build function, one reader, one writer, one
limitation check, one table of older wordings; nothing outside core/cards/schema.py reads a card as a raw dict."""
import os
import re

from tests.helpers import ROOT

SOURCES = ["core", "pages", "tools", "bench", "streamlit_app.py"]
# a card read as a raw dict: card.get(...), card[...], predictor.card.get(...), card.json opened by hand
RAW_READ = re.compile(r"\bcard(?:\.get\(|\[)|json\.load\(open\([^)]*card\.json")


def python_files():
    for top in SOURCES:
        path = os.path.join(ROOT, top)
        if os.path.isfile(path):
            yield path
        for dirpath, dirnames, names in os.walk(path):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            yield from (os.path.join(dirpath, n) for n in names if n.endswith(".py"))


def lines_matching(pattern: re.Pattern) -> list[str]:
    out = []
    for path in python_files():
        for i, line in enumerate(open(path, encoding="utf-8"), 1):
            if pattern.search(line):
                out.append(f"{os.path.relpath(path, ROOT)}:{i}: {line.strip()}")
    return out


def test_no_module_reads_a_card_as_a_raw_dict():
    assert lines_matching(RAW_READ) == []


def test_the_card_rules_are_defined_once():
    for name, where in [("build_card", "core/cards/schema.py"), ("read_card", "core/cards/schema.py"),
                        ("card_paths", "core/cards/schema.py"), ("write_card", "core/cards/modelcard.py"),
                        ("has_limitation", "core/cards/modelcard.py"), ("limitation_keys", "core/cards/limits.py"),
                        ("render_markdown", "core/cards/modelcard.py")]:
        found = lines_matching(re.compile(rf"^\s*def {name}\("))
        assert [f.split(":")[0] for f in found] == [where], found


def test_only_the_reader_maps_older_wordings():
    # the table of older wordings lives in core/cards/limits.py; the schema's reader is the one place that reads it
    uses = lines_matching(re.compile(r"\bLEGACY_WORDINGS\b"))
    assert {u.split(":")[0] for u in uses} == {"core/cards/limits.py", "core/cards/schema.py"}, uses


def test_the_renderer_is_one_small_function_per_section():
    src = open(os.path.join(ROOT, "core", "cards", "modelcard.py"), encoding="utf-8").read()
    body = src.split("def render_markdown(", 1)[1].split("\ndef ", 1)[0]
    assert len(body.splitlines()) <= 12
    sections = re.findall(r"^def (_\w+_section|new_hospital_section)\(", src, re.M)
    assert len(sections) >= 10
    for name in sections:
        fn = src.split(f"def {name}(", 1)[1].split("\ndef ", 1)[0]
        assert len(fn.splitlines()) <= 30, name
