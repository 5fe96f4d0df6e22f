"""The one-stop slips (Circular 01/2018 Art. 9; Circular 03/2025 Appendix I): for each form number
its title, its template file in ``procedures/slips/`` and the suffix of its number. Which action
issues which form is a fact of the definition: the slip effects of :mod:`engine.rules.effects`
(see :func:`engine.rules.effects.slip_form`)."""
from __future__ import annotations

RECEIPT = "01"  # the receipt and appointment slip: issued when a dossier is received

SLIP_TEMPLATES = {"01": "01-receipt.html.j2", "02": "02-supplement.html.j2", "03": "03-refusal.html.j2",
                  "04": "04-apology.html.j2", "05": "05-stop.html.j2"}
SLIP_SUFFIX = {"01": "PTN", "02": "PBS", "03": "PTC", "04": "XL", "05": "TBD"}
SLIP_TITLES = {
    "01": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
    "02": "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
    "03": "Phiếu từ chối tiếp nhận giải quyết hồ sơ",
    "04": "Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết",
    "05": "Thông báo dừng giải quyết hồ sơ",
}
