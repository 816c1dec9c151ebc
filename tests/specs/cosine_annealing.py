"""Spec of :class:`fastlr.CosineAnnealing` (PyTorch's ``CosineAnnealingLR``, which keeps
following the cosine past ``T_max``: a wave of period ``2 * T_max``)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from specs import Case, Invalid, Spec, valid_kwargs
from specs._kinds import COUNT, RATE, above, below, counts, rates
from specs._oracle import as_step, half_cos
from specs._phases import multiples, piece_change


def reference_cosine_annealing(step, *, max_lr, decay_steps, min_lr=0.0):
    """torch's closed form ``eta_min + (base - eta_min) * (1 + cos(pi * step / T_max)) / 2``,
    with the step reduced exactly into its period ``2 * T_max`` first (the cosine is even and
    ``2 * T_max``-periodic in the step)."""
    r = as_step(step) % (2 * decay_steps)
    d = min(r, 2 * decay_steps - r)
    return min_lr + (max_lr - min_lr) * half_cos(Fraction(d, decay_steps))


@st.composite
def _valid(draw) -> dict:
    max_lr = draw(rates)
    return dict(max_lr=max_lr, decay_steps=draw(counts(1)), min_lr=draw(below(float(max_lr))))


@st.composite
def _invalid(draw) -> Invalid:
    """min_lr above max_lr (each alone valid)."""
    kw = dict(draw(valid_kwargs("CosineAnnealing")))
    kw["min_lr"] = above(draw, kw["max_lr"])
    return Invalid("CosineAnnealing", kw, ("min_lr",), ValueError)


def _phases(s, near):
    """Every multiple of ``decay_steps``: the bottoms and the tops of the wave."""
    return {0, *multiples(s.decay_steps, near)}


SPECS = (
    Spec(
        "CosineAnnealing",
        reference=reference_cosine_annealing,
        examples=(
            dict(max_lr=0.1, decay_steps=100),
            dict(max_lr=1.0, decay_steps=7, min_lr=0.1),
        ),
        params={"max_lr": RATE, "decay_steps": COUNT, "min_lr": RATE},
        valid=_valid(),
        invalid=(_invalid,),
        cases=(Case("CosineAnnealing", "min_lr", 0.2, ValueError),),  # max_lr=0.1
        bounds=lambda s: (s.min_lr, s.max_lr),
        phases=_phases,
        int_rates=dict(max_lr=1, decay_steps=10, min_lr=0),
        # half cosines of height max_lr - min_lr over decay_steps, down and up
        step_change=lambda s, b: piece_change("cos", s.max_lr - s.min_lr, s.decay_steps, 1),
    ),
)
