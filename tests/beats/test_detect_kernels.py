"""The numba kernels of detection and quality equal their plain-Python references exactly."""

from __future__ import annotations

import types

import numpy as np
import pytest
from scipy import signal as sps

from holterlab.beats import _kernels as K
from holterlab.beats import _reference as R
from tests.conftest import MITDB

RNG = np.random.default_rng(20240601)


def _ecgish(n: int, fs: float, leads: int = 2, seed: int = 0) -> np.ndarray:
    """Spiky quasi-periodic test signal with noise, float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    x = np.zeros((leads, n))
    beats = np.cumsum(rng.uniform(0.4, 1.2, size=int(n / fs) + 2))
    for lead in range(leads):
        amp = rng.uniform(-2, 2)
        for b in beats:
            x[lead] += amp * np.exp(-0.5 * ((t - b) / 0.012) ** 2)
        x[lead] += 0.05 * rng.standard_normal(n) + 0.3 * np.sin(2 * np.pi * 0.3 * t + lead)
    return x.astype(np.float32)


def test_quality_stats_equal_segment_stats_reference():
    from holterlab._quality_kernels import N_ECG_STATS, quality_stats

    x = _ecgish(3000, 250.0, leads=3)
    x[0, 100:180] = np.nan  # a gap
    x[1, 500:620] = x[1].max() + 0.5  # clipping plateau at the maximum
    x[1, 900:960] = 0.25  # a plateau that is not an extreme
    x[2, 2000:2600] = 0.1  # flat
    x[2, 1200] = 80.0  # beyond max_abs
    x[0, 2990:] = np.nan
    for seg_len, lag, dec, run_len in [(500, 2, 5, 10), (333, 1, 1, 2), (1000, 8, 20, 40)]:
        n_seg = -(-x.shape[1] // seg_len)
        a = np.zeros((3, n_seg, 5 + N_ECG_STATS))
        b = np.zeros((3, n_seg, 5))
        quality_stats(x, seg_len, lag, dec, run_len, 50.0, 9, 7, 4, a)
        R.segment_stats(x, seg_len, lag, dec, run_len, 50.0, b)
        np.testing.assert_array_equal(a[..., :5], b)
    assert a[1, :, 2].max() > 0  # the plateau was counted


@pytest.mark.parametrize("seg_len,lag,dec,run_len", [(500, 2, 5, 10), (333, 1, 1, 2)])
def test_quality_stats_fast_path_equals_the_general_one(seg_len, lag, dec, run_len):
    # segments without a non-finite sample take a separate loop-per-statistic path
    from holterlab._quality_kernels import _segment, _segment_all_finite

    x = _ecgish(3000, 250.0, leads=2, seed=4)
    x[0, 500:620] = x[0].max() + 0.5  # clipping plateau at the maximum
    x[0, 900:960] = 0.25  # a plateau that is not an extreme
    x[1, 1200] = 80.0  # beyond max_abs
    x[1, 2000:2100] = -60.0  # a run beyond max_abs
    x[1, 2900:] = 0.0  # ends flat
    n_seg = -(-x.shape[1] // seg_len)
    fast = np.full((2, n_seg, 9), -1.0)
    slow = np.full((2, n_seg, 9), -1.0)
    bufs = [
        np.empty(seg_len // dec + 2),
        np.empty(seg_len // run_len + 2),
        np.empty(seg_len // run_len + 2, np.int64),
    ]
    for lead in range(2):
        for s in range(n_seg):
            args = (x, lead, s, seg_len, lag, dec, run_len, 50.0, 9, 7, 4)
            assert _segment_all_finite(*args, fast, *bufs, np.zeros(8), np.empty(seg_len))
            _segment(*args, slow, *bufs, np.zeros(8))
    np.testing.assert_array_equal(fast, slow)
    assert fast[0, :, 2].max() > 0 and fast[1, :, 8].max() > 0  # plateaus were counted
    x[1, 10] = np.nan
    assert not _segment_all_finite(
        x, 1, 0, seg_len, lag, dec, run_len, 50.0, 9, 7, 4, fast, *bufs, np.zeros(8),
        np.empty(seg_len),
    )  # fmt: skip


def _envelope_state(n_leads: int, w: int, n_sec: int) -> list[np.ndarray]:
    return [
        np.zeros(n_leads, np.int64),
        np.zeros((n_leads, n_sec, 2)),
        np.zeros(n_leads),
        np.zeros(n_leads),
        np.zeros((n_leads, w)),
        np.zeros(n_leads, np.int64),
        np.zeros(n_leads),
        np.zeros(n_leads, np.int64),
    ]


@pytest.mark.parametrize("n_leads,order", [(2, 2), (3, 2), (1, 3)])
def test_envelope_equal_reference_in_pieces(n_leads, order):
    fs = 200.0
    x = _ecgish(2600, fs, leads=n_leads, seed=n_leads) + 3.0  # DC offset
    x[0, :40] = np.nan  # the lead starts late
    x[-1, 700:760] = np.inf
    sos = sps.butter(order, [5, 15], "bandpass", fs=fs, output="sos")
    zi_unit = sps.sosfilt_zi(sos)
    sk = _envelope_state(n_leads, 24, sos.shape[0])
    sr = _envelope_state(n_leads, 24, sos.shape[0])
    sk[7][:] = 65536 - 1000  # cross the exact re-summation point
    sr[7][:] = 65536 - 1000
    outs_k, outs_r = [], []
    for a, b in [(0, 17), (17, 1000), (1000, 2600)]:
        ok = np.empty((n_leads, b - a), np.float32)
        orf = np.empty((n_leads, b - a), np.float32)
        K.envelope(np.ascontiguousarray(x[:, a:b]), sos, zi_unit, *sk, ok)
        R.envelope(np.ascontiguousarray(x[:, a:b]), sos, zi_unit, *sr, orf)
        outs_k.append(ok)
        outs_r.append(orf)
    np.testing.assert_array_equal(np.concatenate(outs_k, 1), np.concatenate(outs_r, 1))
    for a, b in zip(sk, sr, strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.concatenate(outs_k, 1)[0, :40].max() == 0.0


def test_block_stats_equal_reference():
    f = np.abs(RNG.standard_normal((2, 1234))).astype(np.float32)
    for block, dec in [(100, 3), (250, 10), (64, 1)]:
        nb = -(-f.shape[1] // block)
        out = [np.zeros((2, nb)) for _ in range(4)]
        K.block_stats(f, nb, block, dec, f.shape[1], out[0], out[1])
        R.block_stats(f, nb, block, dec, f.shape[1], out[2], out[3])
        np.testing.assert_array_equal(out[0], out[2])
        np.testing.assert_array_equal(out[1], out[3])


@pytest.mark.parametrize("power", [0.5, 1.0, 0.7])
@pytest.mark.parametrize("block", [100, 101])
def test_fuse_equal_reference(power, block):
    f = np.abs(RNG.standard_normal((3, 900))).astype(np.float32)
    nb = 12
    w = RNG.uniform(0, 1, (3, nb))
    w[1, 3:5] = 0.0
    w /= w.sum(axis=0)
    w[:, 7] = 0.0  # a block with no usable lead
    inv = RNG.uniform(0.5, 2, (3, nb))
    for start in (0, 37, 950):
        a = np.empty(f.shape[1])
        b = np.empty(f.shape[1])
        K.fuse(f, start, block, w, inv, power, a)
        R.fuse(f, start, block, w, inv, power, b)
        np.testing.assert_array_equal(a, b)


def test_find_peaks_equal_reference():
    g = np.round(RNG.uniform(0, 1, 3000), 1)  # many ties
    g[100:140] = 0.0
    for lo, hi, h in [(0, 3000, 5), (10, 2990, 1), (300, 2500, 36)]:
        a = K.find_peaks(g, 0, lo, hi, h, g.size)
        b = R.find_peaks(g, 0, lo, hi, h, g.size)
        np.testing.assert_array_equal(a, b)
    # with an offset buffer and a clipped right edge
    a = K.find_peaks(g[500:], 500, 600, 3000, 20, 3000)
    b = R.find_peaks(g[500:], 500, 600, 3000, 20, 3000)
    np.testing.assert_array_equal(a, b)


def _decide_args():
    fst = np.array([1.0, 0.1, 0.0])
    ist = np.zeros(4, np.int64)
    rr = np.full(K.RR_SLOTS, 200.0)
    return fst, ist, rr, np.zeros(64, np.int64), np.zeros(64)


def test_decide_equal_reference():
    fs = 250.0
    t = np.sort(RNG.choice(np.arange(0, 100000), 1500, replace=False)).astype(np.int64)
    v = RNG.gamma(1.0, 0.4, t.size)
    v[200:260] *= 0.1  # a quiet stretch: search-back
    sk, sr = _decide_args(), _decide_args()
    params = (int(0.2 * fs), int(0.36 * fs), 0.5, 0.25, 2.0, 1.5, 1.66, 0.8, 0.5, 2.0)
    for a, b in [(0, 700), (700, 1500)]:
        ek = K.decide(t[a:b], v[a:b], *sk, *params)
        er = R.decide(t[a:b], v[a:b], *sr, *params)
        np.testing.assert_array_equal(ek, er)
    for a, b in zip(sk, sr, strict=True):
        np.testing.assert_array_equal(a, b)


def test_refine_equal_reference():
    x = _ecgish(4000, 360.0, leads=2)
    x[1, 1500:1510] = np.nan
    for t in (5, 700, 1505, 3995):
        for lead in (0, 1):
            sa = np.zeros((2, 2 * 21 + 1))
            sb = np.zeros((2, 2 * 21 + 1))
            a = K.refine(x, 0, x.shape[1], t, lead, 72, 7, 5, 57, 21, sa)
            b = R.refine(x, 0, x.shape[1], t, lead, 72, 7, 5, 57, 21, sb)
            assert a == b
            np.testing.assert_array_equal(sa, sb)


def _verify_state(n_leads: int, width: int, n_templates: int = 3):
    return [
        np.zeros((K.LEVEL_SLOTS, n_leads)),
        np.zeros(K.LEVEL_SLOTS),
        np.array([0, 0, 0, 0, -1, 0], np.int64),
        np.zeros((n_templates, n_leads, width)),
        np.full(n_templates, -1, np.int64),
    ]


def test_refine_and_verify_batches_equal_reference():
    fs = 360.0
    x = _ecgish(36000, fs, leads=2, seed=3)
    ts = np.sort(RNG.choice(np.arange(200, 35800), 90, replace=False)).astype(np.int64)
    lv = RNG.uniform(0.05, 1.5, (ts.size, 2))
    ws = RNG.uniform(0, 1, (ts.size, 2))
    ws[::7, 1] = 0.0
    ws[::11, 0] = 0.0
    geo = (72, 7, 5, 57, 21)
    fk, fr = np.zeros(ts.size, np.int64), np.zeros(ts.size, np.int64)
    sk, sr = np.zeros((ts.size, 2, 43)), np.zeros((ts.size, 2, 43))
    K.refine_batch(ts, ws, x, 0, x.shape[1], *geo, 0.3, fk, sk)
    R.refine_batch(ts, ws, x, 0, x.shape[1], *geo, 0.3, fr, sr)
    np.testing.assert_array_equal(fk, fr)
    np.testing.assert_array_equal(sk, sr)
    vparams = (fs, True, 0.35, 0.85, 0.94, 0.2, 0.1, 0.85)
    state_k = [np.array([0, 0, 0, -1], np.int64), np.zeros(2), np.zeros(2), np.zeros((2, 43))]
    state_r = [a.copy() for a in state_k]
    vk, vr = _verify_state(2, 43), _verify_state(2, 43)
    got_k, got_r = [], []
    for a, b, flush in [(0, 40, False), (40, 40, False), (40, 90, True)]:
        args = (ts[a:b], fk[a:b], lv[a:b], ws[a:b], sk[a:b], flush)
        got_k.append(K.verify_batch(*args, *state_k, *vk, *vparams))
        got_r.append(R.verify_batch(*args, *state_r, *vr, *vparams))
    np.testing.assert_array_equal(np.concatenate(got_k), np.concatenate(got_r))
    for a, b in zip(state_k + vk, state_r + vr, strict=True):
        np.testing.assert_array_equal(a, b)
    # some candidates were rejected by the verification with these random levels
    assert 0 < np.concatenate(got_k).size < ts.size


def test_verify_equal_reference():
    n_leads, width = 2, 11
    vk, vr = _verify_state(n_leads, width), _verify_state(n_leads, width)
    shapes = [np.sin(np.linspace(0, 3, width)), np.cos(np.linspace(0, 5, width))]
    accepted = []
    for i in range(60):
        base = shapes[i % 3 == 0]
        t = 300 * i + int(RNG.integers(-40, 40))
        t_next = -1 if i == 59 else t + int(RNG.integers(50, 400))
        lvl = RNG.uniform(0.05, 1.2, n_leads)
        w = RNG.uniform(0, 1, n_leads)
        seg = np.stack([base + RNG.normal(0, 0.5, width) for _ in range(n_leads)])
        params = (360.0, True, 0.35, 0.85, 0.94, 0.2, 0.1, 0.85)
        a = K.verify(t, t_next, lvl, w, seg, *vk, *params)
        b = R.verify(t, t_next, lvl, w, seg, *vr, *params)
        assert a == b
        accepted.append(a)
    for a, b in zip(vk, vr, strict=True):
        np.testing.assert_array_equal(a, b)
    assert 0 < sum(accepted) < len(accepted)
    assert (vk[4] >= 0).sum() >= 2  # both morphologies got a template


def test_whole_detector_equal_reference_on_real_data(monkeypatch):
    """The streaming detector gives the same beats with every kernel swapped for its
    reference, on a real MIT-BIH excerpt (record 208, PVCs and noise)."""
    import holterlab
    import holterlab.beats.detect as D

    rec = holterlab.read(MITDB / "208.hea")
    fs = rec.fs
    x = rec.get(start=1226.0, stop=1246.0)
    want = D.detect_beats(x, fs)
    ref_ns = types.SimpleNamespace(**{n: getattr(K, n) for n in dir(K) if not n.startswith("__")})
    names = ("envelope", "block_stats", "fuse", "find_peaks", "decide", "refine_batch")
    for name in names + ("verify_batch",):
        setattr(ref_ns, name, getattr(R, name))
    monkeypatch.setattr(D, "K", ref_ns)
    got = D.detect_beats(x, fs)
    assert want.size > 15
    np.testing.assert_array_equal(got, want)


def test_envelope_flushes_tiny_states_to_zero_on_a_flat_signal():
    """A long flat stretch must not leave the recursion in (slow) subnormal numbers."""
    fs = 250.0
    x = np.zeros((2, 12000), np.float32)
    x[:, :500] = _ecgish(500, fs, leads=2)
    sos = sps.butter(2, [5, 15], "bandpass", fs=fs, output="sos")
    zi_unit = sps.sosfilt_zi(sos)
    sk, sr = _envelope_state(2, 30, 2), _envelope_state(2, 30, 2)
    ok, orf = np.empty(x.shape, np.float32), np.empty(x.shape, np.float32)
    K.envelope(x, sos, zi_unit, *sk, ok)
    R.envelope(x, sos, zi_unit, *sr, orf)
    np.testing.assert_array_equal(ok, orf)
    assert np.all(sk[1] == 0.0)  # filter states flushed
    assert ok[:, -100:].max() < 1e-6 * ok.max()  # only the rounding rest of the moving sum


@pytest.mark.parametrize("width", [1, 2, 5, 17])
def test_running_max_kernel_equals_reference_and_scipy(width):
    from scipy.ndimage import maximum_filter1d

    rng = np.random.default_rng(width)
    vals = rng.normal(size=(3, 200))
    vals[1, 50:80] = 1.0  # plateaus (ties)
    ref = R.running_max(vals, width)
    np.testing.assert_array_equal(K.running_max(vals, width), ref)
    origin = (width - 1) // 2
    scipy_ref = maximum_filter1d(vals, size=width, axis=1, mode="nearest", origin=origin)
    np.testing.assert_array_equal(ref, scipy_ref)
