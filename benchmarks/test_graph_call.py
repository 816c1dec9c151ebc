"""What a schedule costs inside compiled TensorFlow code (pytest-benchmark).

One call at a scalar int64 step inside ``tf.function(jit_compile=True)``, the way an optimizer
reads its LR every training step: fastlr vs the Keras built-in of the same name and parameters
(:mod:`fastlr.bench.graph_call` prepares both). A schedule on 10**6 steps at once under XLA is
``test_bulk_throughput.py``'s ``tf_xla`` and ``keras_xla`` engines (Keras's ``CosineDecay`` with
warmup has no ``keras_xla`` row: it uses ``cond``).

Run: ``pytest benchmarks/test_graph_call.py`` (timings) or with ``--benchmark-disable`` (smoke).
"""

from __future__ import annotations

import pytest

from fastlr.bench import graph_call as gc


@pytest.mark.parametrize("name", sorted(gc.PAIRS))
@pytest.mark.parametrize("impl", gc.IMPLS)
def test_scalar_step_xla(benchmark, record, name, impl):
    benchmark.group = f"xla scalar call: {name}"
    benchmark(gc.prepare(name, impl))
    stats = record.stats()
    record.add("graph_call", stats and gc.row(name, impl, **stats))
