"""Schemathesis against our own OpenAPI document, in process (WSGI): no input is answered with a 5xx.

Every operation gets positive and negative cases, as a citizen and as a reception clerk, with random
path parameters and with real ones (a draft dossier, a stored result); at least 2,000 requests in all.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.web.test_lifecycle_api import birth_form

pytestmark = [pytest.mark.database, pytest.mark.slow]

EXAMPLES = 16  # per operation, account, generation mode and path choice
MIN_REQUESTS = 2_000


def test_schemathesis_finds_no_server_error(app, demo, token_for, api_as):
    couple = demo["scenarios"]["married_couple"]
    draft = api_as(couple["wife"]).post(
        "/api/v1/dossiers", json={"procedure": "birth-registration", "data": birth_form(couple)}).get_json()
    real = {"id": draft["id"], "consent_id": 1, "action": "submit"}
    result_real = {"id": couple["marriage_certificate"]}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    accounts = {"citizen": token_for(couple["wife"]), "clerk": token_for("clerk")}
    sent = 0
    by_status: dict[int, int] = {}
    server_errors: list[str] = []

    for outcome in schema.get_all_operations():
        operation = outcome.ok()
        names = [p.name for p in operation.path_parameters]
        fixed = [None]
        if names:
            fixed.append({n: (result_real if "/results/" in operation.path else real).get(n, "x") for n in names})
        for who, token in accounts.items():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                for path_parameters in fixed:
                    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

                    @settings(max_examples=EXAMPLES)
                    @given(case=strategy)
                    def run(case):
                        nonlocal sent
                        response = case.call(headers={"Authorization": f"Bearer {token}"})
                        sent += 1
                        by_status[response.status_code] = by_status.get(response.status_code, 0) + 1
                        if response.status_code >= 500:
                            server_errors.append(f"{who} {mode.value}: {response.status_code} {case.as_curl_command()}"
                                                 f"\n    {response.text[:300]}")

                    try:
                        run()
                    except Unsatisfiable:  # nothing to make invalid in this operation (no parameters, no body)
                        pass

    print(f"\nschemathesis: {sent} requests, by status {dict(sorted(by_status.items()))}, "
          f"{len(server_errors)} server errors")
    assert not server_errors, "\n".join(server_errors[:20])
    assert sent >= MIN_REQUESTS
