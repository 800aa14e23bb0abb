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
    ISOLATED,
    MISSING,
    NO_ECG,
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


def test_noisy_pct_counts_analysed_time_with_every_usable_lead_noisy():
    from holterlab.quality import QualityResult

    flags = np.zeros((2, 10), np.uint8)
    flags[0, 0:4] = NOISY  # lead 1 clean there: not noisy time
    flags[:, 4:6] = NOISY  # both leads noisy: noisy but analysed
    flags[0, 6] = NOISY
    flags[1, 6] = FLAT  # the only usable lead is noisy
    flags[:, 7] = FLAT  # excluded: noise_pct, not noisy_pct
    q = QualityResult(fs=100.0, n_samples=950, segment_samples=100, flags=flags,
                      snr=np.ones((2, 10), np.float32))  # fmt: skip
    assert q.noisy_pct == pytest.approx(30.0 * 100 / 95)
    assert q.noise_pct == pytest.approx(10.0 * 100 / 95)
    assert q.summary()["noisy_pct"] == pytest.approx(31.58, abs=0.01)


def test_heavy_noise_on_every_lead_is_noisy_but_analysed_time():
    rec = holterlab.read(MITDB / "118.hea")
    x, fs = rec.get(stop=300.0), rec.fs
    assert signal_quality(x, fs).noisy_pct == 0.0
    y = x.copy()
    a, b = int(100 * fs), int(200 * fs)
    y[:, a:b] += 0.4 * np.random.default_rng(0).standard_normal((2, b - a)).astype(np.float32)
    q = signal_quality(y, fs)
    assert q.noise_pct < 2.0  # still analysed
    assert 10.0 < q.noisy_pct <= 100.0 / 3.0 + 1.0  # within the 100 s of noise
    clean = q.usable & ((q.flags & NOISY) == 0)
    noisy_seg = np.flatnonzero(q.segment_usable & ~clean.any(axis=0))
    seg_s = q.segment_samples / fs
    assert noisy_seg.min() * seg_s >= 100.0 - seg_s
    assert (noisy_seg.max() + 1) * seg_s <= 200.0 + seg_s


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


# ---------------------------------------------------------------------- no ECG at all
def _nstdb_excerpt(name: str, start_s: float, stop_s: float):
    rec = holterlab.read(NSTDB / f"{name}.hea")
    return rec.get(start=start_s, stop=stop_s), rec.fs


@pytest.mark.parametrize("name", ["bw", "ma"])
def test_noise_only_records_are_excluded(name):
    # NSTDB noise records: baseline wander (bw) and muscle artefact (ma), no ECG at all
    x, fs = _nstdb_excerpt(name, 600.0, 1080.0)
    q = signal_quality(x, fs)
    assert q.noise_pct >= 95.0
    assert q.analysable_s <= 0.05 * q.duration_s
    assert np.mean((q.flags & NO_ECG).any(axis=0)) >= 0.95
    (event,) = q.noise_events()
    assert event.type == "noise" and event.detail["segments"]["no_ecg"] >= 0.95 * q.n_segments


@pytest.mark.parametrize("name", ["bw", "ma"])
def test_noise_only_records_have_no_analysable_time_at_all(name):
    # a few seconds here and there pass the per-segment tests; between long excluded
    # stretches they are islands, excluded too (they gave 41-48 "beats" and V couplets)
    rec = holterlab.read(NSTDB / f"{name}.hea")
    q = quality_recording(rec)
    assert q.analysable_s == 0.0
    assert (q.flags & ISOLATED).any()


def test_short_usable_island_between_long_lead_off_is_excluded():
    rec = holterlab.read(MITDB / "118.hea")
    x, fs = rec.get(stop=420.0), rec.fs
    y = x.copy()
    for a, b in ((120, 200), (210, 300)):  # lead off on both leads, 10 s of contact between
        y[:, int(a * fs) : int(b * fs)] = 0.0
    q = signal_quality(y, fs)
    seg_s = q.segment_samples / fs
    island = slice(int(np.ceil(200 / seg_s)), int(210 // seg_s))
    assert np.all(q.flags[:, island] & ISOLATED)
    assert q.analysable_s == pytest.approx(240.0, abs=2 * seg_s)
    # the contact is long enough, or the gaps short enough: analysed
    for params in (QualityParams(min_island_s=8.0), QualityParams(island_gap_s=120.0)):
        q2 = signal_quality(y, fs, params=params)
        assert not (q2.flags & ISOLATED).any()
        assert q2.analysable_s == pytest.approx(250.0, abs=2 * seg_s)
    # a short recording with no long gap is never an island
    assert signal_quality(x[:, : int(20 * fs)], fs).analysable_s == pytest.approx(20.0)


def test_a_lead_off_for_part_of_a_segment_leaves_it_out_there():
    """Lead-off events of generated 3-lead recordings: the segments where a lead is off for
    part of the time (its flat stretch is too short for the amplitude test) no longer give
    that lead a weight, which lost beats the other leads showed clearly."""
    from holterlab.params.synth import SynthParams
    from holterlab.synth import synthesize

    sp = SynthParams(lead_off_per_hour=30.0, motion_per_hour=0, pop_per_hour=0, noisy_per_hour=0)
    rec, truth = synthesize(hours=0.5, leads=3, fs=250.0, seed=2, params=sp)
    x, fs = np.asarray(rec.get(), np.float32), rec.fs
    ref = truth.annotations.beats().sample

    def missed(params):
        q = signal_quality(x, fs, params=params)
        b = holterlab.detect_beats(x, fs, quality=q)
        j = np.clip(np.searchsorted(b, ref), 1, b.size - 1)
        far = np.minimum(np.abs(b[j] - ref), np.abs(b[j - 1] - ref)) > 0.15 * fs
        t = ref / fs
        ex = q.excluded_intervals()
        inside = np.zeros(ref.size, dtype=bool)
        for a, e in ex:
            inside |= (t >= a) & (t < e)
        return int(np.count_nonzero(far & ~inside)), q

    n_missed, q = missed(QualityParams())
    assert n_missed == 0
    assert np.any((q.flags & FLAT).any(axis=0) & q.segment_usable)  # one lead off, others on
    assert missed(QualityParams(max_constant_pct=100.0))[0] >= 3  # without the rule


def test_noise_only_record_yields_no_beats():
    x, fs = _nstdb_excerpt("bw", 0.0, 300.0)
    assert holterlab.detect_beats(x, fs).size <= 5


@pytest.mark.parametrize("name", ["118e24", "118e12"])
def test_ecg_with_noise_stays_analysable(name):
    x, fs = _nstdb_excerpt(name, 240.0, 720.0)  # clean minute, then two noise bursts
    q = signal_quality(x, fs)
    assert q.analysable_s >= 0.95 * q.duration_s
    assert not (q.flags & NO_ECG).all(axis=0).any()


@pytest.mark.parametrize("record", [108, 203, 207])
def test_ds1_records_keep_their_analysable_time(record):
    # 108 and 203: noisy, low-amplitude ECG; 207: ventricular flutter (no sharp QRS)
    rec = holterlab.read(MITDB / f"{record}.hea")
    q = quality_recording(rec)
    assert q.analysable_s >= 0.98 * q.duration_s


def test_ecg_buried_under_baseline_wander_is_kept(rec118):
    x, fs = rec118
    bw, fs_bw = _nstdb_excerpt("bw", 0.0, 120.0)
    assert fs_bw == fs
    q = signal_quality(x + 3.0 * bw, fs)  # wander only: the QRS band is untouched
    assert q.segment_usable.all()


def test_no_ecg_thresholds_follow_params():
    x, fs = _nstdb_excerpt("ma", 0.0, 120.0)
    off = QualityParams(qrs_min_mv=0.0, hf_ratio_max=100.0)
    assert not (signal_quality(x, fs, params=off).flags & NO_ECG).any()
    strict = QualityParams(qrs_min_mv=5.0, ecg_kurtosis=100.0)
    assert (signal_quality(x, fs, params=strict).flags & NO_ECG).all()


def test_no_ecg_is_chunk_size_independent():
    rec = holterlab.read(NSTDB / "ma.hea")
    whole = signal_quality(rec.get(stop=600.0), rec.fs)
    q = quality_recording(rec, chunk_s=37.0)
    n = whole.n_segments - 8  # the end of the excerpt sees fewer neighbours
    np.testing.assert_array_equal(q.flags[:, :n], whole.flags[:, :n])


def test_quality_kernel_equals_references():
    from holterlab._quality_kernels import (
        CONSTANT_COLUMN,
        N_ECG_STATS,
        constant_fraction_reference,
        ecg_stats_reference,
        quality_stats,
    )
    from holterlab.beats._reference import segment_stats

    rng = np.random.default_rng(3)
    x = np.cumsum(rng.standard_normal((2, 2345)), axis=1).astype(np.float32)
    x[0, 100:130] = np.nan
    x[0, 900:960] = 20.0  # clipped plateau
    x[1, 700:1600] = np.inf  # a whole segment (and more) unusable
    x[1, 2000:] = 0.5  # constant: no QRS-band activity
    for seg_len, w, lag, k in [(500, 9, 7, 4), (360, 6, 5, 3), (100, 1, 1, 1), (7, 3, 3, 2)]:
        n_seg = -(-x.shape[1] // seg_len)
        out = np.zeros((2, n_seg, 5 + N_ECG_STATS + 1))
        quality_stats(x, seg_len, 3, 5, 10, 1e4, w, lag, k, out)
        base = np.zeros((2, n_seg, 5))
        segment_stats(x, seg_len, 3, 5, 10, 1e4, base)
        np.testing.assert_array_equal(out[..., :5], base)
        ref = ecg_stats_reference(x, seg_len, w, lag, k)
        np.testing.assert_allclose(out[..., 5:8], ref, rtol=1e-7, atol=1e-9, equal_nan=True)
        const = constant_fraction_reference(x, seg_len, 10, 1e4)
        np.testing.assert_allclose(out[..., CONSTANT_COLUMN], const, rtol=1e-12)
        if seg_len == 500:
            assert np.isnan(ref[1, 2]).all() and ref[1, 4, 1] == 0.0


def test_running_median_equals_reference():
    from holterlab.quality import _running_median, _running_median_reference

    rng = np.random.default_rng(5)
    v = rng.standard_normal((3, 200))
    v[0, 10:40] = np.nan
    v[1, :] = np.nan
    v[2, ::3] = np.nan
    for size in (1, 5, 15, 401):
        np.testing.assert_array_equal(_running_median(v, size), _running_median_reference(v, size))
    assert _running_median(np.zeros((2, 0)), 5).shape == (2, 0)
