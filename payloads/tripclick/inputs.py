"""The producers' input files: plain or gzip text, read a line at a time, never whole.

- :func:`check_input` refuses, in one line, a file that is not text (a NUL byte in its
  first 8 KiB: compressed with something other than gzip, UTF-16, a spreadsheet...),
  before anything is sent; otherwise such a file became thousands of ``not_utf8`` rejects.
- :func:`read_lines` reads a gzip file (by its magic bytes, whatever its name) as its
  text, and holds at most ``max_bytes + 1`` bytes of a line: a longer one is yielded as
  that head (its length tells the caller it is too large) and the rest is skipped.
- :func:`chunks` feeds the batch loop; :func:`realtime_items` gives realtime mode its
  lines in replayed-time order with bounded memory: sorted runs spilled to temporary
  files and merged (the logs are not in time order: sessions are written together).
"""

from __future__ import annotations

import gzip
import heapq
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from tripclick.config import MAX_LINE_BYTES
from tripclick.errors import UserError
from tripclick.events import Event, parse_line
from tripclick.timeshift import Shift

# Lines a batch run encodes at once; also how often it polls, counts and checks for a stop.
CHUNK = 1000
GZIP_MAGIC = b"\x1f\x8b"
# How much of a file check_input reads to tell text from binary.
SNIFF_BYTES = 8192
# Line bytes realtime mode sorts in memory before it spills a run to a temporary file.
RUN_BYTES = 64 * 1024 * 1024
# What a gzip stream cut short or corrupt raises while it is read.
_BROKEN_GZIP = (EOFError, gzip.BadGzipFile, zlib.error)


def open_input(path: Path | str) -> BinaryIO:
    """``path`` opened for reading bytes; a gzip file is decompressed on the fly."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == GZIP_MAGIC else open(path, "rb")


def check_input(path: Path | str) -> None:
    """A one-line UserError unless ``path`` is a readable text (or gzip'd text) file."""
    try:
        with open_input(path) as fh:
            head = fh.read(SNIFF_BYTES)
    except _BROKEN_GZIP as err:
        raise UserError(
            f"input file {path} is not a readable gzip file ({err}); check --input"
        ) from None
    except OSError as err:
        raise UserError(f"cannot read input file {path} ({err.strerror}); check --input") from None
    if b"\x00" in head:
        raise UserError(
            f"input file {path} is not text (a NUL byte in its first {SNIFF_BYTES:,} bytes): "
            "give JSON lines, plain or gzip-compressed (.gz), in UTF-8"
        )


def read_lines(path: Path | str, max_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, bytes]]:
    """(line number, line without its line end) of every non-blank line of ``path``.

    A line longer than ``max_bytes`` comes as its first ``max_bytes + 1`` bytes. A gzip
    stream that breaks off is a UserError naming the last line read.
    """
    no = 0
    try:
        with open_input(path) as fh:
            readline = fh.readline
            while line := readline(max_bytes + 1):
                no += 1
                if len(line) > max_bytes and line[-1:] != b"\n":
                    while (rest := readline(1 << 20)) and rest[-1:] != b"\n":
                        pass  # the rest of a line too large to keep
                    yield no, line
                    continue
                line = line.rstrip(b"\r\n")
                if line and not line.isspace():
                    yield no, line
    except _BROKEN_GZIP as err:
        raise UserError(
            f"input file {path} breaks off after line {no:,} ({err}): the lines before it "
            "were sent; fix or re-compress the file and re-run (silver drops duplicates)"
        ) from None


def chunks(
    files: list[Path] | list[str],
    keep: Callable[[bytes], bool] | None = None,
    max_bytes: int = MAX_LINE_BYTES,
) -> Iterator[tuple[str, list[int], list[bytes]]]:
    """(file, line numbers, lines) of up to :data:`CHUNK` non-blank lines ``keep`` accepts."""
    for path in files:
        name = str(path)
        numbers: list[int] = []
        lines: list[bytes] = []
        for no, line in read_lines(path, max_bytes):
            if keep is None or keep(line):
                numbers.append(no)
                lines.append(line)
                if len(lines) == CHUNK:
                    yield name, numbers, lines
                    numbers, lines = [], []
        if lines:
            yield name, numbers, lines


# One item of a spilled run: replayed ms, file index, line number, line length; then the line.
_ITEM = struct.Struct("<qIQI")
_Item = tuple[int, int, int, bytes]


def realtime_items(
    files: list[Path],
    shift: Shift,
    max_bytes: int = MAX_LINE_BYTES,
    run_bytes: int = RUN_BYTES,
) -> Iterator[tuple[int, str, int, bytes]]:
    """(replayed ms, file, line number, line) of every line in replayed-time order.

    A bad line keeps the time of the valid line before it in its file (the earliest
    valid time when none is). Every line is read before the first is given, as a sort
    needs; at most about ``run_bytes`` of them are held in memory at once.
    """
    to_shifted = shift.shifter()
    runs: list[BinaryIO] = []
    run: list[_Item] = []
    size, first_valid = 0, None
    try:
        for file_no, path in enumerate(files):
            last = -1
            for no, line in read_lines(path, max_bytes):
                parsed = parse_line(line) if len(line) <= max_bytes else None
                if isinstance(parsed, Event):
                    last = to_shifted(parsed.click_ms)
                    first_valid = last if first_valid is None else min(first_valid, last)
                run.append((last, file_no, no, line))
                size += len(line) + 100  # and the tuple holding it
                if size >= run_bytes:
                    runs.append(_spill(run))
                    run, size = [], 0
        run.sort()
        names = [str(p) for p in files]
        for at, file_no, no, line in heapq.merge(*map(_unspill, runs), run):
            yield (at if at >= 0 else first_valid or 0), names[file_no], no, line
    finally:
        for fh in runs:
            fh.close()


def _spill(run: list[_Item]) -> BinaryIO:
    """``run`` sorted, written to an anonymous temporary file (gone when closed)."""
    run.sort()
    fh = tempfile.TemporaryFile()  # noqa: SIM115 - read back by the merge, closed there
    pack, write = _ITEM.pack, fh.write
    for at, file_no, no, line in run:
        write(pack(at, file_no, no, len(line)))
        write(line)
    fh.seek(0)
    return fh


def _unspill(fh: BinaryIO) -> Iterator[_Item]:
    read, unpack, size = fh.read, _ITEM.unpack, _ITEM.size
    while header := read(size):
        at, file_no, no, length = unpack(header)
        yield at, file_no, no, read(length)
