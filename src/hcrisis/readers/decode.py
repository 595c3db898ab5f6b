"""Bytes to canonical text: encoding detection and line-end normalisation."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def decode_text(data: bytes, path: str | Path) -> str:
    """Decode UTF-8 (with or without BOM) or UTF-16 with BOM, else Windows-1252.

    Windows-1252 is accepted only when the bytes are not valid UTF-8 and hold
    no control characters, which is how Word's "Plain text" exports look.
    Line ends are normalised to LF so offsets do not depend on CRLF vs LF.
    """
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("binary file, not text", path=path,
                         fix="export the transcript as .txt, .docx, .vtt or .srt")
    text = None
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(enc)
            except UnicodeDecodeError as exc:
                raise InputError(f"invalid {enc} at byte {exc.start + len(bom)}", path=path,
                                 fix="re-save the file as UTF-8") from None
            break
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = _decode_cp1252(data, path, exc.start)
    return normalise_newlines(text)


def _decode_cp1252(data: bytes, path: str | Path, bad: int) -> str:
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise InputError(f"undecodable bytes at byte {bad} (not UTF-8 or Windows-1252)",
                         path=path, fix="re-save the file as UTF-8") from None
    if any(ord(c) < 32 and c not in "\t\n\r\f" for c in text):
        raise InputError(f"undecodable bytes at byte {bad} (not UTF-8 or Windows-1252)",
                         path=path, fix="re-save the file as UTF-8")
    return text


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
