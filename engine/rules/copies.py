"""Signed copies of a result issued with it (e.g. "Bản sao trích lục khai sinh", Decree 123/2015 and
Circular 281/2016/TT-BTC Art. 4: 8,000 đồng per copy): how many a dossier asks for, and the fee lines
they add. Pure: works on a procedure's :class:`~engine.rules.definitions.schema.CopiesDef` and the
dossier's form data."""
from __future__ import annotations

import math
from typing import Any

COPY_KEY = "copy"  # in a copy's stored data: {"no": n, "of": N, "original": the original's number}
MAX_COPIES = 50  # a bound on what a form's number may ask for, whatever its own limit says


def _form_value(ref: str | None, data: dict[str, Any]) -> Any:
    if not ref:
        return None
    root, _, name = ref.partition(".")
    return data.get(name) if root == "form" else None


def copies_wanted(spec: Any, data: dict[str, Any]) -> int:
    """How many copies of the result the dossier asks for (0 when the form does not ask)."""
    if spec is None:
        return 0
    if spec.when is not None and _form_value(spec.when, data) is not True:
        return 0
    count = _form_value(spec.count, data)
    if isinstance(count, bool) or not isinstance(count, (int, float)):
        return 0
    if isinstance(count, float) and (not math.isfinite(count) or not count.is_integer()):
        return 0  # NaN, an infinity (JSON's "Infinity" parses to one) or a fraction: no copies
    return max(0, min(int(count), MAX_COPIES))


def fee_lines(proc: Any, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The computed fee lines of a dossier: one per result whose copies it asks for (quantity, unit
    amount, amount in VND). Payment is not computed here."""
    out = []
    for res in getattr(proc, "results", ()):
        n = copies_wanted(res.copies, data)
        if n:
            out.append({"item": "copies", "result": res.id,
                        "label": {"vi": res.copies.title.vi, "en": res.copies.title.en},
                        "quantity": n, "unit_amount": res.copies.fee_per_copy,
                        "amount": n * res.copies.fee_per_copy, "currency": "VND"})
    return out
