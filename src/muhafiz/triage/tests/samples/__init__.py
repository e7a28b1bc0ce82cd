"""Samples for the source and archive contract suite (`triage/tests/test_source_contract.py`).

Every source type in `muhafiz.triage.sources.SOURCE_TYPES` and every archive format in
`ARCHIVE_FORMATS` needs a sample, registered from any module of this package (they are all
imported by `load_samples()`):

    @source_sample("directory")
    def folder(tmp_path: Path, files: Files) -> Built: ...     # a source holding `files`

    @broken_source("directory")
    def missing(tmp_path: Path) -> Broken: ...                 # a source that cannot be scanned

and `@archive_sample("zip")` / `@broken_archive("zip")` for archive formats. A builder makes the
source from the test's own bytes in `tmp_path` (generated content only) and says where each
file must appear in the scan file. A new source type adds one module here (copy `basic.py`);
the suite then runs on it, and fails for a registered type without a sample.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

Files = dict[str, bytes]  # relative path inside the source -> content


@dataclass(frozen=True)
class Built:
    path: Path  # what the examiner names on the command line
    expected: dict[str, bytes]  # path as the scan file records it -> the bytes it must hash


@dataclass(frozen=True)
class Broken:
    path: Path
    # Said by the error: in the SourceError's message, or in a recorded issue's code or message.
    says: str


Builder = Callable[[Path, Files], Built]
BrokenBuilder = Callable[[Path], Broken]

T = TypeVar("T")

SOURCE_SAMPLES: dict[str, Builder] = {}
BROKEN_SOURCES: dict[str, BrokenBuilder] = {}
ARCHIVE_SAMPLES: dict[str, Builder] = {}
BROKEN_ARCHIVES: dict[str, BrokenBuilder] = {}


def _register(table: dict[str, T], name: str) -> Callable[[T], T]:
    def add(builder: T) -> T:
        if name in table:
            raise ValueError(f"two samples registered for {name!r}")
        table[name] = builder
        return builder

    return add


def source_sample(kind: str) -> Callable[[Builder], Builder]:
    return _register(SOURCE_SAMPLES, kind)


def broken_source(kind: str) -> Callable[[BrokenBuilder], BrokenBuilder]:
    return _register(BROKEN_SOURCES, kind)


def archive_sample(name: str) -> Callable[[Builder], Builder]:
    return _register(ARCHIVE_SAMPLES, name)


def broken_archive(name: str) -> Callable[[BrokenBuilder], BrokenBuilder]:
    return _register(BROKEN_ARCHIVES, name)


def load_samples() -> None:
    """Import every module of this package, so that each registers its samples."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
