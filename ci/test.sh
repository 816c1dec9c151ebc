#!/usr/bin/env bash
# Install the project with its test extras, lint, then run the README's test command.
# pytest's exit code 5 (no tests collected) fails the run like any other failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=3 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
start=$(date +%s)
last=""
stage() {  # print the time the previous stage took, then the next stage's name
  local now
  now=$(date +%s)
  [ -z "$last" ] || echo "   ($(( now - last )) s)"
  last=$now
  echo "== $1"
}

stage "install"
python -m pip install --quiet -e '.[test]'
python -c "import fastlr, numpy, numba, tensorflow, keras; print('fastlr', fastlr.__version__, \
'| numpy', numpy.__version__, '| numba', numba.__version__, '| tensorflow', tensorflow.__version__, \
'| keras', keras.__version__)" 2>/dev/null

stage "lint"
ruff check .
ruff format --check .

stage "tests (the README's test command: pytest; pytest-xdist runs one worker per core)"
python -m pytest

if [ -d benchmarks ] && ls benchmarks/test_*.py >/dev/null 2>&1; then
  stage "benchmark smoke run (timings disabled)"
  FASTLR_BENCH_N=100000 python -m pytest benchmarks --benchmark-disable -q -n 0
fi

stage "done"
echo "== CI finished in $(( $(date +%s) - start )) s"
