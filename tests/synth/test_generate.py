"""generate(): the signal file, NAME.atr and NAME.truth.json, and reading them back."""

from __future__ import annotations

import json

import numpy as np
import pytest

import holterlab
from holterlab.errors import HolterlabError, ParameterError
from holterlab.params.synth import SynthParams
from holterlab.synth import generate, synthesize
from holterlab.synth.api import record_paths


@pytest.mark.parametrize("ext", [".aiecg", ".hea", ".edf"])
def test_generate_writes_signal_annotations_and_truth(tmp_path, ext):
    out = tmp_path / "sub" / f"rec{ext}"
    res = generate(out, hours=0.05, leads=2, fs=250, seed=3, params=SynthParams.showcase())
    assert res.path.exists() and res.path.name == f"rec{ext}"
    assert res.annotation_path == tmp_path / "sub" / "rec.atr"
    assert res.truth_path == tmp_path / "sub" / "rec.truth.json"
    assert not list((tmp_path / "sub").glob("*.part"))

    rec = holterlab.read(res.path)
    assert rec.n_samples == res.recording.n_samples == 45000
    assert rec.fs == 250 and rec.n_leads == 2
    x = rec.get(start=30, stop=40)
    want = res.recording.get(start=30, stop=40)
    assert np.max(np.abs(x - want)) < 0.01  # quantisation of the file format

    ann = holterlab.read_annotations(res.annotation_path)
    assert ann == res.truth.annotations
    data = json.loads(res.truth_path.read_text())
    assert data["format"] == "holterlab-synth-truth"
    assert data["seed"] == 3 and data["fs"] == 250.0 and data["leads"] == ["II", "V5"]
    assert data["events"] == json.loads(json.dumps(res.truth.events))
    assert data["counts"]["N"] > 100
    assert SynthParams.from_dict(data["params"]) == SynthParams.showcase()


def test_generate_is_deterministic(tmp_path):
    a = generate(tmp_path / "a.aiecg", hours=0.02, leads=1, fs=200, seed=8)
    b = generate(tmp_path / "b.aiecg", hours=0.02, leads=1, fs=200, seed=8)
    assert (tmp_path / "a.atr").read_bytes() == (tmp_path / "b.atr").read_bytes()
    assert np.array_equal(holterlab.read(a.path).get(), holterlab.read(b.path).get())


def test_generate_progress_bar(tmp_path, capsys):
    generate(tmp_path / "p.aiecg", hours=0.01, leads=1, fs=250, seed=1, progress=True)
    assert "synth p" in capsys.readouterr().err


def test_synthesize_is_lazy_and_carries_the_truth():
    rec, truth = synthesize(hours=24, leads=2, fs=250, seed=1)
    assert rec.n_samples == 24 * 3600 * 250
    assert rec.annotations is truth.annotations
    assert len(truth.annotations.beats()) > 80000
    day = rec.get(start=14 * 3600, stop=14 * 3600 + 10)  # any window, without the rest
    assert day.shape == (2, 2500)
    assert rec.start_time.hour == 9


def test_bad_output_path_and_arguments(tmp_path):
    with pytest.raises(ParameterError, match="extension"):
        record_paths(tmp_path / "noext")
    with pytest.raises(HolterlabError):
        generate(tmp_path / "x.xyz", hours=0.01, seed=1)
    with pytest.raises(ParameterError):
        generate(tmp_path / "x.aiecg", hours=-1)
    assert not list(tmp_path.iterdir())
