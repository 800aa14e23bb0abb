import datetime as dt

import numpy as np
import pytest

from holterlab.errors import ParameterError
from holterlab.recording import ArraySource, Recording


@pytest.fixture
def rec():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(3, 10_000)).astype(np.float32)
    return Recording.from_array(data, 250, ["I", "II", "V1"], start_time=dt.datetime(2026, 1, 1))


def test_facts(rec):
    assert rec.n_samples == 10_000
    assert rec.n_leads == 3
    assert rec.duration == pytest.approx(40.0)
    assert rec.info()["leads"] == ["I", "II", "V1"]


def test_get_by_name_index_and_window(rec):
    full = rec.get()
    assert full.dtype == np.float32 and full.shape == (3, 10_000)
    win = rec.get(leads="II", start=2.0, stop=3.0)
    np.testing.assert_array_equal(win, full[1:2, 500:750])
    np.testing.assert_array_equal(rec.get(leads=[2, "I"], start=1), full[[2, 0], 250:])
    assert rec.get(start=39.9, stop=100).shape == (3, 25)  # clipped at the end
    assert rec.get(start=50).shape == (3, 0)


def test_bad_lead_and_window(rec):
    with pytest.raises(ParameterError, match="no lead named 'V6'"):
        rec.get(leads="V6")
    with pytest.raises(ParameterError, match="out of range"):
        rec.get(leads=5)
    with pytest.raises(ParameterError):
        rec.get(start=float("nan"))


def test_invalid_fs_and_leads():
    with pytest.raises(ParameterError, match="positive"):
        Recording.from_array(np.zeros((1, 10)), 0)
    with pytest.raises(ParameterError, match="positive"):
        Recording.from_array(np.zeros((1, 10)), -250)
    with pytest.raises(ParameterError, match="lead names"):
        Recording.from_array(np.zeros((2, 10)), 250, ["only-one"])


def test_duplicate_lead_names_made_unique():
    rec = Recording.from_array(np.zeros((2, 10)), 250, ["ECG", "ECG"])
    assert rec.leads == ["ECG", "ECG_2"]


def test_iter_chunks_cover_signal_with_overlap(rec):
    full = rec.get()
    pieces = list(rec.iter_chunks(7.0, overlap=1.0))
    assert [p[0] for p in pieces] == list(range(0, 10_000, 1750))
    for i0, block in pieces:
        np.testing.assert_array_equal(block, full[:, i0 : i0 + block.shape[1]])
        assert block.shape[1] == min(1750 + 250, 10_000 - i0)


def test_integer_source_calibration():
    raw = np.array([[0, 200, -400]], dtype=np.int16)
    src = ArraySource(raw, adc_gain=np.array([200.0]), adc_zero=np.array([0.0]))
    rec = Recording(src, 100, ["ECG"], adc_gain=[200.0], adc_zero=[0.0])
    np.testing.assert_allclose(rec.get()[0], [0.0, 1.0, -2.0])
    np.testing.assert_array_equal(rec.get_digital(), raw)
    with pytest.raises(ParameterError, match="adc_gain"):
        ArraySource(raw)


def test_name_from_path():
    rec = Recording.from_array(np.zeros((1, 10)), 250)
    rec.path = "/data/rec01.hea"
    assert rec.name == "rec01"
    assert "rec01" in repr(rec)
