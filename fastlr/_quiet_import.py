"""Importing TensorFlow and Keras without their start-up chatter (the CLI and the benchmarks)."""

from __future__ import annotations

import os
import sys


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras without their start-up chatter.

    TF 2.21 prints absl lines from C++ before its logging is configured, so
    ``TF_CPP_MIN_LOG_LEVEL`` alone does not silence them: file descriptor 2 is pointed at
    ``/dev/null`` for the duration of the import only (errors after it are shown as usual).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras  # noqa: F401
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
