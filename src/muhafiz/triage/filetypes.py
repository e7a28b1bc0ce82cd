"""Content type from magic bytes, and whether the file's extension agrees with it."""

from __future__ import annotations

from dataclasses import dataclass

# Bytes needed to recognise every signature below (tar's "ustar" sits at offset 257).
HEAD_BYTES = 512


@dataclass(frozen=True, slots=True)
class FileType:
    mime: str
    extensions: frozenset[str]  # extensions that agree with this content
    image: bool = False  # decoded for PDQ and EXIF
    archive: str | None = None  # name of the archive format that can expand it
    video: bool = False  # sampled for vPDQ


def _t(
    mime: str, exts: str, *, image: bool = False, archive: str | None = None, video: bool = False
) -> FileType:
    return FileType(mime, frozenset(exts.split()), image=image, archive=archive, video=video)


JPEG = _t("image/jpeg", "jpg jpeg jpe jfif", image=True)
PNG = _t("image/png", "png", image=True)
GIF = _t("image/gif", "gif", image=True)
BMP = _t("image/bmp", "bmp dib", image=True)
WEBP = _t("image/webp", "webp", image=True)
TIFF = _t("image/tiff", "tif tiff dng nef cr2 arw orf rw2", image=True)
HEIC = _t("image/heic", "heic heif hif", image=True)
ZIP = _t(
    "application/zip",
    "zip docx xlsx pptx odt ods odp jar apk epub ipa xpi cbz ufdr kmz aar whl",
    archive="zip",
)
TAR = _t("application/x-tar", "tar", archive="tar")
ANDROID_BACKUP = _t("application/x-android-backup", "ab", archive="android-backup")
GZIP = _t("application/gzip", "gz tgz taz", archive="tar")
BZIP2 = _t("application/x-bzip2", "bz2 tbz tbz2", archive="tar")
XZ = _t("application/x-xz", "xz txz", archive="tar")
SEVEN_ZIP = _t("application/x-7z-compressed", "7z", archive="7z")
PDF = _t("application/pdf", "pdf")
MP4 = _t("video/mp4", "mp4 m4v mov 3gp 3g2 m4a qt", video=True)
AVI = _t("video/x-msvideo", "avi", video=True)
MKV = _t("video/x-matroska", "mkv webm mka", video=True)
WEBM = _t("video/webm", "webm mkv", video=True)
ASF = _t("video/x-ms-asf", "wmv asf wma", video=True)
FLV = _t("video/x-flv", "flv", video=True)
WAV = _t("audio/wav", "wav")
MP3 = _t("audio/mpeg", "mp3")
OGG = _t("audio/ogg", "ogg oga ogv opus")
SQLITE = _t("application/vnd.sqlite3", "sqlite sqlite3 db")
ELF = _t("application/x-executable", "so elf o ko")
PE = _t("application/vnd.microsoft.portable-executable", "exe dll sys scr ocx cpl")
OLE = _t("application/x-ole-storage", "doc xls ppt msg msi")
RAR = _t("application/vnd.rar", "rar")
EMPTY = _t("application/x-empty", "")
TEXT = _t("text/plain", "txt log csv md json xml html htm ini cfg conf py js css yml yaml")
OCTET = _t("application/octet-stream", "")


def sniff(head: bytes) -> FileType:
    """Identify content from its first bytes (HEAD_BYTES of them where available)."""
    if not head:
        return EMPTY
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head.startswith(b"BM") and len(head) >= 14:
        return BMP
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return TIFF
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
            return HEIC
        return MP4
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return MP4  # QuickTime movies older than the ftyp box
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return ZIP
    if head.startswith(b"ANDROID BACKUP\n"):
        return ANDROID_BACKUP
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return SEVEN_ZIP
    if head.startswith(b"\x1f\x8b"):
        return GZIP
    if head.startswith(b"BZh"):
        return BZIP2
    if head.startswith(b"\xfd7zXZ\x00"):
        return XZ
    if len(head) >= 262 and head[257:262] == b"ustar":
        return TAR
    if head.startswith(b"%PDF-"):
        return PDF
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return AVI
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return WEBM if b"\x42\x82\x84webm" in head[:64] else MKV
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return ASF
    if head.startswith(b"FLV\x01"):
        return FLV
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return MP3
    if head.startswith(b"OggS"):
        return OGG
    if head.startswith(b"SQLite format 3\x00"):
        return SQLITE
    if head.startswith(b"\x7fELF"):
        return ELF
    if head.startswith(b"MZ"):
        return PE
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE
    if head.startswith(b"Rar!\x1a\x07"):
        return RAR
    if _looks_like_text(head):
        return TEXT
    return OCTET


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the head is still text.
        return exc.start >= len(head) - 3
    return True


def extension_of(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    if "." not in base.lstrip("."):
        return ""
    return base.rsplit(".", 1)[-1].lower()


def extension_mismatch(name: str, filetype: FileType) -> bool:
    """True when the extension names another content type than the bytes show.

    Files without an extension, and content we cannot name (octet-stream, empty), never mismatch:
    the flag is meant to surface a photo renamed to `.dll`, not to flag every unknown file.
    """
    ext = extension_of(name)
    if not ext or filetype in (OCTET, EMPTY):
        return False
    if filetype is TEXT:
        return ext in _ALL_BINARY_EXTENSIONS
    return ext not in filetype.extensions


_ALL_BINARY_EXTENSIONS = frozenset().union(
    *(
        t.extensions
        for t in (
            JPEG, PNG, GIF, BMP, WEBP, TIFF, HEIC, ZIP, TAR, ANDROID_BACKUP, GZIP, BZIP2, XZ,
            SEVEN_ZIP,
            PDF, MP4, AVI, MKV, WEBM, ASF, FLV, WAV, MP3, OGG, SQLITE, ELF, PE, OLE, RAR,
        )
    )
)  # fmt: skip
