"""Bytes to canonical text: encoding detection and line-end normalisation."""

from __future__ import annotations

from pathlib import Path

from hcrisis.errors import InputError

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
# Leading bytes of the binary formats a transcript is most often mistaken for.
_MAGIC = ((b"PK\x03\x04", "a zip archive (.docx or .odt)"), (b"%PDF-", "a PDF file (.pdf)"),
          (b"\xd0\xcf\x11\xe0", "an old Word/Office file (.doc)"), (b"{\\rtf", "an RTF file"),
          (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"))
_FORMATS_FIX = "export the transcript as .txt, .docx, .odt, .pdf, .vtt or .srt"


def sniff(data: bytes) -> str | None:
    """Name the binary format `data` starts with, if it is a well-known one."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    return None


def decode_text(data: bytes, path: str | Path) -> str:
    """Decode UTF-8 (with or without BOM) or UTF-16 with BOM, else Windows-1252.

    Windows-1252 is accepted only when the bytes are not valid UTF-8 and hold
    no control characters, which is how Word's "Plain text" exports look.
    UTF-32, UTF-16 without BOM and binary files are rejected.
    Line ends are normalised to LF so offsets do not depend on CRLF vs LF.
    """
    kind = sniff(data)
    if kind is not None:
        raise InputError(f"this is {kind}, not a text file", path=path,
                         fix="give the file its right extension or set 'format' in the manifest")
    if data.startswith(_UTF32_BOMS):
        raise InputError("UTF-32 text is not supported", path=path, fix="re-save the file as UTF-8")
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("binary file, not text (or UTF-16 without a byte-order mark)",
                         path=path, fix=_FORMATS_FIX)
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
    error = InputError(f"undecodable bytes at byte {bad} (not UTF-8, UTF-16 or Windows-1252)",
                       path=path, fix="re-save the file as UTF-8")
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise error from None
    if any(ord(c) < 32 and c not in "\t\n\r\f" for c in text):
        raise error
    return text


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
