"""The project's layout rules: installed commands are the stage commands; tests take helpers from tests/helpers.py."""
import ast
import importlib
import os
import tomllib

from tests.helpers import ROOT


def test_each_script_is_a_stage_commands_main():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as fh:
        scripts = tomllib.load(fh)["project"]["scripts"]
    assert set(scripts) == {"busseg-train", "busseg-predict", "busseg-evaluate", "busseg-audit"}
    for name, target in scripts.items():
        module, _, func = target.partition(":")
        assert module == f"core.{name.removeprefix('busseg-')}" and func == "main"
        source = open(os.path.join(ROOT, *module.split(".")) + ".py").read()
        assert 'if __name__ == "__main__":\n    raise SystemExit(main())' in source  # the python -m form
        assert callable(getattr(importlib.import_module(module), func))


def test_tests_import_helpers_from_helpers_never_from_conftest():
    offenders = []
    for dirpath, dirnames, names in os.walk(os.path.join(ROOT, "tests")):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for n in names:
            if n.endswith(".py"):
                path = os.path.join(dirpath, n)
                for node in ast.walk(ast.parse(open(path).read())):
                    named = [node.module] if isinstance(node, ast.ImportFrom) else (
                        [a.name for a in node.names] if isinstance(node, ast.Import) else [])
                    if any(m and m.split(".")[-1] == "conftest" for m in named):
                        offenders.append(os.path.relpath(path, ROOT))
    assert not offenders, f"import these from tests.helpers instead: {sorted(set(offenders))}"
