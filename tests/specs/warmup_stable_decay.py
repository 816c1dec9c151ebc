"""Spec of :class:`fastlr.WarmupStableDecay` (warmup, stable, decay: Hugging Face's WSD)."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import strategies as st

from specs import Case, Spec
from specs._kinds import (
    COUNT,
    CYCLES,
    NONNEG_COUNT,
    RATE,
    below,
    choice,
    counts,
    min_above_peak_or_too_long,
    rates,
)
from specs._oracle import as_step, exact, half_cos
from specs._phases import piece_change, pieces_change


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
    warmup_type="linear",
    num_cycles=0.5,
):
    """Hugging Face ``get_wsd_schedule`` times ``peak_lr``, with ``min_lr = min_lr_ratio *
    peak_lr`` and the warmup starting at ``start_lr`` (Hugging Face's starts at ``min_lr``),
    ``num_stable_steps = T - W - D``; the cosine decay's position in its wave
    (``num_cycles * progress`` mod 1) exact.
    """
    s = as_step(step)
    w, d = warmup_steps, decay_steps
    stable = total_steps - w - d
    if s < w:
        progress = Fraction(s, max(1, w))
        if warmup_type == "linear":
            factor = float(progress)
        elif warmup_type == "cosine":
            factor = half_cos(1 - progress)  # (1 - cos(pi p)) / 2
        elif warmup_type == "1-sqrt":
            # 1 - sqrt(1 - p), written as p / (1 + sqrt(1 - p)) (no cancellation at p -> 0)
            factor = float(progress) / (1 + math.sqrt(float(1 - progress)))
        else:
            raise ValueError(warmup_type)
        return start_lr + (peak_lr - start_lr) * factor
    if s < w + stable:
        return float(peak_lr)
    if s < w + stable + d:
        progress = Fraction(s - w - stable, max(1, d))
        if decay_type == "linear":
            factor = float(1 - progress)
        elif decay_type == "cosine":
            phase = exact(num_cycles) * progress % 1  # (1 + cos(2 pi c p)) / 2
            factor = half_cos(2 * min(phase, 1 - phase))
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
        decay_type=(decay_type := draw(st.sampled_from(DECAY_TYPES))),
        warmup_type=draw(st.sampled_from(DECAY_TYPES)),
        num_cycles=draw(CYCLES.good) if decay_type == "cosine" else 0.5,
    )


def _jumps(s) -> bool:
    """Whether the cosine decay ends above ``min_lr`` (a jump at ``total_steps``), or climbs
    back within the decay (``num_cycles > 1/2``)."""
    return s.decay_type == "cosine" and s.num_cycles != 0.5


def _step_change(s, b: int) -> float | None:
    t, d, w = s.total_steps, s.decay_steps, s.warmup_steps
    if _jumps(s) and b == t - 1:
        return None  # the wave's value at t - 1, then min_lr
    amp = s.peak_lr - s.min_lr
    overlap = min(t, b + 1) - max(t - d, b)
    if s.decay_type == "cosine":  # half waves of amp over d / (2 num_cycles) steps each
        change = piece_change("cos", amp, d / (2 * s.num_cycles), overlap)
    else:
        change = piece_change({"linear": "lin", "1-sqrt": "sqrt"}[s.decay_type], amp, d, overlap)
    if w > 0:
        kind = {"linear": "lin", "cosine": "cos", "1-sqrt": "sqrt"}[s.warmup_type]
        change += pieces_change([(0, w, kind, abs(s.peak_lr - s.start_lr))], b)
    return change


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
            dict(  # Hugging Face's cosine warmup and a cosine of 1.5 waves (jumps at the end)
                peak_lr=1.0,
                total_steps=60,
                warmup_steps=8,
                decay_steps=25,
                min_lr=0.05,
                start_lr=0.05,
                decay_type="cosine",
                warmup_type="cosine",
                num_cycles=1.5,
            ),
            dict(  # a 1-sqrt warmup, a cosine of 0.3 waves (a period of 100 - 4e-15 steps)
                peak_lr=0.1,
                total_steps=100,
                warmup_steps=10,
                decay_steps=30,
                decay_type="cosine",
                warmup_type="1-sqrt",
                num_cycles=0.3,
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
            "warmup_type": choice(DECAY_TYPES, "sqrt", "Linear", "cos"),
            "num_cycles": CYCLES,
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
            Case("WarmupStableDecay", "num_cycles", 1.5, ValueError),  # decay_type="linear"
            Case("WarmupStableDecay", "num_cycles", 1.5, ValueError, base=2),  # "1-sqrt"
        ),
        # warmup start_lr -> peak_lr, stable, decay down to min_lr <= peak_lr
        bounds=lambda s: (min(s.start_lr, s.min_lr), max(s.start_lr, s.peak_lr)),
        phases=lambda s, near: (s.warmup_steps, s.total_steps - s.decay_steps, s.total_steps),
        int_rates=dict(
            peak_lr=1, total_steps=100, warmup_steps=10, decay_steps=20, min_lr=0, start_lr=0
        ),
        final=lambda s: (s.total_steps, s.min_lr),
        # non-increasing from the warmup's end, unless the cosine climbs back (num_cycles > 1/2)
        decays_from=lambda s: None if _jumps(s) and s.num_cycles > 0.5 else s.warmup_steps,
        step_change=_step_change,
    ),
)
