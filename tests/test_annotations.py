import numpy as np
import pytest

from holterlab.annotations import (
    Annotations,
    aami_class,
    read_annotations,
    write_annotations,
)
from holterlab.errors import AnnotationError, RecordingNotFoundError
from tests.conftest import MITDB


def test_aami_mapping():
    got = aami_class(["N", "L", "A", "V", "E", "F", "/", "f", "Q", "+", "~"])
    assert list(got) == ["N", "N", "S", "V", "V", "F", "Q", "Q", "Q", "", ""]


def test_sorting_and_views():
    ann = Annotations([30, 10, 20], ["V", "N", "+"], 100.0, aux=["", "", "(AFIB"])
    assert list(ann.sample) == [10, 20, 30]
    assert list(ann.symbol) == ["N", "+", "V"]
    assert list(ann.beats().symbol) == ["N", "V"]
    assert list(ann.rhythms().aux) == ["(AFIB"]
    assert list(ann.time) == [0.1, 0.2, 0.3]
    assert list(ann.resampled(200).sample) == [20, 40, 60]
    assert list(ann.window(15, 30).sample) == [20]


def test_invalid_annotations():
    with pytest.raises(AnnotationError):
        Annotations([1.5], ["N"], 100)
    with pytest.raises(AnnotationError):
        Annotations([-1], ["N"], 100)
    with pytest.raises(AnnotationError):
        Annotations([1, 2], ["N"], 100)
    with pytest.raises(AnnotationError):
        Annotations([1], ["N"], 0)


def test_round_trip(tmp_path):
    ann = Annotations(
        np.array([5, 100, 100_000, 10_000_000]),
        ["N", "V", "+", "A"],
        250.0,
        aux=["", "", "(AFIB", ""],
    )
    path = write_annotations(ann, tmp_path / "rec.hlab")
    assert path.name == "rec.hlab"
    back = read_annotations(path)
    assert back == ann
    assert not list(tmp_path.glob("*.part"))


def test_empty_round_trip(tmp_path):
    ann = Annotations(np.array([], dtype=np.int64), [], 360.0)
    path = write_annotations(ann, tmp_path / "empty.atr")
    back = read_annotations(path, fs=360)
    assert len(back) == 0


def test_read_mitdb_atr_matches_wfdb(mitdb):
    import wfdb

    ann = read_annotations(MITDB / "101.atr")
    ref = wfdb.rdann(str(MITDB / "101"), "atr")
    assert ann.fs == 360
    np.testing.assert_array_equal(ann.sample, ref.sample)
    assert list(ann.symbol) == list(ref.symbol)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(RecordingNotFoundError):
        read_annotations(tmp_path / "nope.atr")
    (tmp_path / "bad.atr").write_bytes(b"")
    with pytest.raises(AnnotationError, match="empty"):
        read_annotations(tmp_path / "bad.atr")
