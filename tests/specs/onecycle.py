"""Spec of :class:`fastlr.OneCycle` (PyTorch's ``OneCycleLR``)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from specs import Case, Invalid, Spec, valid_kwargs
from specs._kinds import COUNT, FLAG, PCT, POSITIVE, RATE, _with, bools, choice, counts, rates
from specs._oracle import as_step, half_cos, lerp
from specs._phases import pieces_change


def reference_one_cycle(
    step,
    *,
    max_lr,
    total_steps,
    pct_start=0.3,
    div_factor=25.0,
    final_div_factor=1e4,
    anneal_strategy="cos",
    three_phase=False,
):
    """``torch.optim.lr_scheduler.OneCycleLR.get_lr`` at ``last_epoch = min(step, T - 1)``.

    Phase ends are torch's floats ``float(pct_start * T) - 1``, ``float(2 * pct_start * T) - 2``
    and ``T - 1``; a step belongs to the first phase with ``step <= end_step`` (the last phase
    takes the rest); ``pct = (step - start_step) / (end_step - start_step)``; cos anneal
    ``end + (start - end) / 2 * (1 + cos(pi pct))``, linear ``(end - start) * pct + start``.
    """
    it = min(as_step(step), total_steps - 1)
    initial = max_lr / div_factor
    low = initial / final_div_factor
    e1 = float(pct_start * total_steps) - 1
    if three_phase:
        e2 = float(2 * pct_start * total_steps) - 2
        phases = [(e1, initial, max_lr), (e2, max_lr, initial), (total_steps - 1, initial, low)]
    else:
        phases = [(e1, initial, max_lr), (total_steps - 1, max_lr, low)]
    start_step = Fraction(0)
    for i, (end_step, a, b) in enumerate(phases):
        end_q = Fraction(end_step)
        if it <= end_q or i == len(phases) - 1:
            pct = (it - start_step) / (end_q - start_step)
            if anneal_strategy == "cos":
                return b + (a - b) * half_cos(pct)
            if anneal_strategy == "linear":
                return lerp(a, b, pct)
            raise ValueError(anneal_strategy)
        start_step = end_q
    raise AssertionError("unreachable")


@st.composite
def _valid(draw) -> dict:
    total = draw(counts(2))
    three = draw(bools)
    # Valid pct_start: pct * total > 1, and with three phases 2 * pct * total - 2 < total - 1.
    lo = 1.0 / total
    hi = min(1.0, (total + 1) / (2 * total)) if three else 1.0
    pct = draw(
        st.one_of(
            st.floats(lo, hi, exclude_min=True, exclude_max=True),
            st.sampled_from([np.nextafter(lo, 2.0), np.nextafter(hi, 0.0), 0.3, 0.5]),
        )
    )
    assume(0 < pct < 1 and pct * total > 1 and (not three or 2 * pct * total - 2 < total - 1))
    return dict(
        max_lr=draw(rates),
        total_steps=total,
        pct_start=float(pct),
        div_factor=draw(st.one_of(st.floats(1e-3, 1e6), st.integers(1, 100), st.just(25.0))),
        final_div_factor=draw(st.one_of(st.floats(1e-3, 1e8), st.integers(1, 10**4))),
        anneal_strategy=draw(st.sampled_from(["cos", "linear"])),
        three_phase=three,
    )


@st.composite
def _invalid(draw) -> Invalid:
    """A phase of 0 steps or less: ``pct_start * total_steps <= 1``, or three phases that do not
    fit (``2 * pct * total - 2 >= total - 1``)."""
    kw = dict(draw(valid_kwargs("OneCycle")))
    total = int(kw["total_steps"])
    if draw(st.booleans()):
        kw["pct_start"] = draw(st.floats(0.0, 1.0 / total, exclude_min=True))
        assume(kw["pct_start"] * total <= 1)
    else:
        lo = min((total + 1) / (2 * total), 1.0)
        kw["pct_start"] = draw(st.floats(lo, 1.0, exclude_max=True))
        kw["three_phase"] = True
        assume(2 * kw["pct_start"] * total - 2 >= total - 1 and kw["pct_start"] * total > 1)
    return Invalid("OneCycle", kw, ("pct_start",), ValueError)


def _points(s):
    """``(initial, low, end of phase 1, end of phase 2, last step)``, phase ends as torch's."""
    initial = s.max_lr / s.div_factor
    low = initial / s.final_div_factor
    e1 = s.pct_start * s.total_steps - 1.0
    e2 = 2.0 * s.pct_start * s.total_steps - 2.0
    return initial, low, e1, e2, s.total_steps - 1.0


def _bounds(s) -> tuple[float, float]:
    """Between initial = max_lr / div_factor, max_lr and low = initial / final_div_factor."""
    initial, low, *_ = _points(s)
    return min(initial, low, s.max_lr), max(initial, low, s.max_lr)


def _decays_from(s) -> float | None:
    initial, low, e1, *_ = _points(s)
    return e1 if low <= initial <= s.max_lr else None


def _step_change(s, b: int) -> float | None:
    initial, low, e1, e2, last = _points(s)
    kind = "lin" if s.anneal_strategy == "linear" else "cos"
    if s.three_phase:
        pieces = [
            (0, e1, kind, abs(s.max_lr - initial)),
            (e1, e2, kind, abs(s.max_lr - initial)),
            (e2, last, kind, abs(initial - low)),
        ]
    else:
        pieces = [(0, e1, kind, abs(s.max_lr - initial)), (e1, last, kind, abs(s.max_lr - low))]
    return pieces_change(pieces, b)


SPECS = (
    Spec(
        "OneCycle",
        reference=reference_one_cycle,
        examples=(
            dict(max_lr=1.0, total_steps=100),
            dict(
                max_lr=0.5,
                total_steps=37,
                pct_start=0.25,
                three_phase=True,
                anneal_strategy="linear",
            ),
        ),
        params={
            "max_lr": RATE,
            "total_steps": COUNT.but(
                bad=(*COUNT.bad, (1, ValueError)),
                fuzz=COUNT.fuzz | _with([1, np.int64(1)], ValueError),
            ),
            "pct_start": PCT,
            "div_factor": POSITIVE,
            "final_div_factor": POSITIVE,
            "anneal_strategy": choice(("cos", "linear"), "cosine", "COS"),
            "three_phase": FLAG,
        },
        valid=_valid(),
        invalid=(_invalid,),
        cases=(
            Case("OneCycle", "pct_start", 0.01, ValueError),  # 0.01 * 100 == 1
            Case("OneCycle", "pct_start", 0.005, ValueError),
            Case("OneCycle", "pct_start", 0.02, ValueError, base=1),  # 0.02 * 37 < 1
            Case("OneCycle", "total_steps", 3, ValueError, name="pct_start", received=0.3),
            Case("OneCycle", "pct_start", 0.6, ValueError, base=1),  # three phases do not fit
        ),
        bounds=_bounds,
        phases=lambda s, near: (
            float(s.pct_start * s.total_steps) - 1,
            float(2 * s.pct_start * s.total_steps) - 2,
            s.total_steps - 1,
            s.total_steps,
        ),
        int_rates=dict(max_lr=1, total_steps=100, div_factor=25, final_div_factor=10000),
        final=lambda s: (s.total_steps - 1, _points(s)[1]),
        decays_from=_decays_from,
        step_change=_step_change,
    ),
)
