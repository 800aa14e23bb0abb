"""SynthParams: validation, presets, round trip."""

from __future__ import annotations

import pytest

from holterlab.errors import ParameterError
from holterlab.params.synth import SynthParams


def test_defaults_are_valid_and_round_trip():
    p = SynthParams()
    assert SynthParams.from_dict(p.to_dict()) == p
    assert p.noise_level == 1.0 and not p.guarantee_each


@pytest.mark.parametrize(
    "changes",
    [
        {"pvc_per_hour": -1.0},
        {"hr_day_bpm": 10.0},
        {"noise_level": float("nan")},
        {"vt_min_bpm": 220.0, "vt_max_bpm": 150.0},
        {"af_min_s": 600.0, "af_max_s": 60.0},
        {"pause_min_s": 1.5},
        {"mains_hz": 55.0},
        {"pvc_foci": 1.5},
        {"real_noise": 1.0},
        {"guarantee_each": "yes"},
    ],
)
def test_invalid_values_raise_parameter_error(changes):
    with pytest.raises(ParameterError):
        SynthParams(**changes)


def test_unknown_key_in_dict_is_an_error():
    with pytest.raises(ParameterError, match="unknown synth parameter"):
        SynthParams.from_dict({"pvcs_per_hour": 3})


def test_presets():
    dense = SynthParams.preset("dense")
    assert dense == SynthParams.showcase()
    assert dense.guarantee_each and dense.pvc_per_hour > SynthParams().pvc_per_hour
    assert SynthParams.preset("normal", noise_level=0.0).noise_level == 0.0
    assert SynthParams.showcase(noise_level=2.0).noise_level == 2.0
    with pytest.raises(ParameterError, match="dense"):
        SynthParams.preset("busy")
