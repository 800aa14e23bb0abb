"""Paced families recognised by the exact interval of a pacemaker (holterlab.beats.paced_timing)."""

from __future__ import annotations

import numpy as np
import pytest

from holterlab.beats.classify import classify_beats
from holterlab.beats.paced_timing import MIN_PAIRS, fixed_rate_families
from holterlab.errors import ParameterError

from ._synthetic_beats import beat_shape


def _beats(rr_s: np.ndarray, fs: float) -> np.ndarray:
    return np.round((1.0 + np.cumsum(rr_s)) * fs).astype(np.int64)


def _judge(rr_s, fs=250.0, width=150.0, family=None):
    b = _beats(np.asarray(rr_s, dtype=np.float64), fs)
    fam = np.zeros(b.size, np.int64) if family is None else np.asarray(family)
    n_fam = int(fam.max()) + 1
    return fixed_rate_families(b, fs, fam, n_fam, np.full(b.size, width))


def test_fixed_rate_pacing_is_paced_and_sinus_timing_is_not():
    rng = np.random.default_rng(1)
    assert _judge(np.full(200, 0.857)).tolist() == [True]
    # sinus rhythm: beat-to-beat changes of tens of ms around a drifting rate
    sinus = 0.857 + 0.03 * np.sin(np.arange(200) / 6.0) + 0.015 * rng.standard_normal(200)
    assert _judge(sinus).tolist() == [False]
    # a very steady intrinsic rhythm still wanders by more than a pacemaker's clock
    steady = 0.857 + 0.008 * rng.standard_normal(200)
    assert _judge(steady).tolist() == [False]


@pytest.mark.parametrize("fs", [128.0, 250.0, 360.0, 1000.0])
def test_sampling_rate_quantisation(fs):
    """The pacing interval quantised to whole samples (and the fiducial jitter of a sample)
    stays paced; sinus timing quantised at a low rate does not become paced."""
    rng = np.random.default_rng(2)
    paced = 0.857 + rng.integers(-1, 2, 300) / fs
    assert _judge(paced, fs=fs).tolist() == [True]
    sinus = 0.857 + 0.03 * np.sin(np.arange(300) / 6.0) + 0.015 * rng.standard_normal(300)
    assert _judge(sinus, fs=fs).tolist() == [False]


def test_demand_pacing_between_intrinsic_beats():
    """VVI pacing: paced beats (family 0) at the lower rate interval whenever the heart's own
    beats (family 1, narrow) pause; only the paced family is paced."""
    rr = [0.70, 0.70, 1.0, 1.0, 1.0] * 60  # two intrinsic beats, then three paced at 1.0 s
    fam = [1, 1, 0, 0, 0] * 60
    b = _beats(np.array(rr), 250.0)
    fam = np.array(fam)
    width = np.where(fam == 0, 160.0, 80.0)
    assert fixed_rate_families(b, 250.0, fam, 2, width).tolist() == [True, False]


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("narrow QRS (fixed 2:1 flutter conduction)", {"width": 80.0}),
        ("too few intervals to judge", {"rr_s": np.full(MIN_PAIRS, 0.857)}),
    ],
)
def test_not_paced(case, kwargs):
    rr = kwargs.pop("rr_s", np.full(200, 0.857))
    assert _judge(rr, **kwargs).tolist() == [False], case


def test_errors_and_empty():
    b = np.arange(10) * 200
    with pytest.raises(ParameterError, match="same length"):
        fixed_rate_families(b, 250.0, np.zeros(9, np.int64), 1, np.full(10, 150.0))
    with pytest.raises(ParameterError, match="sampling rate"):
        fixed_rate_families(b, 0.0, np.zeros(10, np.int64), 1, np.full(10, 150.0))
    with pytest.raises(ParameterError, match="n_families"):
        fixed_rate_families(b, 250.0, np.zeros(10, np.int64), -1, np.full(10, 150.0))
    assert fixed_rate_families(b[:2], 250.0, np.zeros(2, np.int64), 1, np.full(2, 150.0)).size == 1
    out = fixed_rate_families(b, 250.0, np.full(10, -1), 0, np.full(10, 150.0))
    assert out.shape == (0,)


def _ecg(times_s: np.ndarray, fs: float, kind: str = "V") -> tuple[np.ndarray, np.ndarray]:
    n = int((times_s[-1] + 1.5) * fs)
    x = np.zeros((2, n))
    t = np.arange(n) / fs
    half = int(0.6 * fs)
    for tb in times_s:
        c = int(round(tb * fs))
        lo, hi = max(0, c - half), min(n, c + half)
        for lead in range(2):
            x[lead, lo:hi] += beat_shape(kind, t[lo:hi] - tb, lead)
    x += 0.01 * np.random.default_rng(3).standard_normal(x.shape)
    return x.astype(np.float32), np.round(times_s * fs).astype(np.int64)


def test_classifier_calls_a_fixed_rate_wide_rhythm_paced_without_spikes():
    """A wide-QRS rhythm at a pacemaker's exact interval, its spikes lost by the recording
    chain, is paced (Q); the same rhythm with an intrinsic rhythm's variability is not."""
    fs = 250.0
    times = 1.0 + 0.857 * np.arange(300)
    x, b = _ecg(times, fs)
    labels = np.asarray(classify_beats(x, fs, b).labels)
    assert np.mean(labels == "Q") > 0.95
    rng = np.random.default_rng(4)
    times = 1.0 + np.cumsum(0.857 + 0.02 * rng.standard_normal(300))
    x, b = _ecg(times, fs)
    labels = np.asarray(classify_beats(x, fs, b).labels)
    assert np.mean(labels == "Q") < 0.05
