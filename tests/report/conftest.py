"""Shared synthetic recording and result for the report tests (made once per session)."""

from __future__ import annotations

import json

import pytest

from tests.report.helpers import make_recording, make_result


@pytest.fixture(scope="session")
def synth_rec(tmp_path_factory):
    """A 10-minute dense-event 3-lead WFDB recording with reference annotations."""
    return make_recording(tmp_path_factory.mktemp("report-rec"), "synth10", minutes=10, seed=3)


@pytest.fixture(scope="session")
def synth_result(synth_rec):
    """(path, dict) of its result JSON (with the beat list), analysed from the reference beats."""
    path = synth_rec.with_name("synth10.result.json")
    make_result(synth_rec, path)
    return path, json.loads(path.read_text())
