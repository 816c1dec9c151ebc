"""Interleaved, budgeted timing of engines in their worker processes.

A *group* is the cells measured together: every engine on one ``(family, N)`` (plus the fills
at the first family of each ``N``), or the cost-vs-cycles schedules. :meth:`Runner.group`

1. chooses, per cell, how many steps to really measure (the *budget*): an engine whose single
   call at ``N`` would take longer than :attr:`Budget.call_s` (estimated from its per-step time
   at the previous ``N`` of the same family, else from a first call at a small ``N``) is measured
   at the largest ``n`` of the form ``d * 10**k`` that fits, and its time is scaled by ``N / n``
   (the row says ``extrapolated: true`` and ``n_measured``);
2. has every engine's worker prepare its cell (compile, trace, warm up; untimed);
3. runs round 1 of every engine, then round 2 of every engine, ... so that a busy spell of the
   machine hits all engines alike; only one worker computes at a time (the parent waits for each
   answer), and after a round it sleeps :attr:`Budget.settle_s` before the next worker starts;
4. reports per engine the median and the minimum over its rounds (a round is ``reps`` calls back
   to back, so a round of a cheap call lasts about :attr:`Budget.round_s`).

Engines get between :attr:`Budget.min_rounds` and :attr:`Budget.max_rounds` rounds, as many as
fit in :attr:`Budget.cell_s` of timed calls; the rounds of all of them are interleaved while
they last.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from fastlr.bench.schema import timing
from fastlr.bench.timing import median
from fastlr.bench.worker import Pool


@dataclass(frozen=True)
class Budget:
    """How long cells may take."""

    call_s: float = 0.5
    """Most seconds one call may take; above it, fewer steps are measured and extrapolated."""
    slow_call_s: float = 0.25
    """The same for the engines of :attr:`slow` (timed only to show how slow they are)."""
    python_call_s: float = 0.05
    """The same for ``python`` (always extrapolated, from at most ``PYTHON_LOOP_STEPS``)."""
    cell_s: float = 0.2
    """Timed seconds per cell (rounds stop there, or at :attr:`max_rounds`)."""
    round_s: float = 0.005
    """A round repeats a cheap call until it lasts about this long."""
    min_rounds: int = 3
    max_rounds: int = 15
    settle_s: float = 0.002
    """Pause between two rounds, so a worker's spinning threads are idle before the next one."""
    slow: tuple[str, ...] = ("numpy", "tf_graph")

    def cap(self, engine: str) -> float:
        if engine == "python":
            return self.python_call_s
        return self.slow_call_s if engine in self.slow else self.call_s

    def as_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


PROBE_STEPS: dict[str, int] = {"python": 1, "tf_graph": 10**6, "tf_xla": 10**6, "keras_xla": 10**6}
"""Without an estimate, a cell is first timed at ``min(N, PROBE_STEPS.get(engine, 10**4))``
steps: cheap for the engines without a compile step, and for the TF engines the first call at
``N <= 10**6`` doubles as the probe (it costs at most about a second; a separate probe would cost
a compile)."""


@dataclass
class Cell:
    """One engine on one schedule: ``family`` at ``n`` (``cycles`` for the cycle schedules)."""

    engine: str
    family: str | None
    n: int
    cycles: int | None = None
    steps: int = 0
    """Steps really measured (``n_measured``)."""
    info: dict = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    rounds: int = 0
    skipped: str | None = None
    prepare_s: float = 0.0
    """Seconds its worker spent preparing it (compiling, tracing; every attempt)."""
    load: float | None = None
    """Cores other processes used while the group's rounds ran (:class:`LoadMeter`)."""

    @property
    def key(self) -> tuple:
        return (self.family, self.cycles, self.engine)

    @property
    def id(self) -> str:
        return f"{self.engine}|{self.family}|{self.n}|{self.cycles}|{self.steps}"


class LoadMeter:
    """CPU time that *other* processes used (in cores) while this one and its workers measured.

    Busy time of all cores (``/proc/stat``, steal included) minus the CPU time of this process
    and of ``pids``, over the wall time. ``None`` where ``/proc`` is missing.
    """

    def __init__(self, pids: list[int]) -> None:
        self.pids = list(dict.fromkeys([os.getpid(), *pids]))
        self._start: tuple[float, int, int] | None = None

    @staticmethod
    def _busy() -> int:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:9]]
        return sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait

    def _own(self) -> int:
        total = 0
        for pid in self.pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime + stime
            except (OSError, IndexError, ValueError):
                pass
        return total

    def start(self) -> None:
        try:
            self._start = (time.perf_counter(), self._busy(), self._own())
        except OSError:
            self._start = None

    def stop(self) -> float | None:
        if self._start is None:
            return None
        t0, busy0, own0 = self._start
        wall = time.perf_counter() - t0
        foreign = (self._busy() - busy0) - (self._own() - own0)
        return max(0.0, foreign / os.sysconf("SC_CLK_TCK") / wall) if wall > 0 else None


def fit(seconds: float, per_step_s: float, limit: int) -> int:
    """The largest ``d * 10**k <= limit`` (d in 1..9) computed within ``seconds``; at least 1."""
    most = min(limit, int(seconds / per_step_s * (1 + 1e-9)) if per_step_s > 0 else limit)
    if most >= limit:
        return limit
    if most < 1:
        return 1
    scale = 10 ** int(math.log10(most))
    return (most // scale) * scale


class Runner:
    """Runs groups of cells on a :class:`Pool`, remembering each engine's per-step time."""

    def __init__(self, pool: Pool, budget: Budget) -> None:
        self.pool, self.budget = pool, budget
        self.estimates: dict[tuple, float] = {}
        self.order: list[tuple[str, str, Any]] = []
        """``(op, engine, cell id)`` of every request sent, for tests of the interleaving."""

    def _ask(self, cell: Cell, op: str, **extra: Any) -> dict:
        self.order.append((op, cell.engine, cell.id))
        return self.pool.of(cell.engine).request(op=op, id=cell.id, **extra)

    def _prepare(self, cell: Cell, steps: int) -> bool:
        cell.steps = steps
        reply = self._ask(
            cell,
            "prepare",
            engine=cell.engine,
            family=cell.family,
            n=cell.n,
            steps=steps,
            cycles=cell.cycles,
            round_s=self.budget.round_s,
        )
        if not reply["ok"]:
            cell.skipped = reply["unsupported"]
            return False
        cell.prepare_s += reply["prepare_s"]
        cell.info = reply
        return True

    def _release(self, cell: Cell) -> None:
        self._ask(cell, "release")

    def _limit(self, cell: Cell) -> int:
        from fastlr.bench.throughput import PYTHON_LOOP_STEPS

        return min(cell.n, PYTHON_LOOP_STEPS) if cell.engine == "python" else cell.n

    def _setup(self, cell: Cell, capped: bool) -> None:
        """Prepare ``cell`` at the steps its budget allows.

        Starts from the estimate (or a probe), then corrects it with the call it just timed:
        shrinks when that call took over 1.5x the cap, grows (to N, or at least 2x) when the
        estimate came from a probe or from a small N, whose fixed costs make the per-step time
        look larger.
        """
        cap, limit = self.budget.cap(cell.engine), self._limit(cell)
        if not capped:
            self._prepare(cell, limit)
            return
        per_step = self.estimates.get(cell.key)
        if per_step is None:
            steps = min(limit, PROBE_STEPS.get(cell.engine, 10**4))
        else:
            steps = fit(cap, per_step, limit)
        for _ in range(4):
            if not self._prepare(cell, steps):
                return
            call_s = cell.info["call_s"]
            want = fit(cap, call_s / steps, limit)
            if call_s > 1.5 * cap and steps > 1:
                want = min(want, max(steps // 2, 1))
            elif not (want == limit > steps or want >= 2 * steps):
                return
            self._release(cell)
            steps = want
        self._prepare(cell, steps)

    def group(self, cells: list[Cell], *, capped: bool = True) -> list[Cell]:
        """Prepare, then time ``cells`` in interleaved rounds; returns those not skipped.

        ``capped=False`` measures every cell at its full ``n`` (the cost-vs-cycles rows).
        """
        b = self.budget
        for cell in cells:
            self._setup(cell, capped)
        live = [c for c in cells if c.skipped is None]
        for c in live:
            round_time = c.info["reps"] * c.info["call_s"]
            c.rounds = max(b.min_rounds, min(b.max_rounds, int(b.cell_s / max(round_time, 1e-9))))
        meter = LoadMeter([w.pid for w in self.pool.workers.values()])
        meter.start()
        try:
            for k in range(max((c.rounds for c in live), default=0)):
                for c in live:
                    if k < c.rounds:
                        c.times.append(self._ask(c, "round")["s"])
                        if b.settle_s:
                            time.sleep(b.settle_s)
        finally:
            load = meter.stop()
            for c in live:
                self._release(c)
        for c in live:
            c.load = load
            self.estimates[c.key] = median(c.times) / c.steps
        return live

    def row(self, cell: Cell) -> dict:
        """The result row of a measured cell (times scaled to ``n`` steps: ``schema.timing``)."""
        return {
            "engine": cell.engine,
            **timing(
                median(cell.times),
                min(cell.times),
                len(cell.times),
                n=cell.n,
                n_measured=cell.steps,
            ),
            "reps": cell.info["reps"],
            "prepare_s": cell.prepare_s,
            "load": None if cell.load is None else round(cell.load, 3),
        }
