"""Preflight checks: ``dry_run`` a schedule against the planned run before training starts.

A schedule is a pure function of the step, so the whole run can be inspected up front: which of
its phases the run reaches (:meth:`fastlr.Schedule.phases`), where it reaches its floor, and
what the optimizer will do with it. Problems found here would otherwise show up hours into
training, or never.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fastlr import _validate as v

DIVIDES_BY_LR = ("Ftrl",)
"""Keras optimizers whose update divides by the learning rate (an LR of 0 makes it NaN/inf)."""

FULL_EVALUATION = 10**7
"""Runs up to this many steps are evaluated at every step; longer ones are sampled."""


@dataclass(frozen=True)
class DryRun:
    """What :func:`dry_run` found: the run's LR summary, its phases, problems and notes."""

    schedule: Any
    total_steps: int
    first_lr: float
    max_lr: float
    max_step: int
    last_lr: float
    min_lr: float
    phases: dict[str, tuple[int, bool]]
    """Phase name -> (first step, reached by the run)."""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problems found (notes are informational)."""
        return not self.problems

    def raise_if_problems(self) -> None:
        """Raise ``ValueError`` listing every problem, if there is any."""
        if self.problems:
            raise ValueError(
                f"dry run of {self.schedule!r} over {self.total_steps} steps found "
                f"{len(self.problems)} problem(s):\n" + "\n".join(f"- {p}" for p in self.problems)
            )

    def __str__(self) -> str:
        lines = [
            f"{self.schedule!r} over {self.total_steps:,} steps (0 .. {self.total_steps - 1:,}):",
            f"  lr at step 0 {self.first_lr:.6g}, max {self.max_lr:.6g} (step {self.max_step:,}), "
            f"min {self.min_lr:.6g}, at the last step {self.last_lr:.6g}",
        ]
        for name, (start, reached) in self.phases.items():
            lines.append(f"  phase {name!r} from step {start:,}: {'reached' if reached else 'NOT'}")
        lines += [f"  problem: {p}" for p in self.problems]
        lines += [f"  note: {n}" for n in self.notes]
        if self.ok:
            lines.append("  no problems found")
        return "\n".join(lines)


def _total(total_steps: Any, epochs: Any, steps_per_epoch: Any) -> int:
    if total_steps is not None:
        if epochs is not None or steps_per_epoch is not None:
            raise ValueError(
                "Give either `total_steps` or `epochs` and `steps_per_epoch`, not both. "
                f"Received: total_steps={total_steps!r}, epochs={epochs!r}, "
                f"steps_per_epoch={steps_per_epoch!r}"
            )
        return v.integer("total_steps", total_steps, gt=0)
    if epochs is None or steps_per_epoch is None:
        raise ValueError(
            "Give `total_steps`, or both `epochs` and `steps_per_epoch`. "
            f"Received: epochs={epochs!r}, steps_per_epoch={steps_per_epoch!r}"
        )
    return v.integer("epochs", epochs, gt=0) * v.integer("steps_per_epoch", steps_per_epoch, gt=0)


OPTIMIZER_NAMES = (
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "Lamb",
    "Lion",
    "Muon",
    "Nadam",
    "RMSprop",
    "SGD",
)
"""The Keras optimizers ``dry_run(optimizer=...)`` takes by name (any case, as Keras's
``optimizers.get`` does)."""


def _optimizer_name(optimizer: Any) -> str | None:
    """The optimizer's class name; a string must name a Keras optimizer, an object or class
    must be a Keras optimizer (checked at the call, naming ``optimizer``)."""
    if optimizer is None:
        return None
    if isinstance(optimizer, str):
        by_lower = {n.lower(): n for n in OPTIMIZER_NAMES}
        if optimizer.lower() not in by_lower:
            v.fail(
                "optimizer",
                "must be a Keras optimizer (an instance or class) or one of the names "
                + ", ".join(repr(n) for n in OPTIMIZER_NAMES),
                optimizer,
            )
        return by_lower[optimizer.lower()]
    import sys

    keras = sys.modules.get("keras")
    base = None if keras is None else keras.optimizers.Optimizer
    is_optimizer = base is not None and (
        issubclass(optimizer, base) if isinstance(optimizer, type) else isinstance(optimizer, base)
    )
    if not is_optimizer:
        v.fail(
            "optimizer",
            "must be a Keras optimizer (an instance or class), an optimizer name or None",
            optimizer,
            TypeError,
        )
    cls = optimizer if isinstance(optimizer, type) else type(optimizer)
    inner = getattr(optimizer, "inner_optimizer", None)  # LossScaleOptimizer wraps another
    return _optimizer_name(inner) if inner is not None else cls.__name__


def _curve(schedule: Any, total: int, phases: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Steps and float64 LRs: every step of short runs; long runs sampled, phase edges kept."""
    if total <= FULL_EVALUATION:
        steps = np.arange(total, dtype=np.int64)
    else:
        grid = np.linspace(0, total - 1, 10**6).astype(np.int64)
        edges = [p + d for p in phases.values() for d in (-1, 0, 1) if 0 <= p + d < total]
        steps = np.unique(np.concatenate([grid, np.asarray(edges, dtype=np.int64)]))
    from fastlr.bulk import evaluate

    return steps, evaluate(schedule, steps, dtype="float64")


def dry_run(
    schedule: Any,
    total_steps: int | None = None,
    *,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    optimizer: Any = None,
    floor_fraction: float = 0.25,
) -> DryRun | dict[str, DryRun]:
    """Check ``schedule`` against a planned run of ``total_steps`` optimizer steps.

    ``schedule`` may also be a Keras optimizer whose learning rate is a fastlr schedule (or a
    float): its schedule is checked with it as the optimizer. A ``MultiOptimizer`` (e.g.
    :func:`fastlr.discriminative`) is checked group by group: ``{group name: DryRun}``.

    Problems reported:

    * a phase that starts after the run's last step (warmup longer than the run, a decay that
      never starts or never ends, a restart or second cycle never reached);
    * the LR reaching its floor (its lowest value after the peak, held to the end) with more
      than ``floor_fraction`` of the run left;
    * an LR of 0 (at step 0 or later) with an optimizer that divides by it (:data:`DIVIDES_BY_LR`);
    * a Keras optimizer (instance) with ``gradient_accumulation_steps=k``: Keras evaluates the
      schedule at its micro-batch count, k times too fast (``fastlr.optimizers`` do not);
    * a non-finite or negative LR.

    Notes (not problems): an LR of 0 at step 0 (that step trains nothing).

    Args:
        schedule: a fastlr schedule.
        total_steps: optimizer steps the run will take; or give ``epochs`` and
            ``steps_per_epoch``.
        epochs: planned epochs.
        steps_per_epoch: optimizer steps per epoch.
        optimizer: the optimizer (instance, class or name) that will use the schedule.
        floor_fraction: the share of the run allowed at the floor before it is a problem.

    Returns:
        A :class:`DryRun`; ``print`` it, check ``.ok`` or call ``.raise_if_problems()``.

    Example:
        >>> import fastlr
        >>> s = fastlr.WarmupCosineDecay(0.1, total_steps=10_000, warmup_steps=500)
        >>> fastlr.dry_run(s, epochs=10, steps_per_epoch=1_000).ok
        True
        >>> report = fastlr.dry_run(s, total_steps=400)
        >>> for problem in report.problems:
        ...     print(problem)
        warmup longer than the run: the LR peaks at step 500, but the run stops at step 399 \
(lr 0.0798, 80% of the peak 0.1)
        the schedule ends at step 10000, after the run's last step 399: the LR stops at 0.0798 \
instead of its final 0
    """
    from fastlr.schedules import Schedule

    groups = _groups(schedule)
    if groups is not None:
        reports = {
            name: dry_run(
                lr,
                total_steps,
                epochs=epochs,
                steps_per_epoch=steps_per_epoch,
                optimizer=owner,
                floor_fraction=floor_fraction,
            )
            for name, lr, owner in groups
        }
        return reports if len(reports) > 1 or _is_multi(schedule) else next(iter(reports.values()))
    if not isinstance(schedule, Schedule):
        raise TypeError(
            "Argument `schedule` must be a fastlr schedule. "
            f"Received: schedule of type {type(schedule).__name__}"
        )
    total = _total(total_steps, epochs, steps_per_epoch)
    floor_fraction = v.real("floor_fraction", floor_fraction, ge=0, le=1)
    optimizer_name = _optimizer_name(optimizer)  # checked before any work
    phases = schedule.phases()
    steps, lr = _curve(schedule, total, phases)
    problems: list[str] = []
    notes: list[str] = []
    last = total - 1

    bad = ~np.isfinite(lr) | (lr < 0)
    if bad.any():
        k = int(steps[np.argmax(bad)])
        problems.append(f"the LR is {lr[np.argmax(bad)]!r} at step {k}: not a usable rate")

    span = float(lr.max() - lr.min())
    for name, start in phases.items():
        if start <= last:
            continue
        at_end = float(lr[-1])
        if name in ("peak", "end"):
            # Reaching a value the step after the run (total_steps = the schedule's length) or
            # within 1% of the LR's range is as intended; further away, the run stops short.
            target = float(schedule.evaluate([start], dtype="float64")[0])
            if abs(at_end - target) <= 0.01 * span:
                continue
        if name == "peak":
            share = f", {at_end / target:.0%} of the peak {target:.6g}" if target > 0 else ""
            problems.append(
                f"warmup longer than the run: the LR peaks at step {start}, but the run stops "
                f"at step {last} (lr {at_end:.6g}{share})"
            )
        elif name == "end":
            problems.append(
                f"the schedule ends at step {start}, after the run's last step {last}: the LR "
                f"stops at {at_end:.6g} instead of its final {target:.6g}"
            )
        else:
            problems.append(
                f"phase {name!r} starts at step {start}, after the run's last step {last}: "
                "never reached"
            )

    changes = np.flatnonzero(np.abs(lr - lr[-1]) > 1e-12 * max(abs(float(lr[-1])), 1e-300))
    top = int(np.argmax(lr))
    # A floor: the held final value is the lowest after the peak (a warmup may start lower).
    if changes.size and float(lr[-1]) <= float(lr[top:].min()):
        floor_from = int(steps[changes[-1] + 1]) if changes[-1] + 1 < steps.size else total
        share = (total - floor_from) / total
        if share > floor_fraction:
            problems.append(
                f"the LR reaches its floor {float(lr[-1]):.6g} at step {floor_from} and stays "
                f"there for the last {share:.0%} of the run ({total - floor_from} steps)"
            )

    name = optimizer_name
    zero = lr == 0.0
    if zero.any():
        k = int(steps[np.argmax(zero)])
        if name is not None and name.lower() in {d.lower() for d in DIVIDES_BY_LR}:
            problems.append(
                f"the LR is 0 at step {k} and {name} divides by the learning rate: its update "
                "becomes NaN or inf"
            )
        elif k == 0:
            notes.append("the LR is 0 at step 0: the first step trains nothing")

    accumulation = _accumulation_problem(optimizer, name)
    if accumulation:
        problems.append(accumulation)

    return DryRun(
        schedule=schedule,
        total_steps=total,
        first_lr=float(lr[0]),
        max_lr=float(lr[top]),
        max_step=int(steps[top]),
        last_lr=float(lr[-1]),
        min_lr=float(lr.min()),
        phases={k: (p, p <= last) for k, p in phases.items()},
        problems=problems,
        notes=notes,
    )


def _is_multi(optimizer: Any) -> bool:
    return isinstance(getattr(optimizer, "optimizers", None), (list, tuple))


def _groups(optimizer: Any) -> list[tuple[str, Any, Any]] | None:
    """``(name, fastlr schedule, optimizer)`` per group of a Keras optimizer; None otherwise."""
    import sys

    keras = sys.modules.get("keras")
    if keras is None or not isinstance(optimizer, keras.optimizers.Optimizer):
        return None
    from fastlr._optimizer_lr import groups_of, lr_owner
    from fastlr.plateau import ScaledLearningRate
    from fastlr.schedules import Constant, Schedule

    out = []
    for owner in groups_of(optimizer) or [lr_owner(optimizer)]:
        lr = owner._learning_rate
        if isinstance(lr, ScaledLearningRate):
            lr = lr.schedule
        if not isinstance(lr, (Schedule, keras.optimizers.schedules.LearningRateSchedule)):
            lr = Constant(float(keras.ops.convert_to_numpy(lr)))  # a float LR
        if not isinstance(lr, Schedule):
            raise TypeError(
                f"dry_run needs fastlr schedules; optimizer {owner.name} has "
                f"{type(lr).__name__}: use the fastlr drop-in of the same name."
            )
        out.append((owner.name, lr, owner))
    return out


def _accumulation_problem(optimizer: Any, name: str | None) -> str | None:
    """The schedule runs k times too fast under a Keras optimizer that accumulates gradients."""
    import sys

    keras = sys.modules.get("keras")
    if keras is None or not isinstance(optimizer, keras.optimizers.Optimizer):
        return None
    k = getattr(optimizer, "gradient_accumulation_steps", None)
    if not k or k < 2:
        return None
    from fastlr import optimizers

    if isinstance(optimizer, optimizers._Scheduled):
        return None
    instead = (
        f"fastlr.optimizers.{name}" if name in optimizers.__all__ else "a fastlr.optimizers class"
    )
    return (
        f"{name} has gradient_accumulation_steps={k}: Keras evaluates the schedule at its "
        f"micro-batch count, so it runs {k}x too fast (optimizer step n gets the LR of step "
        f"{k}n + {k - 1}); use {instead}, which evaluates it at the optimizer step"
    )
