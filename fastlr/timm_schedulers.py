"""timm's LR schedulers as fastlr schedules: :func:`from_timm`.

No LR math here: each timm class maps to a fastlr schedule (:class:`~fastlr.CosineCycles`,
:class:`~fastlr.PolyCycles`, :class:`~fastlr.TanhCycles`, ``ExponentialDecay``,
``PiecewiseConstantDecay``) wrapped in composites for timm's warmup, noise, ``lr_scale`` and
epoch stepping, built from the scheduler's public attributes. ``timm`` is never imported: the
scheduler is recognized by its class (``timm.scheduler...``), so converting needs only the
object.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from fastlr.torch_schedulers import _build, per_group

SUPPORTED = (
    "CosineLRScheduler",
    "PolyLRScheduler",
    "TanhLRScheduler",
    "StepLRScheduler",
    "MultiStepLRScheduler",
)
"""The timm scheduler classes :func:`from_timm` converts."""


def from_timm(
    scheduler: Any,
    *,
    steps_per_epoch: int | None = None,
    group: int | None = None,
    redraw_noise: bool = False,
) -> Any:
    """The fastlr schedule of a timm LR scheduler: its value at step ``n`` is the LR timm's
    optimizer uses for its ``n``-th update (counting from 0).

    timm's training loop calls ``scheduler.step_update(num_updates)`` after every optimizer
    step and ``scheduler.step(epoch + 1)`` after every epoch; the scheduler reacts to the first
    with ``t_in_epochs=False`` and to the second with ``t_in_epochs=True``. So update ``n``
    uses ``_get_lr(n)`` (per-update schedulers) or ``_get_lr(n // steps_per_epoch)``
    (per-epoch ones, through :class:`~fastlr.PerEpoch`), except for update 0 (epoch 0), which
    uses the LR the scheduler set at construction: ``warmup_lr_init`` with a warmup, else the
    optimizer's own LR (they differ for ``TanhLRScheduler``, whose curve starts just below its
    peak).

    ========================  =================================================================
    timm (``timm.scheduler``)  fastlr (``base``: the group's LR; ``W = warmup_t``)
    ========================  =================================================================
    ``CosineLRScheduler``     ``CosineCycles(base, t_initial, lr_min, cycle_mul, cycle_decay,
                              cycle_limit, k_decay)``
    ``PolyLRScheduler``       ``PolyCycles(base, t_initial, power, lr_min, ...)``
    ``TanhLRScheduler``       ``TanhCycles(base, t_initial, lb, ub, lr_min, ...)``
    ``StepLRScheduler``       ``ExponentialDecay(base, decay_t, decay_rate, staircase=True)``
    ``MultiStepLRScheduler``  ``PiecewiseConstantDecay``: ``decay_rate**k`` from step ``m - 1``
                              of each milestone ``m`` (timm counts milestones ``<= t + 1``)
    warmup (``W > 0``)        ``Sequential([PolynomialDecay(warmup_lr_init, W, target, power=1.0),
                              inner], [W])``: ``inner`` is ``Offset(s, W)`` without
                              ``warmup_prefix`` (the curve keeps its own clock), ``s`` with it
    noise                     ``Noise(..., start, end, noise_pct, noise_std, noise_seed,
                              noise_type)`` (with ``redraw_noise=True``)
    ``lr_scale`` in the group ``Scale(..., lr_scale)``
    ========================  =================================================================

    The ramp's target is the base LR, as in timm (``TanhLRScheduler`` without
    ``warmup_prefix``: its curve's value at ``W``).

    **Noise.** timm draws its noise from ``torch.Generator`` seeded with ``noise_seed + t``,
    which no formula reproduces; fastlr's :class:`~fastlr.Noise` draws the same distribution
    (a normal truncated to ``noise_pct``, or uniform) from a counter-based hash, so the values
    differ. A scheduler with noise is refused unless ``redraw_noise=True`` accepts that.

    Args:
        scheduler: a timm scheduler of one of the classes above (not a subclass).
        steps_per_epoch: optimizer steps per epoch, int > 0; required when the scheduler has
            ``t_in_epochs=True`` (timm's default), refused otherwise.
        group: the optimizer's param group to convert; ``None`` requires every group to have
            the same schedule.
        redraw_noise: accept fastlr's noise in place of timm's (same distribution, other
            values).

    Returns:
        A fastlr schedule (absolute learning rates).

    Raises:
        TypeError: not one of the timm classes above (``PlateauLRScheduler`` follows a metric).
        ValueError: missing or unexpected ``steps_per_epoch``, noise without ``redraw_noise``,
            unsorted ``decay_t``, parameters no fastlr class takes, or param groups with
            different schedules.

    Example:
        With timm installed::

            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            sched = timm.scheduler.CosineLRScheduler(
                opt, t_initial=100, lr_min=1e-5, warmup_t=10, warmup_lr_init=1e-4,
                t_in_epochs=False,
            )
            s = fastlr.from_timm(sched)

        ``s`` is this schedule (``tests/test_timm_schedulers.py`` converts that very scheduler
        and compares every update with timm's): a 10-step ramp, then timm's cosine on its own
        clock (no ``warmup_prefix``), ``lr_min`` after its one cycle:

        >>> from fastlr import CosineCycles, Offset, PolynomialDecay, Sequential
        >>> ramp = PolynomialDecay(1e-4, 10, 0.1, power=1.0)
        >>> s = Sequential([ramp, Offset(CosineCycles(0.1, 100, min_lr=1e-5), 10)], [10])
        >>> s.evaluate([0, 5, 10, 50, 99, 100, 10**6], dtype="float64").round(6).tolist()
        [0.0001, 0.05005, 0.097553, 0.050005, 3.5e-05, 1e-05, 1e-05]
    """
    from fastlr import _validate as v

    name = _name(scheduler)
    per_epoch = bool(scheduler.t_in_epochs)
    if per_epoch:
        if steps_per_epoch is None:
            raise ValueError(
                f"{name} has t_in_epochs=True: its LR changes once per epoch, when the "
                "training loop calls scheduler.step(epoch + 1); pass steps_per_epoch= (optimizer "
                "steps per epoch) to place the epochs on the step axis"
            )
        steps_per_epoch = v.integer("steps_per_epoch", steps_per_epoch, gt=0)
        warnings.warn(
            f"from_timm: {name} steps per epoch (t_in_epochs=True); assumed: "
            f"{steps_per_epoch} optimizer steps per epoch, scheduler.step(epoch + 1) at the "
            "end of every epoch (timm's train.py), so update n uses the LR of epoch "
            f"n // {steps_per_epoch}.",
            UserWarning,
            stacklevel=2,
        )
    elif steps_per_epoch is not None:
        raise ValueError(
            f"{name} has t_in_epochs=False (it steps per update): steps_per_epoch does not "
            f"apply. Received: steps_per_epoch={steps_per_epoch!r}"
        )
    if scheduler.noise_range_t is not None and not redraw_noise:
        raise ValueError(
            f"{name} adds LR noise (noise_range_t={scheduler.noise_range_t!r}) drawn from "
            "torch.Generator(noise_seed + t), which no formula reproduces; fastlr.Noise draws the "
            "same distribution from a counter-based hash (other values): pass redraw_noise=True "
            "to accept it"
        )
    return per_group(
        name,
        len(scheduler.optimizer.param_groups),
        lambda g: _convert(scheduler, name, g, steps_per_epoch),
        group,
    )


# -- helpers ----------------------------------------------------------------------------------
def _name(s: Any) -> str:
    """The timm class of ``s``, refusing anything else (subclasses too) with one line."""
    cls = type(s)
    timm_module = cls.__module__.startswith("timm.scheduler")
    if cls.__name__ in SUPPORTED and timm_module:
        return cls.__name__
    if timm_module and cls.__name__ == "PlateauLRScheduler":
        raise TypeError(
            "PlateauLRScheduler: it is driven by a metric, not by the step (use "
            "fastlr.ReduceLROnPlateau, the Keras callback, over a fastlr schedule)"
        )
    base = next(
        (
            c.__name__
            for c in cls.__mro__[1:]
            if c.__name__ in SUPPORTED and c.__module__.startswith("timm.scheduler")
        ),
        None,
    )
    if base is not None:
        raise TypeError(
            f"{cls.__name__}: a subclass of timm's {base}, which may change its formula; "
            "convert timm's own classes"
        )
    raise TypeError(
        f"from_timm expects a timm scheduler (supported: {', '.join(SUPPORTED)}). "
        f"Received: {cls.__name__}"
    )


def _cycles(s: Any, name: str, base: float) -> Any:
    """The curve of a cosine, poly or tanh scheduler (timm's ``_get_lr`` after the warmup)."""
    from fastlr.schedules import CosineCycles, PolyCycles, TanhCycles

    common = dict(
        min_lr=s.lr_min,
        cycle_mult=s.cycle_mul,
        cycle_decay=s.cycle_decay,
        cycle_limit=max(int(s.cycle_limit), 0),
    )
    if name == "CosineLRScheduler":
        return _build(name, CosineCycles, base, s.t_initial, k_decay=s.k_decay, **common)
    if name == "PolyLRScheduler":
        return _build(
            name, PolyCycles, base, s.t_initial, power=s.power, k_decay=s.k_decay, **common
        )
    return _build(name, TanhCycles, base, s.t_initial, lb=s.lb, ub=s.ub, **common)


def _multi_step(s: Any, base: float) -> Any:
    from fastlr.schedules import Constant, PiecewiseConstantDecay

    marks = list(s.decay_t)
    if marks != sorted(marks):
        raise ValueError(
            f"MultiStepLRScheduler: timm counts the milestones <= t + 1 by bisection, which "
            f"assumes them sorted. Received: decay_t={s.decay_t!r}"
        )
    # decay_rate**k from step m - 1 of the k-th milestone m: boundary m - 2 ("step > m - 2")
    counts: dict[int, int] = {}
    for m in marks:
        b = max(math.ceil(m) - 2, -1)
        counts[b] = counts.get(b, 0) + 1
    if not counts:
        return Constant(base)
    bounds = sorted(counts)
    values, k = [base], 0
    for b in bounds:
        k += counts[b]
        values.append(base * s.decay_rate**k)
    return _build("MultiStepLRScheduler", PiecewiseConstantDecay, bounds, values)


def _inner(s: Any, name: str, base: float) -> Any:
    """timm's ``_get_lr`` after the warmup, on its own clock (``t - warmup_t`` with a prefix)."""
    from fastlr.schedules import ExponentialDecay

    if name == "StepLRScheduler":
        return _build(name, ExponentialDecay, base, s.decay_t, s.decay_rate, staircase=True)
    if name == "MultiStepLRScheduler":
        return _multi_step(s, base)
    return _cycles(s, name, base)


def _value_at(schedule: Any, step: int) -> float:
    """The float64 value at one step, by the NumPy engine (nothing to compile)."""
    from fastlr.engines.numpy_ref import reference

    return float(reference(schedule, [step])[0])


def _convert(s: Any, name: str, group: int, steps_per_epoch: int | None) -> Any:
    from fastlr.schedules import (
        Constant,
        Noise,
        Offset,
        PerEpoch,
        PolynomialDecay,
        Scale,
        Sequential,
    )

    base = float(s.base_values[group])
    inner = _inner(s, name, base)
    warm = int(s.warmup_t)
    init = float(s.warmup_lr_init)
    if warm > 0:
        curve = inner if s.warmup_prefix else Offset(inner, warm)
        # the ramp's target: the base LR; TanhLRScheduler without prefix: its curve at warmup_t
        target = _value_at(curve, 0) if name == "TanhLRScheduler" and not s.warmup_prefix else base
        ramp = _build(name, PolynomialDecay, init, warm, target, power=1.0)
        schedule = Sequential([ramp, curve], [warm])
    else:
        schedule = inner
    noise = _noise_args(s)
    if noise is not None:
        schedule = Noise(schedule, *noise)
    scale = s.optimizer.param_groups[group].get("lr_scale")
    if scale is not None and float(scale) != 1.0:
        schedule = Scale(schedule, float(scale))
    # update 0 (epoch 0) uses the LR set at construction, not _get_lr(0) (beyond rounding)
    first = init * (1.0 if scale is None else float(scale)) if warm > 0 else base
    if abs(_value_at(schedule, 0) - first) > 1e-14 * max(base, first):
        schedule = Sequential([Constant(first), Offset(schedule, 1)], [1])
    if steps_per_epoch is not None:
        schedule = PerEpoch(schedule, steps_per_epoch)
    return schedule


def _noise_args(s: Any) -> tuple | None:
    """``(start, end, pct, std, seed, distribution)`` of timm's noise settings; None where it
    adds none (no range, or an empty one)."""
    r = s.noise_range_t
    if r is None:
        return None
    if isinstance(r, (list, tuple)):
        start, end = max(int(r[0]), 0), int(r[1])
        if end <= start:
            return None
    else:
        start, end = max(int(r), 0), None
    distribution = "normal" if s.noise_type == "normal" else "uniform"
    return start, end, float(s.noise_pct), float(s.noise_std), int(s.noise_seed), distribution
