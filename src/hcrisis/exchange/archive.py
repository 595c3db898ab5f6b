"""Untrusted REFI-QDA files: bounded zip reading and XML parsing without entities.

A `.qdpx` is a zip archive from another program, so before anything is
extracted every member is checked: at most `MAX_MEMBERS` members, none over
`MAX_MEMBER_BYTES`, all together under `MAX_TOTAL_BYTES`, no member
expanding more than `MAX_RATIO` times its compressed size (a zip bomb), and
no name that climbs out of the archive (`../`, absolute paths, drive
letters). Sizes are counted while decompressing, so a member whose header
understates its size is still stopped.

XML is parsed by lxml with entity resolution, DTD loading and network access
off and `huge_tree` off (libxml2's own depth and size limits stay on); a
document that declares a DTD at all is refused, since REFI-QDA files never
carry one and a DTD is how entity expansion and external entities (XXE)
get in.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hcrisis.errors import InputError

MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 50 * 1024 * 1024         # the transcript readers' limit
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024    # REFI-QDA's own limit for one internal file
MAX_RATIO = 100                             # text deflates ~3-10x; bombs ~1000x
RATIO_FLOOR = 1024 * 1024                   # small members may compress oddly well
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)")
_DTD_FIX = "refusing it (entity expansion and external entities are unsafe); export the file again from your QDA tool"
_BOMB_FIX = "this is not a project a QDA tool writes (possible zip bomb); re-export it"


@dataclass
class Archive:
    """The members of a checked zip archive, read on demand with their sizes bounded."""

    path: Path
    zf: zipfile.ZipFile
    names: dict[str, str]          # lower-cased name -> name as stored

    def find(self, name: str) -> str | None:
        """A member's stored name, matched without regard to case (`Sources/` or `sources/`)."""
        return self.names.get(name.lower())

    def read(self, name: str) -> bytes:
        """A member's bytes, stopped at `MAX_MEMBER_BYTES` whatever its header says."""
        info = self.zf.getinfo(name)
        limit = min(MAX_MEMBER_BYTES, max(RATIO_FLOOR, MAX_RATIO * info.compress_size))
        with self.zf.open(info) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise InputError(f"member '{name}' expands beyond {limit} bytes", path=self.path, fix=_BOMB_FIX)
        return data


def open_archive(path: str | Path) -> Archive:
    """Open a `.qdpx` after the member checks described in the module docstring."""
    p = Path(path)
    if not p.is_file():
        raise InputError("file not found" if not p.exists() else "is a folder, not a file", path=p,
                         fix="give the .qdpx file your QDA tool exported")
    if not zipfile.is_zipfile(p):
        raise InputError("not a REFI-QDA project: not a zip archive", path=p,
                         fix="give the .qdpx file your QDA tool exported")
    try:
        zf = zipfile.ZipFile(p)
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, NotImplementedError) as exc:
        raise InputError(f"damaged zip archive: {exc}", path=p, fix="export the project again") from None
    _check_members(p, infos)
    names = {i.filename.lower(): i.filename for i in infos if not i.is_dir()}
    return Archive(p, zf, names)


def _check_members(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_MEMBERS:
        raise InputError(f"archive has {len(infos)} members, over the limit of {MAX_MEMBERS}",
                         path=path, fix=_BOMB_FIX)
    total = 0
    for info in infos:
        if unsafe_name(info.filename):
            raise InputError(f"archive member '{info.filename}' points outside the archive",
                             path=path, fix="this is not a project a QDA tool writes; re-export it")
        if info.flag_bits & 0x1:
            raise InputError(f"archive member '{info.filename}' is encrypted", path=path,
                             fix="export the project without a password")
        total += info.file_size
        if info.file_size > MAX_MEMBER_BYTES:
            raise InputError(f"archive member '{info.filename}' is {info.file_size} bytes, over the "
                             f"limit of {MAX_MEMBER_BYTES}", path=path, fix=_BOMB_FIX)
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise InputError(f"archive member '{info.filename}' expands {info.file_size // max(info.compress_size, 1)}"
                             f" times, over the limit of {MAX_RATIO}", path=path, fix=_BOMB_FIX)
    if total > MAX_TOTAL_BYTES:
        raise InputError(f"archive expands to {total} bytes, over the limit of {MAX_TOTAL_BYTES}",
                         path=path, fix=_BOMB_FIX)


def unsafe_name(name: str) -> bool:
    """Whether a member name is absolute or climbs out of the archive's folder."""
    norm = name.replace("\\", "/")
    parts = PurePosixPath(norm).parts
    return (norm.startswith("/") or (len(norm) > 1 and norm[1] == ":") or ".." in parts
            or "\x00" in norm)


def parse_xml(data: bytes, where: str | Path):
    """The root element of untrusted XML, parsed with entities, DTDs and the network off."""
    from lxml import etree

    if _DTD.search(data.replace(b"\x00", b"")):     # before parsing: lxml stops at an entity it may not load
        raise InputError("XML declares a DTD or entities, which REFI-QDA files never do", path=where,
                         fix=_DTD_FIX)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             dtd_validation=False, huge_tree=False, remove_comments=True,
                             remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        msg = re.sub(r"(, line \d+, column \d+)+$", "", str(exc.msg))
        raise InputError(f"not well-formed XML: {msg}", path=where, line=line,
                         fix="export the file again from your QDA tool") from None
    if root.getroottree().docinfo.doctype or _has_entities(root):
        raise InputError("XML declares a DTD or entities, which REFI-QDA files never do", path=where,
                         fix=_DTD_FIX)
    return root


def _has_entities(root) -> bool:
    from lxml import etree

    return any(isinstance(el, etree._Entity) for el in root.iter())
