"""A small stand-in for the analysis pipeline and the report renderer, for server tests.

``analyze`` reads the recording, "works" for ``HOLTERLAB_TEST_SECONDS_PER_SIGNAL_S`` seconds
per second of signal (default 0.002) in small steps, reports progress, honours cancel and
returns a :class:`HolterResult` built from simple numbers (one beat per detected maximum).
Lead names choose misbehaviour: ``CRASH`` (the process dies), ``BOOM`` (a bug: RuntimeError),
``BAD`` (a HolterlabError), ``STUBBORN`` (ignores cancel). If ``HOLTERLAB_TEST_PIDDIR`` is set,
the worker writes ``<task_id>.pid`` there and appends a line to ``<task_id>.ticks`` per step.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from holterlab.errors import CancelledError, CorruptFileError
from holterlab.result import HolterResult


def _task_id(recording: Any) -> str:
    m = re.search(r"holter_task_[0-9a-f]{24}", str(recording.path or ""))
    return m.group(0) if m else "unknown"


def analyze(recording: Any, params: Any = None, *, progress: Any = None, cancel: Any = None):
    leads = set(recording.leads)
    task_id = _task_id(recording)
    piddir = os.environ.get("HOLTERLAB_TEST_PIDDIR")
    ticks = None
    if piddir:
        Path(piddir, f"{task_id}.pid").write_text(str(os.getpid()))
        ticks = Path(piddir, f"{task_id}.ticks")
    if "CRASH" in leads:
        os._exit(3)
    if "BOOM" in leads:
        raise RuntimeError("a bug in the analysis /secret/path/token=abc")
    if "BAD" in leads:
        raise CorruptFileError("the signal is flat: nothing to analyse")
    per_s = float(os.environ.get("HOLTERLAB_TEST_SECONDS_PER_SIGNAL_S", "0.002"))
    total = recording.duration * per_s
    steps = max(1, int(total / 0.05))
    for i in range(steps):
        if cancel is not None and cancel() and "STUBBORN" not in leads:
            raise CancelledError("cancelled")
        if ticks is not None:
            with open(ticks, "a") as fh:
                fh.write(f"{i}\n")
        time.sleep(total / steps)
        if progress is not None:
            progress("beats" if i < steps / 2 else "rhythm", (i + 1) / steps)
    x = recording.get_samples(0)[0]
    fs = recording.fs
    # beats: the maximum of every 1-second window above the median
    win = int(fs)
    n = len(x) // win
    peaks = np.array(
        [k * win + int(np.argmax(x[k * win : (k + 1) * win])) for k in range(n)], dtype=np.int64
    )
    rr = np.diff(peaks) / fs
    mean_hr = float(60.0 / rr.mean()) if rr.size else None
    dur = recording.duration
    return HolterResult(
        recording={
            "name": recording.name,
            "fs": fs,
            "duration_s": dur,
            "leads": recording.leads,
            "analysable_s": dur,
            "noise_pct": 0.0,
        },
        heart_rate={"mean_bpm": mean_hr, "min_bpm": mean_hr, "max_bpm": mean_hr},
        beats={"total": int(peaks.size), "N": int(peaks.size)},
        ventricular={"total": 0, "burden_pct": 0.0},
        supraventricular={"total": 0, "burden_pct": 0.0},
        af={"burden_pct": 0.0, "episodes": 0},
        pauses={"count": 0, "longest_s": None},
        params={"runner": "tests.server.runner"},
        beat_samples=peaks,
        beat_labels=np.array(["N"] * peaks.size),
        fs=fs,
    )


def render_report(
    result: Any, out_pdf: Any, *, recording_path: Any = None, patient: Any = None, paper: str = "A4"
) -> Path:
    """Write a tiny PDF naming the patient and the beat count (``result``: a result JSON)."""
    if not isinstance(result, HolterResult):
        result = HolterResult.from_json(result)
    pid = (patient or {}).get("id", "")
    text = f"holterlab test report patient={pid} beats={result.beats['total']}"
    body = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n% " + text.encode() + b"\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    Path(out_pdf).write_bytes(body)
    return Path(out_pdf)
