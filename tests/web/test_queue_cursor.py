"""The queue's next pages by cursor, through the API and on the desk page; a bad cursor is a 4xx with a
message, never a 500, and the page falls back to the first page with the reason shown."""
from __future__ import annotations

import re
from html import unescape

import pytest

from bench.work_queue import World, load


@pytest.fixture
def queue(services, demo):
    load(services, World(services, intake=20), 0, 800)
    return services


def test_the_api_hands_out_a_cursor_that_reads_the_rest_of_the_queue_once(queue, api_as):
    clerk = api_as("clerk")
    first = clerk.get("/api/v1/dossiers").get_json()
    assert first["total"] > first["page_size"] and first["next_cursor"]
    assert sum(first["counts"].values()) == first["total"]
    seen, cursor = [i["id"] for i in first["items"]], first["next_cursor"]
    while cursor:
        r = clerk.get("/api/v1/dossiers", query_string={"cursor": cursor})
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        assert body["total"] == first["total"]
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
    assert len(seen) == len(set(seen)) == first["total"]
    dues = [i["due_at"] for i in first["items"]]
    assert dues == sorted(dues, key=lambda d: (d is None, d or ""))


@pytest.mark.parametrize("query", [{"cursor": "nonsense"}, {"cursor": "e30"}, {"cursor": "A" * 300},
                                   {"cursor": "eyJvIjoiZHVlIiwidCI6IjIwMjYiLCJpIjoxfQ"},
                                   {"cursor": "eyJvIjoiZHVlIiwidCI6bnVsbCwiaSI6Ilx1MDAwMCJ9"}])  # an id holding NUL
def test_a_bad_cursor_is_refused_with_422_in_both_languages(queue, api_as, query):
    r = api_as("clerk").get("/api/v1/dossiers", query_string=query)
    assert r.status_code == 422
    body = r.get_json()
    assert body["error"] and " / " in body["fields"]["cursor"][0]


def test_a_cursor_and_a_page_number_together_are_refused(queue, api_as):
    clerk = api_as("clerk")
    cursor = clerk.get("/api/v1/dossiers").get_json()["next_cursor"]
    r = clerk.get("/api/v1/dossiers", query_string={"cursor": cursor, "page": "2"})
    assert r.status_code == 422 and "cursor" in r.get_json()["fields"]


def test_the_desk_page_links_to_the_next_page_by_cursor(queue, web_as):
    user = web_as("clerk")
    html = user.get("/desk/?all=1").get_data(as_text=True)
    link = re.search(r'<a rel="next" href="([^"]+)"', html)
    assert link and "cursor=" in link.group(1) and "all=1" in link.group(1)
    first_rows = set(re.findall(r'href="/desk/dossiers/([^"]+)"', html))
    page2 = user.get(unescape(link.group(1)))
    assert page2.status_code == 200
    html2 = page2.get_data(as_text=True)
    second_rows = set(re.findall(r'href="/desk/dossiers/([^"]+)"', html2))
    assert second_rows and not (first_rows & second_rows)
    assert 'rel="prev"' not in html2 and "/desk/?all=1" in html2  # back to the first page


def test_a_bad_cursor_on_the_desk_page_shows_the_first_page_with_the_reason(queue, web_as):
    user = web_as("clerk")
    r = user.get("/desk/?cursor=nonsense")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "next-page link is not valid" in html or "Liên kết trang sau không hợp lệ" in html
    assert re.search(r'href="/desk/dossiers/', html)
