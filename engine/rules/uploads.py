"""What an uploaded PDF may not carry, and what the applicant is told when it does. Pure rules: the
checking itself needs a PDF parser and lives in ``engine.adapters.pdf_screen``; the filing use case
turns a refusal into its error.

A scanned document or a certificate needs no script, no program to launch, no attachment and no
password, and it is shown to staff in a browser: anything else is refused before it is stored.
"""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_PAGES = 500
DEFAULT_MAX_INFLATED_MB = 100.0


@dataclass(frozen=True)
class PdfRefusal:
    """Why a PDF is refused. ``unsupported`` refusals are content we do not take at all (an
    unsupported media type); the others are limits a document went over (a validation error)."""

    code: str
    vi: str
    en: str
    unsupported: bool = True

    @property
    def message(self) -> str:
        return f"{self.vi} / {self.en}"


UNREADABLE = PdfRefusal("unreadable", "Tệp PDF bị hỏng hoặc không đọc được", "the PDF is damaged or cannot be read")
NO_PAGES = PdfRefusal("no_pages", "Tệp PDF không có trang nào", "the PDF has no page", unsupported=False)
ENCRYPTED = PdfRefusal("encrypted", "Tệp PDF có mật khẩu hoặc bị mã hoá; hãy gửi bản không mật khẩu",
                       "the PDF is encrypted or password-protected; send it without a password")
JAVASCRIPT = PdfRefusal("javascript", "Tệp PDF chứa mã JavaScript", "the PDF contains JavaScript")
LAUNCH = PdfRefusal("launch", "Tệp PDF chứa lệnh mở chương trình (Launch)", "the PDF contains a launch action")
EMBEDDED_FILE = PdfRefusal("embedded_file", "Tệp PDF có tệp đính kèm bên trong", "the PDF contains embedded files")
ACTIVE_CONTENT = PdfRefusal("active_content", "Tệp PDF chứa biểu mẫu XFA hoặc nội dung đa phương tiện",
                            "the PDF contains an XFA form or rich media")


def too_large_inflated(limit_mb: float) -> PdfRefusal:
    return PdfRefusal("too_large_inflated", f"Nội dung tệp PDF khi giải nén lớn hơn {limit_mb:g} MB",
                      f"the PDF's content is larger than {limit_mb:g} MB once decompressed", unsupported=False)


def too_many_pages(limit: int) -> PdfRefusal:
    return PdfRefusal("too_many_pages", f"Tệp PDF có hơn {limit} trang", f"the PDF has more than {limit} pages",
                      unsupported=False)
