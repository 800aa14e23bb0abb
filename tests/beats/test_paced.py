"""Paced-beat recognition (holterlab.beats.paced): kernel, synthetic spikes, DS1, paced records.

Synthetic pacing spikes are modelled physically: a rectangular pulse (0.1-2 ms) with a
charge-balancing recharge tail, passed through a 2nd-order low-pass front end (100-150 Hz),
then sampled at 125-1000 Hz with a random sampling phase, added to synthetic ECG
(:mod:`holterlab.synth`) with a random gain and sign per lead.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from holterlab.beats import paced as P
from holterlab.errors import ParameterError
from tests.conftest import MITDB

_HI = 50_000.0  # "analogue" simulation rate


def _pulse_shape(width_ms: float, fc: float) -> tuple[np.ndarray, int]:
    """Band-limited pacing pulse at _HI Hz, peak |.| = 1, and the index of the pulse start."""
    n = int(0.05 * _HI)
    start = 100
    w = max(1, int(round(width_ms * 1e-3 * _HI)))
    p = np.zeros(n)
    p[start : start + w] = 1.0
    tail = np.exp(-np.arange(n - start - w) / (0.008 * _HI))
    p[start + w :] -= 0.3 * w * tail / tail.sum()
    y = sosfilt(butter(2, fc, fs=_HI, output="sos"), p)
    return y / np.abs(y).max(), start


def spike_train(fs, times, n, *, amp, width_ms, fc) -> np.ndarray:
    """Pacing spikes starting at ``times`` (s), as sampled at ``fs`` (peak ``amp`` mV)."""
    y, start = _pulse_shape(width_ms, fc)
    th0 = (np.arange(y.size) - start) / _HI
    out = np.zeros(n)
    for t0 in times:
        th = th0 + t0
        idx = np.arange(max(int(np.ceil(th[0] * fs)), 0), min(int(th[-1] * fs), n - 1) + 1)
        out[idx] += amp * np.interp(idx / fs, th, y)
    return out


def synthetic(fs, seed, *, minutes=1.0, muscle=0.012, paced=True, amp=1.0, width_ms=0.5, fc=120):
    """(signal float32 (2, n) mV, beats) of synthetic ECG, paced or not."""
    from holterlab.synth import SynthParams, synthesize

    params = SynthParams(
        muscle_mv=muscle, pop_per_hour=0.0, motion_per_hour=0.0, lead_off_per_hour=0.0
    )
    rec, truth = synthesize(hours=minutes / 60.0, leads=2, fs=fs, seed=seed, params=params)
    x = rec.get().astype(np.float64)
    beats = truth.annotations.beats().sample
    beats = beats[(beats > fs) & (beats < x.shape[1] - fs)].astype(np.int64)
    if paced:
        rng = np.random.default_rng(seed)
        times = beats / fs - rng.uniform(0.02, 0.08, beats.size)
        for lead in range(x.shape[0]):
            g = rng.choice([-1.0, 1.0]) * rng.uniform(0.6, 1.0)
            x[lead] += g * spike_train(fs, times, x.shape[1], amp=amp, width_ms=width_ms, fc=fc)
    return x.astype(np.float32), beats


# ----------------------------------------------------------------------------- kernel


@pytest.mark.parametrize("fs", [125.0, 360.0, 1000.0])
def test_kernel_equals_reference(fs):
    rng = np.random.default_rng(int(fs))
    n = int(20 * fs)
    x = (rng.standard_normal((3, n)) * 0.05).astype(np.float32)
    x[1, n // 2] += 2.0  # a one-sample spike
    x[2] = 0.0  # a flat lead
    beats = np.unique(
        np.concatenate([[0, 1, n - 1, n - 2, n // 2 + int(0.03 * fs)], rng.integers(0, n, 200)])
    )
    xs, fs_, b, offsets = P._check_inputs(x, fs, beats, (-120.0, 10.0))
    got = P.pacing_spike_score(x, fs, beats)
    ref = P.pacing_spike_score_ref(xs, b, offsets, P._qrs_fraction(fs_, int(offsets[4])))
    assert got.dtype == np.float32 and got.shape == beats.shape
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    assert got.max() > 10.0  # the spike is seen


def test_empty_and_one_lead():
    x = np.zeros(1000, dtype=np.float32)
    assert P.pacing_spike_score(x, 250, np.array([], dtype=np.int64)).shape == (0,)
    assert P.pacing_spike_score(x, 250, np.array([500])).tolist() == [0.0]  # flat: no evidence


# ----------------------------------------------------------------------------- synthetic

# (fs, post-filter spike amplitude mV, pulse width ms, front-end cut-off Hz). At 125 Hz one
# sample (8 ms) is as long as the QRS's sharpest part, so only large spikes are separable.
CASES = [
    (125.0, 3.0, 0.5, 100.0),
    (250.0, 1.0, 1.0, 120.0),
    (360.0, 0.5, 0.5, 100.0),
    (360.0, 1.0, 0.1, 150.0),
    (500.0, 0.5, 2.0, 100.0),
    (1000.0, 0.5, 0.5, 120.0),
]


@pytest.mark.parametrize(("fs", "amp", "width_ms", "fc"), CASES)
def test_synthetic_paced_found(fs, amp, width_ms, fc):
    x, beats = synthetic(fs, 7, amp=amp, width_ms=width_ms, fc=fc)
    score = P.pacing_spike_score(x, fs, beats)
    fam = np.zeros(beats.size, dtype=np.int64)
    assert P.paced_families(score, fam, 1).tolist() == [True]
    assert P.paced_labels(score, fam, 1).all()
    assert np.mean(score >= P.FAMILY_THRESHOLD) >= (0.9 if fs >= 250 else 0.65)
    if fs >= 250:  # single beats too (at 125 Hz the sampling phase can hide a spike)
        assert P.paced_beats(x, fs, beats).mean() >= 0.5


def test_gain_and_polarity_invariant():
    x, beats = synthetic(360.0, 3, amp=0.5)
    s = P.pacing_spike_score(x, 360.0, beats)
    np.testing.assert_allclose(P.pacing_spike_score(-3.7 * x, 360.0, beats), s, rtol=1e-4)
    np.testing.assert_allclose(P.pacing_spike_score(x * 0.01, 360.0, beats), s, rtol=1e-4)
    y = x.copy()
    y[1] *= -25.0  # one lead inverted and amplified
    np.testing.assert_allclose(P.pacing_spike_score(y, 360.0, beats), s, rtol=1e-4)


@pytest.mark.parametrize("fs", [125.0, 250.0, 360.0, 500.0, 1000.0])
@pytest.mark.parametrize("muscle", [0.012, 0.05, 0.15])
def test_synthetic_unpaced_with_muscle_noise(fs, muscle):
    x, beats = synthetic(fs, 11, minutes=1.0, muscle=muscle, paced=False)
    score = P.pacing_spike_score(x, fs, beats)
    assert not P.paced_beats(x, fs, beats).any()
    fam = np.zeros(beats.size, dtype=np.int64)
    assert not P.paced_labels(score, fam, 1).any()
    assert np.mean(score >= P.FAMILY_THRESHOLD) < 0.05


# ----------------------------------------------------------------------------- errors


def test_errors():
    x = np.zeros((2, 1000), dtype=np.float32)
    b = np.array([100, 500])
    with pytest.raises(ParameterError, match="fs"):
        P.pacing_spike_score(x, 100.0, b)
    with pytest.raises(ParameterError, match="fs"):
        P.pacing_spike_score(x, 2000.0, b)
    with pytest.raises(ParameterError, match="shape"):
        P.pacing_spike_score(np.zeros((2, 2, 10)), 250.0, b)
    with pytest.raises(ParameterError, match="beats"):
        P.pacing_spike_score(x, 250.0, np.array([5, 1000]))
    with pytest.raises(ParameterError, match="beats"):
        P.pacing_spike_score(x, 250.0, np.array([-1]))
    with pytest.raises(ParameterError):
        P.pacing_spike_score(x, 250.0, np.array([[1, 2]]))
    with pytest.raises(ParameterError):
        P.pacing_spike_score(x, 250.0, b, search_ms=(10, -10))
    with pytest.raises(ParameterError):
        P.paced_beats(x, 250.0, b, threshold=-1)
    with pytest.raises(ParameterError):
        P.paced_families(np.zeros(3), np.array([0, 1, 5]), 2)
    with pytest.raises(ParameterError):
        P.paced_families(np.zeros(3), np.zeros(2, dtype=int), 1)
    with pytest.raises(ParameterError):
        P.paced_families(np.zeros(2), np.zeros(2, dtype=int), 1, min_fraction=0)


def test_families_and_labels_logic():
    score = np.array([12.0, 6.0, 6.0, 1.0, 1.0, 1.0, 11.0, 2.0])
    fam = np.array([0, 0, 0, 1, 1, 1, 1, -1])
    assert P.paced_families(score, fam, 2).tolist() == [True, False]
    # the fused beat (family 1, own spike) is paced; the family-less beat without is not
    assert P.paced_labels(score, fam, 2).tolist() == [True] * 3 + [False] * 3 + [True, False]


# ----------------------------------------------------------------------------- MIT-BIH


def _load(record: int, minutes: float | None = None):
    import holterlab
    from holterlab.annotations import read_annotations

    rec = holterlab.read(MITDB / f"{record}.hea")
    x = rec.get()
    ann = read_annotations(MITDB / f"{record}.atr").beats()
    b, sym = np.asarray(ann.sample), np.asarray(ann.symbol)
    if minutes is not None:
        n = int(minutes * 60 * rec.fs)
        x, keep = x[:, :n], b < n
        b, sym = b[keep], sym[keep]
    return x, float(rec.fs), b, sym


@pytest.mark.parametrize("record", [108, 116, 119, 203, 207, 208])
def test_ds1_no_paced_family(mitdb, record):
    x, fs, b, sym = _load(record, minutes=5.0)
    score = P.pacing_spike_score(x, fs, b)
    _, fam = np.unique(sym, return_inverse=True)
    n_fam = int(fam.max()) + 1
    assert not P.paced_families(score, fam, n_fam).any()
    # single-beat calls are rare (noise artefacts): at most 0.2 % of the beats
    assert P.paced_labels(score, fam, n_fam).sum() <= max(1, 0.002 * b.size)


#: Measured on the whole records with ``benchmarks/paced.py`` (never tuned on them):
#: beat-level Se of the frozen design ~0.00 on all four; with the reference symbols as
#: families, 104 is recognised as a whole (Se 1.000, +P 1.000), 102 107 217 are not.
#: These floors are regression guards set below the measured values, not targets.
@pytest.mark.slow
def test_paced_records_measured(mitdb):
    fp_total = 0
    x, fs, b, sym = _load(104)
    score = P.pacing_spike_score(x, fs, b)
    _, fam = np.unique(sym, return_inverse=True)
    lab = P.paced_labels(score, fam, int(fam.max()) + 1)
    ref = np.isin(sym, ["/", "f"])
    assert lab[ref].mean() >= 0.9
    fp_total += int(np.sum(lab & ~ref))
    assert fp_total <= 10
