"""Every model's whole result on Columbus, against a reviewed snapshot (tests/golden/results/).

The numbers are checked against R elsewhere; this pins everything else a result carries
and a reader of result.json relies on: the fit statistics' names, the meta keys, the
conventions text, the engine description, the impacts method and the tests' nulls. A
changed word there is a changed interface; if it is intended, rerun with
``pytest --update-golden`` and read the diff. Floats are written with 8 significant
digits, well above the 1e-12 at which repeated runs on one machine could differ.
"""

from __future__ import annotations

import json

import pytest
from models_fixtures import columbus_dataset

from rtsmig.models import FitSpec, fit
from rtsmig.models.registry import spec_problem

CASES = [
    ("ols", "ml", {}), ("ols", "ml", {"robust": True}), ("slx", "ml", {}),
    ("lag", "ml", {}), ("lag", "gmm", {}), ("lag", "gmm", {"robust": True}),
    ("error", "ml", {}), ("error", "gmm", {}), ("error", "gmm", {"robust": True}),
    ("sac", "ml", {}), ("sac", "gmm", {}), ("sac", "gmm", {"robust": True}),
    ("durbin", "ml", {}), ("durbin-error", "ml", {}), ("gns", "gmm", {}),
    ("lag", "ml", {"impacts_se": "delta"}), ("lag", "ml", {"logdet": "chebyshev"}),
    ("error", "ml", {"logdet": "mc"}),
]


def rounded(value):
    if isinstance(value, float):
        return float(f"{value:.8g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def case_id(case) -> str:
    model, method, options = case
    return "-".join([model, method, *(f"{k}-{v}" for k, v in options.items())])


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_result_matches_its_snapshot(case, golden):
    model, method, options = case
    data = columbus_dataset()
    spec = FitSpec(model=model, method=method, y=data.y_name, x=data.x_names[1:], **options)
    assert spec_problem(spec) is None
    result = fit(spec, data)
    text = json.dumps(rounded(result.to_dict()), indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    golden(f"results/{case_id(case)}.json", text)
