"""Butterworth filter design and zero-phase second-order-section filtering without SciPy.

The analysis pipeline needs only a few Butterworth filters; importing :mod:`scipy.signal`
for them costs about a second per process (it pulls in :mod:`scipy.stats`). These functions
follow SciPy's algorithms (``butter(..., output="sos")``, ``sosfilt_zi``, ``sosfiltfilt`` with
odd padding) and the tests compare them with SciPy.

:func:`sosfilt_py` is the plain-Python reference of the numba kernel :func:`sosfilt`.
"""

from __future__ import annotations

import numba
import numpy as np

from holterlab.errors import ParameterError

__all__ = ["butter_sos", "sosfilt_zi", "sosfilt", "sosfilt_py", "sosfiltfilt"]


def _bilinear(z: np.ndarray, p: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray, float]:
    fs2 = 4.0  # bilinear transform at fs = 2 (frequencies normalised to Nyquist)
    degree = p.size - z.size
    zz = (fs2 + z) / (fs2 - z)
    pz = (fs2 + p) / (fs2 - p)
    zz = np.concatenate([zz, -np.ones(degree)])
    kz = k * np.real(np.prod(fs2 - z) / np.prod(fs2 - p))
    return zz, pz, float(kz)


def _zpk_to_sos(z: np.ndarray, p: np.ndarray, k: float) -> np.ndarray:
    """Second-order sections: conjugate pole pairs with their nearest zeros, gain in the first.

    Poles closest to the unit circle come last (as SciPy orders them).
    """
    z = list(np.asarray(z, dtype=complex))
    p = np.asarray(p, dtype=complex)
    upper = p[p.imag > 1e-12]
    real = np.sort(p[np.abs(p.imag) <= 1e-12].real)
    groups: list[list[complex]] = [[q, np.conj(q)] for q in upper]
    for i in range(0, real.size, 2):
        groups.append([complex(v) for v in real[i : i + 2]])
    groups.sort(key=lambda g: -max(abs(1 - abs(q)) for q in g))  # farthest from circle first
    sos = np.zeros((len(groups), 6))
    for s, poles in enumerate(groups):
        zeros = []
        for q in poles:
            if not z:
                break
            j = int(np.argmin([abs(zz - q) for zz in z]))
            zeros.append(z.pop(j))
        b = np.real(np.poly(zeros)) if zeros else np.array([1.0])
        a = np.real(np.poly(poles))
        b = np.concatenate([b, np.zeros(3 - b.size)])
        a = np.concatenate([a, np.zeros(3 - a.size)])
        sos[s, :3], sos[s, 3:] = b, a
    sos[0, :3] *= k
    return sos


def butter_sos(order: int, cutoff_hz: float | tuple[float, float], btype: str, fs: float):
    """Digital Butterworth filter as second-order sections (as ``scipy.signal.butter``).

    Parameters
    ----------
    order
        Filter order (1-10; a band-pass has twice as many poles).
    cutoff_hz
        Cut-off in Hz (a pair ``(low, high)`` for ``"bandpass"``).
    btype
        ``"lowpass"``, ``"highpass"`` or ``"bandpass"``.
    fs
        Sampling rate (Hz).

    Returns
    -------
    numpy.ndarray
        ``(n_sections, 6)`` float64 array ``[b0, b1, b2, 1, a1, a2]``.
    """
    order = int(order)
    if not 1 <= order <= 10:
        raise ParameterError(f"Butterworth order must be 1-10, got {order}")
    wn = np.atleast_1d(np.asarray(cutoff_hz, dtype=np.float64)) * 2.0 / float(fs)
    if np.any(wn <= 0) or np.any(wn >= 1):
        raise ParameterError(
            f"filter cut-off {cutoff_hz} Hz must lie strictly between 0 and fs/2 = {fs / 2:g} Hz"
        )
    warped = 4.0 * np.tan(np.pi * wn / 2.0)
    p = -np.exp(1j * np.pi * np.arange(-order + 1, order, 2) / (2 * order))
    k = 1.0
    if btype == "lowpass" and wn.size == 1:
        wo = warped[0]
        z, p, k = np.zeros(0), p * wo, wo**order
    elif btype == "highpass" and wn.size == 1:
        wo = warped[0]
        z = np.zeros(order)
        k = float(np.real(1.0 / np.prod(-p)))
        p = wo / p
    elif btype == "bandpass" and wn.size == 2 and wn[0] < wn[1]:
        bw = warped[1] - warped[0]
        wo = np.sqrt(warped[0] * warped[1])
        plp = p * bw / 2.0
        root = np.sqrt(plp**2 - wo**2)
        p = np.concatenate([plp + root, plp - root])
        z, k = np.zeros(order), bw**order
    else:
        raise ParameterError(
            f"unsupported Butterworth design btype={btype!r} with cut-off {cutoff_hz}: use "
            "'lowpass'/'highpass' with one frequency or 'bandpass' with (low, high)"
        )
    return _zpk_to_sos(*_bilinear(z, p, k))


def sosfilt_zi(sos: np.ndarray) -> np.ndarray:
    """Initial state of each section for a unit step steady state (as ``scipy.signal``)."""
    sos = np.asarray(sos, dtype=np.float64)
    zi = np.empty((sos.shape[0], 2))
    scale = 1.0
    for s in range(sos.shape[0]):
        b = sos[s, :3] / sos[s, 3]
        a = sos[s, 3:] / sos[s, 3]
        i_minus_a = np.array([[1.0 + a[1], -1.0], [a[2], 1.0]])
        rhs = b[1:] - a[1:] * b[0]
        zi[s] = scale * np.linalg.solve(i_minus_a, rhs)
        scale *= b.sum() / a.sum()
    return zi


def sosfilt_py(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> np.ndarray:
    """Filter each row of ``x`` (2-D, float64) through the sections, direct form II transposed.

    ``zi`` has shape ``(n_rows, n_sections, 2)`` and is updated in place (final state).
    """
    n_rows, n = x.shape
    y = np.empty_like(x)
    for r in range(n_rows):
        for i in range(n):
            v = x[r, i]
            for s in range(sos.shape[0]):
                out = sos[s, 0] * v + zi[r, s, 0]
                zi[r, s, 0] = sos[s, 1] * v - sos[s, 4] * out + zi[r, s, 1]
                zi[r, s, 1] = sos[s, 2] * v - sos[s, 5] * out
                v = out
            y[r, i] = v
    return y


sosfilt = numba.njit(cache=True, nogil=True)(sosfilt_py)


def sosfiltfilt(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Zero-phase filtering along the last axis with odd padding (as ``scipy.signal``).

    The pad length is SciPy's default, ``3 * (2 * n_sections + 1 - trailing zeros)``, clipped
    to the signal length minus one. Returns float64.
    """
    sos = np.ascontiguousarray(sos, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    shape = x.shape
    rows = np.ascontiguousarray(x.reshape(-1, shape[-1]))
    ntaps = 2 * sos.shape[0] + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    edge = min(3 * ntaps, shape[-1] - 1)
    if edge > 0:
        left = 2 * rows[:, :1] - rows[:, edge:0:-1]
        right = 2 * rows[:, -1:] - rows[:, -2 : -(edge + 2) : -1]
        ext = np.concatenate([left, rows, right], axis=1)
    else:
        ext = rows
    zi = sosfilt_zi(sos)
    state = zi[None, :, :] * ext[:, :1, None]
    y = sosfilt(sos, np.ascontiguousarray(ext), state)
    state = zi[None, :, :] * y[:, -1:, None]
    y = sosfilt(sos, np.ascontiguousarray(y[:, ::-1]), state)[:, ::-1]
    if edge > 0:
        y = y[:, edge:-edge]
    return np.ascontiguousarray(y).reshape(shape)
