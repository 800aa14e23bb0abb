"""Safe extraction and packing of ZIP archives holding one WFDB record."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from holterlab.errors import (
    CorruptFileError,
    FormatError,
    HolterlabError,
    UnsafeArchiveError,
)
from holterlab.io import wfdb as hw
from holterlab.io.archive import (
    extract_record_zip,
    inspect_zip,
    safe_member_path,
    zip_record,
)
from tests.conftest import MITDB

HEADER = (MITDB / "101.hea").read_bytes()


def _zip(path: Path, entries: dict[str, bytes], **kw) -> Path:
    with zipfile.ZipFile(path, "w", compression=kw.get("compression", zipfile.ZIP_DEFLATED)) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    "name",
    ["../evil.hea", "a/../../evil.dat", "/etc/passwd", "C:/x.dat", "..\\evil.dat"],
)
def test_unsafe_names_are_refused(tmp_path, name) -> None:
    with pytest.raises(UnsafeArchiveError):
        safe_member_path(name)
    with pytest.raises(UnsafeArchiveError):
        safe_member_path("a\x00b")
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("101.hea", HEADER)
        info = zipfile.ZipInfo("placeholder")
        info.filename = name  # bypass zipfile's own normalisation
        zf.writestr(info, b"x")
    with pytest.raises(UnsafeArchiveError):
        extract_record_zip(archive, tmp_path / "out")
    with pytest.raises(UnsafeArchiveError):
        hw.read(archive)
    assert not (tmp_path / "evil.hea").exists() and not (tmp_path / "evil.dat").exists()


def test_safe_names_are_kept() -> None:
    assert str(safe_member_path("rec/./101.hea")) == "rec/101.hea"
    assert str(safe_member_path("rec\\101.dat")) == "rec/101.dat"


def test_symlink_entry_is_refused(tmp_path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("101.hea", HEADER)
        info = zipfile.ZipInfo("101.dat")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="symbolic link"):
        extract_record_zip(archive, tmp_path / "out")


def test_too_many_entries(tmp_path) -> None:
    archive = _zip(tmp_path / "many.zip", {f"f{i}.atr": b"" for i in range(70)} | {"r.hea": HEADER})
    with pytest.raises(UnsafeArchiveError, match="71 entries"):
        extract_record_zip(archive, tmp_path / "out")
    extract_record_zip(archive, tmp_path / "out", max_entries=100)


def test_declared_size_too_large(tmp_path) -> None:
    archive = _zip(tmp_path / "bomb.zip", {"101.hea": HEADER, "101.dat": bytes(20_000_000)})
    assert archive.stat().st_size < 100_000  # compresses very well
    with pytest.raises(UnsafeArchiveError, match="more than 1,000,000 bytes"):
        extract_record_zip(archive, tmp_path / "out", max_total_bytes=1_000_000)
    assert not (tmp_path / "out" / "101.dat").exists()


def _patch_entry(archive: Path, name: str, local: int, central: int, value: bytes) -> None:
    """Overwrite bytes of ``name``'s local header and central directory entry."""
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        offset = zf.getinfo(name).header_offset
    data[offset + local : offset + local + len(value)] = value
    cd = data.find(b"PK\x01\x02")
    while cd >= 0:
        name_len = struct.unpack("<H", data[cd + 28 : cd + 30])[0]
        if data[cd + 46 : cd + 46 + name_len] == name.encode():
            data[cd + central : cd + central + len(value)] = value
        cd = data.find(b"PK\x01\x02", cd + 4)
    archive.write_bytes(bytes(data))


def _lie_about_size(archive: Path, name: str, size: int) -> None:
    """Rewrite the uncompressed size of ``name`` (local header +22, central entry +24)."""
    _patch_entry(archive, name, 22, 24, struct.pack("<I", size))


def test_entry_expanding_beyond_its_declared_size(tmp_path) -> None:
    archive = _zip(tmp_path / "liar.zip", {"101.hea": HEADER, "101.dat": bytes(5_000_000)})
    _lie_about_size(archive, "101.dat", 1000)
    with pytest.raises((UnsafeArchiveError, CorruptFileError)):
        extract_record_zip(archive, tmp_path / "out", max_total_bytes=10_000)
    assert not (tmp_path / "out" / "101.dat").exists()
    assert not (tmp_path / "out" / "101.hea").exists()  # partial output removed


def test_one_record_per_archive(tmp_path) -> None:
    with pytest.raises(FormatError, match="no WFDB header"):
        extract_record_zip(_zip(tmp_path / "none.zip", {"a.dat": b"x"}), tmp_path / "o1")
    two = _zip(tmp_path / "two.zip", {"a.hea": HEADER, "b/c.hea": HEADER})
    with pytest.raises(FormatError, match="2 WFDB headers"):
        extract_record_zip(two, tmp_path / "o2")


def test_duplicate_and_encrypted_entries(tmp_path) -> None:
    dup = tmp_path / "dup.zip"
    with zipfile.ZipFile(dup, "w") as zf, pytest.warns(UserWarning):
        zf.writestr("101.hea", HEADER)
        zf.writestr("101.hea", HEADER)
    with pytest.raises(UnsafeArchiveError, match="more than once"):
        inspect_zip(dup)
    enc = _zip(tmp_path / "enc.zip", {"101.hea": HEADER, "101.dat": b"secret"})
    _patch_entry(enc, "101.dat", 6, 8, struct.pack("<H", 0x1))  # "encrypted" flag
    with pytest.raises(FormatError, match="encrypted"):
        extract_record_zip(enc, tmp_path / "out")


def test_not_a_zip(tmp_path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    with pytest.raises(CorruptFileError):
        extract_record_zip(bad, tmp_path / "out")
    with pytest.raises(HolterlabError):
        hw.read(bad)


def test_does_not_overwrite_existing_files(tmp_path) -> None:
    archive = _zip(tmp_path / "r.zip", {"101.hea": HEADER, "101.dat": b"\x00" * 30})
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "101.dat").write_bytes(b"keep me")
    with pytest.raises(UnsafeArchiveError, match="overwrite"):
        extract_record_zip(archive, tmp_path / "out")
    assert (tmp_path / "out" / "101.dat").read_bytes() == b"keep me"
    assert not (tmp_path / "out" / "101.hea").exists()


def test_zip_record_round_trip(tmp_path) -> None:
    for ext in ("hea", "dat", "atr"):
        (tmp_path / f"101.{ext}").write_bytes((MITDB / f"101.{ext}").read_bytes())
    archive = zip_record(tmp_path / "101.hea", tmp_path / "packed" / "101.zip")
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == ["101.atr", "101.dat", "101.hea"]
    hea = extract_record_zip(archive, tmp_path / "unpacked")
    assert hea == (tmp_path / "unpacked" / "101.hea").resolve()
    for ext in ("hea", "dat", "atr"):
        assert hea.with_suffix(f".{ext}").read_bytes() == (MITDB / f"101.{ext}").read_bytes()
    # a record name without extension works too; annotations can be left out
    archive = zip_record(tmp_path / "101", tmp_path / "sig.zip", annotators=())
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == ["101.dat", "101.hea"]


def test_zip_record_needs_its_signal_file(tmp_path) -> None:
    (tmp_path / "101.hea").write_bytes(HEADER)
    with pytest.raises(CorruptFileError, match="101.dat, which is missing"):
        zip_record(tmp_path / "101.hea", tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()
