"""Exceptions raised by holterlab.

Every error that holterlab raises on purpose is a :class:`HolterlabError`; its message says
what is wrong and, where possible, what to do about it. The command line prints the message
on one line and exits non-zero.
"""

from __future__ import annotations

__all__ = [
    "HolterlabError",
    "FormatError",
    "UnknownFormatError",
    "CorruptFileError",
    "EmptyFileError",
    "TruncatedFileError",
    "HeaderError",
    "ChecksumError",
    "CSVError",
    "UnsafeArchiveError",
    "RecordingNotFoundError",
    "AnnotationError",
    "ParameterError",
    "CancelledError",
    "ReportError",
]


class HolterlabError(Exception):
    """Base class of every error holterlab raises on purpose."""


class FormatError(HolterlabError):
    """The file is not in the format it claims (or was asked) to be."""


class UnknownFormatError(FormatError):
    """The format of a file could not be recognised from its name or content."""


class CorruptFileError(HolterlabError):
    """The file is in a known format but its content is broken or inconsistent."""


class EmptyFileError(CorruptFileError):
    """The file holds no bytes (or no samples)."""


class TruncatedFileError(CorruptFileError):
    """The file holds fewer bytes or samples than its header promises."""


class HeaderError(CorruptFileError):
    """A header field is missing or has an impossible value (e.g. a sampling rate <= 0)."""


class ChecksumError(CorruptFileError):
    """A checksum stored in the file does not match its content."""


class CSVError(CorruptFileError):
    """A CSV file is not a table of numbers holterlab can read (ragged, non-numeric, NaN)."""


class UnsafeArchiveError(HolterlabError):
    """A ZIP archive has entries that escape its folder, or is too large or too many."""


class RecordingNotFoundError(HolterlabError, FileNotFoundError):
    """The path names no file or record."""


class AnnotationError(HolterlabError):
    """An annotation file or array is invalid."""


class ParameterError(HolterlabError, ValueError):
    """A parameter or argument has an invalid value."""


class CancelledError(HolterlabError):
    """Long work was cancelled on request; no partial output was left behind."""


class ReportError(HolterlabError):
    """A report could not be rendered (a template cell failed, or the PDF could not be made)."""
