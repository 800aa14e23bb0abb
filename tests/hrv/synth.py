"""Synthetic beat series for the HRV tests."""

from __future__ import annotations

import numpy as np


def beats_from_rr(rr_ms: np.ndarray, fs: float = 1000.0, t0_s: float = 1.0) -> np.ndarray:
    """Beat sample indices whose successive differences are ``rr_ms`` (first beat at t0)."""
    times = t0_s + np.concatenate([[0.0], np.cumsum(np.asarray(rr_ms, dtype=float))]) / 1000.0
    return np.round(times * fs).astype(np.int64)


def modulated_rr(
    duration_s: float,
    *,
    mean_ms: float = 800.0,
    components: tuple[tuple[float, float], ...] = (),
    noise_ms: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """RR intervals whose value at time t is ``mean + sum A sin(2 pi f t) + noise``.

    ``components`` holds ``(frequency_hz, amplitude_ms)`` pairs; intervals are generated
    beat by beat so the modulation is sampled at the beat times (as a real tachogram).
    """
    rng = np.random.default_rng(seed)
    n = int(np.ceil(duration_s * 1000.0 / mean_ms))
    noise = noise_ms * rng.standard_normal(n) if noise_ms else np.zeros(n)
    rr = np.full(n, mean_ms) + noise
    for _ in range(6):  # fixed point: each interval's value at its own start time
        t = np.concatenate([[0.0], np.cumsum(rr)[:-1]]) / 1000.0
        rr = mean_ms + noise + sum(a * np.sin(2 * np.pi * f * t) for f, a in components)
    return rr
