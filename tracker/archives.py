"""Reading inputs that expand: zip archives, gzip files and XML, each with a bound (review H7, L5, L7).

All three can turn a small download into a huge one: a zip or gzip "bomb" inflates a few MB into
many GB, and an XML document type definition (DTD) can define entities that expand a thousand-fold
(billion laughs) or pull in local files (external entities). The HTTP size cap only limits what
arrives over the wire, so every reader of these formats in `scrapers/` goes through this module:

* `SafeZip`: a zip archive whose member count is checked before its central directory is parsed,
  whose members are read through bounded streams (never `ZipFile.read` of an unchecked member),
  with caps on each member's size, on the total read from the archive, and on the compression ratio.
  Encrypted members, unknown compression and damage are a one-line `SourceFormatError` naming the
  member, not a `RuntimeError` or `zlib.error` traceback.
* `gunzip` / `open_gzip`: a gzip file (whole, or as a stream of lines) under the same caps.
* `parse_xml`: ElementTree parsing through defusedxml, refusing any DTD. None of our XML sources (WA
  WSL, NY BILLSTAT, CA CAML) sends one, so refusing them all costs nothing and leaves no guard that
  a long comment before `<!DOCTYPE` can slip past (the old WA check looked at 300 characters).

A cap that is exceeded raises `ArchiveTooLarge`; damage raises a plain `SourceFormatError`. Callers
that keep the records read before damage (Open States' JSON Lines) tell the two apart.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import fromstring as _defused_fromstring

from tracker.scraped import SourceFormatError

# --- The caps ----------------------------------------------------------------------------------
# Real archives sit far below every cap. A whole-session CA pubinfo zip is several hundred MB
# uncompressed: its largest tables (BILL_HISTORY_TBL, BILL_VERSION_AUTHORS_TBL) are tens of MB and
# each bill version's CAML is one small .lob. A LegiScan dataset is one small JSON file per bill,
# roll call and person. A whole Open States session as JSON Lines is 8-23 MB (the 15 sessions
# recorded in ../shared). The caps leave several times that room, and stay within what one
# process can hold in memory while it parses (tables are parsed whole).
MAX_MEMBERS = 100_000  # files in one archive: one per bill version or roll call is tens of thousands
MAX_MEMBER_BYTES = 512 * 1024 * 1024  # one member uncompressed: 10x the largest real CA table
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024  # all members read from one archive: ~4x a full CA session
# Text tables, XML and JSON compress 5-20x with deflate (the recorded Open States sessions: 16x;
# CA pubinfo tables: 2-7x). Deflate cannot exceed about 1,030x, which is what a bomb uses (the
# review's 1.5 MB CA archive: ~1,000x). Small members may compress better and cannot hurt, so the
# ratio is checked only above RATIO_FLOOR.
MAX_RATIO = 100
RATIO_FLOOR = 4 * 1024 * 1024

_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """The caps for one archive (tests use small ones; the defaults are the module constants)."""

    members: int = MAX_MEMBERS
    member_bytes: int = MAX_MEMBER_BYTES
    total_bytes: int = MAX_TOTAL_BYTES
    ratio: float = MAX_RATIO
    ratio_floor: int = RATIO_FLOOR


LIMITS = Limits()


class ArchiveTooLarge(SourceFormatError):
    """A cap was exceeded: the archive is refused whole (a bomb, or far beyond any real source)."""


# --- Zip -----------------------------------------------------------------------------------------

def _declared_members(handle: BinaryIO) -> int | None:
    """The entry count the end-of-central-directory record declares (zip64 too), read before
    ZipFile builds one ZipInfo per entry: a crafted directory of millions of entries is refused
    without allocating them. None when there is no such record (ZipFile then says what is wrong)."""
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    tail_size = min(size, 22 + 0xFFFF)  # the record plus the longest comment
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    (entries,) = struct.unpack("<H", tail[at + 10:at + 12])
    if entries == 0xFFFF and at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07":
        (offset,) = struct.unpack("<Q", tail[at - 12:at - 4])
        handle.seek(offset)
        record = handle.read(56)
        if record[:4] == b"PK\x06\x06":
            (entries,) = struct.unpack("<Q", record[32:40])
    return entries


class SafeZip:
    """A zip archive read within `Limits`. `members` lists its files (folders left out); `read`
    returns one member's bytes and `open` a bounded stream of it. Use as a context manager."""

    def __init__(self, source: bytes | Path, name: str, limits: Limits = LIMITS, *,
                 expected: str = "a zip archive"):
        self.name, self.limits, self.read_bytes = name, limits, 0
        handle: BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else Path(source).open("rb")
        try:
            head = handle.read(64)
            if not head:
                raise SourceFormatError(f"{name}: empty file where {expected} was expected")
            if head.lstrip()[:1] == b"<":
                raise SourceFormatError(f"{name}: got HTML/XML where {expected} was expected "
                                        "(an error page?)")
            declared = _declared_members(handle)
            if declared is not None and declared > limits.members:
                raise ArchiveTooLarge(f"{name}: the archive declares {declared:,} members, over the limit "
                                      f"of {limits.members:,} (tracker.archives.MAX_MEMBERS); not read")
            handle.seek(0)
            self._zip = zipfile.ZipFile(handle)
        except SourceFormatError:
            handle.close()
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, struct.error) as exc:
            handle.close()
            raise SourceFormatError(f"{name}: not a readable zip archive ({exc}); "
                                    "truncated or damaged download?") from None
        self._handle = handle
        infos = self._zip.infolist()
        if len(infos) > limits.members:
            self.close()
            raise ArchiveTooLarge(f"{name}: {len(infos):,} members, over the limit of {limits.members:,} "
                                  "(tracker.archives.MAX_MEMBERS); not read")
        self.members = [info for info in infos if not info.is_dir()]

    def _check(self, info: zipfile.ZipInfo) -> None:
        """Refuse a member before a byte of it is inflated."""
        where, limits = f"{self.name}: member {info.filename}", self.limits
        if info.flag_bits & 0x1:
            raise SourceFormatError(f"{where} is encrypted; password-protected archives are not read")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                                      zipfile.ZIP_LZMA):
            raise SourceFormatError(f"{where} uses compression method {info.compress_type}, "
                                    "which we cannot read")
        if info.file_size > limits.member_bytes:
            raise ArchiveTooLarge(f"{where} is {info.file_size:,} bytes uncompressed, over the limit of "
                                  f"{limits.member_bytes:,} for one member "
                                  "(tracker.archives.MAX_MEMBER_BYTES)")
        if info.file_size > limits.ratio_floor and info.file_size > limits.ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise ArchiveTooLarge(f"{where} inflates {ratio:,.0f}x ({info.compress_size:,} -> "
                                  f"{info.file_size:,} bytes), over the limit of {limits.ratio:g}x "
                                  "(tracker.archives.MAX_RATIO): a zip bomb?")
        if self.read_bytes + info.file_size > limits.total_bytes:
            raise ArchiveTooLarge(f"{where}: reading its {info.file_size:,} bytes would take the archive "
                                  f"past {limits.total_bytes:,} bytes uncompressed in all "
                                  "(tracker.archives.MAX_TOTAL_BYTES)")

    def _stream(self, info: zipfile.ZipInfo) -> _Bounded:
        self._check(info)
        try:
            inner = self._zip.open(info)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
            raise SourceFormatError(f"{self.name}: member {info.filename} is damaged ({exc})") from None
        return _Bounded(inner, self, f"{self.name}: member {info.filename}",
                        min(self.limits.member_bytes, info.file_size))

    def open(self, info: zipfile.ZipInfo) -> BinaryIO:
        """A buffered, bounded stream of one member (iterate it for lines). Damage found while
        streaming raises what zipfile raises (BadZipFile, zlib.error, EOFError), so a caller can keep
        the records read before it; a cap raises ArchiveTooLarge."""
        return io.BufferedReader(self._stream(info))  # small reads: damage loses only the last few lines

    def read(self, info: zipfile.ZipInfo) -> bytes:
        """One member whole, through the bounded stream; damage is a SourceFormatError naming it."""
        try:
            with self._stream(info) as stream:
                parts = []
                while chunk := stream.read(_CHUNK):
                    parts.append(chunk)
                return b"".join(parts)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise SourceFormatError(f"{self.name}: member {info.filename} is damaged "
                                    f"({type(exc).__name__}: {exc}); truncated or damaged download?"
                                    ) from None

    def close(self) -> None:
        self._zip.close()
        self._handle.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Bounded(io.RawIOBase):
    """Counts what a member yields against its own cap and the archive's total; never trusts the
    sizes the archive declares (zipfile stops at the declared size, but a cap costs nothing)."""

    def __init__(self, inner: BinaryIO, archive: SafeZip | None, where: str, limit: int,
                 compressed: int | None = None):
        self.inner, self.archive, self.where, self.limit = inner, archive, where, limit
        self.compressed, self.count = compressed, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(min(len(buffer), _CHUNK))
        self.count += len(data)
        if self.count > self.limit:
            raise ArchiveTooLarge(f"{self.where}: more than {self.limit:,} bytes uncompressed "
                                  "(tracker.archives.MAX_MEMBER_BYTES)")
        if self.archive is not None:
            self.archive.read_bytes += len(data)
            if self.archive.read_bytes > self.archive.limits.total_bytes:
                raise ArchiveTooLarge(f"{self.where}: the archive passed {self.archive.limits.total_bytes:,} "
                                      "bytes uncompressed in all (tracker.archives.MAX_TOTAL_BYTES)")
        if self.compressed is not None and self.count > max(RATIO_FLOOR, MAX_RATIO * self.compressed):
            raise ArchiveTooLarge(f"{self.where}: inflates more than {MAX_RATIO}x ({self.compressed:,} bytes "
                                  f"-> over {self.count:,}; tracker.archives.MAX_RATIO): a gzip bomb?")
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self.inner.close()
        super().close()


# --- Gzip ----------------------------------------------------------------------------------------

def gunzip(data: bytes, name: str, limit: int = MAX_MEMBER_BYTES) -> bytes:
    """A whole gzip file (every member, as gzip.decompress reads it), inflated in chunks under the
    member and ratio caps. A truncated or damaged file is a SourceFormatError."""
    parts, size, rest = [], 0, data
    try:
        while rest:
            inflater = zlib.decompressobj(wbits=31)  # 31: a gzip header and trailer
            while True:
                chunk = inflater.decompress(rest, _CHUNK)
                rest = inflater.unconsumed_tail
                size += len(chunk)
                if size > limit:
                    raise ArchiveTooLarge(f"{name}: more than {limit:,} bytes once uncompressed "
                                          "(tracker.archives.MAX_MEMBER_BYTES)")
                if size > RATIO_FLOOR and size > MAX_RATIO * len(data):
                    raise ArchiveTooLarge(f"{name}: inflates more than {MAX_RATIO}x ({len(data):,} bytes -> "
                                          f"over {size:,}; tracker.archives.MAX_RATIO): a gzip bomb?")
                parts.append(chunk)
                if inflater.eof or (not chunk and not rest):
                    break
            if not inflater.eof:
                raise SourceFormatError(f"{name}: gzip data is truncated (the download was cut short?)")
            rest = inflater.unused_data
            if rest[:2] != b"\x1f\x8b":
                break  # trailing zero padding after the last member is ignored, as gzip does
    except zlib.error as exc:
        raise SourceFormatError(f"{name}: gzip data is damaged ({exc})") from None
    return b"".join(parts)


def open_gzip(path: Path, name: str | None = None) -> BinaryIO:
    """A gzip file as a bounded stream of its uncompressed bytes (iterate it for lines). Damage
    while streaming raises what gzip raises (EOFError, BadGzipFile, zlib.error)."""
    import gzip

    where = name or str(path)
    inner = gzip.open(path, "rb")
    return io.BufferedReader(_Bounded(inner, None, where, MAX_MEMBER_BYTES, path.stat().st_size))


# --- XML -----------------------------------------------------------------------------------------

class XMLRefused(SourceFormatError):
    """The XML carries a DTD, an entity declaration or an external reference: refused, never parsed."""


def parse_xml(data: str | bytes, name: str) -> Element:
    """An XML document -> its root Element (the standard ElementTree API), parsed by defusedxml with
    every DTD forbidden. XMLRefused for a DTD / entity / external reference; SourceFormatError
    when the document is not well-formed."""
    try:
        return _defused_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DTDForbidden:
        raise XMLRefused(f"{name}: the XML carries a DTD (<!DOCTYPE ...>); refused, since no source we "
                         "read sends one and a DTD is how entity bombs and external entities get in"
                         ) from None
    except EntitiesForbidden as exc:
        raise XMLRefused(f"{name}: the XML declares an entity ({exc}); refused") from None
    except ExternalReferenceForbidden as exc:
        raise XMLRefused(f"{name}: the XML refers to an external resource ({exc}); refused") from None
    except DefusedXmlException as exc:
        raise XMLRefused(f"{name}: refused unsafe XML ({exc})") from None
    except ParseError as exc:
        raise SourceFormatError(f"{name}: not well-formed XML ({exc})") from None
