"""Safe handling of ZIP archives that hold one WFDB record.

WFDB records are several files (``NAME.hea``, signal files, annotation files), so they travel
as a ZIP. :func:`extract_record_zip` unpacks such an archive into a folder after checking it:
no absolute paths, no ``..``, no symbolic links, no encrypted entries, no duplicate names, a
bounded number of entries and a bounded uncompressed size (the sizes the archive declares
*and* the bytes actually produced while extracting, so a lying "zip bomb" entry is stopped).
:func:`zip_record` packs a record into a ZIP (written atomically).

Files that operating systems add to archives (``__MACOSX/``, ``._*``, ``.DS_Store``,
``Thumbs.db``) are ignored.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from holterlab._atomic import atomic_path
from holterlab.errors import (
    CorruptFileError,
    FormatError,
    RecordingNotFoundError,
    UnsafeArchiveError,
)

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_MAX_TOTAL_BYTES",
    "safe_member_path",
    "inspect_zip",
    "find_record_header",
    "extract_record_zip",
    "zip_record",
]

#: Most entries a record archive may hold.
DEFAULT_MAX_ENTRIES = 64
#: Most bytes a record archive may expand to (16 GiB: a 7-day 12-lead 1 kHz format-16 record
#: is about 14.5 GB).
DEFAULT_MAX_TOTAL_BYTES = 16 * 1024**3

_COPY_BLOCK = 1 << 20
_JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}


def safe_member_path(name: str) -> PurePosixPath:
    """The relative path of a ZIP entry, or :class:`UnsafeArchiveError` if it could escape.

    Backslashes count as separators (archives made on Windows); absolute paths, drive
    letters, ``..`` components and NUL characters are refused.
    """
    norm = name.replace("\\", "/")
    if "\x00" in norm:
        raise UnsafeArchiveError(f"ZIP entry {name!r} has a NUL character in its name")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        raise UnsafeArchiveError(
            f"ZIP entry {name!r} has an absolute path; a record archive may only hold relative "
            "paths"
        )
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(
            f"ZIP entry {name!r} points outside the archive folder ('..'); refusing to extract"
        )
    if not parts:
        raise UnsafeArchiveError(f"ZIP entry {name!r} has an empty name")
    return PurePosixPath(*parts)


def _is_junk(rel: PurePosixPath) -> bool:
    return (
        rel.parts[0] == "__MACOSX" or rel.name.startswith("._") or rel.name.lower() in _JUNK_NAMES
    )


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    mode = (info.external_attr >> 16) & 0xFFFF
    return stat.S_ISLNK(mode)


def _open_zip(zip_path: Path) -> zipfile.ZipFile:
    if not zip_path.is_file():
        raise RecordingNotFoundError(f"{zip_path}: no such ZIP file")
    try:
        return zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as exc:
        raise CorruptFileError(f"{zip_path}: not a readable ZIP archive ({exc})") from None
    except (OSError, ValueError, EOFError) as exc:
        raise CorruptFileError(f"{zip_path}: cannot open the ZIP archive ({exc})") from None


def inspect_zip(
    zip_path: str | os.PathLike[str],
    *,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Check an archive's directory and return its file entries with their safe paths.

    Directories and operating-system junk files are left out.

    Raises
    ------
    UnsafeArchiveError
        Too many entries, too large (declared), an entry with an absolute path, ``..``, a
        symbolic link or a duplicate name.
    FormatError
        An encrypted entry.
    CorruptFileError
        Not a ZIP archive.
    """
    zip_path = Path(zip_path)
    with _open_zip(zip_path) as zf:
        infos = zf.infolist()
    if len(infos) > max_entries:
        raise UnsafeArchiveError(
            f"{zip_path}: the archive has {len(infos)} entries; a record archive may hold at "
            f"most {max_entries} (one .hea, its signal files and annotation files)"
        )
    out: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
    seen: set[str] = set()
    total = 0
    for info in infos:
        rel = safe_member_path(info.filename)
        if _is_symlink(info):
            raise UnsafeArchiveError(
                f"{zip_path}: entry {info.filename!r} is a symbolic link; refusing to extract"
            )
        key = str(rel).lower()
        if key in seen:
            raise UnsafeArchiveError(
                f"{zip_path}: entry {info.filename!r} appears more than once in the archive"
            )
        seen.add(key)
        if info.is_dir() or _is_junk(rel):
            continue
        if info.flag_bits & 0x1:
            raise FormatError(
                f"{zip_path}: entry {info.filename!r} is encrypted; holterlab reads only "
                "unencrypted archives"
            )
        total += int(info.file_size)
        if total > max_total_bytes:
            raise UnsafeArchiveError(
                f"{zip_path}: the archive expands to more than {max_total_bytes:,} bytes "
                f"(declared sizes); refusing to extract (raise max_total_bytes if it is genuine)"
            )
        out.append((info, rel))
    return out


def find_record_header(
    members: Sequence[tuple[zipfile.ZipInfo, PurePosixPath]], zip_path: str | os.PathLike[str]
) -> PurePosixPath:
    """The path of the single ``.hea`` among ``members`` (:class:`FormatError` otherwise)."""
    headers = [rel for _, rel in members if rel.suffix.lower() == ".hea"]
    if not headers:
        raise FormatError(
            f"{zip_path}: the archive holds no WFDB header (.hea); a record archive holds one "
            "record: NAME.hea, its signal files and optional annotation files"
        )
    if len(headers) > 1:
        names = ", ".join(str(h) for h in headers[:6])
        raise FormatError(
            f"{zip_path}: the archive holds {len(headers)} WFDB headers ({names}); put one record "
            "per archive"
        )
    return headers[0]


def extract_record_zip(
    zip_path: str | os.PathLike[str],
    dest_dir: str | os.PathLike[str],
    *,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
) -> Path:
    """Extract an archive holding one WFDB record into ``dest_dir``; return the ``.hea`` path.

    Parameters
    ----------
    zip_path
        The archive.
    dest_dir
        Folder to extract into (created if needed). Existing files are never overwritten.
    max_entries, max_total_bytes
        Limits on the number of entries and on the uncompressed size. The size limit is
        checked on the sizes the archive declares and again on the bytes produced while
        extracting.

    Raises
    ------
    UnsafeArchiveError, FormatError, CorruptFileError
        See :func:`inspect_zip`; also when an entry expands beyond its declared size or the
        limit, or its data is corrupt (CRC error). Nothing extracted is left behind then.
    """
    zip_path = Path(zip_path)
    members = inspect_zip(zip_path, max_entries=max_entries, max_total_bytes=max_total_bytes)
    header = find_record_header(members, zip_path)
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    created: list[Path] = []
    total = 0
    try:
        with _open_zip(zip_path) as zf:
            for info, rel in members:
                target = root.joinpath(*rel.parts)
                if not target.resolve().is_relative_to(root):
                    raise UnsafeArchiveError(
                        f"{zip_path}: entry {info.filename!r} resolves outside {root}"
                    )
                target.parent.mkdir(parents=True, exist_ok=True)
                written = 0
                try:
                    with zf.open(info) as src, open(target, "xb") as out:
                        created.append(target)
                        while True:
                            block = src.read(_COPY_BLOCK)
                            if not block:
                                break
                            written += len(block)
                            total += len(block)
                            if written > info.file_size:
                                raise UnsafeArchiveError(
                                    f"{zip_path}: entry {info.filename!r} expands beyond its "
                                    f"declared size of {info.file_size:,} bytes; refusing it"
                                )
                            if total > max_total_bytes:
                                raise UnsafeArchiveError(
                                    f"{zip_path}: the archive expands to more than "
                                    f"{max_total_bytes:,} bytes; refusing to extract"
                                )
                            out.write(block)
                except FileExistsError:
                    raise UnsafeArchiveError(
                        f"{zip_path}: entry {info.filename!r} would overwrite an existing file "
                        f"in {root}"
                    ) from None
                except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                    raise CorruptFileError(
                        f"{zip_path}: entry {info.filename!r} is corrupt ({exc})"
                    ) from None
                except NotImplementedError as exc:
                    raise FormatError(
                        f"{zip_path}: entry {info.filename!r} uses an unsupported compression "
                        f"method ({exc}); re-create the archive with plain deflate"
                    ) from None
                if written != info.file_size:
                    raise CorruptFileError(
                        f"{zip_path}: entry {info.filename!r} holds {written:,} bytes but "
                        f"declares {info.file_size:,}"
                    )
    except BaseException:
        for path in reversed(created):
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return root.joinpath(*header.parts)


def zip_record(
    hea_path: str | os.PathLike[str],
    zip_path: str | os.PathLike[str],
    *,
    annotators: Sequence[str] = ("atr",),
) -> Path:
    """Pack a WFDB record (header, signal files, annotation files) into a ZIP, atomically.

    Parameters
    ----------
    hea_path
        The record's ``.hea`` (or the record path without extension).
    zip_path
        The archive to write.
    annotators
        Extensions of annotation files to include when they exist beside the header
        (``NAME.atr`` by default).

    Returns
    -------
    Path
        ``zip_path``.
    """
    from holterlab.io.wfdb import parse_header_file, signal_file_paths

    hea = Path(hea_path)
    if hea.suffix.lower() != ".hea":
        hea = hea.with_name(hea.name + ".hea")
    if not hea.is_file():
        raise RecordingNotFoundError(f"{hea}: no such WFDB header")
    header = parse_header_file(hea)
    files = [hea]
    for path in signal_file_paths(header, hea.parent):
        if not path.is_file():
            raise CorruptFileError(
                f"{hea}: the header names the signal file {path.name}, which is missing"
            )
        if path not in files:
            files.append(path)
    for ext in annotators:
        ann = hea.with_name(f"{header.name}.{ext}")
        if ann.is_file() and ann not in files:
            files.append(ann)
    with atomic_path(zip_path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            for path in files:
                zf.write(path, arcname=path.relative_to(hea.parent).as_posix())
    return Path(zip_path)
