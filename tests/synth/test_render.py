"""Rendering: any window equals the same slice of a full render; kernels equal references."""

from __future__ import annotations

import numpy as np
import pytest

from holterlab.params.synth import SynthParams
from holterlab.recording import SignalSource
from holterlab.synth import SynthSource, build_schedule, synthesize
from holterlab.synth.atrial import render_atrial, render_atrial_py
from holterlab.synth.morphology import (
    beat_components,
    render_beats,
    render_beats_numpy,
    render_beats_py,
)
from holterlab.synth.noise import BLOCK, KERNELS


def test_source_follows_the_protocol(dense):
    rec, _ = dense
    assert isinstance(rec.source, SignalSource)
    x = rec.get(start=10, stop=12)
    assert x.dtype == np.float32 and x.shape == (3, 500)
    d = rec.get_digital(None, 2500, 3000)
    assert d.dtype == np.int16
    assert np.allclose(d / 200.0, rec.get_samples(None, 2500, 3000), atol=0.5 / 200 + 1e-6)
    lo, hi = rec.source.digital_bounds
    assert lo <= d.min() and d.max() <= hi


def test_random_windows_equal_slices_of_a_full_render(dense, dense_noisy):
    rec, _ = dense
    src = rec.source
    n = rec.n_samples
    rng = np.random.default_rng(0)
    windows = [(0, 1), (n - 1, n), (0, n), (BLOCK - 3, BLOCK + 3), (2 * BLOCK - 20, 2 * BLOCK)]
    for _ in range(25):
        a = int(rng.integers(0, n - 1))
        windows.append((a, int(rng.integers(a + 1, min(n, a + 40000) + 1))))
    for a, b in windows:
        got = src.render(a, b)
        assert np.array_equal(got, dense_noisy[:, a:b]), (a, b)


def test_chunked_reads_reassemble_the_recording(dense, dense_noisy):
    rec, _ = dense
    for chunk in (7.3, 60.0):
        parts = [blk for _, blk in rec.iter_chunks(chunk)]
        assert np.array_equal(np.concatenate(parts, axis=1), dense_noisy.astype(np.float32))


def test_single_lead_reads_equal_all_lead_reads(dense, dense_noisy):
    rec, _ = dense
    for lead in range(3):
        assert np.array_equal(
            rec.source.render(3000, 90000, [lead])[0], dense_noisy[lead, 3000:90000]
        )
    assert np.array_equal(rec.source.render(100, 5000, [2, 0]), dense_noisy[[2, 0], 100:5000])


def test_noise_is_added_and_clean_render_is_smooth(dense, dense_clean, dense_noisy):
    diff = dense_noisy - dense_clean
    assert 0.01 < float(np.std(diff)) < 1.0
    # the clean signal has no high-frequency content beyond the QRS slopes
    assert np.max(np.abs(np.diff(dense_clean, axis=1))) < 0.5


def test_lead_off_segments_are_flat(dense, dense_noisy):
    rec, truth = dense
    offs = truth.of_type("lead_off")
    assert offs
    for ev in offs:
        a, b = int(np.ceil(ev["start_s"] * 250)) + 1, int(ev["end_s"] * 250) - 1
        for name in ev["leads"]:
            assert np.all(dense_noisy[rec.leads.index(name), a:b] == 0.0)


def test_render_beats_numba_python_numpy_agree(dense):
    rec, _ = dense
    sch = rec.source.schedule
    sl = slice(100, 160)
    c, s, a = beat_components(
        sch.bank,
        sch.lead_mat,
        sch.sample[sl] / sch.fs,
        sch.mid[sl],
        sch.pk[sl],
        sch.amp[sl],
        sch.rr[sl],
        sch.st[sl],
    )
    first, n = int(sch.sample[100]) - 50, int(sch.sample[159] - sch.sample[100]) + 100
    out_nb = render_beats(np.zeros((3, n)), first, sch.fs, c, s, a)
    out_py = render_beats_py(np.zeros((3, n)), first, sch.fs, c, s, a)
    out_np = render_beats_numpy(3, first, n, sch.fs, c, s, a)
    assert np.array_equal(out_nb, out_py)
    assert np.allclose(out_nb, out_np, atol=1e-12)
    assert np.abs(out_nb).max() > 0.5


def test_atrial_kernel_equals_python(dense):
    rec, _ = dense
    atr = rec.source.schedule.atrial
    assert set(atr.kind) == {1, 2}
    for e in range(len(atr)):
        first = int(atr.start[e] * 250) - 100
        n = 2000
        args = (
            np.array([0, 1, 2]),
            atr.kind,
            atr.start,
            atr.end,
            atr.t0,
            atr.freq,
            atr.df,
            atr.fm,
            atr.ph1,
            atr.ph2,
            atr.lead_amp,
        )
        nb = render_atrial(np.zeros((3, n)), first, 250.0, *args)
        py = render_atrial_py(np.zeros((3, n)), first, 250.0, *args)
        assert np.array_equal(nb, py)
        assert np.abs(nb).max() > 0.02


def test_noise_kernels_equal_python_references():
    p = SynthParams.showcase(mains_hz=50.0, mains_mv=0.02, noise_level=2.0)
    sch = build_schedule(hours=0.1, leads=2, fs=250.0, seed=4, params=p)
    fast = SynthSource(sch)
    slow = SynthSource(sch, use_numba=False)
    ev = sch.noise_events
    starts = [int(s * 250) - 300 for s in ev.start[:6]] + [BLOCK - 500]
    for a in starts:
        a = max(a, 0)
        b = min(a + 1500, sch.n_samples)
        assert np.array_equal(fast.render(a, b), slow.render(a, b)), a
    assert set(KERNELS) >= {"baseline_grid", "envelope", "lead_noise", "motion", "pop", "mains"}


def test_mains_interference_shows_at_its_frequency():
    p = SynthParams(
        mains_hz=50.0,
        mains_mv=0.05,
        baseline_mv=0.0,
        muscle_mv=0.0,
        motion_per_hour=0,
        pop_per_hour=0,
        lead_off_per_hour=0,
        noisy_per_hour=0,
    )
    rec, _ = synthesize(hours=0.01, leads=1, fs=500.0, seed=1, params=p)
    src = rec.source
    x = src.render(0, 10000)[0] - src.clean().render(0, 10000)[0]
    spec = np.abs(np.fft.rfft(x))
    f = np.fft.rfftfreq(x.size, 1 / 500.0)
    assert abs(f[np.argmax(spec)] - 50.0) < 0.2


@pytest.mark.parametrize("fs", [128.0, 360.0, 1000.0])
def test_other_sampling_rates_render(fs):
    rec, truth = synthesize(hours=0.02, leads=2, fs=fs, seed=9)
    x = rec.get()
    assert x.shape == (2, int(round(0.02 * 3600 * fs)))
    assert np.all(np.isfinite(x))
    r = truth.annotations.beats().sample
    clean = rec.source.clean().render(0, rec.n_samples)[0]
    inner = r[(r > fs) & (r < rec.n_samples - fs)]
    assert np.all(clean[inner] > 0.4)  # R peaks of lead II


def test_real_nstdb_noise_is_mixed_in_deterministically():
    from tests.conftest import NSTDB

    if not (NSTDB / "bw.hea").is_file():
        pytest.fail(f"NSTDB noise records missing in {NSTDB}")
    quiet = dict(
        baseline_mv=0.0,
        muscle_mv=0.0,
        motion_per_hour=0,
        pop_per_hour=0,
        lead_off_per_hour=0,
        noisy_per_hour=0,
    )
    p = SynthParams(real_noise=0.2, nstdb_dir=str(NSTDB), **quiet)
    rec, _ = synthesize(hours=0.02, leads=2, fs=250.0, seed=1, params=p)
    src = rec.source
    n = rec.n_samples
    noise = src.render(0, n) - src.clean().render(0, n)
    assert np.allclose(np.std(noise, axis=1), 0.2, rtol=0.6)
    assert not np.allclose(noise[0], noise[1])
    assert np.array_equal(src.render(5000, 7000), src.render(0, n)[:, 5000:7000])


def test_missing_nstdb_folder_is_reported(tmp_path):
    from holterlab.errors import HolterlabError

    with pytest.raises(HolterlabError, match="NSTDB"):
        synthesize(hours=0.01, seed=1, params=SynthParams(real_noise=0.1, nstdb_dir=str(tmp_path)))
