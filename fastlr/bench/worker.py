"""Worker processes: each engine kind is timed in its own long-lived Python process.

TensorFlow starts thread pools that stay behind after its calls; in the process that ran it they
take cores from the next engine (a 2-thread Numba kernel at 10**6 steps: ~0.6 ms alone, ~8 ms
after TF ran). So ``fastlr bench`` starts one worker per kind of :data:`KINDS` with
``python -m fastlr.bench.worker KIND``; the ``numba`` and ``numpy`` workers never import
TensorFlow (``info`` reports what each has loaded), the ``tf`` worker runs with
``TF_CPP_MIN_LOG_LEVEL=3``. The parent (:mod:`fastlr.bench.interleave`) waits for each reply, so
only one worker computes at a time.

Protocol: one JSON object per line; the worker answers each request with one line (its stdout is
the channel: anything a library prints goes to its stderr, a log file the parent reads on errors).

* ``{"op": "prepare", "id", "engine", "family", "n", "steps", "cycles", "round_s"}``: build the
  schedule ``families(n)[family]`` (or ``cycle_schedules(n)[family, cycles]``; none for the
  fills), prepare ``engine`` on its first ``steps`` steps (compile, trace, warm up), time one
  call and choose ``reps``, the calls per round (a round lasts about ``round_s``) ->
  ``{"ok", "call_s", "reps", "prepare_s"}``, or ``{"ok": false, "unsupported": why}``;
* ``{"op": "round", "id"}``: ``reps`` calls back to back -> ``{"ok", "s"}``, seconds per call;
* ``{"op": "release", "id"}``; ``{"op": "info"}`` -> pid, kind, engines, heavy modules loaded;
* ``{"op": "exit"}``. A failure answers ``{"ok": false, "error": traceback}``.
"""

from __future__ import annotations

import gc
import json
import math
import os
import select
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import IO, Any

from fastlr.bench.throughput import WORKER_OF, NotCovered

KINDS: dict[str, tuple[str, ...]] = {
    kind: tuple(e for e, k in WORKER_OF.items() if k == kind)
    for kind in dict.fromkeys(WORKER_OF.values())
}
"""Worker kind -> the engines it runs."""

MODULES = ("tensorflow", "keras", "numba")
"""Heavy modules a worker reports as loaded or not (``info``)."""

MAX_REPS = 10_000
WARM_CALL_S = 0.05
"""Rounds of calls faster than this start with one untimed call (see ``_State.round``)."""


def environment(kind: str) -> dict[str, str]:
    """The child's environment: this one, fastlr importable, TensorFlow quiet in ``tf``."""
    env = dict(os.environ)
    root = Path(__file__).resolve().parents[2]
    if not {"site-packages", "dist-packages"} & set(root.parts):  # a checkout: the child needs it
        env["PYTHONPATH"] = os.pathsep.join(x for x in (str(root), env.get("PYTHONPATH")) if x)
    if kind == "tf":
        env["TF_CPP_MIN_LOG_LEVEL"] = "3"
        env.setdefault("KERAS_BACKEND", "tensorflow")
    return env


class Worker:
    """Parent side of one worker process (started at once; imports run while others work)."""

    def __init__(self, kind: str, *, timeout_s: float = 1800.0) -> None:
        if kind not in KINDS:
            raise ValueError(f"Argument `kind` must be one of {list(KINDS)}. Received: {kind!r}")
        self.kind, self.timeout_s = kind, timeout_s
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fastlr.bench.worker", kind],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=environment(kind),
            text=True,
            bufsize=1,
        )
        self._ready = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self) -> None:
        """Wait until the worker has imported what it needs (it says so once)."""
        if not self._ready:
            self._read()
            self._ready = True

    def request(self, **msg: Any) -> dict:
        """Send one request, wait for its answer; a worker failure raises RuntimeError."""
        self.wait_ready()
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(msg) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            self._fail("exited")
        reply = self._read()
        if not reply["ok"] and "error" in reply:
            raise RuntimeError(f"bench worker {self.kind!r} failed on {msg}:\n{reply['error']}")
        return reply

    def _read(self) -> dict:
        out = self.proc.stdout
        assert out is not None
        if os.name == "posix":
            ready, _, _ = select.select([out], [], [], self.timeout_s)
            if not ready:
                self.proc.kill()
                self._fail(f"did not answer within {self.timeout_s:.0f} s")
        line = out.readline()
        if not line:
            self._fail(f"exited with code {self.proc.wait()}")
        return json.loads(line)

    def _fail(self, what: str) -> None:
        self._log.seek(0)
        tail = self._log.read()[-3000:].decode(errors="replace")
        raise RuntimeError(
            f"bench worker {self.kind!r} (pid {self.pid}) {what}; its stderr:\n{tail}"
        )

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                if self._ready:
                    self.request(op="exit")
                self.proc.stdin.close()  # type: ignore[union-attr]
                self.proc.wait(timeout=30)
            except (OSError, RuntimeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self._log):
            if stream is not None:
                stream.close()


class Pool:
    """One :class:`Worker` per kind, started on demand; a context manager that ends them."""

    def __init__(self) -> None:
        self.workers: dict[str, Worker] = {}

    def start(self, engines: list[str] | tuple[str, ...]) -> None:
        """Start the workers these engines need, together, and wait until all are ready: no
        worker is still importing (and taking cores) while another one is timed."""
        for engine in engines:
            kind = WORKER_OF[engine]
            if kind not in self.workers:
                self.workers[kind] = Worker(kind)
        for worker in self.workers.values():
            worker.wait_ready()

    def of(self, engine: str) -> Worker:
        self.start([engine])
        return self.workers[WORKER_OF[engine]]

    def describe(self) -> dict[str, dict]:
        """Per kind: pid, engines, and which heavy modules the process has loaded."""
        return {kind: w.request(op="info")["info"] for kind, w in self.workers.items()}

    def close(self) -> None:
        for worker in self.workers.values():
            worker.close()
        self.workers.clear()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------- the child side


class _State:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.cells: dict[str, tuple[Any, int, int, float]] = {}
        self.buffer: Any = None

    def out(self, steps: int, engine: str) -> Any:
        """A slice of one faulted-in float32 buffer, shared by every cell of this worker."""
        import numpy as np

        from fastlr.bench import throughput as tp

        if engine not in ("fastlr", "numpy", *tp.FILLS):
            return np.empty(steps, dtype=np.float32)  # the engine only reads its size
        if self.buffer is None or self.buffer.size < steps:
            self.buffer = None
            self.buffer = tp.buffer(steps)
        return self.buffer[:steps]

    def prepare(self, msg: dict) -> dict:
        from fastlr.bench import throughput as tp

        engine = msg["engine"]
        if engine not in KINDS[self.kind]:
            raise ValueError(f"worker {self.kind!r} does not run engine {engine!r}")
        family, n, steps = msg["family"], msg["n"], msg["steps"]
        if engine in tp.FILLS:
            schedule = None
        elif msg.get("cycles") is not None:
            schedule = tp.cycle_schedules(n)[family, msg["cycles"]]
        else:
            schedule = tp.families(n)[family]
        t0 = time.perf_counter()
        fn = tp.prepare(engine, schedule, self.out(steps, engine))
        prepare_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        fn()
        call_s = time.perf_counter() - t0
        round_s = msg["round_s"]
        # The first call may pay for cold threads and caches, or load or compile a kernel (a
        # 10**6 call once took 5 ms, then 0.3 ms): a slow first call is timed once more, and a
        # fast one is estimated warm from a few calls back to back before choosing the reps, or
        # a round of one call would time the wake-up, not the work.
        if call_s >= 4 * round_s:
            t0 = time.perf_counter()
            fn()
            call_s = time.perf_counter() - t0
        if call_s < 4 * round_s:
            k = max(3, min(MAX_REPS, math.ceil(round_s / 10 / max(call_s, 1e-8))))
            t0 = time.perf_counter()
            for _ in range(k):
                fn()
            call_s = (time.perf_counter() - t0) / k
        reps = max(1, min(MAX_REPS, math.ceil(round_s / max(call_s, 1e-8))))
        self.cells[msg["id"]] = (fn, reps, steps, call_s)
        return {"call_s": call_s, "reps": reps, "prepare_s": prepare_s}

    def release(self, cell_id: str) -> None:
        _, _, steps, _ = self.cells.pop(cell_id, (None, 0, 0, 0.0))
        if steps >= 10**7:  # a traced TF function and its graph: free their memory now
            gc.collect()

    def round(self, msg: dict) -> dict:
        fn, reps, _, call_s = self.cells[msg["id"]]
        # One untimed call first: the previous round was another worker's, whose threads may
        # still spin for a few milliseconds, and this worker's threads were parked; a round of
        # sub-millisecond calls would time that hand-over, not the work. (Slow calls, where it
        # does not matter, are not doubled.)
        if call_s < WARM_CALL_S:
            fn()
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        return {"s": (time.perf_counter() - t0) / reps}

    def info(self) -> dict:
        modules = {m: m in sys.modules for m in MODULES}
        return {"pid": os.getpid(), "kind": self.kind, "engines": list(KINDS[self.kind]), **modules}


def _serve(kind: str, channel: IO[str]) -> None:
    state = _State(kind)

    def send(reply: dict) -> None:
        channel.write(json.dumps(reply) + "\n")
        channel.flush()

    if kind == "tf":  # pay the imports before the first request, not inside it
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
    import fastlr.bench.throughput  # noqa: F401

    send({"ok": True, "ready": os.getpid()})
    for line in sys.stdin:
        msg = json.loads(line)
        op = msg.get("op")
        try:
            if op == "prepare":
                reply = state.prepare(msg)
            elif op == "round":
                reply = state.round(msg)
            elif op == "release":
                state.release(msg["id"])
                reply = {}
            elif op == "info":
                reply = {"info": state.info()}
            elif op == "exit":
                send({"ok": True})
                return
            else:
                raise ValueError(f"unknown op {op!r}")
            send({"ok": True, **reply})
        except NotCovered as err:
            send({"ok": False, "unsupported": str(err)})
        except Exception:
            send({"ok": False, "error": traceback.format_exc()})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in KINDS:
        print(f"usage: python -m fastlr.bench.worker {{{','.join(KINDS)}}}", file=sys.stderr)
        return 2
    if args[0] == "tf":
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    # the protocol keeps the real stdout; whatever else writes to fd 1 lands in stderr
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    _serve(args[0], channel)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
