"""Scraped text is shown to people: in a terminal it must not carry control sequences."""

from __future__ import annotations

import re

import typer

# C0 and C1 controls and DEL, except tab and newline, which our own line formats use.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BREAKS = re.compile(r"[\t\r\n\v\f\u2028\u2029]+")


def terminal_safe(text: str) -> str:
    """Escape sequences and other controls become visible `\\xNN` text instead of acting."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def one_line(text: str | None) -> str:
    """A scraped field inside a tab-separated line: its own tabs and line breaks become spaces."""
    return _BREAKS.sub(" ", text or "")


def say(message: object = "", *, err: bool = False) -> None:
    """typer.echo for anything that may include scraped text."""
    typer.echo(terminal_safe(str(message)), err=err)
