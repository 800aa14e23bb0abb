"""Small synthetic ECG generator for the classification tests (Gaussian-wave beats)."""

from __future__ import annotations

import numpy as np


def _gauss(t: np.ndarray, centre: float, width: float, amp: float) -> np.ndarray:
    return amp * np.exp(-0.5 * ((t - centre) / width) ** 2)


def beat_shape(kind: str, t: np.ndarray, lead: int) -> np.ndarray:
    """One beat around t = 0 (seconds): 'N' / 'S' normal QRS (S with an early P), 'V' wide,
    'A' a normal QRS without P wave (conducted in atrial fibrillation)."""
    sign = 1.0 if lead == 0 else -0.6
    if kind in ("N", "S", "A"):
        p = _gauss(t, -0.16, 0.02, 0.0 if kind == "A" else 0.12)
        q = _gauss(t, -0.02, 0.008, -0.1)
        r = _gauss(t, 0.0, 0.009, 1.0)
        s = _gauss(t, 0.022, 0.009, -0.25)
        tw = _gauss(t, 0.28, 0.05, 0.25)
        return sign * (p + q + r + s + tw)
    if kind == "V":
        r = _gauss(t, 0.0, 0.035, -1.3)
        r2 = _gauss(t, 0.06, 0.03, 0.5)
        tw = _gauss(t, 0.3, 0.07, 0.45)
        return (1.0 if lead == 0 else 0.8) * (r + r2 + tw)
    if kind == "P":  # paced: a wide QRS after a pacemaker spike (one sample, added later)
        return beat_shape("V", t - 0.01, lead)
    raise ValueError(kind)


def synthetic_ecg(
    kinds: list[str],
    *,
    fs: float = 250.0,
    rr: float | np.ndarray = 0.8,
    n_leads: int = 2,
    noise: float = 0.01,
    seed: int = 0,
    premature: float = 0.65,
    fibrillation: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Signal (float32 mV, n_leads x n) and R-peak sample indices for a beat sequence.

    ``S`` and ``V`` beats come ``premature * rr`` after their predecessor; a ``V`` is
    followed by a compensatory pause, an ``S`` resets the sinus rhythm. ``rr`` may be one
    value per beat (the underlying sinus RR before each beat: tachycardia, sinus arrhythmia,
    an irregular rhythm). ``fibrillation`` adds atrial fibrillatory waves of that amplitude
    (mV, 4-8 Hz).
    """
    rr_of = np.broadcast_to(np.asarray(rr, dtype=np.float64), (len(kinds),))
    rng = np.random.default_rng(seed)
    times = []
    t = 1.0
    prev = "N"
    for i, kind in enumerate(kinds):
        rr = float(rr_of[i])
        if times:
            if kind in ("S", "V"):
                step = premature * rr
            elif prev == "V":
                step = (2.0 - premature) * rr
            else:
                step = rr
            t += step * (1.0 + 0.02 * rng.standard_normal())
        times.append(t)
        prev = kind
    duration = times[-1] + 1.5
    n = int(duration * fs)
    x = np.zeros((n_leads, n))
    tt = np.arange(n) / fs
    half = int(0.6 * fs)
    for kind, tb in zip(kinds, times, strict=True):
        c = int(round(tb * fs))
        lo, hi = max(0, c - half), min(n, c + half)
        for lead in range(n_leads):
            x[lead, lo:hi] += beat_shape(kind, tt[lo:hi] - tb, lead)
        if kind == "P":
            s = c - int(round(0.05 * fs))
            if 0 <= s < n:
                x[:, s] += 2.5  # pacemaker spike: one sample, both leads
    x += 0.15 * np.sin(2 * np.pi * 0.2 * tt)[None, :]  # baseline wander
    if fibrillation > 0:
        for f in (4.3, 5.9, 7.1):
            phase = rng.uniform(0, 2 * np.pi, n_leads)[:, None]
            wobble = 0.3 * np.sin(2 * np.pi * 0.13 * tt)[None, :]
            x += fibrillation / 2 * np.sin(2 * np.pi * f * tt[None, :] + phase + wobble)
    x += noise * rng.standard_normal(x.shape)
    beats = np.round(np.array(times) * fs).astype(np.int64)
    return x.astype(np.float32), beats
