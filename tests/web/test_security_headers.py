"""Headers every answer carries: HSTS only when the public address is https."""
from __future__ import annotations

import pytest

from motcua.settings import Settings
from web import create_app


@pytest.mark.parametrize("path", ["/healthz", "/", "/api/v1/procedures"])
def test_an_https_public_address_sends_hsts_on_every_answer(config, services, path):
    app = create_app(Settings.from_environment({**config, "PUBLIC_URL": "https://motcua.example.gov.vn"}), services=services)
    response = app.test_client().get(path)
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_an_http_public_address_sends_no_hsts(config, services):
    app = create_app(Settings.from_environment({**config, "PUBLIC_URL": "http://127.0.0.1:8000"}), services=services)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers
