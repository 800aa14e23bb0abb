import dataclasses

import pytest

from holterlab.errors import ParameterError
from holterlab.params.base import Params, param_field


@dataclasses.dataclass(frozen=True)
class Inner(Params):
    stage = "inner"
    width_ms: float = param_field(100.0, unit="ms", min=10, max=400)
    mode: str = param_field("fast", choices=("fast", "exact"))


@dataclasses.dataclass(frozen=True)
class Outer(Params):
    stage = "outer"
    enabled: bool = param_field(True)
    count: int = param_field(3, min=1)
    inner: Inner = param_field(Inner())

    def validate(self) -> None:
        if self.count > 5 and self.inner.mode == "fast":
            raise ParameterError("outer.count > 5 needs inner.mode = exact")


def test_defaults_and_round_trip():
    p = Outer()
    d = p.to_dict()
    assert d == {"enabled": True, "count": 3, "inner": {"width_ms": 100.0, "mode": "fast"}}
    assert Outer.from_dict(d) == p
    assert Outer.from_dict({"inner": {"width_ms": 50}}).inner.width_ms == 50.0


def test_frozen_and_replace():
    p = Outer()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.count = 4  # type: ignore[misc]
    assert p.replace(count=4).count == 4


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"count": 0}, "outer.count must be at least 1"),
        ({"count": 2.5}, "whole number"),
        ({"count": "3"}, "must be a number"),
        ({"enabled": 1}, "true or false"),
        ({"count": 6}, "needs inner.mode"),
    ],
)
def test_invalid_values(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        Outer(**kwargs)


def test_nested_range_and_choices():
    with pytest.raises(ParameterError, match="at most 400 ms"):
        Inner(width_ms=500)
    with pytest.raises(ParameterError, match="one of fast, exact"):
        Inner(mode="slow")
    with pytest.raises(ParameterError, match="finite"):
        Inner(width_ms=float("nan"))


def test_unknown_keys_rejected():
    with pytest.raises(ParameterError, match="unknown inner parameter"):
        Inner.from_dict({"widht_ms": 3})


def test_describe_lists_units():
    rows = {r["name"]: r for r in Inner.describe()}
    assert rows["width_ms"]["unit"] == "ms" and rows["width_ms"]["max"] == 400


def test_removed_keys_of_old_parameter_files_are_dropped_with_a_warning():
    """st_qt.highpass_hz was declared but never applied; it is gone, and parameter files or
    results that still carry it load with a warning, while a real typo stays an error."""
    from holterlab.params.analysis import AnalysisParams
    from holterlab.params.st_qt import STQTParams

    assert "highpass_hz" not in {f["name"] for f in STQTParams.describe()}
    with pytest.warns(DeprecationWarning, match="highpass_hz"):
        p = AnalysisParams.from_dict({"st_qt": {"highpass_hz": 0.05, "window_s": 20.0}})
    assert p.st_qt.window_s == 20.0
    with pytest.raises(ParameterError, match="highpas_hz"):
        STQTParams.from_dict({"highpas_hz": 0.05})
