"""Every docstring example and the Python blocks of the README and of docs/ run and print what
they show; the Markdown files' relative links resolve."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
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


FENCED = re.compile(r"^```.*?^```", flags=re.M | re.S)
"""A fenced code block (its fences at the start of a line)."""
DOCS_PAGES = sorted((ROOT / "docs").glob("*.md"))
MARKDOWN = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *DOCS_PAGES]


@pytest.mark.parametrize("page", DOCS_PAGES, ids=lambda p: p.name)
def test_docs_page_python_blocks_run(page: Path) -> None:
    """Each docs page's blocks run in order in a namespace of its own."""
    assert run_blocks(python_blocks(path=page), path=page) == []


def _anchors(path: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file."""
    text = FENCED.sub("", path.read_text())
    headings = re.findall(r"^#+ (.+)$", text, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    """Every relative link (to a file, or to a heading of one) points at something that exists:
    the committed results, the figures, the docs pages and their sections."""
    text = FENCED.sub("", page.read_text())
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # an absolute URL
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        if not path.exists() or (anchor and anchor not in _anchors(path)):
            broken.append(target)
    assert broken == [], f"{page.name}: broken links {broken}"
