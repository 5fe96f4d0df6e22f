"""The moments the applicant is told about (Decree 61/2018 Art. 17(2), 19(9), 20), as data.

A transition notifies when one of the fired action's effects, or the outcome of the state it reaches,
names a moment in :data:`MOMENTS`; the first match in registration order wins, so a transition gives
at most one notification. Nothing here asks for an action's name: a procedure whose explicit workflow
uses the same effects or outcomes notifies the same way.

Each moment also says what the SMS may carry: only the dossier's code and what to do (the ``sms``
text, in both languages, plain ASCII so that it fits the GSM alphabet). Names, personal ids, the
missing items and dates stay out of an SMS; the e-mail and the in-app message carry them.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine.rules.registry import Registry

CHANNELS = ("in-app", "email", "sms")
LANGUAGES = ("vi", "en")
STATUSES = ("pending", "sent", "failed", "skipped")


@dataclass(frozen=True)
class Moment:
    kind: str
    effect: str | None = None  # the fired action has this effect
    outcome: str | None = None  # or the state it reaches has this outcome
    sms: tuple[str, str] = ("", "")  # (vi, en): what to do, without personal data


MOMENTS: Registry[Moment] = Registry("notification moment")
_ORDER: list[str] = []  # registration order (the registry itself iterates by name)


def _moment(kind: str, *, effect: str | None = None, outcome: str | None = None, sms: tuple[str, str]) -> None:
    MOMENTS.add(kind, Moment(kind, effect, outcome, sms))
    _ORDER.append(kind)


# Order matters: the first moment that matches a transition is the one it notifies.
_moment("refused", effect="issue_refusal",
        sms=("khong duoc tiep nhan. Xem ly do", "was not accepted. See why"))
_moment("received", effect="issue_receipt",
        sms=("da duoc tiep nhan. Xem ngay hen tra ket qua", "was received. See the appointment date"))
_moment("supplement_requested", effect="issue_supplement_request",
        sms=("can bo sung giay to. Xem", "needs more documents. See"))
_moment("extended", effect="issue_extension_apology",
        sms=("duoc hen lai ngay tra ket qua. Xem", "has a new result date. See"))
_moment("result_ready", effect="record_result",
        sms=("da co ket qua. Xem", "has its result. See"))
_moment("rejected", outcome="rejection",
        sms=("khong duoc giai quyet. Xem ly do", "was refused after review. See why"))


def moment_for(effects: Iterable[str], outcome: str | None) -> Moment | None:
    """The moment a transition with these effects, reaching a state with this outcome, notifies."""
    effects = frozenset(effects)
    for kind in _ORDER:
        m = MOMENTS.get(kind)
        if (m.effect is not None and m.effect in effects) or (m.outcome is not None and m.outcome == outcome):
            return m
    return None


def sms_text(moment: Moment, language: str, code: str, portal_url: str) -> str:
    """The SMS for a moment: the dossier's code and what to do, nothing else."""
    what = moment.sms[1] if language == "en" else moment.sms[0]
    if language == "en":
        return f"MotCua: dossier {code} {what} at {portal_url}"
    return f"MotCua: ho so {code} {what} tai {portal_url}"


def language_of(value: Any) -> str:
    """A supported language, Vietnamese unless English is asked for."""
    return value if value in LANGUAGES else "vi"
