"""Signal quality: flat (lead off), saturated, missing and noisy segments; analysable time."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import holterlab
from holterlab.errors import CancelledError, ParameterError
from holterlab.params.detection import QualityParams
from holterlab.quality import (
    FLAT,
    MISSING,
    NOISY,
    SATURATED,
    SEVERE_NOISE,
    quality_recording,
    signal_quality,
)
from tests.conftest import MITDB, NSTDB


@pytest.fixture(scope="module")
def rec118():
    rec = holterlab.read(MITDB / "118.hea")
    return rec.get(stop=120.0), rec.fs


def _segments(q, a_s: float, b_s: float) -> slice:
    seg_s = q.segment_samples / q.fs
    return slice(int(np.ceil(a_s / seg_s)), int(b_s // seg_s))


def test_clean_record_is_usable_everywhere(rec118):
    x, fs = rec118
    q = signal_quality(x, fs, leads=["MLII", "V1"])
    assert q.n_leads == 2 and q.n_segments == 60
    assert q.usable.all()
    assert q.analysable_s == pytest.approx(120.0)
    assert q.noise_pct == 0.0
    assert q.excluded_intervals().shape == (0, 2)
    assert q.noise_events() == []
    assert not q.sample_mask().any()
    assert (q.flags & NOISY).sum() == 0
    assert q.summary()["leads"]["MLII"]["usable_pct"] == 100.0


def test_flat_lead_off_is_flagged_and_excluded(rec118):
    x, fs = rec118
    y = x.copy()
    a, b = int(30 * fs), int(50 * fs)
    y[:, a:b] = 0.0
    q = signal_quality(y, fs)
    inside = _segments(q, 30, 50)
    assert np.all(q.flags[:, inside] & FLAT)
    assert not q.usable[:, inside].any()
    assert q.usable[:, _segments(q, 52, 120)].all()
    ex = q.excluded_intervals()
    assert ex.shape == (1, 2) and ex[0, 0] <= 30.0 + q.segment_samples / fs and ex[0, 1] >= 50
    assert q.analysable_s == pytest.approx(120.0 - (ex[0, 1] - ex[0, 0]))
    assert 10.0 < q.noise_pct < 25.0
    (event,) = q.noise_events()
    assert event.type == "noise" and event.detail["segments"]["flat"] >= 9
    mask = q.sample_mask()
    assert mask[a + 1000] and not mask[int(10 * fs)]
    np.testing.assert_array_equal(q.sample_mask(a - 100, a + 100), mask[a - 100 : a + 100])


def test_one_flat_lead_keeps_the_time_analysable(rec118):
    x, fs = rec118
    y = x.copy()
    y[1, int(30 * fs) : int(50 * fs)] = 0.3
    q = signal_quality(y, fs)
    assert np.all(q.flags[1, _segments(q, 30, 50)] & FLAT)
    assert q.segment_usable.all() and q.noise_pct == 0.0


def test_clipping_at_the_rail_is_saturation(rec118):
    x, fs = rec118
    y = x.copy()
    a, b = int(20 * fs), int(40 * fs)
    rail = np.float32(0.4)
    y[0, a:b] = np.minimum(y[0, a:b] + 1.5, rail)  # baseline beyond the rail: clipped
    q = signal_quality(y, fs)
    assert np.all(q.flags[0, _segments(q, 20, 40)] & SATURATED)
    assert not (q.flags[1] & SATURATED).any()


def test_absurd_values_are_saturation(rec118):
    x, fs = rec118
    y = x.copy()
    y[1, int(10 * fs) : int(12 * fs)] += 5.0e4
    q = signal_quality(y, fs)
    assert q.flags[1, 5] & SATURATED


def test_nan_gap_is_missing(rec118):
    x, fs = rec118
    y = x.copy()
    y[:, int(60 * fs) : int(70 * fs)] = np.nan
    q = signal_quality(y, fs)
    assert np.all(q.flags[:, _segments(q, 60, 70)] & MISSING)
    assert q.analysable_s == pytest.approx(110.0)


def test_heavy_noise_is_flagged_noisy_and_sinusoid_unusable(rec118):
    x, fs = rec118
    rng = np.random.default_rng(1)
    y = x.copy()
    y[0, : int(60 * fs)] = rng.standard_normal(int(60 * fs)).astype(np.float32)  # no ECG
    t = np.arange(int(60 * fs)) / fs
    y[1, : int(60 * fs)] = np.sin(2 * np.pi * 50 * t)  # lead off: mains hum only
    q = signal_quality(y, fs)
    first = _segments(q, 4, 56)
    assert np.mean(q.flags[0, first] & NOISY > 0) > 0.8
    assert np.all(q.flags[1, first] & SEVERE_NOISE)
    assert q.usable[1, _segments(q, 64, 120)].all()
    assert q.score[1, first].max() == 0.0 and q.score[1, -5:].min() == 1.0
    beats = np.array([int(10 * fs), int(100 * fs)])
    bq = q.beat_quality(beats)
    assert bq[1] == 1.0 and bq[0] < 1.0


def test_nstdb_electrode_motion_noise_lowers_snr_but_is_not_excluded():
    rec = holterlab.read(NSTDB / "118e12.hea")
    q = signal_quality(rec.get(), rec.fs)
    t = np.arange(q.n_segments) * q.segment_samples / q.fs
    # 118e12: noise in 2-minute bursts from minute 5 on, 2 minutes off in between
    burst = (t >= 300) & (((t - 300) // 120) % 2 == 0)
    calm = (t >= 300) & ~burst
    assert np.all(np.median(q.snr[:, burst], axis=1) < 0.8 * np.median(q.snr[:, calm], axis=1))
    # beats are annotated throughout: nothing is excluded
    assert q.noise_pct < 1.0


def test_gain_and_polarity_do_not_change_noise_flags(rec118):
    x, fs = rec118
    q = signal_quality(x, fs)
    for gain in (-1.0, 0.5, 3.0):
        q2 = signal_quality(x * np.float32(gain), fs)
        np.testing.assert_array_equal(q2.flags, q.flags)
        np.testing.assert_allclose(q2.snr, q.snr, rtol=1e-5)


def test_quality_recording_equals_signal_quality_for_any_chunk():
    rec = holterlab.read(MITDB / "203.hea")
    whole = signal_quality(rec.get(), rec.fs)
    for chunk_s in (61.0, 600.0):
        q = quality_recording(rec, chunk_s=chunk_s)
        np.testing.assert_array_equal(q.flags, whole.flags)
        np.testing.assert_array_equal(q.snr, whole.snr)
    assert q.leads == rec.leads
    seen: list[float] = []
    quality_recording(rec, chunk_s=300.0, progress=seen.append)
    assert seen[-1] == pytest.approx(1.0)
    stop = threading.Event()
    stop.set()
    with pytest.raises(CancelledError):
        quality_recording(rec, cancel=stop)


def test_bad_input_and_params():
    with pytest.raises(ParameterError):
        signal_quality(np.zeros((2, 2, 10)), 250.0)
    with pytest.raises(ParameterError):
        signal_quality(np.zeros((2, 100)), -1.0)
    with pytest.raises(ParameterError):
        signal_quality(np.zeros((2, 100)), 250.0, leads=["a"])
    with pytest.raises(ParameterError):
        QualityParams(reference_segments=4)
    with pytest.raises(ParameterError):
        QualityParams(unusable_snr=9.0, noisy_snr=6.0)
    q = signal_quality(np.zeros((1, 0), np.float32), 250.0)
    assert q.n_segments == 0 and q.analysable_s == 0.0 and q.noise_pct == 0.0


def test_segment_length_follows_params(rec118):
    x, fs = rec118
    q = signal_quality(x, fs, params=QualityParams(segment_s=5.0))
    assert q.segment_samples == int(5 * fs) and q.n_segments == 24
    assert q.segment_bounds()[-1, 1] == x.shape[1]
