"""Serif fonts with full Vietnamese coverage, subset once from the system's Debian packages.

Rendering with a full system font spends most of its time in fontTools subsetting the font's large
layout tables on every document (reference/signing-pdf.md §3.3). :func:`ensure_fonts` therefore subsets
Noto Serif (Debian ``fonts-noto-core``), or else Liberation Serif 2 (``fonts-liberation2``), to Latin +
Vietnamese once, into a cache folder, and reuses the files on later calls. Font files are never
committed to the repository.

Debian's old ``fonts-liberation`` 1.07 is refused: it lacks 98 of the 140 Vietnamese code points,
including Ơ/ơ/Ư/ư and the combining marks.
"""
from __future__ import annotations

import hashlib
import itertools
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont, TTLibError

logger = logging.getLogger(__name__)

#: Bump when the subsetting recipe changes: cached files carry it in their cache key.
SUBSET_VERSION = "1"

#: The faces every document may use, keyed by the name :func:`ensure_fonts` returns.
FACES: dict[str, tuple[str, str]] = {  # key -> (fontconfig style, file-name style)
    "regular": ("Regular", "Regular"),
    "bold": ("Bold", "Bold"),
    "italic": ("Italic", "Italic"),
    "bold-italic": ("Bold Italic", "BoldItalic"),
}

#: Latin-1, the Vietnamese letters outside it, the combining marks used by NFD input, general
#: punctuation, the đồng and euro signs, № and ™ (reference/signing-pdf.md §3.3).
SUBSET_UNICODES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x00FF), (0x0102, 0x0103), (0x0110, 0x0111), (0x0128, 0x0129), (0x0168, 0x0169),
    (0x01A0, 0x01A1), (0x01AF, 0x01B0), (0x0300, 0x0303), (0x0309, 0x0309), (0x0323, 0x0323),
    (0x1EA0, 0x1EF9), (0x2000, 0x206F), (0x20AB, 0x20AC), (0x2116, 0x2116), (0x2122, 0x2122),
)
#: Mark positioning and composition are what stack Vietnamese diacritics correctly.
SUBSET_FEATURES: tuple[str, ...] = ("ccmp", "mark", "mkmk", "kern", "liga", "locl")

#: The 140 code points checked in reference/signing-pdf.md §3.1.
VIETNAMESE_CODEPOINTS: frozenset[int] = frozenset(
    [*range(0x1EA0, 0x1EFA)]
    + [ord(c) for c in "ĂăĐđƠơƯưĨĩŨũ"]
    + [ord(c) for c in "ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúý"]
    + [0x0300, 0x0301, 0x0303, 0x0309, 0x0323]
    + [0x20AB]
)
assert len(VIETNAMESE_CODEPOINTS) == 140


class FontError(RuntimeError):
    """No usable serif font with Vietnamese coverage, or a subset that lost coverage."""


@dataclass(frozen=True)
class _Family:
    name: str            # fontconfig family name
    file_stem: str       # Debian file name without "-<Style>.ttf"
    package: str         # the Debian package that installs it
    min_major_version: int = 0


FAMILIES: tuple[_Family, ...] = (
    _Family("Noto Serif", "NotoSerif", "fonts-noto-core"),
    # Liberation 1.x has the same file names but no Vietnamese: require version 2.
    _Family("Liberation Serif", "LiberationSerif", "fonts-liberation2", min_major_version=2),
)
DEFAULT_FONT_DIRS: tuple[Path, ...] = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))


def ensure_fonts(cache_dir: Path, *, font_dirs: Sequence[Path] | None = None) -> dict[str, Path]:
    """Return ``{"regular"|"bold"|"italic"|"bold-italic": path}`` of Latin + Vietnamese subsets.

    Subsets are made once per source file: a file in ``cache_dir`` is named after a hash of its
    source font's bytes, :data:`SUBSET_VERSION` and the recipe, and reused as long as it exists.
    Files are written atomically, so worker processes may share one cache folder.

    ``font_dirs`` replaces the fontconfig lookup and the default font folders (for tests).
    Raises :class:`FontError` naming the Debian package to install when no family has all four faces.
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    family, sources = _find_family(font_dirs)
    out: dict[str, Path] = {}
    for key, source in sources.items():
        target = cache_dir / f"serif-{key}-{_cache_key(source)}.ttf"
        if not target.is_file():
            _make_subset(source, target)
            logger.info("subset %s %s into %s", family.name, key, target.name)
        out[key] = target
    return out


def missing_vietnamese(path: Path) -> set[int]:
    """The Vietnamese code points (of the 140) that the font at ``path`` has no glyph for."""
    font = TTFont(path, lazy=True)
    try:
        cmap = font.getBestCmap() or {}
    finally:
        font.close()
    return set(VIETNAMESE_CODEPOINTS) - set(cmap)


# ---- discovery --------------------------------------------------------------------------------

def _find_family(font_dirs: Sequence[Path] | None) -> tuple[_Family, dict[str, Path]]:
    for family in FAMILIES:
        sources: dict[str, Path] = {}
        for key, (fc_style, file_style) in FACES.items():
            filename = f"{family.file_stem}-{file_style}.ttf"
            candidates = itertools.chain(
                _fontconfig_candidates(family.name, fc_style) if font_dirs is None else (),
                _search(filename, DEFAULT_FONT_DIRS if font_dirs is None else font_dirs))
            found = next((p for p in candidates if p.name == filename and _usable(p, family)), None)
            if found is None:
                break
            sources[key] = found
        else:
            return family, sources
    wanted = " or ".join(f"{f.name} ({f.package})" for f in FAMILIES)
    raise FontError(
        f"no serif font with Vietnamese coverage found: install {wanted}, "
        f"e.g. `apt-get install {FAMILIES[0].package}`. "
        "Debian's fonts-liberation 1.07 does not qualify: it lacks Vietnamese letters.")


def _fontconfig_candidates(family: str, style: str) -> list[Path]:
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return []
    try:
        done = subprocess.run([fc_match, "-f", "%{file}", f"{family}:style={style}"],
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    # fc-match always answers with *some* font; the caller checks the file name.
    return [Path(done.stdout.strip())] if done.returncode == 0 and done.stdout.strip() else []


def _search(filename: str, roots: Iterable[Path]) -> Iterator[Path]:
    for root in roots:
        if Path(root).is_dir():
            yield from sorted(Path(root).rglob(filename))


def _usable(path: Path, family: _Family) -> bool:
    try:
        font = TTFont(path, lazy=True)
    except (OSError, TTLibError):
        return False
    try:
        if family.min_major_version:
            version = font["head"].fontRevision
            if int(version) < family.min_major_version:
                logger.info("skipping %s: version %.2f is too old", path.name, version)
                return False
        return not (set(VIETNAMESE_CODEPOINTS) - set(font.getBestCmap() or {}))
    finally:
        font.close()


# ---- subsetting -------------------------------------------------------------------------------

def _cache_key(source: Path) -> str:
    h = hashlib.sha256()
    recipe = repr((SUBSET_VERSION, SUBSET_UNICODES, SUBSET_FEATURES))
    h.update(recipe.encode())
    h.update(hashlib.sha256(source.read_bytes()).digest())
    return h.hexdigest()[:16]


def _make_subset(source: Path, target: Path) -> None:
    options = subset.Options()
    options.layout_features = list(SUBSET_FEATURES)
    options.hinting = False          # PDFs do not use hinting; WeasyPrint drops it too
    options.notdef_outline = True
    options.name_IDs = ["*"]         # keep the copyright and licence names (OFL)
    options.name_languages = ["*"]
    unicodes = [cp for lo, hi in SUBSET_UNICODES for cp in range(lo, hi + 1)]

    font = TTFont(source)
    try:
        subsetter = subset.Subsetter(options=options)
        subsetter.populate(unicodes=unicodes)
        subsetter.subset(font)
        fd, tmp_name = tempfile.mkstemp(prefix=".subset-", suffix=".ttf", dir=target.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            font.save(tmp)
            if missing := missing_vietnamese(tmp):
                raise FontError(f"the subset of {source.name} lacks {len(missing)} Vietnamese code points: "
                                + " ".join(f"U+{cp:04X}" for cp in sorted(missing)))
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    finally:
        font.close()
