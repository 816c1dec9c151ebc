"""Spec of :class:`fastlr.CosineAnnealing` (PyTorch's ``CosineAnnealingLR``, which keeps
following the cosine past ``T_max``: a wave of period ``2 * T_max``; with ``num_cycles``,
Hugging Face's cosine wave of any period)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from specs import Case, Invalid, Spec, valid_kwargs
from specs._kinds import COUNT, CYCLES, RATE, above, below, counts, rates
from specs._oracle import as_step, exact, half_cos
from specs._phases import multiples, piece_change


def reference_cosine_annealing(step, *, max_lr, decay_steps, min_lr=0.0, num_cycles=0.5):
    """``min_lr + (max_lr - min_lr) * (1 + cos(2 pi c step / decay_steps)) / 2`` (torch's
    ``(1 + cos(pi * step / T_max)) / 2`` with ``c = 1/2``), with the position in the wave
    ``c * step / decay_steps mod 1`` exact (``c`` at its binary value) and its distance ``x`` to
    the nearest crest, in waves, turned into the bump ``(1 + cos(pi * 2x)) / 2``."""
    phase = exact(num_cycles) * as_step(step) / decay_steps % 1
    x = min(phase, 1 - phase)
    return min_lr + (max_lr - min_lr) * half_cos(2 * x)


@st.composite
def _valid(draw) -> dict:
    max_lr = draw(rates)
    kw = dict(max_lr=max_lr, decay_steps=draw(counts(1)), min_lr=draw(below(float(max_lr))))
    if draw(st.booleans()):
        kw["num_cycles"] = draw(CYCLES.good)
    return kw


@st.composite
def _invalid(draw) -> Invalid:
    """min_lr above max_lr (each alone valid)."""
    kw = dict(draw(valid_kwargs("CosineAnnealing")))
    kw["min_lr"] = above(draw, kw["max_lr"])
    return Invalid("CosineAnnealing", kw, ("min_lr",), ValueError)


def _half_period(s) -> Fraction:
    return Fraction(s.decay_steps) / (2 * Fraction(s.num_cycles))


def _phases(s, near):
    """Every multiple of the half period: the bottoms and the tops of the wave."""
    return {0, *multiples(_half_period(s), near)}


SPECS = (
    Spec(
        "CosineAnnealing",
        reference=reference_cosine_annealing,
        examples=(
            dict(max_lr=0.1, decay_steps=100),
            dict(max_lr=1.0, decay_steps=7, min_lr=0.1),
            dict(max_lr=0.1, decay_steps=90, num_cycles=0.3),  # a period of 300 + 1e-14 steps
            dict(max_lr=1.0, decay_steps=10, min_lr=0.2, num_cycles=1.5),  # 20 / 3 steps
            dict(max_lr=1.0, decay_steps=9, num_cycles=1),  # a whole period, half a step
        ),
        params={"max_lr": RATE, "decay_steps": COUNT, "min_lr": RATE, "num_cycles": CYCLES},
        valid=_valid(),
        invalid=(_invalid,),
        cases=(Case("CosineAnnealing", "min_lr", 0.2, ValueError),),  # max_lr=0.1
        bounds=lambda s: (s.min_lr, s.max_lr),
        phases=_phases,
        int_rates=dict(max_lr=1, decay_steps=10, min_lr=0, num_cycles=1),
        # half cosines of height max_lr - min_lr over the half period, down and up
        step_change=lambda s, b: piece_change(
            "cos", s.max_lr - s.min_lr, float(_half_period(s)), 1
        ),
    ),
)
