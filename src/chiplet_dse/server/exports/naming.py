"""Names of export files (spec "File Naming Convention"), free of Django so any process can use it.

An export is ``{base_name}_{YYYY}{Mon}{DD}_{HHMMSS}.zip``, e.g. ``myrun_2025Aug02_205153.zip``;
a second export of the same base name in the same second gets ``_2``, ``_3``… before ``.zip``.
Month abbreviations are English whatever the locale (``%b`` is not used).

Exports are claimed race-free: the final name is created with ``O_CREAT | O_EXCL`` (an empty
reservation), the archive is written to a temporary file whose name never matches the export
pattern, and ``os.replace`` moves it over the reservation when it is complete.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

from chiplet_dse.errors import InputError

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_BASE_NAME = 100

_BASE = rf"[A-Za-z0-9_-][A-Za-z0-9._-]{{0,{MAX_BASE_NAME - 1}}}"
_BASE_RE = re.compile(_BASE)
#: A valid base name, anchored (for API schemas: what :func:`validate_base_name` accepts).
BASE_NAME_PATTERN = rf"^{_BASE}$"
_DISALLOWED = re.compile(r"[^A-Za-z0-9._-]")

#: Every file an export creates (and the only files clean-up or downloads ever touch).
EXPORT_PATTERN = re.compile(
    rf"(?P<base>{_BASE})_(?P<date>[0-9]{{4}}(?:{'|'.join(MONTHS)})[0-9]{{2}})_(?P<time>[0-9]{{6}})"
    r"(?:_(?P<n>[1-9][0-9]{0,5}))?\.zip"
)
#: Temporary files of exports being written: hidden, so never an export name.
TEMP_PREFIX = ".export-"
TEMP_SUFFIX = ".part"
TEMP_PATTERN = re.compile(re.escape(TEMP_PREFIX) + r"[A-Za-z0-9_.-]+" + re.escape(TEMP_SUFFIX))

#: How many exports of one base name may share a second before giving up.
MAX_SAME_SECOND = 10_000


def validate_base_name(name: object, field: str = "base_name") -> str:
    """``name`` if it is a safe base name: 1–100 of letters, digits, ``-``, ``_``, ``.``, not
    starting with ``.``. Anything else (paths, spaces, non-ASCII, empty) is an InputError."""
    if not isinstance(name, str):
        raise InputError(f"expected a string, got {type(name).__name__}", field=field)
    if not name:
        raise InputError("must not be empty", field=field)
    if len(name) > MAX_BASE_NAME:
        raise InputError(f"at most {MAX_BASE_NAME} characters, got {len(name)}", field=field)
    if name.startswith("."):
        raise InputError("must not start with '.'", field=field)
    if not _BASE_RE.fullmatch(name):
        bad = sorted(set(_DISALLOWED.findall(name)))
        raise InputError(
            f"only letters, digits, '-', '_' and '.' are allowed; got {''.join(bad)!r} in {name!r}",
            field=field,
        )
    return name


def sanitize_base_name(text: str, fallback: str) -> str:
    """A valid base name made from ``text`` (other characters become ``_``), else ``fallback``."""
    name = _DISALLOWED.sub("_", text.strip())[:MAX_BASE_NAME]
    if name.startswith("."):
        name = "_" + name[1:]
    if not name.strip("_"):
        name = _DISALLOWED.sub("_", fallback)[:MAX_BASE_NAME].lstrip(".") or "export"
    return name


def timestamp(moment: datetime) -> str:
    """``2025Aug02_205153``: the time part of an export name, locale-independent."""
    return (
        f"{moment.year:04d}{MONTHS[moment.month - 1]}{moment.day:02d}_"
        f"{moment.hour:02d}{moment.minute:02d}{moment.second:02d}"
    )


def candidate(base: str, stamp: str, n: int) -> str:
    return f"{base}_{stamp}.zip" if n == 1 else f"{base}_{stamp}_{n}.zip"


def reserve(directory: Path, base: str, stamp: str) -> Path:
    """Claim the first free export name for ``base`` and ``stamp`` by creating it, empty.

    ``O_EXCL`` makes the claim atomic across threads and processes (on a local file system):
    two exports in the same second get ``…_205153.zip`` and ``…_205153_2.zip``.
    """
    for n in range(1, MAX_SAME_SECOND + 1):
        path = directory / candidate(base, stamp, n)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        os.close(fd)
        return path
    raise InputError(f"too many exports named {base!r} in one second", field="base_name")


def is_export_name(name: object) -> bool:
    return isinstance(name, str) and EXPORT_PATTERN.fullmatch(name) is not None


def stem(file_name: str) -> str:
    """The file name without ``.zip``: the prefix of every member of the archive."""
    return file_name.removesuffix(".zip")
