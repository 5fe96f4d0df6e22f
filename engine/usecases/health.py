"""Health: whether the database answers (``GET /healthz``)."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text

from engine.adapters.uow import UnitOfWork


class Health:
    def __init__(self, uow: Callable[..., UnitOfWork]):
        self.uow = uow

    def check_database(self) -> None:
        """Run one trivial query; a database that does not answer raises."""
        with self.uow(write=False) as uow:
            uow.session.execute(text("SELECT 1"))
