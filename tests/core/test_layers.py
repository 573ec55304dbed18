"""The shape of core/: its import graph, drawn from the source with ast, runs one way through the stages.

STAGES lists core's packages (and its top-level modules) from the bottom up. A package may import from a
strictly lower stage only: never from its own stage's neighbours, never upwards. That rule alone rules out a cycle
between packages; the cycle check below says which modules form one if the rule is ever loosened. A new package
fails here until it is given its place.
"""
from __future__ import annotations

import ast
import os

from tests.helpers import ROOT

CORE = os.path.join(ROOT, "core")

STAGES = [
    {"files", "runtime", "locations", "versions"},  # foundations: file writes, TensorFlow settings, folders, versions
    {"data", "metrics", "model"},  # images and datasets, the numpy metrics, the network
    {"cards"},  # the model card and which model is active
    {"inference"},  # a model on one image, the mask rule and the card's decision
    {"analysis", "evaluation"},  # what the Segment page computes; scoring a model on labelled folders
    {"report", "training", "pacs"},  # PDF and DICOM outputs of an analysis; training; a DICOMweb server
    {"batch", "access"},  # many files through analysis and report; who may change the active model
    {"predict", "train", "evaluate", "audit"},  # the python -m core.<stage> commands
]
STAGE = {name: i for i, names in enumerate(STAGES) for name in names}


def core_modules() -> dict[str, str]:
    """Dotted module name -> source path, for every module under core/."""
    out = {}
    for dirpath, dirnames, names in os.walk(CORE):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for n in sorted(names):
            if n.endswith(".py"):
                rel = os.path.relpath(os.path.join(dirpath, n), ROOT)[:-3].split(os.sep)
                out[".".join(rel[:-1] if rel[-1] == "__init__" else rel)] = os.path.join(dirpath, n)
    return out


def imports_of(path: str, module: str) -> set[str]:
    """Every module a source file imports, at the top or inside a function (lazy imports count)."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)  # `from core.x import y` may name a module y
    return out


def part_of(module: str) -> str | None:
    """core.inference.decision -> 'inference'; core.files -> 'files'; a module outside core -> None."""
    parts = module.split(".")
    return parts[1] if parts[0] == "core" and len(parts) > 1 else None


def module_graph() -> dict[str, set[str]]:
    modules = core_modules()
    return {m: {i for i in imports_of(p, m) if i in modules and i != m} for m, p in modules.items()}


def test_every_part_of_core_has_a_stage():
    parts = {part_of(m) for m in core_modules()} - {None}
    assert parts <= set(STAGE), f"give these a place in STAGES: {sorted(parts - set(STAGE))}"


def test_imports_run_down_the_stages_only():
    wrong = []
    for module, targets in module_graph().items():
        src = part_of(module)
        for target in targets:
            dst = part_of(target)
            if src is None or dst is None or dst == src:
                continue
            if STAGE[dst] >= STAGE[src]:
                wrong.append(f"{module} -> {target} (stage {STAGE[src]} -> {STAGE[dst]})")
    assert not wrong, "imports that run up or across the stages:\n" + "\n".join(sorted(wrong))


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle in a directed graph, as the nodes along it, or None (depth-first search, colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_find_cycle_finds_one_and_only_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_cycle_between_packages():
    packages: dict[str, set[str]] = {}
    for module, targets in module_graph().items():
        src = part_of(module)
        if src is None:  # core/__init__.py
            continue
        packages.setdefault(src, set()).update(d for d in map(part_of, targets) if d not in (None, src))
    assert find_cycle(packages) is None, f"package cycle: {' -> '.join(find_cycle(packages))}"


def test_core_never_imports_streamlit():
    offenders = [m for m, p in core_modules().items()
                 if any(i == "streamlit" or i.startswith("streamlit.") for i in imports_of(p, m))]
    assert not offenders, f"core/ must stay free of Streamlit; these import it: {offenders}"


def test_no_cycle_between_modules():
    # inside a package too: two modules that import each other cannot be read, tested or replaced one at a time
    graph = {m: {t for t in targets if t in core_modules() and not core_modules()[t].endswith("__init__.py")}
             for m, targets in module_graph().items()}
    assert find_cycle(graph) is None, f"module cycle: {' -> '.join(find_cycle(graph))}"
