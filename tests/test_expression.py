"""``fastlr._expression``: the call-expression grammar, its columns, and that nothing runs."""

from __future__ import annotations

import builtins

import pytest

import fastlr
from fastlr._expression import ExpressionError, parse_schedule


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Sequential([Warmup(CosineDecay(1e-3, 9000), 1000), Constant(1e-5)], [10000])",
            fastlr.Sequential(
                [fastlr.Warmup(fastlr.CosineDecay(1e-3, 9000), 1000), fastlr.Constant(1e-5)],
                [10000],
            ),
        ),
        (  # keywords, strings, None, tuples, newlines inside the call, surrounding whitespace
            "  CyclicalLearningRate(1e-3, maximal_learning_rate=0.1,\n step_size=7,"
            " mode='triangular2', step_size_down=None)\n",
            fastlr.CyclicalLearningRate(1e-3, 0.1, step_size=7, mode="triangular2"),
        ),
        ("OneCycle(0.1, 300, three_phase=True)", fastlr.OneCycle(0.1, 300, three_phase=True)),
        ("Table((0.1, 0.05, 0))", fastlr.Table([0.1, 0.05, 0.0])),
        ("Offset(Constant(1e-3), 5)", fastlr.Offset(fastlr.Constant(1e-3), 5)),
        ("Constant(1e-3) * 2", fastlr.Scale(fastlr.Constant(1e-3), 2)),
        ("0.5 * Warmup(Constant(1), 10)", fastlr.Scale(fastlr.Warmup(fastlr.Constant(1), 10), 0.5)),
        ("Constant(1_000e-6)", fastlr.Constant(1e-3)),
    ],
)
def test_an_expression_builds_what_python_builds(text, expected):
    assert parse_schedule(text) == expected


def test_it_never_evaluates_the_text(monkeypatch, tmp_path):
    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    assert parse_schedule("Warmup(Constant(1e-3), 10)") == fastlr.Warmup(fastlr.Constant(1e-3), 10)
    marker = tmp_path / "ran"
    for text in (
        f"__import__('pathlib').Path({str(marker)!r}).touch()",
        f"Constant(open({str(marker)!r}, 'w'))",
        f"[Constant(1), __import__('os').system('touch {marker}')]",
    ):
        with pytest.raises(ExpressionError):
            parse_schedule(text)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("Constant(x)", "name `x` at column 10"),
        ("   Constant(x)", "name `x` at column 13"),  # positions in the text as given
        ("\n   Constant(x)", "name `x` at line 2, column 13"),
        ("\n  Constant(1,\n x)", "name `x` at line 3, column 2"),
        ("\n  Constant(1 x)", "at line 2, column 12"),  # a syntax error
        ("Constant(1))", "invalid schedule expression: unmatched ')' at column 12"),
        ("Constant('é€', x)", "name `x` at column 16"),  # characters, not UTF-8 bytes
        ("Sequential([Constant(1),\n  Constant(y)], [3])", "name `y` at line 2, column 12"),
        ("Warmup(Constant(-1.5), 3)", "Constant at column 8: Argument `learning_rate`"),
        (
            "Offset(Constant(1), -5)",
            "Offset at column 1: Argument `offset` must be >= 0. Received: offset=-5",
        ),
    ],
)
def test_errors_name_the_column(text, where):
    with pytest.raises(ExpressionError, match=r"^[^\n]*$") as info:
        parse_schedule(text)
    assert where in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "-" * 50_000 + "1",  # the parser's own limits
        "(" * 1_000 + "Constant(1)" + ")" * 1_000,
        " * ".join(["Constant(1)"] + ["2"] * 5_000),  # the walker's recursion
        "Constant(1)\x00",
        "Constant(" + "9" * 5_000 + ")",
    ],
)
def test_hostile_sizes_are_one_line_errors(text):
    with pytest.raises(ExpressionError, match=r"^invalid schedule expression: [^\n]*$"):
        parse_schedule(text)


def test_long_snippets_are_shortened():
    with pytest.raises(ExpressionError) as info:
        parse_schedule("Constant(" + "x" * 200 + ")")
    assert f"name `{'x' * 37}...` at column 10" in str(info.value)
