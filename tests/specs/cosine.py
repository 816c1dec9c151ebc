"""Spec of :class:`fastlr.CosineDecay` (Keras 3's parameters and semantics, warmup included)."""

from __future__ import annotations

from fractions import Fraction

from specs import Spec
from specs._kinds import KERAS_NONNEG_STEPS, KERAS_STEPS, NAME, OPTIONAL_RATE, RATE, UNIT
from specs._oracle import as_step, exact, half_cos, lerp
from specs._phases import warmup_decay_change


def reference_cosine_decay(
    step,
    *,
    initial_learning_rate,
    decay_steps,
    alpha=0.0,
    name=None,
    warmup_target=None,
    warmup_steps=0,
):
    """Keras 3 CosineDecay with its optional linear warmup."""
    s = Fraction(as_step(step))
    d = exact(decay_steps)
    if warmup_target is None:
        s = min(s, d)
        return initial_learning_rate * ((1 - alpha) * half_cos(s / d) + alpha)
    w = exact(warmup_steps)
    s = min(s, d + w)
    if s < w:
        return lerp(initial_learning_rate, warmup_target, s / w)
    return warmup_target * ((1 - alpha) * half_cos((s - w) / d) + alpha)


def _peak(s) -> float:
    return s.initial_learning_rate if s.warmup_target is None else s.warmup_target


def _warmup(s):
    return 0 if s.warmup_target is None else s.warmup_steps


def _step_change(s, b: int) -> float | None:
    w, peak = _warmup(s), _peak(s)
    decay = (w, w + s.decay_steps, "cos", peak * (1 - s.alpha))
    return warmup_decay_change(b, w, abs(peak - s.initial_learning_rate), decay)


SPECS = (
    Spec(
        "CosineDecay",
        reference=reference_cosine_decay,
        examples=(
            dict(initial_learning_rate=0.1, decay_steps=100),
            dict(
                initial_learning_rate=0.0,
                decay_steps=100,
                alpha=0.1,
                warmup_target=0.1,
                warmup_steps=10,
            ),
        ),
        keras_parity=(
            dict(initial_learning_rate=0.1, decay_steps=1000),
            dict(initial_learning_rate=0.1, decay_steps=1000, alpha=0.1),
            dict(initial_learning_rate=0.1, decay_steps=12.5, alpha=0.05),
            dict(initial_learning_rate=0.0, decay_steps=1000, warmup_target=0.1, warmup_steps=100),
            dict(
                initial_learning_rate=0.01,
                decay_steps=500,
                alpha=0.2,
                warmup_target=1.0,
                warmup_steps=250,
            ),
            dict(initial_learning_rate=0.0, decay_steps=1e3, warmup_target=0.5, warmup_steps=12.5),
            dict(initial_learning_rate=0.1, decay_steps=100, warmup_target=0.5, warmup_steps=0),
            dict(
                initial_learning_rate=0.2,
                decay_steps=300,
                alpha=0.3,
                warmup_target=0.05,
                warmup_steps=64,
            ),
        ),
        params={
            "initial_learning_rate": RATE,
            "decay_steps": KERAS_STEPS,
            "alpha": UNIT,
            "name": NAME,
            "warmup_target": OPTIONAL_RATE,
            "warmup_steps": KERAS_NONNEG_STEPS,
        },
        # warmup from initial to peak, then peak * [(1 - alpha) * c + alpha] with c in [0, 1]
        bounds=lambda s: (
            min(s.initial_learning_rate, _peak(s) * s.alpha),
            max(s.initial_learning_rate, _peak(s)),
        ),
        phases=lambda s, near: (_warmup(s), _warmup(s) + s.decay_steps),
        int_rates=dict(
            initial_learning_rate=0, decay_steps=100, alpha=0, warmup_target=1, warmup_steps=10
        ),
        final=lambda s: (_warmup(s) + s.decay_steps, _peak(s) * s.alpha),
        decays_from=_warmup,
        step_change=_step_change,
    ),
)
