"""One module per page; each has `render()`. Shared bits: the pinned "today", link columns, escaping."""

from __future__ import annotations

from datetime import UTC, date, datetime

import streamlit as st

from dashboard.data import md

AS_OF = "as_of"  # session-state key of the sidebar's "As of" date: every relative date hangs on it


def as_of() -> date:
    """The day the pages treat as today: the sidebar's "As of" date, else today's date in UTC."""
    value = st.session_state.get(AS_OF)
    return value if isinstance(value, date) else datetime.now(UTC).date()


def param(name: str, default: str | None = None) -> str | None:
    value = st.query_params.get(name)
    return value if value not in (None, "") else default


def params(name: str) -> list[str]:
    return [v for v in st.query_params.get_all(name) if v]


LINKS = {
    "page": st.column_config.LinkColumn("page", display_text="open", help="The bill's page in this dashboard"),
    "source": st.column_config.LinkColumn("source", display_text="official source",
                                          help="The official document this row was read from"),
    "bill source": st.column_config.LinkColumn("bill source", display_text="official source"),
    "url": st.column_config.LinkColumn("url", display_text="official source"),
    "text": st.column_config.LinkColumn("text", display_text="text"),
    "low confidence": st.column_config.CheckboxColumn("low confidence", help="Confidence L: treat with care"),
}


def _links(values) -> bool:
    """A column is drawn as links only when every value is one of ours (safe_url or a page path)."""
    if values.dtype == bool:
        return True
    present = [v for v in values if isinstance(v, str) and v]
    return all(v.startswith(("https://", "http://", "/")) for v in present)


def table(frame, *, key: str | None = None, height: int | str = "auto", **kwargs):
    """A read-only table: cells are drawn as text by the grid, never as HTML or Markdown."""
    config = {name: column for name, column in LINKS.items() if name in frame.columns and _links(frame[name])}
    return st.dataframe(frame, hide_index=True, column_config=config, key=key, height=height, **kwargs)


__all__ = ["AS_OF", "LINKS", "as_of", "md", "param", "params", "table"]
