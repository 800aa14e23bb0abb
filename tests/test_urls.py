"""fsspec URLs of recordings (holterlab._urls)."""

from __future__ import annotations

import pytest

from holterlab._urls import url_filesystem
from holterlab.errors import ParameterError


def test_file_url_gives_the_local_filesystem(tmp_path):
    (tmp_path / "a.hea").write_text("x")
    fs, path = url_filesystem((tmp_path / "a.hea").as_uri())
    assert fs.isfile(path) and fs.cat_file(path) == b"x"


@pytest.mark.parametrize("url", ["nosuchprotocol://bucket/x", "s3://bucket/x"])
def test_unknown_or_missing_protocol_is_a_parameter_error(url):
    try:
        import s3fs  # noqa: F401
    except ImportError:
        pass
    else:
        if url.startswith("s3"):
            pytest.skip("s3fs is installed here")
    with pytest.raises(ParameterError, match="cannot open this URL"):
        url_filesystem(url)
