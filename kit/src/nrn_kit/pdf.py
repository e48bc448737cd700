"""HTML documents to tagged PDFs, and which characters the installed fonts cannot draw.

Any service that prints (requests311's memos today; engagement reports and close-out reports
later) renders its HTML with :func:`html_to_pdf` and warns its people with
:func:`unprintable_characters` before anything is delivered. Needs the ``pdf`` extra
(``nrn-kit[pdf]``: WeasyPrint) and, from Debian, ``libpango-1.0-0`` with the fonts
``fonts-noto-core``, ``fonts-noto-cjk``, ``fonts-noto-color-emoji`` (scripts/setup and the
printing services' Dockerfiles install them).

- **Nothing is fetched.** The document is rendered from a string with no base URL, and the URL
  fetcher refuses every protocol (``file:`` and ``data:`` included), so no image, stylesheet or
  font named by the document is read from disk or the network. Fonts come from fontconfig only.
  Documents keep their CSS in a ``<style>`` element for that reason.
- **Tagged.** ``pdf/ua-1`` (PDF/UA, Section 508): a structure tree, the document language and
  its title. The document must have ``<html lang>`` and a ``<title>``.
- **No silent loss.** Pango falls back through every font fontconfig knows; a character that no
  installed font covers would still print as an empty box, so :func:`unprintable_characters`
  asks fontconfig for the union of the installed fonts' character sets and lists what is outside.
- **Off the event loop.** :func:`render_pdf` runs WeasyPrint on one worker thread (one render at
  a time per process: Pango's font map is shared state) and awaits it.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import threading
import unicodedata
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

PDF_VARIANT = "pdf/ua-1"


def no_fetching() -> Any:
    """A WeasyPrint URL fetcher that refuses every URL: nothing is read from disk or network."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=set())


def html_to_pdf(document: str, *, url_fetcher: Any = None) -> bytes:
    """A complete HTML document (``<html lang>``, ``<title>``, styles inline) → PDF/UA bytes.

    ``url_fetcher`` replaces the fetch-nothing default (tests pass one that records calls).
    Blocking, ~0.1–0.5 s a page on one core: call :func:`render_pdf` from async code."""
    from weasyprint import HTML

    fetcher = url_fetcher if url_fetcher is not None else no_fetching()
    return HTML(string=document, base_url=None, url_fetcher=fetcher).write_pdf(pdf_variant=PDF_VARIANT)


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _pdf_thread() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdf")
        return _executor


async def render_pdf(document: str, *, url_fetcher: Any = None) -> bytes:
    """:func:`html_to_pdf` on the PDF worker thread, so the event loop keeps serving."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pdf_thread(), functools.partial(html_to_pdf, document,
                                                                      url_fetcher=url_fetcher))


# ------------------------------------------------------------------------------ font coverage


@dataclass(frozen=True)
class Unprintable:
    """A character no installed font can draw: ``character`` itself, ``code_point`` as
    ``U+XXXX``, its Unicode ``name`` in sentence case (or what kind of code point it is) and the ``fields`` it is in."""

    character: str
    code_point: str
    name: str
    fields: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"character": self.character, "code_point": self.code_point, "name": self.name,
                "fields": list(self.fields)}


# Characters that are never drawn as glyphs of their own: controls, format characters (joiners,
# marks of direction, tags), separators, and variation selectors, which choose how the previous
# character looks. Fonts need not list them, so they are not a loss.
_NOT_DRAWN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Zs", "Cs"})


def _drawn(ch: str) -> bool:
    cp = ord(ch)
    if 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF:
        return False
    return unicodedata.category(ch) not in _NOT_DRAWN_CATEGORIES


class _Fontconfig:
    """The union of every installed font's character set, read once through libfontconfig."""

    def __init__(self) -> None:
        path = ctypes.util.find_library("fontconfig")
        if path is None:
            raise OSError("libfontconfig is not installed")
        fc = ctypes.CDLL(path)
        vp = ctypes.c_void_p
        fc.FcInitLoadConfigAndFonts.restype = vp
        fc.FcPatternCreate.restype = vp
        fc.FcObjectSetCreate.restype = vp
        fc.FcObjectSetAdd.argtypes = [vp, ctypes.c_char_p]
        fc.FcFontList.restype = vp
        fc.FcFontList.argtypes = [vp, vp, vp]
        fc.FcPatternGetCharSet.argtypes = [vp, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(vp)]
        fc.FcCharSetCreate.restype = vp
        fc.FcCharSetMerge.argtypes = [vp, vp, ctypes.POINTER(ctypes.c_int)]
        fc.FcCharSetHasChar.argtypes = [vp, ctypes.c_uint32]
        fc.FcCharSetCount.argtypes = [vp]
        fc.FcCharSetCount.restype = ctypes.c_uint32
        fc.FcFontSetDestroy.argtypes = [vp]
        fc.FcPatternDestroy.argtypes = [vp]
        fc.FcObjectSetDestroy.argtypes = [vp]

        class FontSet(ctypes.Structure):
            _fields_ = [("nfont", ctypes.c_int), ("sfont", ctypes.c_int), ("fonts", ctypes.POINTER(vp))]

        config = fc.FcInitLoadConfigAndFonts()
        pattern, objects = fc.FcPatternCreate(), fc.FcObjectSetCreate()
        fc.FcObjectSetAdd(objects, b"charset")
        found = fc.FcFontList(config, pattern, objects)
        union = fc.FcCharSetCreate()
        try:
            fonts = FontSet.from_address(found)
            for i in range(fonts.nfont):
                charset = vp()
                if fc.FcPatternGetCharSet(fonts.fonts[i], b"charset", 0, ctypes.byref(charset)) == 0:
                    fc.FcCharSetMerge(union, charset, None)
            self.fonts = fonts.nfont
        finally:
            fc.FcFontSetDestroy(found)
            fc.FcObjectSetDestroy(objects)
            fc.FcPatternDestroy(pattern)
        self._fc, self._union = fc, union
        self.characters = int(fc.FcCharSetCount(union))

    def covers(self, ch: str) -> bool:
        return bool(self._fc.FcCharSetHasChar(self._union, ord(ch)))


_coverage_lock = threading.Lock()


@functools.cache
def _fontconfig() -> _Fontconfig:
    with _coverage_lock:
        return _Fontconfig()


def installed_coverage() -> tuple[int, int]:
    """(fonts, characters) that fontconfig knows here: for health pages and tests."""
    fc = _fontconfig()
    return fc.fonts, fc.characters


def unprintable_characters(fields: dict[str, str | None] | Iterable[tuple[str, str | None]]) -> list[Unprintable]:
    """The characters of ``fields`` (field name → text) that no installed font covers, in order
    of first appearance, each once with every field it is in. Empty when all can be drawn.

    Fonts are read once per process (~0.1 s with the Noto families); a font installed later is
    seen after a restart."""
    items = fields.items() if isinstance(fields, dict) else fields
    fc = _fontconfig()
    seen: dict[str, list[str]] = {}
    for field, text in items:
        for ch in dict.fromkeys(text or ""):
            if not _drawn(ch) or fc.covers(ch):
                continue
            where = seen.setdefault(ch, [])
            if field not in where:
                where.append(field)
    return [Unprintable(character=ch, code_point=f"U+{ord(ch):04X}", name=_name(ch), fields=tuple(where))
            for ch, where in seen.items()]


def _name(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if name:
        return name.capitalize()
    return {"Co": "Private-use character", "Cn": "Unassigned code point"}.get(unicodedata.category(ch), "")
