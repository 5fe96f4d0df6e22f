"""The signed-cookie session (web/cookie_session.py): Flask's behaviour, its serializer built once per key."""
from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface

from web.cookie_session import CookieSessions


def test_an_api_request_without_the_cookie_sets_none_and_varies_on_it(api_as, demo):
    response = api_as("clerk").get("/api/v1/dossiers")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" in response.headers.get("Vary", "")  # the sign-in hook read the (empty) session


def test_a_signed_in_person_keeps_the_session_across_requests(web_as, demo):
    clerk = web_as("clerk")
    page = clerk.get("/desk/")
    assert page.status_code == 200
    assert "Set-Cookie" not in page.headers or "motcua_session=" in page.headers["Set-Cookie"]
    assert clerk.get("/desk/").status_code == 200


def test_the_serializer_is_built_once_per_key_and_anew_when_the_key_changes(app, web_as, demo):
    sessions = app.session_interface
    assert isinstance(sessions, CookieSessions)
    first = sessions.get_signing_serializer(app)
    assert sessions.get_signing_serializer(app) is first
    before = web_as("clerk")
    assert before.get("/desk/").status_code == 200

    # the key rotated at run time, the old one kept as a fallback (for as long as a session lives):
    # a cookie signed before still opens its session
    old_key = app.secret_key
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    app.secret_key = "a-new-key-of-the-same-length-and-more-than-that"
    assert sessions.get_signing_serializer(app) is not first
    assert before.get("/desk/").status_code == 200
    after = web_as("clerk")  # signed with the new key

    # the old key dropped: a cookie signed with it opens nothing (sign in again); the new one does
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert before.get("/desk/").status_code == 302
    assert after.get("/desk/").status_code == 200


def test_a_cookie_flasks_own_interface_signed_is_read_and_the_other_way_round(app, web_as, demo):
    clerk = web_as("clerk")
    assert clerk.get("/desk/").status_code == 200
    ours = app.session_interface
    try:
        app.session_interface = SecureCookieSessionInterface()
        assert clerk.get("/desk/").status_code == 200
    finally:
        app.session_interface = ours
    assert clerk.get("/desk/").status_code == 200


def test_a_forged_or_broken_cookie_is_an_empty_session(app, demo):
    client = app.test_client()
    for value in ("not-a-signed-value", "eyJ4IjoxfQ.Zz.bad", "", "\u00e9"):
        client.set_cookie("motcua_session", value)
        response = client.get("/desk/")
        assert response.status_code == 302  # to the login page, no error


def test_pages_send_the_cookie_only_when_the_session_changes(web_as, demo):
    clerk = web_as(None)
    login = clerk.login("clerk")
    assert "Expires=" in login.headers["Set-Cookie"]  # it ends with the session it names
    clerk.get("/desk/")  # the first page may keep the forms' CSRF secret in the session
    again = clerk.get("/desk/")
    assert again.status_code == 200
    assert "Set-Cookie" not in again.headers
