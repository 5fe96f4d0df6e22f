"""The JSON columns' codec: orjson where it agrees with the standard library, the standard library
where orjson refuses; the values a column accepts and reads back are those ``json`` accepts and reads."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given

from engine.adapters.jsoncodec import dumps, loads
from tests.strategies import JSON_VALUES



@given(JSON_VALUES)
def test_a_value_reads_back_as_the_standard_library_reads_it(value):
    text = dumps(value)
    assert loads(text) == json.loads(text) == value
    assert loads(text.encode("utf-8")) == value  # psycopg may hand the text over as bytes


@given(JSON_VALUES)
def test_text_the_standard_library_wrote_is_read_the_same(value):
    """Rows written before (``json.dumps``: ASCII escapes, spaces after separators) read as they did."""
    assert loads(json.dumps(value)) == value


def test_non_ascii_text_is_stored_as_it_is():
    assert dumps({"tên": "Nguyễn Văn A"}) == '{"tên":"Nguyễn Văn A"}'


@pytest.mark.parametrize("value", [dt.date(2026, 3, 2), dt.datetime(2026, 3, 2, 9), object()])
def test_what_json_refuses_is_refused(value):
    with pytest.raises(TypeError):
        dumps({"x": value})


def test_what_orjson_refuses_goes_through_the_standard_library():
    assert json.loads(dumps({"big": 2**70})) == {"big": 2**70}
    assert json.loads(dumps({1: "one"})) == {"1": "one"}
    assert loads(dumps("Lê\ud800")) == "Lê\ud800"  # escaped, as json writes it
    assert loads('"\\ud800"') == "\ud800"  # orjson refuses to decode it; json reads it
