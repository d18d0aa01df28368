"""Department scoping in SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from camsweep.store import Store
from camsweep.store import models as m
from camsweep.web.roles import Principal


def scoped(stmt: Any, principal: Principal, site_pk_column: Any) -> Any:
    """Restrict a statement to rows whose site belongs to the principal's department.

    `site_pk_column` is the statement's column holding a site's primary key; a row with no
    site (an unregistered, scanned device) is central's alone.
    """
    if principal.central:
        return stmt
    dept_sites = select(m.Site.id).where(m.Site.department_id == principal.department_id)
    return stmt.where(site_pk_column.in_(dept_sites))


def site_pks(store: Store, principal: Principal) -> list[int] | None:
    """The principal's site keys for interfaces that take a collection; None means all."""
    if principal.central:
        return None
    with store.session() as s:
        return list(s.scalars(select(m.Site.id)
                              .where(m.Site.department_id == principal.department_id)))
