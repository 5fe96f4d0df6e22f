"""The moments that notify, as data; their texts in both languages; the SMS carries no personal data."""
from __future__ import annotations

import pytest

from engine.adapters.notification_texts import NotificationTexts
from engine.rules.definitions.onestop import ONE_STOP_STATES, one_stop
from engine.rules.definitions.schema import Step, Text
from engine.rules.notifications import LANGUAGES, MOMENTS, moment_for, sms_text

STATES, ACTIONS = one_stop((Step("appraise", ("specialist",), Text("Thẩm định", "Appraise")),), ("leader",))
OUTCOMES = {sid: outcome for sid, (_code, _final, outcome, _clock) in ONE_STOP_STATES.items()}


def kind_of(action) -> str | None:
    m = moment_for(action.effects, OUTCOMES.get(action.dest) if action.dest else None)
    return m.kind if m else None


def test_the_one_stop_lifecycle_notifies_the_moments_the_rules_name_and_no_others():
    found = {(a.id, a.sources[0]): kind_of(a) for a in ACTIONS}
    by_action: dict[str, set] = {}
    for (action, _source), kind in found.items():
        by_action.setdefault(action, set()).add(kind)
    assert by_action["receive"] == {"received"}
    assert by_action["request_supplement"] == {"supplement_requested"}
    assert by_action["extend_due"] == {"extended"}
    assert by_action["approve"] == {"result_ready"}
    assert by_action["reject"] == {"rejected"}
    assert by_action["refuse"] == {"refused"}
    quiet = {"submit", "file_at_counter", "provide_supplement", "assign", "appraise", "request_payment",
             "confirm_payment", "request_withdrawal", "stop", "return_result"}
    assert {a for a, kinds in by_action.items() if kinds == {None}} == quiet


def test_an_effect_or_an_outcome_names_the_moment_not_the_action():
    assert moment_for(("close", "issue_refusal"), "refusal").kind == "refused"  # first match wins
    assert moment_for(("close", "mark_decided"), "rejection").kind == "rejected"
    assert moment_for(("record_result", "mark_decided"), None).kind == "result_ready"
    assert moment_for(("close",), "stop") is None


CONTEXT = {"code": "000.00.25.H26-260302-0001", "procedure": "Đăng ký khai sinh", "agency": "UBND phường Ba Đình",
           "due_at": "17:00 02/03/2026", "original_due_at": "17:00 01/03/2026", "items": ["Giấy chứng sinh", "Tờ khai"],
           "reason": "Thiếu giấy tờ", "restarts": True, "answer_by": None,
           "dossier_url": "http://portal.example/my/dossiers/x", "preferences_url": "http://portal.example/p"}


@pytest.mark.parametrize("kind", sorted(MOMENTS.names()))
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_moment_has_a_text_in_both_languages_with_the_code(kind, language):
    subject, body = NotificationTexts().render(kind, language, CONTEXT)
    assert CONTEXT["code"] in subject and "\n" not in subject
    assert CONTEXT["code"] in body and CONTEXT["dossier_url"] in body
    if kind == "supplement_requested":
        assert all(f"- {item}" in body for item in CONTEXT["items"])
    if kind == "extended":
        assert CONTEXT["due_at"] in body and CONTEXT["reason"] in body
    if kind == "received":
        assert CONTEXT["due_at"] in body


def test_a_missing_template_fails_at_start(tmp_path):
    (tmp_path / "received.vi.txt").write_text("{{ code }}\n", encoding="utf-8")
    with pytest.raises(Exception, match="received.en.txt"):
        NotificationTexts(tmp_path).check(["received"], LANGUAGES)


@pytest.mark.parametrize("kind", sorted(MOMENTS.names()))
@pytest.mark.parametrize("language", LANGUAGES)
def test_an_sms_is_ascii_and_carries_only_the_code_and_what_to_do(kind, language):
    text = sms_text(MOMENTS.get(kind), language, CONTEXT["code"], "http://portal.example")
    assert text.isascii() and len(text) <= 160
    assert CONTEXT["code"] in text and "http://portal.example" in text
    for word in CONTEXT["items"] + [CONTEXT["reason"], CONTEXT["procedure"], CONTEXT["agency"]]:
        assert word not in text
