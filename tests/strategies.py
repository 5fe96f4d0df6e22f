"""Hypothesis strategies shared by several test modules."""
from __future__ import annotations

from hypothesis import strategies as st

ANY_CODE_POINT = st.text(st.characters(blacklist_categories=()), max_size=40)  # lone surrogates (Cs) included

# Any value JSON has a type for (numbers it can write: no NaN, no infinity), text with any code point
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | ANY_CODE_POINT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_CODE_POINT, inner, max_size=4),
    max_leaves=20)
