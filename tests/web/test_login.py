"""Signing in to the web pages: argon2 passwords, one message for every failure, sessions, CSRF."""
from __future__ import annotations

import re

from flask import Flask, redirect, url_for

from motcua.settings import Settings
from web import create_app
from web.auth import LoginProvider, sign_in


def test_a_demo_citizen_signs_in_with_the_personal_id_and_lands_on_their_dossiers(web_as, demo):
    wife = demo["scenarios"]["married_couple"]["wife"]
    user = web_as(None)
    response = user.login(wife)
    assert response.headers["Location"].endswith("/my/dossiers")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_staff_land_on_the_work_queue(web_as, demo):
    response = web_as(None).login("clerk")
    assert response.headers["Location"].endswith("/desk/")


def test_a_wrong_password_and_an_unknown_user_get_the_same_message(web_as, demo):
    user = web_as(None)
    wrong = user.post("/login", {"username": "clerk", "password": "not-it"})
    unknown = user.post("/login", {"username": "nobody-here", "password": "not-it"})
    assert wrong.status_code == unknown.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in user.text(wrong)
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in user.text(unknown)
    assert "not-it" not in user.text(wrong)


def test_a_login_without_the_csrf_token_is_refused(web_as, demo):
    user = web_as(None)
    response = user.post("/login", {"username": "clerk", "password": "motcua-demo"}, csrf=False)
    assert response.status_code == 400
    assert user.get("/desk/").status_code == 302  # still not signed in


def test_signing_out_needs_a_post_with_the_token_and_ends_the_session(web_as, demo):
    user = web_as("clerk")
    assert user.get("/desk/").status_code == 200
    assert user.post("/logout", csrf=False).status_code == 400
    assert user.get("/desk/").status_code == 200
    assert user.post("/logout").status_code == 302
    assert user.get("/desk/").status_code == 302


def test_after_login_the_person_returns_to_the_page_they_asked_for_but_never_to_another_site(web_as, demo):
    user = web_as(None)
    assert user.get("/desk/").headers["Location"] == "/login?next=/desk/"
    ok = user.post("/login", {"username": "clerk", "password": "motcua-demo", "next": "/desk/?state=submitted"})
    assert ok.headers["Location"] == "/desk/?state=submitted"
    other = web_as(None)
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        r = other.post("/login", {"username": "clerk", "password": "motcua-demo", "next": evil})
        assert "evil" not in r.headers["Location"]
        other.post("/logout")


def test_a_citizen_cannot_open_staff_pages_and_staff_cannot_open_citizen_pages(web_as, demo):
    citizen = web_as(demo["scenarios"]["married_couple"]["wife"])
    assert citizen.get("/desk/").status_code == 403
    clerk = web_as("clerk")
    assert clerk.get("/my/dossiers").status_code == 403


def test_the_language_switch_sets_english_and_keeps_the_page(web_as):
    user = web_as(None)
    response = user.get("/lang/en?next=/login")
    assert response.headers["Location"] == "/login"
    page = user.text(user.get("/login"))
    assert '<html lang="en">' in page and "Sign in" in page
    assert user.get("/lang/en?next=https://evil.example/").headers["Location"] == "/"


def test_another_login_provider_can_replace_the_password_login(settings, services, demo):
    class SingleSignOn(LoginProvider):
        """Stands in for an OpenID Connect provider: its callback vouches for an identity."""

        name = "sso"

        def register(self, app: Flask) -> None:
            app.add_url_rule("/sso/start", "sso.start", lambda: "redirect to the identity provider")

            def callback():
                sign_in(app.extensions["motcua"].accounts.actor_for("clerk"))
                return redirect(url_for("clerk.queue"))

            app.add_url_rule("/sso/callback", "sso.callback", callback)

        def login_url(self, next_url: str) -> str:
            return "/sso/start"

    app = create_app(settings, services=services, login_provider=SingleSignOn())
    client = app.test_client()
    assert client.get("/desk/").headers["Location"] == "/sso/start"
    assert client.get("/login").status_code == 404  # the password login is gone
    assert client.get("/sso/callback").status_code == 302
    assert client.get("/desk/").status_code == 200


def test_a_demo_installation_lists_its_demo_accounts_on_the_login_page(web_as, demo, config):
    import json
    from pathlib import Path

    user = web_as(None)
    assert "Tài khoản dùng thử" not in user.text(user.get("/login"))  # no demo.json: a real installation
    (Path(config["DATA_DIR"]) / "demo.json").write_text(json.dumps(demo, ensure_ascii=False), encoding="utf-8")
    page = user.text(user.get("/login"))
    assert "Tài khoản dùng thử" in page and "motcua-demo" in page
    assert demo["scenarios"]["married_couple"]["wife"] in page
    assert demo["scenarios"]["newborn"]["mother"] in page and "Giấy chứng sinh của bệnh viện" in page
    for name in ("clerk", "specialist", "leader", "records", "admin"):
        assert f"<code>{name}</code>" in page
    assert "Cán bộ tiếp nhận" in page


def test_behind_https_the_session_cookie_is_secure(config, services, demo):
    app = create_app(Settings.from_environment({**config, "PUBLIC_URL": "https://motcua.example.gov.vn"}), services=services)
    client = app.test_client()
    page = client.get("/verify").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": "clerk", "password": "motcua-demo", "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "motcua_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
