"""``HolterResult``: the typed, versioned result of a Holter analysis.

Its JSON (:meth:`HolterResult.to_dict`) is the API's result schema; the JSON Schema lives in
``holterlab/schemas/result.schema.json`` and every result is validated against it in tests.
The top level is stable for users and scripts:

``schema_version``, ``holterlab_version``, ``params``, ``recording``, ``heart_rate``, ``beats``,
``ventricular``, ``supraventricular``, ``af``, ``pauses``, ``hrv``, ``st``, ``qt``, ``hourly``,
``events`` (and ``beat_list`` when beats are included).

Numbers carry their unit in their name (``sdnn_ms``, ``rate_bpm``, ``duration_s``). Undefined
values are ``null``, never NaN.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from holterlab._atomic import atomic_write_text
from holterlab._version import __version__
from holterlab.errors import HolterlabError
from holterlab.events import Event, events_to_frame

__all__ = ["HolterResult", "SCHEMA_VERSION", "ResultError", "result_schema", "json_safe"]

#: Version of the result schema: MAJOR changes break readers, MINOR ones only add fields.
SCHEMA_VERSION = "1.2"

SECTIONS = (
    "recording",
    "heart_rate",
    "beats",
    "ventricular",
    "supraventricular",
    "af",
    "pauses",
    "hrv",
    "st",
    "qt",
)


class ResultError(HolterlabError):
    """A result file or dictionary is not a valid holterlab result."""


def json_safe(value: Any) -> Any:
    """Convert numpy scalars/arrays to plain Python, NaN/inf to None, recursively."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if hasattr(value, "to_dict"):
        return json_safe(value.to_dict())
    return value


def result_schema() -> dict[str, Any]:
    """The committed JSON Schema of a result."""
    text = resources.files("holterlab").joinpath("schemas/result.schema.json").read_text()
    return json.loads(text)


@dataclass
class HolterResult:
    """The result of :func:`holterlab.analyze` (or ``analyze_beats``).

    Sections are JSON-ready dictionaries produced by each stage's typed result; the beat list
    (sample index and AAMI label of every beat) is kept as arrays.
    """

    recording: dict[str, Any]
    heart_rate: dict[str, Any]
    beats: dict[str, Any]
    ventricular: dict[str, Any]
    supraventricular: dict[str, Any]
    af: dict[str, Any]
    pauses: dict[str, Any]
    hrv: dict[str, Any] | None = None
    st: dict[str, Any] | None = None
    qt: dict[str, Any] | None = None
    hourly: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    beat_samples: np.ndarray | None = None
    beat_labels: np.ndarray | None = None
    fs: float | None = None
    #: The classifier's :class:`~holterlab.beats.classify.BeatLabels` (morphology families,
    #: templates) when the result was analysed from the signal in this process; not serialised.
    classification: Any = field(default=None, repr=False, compare=False)
    holterlab_version: str = __version__
    schema_version: str = SCHEMA_VERSION

    # ------------------------------------------------------------------ JSON
    def to_dict(self, *, include_beats: bool = False) -> dict[str, Any]:
        """The result as plain JSON types; ``include_beats`` adds the columnar beat list."""
        out: dict[str, Any] = {
            "schema_version": self.schema_version,
            "holterlab_version": self.holterlab_version,
            "params": self.params,
        }
        for name in SECTIONS:
            out[name] = getattr(self, name)
        out["hourly"] = self.hourly
        out["events"] = [e.to_dict() for e in sorted(self.events, key=lambda e: e.start_s)]
        if include_beats and self.beat_samples is not None:
            out["beat_list"] = self.beat_list()
        return json_safe(out)

    def beat_list(self) -> dict[str, Any]:
        """Columnar beat list: ``fs``, ``sample``, ``time_s`` and ``label`` arrays."""
        if self.beat_samples is None or self.fs is None:
            raise ResultError("this result holds no beat list")
        return {
            "fs": self.fs,
            "sample": self.beat_samples.astype(np.int64).tolist(),
            "time_s": np.round(self.beat_samples / self.fs, 4).tolist(),
            "label": [str(x) for x in self.beat_labels],
        }

    def to_json(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        include_beats: bool = False,
        indent: int | None = 1,
    ) -> str:
        """Serialise to JSON; with ``path``, also write it atomically."""
        text = json.dumps(self.to_dict(include_beats=include_beats), indent=indent)
        if path is not None:
            atomic_write_text(path, text + "\n")
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HolterResult:
        """Load a result dictionary (as written by :meth:`to_dict`)."""
        if not isinstance(data, dict):
            raise ResultError("a result must be a JSON object")
        version = str(data.get("schema_version", ""))
        if not version:
            raise ResultError("not a holterlab result: no schema_version")
        if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise ResultError(
                f"result schema {version} is not readable by this holterlab "
                f"(schema {SCHEMA_VERSION}); upgrade holterlab"
            )
        missing = [k for k in ("recording", "heart_rate", "beats") if k not in data]
        if missing:
            raise ResultError(f"result is missing {', '.join(missing)}")
        beats = data.get("beat_list")
        samples = labels = fs = None
        if beats:
            fs = float(beats["fs"])
            samples = np.asarray(beats["sample"], dtype=np.int64)
            labels = np.asarray(beats["label"], dtype="<U1")
        return cls(
            **{name: data.get(name) for name in SECTIONS},
            hourly=list(data.get("hourly") or []),
            events=[Event.from_dict(e) for e in data.get("events") or []],
            params=dict(data.get("params") or {}),
            beat_samples=samples,
            beat_labels=labels,
            fs=fs if fs is not None else (data.get("recording") or {}).get("fs"),
            holterlab_version=str(data.get("holterlab_version", "")),
            schema_version=version,
        )

    @classmethod
    def from_json(cls, path_or_text: str | os.PathLike[str]) -> HolterResult:
        """Load from a JSON file path or a JSON string."""
        text = str(path_or_text)
        if not text.lstrip().startswith("{"):
            p = Path(path_or_text)
            if not p.is_file():
                raise ResultError(f"{p}: no such result file")
            text = p.read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ResultError(f"result is not valid JSON ({exc})") from None
        return cls.from_dict(data)

    def validate(self) -> None:
        """Validate :meth:`to_dict` against the committed JSON Schema (raises ResultError)."""
        import jsonschema

        try:
            jsonschema.validate(self.to_dict(include_beats=True), result_schema())
        except jsonschema.ValidationError as exc:
            where = "/".join(str(p) for p in exc.absolute_path)
            raise ResultError(
                f"result does not match its schema at {where}: {exc.message}"
            ) from None

    # ------------------------------------------------------------------ tables
    def to_pandas(self) -> dict[str, Any]:
        """The result's tables as pandas DataFrames.

        Keys: ``summary`` (one row of headline numbers), ``events``, ``hourly``, ``ectopy``
        (one row per ectopy class, ``V`` and ``S``), ``beats`` (when the beat list is held),
        ``hrv_hourly`` and ``hrv_periods`` (day and night), ``st_trend`` and ``qt_trend``
        (when present).
        """
        import pandas as pd

        tables: dict[str, Any] = {
            "summary": pd.DataFrame([self.headline()]),
            "events": events_to_frame(self.events),
            "hourly": pd.DataFrame(self.hourly),
        }
        if self.beat_samples is not None and self.fs:
            tables["beats"] = pd.DataFrame(
                {
                    "sample": self.beat_samples,
                    "time_s": self.beat_samples / self.fs,
                    "label": self.beat_labels,
                }
            )
        rows = []
        for cls, sec in (("V", self.ventricular), ("S", self.supraventricular)):
            if sec:
                runs = ("longest_run", "fastest_run")
                row = {
                    k: v
                    for k, v in sec.items()
                    if k not in runs and not isinstance(v, (dict, list))
                }
                for key in runs:
                    run = sec.get(key) or {}
                    row[f"{key}_beats"] = run.get("n_beats")
                    row[f"{key}_bpm"] = run.get("rate_bpm")
                rows.append({"class": cls, **row})
        tables["ectopy"] = pd.DataFrame(rows)
        if self.hrv:
            tables["hrv_hourly"] = pd.DataFrame(self.hrv.get("hourly") or [])
            periods = [self.hrv.get(k) for k in ("day", "night")]
            tables["hrv_periods"] = pd.DataFrame([p for p in periods if p])
        if self.st and self.st.get("trend"):
            tables["st_trend"] = pd.DataFrame(self.st["trend"])
        if self.qt and self.qt.get("trend"):
            tables["qt_trend"] = pd.DataFrame(self.qt["trend"])
        return tables

    def headline(self) -> dict[str, Any]:
        """The headline numbers (one flat dictionary: batch summary rows, CLI output)."""
        rec, hr, beats = self.recording or {}, self.heart_rate or {}, self.beats or {}
        v, s = self.ventricular or {}, self.supraventricular or {}
        af, pauses, hrv = self.af or {}, self.pauses or {}, self.hrv or {}
        qt = self.qt or {}
        return json_safe(
            {
                "name": rec.get("name"),
                "duration_s": rec.get("duration_s"),
                "analysable_s": rec.get("analysable_s"),
                "noise_pct": rec.get("noise_pct"),
                "noisy_pct": rec.get("noisy_pct"),
                "beats_total": beats.get("total"),
                "hr_min_bpm": (hr.get("min") or {}).get("bpm"),
                "hr_mean_bpm": hr.get("mean_bpm"),
                "hr_max_bpm": (hr.get("max") or {}).get("bpm"),
                "hr_max_sinus_bpm": (hr.get("sinus_max") or {}).get("bpm"),
                "v_total": v.get("total"),
                "v_burden_pct": v.get("burden_pct"),
                "s_total": s.get("total"),
                "s_burden_pct": s.get("burden_pct"),
                "af_burden_pct": af.get("burden_pct"),
                "af_episodes": af.get("episodes"),
                "pauses": pauses.get("count"),
                "longest_pause_s": pauses.get("longest_s"),
                "sdnn_ms": hrv.get("sdnn_ms"),
                "rmssd_ms": hrv.get("rmssd_ms"),
                "mean_qtc_ms": qt.get("mean_qtc_ms"),
            }
        )
