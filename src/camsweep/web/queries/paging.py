"""Server-side paging shared by every list (API and pages)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50


@dataclass(frozen=True)
class Paging:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def of(cls, page: int | None, per_page: int | None) -> Paging:
        size = min(max(per_page or DEFAULT_PER_PAGE, 1), MAX_PER_PAGE)
        return cls(max(page or 1, 1), size)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items)

    def as_dict(self, item: Any = None) -> dict[str, Any]:
        """The API shape from design.md: {"items", "total", "page"} (+ per_page, pages)."""
        items = [item(i) for i in self.items] if item else self.items
        return {"items": items, "total": self.total, "page": self.page,
                "per_page": self.per_page, "pages": self.pages}
