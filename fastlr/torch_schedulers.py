"""PyTorch LR schedulers as fastlr schedules: :func:`from_torch`.

No LR math here: each torch class maps to fastlr schedules and composites built from the
scheduler's public parameters. ``torch`` is imported inside :func:`from_torch` only.
"""

from __future__ import annotations

import math
from typing import Any

SUPPORTED = (
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "LinearLR",
    "ConstantLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "OneCycleLR",
    "SequentialLR",
    "ChainedScheduler",
)
"""The torch scheduler classes :func:`from_torch` converts."""

_NO_CLOSED_FORM = {
    "LambdaLR": "its LR is a Python function of the epoch (lr_lambda)",
    "MultiplicativeLR": "its LR is a running product of a Python function (lr_lambda)",
    "ReduceLROnPlateau": (
        "it is driven by a metric, not by the step (use fastlr.ReduceLROnPlateau, the Keras "
        "callback, over a fastlr schedule)"
    ),
}


def from_torch(scheduler: Any, *, group: int | None = None) -> Any:
    """The fastlr schedule of a PyTorch LR scheduler: its value at step ``n`` is the LR torch's
    optimizer uses for its ``n``-th update (``optimizer.param_groups[group]["lr"]`` after ``n``
    calls of ``scheduler.step()``, counting from 0).

    ================================  ============================================================
    torch (``lr_scheduler.``)         fastlr (``base``: the group's entry of ``base_lrs``)
    ================================  ============================================================
    ``StepLR``                        ``ExponentialDecay(base, step_size, gamma, staircase=True)``
    ``MultiStepLR``                   ``PiecewiseConstantDecay([m - 1, ...], [base * gamma**k])``
    ``ExponentialLR``                 ``ExponentialDecay(base, 1, gamma)``
    ``LinearLR``                      ``PolynomialDecay(base * start, total_iters, base * end)``
    ``ConstantLR``                    ``PiecewiseConstantDecay([total_iters - 1], [base*f, base])``
    ``PolynomialLR``                  ``PolynomialDecay(base, total_iters, 0.0, power)``
    ``CosineAnnealingLR``             ``CosineAnnealing(base, T_max, eta_min)``: a wave past T_max
    ``CosineAnnealingWarmRestarts``   ``WarmupCosineRestarts(base, T_0, T_mult, min_lr=eta_min)``
    ``CyclicLR``                      ``CyclicalLearningRate``, the same parameters
    ``OneCycleLR``                    ``OneCycle``, the same parameters (holds after its end)
    ``SequentialLR``                  ``Sequential(children, milestones)``
    ``ChainedScheduler``              ``Product([first, *factors])``, factors of base 1
    ================================  ============================================================

    Torch's edge cases follow its recursive ``step()``, which is what training sees:
    ``LinearLR``/``ConstantLR`` with ``total_iters=0`` hold their start factor, ``PolynomialLR``
    with ``total_iters=0`` (or ``power=0``) holds ``base``, ``MultiStepLR`` ignores negative
    milestones, and ``CosineAnnealingLR`` climbs back after ``T_max`` (period ``2 * T_max``).
    ``OneCycleLR`` has no value past ``total_steps`` (torch raises); fastlr holds its last one.
    In a ``SequentialLR`` each child restarts from its own step 0 at its milestone, as torch
    does. A ``ChainedScheduler`` multiplies the LR by each scheduler's factor, so it converts
    when every chained scheduler is a multiplicative one (the first six rows, nested chains, and
    ``CosineAnnealingLR`` with ``eta_min=0`` when every other factor is 1 from ``T_max`` on: past
    ``T_max`` torch's cosine restarts from ``base``, dropping the other factors).

    The conversion reads parameters only (``base_lrs``, ``gamma``, ``T_0``, ...), never the
    scheduler's position: the schedule starts at the scheduler's step 0 however far it has been
    stepped, and its value at ``scheduler.last_epoch`` is the LR the optimizer holds now.
    Values agree with torch's to float64 rounding (torch's recursive updates drift by a few ulps
    per step; measured differences: ``docs/migrating.md``).

    Args:
        scheduler: a ``torch.optim.lr_scheduler`` scheduler of one of the classes above (not a
            subclass, which may change the formula).
        group: the optimizer's param group to convert; ``None`` requires every group to have
            the same schedule.

    Returns:
        A fastlr schedule (absolute learning rates).

    Raises:
        TypeError: a scheduler without a closed form (``LambdaLR``, ``MultiplicativeLR``), driven
            by a metric (``ReduceLROnPlateau``), or of any other class.
        ValueError: parameters fastlr cannot express exactly, a chain that is not a product,
            param groups with different schedules.

    Example:
        >>> import torch
        >>> from fastlr import from_torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        >>> from_torch(sched).evaluate([0, 1, 2, 5, 10], dtype="float64").tolist()
        [0.1, 0.1, 0.05, 0.025, 0.003125]
        >>> warmup = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=4)
        >>> cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8)
        >>> s = from_torch(torch.optim.lr_scheduler.ChainedScheduler([warmup, cosine]))
        >>> type(s).__name__, s.evaluate([0, 2, 4, 8, 12], dtype="float64").round(6).tolist()
        ('Product', [0.025, 0.053347, 0.05, 0.0, 0.05])
    """
    from torch.optim import lr_scheduler as torch_schedulers

    if not isinstance(scheduler, torch_schedulers.LRScheduler) and not hasattr(
        scheduler, "_schedulers"
    ):
        raise TypeError(
            f"from_torch expects a torch.optim.lr_scheduler scheduler. "
            f"Received: {type(scheduler).__name__}"
        )
    return per_group(
        type(scheduler).__name__,
        len(scheduler.optimizer.param_groups),
        lambda g: _absolute(scheduler, g),
        group,
    )


def per_group(name: str, groups: int, convert: Any, group: int | None) -> Any:
    """``convert(group)``; without ``group``, the one schedule every param group has (refused,
    naming both, where two groups differ). Shared by the scheduler converters."""
    from fastlr import _validate as v

    if group is not None:
        return convert(v.integer("group", group, ge=0, lt=groups))
    built = [convert(g) for g in range(groups)]
    if any(b != built[0] for b in built[1:]):
        raise ValueError(
            f"{name}: the optimizer's {groups} param groups have different schedules (group 0: "
            f"{built[0]!r}; group 1: {built[1]!r}); pass group=i to convert one of them"
        )
    return built[0]


# -- helpers ----------------------------------------------------------------------------------
def _name(s: Any) -> str:
    """The torch class of ``s``, refusing unsupported classes and subclasses with one line."""
    from torch.optim import lr_scheduler as torch_schedulers

    name = type(s).__name__
    for cls in type(s).__mro__:
        if cls.__name__ in _NO_CLOSED_FORM and getattr(torch_schedulers, cls.__name__, 0) is cls:
            raise TypeError(
                f"{name}: {_NO_CLOSED_FORM[cls.__name__]}, so it has no closed form for "
                "fastlr to compile"
            )
    if name in SUPPORTED and getattr(torch_schedulers, name) is type(s):
        return name
    base = next((c.__name__ for c in type(s).__mro__[1:] if c.__name__ in SUPPORTED), None)
    if base is not None:
        raise TypeError(
            f"{name}: a subclass of torch's {base}, which may change its formula; convert "
            "torch's own classes"
        )
    raise TypeError(
        f"{name}: not a torch LR scheduler fastlr converts (supported: {', '.join(SUPPORTED)})"
    )


def _build(where: str, cls: type, *args: Any, **kwargs: Any) -> Any:
    """``cls(*args, **kwargs)``, its refusal prefixed with the scheduler it came from (``where``:
    a torch or timm class name; shared with :mod:`fastlr.timm_schedulers`)."""
    try:
        return cls(*args, **kwargs)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{where}: no fastlr {cls.__name__} for these values: {e}") from None


def _f(x: Any) -> float:
    return float(x)  # a Python float, a NumPy float or a 0-d tensor


# -- multiplicative schedulers: an LR of ``base`` times a factor of the step -----------------------
def _step_lr(s: Any, base: float) -> Any:
    from fastlr.schedules import ExponentialDecay

    return _build("StepLR", ExponentialDecay, base, s.step_size, s.gamma, staircase=True)


def _multi_step_lr(s: Any, base: float) -> Any:
    from fastlr.schedules import Constant, PiecewiseConstantDecay

    # torch's step() multiplies by gamma**count at each milestone it reaches: only whole
    # milestones >= 0 are ever reached
    counts: dict[int, int] = {}
    for m, c in s.milestones.items():
        if m >= 0 and m == int(m):
            counts[int(m)] = counts.get(int(m), 0) + c
    if not counts:
        return Constant(base)
    marks = sorted(counts)
    values, k = [base], 0
    for m in marks:
        k += counts[m]
        values.append(base * s.gamma**k)
    return _build("MultiStepLR", PiecewiseConstantDecay, [m - 1 for m in marks], values)


def _exponential_lr(s: Any, base: float) -> Any:
    from fastlr.schedules import ExponentialDecay

    return _build("ExponentialLR", ExponentialDecay, base, 1, s.gamma)


def _linear_lr(s: Any, base: float) -> Any:
    from fastlr.schedules import Constant, PolynomialDecay

    start, end = base * s.start_factor, base * s.end_factor
    if s.total_iters == 0:  # torch's step() applies start_factor once and never again
        return _build("LinearLR", Constant, start)
    return _build("LinearLR", PolynomialDecay, start, s.total_iters, end, power=1.0)


def _constant_lr(s: Any, base: float) -> Any:
    from fastlr.schedules import Constant, PiecewiseConstantDecay

    if s.total_iters == 0:  # as LinearLR: the factor stays
        return _build("ConstantLR", Constant, base * s.factor)
    return _build(
        "ConstantLR", PiecewiseConstantDecay, [s.total_iters - 1], [base * s.factor, base]
    )


def _polynomial_lr(s: Any, base: float) -> Any:
    from fastlr.schedules import Constant, PolynomialDecay

    if s.total_iters == 0 or s.power == 0:  # step() never changes the LR
        return Constant(base)
    return _build("PolynomialLR", PolynomialDecay, base, s.total_iters, 0.0, s.power)


def _cosine_lr(s: Any, base: float) -> Any:
    from fastlr.schedules import CosineAnnealing

    return _build("CosineAnnealingLR", CosineAnnealing, base, s.T_max, _f(s.eta_min))


_MULTIPLIERS = {
    "StepLR": _step_lr,
    "MultiStepLR": _multi_step_lr,
    "ExponentialLR": _exponential_lr,
    "LinearLR": _linear_lr,
    "ConstantLR": _constant_lr,
    "PolynomialLR": _polynomial_lr,
}
"""torch schedulers whose step() multiplies the LR by a ratio: ``base * factor(step)``."""


def _one_from(s: Any, name: str, step: int) -> bool:
    """Whether the factor of multiplicative scheduler ``s`` is exactly 1 from ``step`` on."""
    if name in ("StepLR", "ExponentialLR"):
        return s.gamma == 1
    if name == "MultiStepLR":
        return s.gamma == 1 or not any(m >= 0 and m == int(m) for m in s.milestones)
    if name == "PolynomialLR":
        return s.total_iters == 0 or s.power == 0
    if name == "ConstantLR":
        return s.factor == 1 or 0 < s.total_iters <= step
    if name == "LinearLR":
        if s.total_iters == 0:
            return s.start_factor == 1
        return s.end_factor == 1 and s.total_iters <= step
    return False


# -- the others ---------------------------------------------------------------------------------
def _absolute(s: Any, g: int) -> Any:
    """The fastlr schedule of scheduler ``s``, param group ``g``."""
    name = _name(s)
    if name in _MULTIPLIERS:
        return _MULTIPLIERS[name](s, _f(s.base_lrs[g]))
    if name == "CosineAnnealingLR":
        return _cosine_lr(s, _f(s.base_lrs[g]))
    if name == "CosineAnnealingWarmRestarts":
        from fastlr.schedules import WarmupCosineRestarts

        return _build(
            "CosineAnnealingWarmRestarts",
            WarmupCosineRestarts,
            _f(s.base_lrs[g]),
            s.T_0,
            cycle_mult=float(s.T_mult),
            min_lr=_f(s.eta_min),
        )
    if name == "CyclicLR":
        return _cyclic(s, g)
    if name == "OneCycleLR":
        return _one_cycle(s, g)
    if name == "SequentialLR":
        return _sequential(s, g)
    return _chained(s, g)


def _cyclic(s: Any, g: int) -> Any:
    from fastlr.schedules import CyclicalLearningRate

    if s._scale_fn_custom is not None:
        raise ValueError(
            "CyclicLR: a custom scale_fn is a Python function, with no closed form for fastlr "
            "to compile"
        )
    total, ratio = s.total_size, s.step_ratio
    up = round(ratio * total)
    down = round(total - up)
    if float(up + down) != total or up / total != ratio:
        raise ValueError(
            f"CyclicLR: step_size_up and step_size_down must be whole steps (total_size={total}, "
            f"step_ratio={ratio})"
        )
    return _build(
        "CyclicLR",
        CyclicalLearningRate,
        _f(s.base_lrs[g]),
        _f(s.max_lrs[g]),
        up,
        mode=s.mode,
        gamma=s.gamma if s.mode == "exp_range" else 1.0,
        step_size_down=None if down == up else down,
    )


def _one_cycle(s: Any, g: int) -> Any:
    from fastlr.schedules import OneCycle
    from fastlr.schedules.onecycle import _exact_divisor

    if not hasattr(s, "_anneal_func_type"):
        raise ValueError("OneCycleLR: a custom anneal_func has no closed form")
    params = s.optimizer.param_groups[g]
    top, start, low = _f(params["max_lr"]), _f(params["initial_lr"]), _f(params["min_lr"])
    if start <= 0 or low <= 0:
        raise ValueError(
            f"OneCycleLR: max_lr={top} and its start {start} and end {low} must be > 0"
        )
    total = s.total_steps
    pct = _pct(s._schedule_phases[0]["end_step"], total)
    return _build(
        "OneCycleLR",
        OneCycle,
        top,
        total,
        pct,
        div_factor=_exact_divisor(top, start),
        final_div_factor=_exact_divisor(start, low),
        anneal_strategy=s._anneal_func_type,
        three_phase=len(s._schedule_phases) == 3,
    )


def _pct(end_step: float, total: int) -> float:
    """A ``pct_start`` with ``pct_start * total - 1 == end_step`` (torch's first phase end),
    found among the floats next to ``(end_step + 1) / total``."""
    guess = (end_step + 1.0) / total
    up = down = guess
    for _ in range(16):
        for p in (up, down):
            if float(p * total) - 1 == end_step:
                return p
        up, down = math.nextafter(up, math.inf), math.nextafter(down, 0.0)
    return guess


def _sequential(s: Any, g: int) -> Any:
    from fastlr.schedules import Sequential

    children = []
    for i, child in enumerate(s._schedulers):
        if _name(child) in ("SequentialLR", "ChainedScheduler"):
            raise ValueError(
                f"SequentialLR: schedulers[{i}] is a {type(child).__name__}, which torch's "
                "SequentialLR does not restart at a milestone (it shifts or fails): not converted"
            )
        children.append(_absolute(child, g))
    if len(children) == 1:
        return children[0]
    return _build("SequentialLR", Sequential, children, list(s._milestones))


def _flatten(s: Any) -> list[Any]:
    out = []
    for child in s._schedulers:
        out.extend(_flatten(child) if _name(child) == "ChainedScheduler" else [child])
    return out


def _chained(s: Any, g: int) -> Any:
    from fastlr.schedules import Product

    chain = _flatten(s)
    if len(chain) == 1:
        return _absolute(chain[0], g)
    names = [_name(c) for c in chain]
    for i, (child, name) in enumerate(zip(chain, names, strict=True)):
        if name == "CosineAnnealingLR":
            if _f(child.eta_min) != 0:
                raise ValueError(
                    f"ChainedScheduler: CosineAnnealingLR (schedulers[{i}]) with eta_min != 0 "
                    "moves the LR toward eta_min, not by a factor: the chain is no product"
                )
            others = [(c, n) for j, (c, n) in enumerate(zip(chain, names, strict=True)) if j != i]
            if not all(_one_from(c, n, child.T_max) for c, n in others):
                raise ValueError(
                    f"ChainedScheduler: CosineAnnealingLR (schedulers[{i}]) restarts from its "
                    f"base LR after T_max={child.T_max}, dropping the other schedulers' factors: "
                    "the chain is a product only when they are all 1 from T_max on"
                )
        elif name not in _MULTIPLIERS:
            raise ValueError(
                f"ChainedScheduler: {name} (schedulers[{i}]) sets the LR instead of "
                "multiplying it, which discards the other schedulers' factors: no product form"
            )
    base = _f(chain[0].base_lrs[g])
    factors = [
        _cosine_lr(c, b) if n == "CosineAnnealingLR" else _MULTIPLIERS[n](c, b)
        for i, (c, n) in enumerate(zip(chain, names, strict=True))
        for b in [base if i == 0 else 1.0]
    ]
    return Product(factors)
