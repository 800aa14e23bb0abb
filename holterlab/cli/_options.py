"""Option parsing shared by the subcommands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from holterlab.errors import ParameterError

__all__ = ["json_object"]


def json_object(text: str | None, option: str) -> dict[str, Any] | None:
    """A JSON object given inline (``'{"a": 1}'``) or as a file path; None when not given."""
    if not text:
        return None
    source = text
    if not text.lstrip().startswith("{"):
        path = Path(text)
        if not path.is_file():
            raise ParameterError(f"{option}: {text} is neither a JSON object nor a JSON file")
        source = path.read_text(encoding="utf-8")
    try:
        value = json.loads(source)
    except json.JSONDecodeError as exc:
        raise ParameterError(f"{option} is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ParameterError(f"{option} must be a JSON object")
    return value
