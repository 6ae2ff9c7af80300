"""Run files: a declarative grid of weights and fits, run incrementally."""
