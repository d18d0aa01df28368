"""Free-text matching that behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any


def like_pattern(text: str) -> str:
    """`%text%` with LIKE's wildcards escaped, lower-cased for a case-blind match."""
    clean = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{clean}%"


def contains(column: Any, text: str, dialect: str) -> Any:
    """Case-blind substring match. SQLite's LIKE is already case-blind (for ASCII), and
    without `lower()` on every row it is several times faster; PostgreSQL needs ILIKE."""
    if dialect == "sqlite":
        return column.like(like_pattern(text), escape="\\")
    return column.ilike(like_pattern(text), escape="\\")
