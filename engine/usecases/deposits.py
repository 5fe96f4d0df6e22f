"""Results from outside: an agency client that issues an evidence type (a hospital: medical birth
notices, death notices) deposits a result into its holders' store through the API, signed with its
registered key and verified on the way in. Stored results of that type then serve prefill and
stand in for documents like our own.

Refused: an unknown or undeclared evidence type, a type the client may not issue, a missing or
bad signature, a holder not in the population register, a number already used for other content.
Replaying the same body answers with the same result.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.adapters.models import Account, Agency, Result, ResultDeposit, ResultHolder, new_uuid
from engine.adapters.uow import UnitOfWork
from engine.rules import deposits as rules
from engine.rules.access import Actor
from engine.rules.definitions import Catalogue
from engine.rules.errors import (
    ActionNotAllowedError, IdempotencyConflictError, NotFoundError, PermissionDeniedError, ValidationError,
)
from engine.rules.identity import PersonalIdRule
from engine.rules.prefill import PersonRecord
from engine.usecases.feed import Feed, result_event
from engine.usecases.views import ResultView, result_view

log = logging.getLogger(__name__)


class SignatureVerifier(Protocol):
    """The port signing.detached implements."""

    def key_info(self, public_key_pem: str) -> tuple[str, str]: ...  # (algorithm, fingerprint); ValueError
    def verify(self, public_key_pem: str, message: bytes, signature: str) -> bool: ...


class PersonLookup(Protocol):
    def person(self, personal_id: str) -> PersonRecord | None: ...


class BadSignatureError(PermissionDeniedError):
    code = "bad_signature"


@dataclass(frozen=True)
class ClientView:
    username: str
    agency: str | None
    allowed_evidence: list[str]
    issues_evidence: list[str]
    key_algorithm: str | None
    key_fingerprint: str | None


@dataclass(frozen=True)
class DepositOutcome:
    result: ResultView
    created: bool  # False: the same body was deposited before (an idempotent replay)
    key_fingerprint: str


class Deposits:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], catalogue: Catalogue,
                 verifier: SignatureVerifier | None, register: PersonLookup | None, personal_ids: PersonalIdRule,
                 feed: Feed | None = None):
        self.uow = uow
        self.feed = feed
        self.clock = clock
        self.catalogue = catalogue
        self.verifier = verifier
        self.register = register
        self.personal_ids = personal_ids

    # ----------------------------------------------------------------- the deposit

    def deposit_result(self, actor: Actor, body: Any, signature: str | None) -> DepositOutcome:
        if actor.kind != "agency_client":
            raise PermissionDeniedError("Chỉ cơ quan, tổ chức cấp giấy tờ được gửi kết quả / only issuing agency clients deposit results")
        now = self.clock()
        deposit = rules.parse_deposit(body, self.catalogue.evidence_types, self.personal_ids, now)
        message = rules.canonical_json(body)
        digest = hashlib.sha256(message).hexdigest()
        with self.uow(write=False) as uow:
            s = uow.session
            account = s.get(Account, actor.account_id)
            if account is None or not account.active or account.agency_id is None:
                raise PermissionDeniedError("Tài khoản không thuộc cơ quan cấp / the account belongs to no issuing agency")
            if deposit.evidence_type not in (account.issues_evidence or []):
                raise PermissionDeniedError(
                    "Tài khoản không được cấp loại giấy tờ này / this client may not issue this evidence type")
            pem = account.signing_key
            agency_id = account.agency_id
        if not pem or self.verifier is None:
            raise BadSignatureError("Chưa đăng ký khóa ký của tài khoản / no signing key is registered for this client")
        algorithm, fingerprint = self.verifier.key_info(pem)
        if not isinstance(signature, str) or not signature.strip():
            raise BadSignatureError("Thiếu chữ ký (X-Signature) / the X-Signature header is missing")
        if not self.verifier.verify(pem, message, signature.strip()):
            raise BadSignatureError("Chữ ký không đúng / the signature does not verify with the client's registered key")
        replay = self._replay(agency_id, deposit, digest)
        if replay is not None:
            return replay
        missing = [pid for pid in deposit.holders if not self._known(pid)]
        if missing:
            raise ValidationError("holder not in the population register",
                                  fields={"holders": [f"{pid}: không có trong Cơ sở dữ liệu dân cư / not in the population register"
                                                      for pid in missing]})
        result_id = new_uuid()
        try:
            with self.uow() as uow:
                s = uow.session
                agency = s.get(Agency, agency_id)
                result = Result(id=result_id, number=deposit.number, dossier_id=None, procedure_id="", procedure_version=0,
                                result_key=deposit.evidence_type, evidence_type=deposit.evidence_type,
                                issuer_agency_id=agency_id, issued_at=deposit.issued_at, valid_until=None, status="valid",
                                data=deposit.data, issue_attempts=0,
                                signers=[{"role": "issuer", "kind": "client", "key": fingerprint, "name": agency.name_vi,
                                          "title": "Chữ ký số của cơ sở cấp"}])
                result.holders = [ResultHolder(personal_id=h) for h in deposit.holders]
                s.add(result)
                s.flush()
                s.add(ResultDeposit(result_id=result_id, account_id=actor.account_id, issuer_agency_id=agency_id,
                                    evidence_type=deposit.evidence_type, number=deposit.number, body_sha256=digest,
                                    signature=signature.strip(), algorithm=algorithm, key_fingerprint=fingerprint,
                                    received_at=now))
                s.flush()
                view = result_view(result, agency, self.catalogue, now)
                if self.feed is not None:
                    self.feed.append(s.connection(), [result_event("result.issued", result, now)])
                uow.commit()
        except IntegrityError:  # deposited at the same moment by another request: the replay rule decides
            replay = self._replay(agency_id, deposit, digest)
            if replay is not None:
                return replay
            raise
        return DepositOutcome(view, True, fingerprint)

    def _replay(self, agency_id: int, deposit: rules.Deposit, digest: str) -> DepositOutcome | None:
        with self.uow(write=False) as uow:
            s = uow.session
            row = s.execute(select(ResultDeposit).where(
                ResultDeposit.issuer_agency_id == agency_id, ResultDeposit.evidence_type == deposit.evidence_type,
                ResultDeposit.number == deposit.number)).scalar_one_or_none()
            if row is None:
                return None
            if row.body_sha256 != digest:
                raise IdempotencyConflictError(
                    "Số giấy tờ đã được dùng cho nội dung khác / this number was already deposited with other content",
                    fields={"number": ["đã dùng / already used"]})
            r = s.get(Result, row.result_id)
            return DepositOutcome(result_view(r, s.get(Agency, agency_id), self.catalogue, self.clock()), False,
                                  row.key_fingerprint)

    def _known(self, personal_id: str) -> bool:
        if self.register is None:
            raise ActionNotAllowedError("Chưa kết nối Cơ sở dữ liệu dân cư / no population register is configured")
        try:
            return self.register.person(personal_id) is not None
        except Exception:
            log.warning("population register unavailable while checking a deposit's holders", exc_info=True)
            raise ActionNotAllowedError("Cơ sở dữ liệu dân cư không trả lời; thử lại sau / "
                                        "the population register did not answer; try again") from None

    def deposit_of(self, result_id: str) -> dict[str, Any] | None:
        """The signature kept with a deposited result (None for our own results)."""
        with self.uow(write=False) as uow:
            row = uow.session.get(ResultDeposit, result_id) if isinstance(result_id, str) and len(result_id) <= 36 else None
            if row is None:
                return None
            return {"signature": row.signature, "algorithm": row.algorithm, "key_fingerprint": row.key_fingerprint,
                    "body_sha256": row.body_sha256, "received_at": row.received_at}

    # ----------------------------------------------------------------- the clients (motcua clients ...)

    def client(self, username: str) -> ClientView:
        with self.uow(write=False) as uow:
            s = uow.session
            acc = self._client(s, username)
            agency = s.get(Agency, acc.agency_id) if acc.agency_id else None
            algorithm = fingerprint = None
            if acc.signing_key and self.verifier is not None:
                algorithm, fingerprint = self.verifier.key_info(acc.signing_key)
            return ClientView(acc.username, agency.code if agency else None, list(acc.allowed_evidence or []),
                              list(acc.issues_evidence or []), algorithm, fingerprint)

    def set_signing_key(self, username: str, public_key_pem: str) -> ClientView:
        """Register (or replace) the public key an agency client signs its deposits with."""
        if self.verifier is None:
            raise ActionNotAllowedError("no signature verifier configured")
        try:
            self.verifier.key_info(public_key_pem)
        except ValueError as exc:
            raise ValidationError(f"khóa không dùng được / unusable key: {exc}", fields={"key": [str(exc)]}) from None
        with self.uow() as uow:
            self._client(uow.session, username).signing_key = public_key_pem.strip() + "\n"
            uow.commit()
        return self.client(username)

    def set_issues(self, username: str, evidence_types: list[str]) -> ClientView:
        """The evidence types an agency client may deposit (only types that declare their data)."""
        bad = [e for e in evidence_types if e not in self.catalogue.evidence_types or not self.catalogue.evidence_types[e].data]
        if bad:
            raise ValidationError(f"không nhận từ bên ngoài / not depositable: {', '.join(bad)}",
                                  fields={"evidence": [f"{e}: unknown or declares no data" for e in bad]})
        with self.uow() as uow:
            self._client(uow.session, username).issues_evidence = list(dict.fromkeys(evidence_types))
            uow.commit()
        return self.client(username)

    @staticmethod
    def _client(s: Any, username: str) -> Account:
        acc = s.execute(select(Account).where(Account.username == username)).scalar_one_or_none()
        if acc is None or acc.kind != "agency_client":
            raise NotFoundError(f"no agency client named {username!r}")
        return acc
