"""Benchmark setup: quiet TensorFlow, a private Numba cache."""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="fastlr-bench-cache-"))
