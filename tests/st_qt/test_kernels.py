"""The numba kernels of the ST/QT stage equal their plain-Python references."""

import warnings

import numpy as np
import pytest

from holterlab.st_qt import _kernels as K
from holterlab.st_qt.delineate import delineate
from holterlab.st_qt.median import POST_MS, PRE_MS, median_beats, remove_baseline_knots
from tests.conftest import MITDB
from tests.st_qt.test_st_qt import FS, make_ecg


def _case(seed: int):
    rng = np.random.default_rng(seed)
    n_leads, n = int(rng.integers(1, 4)), 3000
    x = rng.normal(0, 1, (n_leads, n)).astype(np.float32)
    knots = np.sort(rng.choice(np.arange(5, n - 5), size=int(rng.integers(2, 30)), replace=False))
    levels = rng.normal(0, 1, (n_leads, knots.size)).astype(np.float32)
    pre, post = 40, 70
    centres = np.sort(rng.integers(pre, n - post, size=int(rng.integers(3, 40))))
    k = min(3, centres.size - 1)
    cuts = np.sort(rng.choice(np.arange(1, centres.size), size=k, replace=False))
    bounds = np.concatenate(([0], cuts, [centres.size])).astype(np.int64)
    return x, knots.astype(np.int64), levels, centres.astype(np.int64), bounds, pre, post


@pytest.mark.parametrize("seed", range(6))
def test_median_segments_kernel_equals_reference(seed):
    args = _case(seed)
    ref = K.median_segments_py(*args)
    fast = K.median_segments(*args)
    np.testing.assert_allclose(fast, ref, rtol=0, atol=1e-5)
    assert ref.shape == (args[4].size - 1, args[0].shape[0], args[5] + args[6])


def test_median_segments_is_the_median_of_baseline_corrected_beats():
    # the kernel's baseline is numpy.interp through the knots: compare with the long way round
    x, beats, _ = make_ecg(minutes=2, seed=3)
    knots = beats - int(round(0.09 * FS))
    half = int(round(0.01 * FS))
    levels = np.stack([[x[ld, k - half : k + half + 1].mean() for k in knots] for ld in range(2)])
    levels = levels.astype(np.float32)
    clean = x - np.stack([np.interp(np.arange(x.shape[1]), knots, lv) for lv in levels])
    pre, post = int(PRE_MS * FS / 1000), int(POST_MS * FS / 1000)
    centres = beats[2:-2]
    bounds = np.array([0, 20, centres.size])
    out = K.median_segments(x, knots, levels, centres, bounds, pre, post)
    seg = clean[:, centres[:20, None] + np.arange(-pre, post)[None, :]]
    np.testing.assert_allclose(out[0], np.median(seg, axis=1), atol=1e-4)


def test_baseline_wander_is_removed_by_the_knots():
    x, beats, _ = make_ecg(minutes=2, seed=1, wander=0.8)
    clean = remove_baseline_knots(x, FS, beats)
    pr = beats - int(round(0.09 * FS))
    assert np.abs(clean[:, pr[1:-1]]).max() < 0.05  # PR level back at zero despite 0.8 mV wander


def _median_beat_set():
    out = []
    for seed, hr in ((0, 60.0), (1, 95.0), (2, 48.0)):
        x, beats, _ = make_ecg(minutes=3, hr=hr, st_windows=((30, 90, -0.15),), seed=seed)
        mb = median_beats(x, FS, beats, np.full(beats.size, "N"), window_s=10.0)
        out += [(mb.beats[i], FS, mb.pre, float(mb.rr_ms[i])) for i in range(mb.beats.shape[0])]
    return out


def test_delineate_kernel_equals_reference_on_synthetic_beats():
    cases = _median_beat_set()
    assert len(cases) > 40
    for beat, fs, pre, rr in cases:
        f = delineate(beat, fs, pre, st_offset_ms=60.0, rr_ms=rr)
        onset, j, t_end, pr, st = K.delineate_kernel(beat.astype(np.float64), fs, pre, 60.0, rr)
        assert (onset, j) == (f.onset, f.j_point)
        assert t_end == (-1 if f.t_end is None else f.t_end)
        np.testing.assert_allclose(st, f.st_mv, atol=1e-6)
        np.testing.assert_allclose(pr, f.pr_mv, atol=1e-6)


def test_delineate_kernel_equals_reference_on_mitdb():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import holterlab

        rec = holterlab.read(MITDB / "119.hea")
        ann = holterlab.read_annotations(MITDB / "119.atr").beats()
    n = int(600 * rec.fs)
    x = rec.get_samples(None, 0, n)
    keep = ann.sample < n
    from holterlab.annotations import aami_class

    mb = median_beats(x, rec.fs, ann.sample[keep], aami_class(ann.symbol[keep].astype(str)))
    assert mb.beats.shape[0] >= 15
    for i in range(mb.beats.shape[0]):
        beat, rr = mb.beats[i], float(mb.rr_ms[i])
        f = delineate(beat, rec.fs, mb.pre, st_offset_ms=60.0, rr_ms=rr)
        b64 = beat.astype(np.float64)
        onset, j, t_end, _, st = K.delineate_kernel(b64, rec.fs, mb.pre, 60.0, rr)
        assert (onset, j, t_end) == (f.onset, f.j_point, -1 if f.t_end is None else f.t_end)
        np.testing.assert_allclose(st, f.st_mv, atol=1e-6)
