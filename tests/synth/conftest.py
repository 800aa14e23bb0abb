"""Fixtures of the synthetic-ECG tests: one dense 10-minute recording shared by the tests."""

from __future__ import annotations

import numpy as np
import pytest

from holterlab.params.synth import SynthParams
from holterlab.synth import synthesize

#: The dense test recording: 10 minutes, 3 leads, 250 Hz, every event kind.
DENSE = dict(hours=10 / 60, leads=3, fs=250.0, seed=11)


@pytest.fixture(scope="session")
def dense():
    """(recording, truth) of the dense 10-minute recording."""
    return synthesize(**DENSE, params=SynthParams.showcase())


@pytest.fixture(scope="session")
def dense_clean(dense) -> np.ndarray:
    """Noise-free float64 render of the whole dense recording, shape (3, n)."""
    rec, _ = dense
    return rec.source.clean().render(0, rec.n_samples)


@pytest.fixture(scope="session")
def dense_noisy(dense) -> np.ndarray:
    """Noisy float64 render of the whole dense recording."""
    rec, _ = dense
    return rec.source.render(0, rec.n_samples)
