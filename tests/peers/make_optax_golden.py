"""Generate ``optax_golden.json``: optax's own schedules, per step, in float64.

Not a test: optax is not a fastlr dependency. Run it by hand in an environment with optax and JAX
(the checked-in file was made with optax 0.2.8 and JAX 0.10.2, ``jax_enable_x64`` on) to refresh
the fixture::

    python tests/peers/make_optax_golden.py

Each case records the optax call (``fn`` and ``kwargs``), ``values[i]`` = the schedule at count
``i`` for ``i`` from 0 past its last phase, and ``far``: ``{count: value}`` at large counts.
``tests/test_optax.py`` compares the fastlr spelling of each (in ``docs/migrating.md``) with them.
"""

from __future__ import annotations

import json
import pathlib
import sys

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

OUT = pathlib.Path(__file__).with_name("optax_golden.json")
FAR = [2**24 - 1, 2**24, 2**31 + 7, 10**12 + 1, 2**53 - 1]

CASES = [
    ("constant_schedule", dict(value=0.1), 20),
    (
        "polynomial_schedule",
        dict(init_value=0.1, end_value=0.001, power=2.0, transition_steps=50),
        80,
    ),
    (
        "polynomial_schedule",
        dict(init_value=0.1, end_value=0.01, power=0.5, transition_steps=40, transition_begin=15),
        80,
    ),
    ("linear_schedule", dict(init_value=0.0, end_value=0.1, transition_steps=30), 50),
    (
        "piecewise_constant_schedule",
        dict(init_value=0.1, boundaries_and_scales={10: 0.5, 25: 0.1}),
        40,
    ),
    ("exponential_decay", dict(init_value=0.1, transition_steps=10, decay_rate=0.5), 60),
    (
        "exponential_decay",
        dict(
            init_value=0.1, transition_steps=7, decay_rate=0.9, transition_begin=20, staircase=True
        ),
        90,
    ),
    (
        "warmup_cosine_decay_schedule",
        dict(init_value=0.0, peak_value=0.1, warmup_steps=10, decay_steps=100, end_value=0.001),
        130,
    ),
    ("warmup_constant_schedule", dict(init_value=0.01, peak_value=0.1, warmup_steps=12), 30),
    (
        "warmup_exponential_decay_schedule",
        dict(
            init_value=0.0,
            peak_value=0.1,
            warmup_steps=5,
            transition_steps=10,
            decay_rate=0.5,
            transition_begin=3,
        ),
        80,
    ),
    (
        "cosine_decay_schedule",
        dict(init_value=0.1, decay_steps=50, alpha=0.01, exponent=2.0),
        70,
    ),
    ("cosine_decay_schedule", dict(init_value=0.1, decay_steps=40, exponent=0.5), 60),
    ("cosine_decay_schedule", dict(init_value=0.2, decay_steps=30, alpha=0.1), 45),
    (
        "warmup_cosine_decay_schedule",
        dict(
            init_value=0.01,
            peak_value=0.1,
            warmup_steps=8,
            decay_steps=60,
            end_value=0.002,
            exponent=3.0,
        ),
        80,
    ),
    (
        "exponential_decay",
        dict(init_value=0.1, transition_steps=10, decay_rate=0.5, end_value=0.01),
        60,
    ),
    (
        "exponential_decay",
        dict(
            init_value=0.1,
            transition_steps=7,
            decay_rate=0.7,
            transition_begin=12,
            staircase=True,
            end_value=0.02,
        ),
        70,
    ),
    (
        "exponential_decay",
        dict(init_value=0.01, transition_steps=10, decay_rate=1.5, end_value=0.05),
        60,
    ),
    (
        "exponential_decay",
        dict(
            init_value=0.01,
            transition_steps=6,
            decay_rate=2.0,
            transition_begin=4,
            staircase=True,
            end_value=0.05,
        ),
        40,
    ),
    (
        "exponential_decay",
        dict(
            init_value=0.01, transition_steps=9, decay_rate=3.0, transition_begin=5, end_value=0.2
        ),
        50,
    ),
    (
        "warmup_exponential_decay_schedule",
        dict(
            init_value=0.0,
            peak_value=0.1,
            warmup_steps=5,
            transition_steps=10,
            decay_rate=0.5,
            end_value=0.005,
        ),
        80,
    ),
    (
        "piecewise_interpolate_schedule",
        dict(interpolate_type="linear", init_value=1.0, boundaries_and_scales={4: 0.1, 8: 0.01}),
        15,
    ),
    (
        "piecewise_interpolate_schedule",
        dict(
            interpolate_type="cosine",
            init_value=0.05,
            boundaries_and_scales={25: 0.5, 10: 2.0, 40: 0.0},
        ),
        50,
    ),
    (
        "piecewise_interpolate_schedule",
        dict(interpolate_type="linear", init_value=0.1, boundaries_and_scales={0: 3.0, 12: 0.25}),
        20,
    ),
    (
        "piecewise_interpolate_schedule",
        dict(interpolate_type="cosine", init_value=0.1, boundaries_and_scales={}),
        5,
    ),
    ("linear_onecycle_schedule", dict(transition_steps=1000, peak_value=0.1), 1010),
    (
        "linear_onecycle_schedule",
        dict(
            transition_steps=37,
            peak_value=1.0,
            pct_start=0.25,
            pct_final=0.6,
            div_factor=10.0,
            final_div_factor=100.0,
        ),
        50,
    ),
    ("cosine_onecycle_schedule", dict(transition_steps=1000, peak_value=0.1), 1010),
    (
        "cosine_onecycle_schedule",
        dict(
            transition_steps=37,
            peak_value=0.5,
            pct_start=0.4,
            div_factor=5.0,
            final_div_factor=50.0,
        ),
        50,
    ),
    (
        "sgdr_schedule",
        dict(
            cosine_kwargs=[
                dict(
                    init_value=0.0, peak_value=0.1, warmup_steps=5, decay_steps=30, end_value=0.01
                ),
                dict(
                    init_value=0.01, peak_value=0.05, warmup_steps=3, decay_steps=20, end_value=0.0
                ),
            ]
        ),
        70,
    ),
]


def _run(fn: str, kwargs: dict, n: int) -> dict:
    schedule = getattr(optax, fn)(**kwargs)
    counts = jnp.arange(n, dtype=jnp.int64)
    values = [float(x) for x in jax.vmap(schedule)(counts)]
    far = {str(c): float(schedule(jnp.int64(c))) for c in FAR}
    jsonable = json.loads(json.dumps(kwargs, default=str))
    return {"fn": fn, "kwargs": jsonable, "values": values, "far": far}


def main() -> None:
    data = {
        "generator": "tests/peers/make_optax_golden.py",
        "optax_version": optax.__version__,
        "jax_version": jax.__version__,
        "python_version": sys.version.split()[0],
        "cases": [_run(*c) for c in CASES],
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT} ({len(data['cases'])} cases)")


if __name__ == "__main__":
    main()
