"""Putting folders and files into the empty APFS container apfsprogs' mkapfs makes.

Nothing in Debian writes files into APFS without the apfs kernel module, so the tests add them
here: the first volume's file-system tree (a single root leaf node in mkapfs's empty volume) is
read, inode, directory, data-stream and file-extent records are added in key order, and the node
is written back in place under the same object ID and transaction, with its Fletcher-64
checksum; the files' bytes go into blocks at the end of the container, marked used in the space
manager's bitmap and owned in the volume's extent-reference tree (a small file may instead be
zlib-compressed into its decmpfs extended attribute). The result is only trusted because
apfsprogs' apfsck accepts it and two independent readers — libfsapfs, and The Sleuth Kit's
fls/icat — read it back the same (see test_apple_file_systems.py).

Structures as Apple's File System Reference names them: every object starts with obj_phys_t
(checksum, oid, xid, type, subtype); a B-tree node (btree_node_phys_t) has a table of contents
(kvloc_t: key offset/length, value offset/length), keys growing up from after the table and values
growing down from the end of the node (before btree_info_t in a root node); a file-system key
starts with j_key_t (object ID in the low 60 bits, record type in the high 4).
"""

from __future__ import annotations

import struct
import unicodedata
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

BLOCK = 4096
_OBJ = 32  # obj_phys_t
_NODE_HEADER = _OBJ + 24  # btree_node_phys_t before btn_data
_BTREE_INFO = 40  # btree_info_t at the end of a root node
_ROOT, _LEAF, _FIXED = 1, 2, 4  # btn_flags

# j_obj_types
_INODE, _XATTR, _DSTREAM_ID, _FILE_EXTENT, _DIR_REC = 3, 4, 6, 8, 9
_XATTR_DATA_EMBEDDED = 0x02
_DECMPFS_XATTR = "com.apple.decmpfs"
_DECMPFS_ZLIB_XATTR = 3
_UF_COMPRESSED = 0x20
# x_field_t types and flags (inode extended fields)
_XF_NAME, _XF_DSTREAM = 4, 8
_XF_DO_NOT_COPY, _XF_SYSTEM_FIELD = 0x02, 0x20
_DT_DIR, _DT_REG = 4, 8
_S_IFDIR, _S_IFREG = 0o040000, 0o100000
_ROOT_DIR = 2
_CHECKPOINT_MAP = 0x0C
_PHYS_EXTENT, _KIND_NEW = 2, 1
_FIRST_FREE_OID = 16  # object IDs below are reserved
_INCOMPAT_CASE_INSENSITIVE = 0x1


def fletcher64(block: bytes) -> int:
    """APFS object checksum: Fletcher-64 over the object's 32-bit little-endian words after
    the checksum field itself."""
    words = struct.unpack(f"<{(len(block) - 8) // 4}I", block[8:])
    low = high = 0
    for word in words:
        low = (low + word) % 0xFFFFFFFF
        high = (high + low) % 0xFFFFFFFF
    check_low = 0xFFFFFFFF - ((low + high) % 0xFFFFFFFF)
    check_high = 0xFFFFFFFF - ((low + check_low) % 0xFFFFFFFF)
    return (check_high << 32) | check_low


def _with_checksum(block: bytearray) -> bytes:
    block[0:8] = fletcher64(bytes(block)).to_bytes(8, "little")
    return bytes(block)


def _crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), reflected, initial value all ones, no final complement: what
    APFS hashes directory entry names with."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc


def name_hash(name: str, *, case_insensitive: bool) -> int:
    """The 22-bit hash of a directory entry's name: CRC-32C of its UTF-32LE code points after
    canonical decomposition (NFD; case-folded on a case-insensitive volume)."""
    folded = name.casefold() if case_insensitive else name
    text = unicodedata.normalize("NFD", folded)
    return _crc32c(text.encode("utf-32-le")) & 0x3FFFFF


@dataclass(frozen=True)
class _Layout:
    tree_block: int  # the file-system tree's root node, in blocks
    volume_block: int  # the volume superblock
    case_insensitive: bool
    next_oid: int
    block_count: int
    extentref_block: int  # the volume's extent-reference tree (a physical object)


def _u64(data: bytes | bytearray, at: int) -> int:
    return int.from_bytes(data[at : at + 8], "little")


def _u32(data: bytes | bytearray, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "little")


class _Blocks:
    """The container's blocks, read and written in place (the image stays sparse)."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("r+b")

    def read(self, block: int) -> bytearray:
        self._file.seek(block * BLOCK)
        data = bytearray(self._file.read(BLOCK))
        assert len(data) == BLOCK, f"block {block} beyond the container"
        return data

    def write(self, offset: int, data: bytes) -> None:
        self._file.seek(offset)
        self._file.write(data)

    def close(self) -> None:
        self._file.close()


def _omap_lookup(blocks: _Blocks, omap_block: int, oid: int) -> int:
    """The physical block of virtual object `oid` in the object map at `omap_block` (a single
    root leaf with fixed-size entries, as mkapfs writes it)."""
    node = blocks.read(_u64(blocks.read(omap_block), 48))
    flags, _level, count = struct.unpack_from("<HHI", node, _OBJ)
    assert flags & _LEAF and flags & _FIXED, "object map deeper than one leaf"
    toc_off, toc_len = struct.unpack_from("<HH", node, _OBJ + 8)
    keys = _NODE_HEADER + toc_off + toc_len
    values_end = BLOCK - (_BTREE_INFO if flags & _ROOT else 0)
    for i in range(count):
        k, v = struct.unpack_from("<HH", node, _NODE_HEADER + toc_off + 4 * i)
        key_oid, _xid = struct.unpack_from("<QQ", node, keys + k)
        if key_oid == oid:
            _flags, _size, paddr = struct.unpack_from("<IIQ", node, values_end - v)
            return int(paddr)
    raise KeyError(f"object {oid} not in the object map")


def _layout(blocks: _Blocks) -> _Layout:
    nx = blocks.read(0)
    assert nx[32:36] == b"NXSB" and _u32(nx, 36) == BLOCK, "not an APFS container"
    volume_block = _omap_lookup(blocks, _u64(nx, 160), _u64(nx, 184))  # nx_fs_oid[0]
    apsb = blocks.read(volume_block)
    assert apsb[32:36] == b"APSB"
    tree_block = _omap_lookup(blocks, _u64(apsb, 128), _u64(apsb, 136))
    return _Layout(
        tree_block,
        volume_block,
        bool(_u64(apsb, 56) & _INCOMPAT_CASE_INSENSITIVE),
        _u64(apsb, 176),
        _u64(nx, 40),
        _u64(apsb, 144),
    )


def _read_leaf(node: bytes) -> list[tuple[bytes, bytes]]:
    flags, level, count = struct.unpack_from("<HHI", node, _OBJ)
    assert flags & _ROOT and flags & _LEAF and level == 0, "B-tree deeper than one leaf"
    toc_off, toc_len = struct.unpack_from("<HH", node, _OBJ + 8)
    keys = _NODE_HEADER + toc_off + toc_len
    values_end = BLOCK - _BTREE_INFO
    records = []
    for i in range(count):
        k_off, k_len, v_off, v_len = struct.unpack_from("<HHHH", node, _NODE_HEADER + 8 * i)
        records.append(
            (
                bytes(node[keys + k_off : keys + k_off + k_len]),
                bytes(node[values_end - v_off : values_end - v_off + v_len]),
            )
        )
    return records


def _sort_key(key: bytes) -> tuple[int, int, int, bytes]:
    head = _u64(key, 0)
    oid, kind = head & 0x0FFFFFFFFFFFFFFF, head >> 60
    if kind == _DIR_REC:
        return (oid, kind, _u32(key, 8) >> 10, key[12:])  # by name hash, then name
    if kind == _FILE_EXTENT:
        return (oid, kind, _u64(key, 8), b"")
    return (oid, kind, 0, key[8:])


def _write_leaf(node: bytearray, records: list[tuple[bytes, bytes]]) -> None:
    """Lay `records` (sorted) into the root leaf `node`: table of contents, keys, values."""
    toc_len = max(struct.unpack_from("<H", node, _OBJ + 10)[0], 8 * len(records))
    keys_at = _NODE_HEADER + toc_len
    values_end = BLOCK - _BTREE_INFO
    toc = bytearray()
    key_area = bytearray()
    value_area = bytearray()
    for key, value in records:
        value_area[:0] = value  # values grow down from the end
        toc += struct.pack("<HHHH", len(key_area), len(key), len(value_area), len(value))
        key_area += key
    free = values_end - len(value_area) - keys_at - len(key_area)
    assert free >= 0, "the records do not fit in one node"
    body = bytearray(BLOCK - _BTREE_INFO - _NODE_HEADER)
    body[: len(toc)] = toc
    body[toc_len : toc_len + len(key_area)] = key_area
    body[len(body) - len(value_area) :] = value_area
    node[_NODE_HEADER : BLOCK - _BTREE_INFO] = body
    struct.pack_into("<I", node, _OBJ + 4, len(records))
    # table space, free space, key free list, value free list (none: all packed)
    struct.pack_into(
        "<HHHHHHHH", node, _OBJ + 8, 0, toc_len, len(key_area), free, 0xFFFF, 0, 0xFFFF, 0
    )
    info = BLOCK - _BTREE_INFO
    longest_key = max(_u32(node, info + 16), *(len(k) for k, _ in records))
    longest_value = max(_u32(node, info + 20), *(len(v) for _, v in records))
    struct.pack_into("<IIQ", node, info + 16, longest_key, longest_value, len(records))


def _inode_key(oid: int) -> bytes:
    return struct.pack("<Q", oid | (_INODE << 60))


def _inode_value(
    parent: int,
    oid: int,
    mode: int,
    *,
    name: str,
    times_ns: int,
    size: int | None,
    bsd_flags: int = 0,
) -> bytes:
    """j_inode_val_t, then its extended fields: the name, and a data stream for a file."""
    fields = [(_XF_NAME, _XF_DO_NOT_COPY, name.encode() + b"\0")]
    if size is not None:
        allocated = -(-size // BLOCK) * BLOCK
        # j_dstream_t: size, allocated size, crypto ID, bytes written, bytes read
        fields.append(
            (_XF_DSTREAM, _XF_SYSTEM_FIELD, struct.pack("<QQQQQ", size, allocated, 0, size, 0))
        )
    headers = b"".join(struct.pack("<BBH", t, f, len(d)) for t, f, d in fields)
    data = b"".join(d + b"\0" * (-len(d) % 8) for _, _, d in fields)
    value = struct.pack(
        "<QQQQQQQiIIIIIHHQ",
        parent,
        oid,  # private ID: the data stream's ID, the inode's own
        times_ns,  # created
        times_ns,  # modified
        times_ns,  # changed
        times_ns,  # accessed
        0,  # internal flags
        1,  # links (a folder's children: set by the caller)
        0,  # protection class
        0,  # write generation
        bsd_flags,
        0,  # owner (root)
        0,  # group
        mode,
        0,
        0,  # uncompressed size (unused)
    )
    return value + struct.pack("<HH", len(fields), len(data)) + headers + data


def _drec_key(parent: int, name: str, *, case_insensitive: bool) -> bytes:
    encoded = name.encode() + b"\0"
    hashed = (name_hash(name, case_insensitive=case_insensitive) << 10) | len(encoded)
    return struct.pack("<QI", parent | (_DIR_REC << 60), hashed) + encoded


@dataclass(frozen=True)
class ApfsFile:
    path: str  # inside the volume, "/" separated
    inode: int
    extents: list[tuple[int, int]]  # (first block, blocks) in file order; none when empty
    data: bytes

    @property
    def offset(self) -> int:
        """Where its bytes start in the container (0 for an empty file)."""
        return self.extents[0][0] * BLOCK if self.extents else 0


def _add_physical_extents(blocks: _Blocks, tree_block: int, added: list[ApfsFile]) -> None:
    """The volume's extent-reference tree records who owns each physical extent
    (j_phys_ext_key_t: the first block, type 2; j_phys_ext_val_t: length in blocks with kind
    NEW in the top bits, owning data stream, reference count)."""
    node = blocks.read(tree_block)
    records = _read_leaf(bytes(node))
    for f in added:
        for first, count in f.extents:
            records.append(
                (
                    struct.pack("<Q", first | (_PHYS_EXTENT << 60)),
                    struct.pack("<QQi", count | (_KIND_NEW << 60), f.inode, 1),
                )
            )
    _write_leaf(node, sorted(records, key=lambda r: _sort_key(r[0])))
    blocks.write(tree_block * BLOCK, _with_checksum(node))


def spaceman_block(container: Path) -> int:
    """The block of the container's space manager (for tests that damage it)."""
    blocks = _Blocks(container)
    try:
        return _spaceman_block(blocks)
    finally:
        blocks.close()


def _spaceman_block(blocks: _Blocks) -> int:
    nx = blocks.read(0)
    checkpoint = blocks.read(_u64(nx, 112) + _u32(nx, 136))  # nx_xp_desc_base + index
    assert _u32(checkpoint, 24) & 0xFFFF == _CHECKPOINT_MAP
    mappings = [
        struct.unpack_from("<IIIIQQQ", checkpoint, 40 + 40 * i) for i in range(_u32(checkpoint, 36))
    ]
    [block] = [m[6] for m in mappings if m[5] == _u64(nx, 152)]  # nx_spaceman_oid
    return int(block)


def _allocate(blocks: _Blocks, first: int, count: int) -> None:
    """Mark blocks [first, first + count) used in the space manager: the checkpoint map's
    space manager (spaceman_phys_t), its chunk-info block (one, as in a small container) and
    that chunk's bitmap (one bit a block, lowest bit first; the bitmap has no object header)."""
    spaceman_block = _spaceman_block(blocks)
    spaceman = blocks.read(spaceman_block)
    assert _u32(spaceman, 64) == 1, "more than one chunk-info block"
    cib_block = _u64(spaceman, _u32(spaceman, 80))
    cib = blocks.read(cib_block)
    for i in range(_u32(cib, 36)):
        at = 40 + 32 * i  # chunk_info_t: xid, first block, blocks, free, bitmap block
        start, size, free, bitmap_block = struct.unpack_from("<QIIQ", cib, at + 8)
        if start <= first and first + count <= start + size:
            break
    else:
        raise AssertionError("the blocks span chunks")
    bitmap = blocks.read(bitmap_block)
    for block in range(first - start, first - start + count):
        assert not bitmap[block // 8] & (1 << (block % 8)), "block already in use"
        bitmap[block // 8] |= 1 << (block % 8)
    blocks.write(bitmap_block * BLOCK, bytes(bitmap))
    struct.pack_into("<I", cib, at + 20, free - count)
    blocks.write(cib_block * BLOCK, _with_checksum(cib))
    struct.pack_into("<Q", spaceman, 72, _u64(spaceman, 72) - count)  # sm_dev[main].free
    blocks.write(spaceman_block * BLOCK, _with_checksum(spaceman))


def add_files(
    container: Path,
    files: dict[str, bytes],
    *,
    times_ns: int,
    fragmented: Collection[str] = (),
    compressed: Collection[str] = (),
) -> list[ApfsFile]:
    """Add `files` (path -> bytes; folders made as needed) to the first volume of the empty
    APFS `container` made by mkapfs; returns where each file went. The files' bytes go into the
    last blocks of the container, one file after the other; a file named in `fragmented` (of two
    blocks or more) is written as two extents with a free block between them; one named in
    `compressed` is stored zlib-compressed in its decmpfs extended attribute, as macOS stores
    small compressed files (it must fit in the node)."""
    blocks = _Blocks(container)
    try:
        return _add_files(blocks, files, times_ns, set(fragmented), set(compressed))
    finally:
        blocks.close()


def _add_files(
    blocks: _Blocks,
    files: dict[str, bytes],
    times_ns: int,
    fragmented: set[str],
    compressed: set[str],
) -> list[ApfsFile]:
    layout = _layout(blocks)
    node = blocks.read(layout.tree_block)
    assert fletcher64(bytes(node)) == _u64(node, 0), "file-system tree checksum"
    records = _read_leaf(bytes(node))
    case_insensitive = layout.case_insensitive

    next_oid = max(layout.next_oid, _FIRST_FREE_OID)
    folders: dict[str, int] = {"": _ROOT_DIR}
    children: dict[int, int] = {}
    added: list[ApfsFile] = []
    new: list[tuple[bytes, bytes]] = []

    def pieces(path: str, data: bytes) -> list[int]:
        count = -(-len(data) // BLOCK)
        if path in compressed:
            return []
        return [count // 2, count - count // 2] if path in fragmented and count > 1 else [count]

    needed = sum(sum(pieces(p, d)) + max(len(pieces(p, d)) - 1, 0) for p, d in files.items())
    data_block = layout.block_count - 1 - needed

    def entry(parent: int, name: str, oid: int, kind: int) -> None:
        key = _drec_key(parent, name, case_insensitive=case_insensitive)
        new.append((key, struct.pack("<QQH", oid, times_ns, kind)))  # j_drec_val_t
        children[parent] = children.get(parent, 0) + 1

    for path, data in sorted(files.items()):
        *parts, name = path.split("/")
        parent = _ROOT_DIR
        for depth in range(len(parts)):
            folder = "/".join(parts[: depth + 1])
            if folder not in folders:
                folders[folder] = next_oid
                entry(parent, parts[depth], next_oid, _DT_DIR)
                next_oid += 1
            parent = folders[folder]
        oid = next_oid
        next_oid += 1
        entry(parent, name, oid, _DT_REG)
        mode = _S_IFREG | 0o644
        if path in compressed:
            # No data stream: the bytes, zlib-compressed, live in the com.apple.decmpfs
            # extended attribute (decmpfs header: "fpmc", type 3 = zlib inline, full size).
            value = _inode_value(
                parent, oid, mode, name=name, times_ns=times_ns, size=None, bsd_flags=_UF_COMPRESSED
            )
            new.append((_inode_key(oid), value))
            decmpfs = b"fpmc" + struct.pack("<IQ", _DECMPFS_ZLIB_XATTR, len(data))
            decmpfs += zlib.compress(data, 9)
            attribute = _DECMPFS_XATTR.encode() + b"\0"
            new.append(
                (
                    struct.pack("<QH", oid | (_XATTR << 60), len(attribute)) + attribute,
                    struct.pack("<HH", _XATTR_DATA_EMBEDDED, len(decmpfs)) + decmpfs,
                )
            )
            added.append(ApfsFile(path, oid, [], data))
            continue
        new.append(
            (
                _inode_key(oid),
                _inode_value(parent, oid, mode, name=name, times_ns=times_ns, size=len(data)),
            )
        )
        # A data stream (j_dstream_id: its reference count), an empty file's too.
        new.append((struct.pack("<Q", oid | (_DSTREAM_ID << 60)), struct.pack("<I", 1)))
        extents = []
        logical = 0
        for count in pieces(path, data) if data else []:
            new.append(
                (
                    struct.pack("<QQ", oid | (_FILE_EXTENT << 60), logical * BLOCK),
                    struct.pack("<QQQ", count * BLOCK, data_block, 0),  # length, block, crypto
                )
            )
            blocks.write(data_block * BLOCK, data[logical * BLOCK : (logical + count) * BLOCK])
            extents.append((data_block, count))
            logical += count
            data_block += count + 1  # the next extent after a free block
        data_block -= 1 if extents else 0
        added.append(ApfsFile(path, oid, extents, data))
    for folder, oid in folders.items():
        if oid != _ROOT_DIR:
            parent_path, _, name = folder.rpartition("/")
            value = _inode_value(
                folders[parent_path], oid, _S_IFDIR | 0o755, name=name, times_ns=times_ns, size=None
            )
            value = value[:56] + struct.pack("<i", children.get(oid, 0)) + value[60:]
            new.append((_inode_key(oid), value))
    for i, (key, value) in enumerate(records):
        if key == _inode_key(_ROOT_DIR):  # the root folder counts its new children
            count = struct.unpack_from("<i", value, 56)[0] + children.get(_ROOT_DIR, 0)
            records[i] = (key, value[:56] + struct.pack("<i", count) + value[60:])
    _write_leaf(node, sorted(records + new, key=lambda r: _sort_key(r[0])))
    blocks.write(layout.tree_block * BLOCK, _with_checksum(node))

    _add_physical_extents(blocks, layout.extentref_block, added)
    used = 0
    for f in added:
        for first, count in f.extents:
            _allocate(blocks, first, count)
            used += count
    volume = blocks.read(layout.volume_block)  # next object ID, file/folder/block counts
    struct.pack_into("<Q", volume, 88, _u64(volume, 88) + used)
    struct.pack_into("<Q", volume, 176, next_oid)
    struct.pack_into("<Q", volume, 184, _u64(volume, 184) + len(files))
    struct.pack_into("<Q", volume, 192, _u64(volume, 192) + len(folders) - 1)
    blocks.write(layout.volume_block * BLOCK, _with_checksum(volume))
    return added
