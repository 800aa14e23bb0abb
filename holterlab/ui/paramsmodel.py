"""Analysis parameters as ``param`` objects, generated from :meth:`Params.describe`.

Every stage of :class:`~holterlab.params.analysis.AnalysisParams` (``quality``,
``detection``, ``classification``, ``rhythm.rate``, ``rhythm.pause``, ..., ``hrv``,
``st_qt``, and the top-level ``analysis`` options) becomes one ``param.Parameterized`` object
whose parameters carry the field's default, unit (in the label), range (soft bounds),
choices and description (doc), so any ``param`` front end (``pn.Param``) builds its widgets.
Values out of range, or missing (None), are accepted and reported in
:attr:`ParamsModel.error` with the field's range and unit. Nothing here imports Panel.
"""

from __future__ import annotations

from typing import Any

import param

from holterlab.errors import ParameterError
from holterlab.params.analysis import AnalysisParams
from holterlab.params.base import Params

__all__ = ["ParamsModel", "stage_class", "RHYTHM_STAGES"]

#: Stages that need no signal: changing them only re-summarises the beats.
RHYTHM_STAGES = ("rhythm", "hrv")


def _label(row: dict[str, Any]) -> str:
    unit = row.get("unit") or ""
    name = str(row["name"]).replace("_", " ")
    return f"{name} ({unit})" if unit else name


def _parameter(row: dict[str, Any]) -> param.Parameter:
    default = row["default"]
    doc = row.get("doc") or ""
    label = _label(row)
    lo, hi = row.get("min"), row.get("max")
    choices = row.get("choices")
    if choices is not None:
        return param.Selector(default=default, objects=list(choices), doc=doc, label=label)
    if isinstance(default, bool):
        return param.Boolean(default=default, doc=doc, label=label)
    # the range is soft: a value out of range (or None, an emptied input box) is accepted
    # and reported by ParamsModel.error, as a front end cannot refuse what is typed
    if isinstance(default, int):
        return param.Integer(
            default=default, softbounds=(lo, hi), allow_None=True, doc=doc, label=label
        )
    if isinstance(default, float):
        return param.Number(
            default=default, softbounds=(lo, hi), allow_None=True, doc=doc, label=label
        )
    if isinstance(default, str):
        return param.String(default=default, doc=doc, label=label)
    if isinstance(default, (tuple, list)):
        return param.Tuple(default=tuple(default), length=len(default), doc=doc, label=label)
    return param.Parameter(default=default, doc=doc, label=label)


def stage_class(name: str, rows: list[dict[str, Any]]) -> type[param.Parameterized]:
    """A ``param.Parameterized`` subclass with one parameter per (non-nested) row."""
    attrs = {row["name"]: _parameter(row) for row in rows}
    cls_name = "Stage_" + name.replace(".", "_")
    return type(cls_name, (param.Parameterized,), attrs)


def _walk(cls: type[Params], prefix: str, out: dict[str, list[dict[str, Any]]]) -> None:
    own: list[dict[str, Any]] = []
    for row in cls.describe():
        default = row["default"]
        if isinstance(default, Params):
            _walk(type(default), f"{prefix}.{row['name']}" if prefix else row["name"], out)
        else:
            own.append(row)
    if own:
        out[prefix or "analysis"] = own


class ParamsModel(param.Parameterized):
    """All analysis parameters, one ``param`` object per stage.

    ``stages`` maps a stage path (``"rhythm.pause"``) to its object; :meth:`to_params`
    validates and returns the :class:`AnalysisParams`. ``version`` increases on every change
    and ``last_stage`` names the stage that changed last.
    """

    version = param.Integer(default=0, doc="increases on every parameter change")
    last_stage = param.String(default="", doc="stage path of the last change")
    error = param.String(default="", doc="why the current values are not valid ('' if valid)")
    stage = param.Selector(default="rhythm.pause", objects=[], doc="stage shown in the panel")

    def __init__(self, params: AnalysisParams | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        rows: dict[str, list[dict[str, Any]]] = {}
        _walk(AnalysisParams, "", rows)
        self.stages: dict[str, param.Parameterized] = {}
        for name, stage_rows in rows.items():
            obj = stage_class(name, stage_rows)(name=name)
            obj.param.watch(lambda ev, n=name: self._changed(n), [r["name"] for r in stage_rows])
            self.stages[name] = obj
        self.param.stage.objects = list(self.stages)
        if params is not None:
            self.set_params(params)

    def _changed(self, stage: str) -> None:
        self.last_stage = stage
        try:
            self.to_params()
            self.error = ""
        except ParameterError as exc:
            self.error = str(exc)
        self.version += 1

    def to_dict(self) -> dict[str, Any]:
        """The current values as the nested dictionary :meth:`AnalysisParams.from_dict` reads."""
        out: dict[str, Any] = {}
        for path, obj in self.stages.items():
            values = {k: getattr(obj, k) for k in obj.param if k != "name"}
            if path == "analysis":
                out.update(values)
                continue
            node = out
            for part in path.split("."):
                node = node.setdefault(part, {})
            node.update(values)
        return out

    def to_params(self) -> AnalysisParams:
        """The validated :class:`AnalysisParams` (raises ParameterError if invalid)."""
        return AnalysisParams.from_dict(self.to_dict())

    def set_params(self, params: AnalysisParams | dict[str, Any]) -> None:
        """Load values (without counting each as a change)."""
        data = AnalysisParams.coerce(params).to_dict()
        for path, obj in self.stages.items():
            node = data
            if path != "analysis":
                for part in path.split("."):
                    node = node[part]
            values = {k: node[k] for k in obj.param if k != "name" and k in node}
            with param.parameterized.discard_events(obj):
                obj.param.update(**values)
        self.error = ""

    def stage_of(self, stage: str) -> str:
        """Top-level stage of a stage path (``rhythm.pause`` -> ``rhythm``)."""
        return stage.split(".")[0]

    def needs_signal(self, stage: str | None = None) -> bool:
        """Whether a change in ``stage`` (default: the last one) needs the signal re-analysed."""
        top = self.stage_of(stage if stage is not None else self.last_stage)
        return top not in RHYTHM_STAGES and top != "analysis"
