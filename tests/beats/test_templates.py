"""Morphology families: clustering, merging, numbering, gallery templates."""

from __future__ import annotations

import numpy as np
import pytest

from holterlab.beats.features import extract_beat_windows, window_geometry
from holterlab.beats.templates import (
    Families,
    cluster_windows,
    gallery_members,
    median_templates,
)
from holterlab.errors import ParameterError
from holterlab.params.classification import ClassificationParams

from ._synthetic_beats import synthetic_ecg

FS = 250.0


def _windows(kinds, seed=0, noise=0.01, scale=None):
    x, beats = synthetic_ecg(kinds, fs=FS, noise=noise, seed=seed)
    if scale is not None:
        for i, s in scale.items():
            lo = beats[i] - 100
            x[:, lo : beats[i] + 100] *= s
    rng = np.random.default_rng(seed)
    beats = beats + rng.integers(-7, 8, beats.size)
    g = window_geometry(FS, ClassificationParams())
    return extract_beat_windows(x, beats, g), x


def test_one_morphology_is_one_family():
    w, _ = _windows(["N"] * 60, noise=0.02)
    cl = cluster_windows(w, ClassificationParams())
    assert cl.n_families == 1
    assert np.all(cl.family == 0)
    assert cl.counts.tolist() == [60]
    assert np.all(cl.corr > 0.95)


def test_two_morphologies_two_families_numbered_by_size():
    kinds = (["N"] * 5 + ["V"]) * 12
    w, _ = _windows(kinds)
    cl = cluster_windows(w, ClassificationParams())
    kinds = np.array(kinds)
    assert cl.n_families == 2
    assert np.all(cl.family[kinds == "N"] == 0)  # the larger family is family 0
    assert np.all(cl.family[kinds == "V"] == 1)
    assert cl.counts.tolist() == [60, 12]


def test_amplitude_ratio_separates_same_shape():
    kinds = ["N"] * 40
    big = {i: 3.0 for i in range(20, 40)}
    w, _ = _windows(kinds, scale=big)
    cl = cluster_windows(w, ClassificationParams())
    assert cl.n_families == 2
    assert np.unique(cl.family[:20]).size == 1 and np.unique(cl.family[20:]).size == 1
    loose = cluster_windows(w, ClassificationParams(family_amplitude_ratio=4.0))
    assert loose.n_families == 1


def test_max_families_bounds_the_count():
    rng = np.random.default_rng(0)
    w, _ = _windows(["N"] * 30)
    w.win[:] = rng.standard_normal(w.win.shape).astype(np.float32)  # every beat different
    w.scal[:, 0] = 1.0
    cl = cluster_windows(w, ClassificationParams(max_families=5))
    assert cl.n_families <= 5
    assert cl.counts.sum() == 30
    assert np.all(cl.family >= 0)


def test_merge_joins_similar_families():
    kinds = ["N"] * 40
    w, _ = _windows(kinds)
    # strict clustering splits noisy copies; merging at a looser threshold joins them again
    strict = ClassificationParams(family_threshold=0.999, merge_threshold=0.999)
    merged = ClassificationParams(family_threshold=0.999 - 0.1, merge_threshold=0.95)
    assert cluster_windows(w, strict).n_families >= 1
    assert cluster_windows(w, merged).n_families == 1


def test_gallery_members_and_median_templates():
    kinds = (["N"] * 5 + ["V"]) * 10
    w, x = _windows(kinds)
    cl = cluster_windows(w, ClassificationParams())
    members = gallery_members(cl.family, cl.corr, cl.n_families, 8)
    assert [len(m) for m in members] == [8, 8]
    for f, m in enumerate(members):
        assert np.all(cl.family[m] == f)
    g = w.geometry

    def read(start, stop):
        idx = np.clip(np.arange(start, stop), 0, x.shape[1] - 1)
        return x[:, idx]

    tpl = median_templates(read, w.fid, members, 2, g.pre, g.post)
    assert tpl.shape == (2, 2, g.pre + g.post + 1)
    # N template: R peak at the fiducial in lead 0; V template: large negative deflection
    assert np.argmax(tpl[0, 0]) == pytest.approx(g.pre, abs=3)
    assert tpl[1, 0].min() < -0.8


def test_families_relabel_validates():
    fam = Families(
        templates=np.zeros((2, 1, 5), np.float32),
        counts=np.array([3, 1]),
        labels=np.array(["N", "V"]),
        fs=250.0,
        pre_ms=8.0,
        post_ms=8.0,
    )
    fam.relabel(1, "F")
    assert list(fam.labels) == ["N", "F"]
    assert fam.time_ms.tolist() == [-8.0, -4.0, 0.0, 4.0, 8.0]
    with pytest.raises(ParameterError):
        fam.relabel(0, "Z")
    with pytest.raises(ParameterError):
        fam.relabel(5, "N")


def test_median_template_leaves_out_beats_whose_lead_was_off():
    """Lead 1 is off (flat, or missing samples) in 4 of 9 beats: its template is the median
    of the 5 beats with signal, not pulled towards zero; off in all, it stays all zero."""
    rng = np.random.default_rng(1)
    width = 21
    shape = np.sin(np.linspace(0, np.pi, width)).astype(np.float32)
    beats = {}
    for i in range(9):
        w = np.stack([shape * 1.0, shape * 0.5]) + rng.normal(0, 0.01, (2, width))
        if i in (0, 2):
            w[1] = 0.0  # flat: lead off
        if i in (4, 6):
            w[1, 5:9] = np.nan  # missing samples
        beats[i * 100] = w.astype(np.float32)

    def read(start, stop):
        return beats[start + 10]

    fid = np.arange(9) * 100
    tpl = median_templates(read, fid, [np.arange(9)], 2, 10, 10)
    good = np.stack([beats[i * 100][1] for i in (1, 3, 5, 7, 8)])
    np.testing.assert_allclose(tpl[0, 1], np.median(good, axis=0), atol=1e-6)
    assert tpl[0, 1].max() > 0.45 and np.isfinite(tpl[0]).all()
    off = {k: np.stack([v[0], np.zeros(width, np.float32)]) for k, v in beats.items()}
    tpl_off = median_templates(lambda a, b: off[a + 10], fid, [np.arange(9)], 2, 10, 10)
    assert not tpl_off[0, 1].any() and tpl_off[0, 0].max() > 0.9
