"""Health: whether the database answers and the blob store can be reached (``GET /healthz``)."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text

from engine.adapters.uow import UnitOfWork
from engine.rules.errors import StorageUnavailableError
from engine.usecases.blob_store import BlobStore

log = logging.getLogger(__name__)

OK = "ok"
UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class HealthReport:
    database: str  # ok or unavailable
    blob_store: str

    @property
    def healthy(self) -> bool:
        return self.database == OK and self.blob_store == OK


class Health:
    def __init__(self, uow: Callable[..., UnitOfWork], blobs: BlobStore):
        self.uow = uow
        self.blobs = blobs

    def check(self) -> HealthReport:
        """Each part checked on its own, so the report says which one is down."""
        try:
            self.check_database()
            database = OK
        except Exception as exc:  # noqa: BLE001 - any failure of the database is the answer
            log.error("health: the database does not answer: %s", type(exc).__name__)
            database = UNAVAILABLE
        try:
            self.blobs.check()
            blob_store = OK
        except StorageUnavailableError:
            blob_store = UNAVAILABLE
        return HealthReport(database, blob_store)

    def check_database(self) -> None:
        """Run one trivial query; a database that does not answer raises."""
        with self.uow(write=False) as uow:
            uow.session.execute(text("SELECT 1"))
