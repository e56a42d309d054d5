"""Bytes to clean text: BOMs, UTF-16, invalid UTF-8, line ends, and mojibake.

Each repair is reported as a ``(kind, message, severity)`` note so the loader can
turn it into a :class:`~agentroute._spec.Diagnostic`; nothing is repaired silently.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["BinaryFileError", "Note", "decode_bytes", "repair_mojibake"]

Note = tuple[str, str, str]  # (kind, message, severity)


class BinaryFileError(ValueError):
    """The bytes are not text in any encoding agentroute reads."""


# Windows-1252 as a reverse table (char -> byte), extended with the five bytes
# cp1252 leaves undefined: decoders that "succeed" on them (latin-1 fallback)
# leave the C1 control with the same code point.
_CP1252_BYTE: dict[str, int] = {}
for _b in range(0x80, 0x100):
    try:
        _CP1252_BYTE[bytes([_b]).decode("cp1252")] = _b
    except UnicodeDecodeError:
        _CP1252_BYTE[chr(_b)] = _b

_MOJIBAKE_RUN = re.compile("[" + re.escape("".join(sorted(_CP1252_BYTE))) + "]{2,}")
# A UTF-8 lead byte of a multi-byte sequence, read as cp1252: Â..ô.
_LEAD = frozenset(chr(c) for c in range(0xC2, 0xF5))


def _unmangle_run(run: str) -> tuple[str, int]:
    """Re-decode one run of cp1252-looking characters as UTF-8, piece by piece."""
    out: list[str] = []
    fixed = 0
    i = 0
    while i < len(run):
        ch = run[i]
        if ch in _LEAD:
            lead = ord(ch)
            size = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
            piece = run[i : i + size]
            if len(piece) == size:
                try:
                    out.append(bytes(_CP1252_BYTE[c] for c in piece).decode("utf-8"))
                    i += size
                    fixed += 1
                    continue
                except UnicodeDecodeError:
                    pass
        out.append(ch)
        i += 1
    return "".join(out), fixed


def repair_mojibake(text: str) -> tuple[str, int]:
    """Undo UTF-8 text that was decoded as Windows-1252 ("â€”" for "—").

    Only runs that decode as valid UTF-8 are changed, so ordinary accented text
    (``café``) is left alone.

    Returns
    -------
    text : str
        The repaired text.
    count : int
        How many mangled sequences were repaired.

    Examples
    --------
    >>> repair_mojibake("a â€” b ðŸ›‘ stop, cafÃ© and café")
    ('a — b 🛑 stop, café and café', 3)
    """
    count = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal count
        fixed, n = _unmangle_run(match.group(0))
        count += n
        return fixed

    return _MOJIBAKE_RUN.sub(fix, text), count


_SURROGATE = re.compile("[\udc80-\udcff]")


def decode_bytes(data: bytes) -> tuple[str, list[Note]]:
    """Decode a file's bytes to text with ``\\n`` line ends, reporting every repair.

    Raises
    ------
    BinaryFileError
        When the bytes hold NUL characters outside UTF-16, i.e. are not text.

    Examples
    --------
    >>> decode_bytes(b"\\xef\\xbb\\xbfname: x\\r\\n")
    ('name: x\\n', [('bom', 'a UTF-8 byte-order mark was removed', 'info'), \
('crlf', 'CRLF line ends were converted to LF', 'info')])
    """
    notes: list[Note] = []
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        notes.append(("bom", "a UTF-8 byte-order mark was removed", "info"))
        text = _decode_utf8(data, notes)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _decode_utf16(data, "utf-16", notes)
    elif b"\x00" in data:
        text = _decode_nul_bytes(data, notes)
    else:
        text = _decode_utf8(data, notes)

    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        notes.append(("crlf", "CRLF line ends were converted to LF", "info"))
    text, repaired = repair_mojibake(text)
    if repaired:
        notes.append(
            (
                "mojibake",
                f"{repaired} mangled character sequence(s) (UTF-8 read as Windows-1252) "
                "were repaired",
                "warning",
            )
        )
    return text, notes


def _decode_utf8(data: bytes, notes: list[Note]) -> str:
    text = data.decode("utf-8", errors="surrogateescape")
    bad = _SURROGATE.findall(text)
    if bad:
        text = _SURROGATE.sub(
            lambda m: bytes([ord(m.group(0)) - 0xDC00]).decode("cp1252", errors="replace"), text
        )
        notes.append(
            (
                "invalid-utf8",
                f"{len(bad)} byte(s) were not valid UTF-8 and were read as Windows-1252",
                "warning",
            )
        )
    return text


def _decode_utf16(data: bytes, codec: str, notes: list[Note]) -> str:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise BinaryFileError(f"looks like UTF-16 but does not decode: {exc.reason}") from None
    text = text.lstrip("\ufeff")
    if codec != "utf-16" and not _mostly_text(text):
        raise BinaryFileError("binary content (NUL bytes); not a text file")
    notes.append(("utf16", "the file is UTF-16; it was decoded as such", "info"))
    return text


def _mostly_text(text: str) -> bool:
    """UTF-16 guessed from NUL positions must read as (mostly ASCII) text."""
    sample = text[:4096]
    plain = sum(1 for c in sample if c.isascii() and (c.isprintable() or c in "\n\r\t"))
    return plain >= 0.9 * len(sample)


def _decode_nul_bytes(data: bytes, notes: list[Note]) -> str:
    even_nuls = data[0::2].count(0)
    odd_nuls = data[1::2].count(0)
    half = len(data) // 2
    # UTF-16 text of mostly ASCII has a NUL in every other byte.
    if half and odd_nuls > 0.4 * half and even_nuls == 0:
        return _decode_utf16(data, "utf-16-le", notes)
    if half and even_nuls > 0.4 * half and odd_nuls == 0:
        return _decode_utf16(data, "utf-16-be", notes)
    raise BinaryFileError("binary content (NUL bytes); not a text file")
