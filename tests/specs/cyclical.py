"""Spec of :class:`fastlr.CyclicalLearningRate` (PyTorch's ``CyclicLR``: triangular,
triangular2, exp_range)."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import strategies as st

from specs import Spec
from specs._kinds import (
    OPEN_UNIT,
    OPTIONAL_WHOLE_COUNT,
    RATE,
    WHOLE_COUNT,
    choice,
    open_unit,
    rates,
    whole_counts,
)
from specs._oracle import as_step
from specs._phases import multiples


def reference_cyclical_learning_rate(
    step,
    *,
    initial_learning_rate,
    maximal_learning_rate,
    step_size,
    mode="triangular",
    gamma=1.0,
    step_size_down=None,
):
    """``torch.optim.lr_scheduler.CyclicLR.get_lr`` with ``last_epoch = step``, done exactly.

    ``total = up + down``, ``ratio = up / total``, ``cycle = floor(1 + it / total)``,
    ``x = 1 + it / total - cycle``; scale factor ``x / ratio`` if ``x <= ratio`` else
    ``(x - 1) / (ratio - 1)``; ``lr = base + (max - base) * factor * scale_fn``, with scale_fn
    1 (triangular), ``1 / 2**(cycle - 1)`` (triangular2, per cycle) or ``gamma**it``
    (exp_range, per iteration).
    """
    it = as_step(step)
    up = step_size
    down = step_size if step_size_down is None else step_size_down
    total = up + down
    ratio = Fraction(up, total)
    cycle = 1 + it // total  # == floor(1 + it / total), exactly
    x = 1 + Fraction(it, total) - cycle
    factor = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
    height = (maximal_learning_rate - initial_learning_rate) * float(factor)
    if mode == "triangular":
        scale = 1.0
    elif mode == "triangular2":
        scale = math.ldexp(1.0, -(cycle - 1)) if cycle - 1 < 2000 else 0.0
    elif mode == "exp_range":
        scale = math.pow(gamma, it)
    else:
        raise ValueError(mode)
    return initial_learning_rate + height * scale


MODES = ("triangular", "triangular2", "exp_range")


@st.composite
def _valid(draw) -> dict:
    low = draw(rates)
    high = st.one_of(st.just(0.0), rates).map(lambda x: float(low) + float(x))
    return dict(
        initial_learning_rate=low,
        # usually above; below is a momentum curve (it dips: see momentum_schedule)
        maximal_learning_rate=draw(st.one_of(high, high, rates)),
        step_size=draw(whole_counts(1, 2**40)),
        mode=draw(st.sampled_from(MODES)),
        gamma=draw(open_unit),
        step_size_down=draw(st.none() | whole_counts(1, 2**40)),
    )


def _phases(s, near):
    """Cycle starts and the turn inside each cycle (``step_size`` after its start)."""
    up = s.step_size
    starts = {0, *multiples(up + (s.step_size_down or up), near)}
    return {x for m in starts for x in (m, m + up)}


def _step_change(s, b: int) -> float:
    """Slope ``height / min(up, down)``; exp_range also shrinks by ``1 - gamma`` per step."""
    up, down = s.step_size, s.step_size_down or s.step_size
    extra = (1 - s.gamma) if s.mode == "exp_range" else 0.0
    height = abs(s.maximal_learning_rate - s.initial_learning_rate)
    return height * (1 / min(up, down) + extra)


SPECS = (
    Spec(
        "CyclicalLearningRate",
        reference=reference_cyclical_learning_rate,
        examples=(
            dict(initial_learning_rate=0.1, maximal_learning_rate=1.0, step_size=4),
            dict(
                initial_learning_rate=0.1,
                maximal_learning_rate=1.0,
                step_size=4,
                mode="triangular2",
                step_size_down=6,
            ),
            dict(
                initial_learning_rate=0.1,
                maximal_learning_rate=1.0,
                step_size=5,
                mode="exp_range",
                gamma=0.99,
            ),
        ),
        params={
            "initial_learning_rate": RATE,
            "maximal_learning_rate": RATE,
            "step_size": WHOLE_COUNT,  # keras-contrib passes 128.0
            "mode": choice(MODES, "Triangular", "exp-range"),
            "gamma": OPEN_UNIT,
            "step_size_down": OPTIONAL_WHOLE_COUNT,
        },
        valid=_valid(),
        # between its two levels (a momentum curve dips: maximal < initial)
        bounds=lambda s: tuple(sorted((s.initial_learning_rate, s.maximal_learning_rate))),
        phases=_phases,
        int_rates=dict(initial_learning_rate=0, maximal_learning_rate=1, step_size=4, gamma=1),
        step_change=_step_change,
    ),
)
