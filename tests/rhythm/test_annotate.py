"""Rhythm-change annotations: priorities, and the round trip through a WFDB file."""

import numpy as np
import pytest

from holterlab.annotations import Annotations, read_annotations, write_annotations
from holterlab.errors import ParameterError
from holterlab.events import Event
from holterlab.rhythm import analyze_rhythm, rhythm_annotations
from holterlab.rhythm.annotate import rhythm_timeline
from tests.rhythm.rr_synth import RRBuilder

FS = 360.0


def test_vt_inside_af_interrupts_it():
    events = [Event("af", 10, 100), Event("vt", 40, 42), Event("v_couplet", 60, 61)]
    assert rhythm_timeline(events) == [
        (0.0, "(N"),
        (10.0, "(AFIB"),
        (40.0, "(VT"),
        (42.0, "(AFIB"),
        (100.0, "(N"),
    ]


def test_priorities_and_unannotated_types():
    events = [
        Event("brady", 0, 50),
        Event("v_bigeminy", 20, 30),
        Event("tachy", 60, 200),
        Event("s_bigeminy", 70, 80),
        Event("svt", 90, 95),
        Event("pause", 120, 123),
    ]
    assert rhythm_timeline(events) == [
        (0.0, "(SBR"),
        (20.0, "(B"),
        (30.0, "(SBR"),
        (50.0, "(N"),
        (90.0, "(SVTA"),
        (95.0, "(N"),
    ]
    assert rhythm_timeline([]) == [(0.0, "(N")]


def test_annotations_object():
    ann = rhythm_annotations([Event("af", 10, 100), Event("ivr", 200, 205)], FS)
    assert isinstance(ann, Annotations) and ann.fs == FS
    assert ann.symbol.tolist() == ["+"] * 5
    assert ann.aux.tolist() == ["(N", "(AFIB", "(N", "(IVR", "(N"]
    # one sample before the first and after the last beat of each episode
    assert ann.sample.tolist() == [0, 3599, 36001, 71999, 73801]
    with pytest.raises(ParameterError):
        rhythm_annotations([], 0)


def test_round_trip_through_a_wfdb_file(tmp_path):
    b = RRBuilder(seed=2).sinus(200).af(120).sinus(60).run("V", 6, 160).sinus(30)
    b.geminy("V", 5, 1).sinus(30).geminy("V", 4, 2).sinus(60)
    beats, labels, _ = b.build()
    result = analyze_rhythm(beats, labels, 250.0)
    ann = rhythm_annotations(result, 250.0)
    assert {"(AFIB", "(VT", "(B", "(T", "(N"} <= set(ann.aux.tolist())
    path = write_annotations(ann, tmp_path / "rec.hlab")
    back = read_annotations(path)
    assert back == ann
    # together with the beat annotations in one file
    beat_ann = Annotations(beats, labels, 250.0)
    both = Annotations.concatenate([beat_ann, ann])
    back = read_annotations(write_annotations(both, tmp_path / "all.hlab"))
    assert back.rhythms() == ann
    assert np.array_equal(back.beats().sample, beats)
