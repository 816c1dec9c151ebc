"""Spec of :class:`fastlr.WarmupStableDecay` (warmup, stable, decay: Hugging Face's WSD)."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import strategies as st

from specs import Case, Spec
from specs._kinds import (
    COUNT,
    NONNEG_COUNT,
    RATE,
    below,
    choice,
    counts,
    min_above_peak_or_too_long,
    rates,
)
from specs._oracle import as_step, half_cos, lerp
from specs._phases import warmup_decay_change


def reference_warmup_stable_decay(
    step,
    *,
    peak_lr,
    total_steps,
    warmup_steps,
    decay_steps,
    min_lr=0.0,
    start_lr=0.0,
    decay_type="linear",
):
    """Hugging Face ``get_wsd_schedule`` (linear warmup, ``num_cycles=0.5``) times ``peak_lr``,
    with ``min_lr = min_lr_ratio * peak_lr`` and the warmup starting at ``start_lr``
    (Hugging Face's starts at ``min_lr``), ``num_stable_steps = T - W - D``.
    """
    s = as_step(step)
    w, d = warmup_steps, decay_steps
    stable = total_steps - w - d
    if s < w:
        return lerp(start_lr, peak_lr, Fraction(s, max(1, w)))
    if s < w + stable:
        return float(peak_lr)
    if s < w + stable + d:
        progress = Fraction(s - w - stable, max(1, d))
        if decay_type == "linear":
            factor = float(1 - progress)
        elif decay_type == "cosine":
            factor = half_cos(progress)
        elif decay_type == "1-sqrt":
            # 1 - sqrt(p), written as (1 - p) / (1 + sqrt(p)) to keep relative accuracy at p -> 1
            factor = float(1 - progress) / (1 + math.sqrt(float(progress)))
        else:
            raise ValueError(decay_type)
        return min_lr + (peak_lr - min_lr) * factor
    return float(min_lr)


DECAY_TYPES = ("linear", "cosine", "1-sqrt")


@st.composite
def _valid(draw) -> dict:
    total = draw(counts(1))
    decay = draw(st.one_of(st.just(total), st.just(1), st.integers(1, total)))
    warmup = draw(st.one_of(st.just(0), st.just(total - decay), st.integers(0, total - decay)))
    peak = draw(rates)
    return dict(
        peak_lr=peak,
        total_steps=total,
        warmup_steps=warmup,
        decay_steps=decay,
        min_lr=draw(below(float(peak))),
        start_lr=draw(rates),
        decay_type=draw(st.sampled_from(DECAY_TYPES)),
    )


def _step_change(s, b: int) -> float | None:
    t, d = s.total_steps, s.decay_steps
    kind = {"linear": "lin", "cosine": "cos", "1-sqrt": "sqrt"}[s.decay_type]
    decay = (t - d, t, kind, s.peak_lr - s.min_lr)
    return warmup_decay_change(b, s.warmup_steps, abs(s.peak_lr - s.start_lr), decay)


SPECS = (
    Spec(
        "WarmupStableDecay",
        reference=reference_warmup_stable_decay,
        examples=(
            dict(peak_lr=1.0, total_steps=100, warmup_steps=10, decay_steps=20),
            dict(
                peak_lr=1.0,
                total_steps=100,
                warmup_steps=0,
                decay_steps=30,
                min_lr=0.1,
                decay_type="cosine",
            ),
            dict(
                peak_lr=0.5,
                total_steps=50,
                warmup_steps=5,
                decay_steps=10,
                min_lr=0.05,
                start_lr=0.05,
                decay_type="1-sqrt",
            ),
        ),
        params={
            "peak_lr": RATE,
            "total_steps": COUNT,
            "warmup_steps": NONNEG_COUNT,
            "decay_steps": COUNT,
            "min_lr": RATE,
            "start_lr": RATE,
            "decay_type": choice(DECAY_TYPES, "sqrt", "Linear", "cos"),
        },
        valid=_valid(),
        invalid=(
            min_above_peak_or_too_long(
                "WarmupStableDecay", "peak_lr", "decay_steps", "decay_steps"
            ),
        ),
        cases=(
            Case("WarmupStableDecay", "min_lr", 1.5, ValueError),  # peak_lr=1.0
            Case("WarmupStableDecay", "decay_steps", 91, ValueError),  # + warmup 10 > total 100
            Case("WarmupStableDecay", "decay_steps", 101, ValueError, base=1),  # warmup 0
            Case(
                "WarmupStableDecay", "warmup_steps", 81, ValueError, name="decay_steps", received=20
            ),
            Case(
                "WarmupStableDecay", "total_steps", 29, ValueError, name="decay_steps", received=20
            ),
        ),
        # warmup start_lr -> peak_lr, stable, decay down to min_lr <= peak_lr
        bounds=lambda s: (min(s.start_lr, s.min_lr), max(s.start_lr, s.peak_lr)),
        phases=lambda s, near: (s.warmup_steps, s.total_steps - s.decay_steps, s.total_steps),
        int_rates=dict(
            peak_lr=1, total_steps=100, warmup_steps=10, decay_steps=20, min_lr=0, start_lr=0
        ),
        final=lambda s: (s.total_steps, s.min_lr),
        decays_from=lambda s: s.warmup_steps,
        step_change=_step_change,
    ),
)
