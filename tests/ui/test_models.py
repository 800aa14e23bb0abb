"""Workbench models: open, navigate, relabel (saved and reloaded), families, parameters,
comparison, background jobs. No Panel involved."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from holterlab.errors import HolterlabError, ParameterError
from holterlab.params.analysis import AnalysisParams
from holterlab.result import HolterResult
from holterlab.ui.edits import ARTEFACT, apply_edits, diff_edits, load_edits, save_edits
from holterlab.ui.models import WorkbenchModel, detector_available
from holterlab.ui.paramsmodel import ParamsModel


def test_models_do_not_import_panel_or_bokeh():
    code = (
        "import sys, holterlab.ui.models, holterlab.ui.paramsmodel, holterlab.ui.jobs;"
        "print([m for m in ('panel', 'bokeh', 'holoviews', 'datashader') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"


@pytest.fixture
def wb(sample):
    model = WorkbenchModel(background=False)
    model.open(sample.recording)  # NAME.result.json beside it is loaded too
    return model


def test_open_loads_recording_pyramid_and_result(wb, sample):
    result = HolterResult.from_json(sample.result)
    assert wb.pyramid is not None and wb.recording is not None
    assert wb.duration_s == pytest.approx(sample.duration_s)
    assert wb.result_path.endswith("rec.result.json")
    assert wb.counts["N"] == int(np.count_nonzero(result.beat_labels == "N"))
    assert wb.counts["V"] == int(np.count_nonzero(result.beat_labels == "V"))
    assert wb.summary["beats_total"] == result.beats["total"]
    assert wb.families.source == "labels"
    assert wb.families.n_families == len(set(result.beat_labels.tolist()))
    assert wb.edit_file.endswith("rec.edit.hlab")


def test_open_without_result_then_load(sample, tmp_path):
    sample.result.rename(tmp_path / "elsewhere.json")
    wb = WorkbenchModel(background=False)
    wb.open(sample.recording)
    assert wb.result is None and wb.counts == {}
    with pytest.raises(ParameterError):
        wb.relabel_beat("N")
    wb.load_result(tmp_path / "elsewhere.json")
    assert wb.samples.size > 100


def test_navigation(wb):
    fs = wb.fs
    wb.detail_seconds = 10.0
    wb.jump_to(100.0)
    assert wb.detail_start == pytest.approx(95.0)
    wb.page(1)
    assert wb.detail_start == pytest.approx(105.0)
    wb.page(-100)
    assert wb.detail_start == 0.0
    i = wb.next_beat(1, "V")
    assert i >= 0 and wb.labels[i] == "V" and wb.selected_beat == i
    assert wb.detail_start <= wb.samples[i] / fs <= wb.detail_start + 10
    j = wb.next_beat(1, "V")
    assert j > i and wb.labels[j] == "V"
    assert wb.next_beat(-1, "V") == i
    wb.jump_to(wb.samples[j] / fs)
    assert wb.select_beat_at(wb.samples[j] / fs + 0.05) == j
    assert wb.select_beat_at(-50.0) == -1
    wb.zoom(1)
    assert wb.detail_seconds == 20.0
    assert wb.key("ArrowRight") and not wb.key("?")


def test_events_jump(wb):
    events = wb.events
    assert len(events) > 3
    wb.jump_to_event(2)
    assert wb.detail_start <= events[2].start_s <= wb.detail_start + wb.detail_seconds
    assert wb.next_event(1) == 3
    assert wb.next_event(-1) == 2
    with pytest.raises(ParameterError):
        wb.jump_to_event(len(events))
    rows = wb.event_rows()
    assert rows[2]["type"] == events[2].type and rows[2]["start_s"] == round(events[2].start_s, 3)


def test_relabel_beat_saves_and_reloads(wb, sample):
    i = wb.next_beat(1, "V")
    v_before, n_before = wb.counts["V"], wb.counts["N"]
    wb.relabel_beat("N")
    assert wb.counts["V"] == v_before - 1 and wb.counts["N"] == n_before + 1
    assert wb.summary["beats_total"] == wb.current_result().beats["total"]
    assert wb.n_edits == 1
    samples, labels, fs = load_edits(wb.edit_file)
    assert samples.tolist() == [wb.samples[i]] and labels.tolist() == ["N"] and fs == wb.fs
    # artefact: no longer a beat
    total = wb.current_result().beats["total"]
    wb.relabel_beat(ARTEFACT, index=i + 1)
    assert wb.current_result().beats["total"] == total - 1
    assert wb.counts[ARTEFACT] == 1
    # a new session re-applies the edits
    again = WorkbenchModel(background=False)
    again.open(sample.recording)
    assert again.labels[i] == "N" and again.labels[i + 1] == ARTEFACT
    assert again.counts == wb.counts and again.n_edits == 2
    # relabelling back removes the edit
    again.relabel_beat(str(again.base_labels[i]), index=i)
    assert again.n_edits == 1
    assert load_edits(again.edit_file)[0].tolist() == [again.samples[i + 1]]


def test_relabel_family_updates_counts_and_summary(wb):
    fams = wb.families
    labels = fams.family_labels(wb.labels)
    f = labels.index("S")
    n_s = wb.counts["S"]
    v_before = wb.summary["v_total"]
    changed = wb.relabel_family(f, "V")
    assert changed == n_s
    assert wb.counts["S"] == 0
    assert fams.family_labels(wb.labels)[f] == "V"
    assert wb.summary["v_total"] == v_before + n_s  # re-summarised (synchronously here)
    assert fams.counts(wb.labels)[f] == n_s
    with pytest.raises(ParameterError):
        wb.relabel_family(f, "x")


def test_summary_events_follow_edits(wb):
    before = [e for e in wb.events if e.type == "v_couplet"]
    assert before
    couplet = before[0]
    i0 = int(np.searchsorted(wb.samples, couplet.start_s * wb.fs - 1))
    wb.relabel_beat("N", index=i0)
    after = [e for e in wb.events if e.type == "v_couplet"]
    assert all(abs(e.start_s - couplet.start_s) > 0.01 for e in after)


def test_edit_helpers_roundtrip(tmp_path):
    path = tmp_path / "my rec.v1.edit.hlab"
    save_edits(path, np.array([500, 100]), np.array(["V", ARTEFACT]), 250.0)
    s, lab, fs = load_edits(path)
    assert s.tolist() == [100, 500] and lab.tolist() == [ARTEFACT, "V"] and fs == 250.0
    beats = np.array([98, 300, 510])
    new, n = apply_edits(beats, np.array(["N", "N", "N"]), s, lab, 250.0)
    assert new.tolist() == [ARTEFACT, "N", "V"] and n == 2
    far, n = apply_edits(beats, np.array(["N"] * 3), np.array([200]), np.array(["V"]), 250.0)
    assert n == 0 and far.tolist() == ["N"] * 3
    ds, dl = diff_edits(beats, np.array(["N"] * 3), new)
    assert ds.tolist() == [98, 510] and dl.tolist() == [ARTEFACT, "V"]
    with pytest.raises(ParameterError):
        save_edits(path, np.array([1]), np.array(["Z"]), 250.0)
    save_edits(path, np.array([], dtype=np.int64), np.array([], dtype="<U1"), 250.0)
    assert load_edits(path)[0].size == 0


def test_params_model_covers_every_field():
    pm = ParamsModel()
    from holterlab.params.base import Params

    def leaves(cls, prefix=""):
        for row in cls.describe():
            if isinstance(row["default"], Params):
                yield from leaves(type(row["default"]), f"{prefix}{row['name']}.")
            else:
                yield prefix, row

    n = 0
    for prefix, row in leaves(AnalysisParams):
        stage = prefix[:-1] or "analysis"
        p = pm.stages[stage].param[row["name"]]
        if row.get("min") is not None:  # soft: out-of-range values are reported in .error
            assert p.softbounds[0] == row["min"]
        if row.get("choices"):
            assert list(p.objects) == list(row["choices"])
        assert p.doc == (row.get("doc") or "")
        n += 1
    assert n > 100
    assert pm.to_params() == AnalysisParams()
    pm.stages["rhythm.pause"].pause_s = 3.0
    assert pm.to_params().rhythm.pause.pause_s == 3.0
    assert pm.last_stage == "rhythm.pause" and not pm.needs_signal()
    pm.stages["rhythm.rate"].brady_bpm = 99.0  # brady must stay below tachy (100)
    pm.stages["rhythm.rate"].tachy_bpm = 90.0
    assert "brady_bpm" in pm.error
    pm.stages["detection"].param.update(**{})
    assert pm.needs_signal("detection")
    pm.set_params(AnalysisParams())
    assert pm.error == "" and pm.to_params() == AnalysisParams()


def test_rhythm_parameter_change_resummarises(wb):
    pauses = sum(e.type == "pause" for e in wb.events)
    wb.params.stages["rhythm.pause"].pause_s = 1.2
    assert sum(e.type == "pause" for e in wb.events) > pauses
    assert wb.result.params["rhythm"]["pause"]["pause_s"] == 1.2


def test_comparison_with_reference(wb, sample):
    cmp = wb.compare(sample.truth)
    assert cmp.qrs_se == 1.0 and cmp.qrs_pp == 1.0
    table = wb.comparison.ec57_table()
    assert table.set_index("statistic").loc["QRS Se", "percent"] == 100.0
    n_before = len(wb.comparison.disagreements)
    t = 400.0  # after the EC57 learning period
    i = int(np.searchsorted(wb.samples, t * wb.fs))
    new = "V" if wb.labels[i] != "V" else "N"
    wb.relabel_beat(new, index=i)
    wb.compare(sample.truth)
    d = wb.comparison.disagreements
    assert len(d) == n_before + 1
    row = int(np.flatnonzero(np.isclose(d["time_s"], wb.samples[i] / wb.fs, atol=0.01))[0])
    wb.jump_to_disagreement(row)
    assert wb.selected_beat == i
    assert wb.comparison.matrix().shape == (6, 6)


def test_comparison_with_result_json(wb, sample):
    wb.comparison.learning_s = 0.0
    cmp = wb.compare(str(sample.result))
    assert cmp.qrs_se == 1.0
    with pytest.raises(HolterlabError):
        wb.compare(str(sample.recording.with_suffix(".nothing")))


def test_background_open_and_poll(sample):
    wb = WorkbenchModel(background=True)
    wb.open(sample.recording)
    wb.wait(60)
    assert wb.pyramid is not None and not wb.busy
    assert wb.overview_version == 1
    i = wb.next_beat(1, "V")
    wb.relabel_beat("N", index=i)
    assert wb.summary_stale
    wb.wait(60)
    assert not wb.summary_stale and wb.summary_version >= 1


def test_result_from_reference_annotations(sample):
    from holterlab.recording import Recording
    from holterlab.synth import SynthParams, synthesize

    rec, truth = synthesize(hours=0.05, leads=2, fs=250, seed=1, params=SynthParams())
    assert isinstance(rec, Recording)
    wb = WorkbenchModel(background=False)
    wb.open(rec)
    wb.result_from_annotations()
    assert wb.samples.size == len(truth.annotations.beats())
    assert wb.edit_file == ""  # in-memory recording: edits are not saved
    wb.relabel_beat("V", index=0)
    assert wb.counts["V"] >= 1


needs_detector = pytest.mark.skipif(
    not detector_available(), reason="holterlab.beats.detect cannot be imported"
)


@needs_detector
def test_analyse_from_the_dashboard(sample):
    """The dashboard's analysis path: pipeline.analyze in a background thread with progress."""
    wb = WorkbenchModel(background=True)
    wb.open(sample.recording)
    wb.wait(60)
    stages = []
    wb.param.watch(lambda e: stages.append(e.new), "stage")
    wb.analyse()
    assert wb.busy
    wb.wait(600)
    assert wb.error == "", wb.error
    assert not wb.busy
    assert wb.result is not None and wb.samples.size > 100
    assert "analysis_s" in wb.last_timings
    assert stages, "no progress was reported"
    assert wb.families is not None and wb.families.n_families >= 1


@needs_detector
def test_cancel_analysis(sample):
    wb = WorkbenchModel(background=True)
    wb.open(sample.recording)
    wb.wait(60)
    wb.analyse()
    wb.cancel()
    wb.wait(120)
    assert not wb.busy
    assert "cancelled" in wb.status


@needs_detector
def test_rerun_visible_window(wb):
    wb.jump_to(200.0)
    n_before = wb.samples.size
    took = wb.rerun_window()
    assert took > 0
    i0, i1 = wb.detail_start * wb.fs, (wb.detail_start + wb.detail_seconds) * wb.fs
    inside = (wb.samples >= i0) & (wb.samples < i1)
    assert inside.sum() >= 5
    assert abs(wb.samples.size - n_before) <= 3
    assert np.all(np.diff(wb.samples) > 0)


@pytest.mark.slow
def test_export_pdf_report_of_the_edited_result(wb, tmp_path):
    if not wb.report_enabled:
        pytest.skip("holterlab.report is not installed")
    i = wb.next_beat(1, "V")
    wb.relabel_beat("N", index=i)
    out = tmp_path / "report.pdf"
    try:
        wb.export_report(out)
    except HolterlabError as exc:  # e.g. no chromium on this machine
        pytest.skip(f"report rendering unavailable: {exc}")
    assert out.is_file() and out.read_bytes()[:4] == b"%PDF"
    assert wb.report_path == str(out)
    assert wb.current_result().recording["leads"] == wb.recording.leads


@pytest.mark.parametrize("suffix", [".edf", ".hea", ".csv", ".aiecg"])
def test_open_every_writable_format(tmp_path, monkeypatch, suffix):
    """The workbench opens any format holterlab reads; the overview and edits work alike."""
    from holterlab.io import write
    from holterlab.pipeline import analyze_beats
    from holterlab.synth import synthesize

    monkeypatch.setenv("HOLTERLAB_CACHE_DIR", str(tmp_path / "cache"))
    rec, truth = synthesize(hours=0.05, leads=2, fs=250, seed=2)
    path = tmp_path / f"r1{suffix}"
    write(rec, path)
    wb = WorkbenchModel(background=False)
    wb.open(path)
    assert wb.recording.n_samples == rec.n_samples and wb.pyramid is not None
    env = wb.pyramid.envelope(0, wb.duration_s, 400)
    assert np.isfinite(env.hi).any()
    wb.load_result(analyze_beats(truth.annotations, duration_s=rec.duration))
    wb.relabel_beat("V", index=3)
    assert (tmp_path / "r1.edit.hlab").is_file()


def test_a_file_that_cannot_be_opened_leaves_the_open_recording(wb, tmp_path):
    """Opening a missing file or a non-recording used to close the open recording first:
    the views went on showing it while every redraw failed on the closed one."""
    from holterlab.errors import RecordingNotFoundError

    path, samples, rec = wb.path, wb.samples.copy(), wb.recording
    with pytest.raises(RecordingNotFoundError):
        wb.open(tmp_path / "missing.aiecg")
    (tmp_path / "notes.txt").write_text("not an ECG\n")
    with pytest.raises(HolterlabError):
        wb.open(tmp_path / "notes.txt")
    assert wb.recording is rec and wb.path == path and wb.pyramid is not None
    np.testing.assert_array_equal(wb.samples, samples)
    assert wb.recording.get_samples(None, 0, 10).shape == (2, 10)  # still readable
    wb.page(1)
    assert wb.next_beat(1, "V") >= 0


def test_the_result_of_another_recording_is_refused(sample):
    """A 15-minute result loaded for a 3-minute recording was accepted silently: its beats,
    counts and events were shown as the recording's own."""
    from holterlab.recording import Recording

    short = Recording.from_array(np.zeros((2, 250 * 180), np.float32), 250.0, ["II", "V5"])
    wb = WorkbenchModel(background=False)
    wb.open(short)
    with pytest.raises(ParameterError, match="past the end"):
        wb.load_result(sample.result)
    assert wb.result is None and wb.counts == {} and wb.result_path == ""


def test_a_bad_result_file_is_named_in_the_message(wb, tmp_path):
    """ "result is not valid JSON" did not say which file (the recording's or the result's)."""
    bad = tmp_path / "notes.json"
    bad.write_text("not json")
    with pytest.raises(HolterlabError, match=f"^{bad}: result is not valid JSON"):
        wb.load_result(bad)
    with pytest.raises(HolterlabError, match="no such result file"):
        wb.load_result(tmp_path / "nope.json")


def test_out_of_range_or_empty_parameters_are_reported_not_raised(wb):
    """The browser's number boxes send what is typed: a value out of range, or None for an
    emptied box, must come back as a message (``error``), not a ValueError from param."""
    pm = wb.params
    stage = pm.stages["rhythm.pause"]
    events = len(wb.events)
    stage.pause_s = 40.0
    assert "rhythm.pause.pause_s must be at most 30.0 s" in pm.error
    assert wb.status.startswith("invalid parameters:")
    with pytest.raises(ParameterError):
        pm.to_params()
    stage.pause_s = None
    assert "must be a number" in pm.error
    stage.pause_s = 2.5
    assert pm.error == "" and pm.to_params().rhythm.pause.pause_s == 2.5
    assert len(wb.events) != events or wb.result.params["rhythm"]["pause"]["pause_s"] == 2.5
