"""Who is acting, and what they may see. Pure rules; the services enforce them on every object."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    """The account behind a request: a citizen, a staff member of one agency, or an agency client."""

    account_id: int | None
    username: str
    display_name: str
    kind: str  # citizen | staff | agency_client | system
    roles: frozenset[str] = field(default_factory=frozenset)
    agency_id: int | None = None
    personal_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def is_citizen(self) -> bool:
        return self.kind == "citizen"

    def has_role(self, role: str) -> bool:
        return role in self.roles


SYSTEM = Actor(account_id=None, username="system", display_name="MotCua", kind="system",
               roles=frozenset({"system"}))


def can_view_dossier(actor: Actor, *, applicant_account_id: int, agency_id: int) -> bool:
    """A citizen sees their own dossiers; staff see their agency's; nobody else sees any."""
    if actor.is_citizen:
        return actor.account_id == applicant_account_id
    if actor.is_staff:
        return actor.agency_id == agency_id
    return False


def roles_on_dossier(actor: Actor, *, applicant_account_id: int, agency_id: int) -> frozenset[str]:
    """The workflow roles this actor holds on one dossier (``applicant`` is a relation, not a role)."""
    roles: set[str] = set()
    if actor.account_id is not None and actor.account_id == applicant_account_id:
        roles.add("applicant")
    if actor.is_staff and actor.agency_id == agency_id:
        roles |= actor.roles
    return frozenset(roles)


# A staff comment on an action is internal unless its author marked it public (the flag is kept in the
# audit event's ``details``, which the event's hash covers). The applicant's own comments are theirs;
# reasons and items to supplement are not comments and always reach the applicant.
COMMENT_PUBLIC = "comment_public"


def reads_internal_notes(roles: frozenset[str]) -> bool:
    """Whether a reader holding ``roles`` on a dossier sees its staff's internal comments (staff do)."""
    return bool(roles - {"applicant"})


def comment_is_public(details: dict | None) -> bool:
    return bool(details) and details.get(COMMENT_PUBLIC) is True


def comment_visible(roles: frozenset[str], *, author_role: str, details: dict | None) -> bool:
    """Whether a reader holding ``roles`` on the dossier sees the comment of one audit event."""
    return reads_internal_notes(roles) or author_role == "applicant" or comment_is_public(details)
