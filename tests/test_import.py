"""``import fastlr`` stays light; schedules become Keras schedules whenever Keras is imported."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
from conftest import run_fresh_python
from specs import EXAMPLES


def _run(script: str, *args: str) -> object:
    """The JSON a dedented ``script`` printed after ``RESULT`` in a fresh interpreter."""
    return run_fresh_python(textwrap.dedent(script), *args)


LIGHT = """
    import json, pickle, sys

    import fastlr

    examples = json.loads(sys.argv[1])


    def build(value):
        # EXAMPLES' child references ("Name", index) arrive as JSON lists: build them here.
        if (
            isinstance(value, list)
            and len(value) == 2
            and isinstance(value[0], str)
            and value[0] in examples
            and isinstance(value[1], int)
        ):
            name, i = value
            return getattr(fastlr, name)(**{k: build(x) for k, x in examples[name][i].items()})
        if isinstance(value, list):
            return [build(x) for x in value]
        return value


    def heavy_modules():
        return sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))


    built = [build([name, i]) for name, kws in examples.items() for i in range(len(kws))]
    heavy_after_building = sorted(
        m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "numba")
    )
    n = 0
    first = None
    schedules = []
    for name, kws in examples.items():
        cls = getattr(fastlr, name)
        for i in range(len(kws)):
            s = cls(**{k: build(x) for k, x in kws[i].items()})
            assert s == built[n], (s, built[n])
            first = first or s
            v = s.evaluate([0, 1, 10, 99, 2**31 + 7])
            assert v.dtype.name == "float32" and v.shape == (5,), v
            v64 = fastlr.evaluate(s, range(0, 100, 7), dtype="float64")
            assert v64.dtype.name == "float64" and len(v64) == 15
            assert pickle.loads(pickle.dumps(s)) == s
            repr(s)
            schedules.append(s)
            n += 1

    from fastlr.schedules import _base

    heavy = heavy_modules()
    bases = [c.__module__ + "." + c.__name__ for c in _base.Schedule.__bases__]
    isinstance_root = isinstance(first, _base._Root)

    # Config round trips last (plain schedules first), each phase's heavy imports recorded.
    heavy_after_configs = {}
    for composite in (False, True):
        for s in schedules:
            if bool(s.children()) == composite:
                assert type(s).from_config(s.get_config()) == s
        heavy_after_configs["composites" if composite else "plain"] = heavy_modules()[:5]

    print("RESULT" + json.dumps({
        "n": n,
        "built": len(built),
        "heavy_after_building": heavy_after_building,
        "heavy": heavy,
        "numba_loaded_by_evaluate": "numba" in sys.modules,
        "bases": bases,
        "isinstance_root": isinstance_root,
        "heavy_after_configs": heavy_after_configs,
    }))
"""


@pytest.fixture(scope="module")
def light_result() -> dict:
    """The LIGHT script run once on every EXAMPLES entry (composites built from references)."""
    return _run(LIGHT, json.dumps(EXAMPLES))


def test_import_is_light_and_schedules_work_without_tensorflow(light_result):
    result = light_result
    assert result["n"] == result["built"] == sum(len(v) for v in EXAMPLES.values())
    # Building schedules loads nothing heavy; bulk evaluation loads Numba (its engine), never TF.
    assert result["heavy_after_building"] == []
    assert result["heavy"] == []
    assert result["numba_loaded_by_evaluate"] is True
    assert result["bases"] == ["fastlr.schedules._base._Root"]
    assert result["isinstance_root"] is True


def test_config_round_trips_stay_light(light_result):
    """``get_config`` / ``from_config`` of plain schedules load neither Keras nor TensorFlow.

    A composite's config nests its children through Keras's own ``serialize_keras_object`` (the
    format ``.keras`` files need, as the composition issue requires), so it loads Keras by design.
    """
    assert light_result["heavy_after_configs"]["plain"] == []
    assert any(m.startswith("keras") for m in light_result["heavy_after_configs"]["composites"])


def test_plain_import_does_not_load_schedules_or_heavy_modules():
    out = _run(
        """
        import json, sys
        import fastlr
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in
                        ("tensorflow", "keras", "numba"))
        print("RESULT", json.dumps([loaded, "fastlr.engines.graph" in sys.modules]))
        """
    )
    assert out == [[], False]


CHECK_KERAS = """
    import keras
    import fastlr
    from fastlr.schedules import REGISTRY

    s = fastlr.WarmupCosineDecay(0.1, 10)
    assert isinstance(s, keras.optimizers.schedules.LearningRateSchedule)
    assert keras.saving.get_registered_object("fastlr>WarmupCosineDecay") is type(s)
    assert keras.saving.get_registered_name(type(s)) == "fastlr>WarmupCosineDecay"
    for name, cls in REGISTRY.items():
        assert keras.saving.get_registered_object("fastlr>" + name) is cls, name
        assert issubclass(cls, keras.optimizers.schedules.LearningRateSchedule), name
    blob = keras.optimizers.schedules.serialize(s)
    assert blob["registered_name"] == "fastlr>WarmupCosineDecay", blob
    assert keras.optimizers.schedules.deserialize(blob) == s
    opt = keras.optimizers.SGD(learning_rate=s)
    assert opt._learning_rate is s
    print("RESULT", float(opt.learning_rate))
"""

ORDERS = {
    # fastlr first (the import hook attaches on `import keras`); an instance built before Keras
    # was imported must follow its class.
    "fastlr-before-keras": """
        import sys
        import fastlr
        early = fastlr.WarmupCosineDecay(0.1, 10)
        assert "keras" not in sys.modules and "tensorflow" not in sys.modules
        import keras
        assert isinstance(early, keras.optimizers.schedules.LearningRateSchedule)
        """,
    # fastlr first, Keras reached through TensorFlow.
    "fastlr-before-tf-keras": """
        import sys
        import fastlr
        early = fastlr.CosineDecay(0.1, 10)
        assert "keras" not in sys.modules
        import tensorflow as tf
        assert isinstance(early, tf.keras.optimizers.schedules.LearningRateSchedule)
        """,
    # Keras first: `import fastlr` attaches right away.
    "fastlr-after-keras": """
        import keras
        import fastlr
        """,
}


@pytest.mark.parametrize("order", list(ORDERS))
def test_keras_attachment_in_any_import_order(order):
    lr = _run(textwrap.dedent(ORDERS[order]) + textwrap.dedent(CHECK_KERAS))
    assert lr == float(np.float32(0.1))  # the float32 LR of step 0
