"""fsspec URLs of recordings (``s3://bucket/holter/201.hea``, ``file:///data/x.edf``)."""

from __future__ import annotations

from typing import Any

from holterlab.errors import ParameterError

__all__ = ["url_filesystem"]


def url_filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem of ``url`` and the path on it.

    Raises
    ------
    ParameterError
        fsspec (or the protocol's package, such as s3fs for ``s3://``) is missing, or the URL
        cannot be opened.
    """
    try:
        import fsspec
    except ImportError:
        raise ParameterError(
            f"{url}: reading URLs needs the fsspec package (pip install fsspec, plus s3fs "
            "for s3://)"
        ) from None
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise ParameterError(f"{url}: cannot open this URL ({exc})") from None
