"""PDF pages drawn as PNG images by poppler's ``pdftoppm`` (deploy/debian-packages.txt), for the desk's
viewer (``engine.usecases.pages.PageRenderer``).

The file was screened at upload (``pdf_screen``), and the renderer is still treated as handling hostile
input: it runs without a shell, reads the PDF from its standard input and writes the PNG to its
standard output (no file names made from user data), with a wall-clock timeout and, through util-linux's
``prlimit``, limits on its address space, CPU time and file size. A page larger than ``max_side``
pixels at the asked resolution (a poster-sized media box) is drawn scaled down to it, so the bitmap
stays within the memory limit; pdftoppm, short of memory, answers a one-pixel image with success, and
that counts as a failure. Whatever goes wrong (an unreadable file, the tool missing or too slow, a
page it cannot draw) becomes ``PageRenderError``.
"""
from __future__ import annotations

import io
import logging
import shutil
import struct
import subprocess

from pypdf import PdfReader

from engine.rules.errors import PageRenderError

log = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CANNOT = "Không hiển thị được trang này, hãy tải tệp về / cannot show this page; download the file"


class PdftoppmRenderer:
    def __init__(self, *, executable: str = "pdftoppm", timeout: float = 15.0, memory_mb: int = 512,
                 cpu_seconds: int = 15, output_mb: int = 64, max_side: int = 3000):
        self.executable = executable
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.cpu_seconds = cpu_seconds
        self.output_mb = output_mb
        self.max_side = max_side

    def count_pages(self, content: bytes) -> int:
        return len(self._reader(content).pages)

    @staticmethod
    def _reader(content: bytes) -> PdfReader:
        try:
            reader = PdfReader(io.BytesIO(content), strict=False)
            len(reader.pages)
            return reader
        except Exception as exc:  # noqa: BLE001 - whatever the parser trips on, the viewer says so
            log.info("a stored PDF could not be read for the viewer: %s", type(exc).__name__)
            raise PageRenderError(CANNOT) from exc

    def _pixels(self, content: bytes, page: int, resolution: int) -> tuple[int, int]:
        """The page's size in pixels at ``resolution``, as pdftoppm will draw it (media box x user unit)."""
        try:
            p = self._reader(content).pages[page - 1]
            box, unit = p.mediabox, float(p.get("/UserUnit", 1) or 1)
            return (round(abs(float(box.width)) * unit * resolution / 72),
                    round(abs(float(box.height)) * unit * resolution / 72))
        except PageRenderError:
            raise
        except Exception as exc:  # noqa: BLE001 - a page pypdf cannot measure is not drawn
            raise PageRenderError(CANNOT) from exc

    def command(self, page: int, resolution: int, *, scale_to: int | None = None) -> list[str]:
        tool = shutil.which(self.executable)
        limiter = shutil.which("prlimit")
        if tool is None or limiter is None:
            log.error("the viewer needs %s and prlimit (poppler-utils, util-linux)", self.executable)
            raise PageRenderError(CANNOT)
        limits = [limiter, f"--as={self.memory_mb * 1024 * 1024}", f"--cpu={self.cpu_seconds}",
                  f"--fsize={self.output_mb * 1024 * 1024}", "--"]
        size = ["-scale-to", str(int(scale_to))] if scale_to else ["-r", str(int(resolution))]
        return [*limits, tool, "-png", *size, "-f", str(int(page)), "-l", str(int(page)), "-"]

    def render_page(self, content: bytes, page: int, resolution: int) -> bytes:
        width, height = self._pixels(content, page, resolution)
        command = self.command(page, resolution, scale_to=self.max_side if max(width, height) > self.max_side else None)
        try:
            done = subprocess.run(command, input=content, capture_output=True, timeout=self.timeout, check=False,
                                  env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        except subprocess.TimeoutExpired as exc:
            log.warning("pdftoppm took longer than %ss on page %d", self.timeout, page)
            raise PageRenderError(CANNOT) from exc
        except OSError as exc:
            log.warning("pdftoppm could not be started: %s", type(exc).__name__)
            raise PageRenderError(CANNOT) from exc
        png = done.stdout
        if done.returncode != 0 or not png.startswith(PNG_SIGNATURE) or len(png) < 24:
            log.warning("pdftoppm failed on page %d (exit status %s)", page, done.returncode)
            raise PageRenderError(CANNOT)
        drawn = struct.unpack(">II", png[16:24])
        if max(drawn) <= 1 < max(width, height):
            log.warning("pdftoppm drew page %d as one pixel (out of memory?)", page)
            raise PageRenderError(CANNOT)
        return png
