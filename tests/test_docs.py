"""Every docstring example and the README's Python blocks run and print what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest
from readme import python_blocks, run_blocks

import fastlr

ROOT = Path(__file__).resolve().parents[1]


def _modules() -> list[str]:
    names = ["fastlr", *(m.name for m in pkgutil.walk_packages(fastlr.__path__, "fastlr."))]
    skip = {"fastlr.__main__"}
    return [n for n in names if n not in skip]


@pytest.mark.parametrize("module", _modules())
def test_docstring_examples(module: str) -> None:
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0


def test_every_schedule_has_a_runnable_example() -> None:
    from fastlr.schedules import REGISTRY

    for name, cls in REGISTRY.items():
        doc = cls.__doc__ or ""
        assert ">>> " in doc and "Example" in doc, f"{name} needs an example in its docstring"
        assert "Formula" in doc or "formula" in doc or "``lr" in doc or "* " in doc, name


def test_readme_python_blocks_run() -> None:
    blocks = python_blocks()
    assert blocks, "README.md has no python example"
    assert run_blocks(blocks) == []
