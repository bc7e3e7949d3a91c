"""Scraped text is shown to people: in a terminal it must not carry control sequences."""

from __future__ import annotations

import json
import re

import typer

# C0 and C1 controls and DEL, except tab and newline, which our own line formats use.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BREAKS = re.compile(r"[\t\r\n\v\f\u2028\u2029]+")
# Characters that reorder or hide text (bidi overrides and isolates, zero-width marks): in a terminal
# or a spreadsheet they can make a scraped title read as something else.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def terminal_safe(text: str) -> str:
    """Escape sequences, other controls and bidi overrides become visible `\\xNN` / `\\uNNNN` text
    instead of acting."""
    text = _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
    return _INVISIBLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def one_line(text: str | None) -> str:
    """A scraped field inside a tab-separated line: its own tabs and line breaks become spaces."""
    return _BREAKS.sub(" ", text or "")


def json_line(record: object) -> str:
    """One JSON Lines record for a terminal: readable UTF-8, but every control, bidi and zero-width
    character written as a JSON \\u escape, so it stays data and never acts (review row L6)."""
    text = json.dumps(record, ensure_ascii=False)
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}",
                          _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_safe(value: object) -> object:
    """A cell a spreadsheet will show as text, never run: a string starting like a formula (= + - @,
    tab, CR, LF) gets a leading apostrophe (OWASP CSV injection). Numbers and empty values pass as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def shown_status(label: str | None, basis: str | None = None) -> str:
    """A status as people see it. One that rests on the source's own labels, not on our rules, says so."""
    if not label:
        return "introduced"  # never an empty status: a bill that exists was introduced
    return f"{label} [upstream labels]" if basis == "upstream" else label


def say(message: object = "", *, err: bool = False) -> None:
    """typer.echo for anything that may include scraped text."""
    typer.echo(terminal_safe(str(message)), err=err)
