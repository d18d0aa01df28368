"""Who may do what: roles, capabilities and the signed-in principal (pure, no I/O).

Roles are ordered by what they add; department scoping is separate from the role: every
role but `central_admin` sees and changes only its own department's sites and what hangs
off them. `procurement` is a capability flag on an account, orthogonal to the role, because
the people who investigate suppliers are rarely the people who remove cameras.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    SURVEYOR = "surveyor"
    DEPARTMENT_ADMIN = "department_admin"
    CENTRAL_ADMIN = "central_admin"


class Cap(StrEnum):
    READ = "read"  # the department's estate, findings, plan and work orders
    RECORD_WORK = "record_work"  # move work orders through the removal lifecycle
    IMPORT = "import"  # upload registers and site lists
    MANAGE_USERS = "manage_users"  # accounts of the department (all, for central admins)
    GENERATE_WORK = "generate_work"  # turn the organisation-wide plan into work orders
    AUDIT = "audit"  # read and verify the organisation-wide audit log
    CASES = "cases"  # screening cases and the exclusion register


ROLE_CAPS: dict[Role, frozenset[Cap]] = {
    Role.VIEWER: frozenset({Cap.READ}),
    Role.SURVEYOR: frozenset({Cap.READ, Cap.RECORD_WORK}),
    Role.DEPARTMENT_ADMIN: frozenset({Cap.READ, Cap.RECORD_WORK, Cap.IMPORT, Cap.MANAGE_USERS}),
    Role.CENTRAL_ADMIN: frozenset({Cap.READ, Cap.RECORD_WORK, Cap.IMPORT, Cap.MANAGE_USERS,
                                   Cap.GENERATE_WORK, Cap.AUDIT}),
}

ROLE_LABELS: dict[Role, str] = {
    Role.VIEWER: "Viewer",
    Role.SURVEYOR: "Surveyor",
    Role.DEPARTMENT_ADMIN: "Department admin",
    Role.CENTRAL_ADMIN: "Central admin",
}


def parse_role(value: str) -> Role | None:
    try:
        return Role(value.strip().lower().replace("-", "_"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Principal:
    """The account behind a request, resolved once per request from a session or a token."""

    user_id: int
    username: str
    role: Role
    department_id: int | None
    department: str | None
    procurement: bool = False
    via: str = "session"  # session | token

    @property
    def central(self) -> bool:
        return self.role is Role.CENTRAL_ADMIN

    def may(self, cap: Cap) -> bool:
        if cap is Cap.CASES:
            return self.procurement
        return cap in ROLE_CAPS[self.role]

    def may_grant(self, role: Role, department_id: int | None, procurement: bool) -> bool:
        """A department admin manages its own department's accounts but cannot mint central
        admins or procurement officers; only a central admin can."""
        if not self.may(Cap.MANAGE_USERS):
            return False
        if self.central:
            return True
        return (role is not Role.CENTRAL_ADMIN and not procurement
                and department_id is not None and department_id == self.department_id)
