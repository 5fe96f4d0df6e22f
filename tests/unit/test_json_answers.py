"""The API's JSON encoding: dataclasses as objects of their fields, dates in ISO 8601, text kept as UTF-8,
and a lone surrogate (a record stored before the edge refused them) escaped rather than a failed answer;
the surrogate test agrees with the regular expression it replaced, on any text."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from functools import cached_property

import pytest
from flask import Flask
from hypothesis import given

from engine.rules.text import SURROGATE, has_surrogate, printable, text_problem
from tests.strategies import ANY_CODE_POINT, JSON_VALUES
from web import JSONProvider



@given(ANY_CODE_POINT)
def test_the_surrogate_test_agrees_with_the_regular_expression(value):
    assert has_surrogate(value) == bool(SURROGATE.search(value))
    assert (text_problem(value) is not None) >= has_surrogate(value)
    printable(value).encode("utf-8")  # always echoable


@dataclasses.dataclass(frozen=True)
class Item:
    name: str
    at: dt.datetime
    when: dt.date


@dataclasses.dataclass
class WithCache:
    x: int

    @cached_property
    def doubled(self) -> int:
        return 2 * self.x


def _app() -> Flask:
    app = Flask(__name__)
    app.json = JSONProvider(app)
    return app


def test_an_answer_is_utf8_with_dataclasses_and_dates_converted():
    app = _app()
    with app.app_context():
        item = Item("Nguyễn Văn A", dt.datetime(2026, 3, 2, 9, 0, 5), dt.date(2026, 3, 2))
        answer = app.json.response({"items": [item, item], "fee": Decimal("1.50")})
    assert answer.mimetype == "application/json" and answer.data.endswith(b"\n")
    assert "Nguyễn Văn A".encode() in answer.data  # not \u escapes
    assert json.loads(answer.data) == {"items": [{"name": "Nguyễn Văn A", "at": "2026-03-02T09:00:05",
                                                  "when": "2026-03-02"}] * 2, "fee": "1.50"}


def test_a_dataclass_with_more_than_its_fields_in_its_dict_is_answered_with_its_fields_only():
    app = _app()
    value = WithCache(3)
    assert value.doubled == 6  # now in the instance's __dict__ beside x
    with app.app_context():
        assert json.loads(app.json.response(value).data) == {"x": 3}
        assert json.loads(app.json.dumps([value, WithCache(4)])) == [{"x": 3}, {"x": 4}]


def test_a_lone_surrogate_is_escaped_and_the_rest_stays_readable():
    app = _app()
    with app.app_context():
        answer = app.json.response({"name": "Lê\ud800", "other": "Việt"})
        text = app.json.dumps({"name": "Lê\ud800"})
    assert answer.status_code == 200
    assert answer.data.decode("ascii")  # escaped: every non-ASCII character as \u
    assert json.loads(answer.data) == {"name": "Lê\ud800", "other": "Việt"}
    assert "\\ud800" in text and json.loads(text) == {"name": "Lê\ud800"}


def test_an_object_json_cannot_encode_is_still_a_type_error():
    app = _app()
    with app.app_context(), pytest.raises(TypeError, match="object"):
        app.json.dumps({"x": object()})


@dataclasses.dataclass
class WithPrivate:
    _kind: str
    name: str


@given(JSON_VALUES)
def test_any_json_value_is_answered_as_the_standard_library_reads_it(value):
    """orjson encodes; what it refuses (an integer beyond 64 bits, a lone surrogate) the standard library
    does: the answer always decodes to the value. (NaN and infinities, which JSON has no numbers for,
    are answered as null: the standard library wrote them as invalid JSON.)"""
    app = _app()
    with app.app_context():
        answer = app.json.response({"v": value})
        text = app.json.dumps({"v": value})
    assert json.loads(answer.data) == {"v": value} == json.loads(text)


def test_orjson_is_not_left_to_answer_a_dataclass_its_own_way():
    """Left to itself, orjson drops a field named with a leading underscore (and answers a cached
    property's value): the provider converts dataclasses itself."""
    app = _app()
    with app.app_context():
        assert json.loads(app.json.response(WithPrivate("birth", "A")).data) == {"_kind": "birth", "name": "A"}


def test_what_orjson_refuses_is_answered_as_flask_would():
    app = _app()
    with app.app_context():
        assert json.loads(app.json.response({"big": 2**70, 1: "one"}).data) == {"big": 2**70, "1": "one"}
        app.debug = True  # pretty-printed, as Flask does in debug
        assert app.json.response({"a": 1}).data == b'{\n  "a": 1\n}\n'
