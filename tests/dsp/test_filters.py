"""Zero-phase filters, baseline and mains removal, resampling."""

from __future__ import annotations

import numpy as np
import pytest

import holterlab
from holterlab.dsp import (
    bandpass,
    design_sos,
    highpass,
    lowpass,
    mains_frequency,
    remove_baseline,
    remove_mains,
    resample,
    resample_indices,
)
from holterlab.errors import ParameterError
from tests.conftest import MITDB

FS = 250.0


def _sine(freq: float, seconds: float = 20.0, fs: float = FS, amp: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * fs)) / fs
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _rms(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    core = x[..., x.shape[-1] // 10 : -x.shape[-1] // 10]  # ignore the edges
    return float(np.sqrt(np.mean(core**2)))


def test_bandpass_keeps_the_band_and_removes_the_rest():
    assert _rms(bandpass(_sine(10.0), FS, low_hz=5, high_hz=15)) == pytest.approx(0.707, rel=0.05)
    assert _rms(bandpass(_sine(0.3), FS, low_hz=5, high_hz=15)) < 0.01
    assert _rms(bandpass(_sine(60.0), FS, low_hz=5, high_hz=15)) < 0.02


def test_filters_are_zero_phase():
    x = _sine(8.0)
    for y in (
        bandpass(x, FS, low_hz=2, high_hz=30),
        highpass(x, FS, cutoff_hz=0.5),
        lowpass(x, FS, cutoff_hz=40),
    ):
        lags = np.arange(-10, 11)
        xc = [np.dot(x[100:-100], np.roll(y, k)[100:-100]) for k in lags]
        assert lags[int(np.argmax(xc))] == 0


def test_shape_and_dtype_are_kept():
    x = np.stack([_sine(5.0), _sine(7.0)])
    y = bandpass(x, FS, low_hz=1, high_hz=40)
    assert y.shape == x.shape and y.dtype == np.float32
    assert bandpass(x[0].astype(np.float64), FS, low_hz=1, high_hz=40).dtype == np.float32
    assert bandpass(x[:, :5], FS, low_hz=1, high_hz=40).shape == (2, 5)


@pytest.mark.parametrize("method", ["butter", "median"])
def test_remove_baseline(method):
    ecg = holterlab.read(MITDB / "101.hea").get(stop=30.0)[0]
    fs = 360.0
    t = np.arange(ecg.size) / fs
    wander = (1.5 * np.sin(2 * np.pi * 0.15 * t) + 0.8).astype(np.float32)
    clean = remove_baseline(ecg, fs, method=method)
    cleaned = remove_baseline(ecg + wander, fs, method=method)
    assert _rms(cleaned - clean) < 0.1 * _rms(wander)
    # the QRS complexes are kept
    peak = np.percentile(np.abs(ecg - ecg.mean()), 99.5)
    assert np.percentile(np.abs(cleaned), 99.5) > 0.5 * peak
    with pytest.raises(ParameterError):
        remove_baseline(ecg, fs, method="wavelet")


@pytest.mark.parametrize("mains", [50.0, 60.0])
def test_mains_frequency_is_found_from_the_data(mains):
    ecg = holterlab.read(MITDB / "118.hea").get(stop=60.0)
    fs = 360.0
    noisy = ecg + 0.2 * np.stack([_sine(mains, 60.0, fs), _sine(mains, 60.0, fs)])
    assert mains_frequency(noisy, fs) == mains
    assert mains_frequency(ecg, fs) is None  # MIT-BIH is already clean at both
    cleaned = remove_mains(noisy, fs)
    residual = cleaned - remove_mains(ecg, fs, mains_hz=mains)
    assert _rms(residual) < 0.05 * 0.2
    # nothing to remove: the signal comes back unchanged
    np.testing.assert_array_equal(remove_mains(ecg, fs), ecg.astype(np.float32))


def test_mains_at_low_sampling_rate():
    x = _sine(50.0, 30.0, 125.0, 0.3) + _sine(7.0, 30.0, 125.0)
    assert mains_frequency(x, 125.0) == 50.0
    y = remove_mains(x, 125.0)
    assert _rms(y - _sine(7.0, 30.0, 125.0)) < 0.03
    with pytest.raises(ParameterError):
        remove_mains(x, 100.0, mains_hz=50.0)  # at the Nyquist frequency


@pytest.mark.parametrize("fs_new", [125.0, 250.0, 500.0, 1000.0, 257.3])
def test_resample(fs_new):
    fs = 360.0
    x = np.stack([_sine(3.0, 10.0, fs), _sine(11.0, 10.0, fs)])
    y = resample(x, fs, fs_new)
    assert y.shape == (2, int(round(x.shape[1] * fs_new / fs))) and y.dtype == np.float32
    t = np.arange(y.shape[1]) / fs_new
    want = np.sin(2 * np.pi * 3.0 * t)
    assert _rms(y[0] - want) < 0.01
    np.testing.assert_array_equal(resample(x, fs, fs), x)


def test_resample_indices():
    idx = np.array([0, 360, 721])
    np.testing.assert_array_equal(resample_indices(idx, 360.0, 250.0), [0, 250, 501])
    assert resample_indices(idx, 360.0, 250.0).dtype == np.int64


@pytest.mark.parametrize(
    "kwargs",
    [
        {"low_hz": 10.0, "high_hz": 5.0},
        {"low_hz": 5.0, "high_hz": 200.0},
        {"low_hz": -1.0},
        {},
        {"high_hz": 40.0, "order": 0},
    ],
)
def test_design_rejects_bad_cutoffs(kwargs):
    with pytest.raises(ParameterError):
        design_sos(FS, **kwargs)


def test_bad_signals_are_rejected():
    with pytest.raises(ParameterError):
        bandpass(np.array([1.0, np.nan, 2.0]), FS, low_hz=1, high_hz=40)
    with pytest.raises(ParameterError):
        lowpass(np.zeros((2, 2, 5)), FS, cutoff_hz=40)
    with pytest.raises(ParameterError):
        highpass(np.zeros(10), 0.0, cutoff_hz=1)
    with pytest.raises(ParameterError):
        resample(np.zeros(10), FS, -5.0)
