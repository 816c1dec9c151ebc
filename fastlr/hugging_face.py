"""Hugging Face's schedules in fastlr: :func:`from_hf` (a ``transformers.get_scheduler`` name).

Hugging Face builds its schedules as a factor of the optimizer's learning rate (a ``LambdaLR``);
:func:`from_hf` returns the fastlr schedule of the absolute learning rate, the same at every
optimizer step (``schedule(n)`` is the LR of the ``n``-th update, the scheduler stepped ``n``
times), including at the phase joins and after ``num_training_steps``. It needs neither
transformers nor torch.

=============================  ===============================================================
``name``                       fastlr schedule
=============================  ===============================================================
``constant``                   ``Constant(lr)``
``constant_with_warmup``       ``Warmup(Constant(lr), W)``
``linear``                     ``WarmupStableDecay(lr, T, W, T - W)`` (linear, to 0)
``cosine``                     ``Warmup(CosineAnnealing(lr, S, num_cycles=c), W)``
``cosine_with_min_lr``         ``Warmup(CosineAnnealing(lr, S, lr * min_lr_rate, c), W)``
``cosine_warmup_with_min_lr``  ``Offset(Warmup(CosineAnnealing(lr, S, lr * min_lr_rate, c), W), 1)``
                               (its warmup and progress count from step + 1)
``polynomial``                 ``Warmup(PolynomialDecay(lr, T - W, lr_end, power), W)``
``inverse_sqrt``               ``InverseSqrtDecay(lr, W, timescale)``
``cosine_with_restarts``       ``Warmup(Sequential([CosineDecayRestarts(lr, (T - W) / cycles,
                               t_mul=1), Constant(0)], [T - W]), W)``
``warmup_stable_decay``        ``WarmupStableDecay(lr, W + St + D, W, D, min_lr=start_lr=lr *
                               min_lr_ratio, decay_type, warmup_type, num_cycles)``
=============================  ===============================================================

(``W``: ``num_warmup_steps``, ``T``: ``num_training_steps``, ``St``/``D``: the stable and decay
steps, ``S = max(1, T - W)`` and ``c = num_cycles``: ``c`` waves over ``S`` steps. Hugging Face's
cosine does not hold its floor after ``T``, it keeps oscillating, as :class:`fastlr.CosineAnnealing`
does; its period ``S / c`` need not be a whole number of steps.)
``reduce_lr_on_plateau`` (metric-driven: see :class:`fastlr.ReduceLROnPlateau`) and ``greedy`` have
no closed form.
"""

from __future__ import annotations

from typing import Any

SUPPORTED = (
    "constant",
    "cosine",
    "cosine_with_min_lr",
    "cosine_warmup_with_min_lr",
    "constant_with_warmup",
    "linear",
    "polynomial",
    "inverse_sqrt",
    "cosine_with_restarts",
    "warmup_stable_decay",
)
"""The ``get_scheduler`` names :func:`from_hf` converts."""

_NOT_YET = {
    "reduce_lr_on_plateau": "it follows a metric, not the step: use fastlr.ReduceLROnPlateau",
    "greedy": "it follows a metric, not the step",
}


def from_hf(
    name: str,
    learning_rate: float,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    **scheduler_specific_kwargs: Any,
):
    """The fastlr schedule of ``transformers.get_scheduler(name, optimizer, ...)`` with an optimizer
    whose learning rate is ``learning_rate``: the absolute LR of every optimizer step.

    Args:
        name: a ``get_scheduler`` name (:data:`SUPPORTED`).
        learning_rate: the optimizer's learning rate (Hugging Face's factor multiplies it).
        num_warmup_steps: as ``get_scheduler``'s (required by every name but ``constant``).
        num_training_steps: as ``get_scheduler``'s (``linear``, ``polynomial``,
            ``cosine_with_restarts``; ``warmup_stable_decay`` takes it or ``num_stable_steps``).
        **scheduler_specific_kwargs: ``get_scheduler``'s ``scheduler_specific_kwargs``: ``lr_end``
            and ``power`` (``polynomial``), ``timescale`` (``inverse_sqrt``), ``num_cycles``
            (``cosine``, ``cosine_with_min_lr``, ``cosine_warmup_with_min_lr``,
            ``cosine_with_restarts``), ``min_lr``, ``min_lr_rate``, ``warmup_lr_rate`` (the
            cosines with a minimum), ``num_decay_steps``, ``num_stable_steps``,
            ``decay_type``, ``warmup_type``, ``min_lr_ratio``, ``num_cycles``
            (``warmup_stable_decay``).

    Returns:
        A fastlr schedule (a Keras ``LearningRateSchedule`` once Keras is imported).

    Raises:
        ValueError: an unknown or unsupported name, a missing step count, or parameters Hugging
            Face refuses (e.g. ``polynomial`` with ``lr_end >= learning_rate``).
        TypeError: a keyword the scheduler does not take.

    Example:
        >>> import fastlr
        >>> s = fastlr.from_hf("linear", 0.1, num_warmup_steps=2, num_training_steps=6)
        >>> [round(float(x), 6) for x in s.evaluate(range(8), dtype="float64")]
        [0.0, 0.05, 0.1, 0.075, 0.05, 0.025, 0.0, 0.0]
    """
    import fastlr

    name = str(getattr(name, "value", name))  # a transformers SchedulerType works too
    if name in _NOT_YET:
        raise ValueError(
            f"Argument `name` is not supported by fastlr.from_hf yet: {_NOT_YET[name]}. "
            f"Received: name={name!r}"
        )
    if name not in SUPPORTED:
        raise ValueError(
            f"Argument `name` must be one of {', '.join(SUPPORTED)}. Received: name={name!r}"
        )
    kw = dict(scheduler_specific_kwargs)
    lr = learning_rate
    if name == "constant":
        _no_extra(name, kw)
        return fastlr.Constant(lr)
    w = _required("num_warmup_steps", num_warmup_steps, name)
    if name == "constant_with_warmup":
        _no_extra(name, kw)
        return fastlr.Warmup(fastlr.Constant(lr), w)
    if name == "inverse_sqrt":
        timescale = kw.pop("timescale", None)
        _no_extra(name, kw)
        return fastlr.InverseSqrtDecay(lr, w, timescale=timescale)
    if name == "warmup_stable_decay":
        return _wsd(lr, w, num_training_steps, kw)
    t = _required("num_training_steps", num_training_steps, name)
    if name.startswith("cosine") and name != "cosine_with_restarts":
        return _cosine(name, lr, w, t, kw)
    if name == "linear":
        _no_extra(name, kw)
        if t <= w:  # Hugging Face: the ramp, then 0 from the warmup's end
            return fastlr.Sequential(
                [fastlr.Warmup(fastlr.Constant(lr), w), fastlr.Constant(0.0)], [w]
            )
        return fastlr.WarmupStableDecay(
            lr, t, warmup_steps=w, decay_steps=t - w, decay_type="linear"
        )
    if name == "polynomial":
        lr_end, power = kw.pop("lr_end", 1e-7), kw.pop("power", 1.0)
        _no_extra(name, kw)
        if not lr > lr_end:
            raise ValueError(
                f"Argument `lr_end` must be < the learning rate ({lr!r}), as Hugging Face "
                f"requires. Received: lr_end={lr_end!r}"
            )
        if t <= w:  # Hugging Face divides by num_training_steps - num_warmup_steps
            raise ValueError(
                "Argument `num_training_steps` must be > `num_warmup_steps` for `polynomial`. "
                f"Received: num_training_steps={t!r}"
            )
        return fastlr.Warmup(fastlr.PolynomialDecay(lr, t - w, lr_end, power=power), w)
    # cosine_with_restarts: hard restarts every (T - W) / num_cycles steps, 0 from T on
    cycles = kw.pop("num_cycles", 1)
    _no_extra(name, kw)
    if t <= w:  # progress >= 1 from the first step after the warmup
        return fastlr.Sequential(
            [fastlr.Warmup(fastlr.Constant(lr), w), fastlr.Constant(0.0)], [w + 1]
        )
    restarts = fastlr.CosineDecayRestarts(lr, (t - w) / cycles, t_mul=1.0)
    return fastlr.Warmup(fastlr.Sequential([restarts, fastlr.Constant(0.0)], [t - w]), w)


def _cosine(name: str, lr: float, w: int, t: int, kw: dict):
    """``cosine``, ``cosine_with_min_lr`` and ``cosine_warmup_with_min_lr``: a warmup, then the
    cosine wave ``0.5 * (1 + cos(2 pi num_cycles progress))`` scaled between ``lr`` and the floor,
    which keeps oscillating past ``T`` (Hugging Face's formula has no end)."""
    import fastlr

    cycles = kw.pop("num_cycles", 0.5)
    min_lr, rate = kw.pop("min_lr", None), kw.pop("min_lr_rate", None)
    warmup_rate = kw.pop("warmup_lr_rate", None) if name == "cosine_warmup_with_min_lr" else None
    _no_extra(name, kw)
    if name == "cosine":
        floor = 0.0
    elif (min_lr is None) == (rate is None):
        raise ValueError(
            f"Exactly one of `min_lr` and `min_lr_rate` is required by `{name}`. "
            f"Received: min_lr={min_lr!r}, min_lr_rate={rate!r}"
        )
    else:
        floor = min_lr if min_lr is not None else lr * rate
    wave = fastlr.CosineAnnealing(lr, max(1, t - w), min_lr=floor, num_cycles=cycles)
    if name != "cosine_warmup_with_min_lr":
        return fastlr.Warmup(wave, w)
    # Its warmup is (step + 1) / W and its progress (step - W + 1) / span: one step ahead.
    if warmup_rate is None:
        return fastlr.Offset(fastlr.Warmup(wave, w), 1)
    if w <= 1:  # the warmup is the one step 0, at warmup_lr_rate * lr
        start = [fastlr.Constant(lr * warmup_rate)] if w == 1 else []
    else:  # from warmup_lr_rate * lr to lr over the W - 1 steps, lr at step W - 1
        start = [fastlr.Warmup(fastlr.Constant(lr), w - 1, start_lr=lr * warmup_rate)]
    tail = fastlr.Offset(wave, 1)
    return fastlr.Sequential([*start, tail], [w] if start else [])


def _wsd(lr: float, w: int, total: int | None, kw: dict):
    import fastlr

    if "num_decay_steps" not in kw:
        raise ValueError(
            "Argument `num_decay_steps` is required by `warmup_stable_decay`. Received: none"
        )
    decay = kw.pop("num_decay_steps")
    stable = kw.pop("num_stable_steps", None)
    warmup_type = kw.pop("warmup_type", "linear")
    decay_type = kw.pop("decay_type", "cosine")
    ratio = kw.pop("min_lr_ratio", 0.0)
    cycles = kw.pop("num_cycles", 0.5)
    _no_extra("warmup_stable_decay", kw)
    if (total is None) == (stable is None):
        raise ValueError(
            "Exactly one of `num_training_steps` and `num_stable_steps` is required by "
            f"`warmup_stable_decay`. Received: num_training_steps={total!r}, "
            f"num_stable_steps={stable!r}"
        )
    stable = total - w - decay if stable is None else stable
    floor = lr * ratio
    return fastlr.WarmupStableDecay(
        lr,
        w + stable + decay,
        warmup_steps=w,
        decay_steps=decay,
        min_lr=floor,
        start_lr=floor,
        decay_type=decay_type,
        warmup_type=warmup_type,
        num_cycles=cycles if decay_type == "cosine" else 0.5,  # Hugging Face ignores it there
    )


def _required(param: str, value: Any, name: str) -> Any:
    if value is None:
        raise ValueError(f"Argument `{param}` is required by `{name}`. Received: {param}=None")
    return value


def _no_extra(name: str, kw: dict) -> None:
    if kw:
        raise TypeError(
            f"`{name}` takes no scheduler_specific_kwargs {sorted(kw)}. Received: {kw!r}"
        )
