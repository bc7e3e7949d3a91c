"""Source text files: bytes to text, and text to CSV records, for files that are mostly right.

Two faults of the states' bulk files are handled here once, for every reader (review M6, M8):

* **Stray bytes.** The files are UTF-8 but carry the odd Windows-1252 byte (a bare 0xAE in VA's
  2024 Bills.csv, the section sign on LBDC pages). Decoding the whole file as cp1252 when one byte
  fails garbles every real UTF-8 character ("Act — §" becomes "Act â€” Â§", and CA's curly-quote
  outcome lines stop matching the rules). `decode_text` keeps valid UTF-8 as it is and reads only
  each byte that is not UTF-8 as cp1252.
* **CSV records.** The csv module's 128 KiB field limit failed a whole VA session on one long
  history line, with a message that named no file, line or bill. The limit is raised here (the only
  place it is set), and `csv_records` / `csv_dict_records` say where a record failed. A record over
  even the raised limit is returned as a `BadRecord` (that bill becomes a problem, the others are
  read) when the record's end can be found; any other CSV error is a SourceFormatError naming the
  file, the line and, when it can be read, the record's key (the bill).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tracker.scraped import SourceFormatError

# --- Decoding ------------------------------------------------------------------------------------

_REPAIR = "tracker-cp1252-bytes"


def _cp1252_bytes(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: the bytes UTF-8 could not read, read as Windows-1252 (five byte values
    cp1252 leaves undefined become U+FFFD); decoding goes on right after them."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start:error.end]
    return bytes(bad).decode("cp1252", errors="replace"), error.end


codecs.register_error(_REPAIR, _cp1252_bytes)


def decode_text(data: bytes) -> str:
    """UTF-8 text (a leading BOM dropped) in which each byte that is not UTF-8 is read as cp1252 on
    its own, so one stray byte never changes how the rest of the file reads."""
    return data.decode("utf-8-sig", errors=_REPAIR)


# --- CSV -----------------------------------------------------------------------------------------

# One field of a legislative table is a title, an action line or a description: a few KB. 16 MiB is
# far above any real one (VA's longest History line is under 1 KB; the review's case is 200 KB) and
# still bounds what one malformed record (an unclosed quote swallowing the rest of a file) can cost.
FIELD_SIZE_LIMIT = 16 * 1024 * 1024
csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))

_KEY_PREFIX = 4096  # characters of a bad record read again to find its key


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record the csv module could not read, with where it was: the file, the line it starts on,
    and its key (the bill id column) when that could be read. The rest of the file was read on."""

    file: str
    line: int
    key: str | None
    reason: str

    @property
    def message(self) -> str:
        bill = f" ({self.key})" if self.key else ""
        return f"{self.file} line {self.line}{bill}: {self.reason}"

    def error(self, why: str = "") -> SourceFormatError:
        """This record as a SourceFormatError, for a caller that cannot set it aside."""
        return SourceFormatError(self.message + (f"; {why}" if why else ""))


class _Lines:
    """The physical lines handed to csv.reader, remembering those of the record being read (the
    reader asks for one line at a time, so these are exactly the current record's)."""

    def __init__(self, text: str):
        self._lines = iter(io.StringIO(text, newline=""))
        self.record: list[str] = []
        self.number = 0  # physical lines handed out so far

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.number += 1
        self.record.append(line)
        return line

    def skip_to_record_end(self, quotechar: str) -> bool:
        """After a failed record: drop lines until the quotes of the record balance (CSV doubles a
        quote inside a field, so a line break ends a record only after an even count). False when
        the file ends first (an unclosed quote: the record cannot be told from the rest)."""
        count = sum(line.count(quotechar) for line in self.record)
        while count % 2:
            try:
                line = next(self)
            except StopIteration:
                return False
            count += line.count(quotechar)
        return True


class CsvRecords:
    """csv.reader over `text` (same fmtparams), yielding each record as a list of fields ([] for a
    blank line, as csv.reader does), or a BadRecord for one over the field limit whose end could be
    found. Any other CSV error raises a SourceFormatError naming `name`, the line and the record's
    key, read from `key_column` (which a caller may set once it has read the header)."""

    def __init__(self, text: str, name: str, *, key_column: int | None = 0, **fmtparams):
        self.text, self.name, self.key_column, self.fmtparams = text, name, key_column, fmtparams
        self.line = 0  # the physical line the record last yielded starts on

    def __iter__(self) -> Iterator[list[str] | BadRecord]:
        lines = _Lines(self.text)
        reader = csv.reader(lines, **self.fmtparams)
        quotechar = self.fmtparams.get("quotechar", '"')
        while True:
            lines.record = []
            start = lines.number + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                key = _key_of("".join(lines.record), self.key_column, self.fmtparams)
                bad = BadRecord(self.name, start, key, f"unreadable CSV record ({exc})")
                if not str(exc).startswith("field larger than field limit"):
                    raise bad.error() from None
                if not lines.skip_to_record_end(quotechar):
                    raise bad.error("an unclosed quote runs to the end of the file") from None
                yield bad
                continue
            self.line = start
            yield values


def _key_of(record: str, column: int | None, fmtparams: dict) -> str | None:
    """The key field of a record that failed, read again from its first characters (the key comes
    before the long field, or it cannot be known)."""
    if column is None:
        return None
    prefix = record[:min(_KEY_PREFIX, csv.field_size_limit() - 1)]  # short enough to read again
    try:
        fields = next(csv.reader(io.StringIO(prefix, newline=""), **{**fmtparams, "strict": False}), [])
    except csv.Error:
        return None
    complete = len(fields) if len(prefix) == len(record) else len(fields) - 1  # the last may be cut
    return (fields[column].strip() or None) if column < complete else None


class DictRecords:
    """csv.DictReader's records from CsvRecords: fields beyond the header under the key None, missing
    ones None, blank lines skipped; a BadRecord as it comes. `fieldnames` is read at once (a header
    that cannot be read raises); `normalize` rewrites each header name (CT lower-cases them); `key`
    names the column that identifies a record's bill, so a BadRecord can name it."""

    def __init__(self, text: str, name: str, *, key: str, normalize: Callable[[str], str] | None = None,
                 **fmtparams):
        self._source = CsvRecords(text, name, key_column=None, **fmtparams)
        self._records = iter(self._source)
        self.fieldnames: list[str] = []
        for header in self._records:
            if isinstance(header, BadRecord):
                raise header.error("the header row cannot be read")
            if header:
                self.fieldnames = [normalize(h) if normalize else h for h in header]
                break
        if key in self.fieldnames:
            self._source.key_column = self.fieldnames.index(key)

    def __iter__(self) -> Iterator[dict[str | None, str | None] | BadRecord]:
        names, width = self.fieldnames, len(self.fieldnames)
        for values in self._records:
            if isinstance(values, BadRecord):
                yield values
                continue
            if not values:
                continue
            row: dict[str | None, str | None] = dict(zip(names, values))
            if len(values) > width:
                row[None] = values[width:]
            elif len(values) < width:
                for missing in names[len(values):]:
                    row[missing] = None
            yield row
