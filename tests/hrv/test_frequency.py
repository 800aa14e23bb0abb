"""Frequency-domain HRV: band placement, amplitudes, Parseval, gaps, NeuroKit2."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from holterlab.annotations import aami_class, read_annotations
from holterlab.hrv.frequency import (
    frequency_domain,
    long_term_spectrum,
    resample_nn,
    short_term_spectra,
)
from holterlab.hrv.nn import nn_intervals
from holterlab.params.hrv import HRVParams
from tests.conftest import NSRDB
from tests.hrv.synth import modulated_rr


def _nn(rr):
    return rr, np.cumsum(rr) / 1000.0


@pytest.mark.parametrize(
    "freq, band, other", [(0.1, "lf_ms2", "hf_ms2"), (0.25, "hf_ms2", "lf_ms2")]
)
def test_a_pure_modulation_puts_its_power_in_its_band(freq, band, other):
    nn, t = _nn(modulated_rr(3600, components=((freq, 30.0),)))
    fd = frequency_domain(nn, t)
    # a sine of amplitude A carries A**2 / 2 of power
    assert fd[band] == pytest.approx(30.0**2 / 2, rel=0.1)
    assert fd[other] < 0.02 * fd[band]
    assert fd["vlf_ms2"] < 0.02 * fd[band]
    st = fd["short_term"]
    assert st["n_segments"] == 12
    assert st[band] == pytest.approx(30.0**2 / 2, rel=0.1)
    assert st[other] < 0.05 * st[band]
    if band == "lf_ms2":
        assert fd["lf_nu"] > 95 and st["lf_nu"] > 95 and fd["lf_hf"] > 20
    else:
        assert fd["hf_nu"] > 95 and st["hf_nu"] > 95 and fd["lf_hf"] < 0.05


def test_ulf_and_vlf_modulations_land_in_their_bands():
    nn, t = _nn(modulated_rr(86400, components=((1 / 7200, 80.0), (0.01, 20.0))))
    fd = frequency_domain(nn, t)
    assert fd["ulf_ms2"] == pytest.approx(80.0**2 / 2, rel=0.1)
    assert fd["vlf_ms2"] == pytest.approx(20.0**2 / 2, rel=0.1)
    assert fd["lf_ms2"] < 1 and fd["hf_ms2"] < 1


def test_long_term_total_power_equals_the_variance():
    nn, t = _nn(modulated_rr(7200, components=((0.001, 40), (0.1, 20), (0.3, 10)), noise_ms=15))
    fd = frequency_domain(nn, t)
    _, x = resample_nn(nn, t)
    # Parseval (rectangular window): total power equals the resampled series' variance
    # less what lies above 0.4 Hz (the white-noise share above 0.4 of the 0-2 Hz spectrum)
    freqs, psd = long_term_spectrum(nn, t)
    above = psd[freqs > 0.4].sum() * (freqs[1] - freqs[0])
    assert fd["total_power_ms2"] + above == pytest.approx(x.var(), rel=1e-6)
    assert fd["total_power_ms2"] == pytest.approx(
        sum(fd[k] for k in ("ulf_ms2", "vlf_ms2", "lf_ms2", "hf_ms2")), rel=1e-12
    )


def test_gaps_are_bridged_by_straight_lines():
    nn = np.array([800.0, 820, 810, 790, 1000, 1010, 990, 1005])
    t = np.cumsum(nn) / 1000.0
    t[4:] += 20.0  # a 20 s gap before the fifth interval
    adjacent = np.array([False, True, True, True, False, True, True, True])
    grid, x = resample_nn(nn, t, adjacent=adjacent, rate_hz=4.0)
    inside = (grid > t[3]) & (grid < t[4])
    expected = np.interp(grid[inside], [t[3], t[4]], [790.0, 1000.0])
    np.testing.assert_allclose(x[inside], expected)


def test_resampling_passes_through_the_nn_values():
    nn = np.array([750.0, 1000, 750, 1250, 1000, 750, 1000, 1250])  # beats on the 4 Hz grid
    t = np.cumsum(nn) / 1000.0
    grid, x = resample_nn(nn, t, rate_hz=4.0)
    on_node = np.isin(np.round(grid * 4).astype(int), np.round(t * 4).astype(int))
    np.testing.assert_allclose(x[on_node], nn)
    assert grid[0] == t[0] and grid[-1] == t[-1]


def test_short_term_segments_need_coverage():
    nn, t = _nn(modulated_rr(1800, components=((0.1, 20),), noise_ms=5))
    keep = ~((t > 350) & (t < 450))  # one third of the second segment missing
    adjacent = np.ones(keep.sum(), bool)
    adjacent[0] = False
    adjacent[np.flatnonzero(np.diff(np.flatnonzero(keep)) > 1) + 1] = False
    seg = short_term_spectra(nn[keep], t[keep], adjacent=adjacent)
    assert 300.0 not in seg.start_s and len(seg) == 5
    seg = short_term_spectra(
        nn[keep], t[keep], adjacent=adjacent, params=HRVParams(segment_min_coverage_pct=50)
    )
    assert 300.0 in seg.start_s and len(seg) == 6


def test_too_short_a_series_gives_nan_not_errors():
    fd = frequency_domain(np.array([800.0, 810.0, 790.0]))
    assert np.isnan(fd["lf_ms2"]) and np.isnan(fd["total_power_ms2"])
    assert fd["short_term"]["n_segments"] == 0
    # 10 minutes: no ULF bin below 0.003 Hz except one; VLF and above defined
    nn, t = _nn(modulated_rr(600, components=((0.1, 20),)))
    fd = frequency_domain(nn, t)
    assert np.isfinite(fd["lf_ms2"]) and np.isfinite(fd["vlf_ms2"])


# ---------------------------------------------------------------------- NeuroKit2
def _nk_lf_hf(nn, times, **kwargs):
    nk = pytest.importorskip("neurokit2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = nk.hrv_frequency({"RRI": nn, "RRI_Time": times}, **kwargs).iloc[0]
    return out["HRV_LF"] / out["HRV_HF"]


def test_lf_hf_of_a_5_minute_segment_agrees_with_neurokit2():
    """Methods differ (NeuroKit2: quadratic interpolation, no detrending, Welch with
    150-s Hann segments; here: cubic spline at 4 Hz, linear detrend, one 300-s Hann
    periodogram), so the tolerance is 15 % on a series whose LF/HF is known (= 4)."""
    rr = modulated_rr(330, components=((0.1, 40.0), (0.25, 20.0)), noise_ms=3, seed=4)
    nn, t = _nn(rr)
    seg = short_term_spectra(nn, t)
    assert len(seg) == 1
    ours = seg.lf[0] / seg.hf[0]
    m = (t >= seg.start_s[0]) & (t < seg.start_s[0] + 300)
    theirs = _nk_lf_hf(nn[m], t[m], interpolation_rate=4)
    assert ours == pytest.approx(4.0, rel=0.15)
    assert theirs == pytest.approx(4.0, rel=0.15)
    assert ours == pytest.approx(theirs, rel=0.15)


def test_lf_hf_on_nsrdb_segments_agrees_with_neurokit2_on_average():
    """On real 5-minute segments single-periodogram and Welch LF/HF scatter (factor ~1.5),
    so the check is statistical: no bias beyond 20 % over gap-free segments and 85 % of
    segments within a factor 2."""
    ann = read_annotations(NSRDB / "17453.atr").beats()
    s = nn_intervals(ann.sample, aami_class(ann.symbol.astype(str)), ann.fs)
    seg = short_term_spectra(s.nn_ms, s.times_s, adjacent=s.adjacent)
    log_ratios = []
    for j in range(0, len(seg), 6):
        m = (s.times_s >= seg.start_s[j]) & (s.times_s < seg.start_s[j] + 300)
        if not s.adjacent[m][1:].all():
            continue
        theirs = _nk_lf_hf(s.nn_ms[m], s.times_s[m], interpolation_rate=4)
        log_ratios.append(np.log(seg.lf[j] / seg.hf[j] / theirs))
    log_ratios = np.array(log_ratios)
    assert log_ratios.size >= 30
    assert abs(np.median(log_ratios)) < np.log(1.2)
    assert np.mean(np.abs(log_ratios) < np.log(2)) >= 0.85
