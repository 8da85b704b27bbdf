"""Glyph ranges for the style's one font stack, served by gridgov itself (no CDN).

MapLibre needs a ``glyphs`` URL as soon as a style draws text, and asks it for ranges of
256 code points (``0-255.pbf`` ...) holding signed-distance-field bitmaps. Every label
the offline basemap draws is Chinese (street, community, road and river names), and the
console sets MapLibre's ``localIdeographFontFamily``: CJK ideographs are then drawn by
the browser's own fonts and never fetched. So the minimal set of ranges the style needs
is empty, and each range answered here is a valid glyph PBF of the font stack that holds
no glyphs: a client that meets a character outside the local ranges draws nothing for it
instead of failing the tile. ``labels_drawn_locally`` lets tests prove the premise.
"""

from __future__ import annotations

import re
import unicodedata

from layers.style import FONT_STACK

GLYPH_MEDIA_TYPE = "application/x-protobuf"
RANGE = re.compile(r"^(\d{1,5})-(\d{1,5})$")


class GlyphError(ValueError):
    """A font stack gridgov does not serve or a range that is not one of 256 code points."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2); lengths here are < 128 bytes."""
    return bytes([number << 3 | 2, len(payload)]) + payload


def glyph_range(fontstack: str, code_range: str) -> bytes:
    """The ``glyphs`` message of one range: ``stacks { name, range }`` (no glyphs)."""
    stacks = [s.strip() for s in fontstack.split(",")]
    if FONT_STACK not in stacks:
        raise GlyphError(f"no font stack {fontstack!r}; the styles use {FONT_STACK!r}", "fontstack")
    m = RANGE.match(code_range)
    start, end = (int(m.group(1)), int(m.group(2))) if m else (-1, -1)
    if not m or start % 256 or end != start + 255 or end > 0xFFFF:
        raise GlyphError(
            f"{code_range!r} is not a glyph range such as 0-255 or 19968-20223", "range"
        )
    stack = _field(1, FONT_STACK.encode()) + _field(2, f"{start}-{end}".encode())
    return _field(1, stack)


def drawn_locally(char: str) -> bool:
    """Whether MapLibre draws ``char`` with the browser's font (``localIdeographFontFamily``):
    CJK ideographs, Hangul syllables, Hiragana and Katakana."""
    name = unicodedata.name(char, "")
    return name.startswith(
        (
            "CJK UNIFIED IDEOGRAPH",
            "CJK COMPATIBILITY IDEOGRAPH",
            "HANGUL SYLLABLE",
            "HIRAGANA",
            "KATAKANA",
        )
    )


def labels_drawn_locally(names: list[str]) -> list[str]:
    """The names holding a character that would need a fetched glyph range (none: all
    the style's text is drawn with the browser's fonts)."""
    return [n for n in names if not all(drawn_locally(c) for c in n)]
