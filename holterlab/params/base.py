"""Frozen, validated parameter objects in physiological units.

Every analysis stage is configured by one frozen dataclass deriving from :class:`Params`.
Fields declare their unit and valid range with :func:`param_field`; values are checked on
construction, so an invalid parameter set cannot exist. Variants are made with
:meth:`Params.replace` (``dataclasses.replace``), and every parameter object round-trips
through :meth:`Params.to_dict` / :meth:`Params.from_dict` (the JSON the API accepts as
``analysis_options``).
"""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any, ClassVar, TypeVar

from holterlab.errors import ParameterError

__all__ = ["Params", "param_field"]

P = TypeVar("P", bound="Params")


def param_field(
    default: Any,
    *,
    unit: str = "",
    min: float | None = None,
    max: float | None = None,
    choices: tuple[Any, ...] | None = None,
    doc: str = "",
) -> Any:
    """Declare a parameter with its unit, range (inclusive) or choices and a description."""
    meta = {"unit": unit, "min": min, "max": max, "choices": choices, "doc": doc}
    if isinstance(default, Params):
        return dataclasses.field(default_factory=lambda: default, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class Params:
    """Base class of all parameter objects (frozen, validated on construction)."""

    #: Name of the stage, used in messages.
    stage: ClassVar[str] = "params"
    #: Keys of earlier holterlab versions that no longer mean anything: :meth:`from_dict`
    #: drops them with a warning, so old parameter files and results still load.
    removed: ClassVar[frozenset[str]] = frozenset()

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            meta = f.metadata
            where = f"{self.stage}.{f.name}"
            hint = hints.get(f.name)
            if isinstance(value, Params):
                continue
            if hint in (float, int) or (isinstance(value, (int, float)) and hint is not bool):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ParameterError(f"{where} must be a number, got {value!r}")
                if not math.isfinite(value):
                    raise ParameterError(f"{where} must be finite, got {value!r}")
                if hint is int and not float(value).is_integer():
                    raise ParameterError(f"{where} must be a whole number, got {value!r}")
                if hint is float and isinstance(value, int):
                    object.__setattr__(self, f.name, float(value))
                unit = f" {meta.get('unit')}" if meta.get("unit") else ""
                lo, hi = meta.get("min"), meta.get("max")
                if lo is not None and value < lo:
                    raise ParameterError(f"{where} must be at least {lo}{unit}, got {value}{unit}")
                if hi is not None and value > hi:
                    raise ParameterError(f"{where} must be at most {hi}{unit}, got {value}{unit}")
            elif hint is bool and not isinstance(value, bool):
                raise ParameterError(f"{where} must be true or false, got {value!r}")
            choices = meta.get("choices")
            if choices is not None and value not in choices:
                raise ParameterError(
                    f"{where} must be one of {', '.join(map(str, choices))}; got {value!r}"
                )
        self.validate()

    def validate(self) -> None:
        """Cross-field checks; subclasses override and raise ParameterError."""

    # ------------------------------------------------------------------ conversion
    def replace(self: P, **changes: Any) -> P:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dictionary (nested parameter objects become dictionaries)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.to_dict() if isinstance(value, Params) else value
        return out

    @classmethod
    def from_dict(cls: type[P], data: dict[str, Any] | None) -> P:
        """Build from a (possibly partial) dictionary; unknown keys are an error."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise ParameterError(f"{cls.stage} parameters must be an object, got {data!r}")
        names = {f.name: f for f in dataclasses.fields(cls)}
        dropped = sorted(set(data) & cls.removed - set(names))
        if dropped:
            import warnings

            warnings.warn(
                f"{cls.stage} parameter(s) {', '.join(dropped)} no longer exist and are ignored",
                DeprecationWarning,
                stacklevel=2,
            )
            data = {k: v for k, v in data.items() if k not in dropped}
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ParameterError(
                f"unknown {cls.stage} parameter(s): {', '.join(unknown)}; "
                f"known: {', '.join(sorted(names))}"
            )
        kwargs: dict[str, Any] = {}
        hints = typing.get_type_hints(cls)
        for key, value in data.items():
            hint = hints.get(key)
            if isinstance(hint, type) and issubclass(hint, Params):
                kwargs[key] = hint.from_dict(value)
            elif isinstance(value, list):
                kwargs[key] = tuple(value)
            else:
                kwargs[key] = value
        return cls(**kwargs)

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """One row per field: name, default, unit, range, choices, doc (for UIs and docs)."""
        rows = []
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else None
            if default is None and f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
                default = f.default_factory()  # type: ignore[misc]
            rows.append({"name": f.name, "default": default, **dict(f.metadata)})
        return rows
