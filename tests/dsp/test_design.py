"""The SciPy-free Butterworth design and zero-phase filtering agree with SciPy."""

import numpy as np
import pytest
from scipy import signal

from holterlab.dsp.design import butter_sos, sosfilt, sosfilt_py, sosfilt_zi, sosfiltfilt
from holterlab.errors import ParameterError

CASES = [
    (2, (5.0, 15.0), "bandpass", 250.0),
    (2, (8.0, 20.0), "bandpass", 360.0),
    (3, (0.5, 40.0), "bandpass", 1000.0),
    (4, 40.0, "lowpass", 250.0),
    (4, 40.0, "lowpass", 125.0),
    (3, 25.0, "lowpass", 360.0),
    (1, 10.0, "lowpass", 250.0),
    (2, 0.5, "highpass", 250.0),
    (5, 1.0, "highpass", 500.0),
]


@pytest.mark.parametrize(("order", "cut", "btype", "fs"), CASES)
def test_butterworth_response_equals_scipy(order, cut, btype, fs):
    ours = butter_sos(order, cut, btype, fs)
    ref = signal.butter(order, cut, btype, fs=fs, output="sos")
    w, h_ours = signal.sosfreqz(ours, worN=2048, fs=fs)
    _, h_ref = signal.sosfreqz(ref, worN=2048, fs=fs)
    np.testing.assert_allclose(np.abs(h_ours), np.abs(h_ref), atol=1e-9)
    np.testing.assert_allclose(h_ours, h_ref, atol=1e-8)
    assert ours.shape == ref.shape


@pytest.mark.parametrize(("order", "cut", "btype", "fs"), CASES)
def test_zero_phase_filter_equals_scipy(order, cut, btype, fs):
    rng = np.random.default_rng(order)
    x = np.cumsum(rng.normal(size=(2, 3, 700)), axis=-1) + rng.normal(size=(2, 3, 700))
    sos = butter_sos(order, cut, btype, fs)
    ours = sosfiltfilt(sos, x)
    ref = signal.sosfiltfilt(signal.butter(order, cut, btype, fs=fs, output="sos"), x, axis=-1)
    np.testing.assert_allclose(ours, ref, atol=1e-7 * np.abs(ref).max())


def test_step_state_equals_scipy():
    sos = butter_sos(2, (5.0, 15.0), "bandpass", 250.0)
    np.testing.assert_allclose(sosfilt_zi(sos), signal.sosfilt_zi(sos), atol=1e-12)


def test_sosfilt_kernel_equals_reference():
    rng = np.random.default_rng(3)
    sos = butter_sos(4, 30.0, "lowpass", 250.0)
    x = rng.normal(size=(3, 500))
    z1 = rng.normal(size=(3, sos.shape[0], 2))
    z2 = z1.copy()
    a = sosfilt_py(sos, x, z1)
    b = sosfilt(sos, x, z2)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    np.testing.assert_allclose(z1, z2, atol=1e-12)
    ref = signal.sosfilt(sos, x, axis=-1)
    np.testing.assert_allclose(sosfilt(sos, x, np.zeros_like(z1)), ref, atol=1e-10)


@pytest.mark.parametrize(
    ("order", "cut", "btype"),
    [(0, 10.0, "lowpass"), (2, 200.0, "lowpass"), (2, (15.0, 5.0), "bandpass"), (2, 5.0, "notch")],
)
def test_bad_designs_are_rejected(order, cut, btype):
    with pytest.raises(ParameterError):
        butter_sos(order, cut, btype, 250.0)
