"""The bulk tables of the benchmark report, from a results dict (:mod:`fastlr.bench.schema`).

Throughput is in millions of steps per second (``N / median``); ratios are throughput ratios
(``> 1``: fastlr faster) of medians measured in the same run, interleaved; "of the all-core fill"
is the fraction of the write limit (a parallel fill of the same buffer on every core) an engine
reaches, "of np.fill" the same against NumPy's single-threaded fill. Values measured on fewer
steps than N and extrapolated (the per-cell time budget) are marked ``*``. Results of schema 1
(every engine in one process, no ``keras_xla`` or ``fill_parallel`` rows) render with ``-`` where
a column has no data. The tables of the other sections: :mod:`fastlr.bench.section_tables`.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastlr.bench.throughput import ENGINES

HEADLINE_FAMILY = "WarmupCosineDecay"
FAMILY_SIZES = (10**6, 10**8)
"""The N of the per-family tables (those of them at which the run measured several families)."""


def _mps(row: dict) -> float:
    return row["n"] / row["median_s"] / 1e6


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:,.0f}{unit}"
    if x >= 1:
        return f"{x:.1f}{unit}"
    if x >= 0.01:
        return f"{x:.2f}{unit}"
    return f"{x:.2g}{unit}"


def _star(*rows: dict | None) -> str:
    """``*`` when any of ``rows`` was extrapolated."""
    return "*" if any(row and row.get("extrapolated") for row in rows) else ""


def _speed(row: dict | None) -> str:
    """M steps/s of a row, ``*`` when extrapolated, ``-`` when missing."""
    return _fmt(_mps(row)) + _star(row) if row else "-"


def _ratio(num: dict | None, den: dict | None) -> str:
    """How many times faster ``num`` is than ``den`` (time of den / time of num)."""
    if not num or not den:
        return "-"
    return _fmt(den["median_s"] / num["median_s"], "x") + _star(num, den)


def _fraction(row: dict | None, fill: dict | None) -> str:
    if not row or not fill:
        return "-"
    return f"{fill['median_s'] / row['median_s']:.0%}" + _star(row, fill)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _bulk_index(results: dict) -> dict[tuple[str, int, str], dict]:
    return {(r["family"], r["n"], r["engine"]): r for r in results.get("bulk", [])}


def _fill(index: dict, n: int, engine: str = "fill_parallel") -> dict | None:
    return index.get(("-", n, engine))


def _families_at(results: dict) -> dict[int, list[str]]:
    sizes: dict[int, list[str]] = {}
    for r in results.get("bulk", []):
        if r["family"] != "-" and r["family"] not in sizes.setdefault(r["n"], []):
            sizes[r["n"]].append(r["family"])
    return sizes


def family_size(results: dict) -> int:
    """The largest N at which more than one family was measured (else the largest N)."""
    sizes = _families_at(results)
    if not sizes:
        raise ValueError("Argument `results` holds no bulk rows.")
    many = [n for n, fams in sizes.items() if len(fams) > 1]
    return max(many or sizes)


def family_sizes(results: dict) -> list[int]:
    """The N of :data:`FAMILY_SIZES` at which several families ran (else :func:`family_size`)."""
    sizes = _families_at(results)
    chosen = [n for n in FAMILY_SIZES if len(sizes.get(n, ())) > 1]
    return chosen or [family_size(results)]


def _extrapolated_note(row: dict) -> str:
    if not row.get("extrapolated"):
        return ""
    if "n_measured" in row:
        return f" (extrapolated from N={row['n_measured']:,})"
    return " (extrapolated)"


def headline_table(results: dict) -> str:
    """Every engine on :data:`HEADLINE_FAMILY` at its largest N: M steps/s and ratios."""
    index = _bulk_index(results)
    sizes = [r["n"] for r in results.get("bulk", []) if r["family"] == HEADLINE_FAMILY]
    if not sizes:  # e.g. a pytest run that selected other families
        return ""
    n = max(sizes)
    fastlr = index.get((HEADLINE_FAMILY, n, "fastlr"))
    fill, np_fill = _fill(index, n), _fill(index, n, "fill")
    rows = []
    for engine, label in ENGINES.items():
        row = index.get(
            ("-" if engine in ("fill", "fill_parallel") else HEADLINE_FAMILY, n, engine)
        )
        if row is None:
            continue
        rows.append(
            [
                label.replace(" (extrapolated)", "") + _extrapolated_note(row),
                _fmt(_mps(row)),
                _fmt(row["median_s"] * 1e3, " ms"),
                _fmt(row["median_s"] / fastlr["median_s"], "x") if fastlr else "-",
                _fraction(row, fill).rstrip("*"),
                _fraction(row, np_fill).rstrip("*"),
            ]
        )
    title = f"{HEADLINE_FAMILY}, N = {n:,} float32 steps"
    header = ["engine", "M steps/s", "median", "time vs fastlr", "of all-core fill", "of np.fill"]
    return f"**{title}**\n\n" + _table(header, rows)


def families_table(results: dict, n: int | None = None) -> str:
    """fastlr vs TF XLA and Keras XLA on every family at ``n`` (default :func:`family_size`)."""
    index = _bulk_index(results)
    n = family_size(results) if n is None else n
    fill, np_fill = _fill(index, n), _fill(index, n, "fill")
    rows = []
    for family in _families_at(results).get(n, []):
        f = index.get((family, n, "fastlr"))
        xla, keras = index.get((family, n, "tf_xla")), index.get((family, n, "keras_xla"))
        rows.append(
            [
                family,
                _speed(f),
                _speed(xla),
                _speed(keras),
                _ratio(f, xla),
                _ratio(f, keras),
                _fraction(f, fill),
                _fraction(f, np_fill),
            ]
        )
    header = [
        "family",
        "fastlr M/s",
        "TF XLA M/s",
        "Keras XLA M/s",
        "fastlr/TF XLA",
        "fastlr/Keras XLA",
        "fastlr of all-core fill",
        "fastlr of np.fill",
    ]
    fills = f"all-core fill: {_speed(fill)} M/s, np.fill: {_speed(np_fill)} M/s"
    title = f"Every family, N = {n:,} float32 steps ({fills})"
    return f"**{title}**\n\n" + _table(header, rows)


def engines_table(results: dict, n: int | None = None) -> str:
    """M steps/s of every engine on every family at ``n`` (default :func:`family_size`)."""
    index = _bulk_index(results)
    n = family_size(results) if n is None else n
    engines = [e for e in ENGINES if e not in ("fill", "fill_parallel")]
    rows = [
        [family, *(_speed(index.get((family, n, e))) for e in engines)]
        for family in _families_at(results).get(n, [])
    ]
    header = ["family", *(ENGINES[e].split(" (")[0].split(",")[0] + " M/s" for e in engines)]
    return f"**Every engine, N = {n:,} float32 steps (M steps/s)**\n\n" + _table(header, rows)


def keras_missing(results: dict) -> str:
    """Which families have no Keras XLA row, and why (schema 2)."""
    missing = results.get("keras_xla_missing") or {}
    if not missing:
        return ""
    lines = [f"- {family}: {why}" for family, why in missing.items()]
    return "No Keras XLA number for:\n\n" + "\n".join(lines)


def method_text(results: dict) -> str:
    """How the bulk numbers were measured (isolation, interleaving, budgets, load)."""
    method = results.get("method")
    if results.get("schema", 1) < 2 or not method:
        return (
            "Schema 1 run: every engine ran in the benchmark's own process, TF engines before "
            "fastlr; *of fill* is NumPy's single-threaded fill."
        )
    if "workers" not in method:  # another harness than `fastlr bench` says how it measured
        return method.get("summary", "")
    workers = method.get("workers", {})
    kinds = "; ".join(f"{k}: {', '.join(w.get('engines', []))}" for k, w in workers.items())
    budget = method.get("budget", {})
    tf_free = not any(w.get("tensorflow") for k, w in workers.items() if k != "tf")
    text = (
        f"Each engine kind ran in its own worker process ({kinds}); the Numba and NumPy workers "
        f"{'never imported' if tf_free else 'had imported'} TensorFlow. Per (family, N) every "
        "engine was prepared, then timed in "
        "interleaved rounds (round 1 of every engine, then round 2, ...), one worker computing "
        "at a time; medians over rounds. A call that would take over "
        f"{budget.get('call_s', '?')} s ({budget.get('slow_call_s', '?')} s for NumPy and the TF "
        f"graph, {budget.get('python_call_s', '?')} s for the Python loop) was timed on fewer "
        "steps and scaled linearly to N: marked `*` (`n_measured` in the JSON)."
    )
    if method.get("warm_call_s"):
        text += (
            f" A round of calls under {method['warm_call_s'] * 1000:g} ms began with one untimed "
            "call (the previous round was another worker's: its threads may still spin, and "
            "this worker's were parked)."
        )
    loads = [r["load"] for r in results.get("bulk", []) if r.get("load") is not None]
    if loads:
        loads.sort()
        text += (
            f" Other processes used {loads[len(loads) // 2]:.2f} cores (median; max "
            f"{loads[-1]:.2f}) while the rounds ran."
        )
    return text


def sweep_table(results: dict) -> str:
    """M steps/s of every engine on :data:`HEADLINE_FAMILY` over N."""
    index = _bulk_index(results)
    sizes = sorted({r["n"] for r in results.get("bulk", []) if r["family"] == HEADLINE_FAMILY})
    if not sizes:
        return ""
    rows = []
    for engine, label in ENGINES.items():
        family = "-" if engine in ("fill", "fill_parallel") else HEADLINE_FAMILY
        cells = [index.get((family, n, engine)) for n in sizes]
        if any(cells):
            rows.append([label.replace(" (extrapolated)", ""), *(_speed(c) for c in cells)])
    title = f"{HEADLINE_FAMILY}: M steps/s over N"
    return f"**{title}**\n\n" + _table(["engine", *(f"N={n:.0e}" for n in sizes)], rows)


_SHOWN_VERSIONS = {
    "numpy": "NumPy",
    "numba": "Numba",
    "tensorflow": "TensorFlow",
    "keras": "Keras",
    "fastlr": "fastlr",
}


def machine_line(results: dict) -> str:
    """CPU, cores, memory, platform, Python and the versions of the packages that were installed
    (a GPU harness may run without TensorFlow and Keras)."""
    m = results["machine"]
    v = m["versions"]
    mem = f", {m['memory_gib']} GiB" if m.get("memory_gib") else ""
    shown = ", ".join(f"{name} {v[pkg]}" for pkg, name in _SHOWN_VERSIONS.items() if v.get(pkg))
    return f"{m['cpu']}, {m['cores']} cores{mem}; {m['platform']}; Python {m['python']}, {shown}"
