"""pyproject's [project.scripts]: each installed command is the main() of a python -m core.<stage> command."""
import importlib
import os
import tomllib

from tests.conftest import ROOT


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
