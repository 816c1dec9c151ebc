"""Engines: how a formula is evaluated (TF graph, NumPy reference, Numba). No schedule math here."""
