"""Which sites a report covers: one department's, those a web user may see, or all.

A department's report must hold only that department's sites and devices, so every query a
builder makes goes through `Scope`: `site_pks is None` means the whole estate (devices with no
site included); otherwise only devices at those sites count.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select, true

from camsweep.errors import ReportError
from camsweep.store import Store
from camsweep.store import models as m


@dataclass(frozen=True)
class Scope:
    department: str | None
    site_pks: frozenset[int] | None
    label: str

    @property
    def central(self) -> bool:
        return self.site_pks is None

    @property
    def who(self) -> str:
        """Whose report it is, for titles."""
        if self.department:
            return self.department
        return "all departments" if self.central else "selected sites"

    @property
    def stem(self) -> str:
        """The file-name part naming whose report it is."""
        return self.department or ("central" if self.central else "selected-sites")

    def sites(self, column: Any) -> ColumnElement[bool]:
        """A WHERE clause keeping rows whose site column is in scope."""
        if self.site_pks is None:
            return true()
        return column.in_(sorted(self.site_pks))  # type: ignore[no-any-return]

    def allows(self, site_pk: int | None) -> bool:
        return self.site_pks is None or (site_pk is not None and site_pk in self.site_pks)


def departments(store: Store) -> list[str]:
    with store.session() as session:
        return list(session.scalars(select(m.Department.name).order_by(m.Department.name)))


def resolve_scope(store: Store, department: str | None = None,
                  site_pks: Collection[int] | None = None) -> Scope:
    """The department (matched without regard to case) and/or the caller's visible sites."""
    allowed = frozenset(site_pks) if site_pks is not None else None
    if department is None:
        label = ("All departments (central return)" if allowed is None
                 else "Sites visible to the requesting account")
        return Scope(None, allowed, label)
    with store.session() as session:
        row = session.execute(select(m.Department.id, m.Department.name).where(
            func.lower(m.Department.name) == department.strip().lower())).first()
        if row is None:
            known = ", ".join(departments(store)) or "none: import a site list first"
            raise ReportError(f"--department {department!r} is not a department in the store "
                              f"(known: {known})")
        dept_id, name = row
        pks = frozenset(session.scalars(select(m.Site.id).where(
            m.Site.department_id == dept_id)))
    if allowed is not None:
        pks &= allowed
    return Scope(str(name), pks, f"Department: {name}")
