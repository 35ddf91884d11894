"""Shared test configuration: hypothesis profiles and float32 default dtype guard."""
from __future__ import annotations

import os

import pytest
import torch
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile("thorough", max_examples=500, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

if os.environ.get("PYTEST_XDIST_WORKER"):
    # one intra-op thread per xdist worker: two workers on two cores, no oversubscription
    torch.set_num_threads(1)
    # numpy's BLAS as well: two OpenBLAS threads per worker made small SVDs ~200× slower under load
    import numpy  # noqa: F401 (load the BLAS before limiting it)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


@pytest.fixture(autouse=True)
def _default_dtype_untouched():
    """No library call may leave torch's default dtype changed (geomstats does that on import)."""
    before = torch.get_default_dtype()
    yield
    assert torch.get_default_dtype() == before, "torch default dtype leaked from a library call"
