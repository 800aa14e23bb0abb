"""The study file (YAML): recordings with references, parameter variants, evaluation, output.

Format (every key but ``recordings`` is optional)::

    name: AF detector thresholds          # title of the report
    mode: beats                           # "signal" (analyze) or "beats" (analyze_beats on
                                          #  the reference annotations: rhythm/HRV studies)
    out: af-study                         # output folder (relative to this file)
    scheduler: tcp://10.0.0.5:8786        # Dask scheduler (or a scheduler JSON file); none: local
    jobs: 2                               # local processes when no scheduler
    recordings:
      - /data/mitdb/201.atr               # a path, a URL (s3://...) or a glob (mitdb/2*.atr)
      - path: /data/mitdb/203.hea         # signal mode: the recording
        reference: /data/mitdb/203.atr    #   reference: annotation file or result JSON
        name: r203                        #   display name (default: the file stem)
      - glob: /data/mitdb/1*.hea          # a folder glob, each with the sibling .atr
        reference_ext: atr
    read_options: {}                      # signal mode: options of holterlab.read (fs=, ...)
    base:                                 # AnalysisParams dict every variant starts from
      rhythm: {af: {exit_threshold: 0.05}}
    grid:                                 # cartesian product of dotted keys
      rhythm.af.threshold: [0.06, 0.1]
      rhythm.pause.pause_s: [2.0, 3.0]
    variants:                             # and/or explicit named variants (onto base)
      - name: strict
        params: {rhythm: {af: {threshold: 0.2}}}
    remote:                               # one more "algorithm": the analysis service,
      url: https://holter.example.com     #  called with the base parameters
      api_key_env: HOLTERLAB_API_KEY
    evaluation:
      learning_s: 300                     # EC57: the first 5 minutes are not scored
      window_ms: 150
      event_types: [af, pause]            # episode statistics (epicmp rules)
    report: {html: true, pdf: false}

Without ``grid`` and ``variants`` there is one variant, ``base``. A grid variant is named
after its values (``threshold=0.06 pause_s=2``, the last part of each dotted key unless two
keys share it). A recording's reference defaults to the file itself in beats mode and to the
sibling with ``reference_ext`` (``atr``) in signal mode.
"""

from __future__ import annotations

import glob as globlib
import hashlib
import itertools
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from holterlab.distributed.workers import is_url
from holterlab.errors import HolterlabError, ParameterError

__all__ = [
    "StudySpec",
    "StudyRecording",
    "Variant",
    "Evaluation",
    "RemoteSpec",
    "load_study",
    "study_from_dict",
    "expand_grid",
    "run_key",
    "MODES",
    "DEFAULT_EVENT_TYPES",
]

MODES = ("signal", "beats")
DEFAULT_EVENT_TYPES = ("af", "pause")
_KNOWN_KEYS = {
    "name",
    "mode",
    "out",
    "scheduler",
    "jobs",
    "recordings",
    "read_options",
    "format",
    "base",
    "grid",
    "variants",
    "remote",
    "evaluation",
    "report",
}


@dataclass(frozen=True)
class StudyRecording:
    """One recording of a study: what is analysed (``path``) and the reference it is scored
    against (``reference``: a WFDB annotation file or a result JSON)."""

    name: str
    path: str
    reference: str


@dataclass(frozen=True)
class Variant:
    """One parameter set (or the remote service).

    Attributes
    ----------
    name
        Display name, unique in the study.
    params
        The complete :class:`~holterlab.params.analysis.AnalysisParams` dictionary.
    overrides
        What the variant sets on top of ``base`` (nested dict), for the record.
    algorithm
        ``"holterlab"`` or ``"remote"``.
    """

    name: str
    params: dict[str, Any]
    overrides: dict[str, Any] = field(default_factory=dict)
    algorithm: str = "holterlab"


@dataclass(frozen=True)
class Evaluation:
    """How each run is scored (see :func:`holterlab.compare.compare`)."""

    learning_s: float = 300.0
    window_ms: float = 150.0
    event_types: tuple[str, ...] = DEFAULT_EVENT_TYPES

    def to_dict(self) -> dict[str, Any]:
        return {
            "learning_s": self.learning_s,
            "window_ms": self.window_ms,
            "event_types": list(self.event_types),
        }


@dataclass(frozen=True)
class RemoteSpec:
    """The analysis service as one more algorithm (:class:`holterlab.client.HolterClient`)."""

    url: str
    api_key_env: str = "HOLTERLAB_API_KEY"
    name: str = "remote"
    timeout_s: float = 6 * 3600.0


@dataclass(frozen=True)
class StudySpec:
    """A parsed, validated study (:func:`load_study`)."""

    name: str
    mode: str
    recordings: tuple[StudyRecording, ...]
    variants: tuple[Variant, ...]
    varied: tuple[str, ...]
    evaluation: Evaluation = Evaluation()
    out: Path = Path("study-out")
    scheduler: str | None = None
    jobs: int = 1
    remote: RemoteSpec | None = None
    read_options: dict[str, Any] = field(default_factory=dict)
    format: str | None = None
    report_html: bool = True
    report_pdf: bool = False
    source: Path | None = None
    #: The complete AnalysisParams dictionary of ``base:`` (what the remote service gets).
    base_params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (written beside the results as ``study.json``)."""
        return {
            "name": self.name,
            "mode": self.mode,
            "recordings": [r.__dict__ for r in self.recordings],
            "variants": [
                {"name": v.name, "algorithm": v.algorithm, "overrides": v.overrides}
                for v in self.variants
            ],
            "varied": list(self.varied),
            "evaluation": self.evaluation.to_dict(),
            "out": str(self.out),
            "scheduler": self.scheduler,
            "jobs": self.jobs,
            "remote": None
            if self.remote is None
            else {"url": self.remote.url, "name": self.remote.name},
            "read_options": self.read_options,
            "format": self.format,
            "source": None if self.source is None else str(self.source),
        }

    def variant_values(self, variant: Variant) -> dict[str, Any]:
        """The value of every varied parameter (dotted key) in ``variant``."""
        return {key: get_dotted(variant.params, key) for key in self.varied}


# ---------------------------------------------------------------------- dotted keys
def get_dotted(params: dict[str, Any], key: str) -> Any:
    node: Any = params
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _set_dotted(tree: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ParameterError(f"grid key {key!r}: {part!r} is not a parameter group")
    node[parts[-1]] = value


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in tree.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(base))
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _check_key(key: str, defaults: dict[str, Any]) -> None:
    value = get_dotted(defaults, key)
    if value is None or isinstance(value, dict):
        flat = sorted(_flatten(defaults))
        head = key.rsplit(".", 1)[0] + "."
        near = [k for k in flat if k.startswith(head)] or flat[:12]
        raise ParameterError(
            f"unknown parameter {key!r} in the study grid; e.g. {', '.join(near[:12])}"
        )


def _full_params(overrides: dict[str, Any], where: str) -> dict[str, Any]:
    from holterlab.params.analysis import AnalysisParams

    try:
        return AnalysisParams.from_dict(overrides).to_dict()
    except ParameterError as exc:
        raise ParameterError(f"{where}: {exc}") from None
    except TypeError as exc:  # a scalar where a group was expected
        raise ParameterError(f"{where}: invalid parameters ({exc})") from None


def _fmt_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def expand_grid(
    base: dict[str, Any] | None, grid: dict[str, list[Any]] | None
) -> list[tuple[str, dict[str, Any]]]:
    """``(name, overrides)`` of every combination of the grid (cartesian product), in order.

    Keys are dotted parameter paths (``rhythm.af.threshold``); values lists (a scalar is a
    one-value list). ``overrides`` is ``base`` with the combination set on it.
    """
    from holterlab.params.analysis import AnalysisParams

    base = dict(base or {})
    if not grid:
        return []
    if not isinstance(grid, dict):
        raise ParameterError("grid must map dotted parameter names to lists of values")
    defaults = AnalysisParams().to_dict()
    keys = [str(k) for k in grid]
    values = []
    for key in keys:
        _check_key(key, defaults)
        v = grid[key]
        v = list(v) if isinstance(v, (list, tuple)) else [v]
        if not v:
            raise ParameterError(f"grid key {key!r} has no values")
        values.append(v)
    last = [k.rsplit(".", 1)[-1] for k in keys]
    labels = [s if last.count(s) == 1 else k for s, k in zip(last, keys, strict=True)]
    out = []
    for combo in itertools.product(*values):
        over = json.loads(json.dumps(base))
        for key, value in zip(keys, combo, strict=True):
            _set_dotted(over, key, value)
        name = " ".join(f"{lab}={_fmt_value(v)}" for lab, v in zip(labels, combo, strict=True))
        out.append((name, over))
    return out


# ---------------------------------------------------------------------- recordings
def _resolve(path: str, base_dir: Path) -> str:
    path = os.path.expanduser(str(path))
    if is_url(path) or os.path.isabs(path):
        return path
    return str((base_dir / path).resolve())


def _has_magic(path: str) -> bool:
    return any(c in path for c in "*?[")


def _glob(pattern: str) -> list[str]:
    if is_url(pattern):
        import fsspec

        try:
            fs, fspath = fsspec.core.url_to_fs(pattern)
        except (ImportError, ValueError) as exc:
            raise ParameterError(f"{pattern}: cannot open this URL ({exc})") from None
        # unstrip_protocol keeps the root of each file system (file:///data/x.atr, not
        # file://data/x.atr, which would name the host "data")
        return sorted(fs.unstrip_protocol(p) for p in fs.glob(fspath))
    return sorted(globlib.glob(pattern))


def _stem(path: str) -> str:
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def _sibling(path: str, ext: str) -> str:
    head, _, name = path.rstrip("/").rpartition("/")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{head}/{stem}.{ext}" if head else f"{stem}.{ext}"


def _recordings(entries: Any, mode: str, base_dir: Path) -> tuple[StudyRecording, ...]:
    if isinstance(entries, (str, dict)):
        entries = [entries]
    if not isinstance(entries, list) or not entries:
        raise ParameterError("the study lists no recordings (recordings: [paths or globs])")
    found: list[tuple[str | None, str, str | None]] = []
    for entry in entries:
        if isinstance(entry, str):
            entry = {"glob" if _has_magic(entry) else "path": entry}
        if not isinstance(entry, dict):
            raise ParameterError(f"a recording entry must be a path or a mapping, got {entry!r}")
        unknown = set(entry) - {"path", "glob", "reference", "reference_ext", "name"}
        if unknown:
            raise ParameterError(
                f"unknown key(s) in a recording entry: {', '.join(sorted(unknown))}"
            )
        ext = str(entry.get("reference_ext") or "atr").lstrip(".")
        if "glob" in entry:
            pattern = _resolve(str(entry["glob"]), base_dir)
            paths = _glob(pattern)
            if not paths:
                raise ParameterError(f"no files match {pattern}")
            if "reference" in entry or "name" in entry:
                raise ParameterError("a glob entry takes reference_ext, not reference or name")
            found += [(None, p, None if mode == "beats" else _sibling(p, ext)) for p in paths]
        elif "path" in entry:
            path = _resolve(str(entry["path"]), base_dir)
            ref = entry.get("reference")
            ref = _resolve(str(ref), base_dir) if ref else None
            if ref is None and mode == "signal":
                ref = _sibling(path, ext)
            found.append((entry.get("name"), path, ref))
        else:
            raise ParameterError("a recording entry needs path: or glob:")
    out: list[StudyRecording] = []
    for name, path, ref in found:
        if mode == "beats":
            if path.lower().endswith(".hea"):
                path = _sibling(path, "atr")
            ref = ref or path
        out.append(StudyRecording(str(name) if name else _stem(path), path, str(ref)))
    names = [r.name for r in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        # same stems in different folders: prefix the folder name
        out = [
            StudyRecording(f"{_stem(r.path.rsplit('/', 1)[0])}/{r.name}", r.path, r.reference)
            if r.name in dupes
            else r
            for r in out
        ]
        names = [r.name for r in out]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ParameterError(f"recording names must be unique: {', '.join(dupes)}")
    return tuple(out)


# ---------------------------------------------------------------------- the study
def _number(value: Any, name: str, *, minimum: float = 0.0) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(f) or f < minimum:
        raise ParameterError(f"{name} must be >= {minimum:g}, got {value!r}")
    return f


def _evaluation(data: Any) -> Evaluation:
    from holterlab.events import EVENT_TYPES

    if data is None:
        return Evaluation()
    if not isinstance(data, dict):
        raise ParameterError("evaluation must be a mapping (learning_s, window_ms, event_types)")
    unknown = set(data) - {"learning_s", "window_ms", "event_types"}
    if unknown:
        raise ParameterError(f"unknown evaluation key(s): {', '.join(sorted(unknown))}")
    types = data.get("event_types", list(DEFAULT_EVENT_TYPES))
    if types is None:
        types = []
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, (list, tuple)) or not all(isinstance(t, str) for t in types):
        raise ParameterError(
            f"evaluation.event_types must be a list of event type names, e.g. [af, pause]; "
            f"got {types!r}"
        )
    for t in types:
        if t not in EVENT_TYPES:
            raise ParameterError(
                f"unknown event type {t!r} in evaluation.event_types; known: "
                f"{', '.join(EVENT_TYPES)}"
            )
    return Evaluation(
        learning_s=_number(data.get("learning_s", 300.0), "evaluation.learning_s"),
        window_ms=_number(data.get("window_ms", 150.0), "evaluation.window_ms", minimum=1.0),
        event_types=tuple(str(t) for t in types),
    )


def _variants(data: dict[str, Any]) -> tuple[list[Variant], list[str]]:
    base = data.get("base") or {}
    if not isinstance(base, dict):
        raise ParameterError("base must be a mapping of analysis parameters")
    _full_params(base, "base parameters")
    variants: list[Variant] = []
    varied: list[str] = []
    grid = data.get("grid")
    for name, over in expand_grid(base, grid):
        variants.append(Variant(name, _full_params(over, f"grid variant {name!r}"), over))
    if grid:
        varied += [str(k) for k in grid]
    explicit = data.get("variants") or []
    if not isinstance(explicit, list):
        raise ParameterError("variants must be a list of {name:, params:} mappings")
    for k, entry in enumerate(explicit):
        if not isinstance(entry, dict) or not entry.get("name"):
            raise ParameterError(f"variant #{k + 1} needs a name: (and params:)")
        name = str(entry["name"])
        params = entry.get("params") or {}
        if not isinstance(params, dict):
            raise ParameterError(f"variant {name!r}: params must be a mapping")
        over = _merge(base, params)
        variants.append(Variant(name, _full_params(over, f"variant {name!r}"), over))
        varied += [k for k in _flatten(params) if k not in varied]
    if not variants:
        variants.append(Variant("base", _full_params(base, "base parameters"), dict(base)))
    names = [v.name for v in variants]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ParameterError(f"variant names must be unique: {', '.join(dupes)}")
    return variants, list(dict.fromkeys(varied))


def study_from_dict(
    data: dict[str, Any], *, base_dir: str | os.PathLike[str] = ".", source: Path | None = None
) -> StudySpec:
    """Validate a study mapping (the parsed YAML); relative paths are taken from ``base_dir``."""
    if not isinstance(data, dict):
        raise ParameterError("a study file must hold a mapping (name:, recordings:, grid: ...)")
    unknown = set(data) - _KNOWN_KEYS
    if unknown:
        raise ParameterError(
            f"unknown study key(s): {', '.join(sorted(unknown))}; known: "
            f"{', '.join(sorted(_KNOWN_KEYS))}"
        )
    base_dir = Path(base_dir)
    mode = str(data.get("mode", "signal")).lower()
    if mode not in MODES:
        raise ParameterError(f"mode must be signal or beats, got {mode!r}")
    recordings = _recordings(data.get("recordings"), mode, base_dir)
    variants, varied = _variants(data)
    remote = None
    if data.get("remote"):
        r = data["remote"]
        if isinstance(r, str):
            r = {"url": r}
        if not isinstance(r, dict) or not r.get("url"):
            raise ParameterError("remote needs url: (and api_key_env:)")
        remote = RemoteSpec(
            url=str(r["url"]),
            api_key_env=str(r.get("api_key_env") or "HOLTERLAB_API_KEY"),
            name=str(r.get("name") or "remote"),
            timeout_s=_number(r.get("timeout_s", 6 * 3600.0), "remote.timeout_s", minimum=1.0),
        )
        if remote.name in {v.name for v in variants}:
            raise ParameterError(f"remote name {remote.name!r} is also a variant name")
    jobs = data.get("jobs", 1)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ParameterError(f"jobs must be a whole number >= 1, got {jobs!r}")
    report = data.get("report", {})
    if isinstance(report, bool):
        report = {"html": report}
    if not isinstance(report, dict):
        raise ParameterError("report must be true/false or {html: bool, pdf: bool}")
    unknown = set(report) - {"html", "pdf"}
    if unknown:
        raise ParameterError(
            f"unknown report key(s): {', '.join(sorted(map(str, unknown)))}; known: html, pdf"
        )
    for key, value in report.items():
        if not isinstance(value, bool):
            raise ParameterError(f"report.{key} must be true or false, got {value!r}")
    fmt = data.get("format")
    if fmt is not None:
        from holterlab.io import format_module

        if not isinstance(fmt, str):
            raise ParameterError(f"format must be a format name, got {fmt!r}")
        try:
            format_module(fmt)
        except HolterlabError as exc:
            raise ParameterError(f"format: {exc}") from None
    name = data.get("name")
    if name is not None and not isinstance(name, (str, int, float)):
        raise ParameterError(f"name must be a text, got {name!r}")
    read_options = data.get("read_options") or {}
    if not isinstance(read_options, dict):
        raise ParameterError("read_options must be a mapping")
    out = data.get("out") or (f"{source.stem}-out" if source is not None else "study-out")
    if is_url(str(out)):
        raise ParameterError(
            f"out: {out} is a URL; the study is written to a folder of this machine (or a "
            "shared disk): give a folder path"
        )
    scheduler = data.get("scheduler")
    return StudySpec(
        name=str(data.get("name") or (source.stem if source is not None else "study")),
        mode=mode,
        recordings=recordings,
        variants=tuple(variants),
        varied=tuple(varied),
        evaluation=_evaluation(data.get("evaluation")),
        out=Path(_resolve(str(out), base_dir)),
        scheduler=str(scheduler) if scheduler else None,
        jobs=int(jobs),
        remote=remote,
        read_options=dict(read_options),
        format=fmt,
        report_html=bool(report.get("html", True)),
        report_pdf=bool(report.get("pdf", False)),
        source=source,
        base_params=_full_params(data.get("base") or {}, "base parameters"),
    )


def load_study(path: str | os.PathLike[str]) -> StudySpec:
    """Read and validate a study YAML file (see the module docstring for the format)."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"{p}: no such study file")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParameterError(f"{p}: not valid YAML ({' '.join(str(exc).split())})") from None
    except UnicodeDecodeError:
        raise ParameterError(f"{p}: not a UTF-8 text file") from None
    return study_from_dict(data, base_dir=p.resolve().parent, source=p.resolve())


def run_key(
    recording: StudyRecording,
    variant: Variant,
    *,
    mode: str,
    evaluation: Evaluation,
    extra: dict[str, Any] | None = None,
) -> str:
    """Cache key of one run: a hash of the recording, its reference, the mode, the full
    parameters (or the remote URL) and the evaluation settings (16 hex digits)."""
    data = {
        "path": recording.path,
        "reference": recording.reference,
        "mode": mode,
        "algorithm": variant.algorithm,
        "params": variant.params,
        "evaluation": evaluation.to_dict(),
        **(extra or {}),
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def slug(text: str) -> str:
    """A file-name-safe version of ``text``."""
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", text).strip("_") or "x"
