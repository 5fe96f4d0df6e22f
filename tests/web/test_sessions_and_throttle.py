"""Sessions and tokens end when they should (sign-out, a new password, an administrator, expiry), and
sign-in throttling slows a guesser down without ever keeping the owner out from elsewhere."""
from __future__ import annotations

import re

import pytest

from engine.rules.errors import AuthenticationError
from motcua.settings import Settings
from tests.conftest import WebUser
from web import create_app

pytestmark = pytest.mark.database

COOKIE = "motcua_session"
JSON = {"Accept": "application/json"}


def saved_cookie(user: WebUser) -> str:
    return user.client.get_cookie(COOKIE).value


def replay(app, cookie: str) -> WebUser:
    """Someone else's browser with a copy of a saved cookie."""
    thief = WebUser(app.test_client())
    thief.client.set_cookie(COOKIE, cookie)
    return thief


def sign_in_from(user: WebUser, address: str, username: str, password: str, **headers):
    return user.post("/login", {"username": username, "password": password},
                     environ_base={"REMOTE_ADDR": address}, headers=headers)


# --------------------------------------------------------------------------- sessions


def test_a_cookie_saved_before_logout_gets_the_sign_in_page_or_401(app, web_as, demo):
    clerk = web_as("clerk")
    cookie = saved_cookie(clerk)
    assert replay(app, cookie).get("/desk/").status_code == 200  # a copy works while the session lives
    assert clerk.post("/logout").status_code == 302
    thief = replay(app, cookie)
    page = thief.get("/desk/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    answer = replay(app, cookie).get("/desk/", headers=JSON)
    assert answer.status_code == 401
    assert answer.get_json() == {"error": "unauthenticated", "message": "Cần đăng nhập / sign in first", "fields": {}}
    assert replay(app, cookie).post("/logout").status_code == 302  # and it cannot act either


def test_the_cookie_carries_a_session_id_not_the_account(app, web_as, demo, services):
    from flask.sessions import SecureCookieSessionInterface

    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    data = serializer.loads(saved_cookie(web_as("clerk")))
    assert "account_id" not in data and len(data["sid"]) >= 40


def test_every_login_gets_a_new_session_and_the_old_one_ends(app, web_as, demo):
    user = web_as("clerk")
    first = saved_cookie(user)
    user.login("clerk")
    second = saved_cookie(user)
    assert first != second
    assert replay(app, first).get("/desk/").status_code == 302
    assert replay(app, second).get("/desk/").status_code == 200


def test_a_password_change_ends_the_accounts_sessions_and_tokens(app, web_as, demo, services, api_as):
    clerk, other = web_as("clerk"), web_as("specialist")
    clerk_api, other_api = api_as("clerk"), api_as("specialist")
    assert clerk_api.get("/api/v1/dossiers").status_code == 200
    services.accounts.set_password("clerk", "a-new-password-1")
    assert clerk.get("/desk/").status_code == 302
    assert clerk_api.get("/api/v1/dossiers").status_code == 401
    assert other.get("/desk/").status_code == 200  # someone else's session and token are untouched
    assert other_api.get("/api/v1/dossiers").status_code == 200
    WebUser(app.test_client()).login("clerk", "a-new-password-1")


def test_a_session_ends_after_the_idle_time_and_at_the_absolute_expiry(web_as, demo, clock, settings):
    idle = web_as("clerk")
    clock.advance(minutes=settings.session_idle_minutes + 1)
    assert idle.get("/desk/").status_code == 302
    busy = web_as("clerk")
    for _ in range(int(settings.session_hours * 2) - 1):  # a request every half hour all day long
        clock.advance(minutes=30)
        assert busy.get("/desk/").status_code == 200
    clock.advance(minutes=31)
    assert busy.get("/desk/").status_code == 302


def test_csrf_still_guards_the_forms_of_a_signed_in_session(web_as, demo):
    clerk = web_as("clerk")
    assert clerk.post("/logout", csrf=False).status_code == 400
    assert clerk.get("/desk/").status_code == 200


# --------------------------------------------------------------------------- tokens


def test_a_revoked_token_gets_401_with_the_error_shape(api_as, services, demo):
    clerk = api_as("clerk")
    assert clerk.get("/api/v1/dossiers").status_code == 200
    [card] = services.accounts.list_tokens("clerk")
    services.accounts.revoke_token(card.id)
    r = clerk.get("/api/v1/dossiers")
    assert r.status_code == 401
    assert set(r.get_json()) == {"error", "message", "fields"} and r.get_json()["error"] == "unauthenticated"


def test_a_token_expires_after_the_token_days(api_as, clock, settings, demo):
    clerk = api_as("clerk")
    clock.advance(days=settings.token_days - 1)
    assert clerk.get("/api/v1/dossiers").status_code == 200
    clock.advance(days=1)
    r = clerk.get("/api/v1/dossiers")
    assert r.status_code == 401 and r.get_json()["error"] == "unauthenticated"


# --------------------------------------------------------------------------- throttling


def test_many_wrong_passwords_from_one_address_do_not_stop_the_owner_from_another(app, demo):
    attacker = WebUser(app.test_client())
    for _ in range(40):
        r = sign_in_from(attacker, "203.0.113.9", "clerk", "guess-guess")
        assert r.status_code in (401, 429)
    assert sign_in_from(attacker, "203.0.113.9", "clerk", "guess-guess").status_code == 429
    owner = WebUser(app.test_client())
    r = sign_in_from(owner, "198.51.100.20", "clerk", "motcua-demo")
    assert r.status_code == 302
    assert owner.get("/desk/").status_code == 200


def test_the_wait_grows_with_each_failure_and_comes_with_retry_after(app, demo, clock):
    user = WebUser(app.test_client())
    for _ in range(4):
        assert sign_in_from(user, "203.0.113.7", "clerk", "wrong-one").status_code == 401
    assert sign_in_from(user, "203.0.113.7", "clerk", "wrong-one").status_code == 401  # the fifth
    waits = []
    for _ in range(4):
        held = sign_in_from(user, "203.0.113.7", "clerk", "motcua-demo")  # even the right password waits here
        assert held.status_code == 429
        waits.append(int(held.headers["Retry-After"]))
        assert f"Vui lòng thử lại sau {waits[-1]} giây" in user.text(held)
        clock.advance(seconds=waits[-1])
        assert sign_in_from(user, "203.0.113.7", "clerk", "wrong-one").status_code == 401
    assert waits == [2, 4, 8, 16]
    user.get("/lang/en?next=/login")
    held = sign_in_from(user, "203.0.113.7", "clerk", "motcua-demo")
    assert held.status_code == 429 and held.headers["Retry-After"] == "32"
    assert "Try again in 32 seconds" in user.text(held)


def test_the_wait_is_capped_at_a_few_minutes(app, demo, clock):
    user = WebUser(app.test_client())
    failures = 0
    while failures < 16:
        r = sign_in_from(user, "203.0.113.5", "clerk", "wrong-one")
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) <= 300
            clock.advance(seconds=int(r.headers["Retry-After"]))
        else:
            failures += 1
    r = sign_in_from(user, "203.0.113.5", "clerk", "wrong-one")
    assert r.status_code == 429 and r.headers["Retry-After"] == "300"


def test_a_successful_login_clears_the_account_and_address_counter(app, demo, clock):
    user = WebUser(app.test_client())
    for _ in range(5):
        sign_in_from(user, "203.0.113.4", "clerk", "wrong-one")
    clock.advance(seconds=2)
    assert sign_in_from(user, "203.0.113.4", "clerk", "motcua-demo").status_code == 302
    user.post("/logout")
    assert sign_in_from(user, "203.0.113.4", "clerk", "wrong-one").status_code == 401
    assert sign_in_from(user, "203.0.113.4", "clerk", "motcua-demo").status_code == 302  # no wait left


def test_x_forwarded_for_is_ignored_unless_a_proxy_is_trusted(config, services, demo, clock):
    plain = create_app(Settings.from_environment(config), services=services)
    user = WebUser(plain.test_client())
    for n in range(6):
        r = sign_in_from(user, "203.0.113.3", "clerk", "wrong-one", **{"X-Forwarded-For": f"192.0.2.{n}"})
    assert r.status_code == 429  # one address however the header varies

    proxied = create_app(Settings.from_environment({**config, "TRUSTED_PROXIES": "1"}), services=services)
    user = WebUser(proxied.test_client())
    for n in range(6):
        r = sign_in_from(user, "10.0.0.2", "specialist", "wrong-one", **{"X-Forwarded-For": f"192.0.2.{n}"})
        assert r.status_code == 401  # each client behind the proxy counted apart


# --------------------------------------------------------------------------- the administrator's page


def session_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="session-(\d+)">', html)]


def test_the_admin_page_lists_and_revokes_a_session_and_a_token(app, web_as, api_as, services, demo):
    clerk = web_as("clerk")
    agency = api_as("agency")
    assert agency.get("/api/v1/dossiers").status_code in (200, 403)
    admin = web_as("admin")
    page = admin.get("/admin/access")
    assert page.status_code == 200
    html = admin.text(page)
    assert "Phiên đang đăng nhập" in html and "Mã truy cập API" in html
    clerk_row = next(s for s in services.sessions.list_sessions() if s.username == "clerk")
    assert clerk_row.id in session_ids(html)
    [token] = services.accounts.list_tokens("agency")
    assert f'<tr id="token-{token.id}">' in html

    assert admin.post(f"/admin/access/sessions/{clerk_row.id}/revoke", csrf=False).status_code == 400
    assert clerk.get("/desk/").status_code == 200
    done = admin.post(f"/admin/access/sessions/{clerk_row.id}/revoke", follow_redirects=True)
    assert done.status_code == 200 and "Đã kết thúc phiên đăng nhập của clerk." in admin.text(done)
    assert clerk.get("/desk/").status_code == 302
    assert clerk_row.id not in session_ids(admin.text(done))

    done = admin.post(f"/admin/access/tokens/{token.id}/revoke", follow_redirects=True)
    assert "Đã thu hồi mã truy cập của agency." in admin.text(done)
    assert agency.get("/api/v1/dossiers").status_code == 401
    again = admin.post(f"/admin/access/tokens/{token.id}/revoke", follow_redirects=True)
    assert "đã bị thu hồi hoặc đã hết hạn" in admin.text(again)
    assert admin.get("/admin/access").status_code == 200  # the admin's own session is still there


@pytest.mark.parametrize("username", ["clerk", "leader"])
def test_only_an_administrator_opens_the_sessions_page(web_as, demo, username):
    assert web_as(username).get("/admin/access").status_code == 403


def test_the_use_cases_refuse_a_non_administrator(services, demo):
    from engine.rules.errors import PermissionDeniedError

    leader = services.accounts.actor_for("leader")
    with pytest.raises(PermissionDeniedError):
        services.sessions.list_sessions(leader)
    with pytest.raises(PermissionDeniedError):
        services.accounts.revoke_token(1, leader)


def test_a_wrong_password_still_fails_through_the_sessions_use_case(services, demo):
    with pytest.raises(AuthenticationError):
        services.sessions.sign_in_with_password("clerk", "nope-nope", "192.0.2.1")
