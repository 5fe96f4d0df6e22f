"""The national public-service portal sync: an adapter port that receives each dossier's status in the
portal's terms (engine.rules.portal: dossier code, status code 1-10, received, due and finished dates,
channel, result), driven by the event feed.

``sync`` follows the feed from a stored cursor (``feed_cursors`` row ``portal``) and pushes every
transition of a dossier that has a code, in order, each keyed by the dossier code and the event id
(the portal ignores a key it has seen: idempotent). The cursor moves after each push, so a run
stopped by an error or a crash resumes where it stopped and re-sends at most one status. The
``sync_portal`` task runs it off the request whenever the feed moves; ``motcua sync`` runs it here
and now. ``report`` compares what the portal holds with our dossiers.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select

from engine.adapters import feed as store
from engine.adapters.models import Dossier
from engine.adapters.uow import UnitOfWork
from engine.rules import events as event_rules
from engine.rules import portal as rules
from engine.usecases.feed import event_document, event_view

log = logging.getLogger(__name__)

SYNC_PORTAL = "sync_portal"
CURSOR = "portal"
BATCH = 200


class Portal(Protocol):
    def push_status(self, record: dict[str, Any], key: str) -> None: ...

    def holdings(self) -> dict[str, dict[str, Any]]: ...


class PortalSyncError(Exception):
    """The portal is not configured, or did not take a status."""


@dataclass(frozen=True)
class SyncOutcome:
    pushed: int
    skipped: int
    position: int
    error: str | None = None


@dataclass(frozen=True)
class PortalReport:
    compared: int
    missing: list[str] = field(default_factory=list)  # ours, not on the portal
    different: list[dict[str, Any]] = field(default_factory=list)  # {code, ours, portal}
    extra: list[str] = field(default_factory=list)  # on the portal, not ours

    @property
    def clean(self) -> bool:
        return not (self.missing or self.different or self.extra)


class PortalSync:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], queue: Any,
                 portal: Portal | None):
        self.uow = uow
        self.clock = clock
        self.queue = queue
        self.portal = portal

    @property
    def configured(self) -> bool:
        return self.portal is not None

    def _portal(self) -> Portal:
        if self.portal is None:
            raise PortalSyncError("the national portal is not configured (MOTCUA_PORTAL_URL)")
        return self.portal

    def wake(self) -> bool:
        """Defer a ``sync_portal`` job unless one is waiting (called by ``follow_feed``)."""
        if self.portal is None:
            return False
        with self.uow() as uow:
            added = self.queue.defer_unless_waiting(uow.session.connection(), SYNC_PORTAL, {}, lock="portal:sync")
            uow.commit()
        return added

    def position(self) -> int:
        with self.uow(write=False) as uow:
            return store.cursor_position(uow.session.connection(), CURSOR)

    def sync(self, *, limit: int | None = None) -> SyncOutcome:
        """Push the statuses after the stored cursor, in feed order, until the feed's end (or ``limit``
        events); stop at the first error, with the cursor at the last status the portal took."""
        portal = self._portal()
        pushed = skipped = 0
        position = self.position()
        while limit is None or pushed + skipped < limit:
            with self.uow(write=False) as uow:
                rows = store.read_events(uow.session.connection(), position, BATCH, everything=True)
            if not rows:
                break
            for row in rows:
                view = event_view(row)
                record = (rules.portal_status(event_document(view))
                          if view.type == event_rules.DOSSIER_TRANSITION else None)
                if record is None:
                    skipped += 1
                else:
                    try:
                        portal.push_status(record, rules.idempotency_key(record))
                    except Exception as exc:  # noqa: BLE001 - the portal's failure: stop here, resume later
                        log.warning("portal sync stopped at event %s: %s", view.id, exc)
                        self._save(position)
                        return SyncOutcome(pushed, skipped, position, f"{type(exc).__name__}: {exc}"[:300])
                    pushed += 1
                position = view.id
                self._save(position)
                if limit is not None and pushed + skipped >= limit:
                    break
        return SyncOutcome(pushed, skipped, position)

    def _save(self, position: int) -> None:
        with self.uow() as uow:
            store.set_cursor(uow.session.connection(), CURSOR, position, self.clock())
            uow.commit()

    def run_task(self) -> None:
        """The ``sync_portal`` task: a failure is raised, so the queue retries with back-off."""
        outcome = self.sync()
        if outcome.error:
            raise PortalSyncError(outcome.error)

    def report(self) -> PortalReport:
        """Our dossiers with a code against the portal's holdings: missing there, a different status
        code, or held there and unknown here."""
        theirs = self._portal().holdings()
        with self.uow(write=False) as uow:
            ours = dict(uow.session.execute(select(Dossier.code, Dossier.status_code).where(
                Dossier.code.is_not(None), Dossier.status_code.is_not(None))).all())
        missing = sorted(code for code in ours if code not in theirs)
        extra = sorted(code for code in theirs if code not in ours)
        different = [{"code": code, "ours": ours[code], "portal": theirs[code].get("status_code")}
                     for code in sorted(ours) if code in theirs and theirs[code].get("status_code") != ours[code]]
        return PortalReport(len(ours), missing, different, extra)
