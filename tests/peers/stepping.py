"""The one loop the golden-value scripts step a torch optimizer with (not a test)."""

from __future__ import annotations

import warnings


def stepped(optimizer, scheduler, n: int, key: str = "lr") -> list[float]:
    """``optimizer.param_groups[0][key]`` before each of ``n`` optimizer steps: the value the
    ``i``-th update uses, after ``i`` calls of ``scheduler.step()``."""
    values = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n):
            values.append(float(optimizer.param_groups[0][key]))
            optimizer.step()
            scheduler.step()
    return values
