"""The README's (or a docs page's) Python blocks, run as a reader runs them: in order, each
building on the last."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(section: str | None = None, path: Path = README) -> list[str]:
    """The ```python blocks of the README (or of the Markdown file ``path``), or of its
    ``## section`` only."""
    text = path.read_text()
    if section is not None:
        start = text.index(f"\n## {section}\n")
        end = text.find("\n## ", start + 1)
        text = text[start : None if end < 0 else end]
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def run_blocks(blocks: list[str], path: Path = README) -> list[str]:
    """Run the blocks in one namespace; the blocks whose doctest output differed (empty: all
    printed what they show). A block without ``>>>`` is executed and must not raise."""
    namespace: dict = {}
    failed = []
    for block in blocks:
        if ">>> " in block:
            test = doctest.DocTestParser().get_doctest(block, namespace, path.name, str(path), 0)
            runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
            runner.run(test)
            if runner.failures:
                failed.append(block)
        else:
            exec(compile(block, str(path), "exec"), namespace)
    return failed
