"""Independent per-step reference values for every fastlr schedule (a test oracle).

Written from the *published* formulas (Keras 3 ``keras.optimizers.schedules``, PyTorch's
``CyclicLR`` / ``OneCycleLR``, Hugging Face's ``get_wsd_schedule`` /
``get_inverse_sqrt_schedule``, optax's ``join_schedules``, and fastlr's documented formulas for its
own schedules and composites), one Python ``int`` step at a time, with plain ``math`` and
:class:`fractions.Fraction`. Nothing here imports fastlr, NumPy or TensorFlow.

Accuracy policy: every rational quantity (step / length, the position inside a cycle or phase, the
cycle index) is computed *exactly* with integers and Fractions (parameters given as floats are
taken at their exact binary value), and rounded to float64 once before a transcendental function.
The cosine bump ``(1 + cos(pi * x)) / 2`` is evaluated as ``cos(pi x / 2)**2`` or
``sin(pi (1 - x) / 2)**2`` (the same number, without cancellation next to ``x = 1``), so the
reference is accurate to a few float64 ulps in relative terms, also near zero.

Each function takes the schedule class's constructor keywords (``REFERENCE[name](step,
**schedule.get_config())`` works; a ``name`` key is ignored). Steps below 0 count as 0.
Composites get their children as ``get_config()`` gives them (Keras-serialized dicts) and evaluate
each with its own reference function, at the child's step (clamped at 0).
"""

from __future__ import annotations

import math
from fractions import Fraction

__all__ = ["REFERENCE", "child_value", "cycle_of"]


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _step(step) -> int:
    """Any integer-like step -> Python int >= 0 (negative steps count as 0)."""
    s = int(step)
    if s != step:
        raise ValueError(f"step must be an integer, got {step!r}")
    return max(s, 0)


def _q(x) -> Fraction:
    """The exact rational value of an int / float parameter."""
    return Fraction(x)


def _half_cos(x: Fraction) -> float:
    """``(1 + cos(pi * x)) / 2`` for rational ``x`` in ``[0, 1]``, relative-accurate everywhere.

    ``cos(pi x / 2)**2`` on ``[0, 1/4]``, ``(1 - sin(pi (x - 1/2))) / 2`` on ``(1/4, 3/4)`` (exactly
    1/2 at ``x = 1/2``), ``sin(pi (1 - x) / 2)**2`` on ``[3/4, 1]``: the same number, computed
    without cancellation.
    """
    x = Fraction(x)
    if x <= 0:
        return 1.0
    if x >= 1:
        return 0.0
    if x <= Fraction(1, 4):
        c = math.cos(math.pi / 2 * float(x))
        return c * c
    if x < Fraction(3, 4):
        return (1.0 - math.sin(math.pi * float(x - Fraction(1, 2)))) / 2
    s = math.sin(math.pi / 2 * float(1 - x))
    return s * s


def _lerp(a: float, b: float, frac: Fraction) -> float:
    """``a + (b - a) * frac``, linear interpolation at rational ``frac``."""
    return a + (b - a) * float(frac)


def _cycle_start(k: int, first: Fraction, mult: Fraction) -> Fraction:
    """Exact start of cycle ``k`` when cycle ``j`` lasts ``first * mult**j``."""
    if mult == 1:
        return first * k
    return first * (mult**k - 1) / (mult - 1)


def cycle_of(step: int, first, mult) -> tuple[int, Fraction, Fraction]:
    """``(k, start, length)`` of the cycle holding ``step``; cycle ``j`` lasts ``first * mult**j``.

    Exact: cycle boundaries are rationals, the index is found by walking them (from a float
    estimate a couple of cycles early, so that huge steps stay cheap).
    """
    first, mult = _q(first), _q(mult)
    s = Fraction(step)
    if mult == 1:
        k = math.floor(s / first)
        return k, first * k, first
    # A float estimate, started early, then walk the exact boundaries forward.
    est = math.log1p(float(s) * float(mult - 1) / float(first)) / math.log(float(mult))
    k = max(int(est) - 2, 0)
    while k > 0 and _cycle_start(k, first, mult) > s:
        k -= 1
    while _cycle_start(k + 1, first, mult) <= s:
        k += 1
    start = _cycle_start(k, first, mult)
    return k, start, first * mult**k


# --------------------------------------------------------------------------------------------
# fastlr's own
# --------------------------------------------------------------------------------------------
def Constant(step, *, learning_rate, name=None):
    _step(step)
    return float(learning_rate)


# --------------------------------------------------------------------------------------------
# keras.optimizers.schedules (Keras 3)
# --------------------------------------------------------------------------------------------
def ExponentialDecay(
    step, *, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None
):
    """Keras: ``initial * decay_rate ** (step / decay_steps)`` (``floor`` of it if staircase)."""
    p = Fraction(_step(step)) / _q(decay_steps)
    if staircase:
        p = Fraction(math.floor(p))
    return initial_learning_rate * math.pow(decay_rate, float(p))


def InverseTimeDecay(
    step, *, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None
):
    """Keras: ``initial / (1 + decay_rate * step / decay_steps)`` (``floor`` if staircase)."""
    p = Fraction(_step(step)) / _q(decay_steps)
    if staircase:
        p = Fraction(math.floor(p))
    return initial_learning_rate / float(1 + _q(decay_rate) * p)


def PolynomialDecay(
    step,
    *,
    initial_learning_rate,
    decay_steps,
    end_learning_rate=0.0001,
    power=1.0,
    cycle=False,
    name=None,
):
    """Keras: ``(initial - end) * (1 - p) ** power + end``, ``p = step / decay_steps``.

    ``cycle=True``: ``decay_steps *= 1 if step == 0 else ceil(step / decay_steps)`` (no clamp);
    otherwise ``step = min(step, decay_steps)``.
    """
    s = Fraction(_step(step))
    d = _q(decay_steps)
    if cycle:
        multiplier = 1 if s == 0 else math.ceil(s / d)
        d = d * multiplier
    else:
        s = min(s, d)
    p = s / d
    return (initial_learning_rate - end_learning_rate) * math.pow(
        float(1 - p), power
    ) + end_learning_rate


def PiecewiseConstantDecay(step, *, boundaries, values, name=None):
    """Keras: ``values[0]`` if ``step <= b[0]``; ``values[i]`` if ``b[i-1] < step <= b[i]``;
    ``values[-1]`` if ``step > b[-1]``."""
    s = _step(step)
    if s <= boundaries[0]:
        return float(values[0])
    if s > boundaries[-1]:
        return float(values[-1])
    for i in range(1, len(boundaries)):
        if boundaries[i - 1] < s <= boundaries[i]:
            return float(values[i])
    raise AssertionError("unreachable")


def CosineDecay(
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
    s = Fraction(_step(step))
    d = _q(decay_steps)
    if warmup_target is None:
        s = min(s, d)
        return initial_learning_rate * ((1 - alpha) * _half_cos(s / d) + alpha)
    w = _q(warmup_steps)
    s = min(s, d + w)
    if s < w:
        return _lerp(initial_learning_rate, warmup_target, s / w)
    return warmup_target * ((1 - alpha) * _half_cos((s - w) / d) + alpha)


def CosineDecayRestarts(
    step,
    *,
    initial_learning_rate,
    first_decay_steps,
    t_mul=2.0,
    m_mul=1.0,
    alpha=0.0,
    name=None,
):
    """Keras SGDR: cycle ``i`` lasts ``first * t_mul**i``; inside it, with ``x`` its completed
    fraction, ``initial * ((1 - alpha) * m_mul**i * (1 + cos(pi x)) / 2 + alpha)``.

    The cycle index is computed exactly (Keras's closed form in float32 is not)."""
    s = _step(step)
    k, start, length = cycle_of(s, first_decay_steps, t_mul)
    x = (s - start) / length
    return initial_learning_rate * ((1 - alpha) * math.pow(m_mul, k) * _half_cos(x) + alpha)


# --------------------------------------------------------------------------------------------
# fastlr's own (formulas from the class docstrings)
# --------------------------------------------------------------------------------------------
def WarmupCosineDecay(
    step, *, target_lr, total_steps, warmup_steps=0, hold_steps=0, start_lr=0.0, min_lr=0.0
):
    """Linear warmup from ``start_lr``, hold at ``target_lr``, cosine to ``min_lr`` at ``T``."""
    t = min(_step(step), total_steps)
    w, h, total = warmup_steps, hold_steps, total_steps
    if t < w:
        return _lerp(start_lr, target_lr, Fraction(t, w))
    if t < w + h:
        return float(target_lr)
    if t >= total:  # documented: exactly min_lr at T and afterwards
        return float(min_lr)
    x = Fraction(t - w - h, total - w - h)
    return min_lr + (target_lr - min_lr) * _half_cos(x)


def WarmupCosineRestarts(
    step,
    *,
    max_lr,
    first_cycle_steps,
    cycle_mult=1.0,
    warmup_steps=0,
    min_lr=0.0,
    gamma=1.0,
    scale_warmup=True,
):
    """SGDR with a linear warmup at the start of every cycle (cycles walked exactly).

    Cycle ``k``: length ``L_k = first * mult**k``, warmup ``W_k = warmup * mult**k`` (or
    ``warmup``), amplitude ``A_k = (max_lr - min_lr) * gamma**k``; ``s`` = step in the cycle:
    ``min + A_k * s / W_k`` while ``s < W_k``, else
    ``min + A_k * (1 + cos(pi * (s - W_k) / (L_k - W_k))) / 2``.
    """
    s_abs = _step(step)
    k, start, length = cycle_of(s_abs, first_cycle_steps, cycle_mult)
    mult = _q(cycle_mult)
    warm = _q(warmup_steps) * mult**k if scale_warmup else _q(warmup_steps)
    s = s_abs - start
    amplitude = (max_lr - min_lr) * math.pow(gamma, k)
    if s < warm:
        return min_lr + amplitude * float(s / warm)
    return min_lr + amplitude * _half_cos((s - warm) / (length - warm))


def CyclicalLearningRate(
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
    it = _step(step)
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


def OneCycle(
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
    it = min(_step(step), total_steps - 1)
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
                return b + (a - b) * _half_cos(pct)
            if anneal_strategy == "linear":
                return _lerp(a, b, pct)
            raise ValueError(anneal_strategy)
        start_step = end_q
    raise AssertionError("unreachable")


def WarmupStableDecay(
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
    s = _step(step)
    w, d = warmup_steps, decay_steps
    stable = total_steps - w - d
    if s < w:
        return _lerp(start_lr, peak_lr, Fraction(s, max(1, w)))
    if s < w + stable:
        return float(peak_lr)
    if s < w + stable + d:
        progress = Fraction(s - w - stable, max(1, d))
        if decay_type == "linear":
            factor = float(1 - progress)
        elif decay_type == "cosine":
            factor = _half_cos(progress)
        elif decay_type == "1-sqrt":
            # 1 - sqrt(p), written as (1 - p) / (1 + sqrt(p)) to keep relative accuracy at p -> 1
            factor = float(1 - progress) / (1 + math.sqrt(float(progress)))
        else:
            raise ValueError(decay_type)
        return min_lr + (peak_lr - min_lr) * factor
    return float(min_lr)


def InverseSqrtDecay(step, *, peak_lr, warmup_steps, timescale=None):
    """Hugging Face ``get_inverse_sqrt_schedule`` times ``peak_lr``:
    ``step / max(1, W)`` during warmup, then ``1 / sqrt((step + timescale - W) / timescale)``;
    ``timescale`` defaults to ``W or 10_000``."""
    s = _step(step)
    if timescale is None:
        timescale = warmup_steps or 10_000
    if s < warmup_steps:
        return peak_lr * float(Fraction(s, max(1, warmup_steps)))
    shift = timescale - warmup_steps
    return peak_lr * math.sqrt(float(Fraction(timescale, s + shift)))


def ExponentialRange(step, *, start_lr, end_lr, num_steps):
    """``start * (end / start) ** (min(step, N) / N)`` (LR range test ramp), ``end`` from ``N``."""
    t = min(_step(step), num_steps)
    if t >= num_steps:
        return float(end_lr)
    p = float(Fraction(t, num_steps))
    return start_lr * math.exp(p * math.log(end_lr / start_lr))


# --------------------------------------------------------------------------------------------
# composites (formulas from the definitions in fastlr's docs; children are Keras-serialized)
# --------------------------------------------------------------------------------------------
def child_value(child, step: int) -> float:
    """A child schedule's reference value at ``step`` (clamped at 0).

    ``child`` is what ``get_config()`` holds for it: a Keras-serialized dict
    ``{"class_name": ..., "config": {...}, ...}`` (any object with ``get_config()`` is accepted
    too, dispatched on its class name). Its ``name`` key (Keras's) is dropped.
    """
    if isinstance(child, dict):
        name, config = child["class_name"], child["config"]
    else:
        name, config = type(child).__name__, child.get_config()
    config = {k: v for k, v in config.items() if k != "name"}
    return REFERENCE[name](max(int(step), 0), **config)


def Warmup(step, *, schedule, warmup_steps, start_lr=0.0):
    """``start_lr + (child(0) - start_lr) * step / W`` while ``step < W``, then
    ``child(step - W)`` (the child starts at its own step 0 when the warmup ends)."""
    s = _step(step)
    if s < warmup_steps:
        return _lerp(start_lr, child_value(schedule, 0), Fraction(s, warmup_steps))
    return child_value(schedule, s - warmup_steps)


def Sequential(step, *, schedules, boundaries):
    """optax ``join_schedules``: ``schedules[0](step)`` before ``boundaries[0]``; from
    ``boundaries[i]`` on, ``schedules[i + 1](step - boundaries[i])``."""
    s = _step(step)
    if len(boundaries) != len(schedules) - 1:
        raise ValueError("need len(schedules) - 1 boundaries")
    i, start = 0, 0
    for j, b in enumerate(boundaries):
        if s >= b:
            i, start = j + 1, b
    return child_value(schedules[i], s - start)


def Offset(step, *, schedule, offset):
    """``child(step + offset)``, the child's step saturating at 2**63 - 1 (the int64 range)."""
    return child_value(schedule, min(_step(step) + offset, 2**63 - 1))


def Scale(step, *, schedule, factor):
    """``factor * child(step)``, rounded once."""
    return float(Fraction(factor) * Fraction(child_value(schedule, _step(step))))


def Table(step, *, values):
    """``values[min(step, len(values) - 1)]``."""
    return float(values[min(_step(step), len(values) - 1)])


REFERENCE = {
    f.__name__: f
    for f in (
        Constant,
        ExponentialDecay,
        InverseTimeDecay,
        PolynomialDecay,
        PiecewiseConstantDecay,
        CosineDecay,
        CosineDecayRestarts,
        WarmupCosineDecay,
        WarmupCosineRestarts,
        CyclicalLearningRate,
        OneCycle,
        WarmupStableDecay,
        InverseSqrtDecay,
        ExponentialRange,
        Warmup,
        Sequential,
        Offset,
        Scale,
        Table,
    )
}
"""Schedule class name -> reference function ``f(step, **constructor_params)``."""
