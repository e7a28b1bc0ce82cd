"""Building small, real disk images for the tests with Debian's tools (nothing is downloaded).

File systems are made without mounting (mkfs.vfat + mtools, mke2fs -d, mkntfs + ntfscp), laid
into an MBR or GPT disk with dd, and wrapped as E01 (ewfacquirestream), VMDK/VHD/VHDX/QCOW2
(qemu-img) or split raw. `tsk_files` is the reference: every allocated file as The Sleuth Kit's
fls/icat extract it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from muhafiz.triage.sources.diskimage import noatime_file
from muhafiz.triage.tests.media import jpeg_bytes, png_bytes, scene

if TYPE_CHECKING:
    from muhafiz.triage.tests.conftest import ScanResult

MiB = 1024 * 1024
SECTOR = 512
TOOLS = (
    "mkfs.vfat", "mcopy", "mdel", "mmd", "mke2fs", "debugfs", "mkntfs", "ntfscp", "sfdisk",
    "sgdisk", "ewfacquirestream", "qemu-img", "fls", "icat",
)  # fmt: skip


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def allocated(result: ScanResult, prefix: str) -> dict[str, dict[str, Any]]:
    """The scan's allocated files under `prefix` (an image's partition: `laptop.E01!p1/`), as
    The Sleuth Kit's `tsk_files` lists them: regular files, neither deleted nor carved, not
    archive members."""
    return {
        path: row
        for path, row in result.files.items()
        if path.startswith(prefix)
        and row["kind"] == "file"
        and not row["deleted"]
        and not row["carved"]
        and row["parent"] is None
    }


def run(*args: str | Path, stdin: bytes | None = None) -> bytes:
    result = subprocess.run([str(a) for a in args], input=stdin, capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {result.stderr.decode(errors='replace')}")
    return result.stdout


def fat_fs(path: Path, size: int, bits: int, files: dict[str, bytes], delete: list[str]) -> Path:
    """A FAT12/16/32 file system with `files` (folders made as needed), then `delete` removed."""
    run("truncate", "-s", str(size), path)
    run("mkfs.vfat", "-F", str(bits), "-n", f"FAT{bits}", path)
    made: set[str] = set()
    staging = path.with_suffix(".staging")
    for name, data in files.items():
        parts = name.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder not in made:
                run("mmd", "-i", path, f"::/{folder}")
                made.add(folder)
        staging.write_bytes(data)
        run("mcopy", "-i", path, staging, f"::/{name}")
    staging.unlink(missing_ok=True)
    for name in delete:
        run("mdel", "-i", path, f"::/{name}")
    return path


def ext4_fs(path: Path, size: int, files: dict[str, bytes], delete: list[str]) -> Path:
    tree = path.with_suffix(".tree")
    for name, data in files.items():
        target = tree / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    run("truncate", "-s", str(size), path)
    run("mke2fs", "-q", "-F", "-t", "ext4", "-d", tree, path)
    shutil.rmtree(tree)
    for name in delete:
        run("debugfs", "-w", "-R", f"rm /{name}", path)
    return path


def ntfs_fs(
    path: Path, size: int, files: dict[str, bytes], streams: dict[tuple[str, str], bytes]
) -> Path:
    """NTFS with files in the root and alternate data streams ((file, stream) -> bytes)."""
    run("truncate", "-s", str(size), path)
    run("mkntfs", "-q", "-F", "-Q", path)
    staging = path.with_suffix(".staging")
    for name, data in files.items():
        staging.write_bytes(data)
        run("ntfscp", "-q", path, staging, name)
    for (name, stream), data in streams.items():
        staging.write_bytes(data)
        run("ntfscp", "-q", "-N", stream, path, staging, name)
    staging.unlink(missing_ok=True)
    return path


class MountUnavailableError(Exception):
    """ntfs-3g (FUSE) cannot mount here: the test that needs a real deletion is skipped."""


def ntfs_with_deletions(path: Path, size: int, files: dict[str, bytes], delete: list[str]) -> Path:
    """NTFS in which files and folders were really deleted, as Windows deletes them: `files`
    written, then `delete` removed (a folder with everything in it). See `ntfs_worked`."""

    def work(mount: Path) -> None:
        for name, data in files.items():
            target = mount / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for name in delete:
            target = mount / name
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink()

    return ntfs_worked(path, size, work)


def ntfs_worked(path: Path, size: int, work: Callable[[Path], None]) -> Path:
    """NTFS made with mkntfs, then mounted with ntfs-3g (FUSE, user space), changed by
    `work(mount point)` as a user would change it, and unmounted. Raises MountUnavailableError
    where FUSE is not usable."""
    if shutil.which("ntfs-3g") is None or not Path("/dev/fuse").exists():
        raise MountUnavailableError("ntfs-3g or /dev/fuse missing")
    run("truncate", "-s", str(size), path)
    run("mkntfs", "-q", "-F", "-Q", path)
    mount = path.with_suffix(".mnt")
    mount.mkdir()
    daemon = subprocess.Popen(
        ["ntfs-3g", "-o", "no_detach", str(path), str(mount)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            if os.path.ismount(mount) or daemon.poll() is not None:
                break
            time.sleep(0.05)
        if not os.path.ismount(mount):
            raise MountUnavailableError(f"ntfs-3g did not mount: {daemon.communicate()[1]!r}")
        work(mount)
    finally:
        if os.path.ismount(mount):
            run("umount", mount)
        daemon.wait(timeout=60)  # ntfs-3g writes everything back before it exits
        mount.rmdir()
    return path


def tsk_deleted(raw: Path, start: int) -> dict[str, str | None]:
    """Deleted regular files as The Sleuth Kit lists them (`fls -r -d`, $OrphanFiles included):
    path -> SHA-256 of what icat extracts (None: icat finds no data to extract)."""
    listing = run("fls", "-r", "-d", "-p", "-o", str(start // SECTOR), raw)
    found: dict[str, str | None] = {}
    for line in listing.decode("utf-8", "surrogateescape").splitlines():
        kind, _, rest = line.partition(" ")
        if not kind.endswith("/r"):
            continue
        address, _, name = rest.removeprefix("* ").partition(":\t")
        try:
            data = run("icat", "-o", str(start // SECTOR), raw, address)
        except RuntimeError:
            found[name] = None
            continue
        found[name] = hashlib.sha256(data).hexdigest()
    return found


@dataclass(frozen=True)
class Part:
    fs: Path | None  # None: a partition left with whatever bytes `filler` says
    type_code: str  # MBR type (hex, e.g. "c") or GPT type code for sgdisk (e.g. "0700")
    size: int
    filler: bytes = b""


def disk(path: Path, parts: list[Part], *, gpt: bool = False, gap: int = MiB) -> list[int]:
    """Lay `parts` into a disk with an MBR or GPT; returns each partition's start in bytes.

    Partitions are `gap` bytes apart (1 MiB alignment, as partitioning tools leave it), so
    there is unpartitioned space between them to carve.
    """
    starts = []
    cursor = MiB
    for part in parts:
        starts.append(cursor)
        cursor += part.size + gap
    total = cursor + MiB  # room for the backup GPT
    run("truncate", "-s", str(total), path)
    if gpt:
        args: list[str | Path] = ["sgdisk", "-Z", path]
        run(*args)
        for number, (part, start) in enumerate(zip(parts, starts, strict=True), start=1):
            first, last = start // SECTOR, (start + part.size) // SECTOR - 1
            run("sgdisk", f"-n{number}:{first}:{last}", f"-t{number}:{part.type_code}", path)
    else:
        table = "label: dos\n" + "".join(
            f"start={start // SECTOR}, size={part.size // SECTOR}, type={part.type_code}\n"
            for part, start in zip(parts, starts, strict=True)
        )
        run("sfdisk", "-q", path, stdin=table.encode())
    with path.open("r+b") as out:
        for part, start in zip(parts, starts, strict=True):
            out.seek(start)
            if part.fs is not None:
                with part.fs.open("rb") as fs:
                    shutil.copyfileobj(fs, out, MiB)
            elif part.filler:
                out.write((part.filler * (part.size // len(part.filler) + 1))[: part.size])
    return starts


def write_at(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as out:
        out.seek(offset)
        out.write(data)


def to_e01(raw: Path, stem: Path, *, segment_bytes: int = 1024 * 1024) -> Path:
    """Wrap a raw image as EWF (E01, E02, ...), with MD5 and SHA-1 acquisition hashes."""
    with raw.open("rb") as data:
        subprocess.run(
            ["ewfacquirestream", "-q", "-t", str(stem), "-S", str(segment_bytes), "-c",
             "deflate:fast", "-d", "sha1", "-C", "TEST-CASE-1", "-e", "Test Examiner", "-D",
             "generated test disk", "-E", "EV-1", "-N", "generated"],
            stdin=data, capture_output=True, check=True,
        )  # fmt: skip
    return stem.with_name(stem.name + ".E01")


def to_qemu(raw: Path, out: Path, fmt: str) -> Path:
    run("qemu-img", "convert", "-f", "raw", "-O", fmt, raw, out)
    return out


def split_raw(raw: Path, stem: Path, piece: int) -> Path:
    data_size = raw.stat().st_size
    with raw.open("rb") as source:
        for n in range(1, (data_size + piece - 1) // piece + 1):
            stem.with_name(f"{stem.name}.{n:03d}").write_bytes(source.read(piece))
    return stem.with_name(f"{stem.name}.001")


@dataclass(frozen=True)
class TskFile:
    path: str  # as fls -p prints it
    address: str  # inode[-type-id], what icat takes
    md5: str
    sha1: str
    sha256: str


def tsk_files(raw: Path, start: int, *, apfs_block: int | None = None) -> list[TskFile]:
    """Every allocated regular file of the file system at byte `start`, hashed from icat; in
    an APFS container at `start`, of the volume whose superblock is at block `apfs_block`
    (see `tsk_apfs_volumes`)."""
    where = ["-o", str(start // SECTOR)]
    if apfs_block is not None:
        where += ["-P", "apfs", "-B", str(apfs_block)]
    listing = run("fls", "-r", "-p", "-u", "-F", *where, raw)
    found = []
    for line in listing.decode("utf-8", "surrogateescape").splitlines():
        kind, _, rest = line.partition(" ")
        if kind != "r/r":
            continue
        address, _, name = rest.partition(":\t")
        if name.endswith("(Volume Label Entry)"):
            continue
        try:
            data = run("icat", *where, raw, address)
        except RuntimeError:
            # An empty APFS file has no data attribute for icat to extract; istat says size 0.
            if "\nSize:\t0\n" not in run("istat", *where, raw, address).decode():
                raise
            data = b""
        found.append(
            TskFile(
                name,
                address,
                hashlib.md5(data).hexdigest(),  # noqa: S324 - forensic identity, not security
                hashlib.sha1(data).hexdigest(),  # noqa: S324
                hashlib.sha256(data).hexdigest(),
            )
        )
    return found


def tsk_apfs_volumes(raw: Path, start: int) -> dict[str, int]:
    """The volumes of the APFS container at byte `start` as The Sleuth Kit's pstat lists them:
    name -> block of the volume superblock (what fls and icat take as `-B`)."""
    volumes: dict[str, int] = {}
    block = None
    for raw_line in run("pstat", "-o", str(start // SECTOR), raw).decode().splitlines():
        line = raw_line.strip("| ")
        if line.startswith("APSB Block Number:"):
            block = int(line.split(":", 1)[1])
        elif line.startswith("Name (Role):") and block is not None:
            volumes[line.split(":", 1)[1].strip().rsplit(" (", 1)[0]] = block
    return volumes


def tsk_apfs_unallocated(raw: Path, start: int) -> list[tuple[int, int]]:
    """The container's free blocks as pstat lists them ("Unallocated Container Blocks", first
    and last block in hex), as byte ranges (offset from the container's start, length)."""
    text = run("pstat", "-o", str(start // SECTOR), raw).decode()
    block_size = int(text.split("Block Size:", 1)[1].split()[0])
    ranges = []
    for raw_line in text.split("Unallocated Container Blocks", 1)[1].splitlines():
        first, dash, last = raw_line.strip("|=+-> ").partition("-")
        if dash and first.startswith("0x"):
            ranges.append(
                (int(first, 16) * block_size, (int(last, 16) - int(first, 16) + 1) * block_size)
            )
    return ranges


def evidence_state(paths: list[Path]) -> dict[str, tuple[str, int, int]]:
    """Bytes (SHA-256), mtime and atime of each evidence file: must not change in a scan."""
    state = {}
    for path in paths:
        with noatime_file(path) as evidence:  # the check itself must not touch atime
            digest = hashlib.sha256(evidence.readall()).hexdigest()
        st = os.stat(path)  # noqa: PTH116 - nanosecond times
        state[path.name] = (digest, st.st_mtime_ns, st.st_atime_ns)
    return state


def picture(seed: int, *, png: bool = False) -> bytes:
    """A generated picture (shapes and noise, never a person)."""
    image = scene(seed, (320, 240))
    return png_bytes(image) if png else jpeg_bytes(image)


@dataclass
class SampleDisk:
    """The standard test disk: MBR, p1 FAT16 and p2 ext4, with deleted files, a JPEG written
    into FAT's free space and a PNG into the unpartitioned gap between the partitions."""

    raw: Path
    starts: list[int]
    files: dict[str, bytes]
    carved_jpeg: bytes
    carved_jpeg_offset: int
    carved_png: bytes
    carved_png_offset: int


def sample_disk(folder: Path) -> SampleDisk:
    folder.mkdir(parents=True, exist_ok=True)
    noise = hashlib.sha256(b"seed").digest() * (600_000 // 32)
    fat_files = {
        "a.txt": b"hello from FAT\n",
        "DCIM/pic1.jpg": picture(1),
        "DCIM/noise.bin": noise,
        "gone.jpg": picture(2),
    }
    ext_files = {
        "notes.txt": b"hello from ext4\n",
        "photos/pic3.png": picture(3, png=True),
        "photos/deep/noise.bin": noise[::-1],
        "erased.txt": b"this file is deleted with debugfs\n",
    }
    fat = fat_fs(folder / "p1.fat", 16 * MiB, 16, fat_files, ["gone.jpg"])
    ext = ext4_fs(folder / "p2.ext4", 12 * MiB, ext_files, ["erased.txt"])
    raw = folder / "disk.raw"
    starts = disk(raw, [Part(fat, "6", 16 * MiB), Part(ext, "83", 12 * MiB)])
    fat.unlink()
    ext.unlink()
    carved_jpeg = picture(4)
    jpeg_offset = starts[0] + 12 * MiB + 4096  # free clusters far after the few files
    write_at(raw, jpeg_offset, carved_jpeg)
    carved_png = picture(5, png=True)
    png_offset = starts[0] + 16 * MiB + 8192  # the gap between p1 and p2
    write_at(raw, png_offset, carved_png)
    files = {f"p1/{k}": v for k, v in fat_files.items()} | {
        f"p2/{k}": v for k, v in ext_files.items()
    }
    return SampleDisk(raw, starts, files, carved_jpeg, jpeg_offset, carved_png, png_offset)


def hfsplus_iso(folder: Path, files: dict[str, bytes], *, mtime: float | None = None) -> Path:
    """An ISO 9660 + HFS+ hybrid disc made by xorriso (`-hfsplus on`): an Apple Partition Map
    with 2048-byte blocks, an ISO 9660 tree and an HFS+ volume holding the same files. Debian has
    no mkfs.hfsplus; this is the one Debian tool here that writes HFS+ with files in it."""
    tree = folder / "hfs.tree"
    for name, data in files.items():
        target = tree / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if mtime is not None:
            os.utime(target, (mtime, mtime))
    iso = folder / "hybrid.iso"
    run("xorriso", "-outdev", iso, "-hfsplus", "on", "-map", tree, "/", "-commit")
    shutil.rmtree(tree)
    return iso


HFSPLUS_SIGNATURE = b"H+\x00\x04"


def hfsplus_volume(iso: Path, out: Path) -> Path:
    """The HFS+ volume cut out of xorriso's hybrid ISO: it starts 1024 bytes before its volume
    header's signature (`H+`, version 4) and is as long as the header says (blocks × block
    size)."""
    data = iso.read_bytes()
    header = data.find(HFSPLUS_SIGNATURE)
    assert header >= 1024 and (header - 1024) % SECTOR == 0, "no HFS+ volume header in the ISO"
    block_size = int.from_bytes(data[header + 40 : header + 44], "big")
    blocks = int.from_bytes(data[header + 44 : header + 48], "big")
    start = header - 1024
    out.write_bytes(data[start : start + block_size * blocks])
    return out


def apfs_container(path: Path, size: int, label: str) -> Path:
    """An empty APFS container with one volume (apfsprogs' mkapfs; 128 MiB at least), sparse.
    Only a kernel module (apfs-dkms) writes APFS files; `apfsbuild.add_files` adds some."""
    run("truncate", "-s", str(size), path)
    run(shutil.which("mkapfs") or "/usr/sbin/mkapfs", "-L", label, path)
    return path


def hfsplus_resource_fork(volume: Path, owner: str, donor: str) -> None:
    """Give the file `owner` (in the root of the HFS+ `volume`) a resource fork: its catalog
    record's resource-fork data (size, blocks, extents) set to those of `donor`'s data fork, in
    place. No Debian tool writes a resource fork (xorriso writes data forks only, there is no
    mkfs.hfsplus/hfsprogs, and the kernel here has no hfsplus driver to mount one), so the
    catalog record is edited: HFS+ volume header at 1024 (block size at +40, the catalog file's
    fork data at +0x110), a file record is its key (length, parent ID, UTF-16BE name) then the
    record: type 2, 88 bytes of dates and Finder info, the data fork (80 bytes), the resource
    fork (80 bytes)."""
    data = bytearray(volume.read_bytes())
    block_size = int.from_bytes(data[1024 + 40 : 1024 + 44], "big")
    first_block = int.from_bytes(data[1024 + 0x110 + 16 : 1024 + 0x110 + 20], "big")
    catalog_size = int.from_bytes(data[1024 + 0x110 : 1024 + 0x110 + 8], "big")
    catalog = first_block * block_size

    def record(name: str) -> int:
        key_tail = len(name).to_bytes(2, "big") + name.encode("utf-16-be")
        at = data.find(key_tail, catalog, catalog + catalog_size)
        assert at > 0, f"{name} not in the catalog's first extent"
        key = at - 6  # key length (2), parent ID (4), then the name
        start = key + 2 + int.from_bytes(data[key : key + 2], "big")
        assert data[start : start + 2] == b"\x00\x02", f"{name}: not a file record"
        return start

    donor_fork = bytes(data[record(donor) + 88 : record(donor) + 168])
    owner_at = record(owner)
    data[owner_at + 168 : owner_at + 248] = donor_fork
    volume.write_bytes(bytes(data))


def hfsplus_delete(volume: Path, name: str) -> list[tuple[int, int]]:
    """Delete the file `name` (a path in the HFS+ `volume`) as HFS+ deletes one: its file
    record and its thread record leave the catalog B-tree, its parent folder counts one item
    less, its blocks are marked free in the allocation file and the volume header counts them
    free; the data itself stays where it was. Returns the freed extents as (byte offset, bytes).

    No Debian tool deletes from HFS+ here: the hfsplus package's tools (libhfsp 1.0.4) write
    a broken volume header and broken catalog nodes on amd64 (their 64-bit fields are stored
    short), there is no kernel driver to mount one, and xorriso only writes whole discs. So
    the records are removed here, on a small volume whose catalog is one leaf node (B-tree
    depth 1, as xorriso writes it for a few files). The Sleuth Kit, an independent reader,
    must then list the volume without the file (see the tests).

    Catalog node: descriptor (forward link, back link, kind, height, record count), records,
    and at the node's end the records' offsets counted backwards. A leaf record is its key
    (length, parent ID, UTF-16BE name) and data starting with its type: 1 folder (valence at
    +4, ID at +8), 2 file (ID at +8, data fork at +88), 3/4 folder/file thread."""
    data = bytearray(volume.read_bytes())
    header = 1024
    block_size = int.from_bytes(data[header + 40 : header + 44], "big")

    def fork_extents(at: int) -> list[tuple[int, int]]:
        found = []
        for n in range(8):
            first = int.from_bytes(data[at + 16 + 8 * n : at + 20 + 8 * n], "big")
            count = int.from_bytes(data[at + 20 + 8 * n : at + 24 + 8 * n], "big")
            if count:
                found.append((first, count))
        return found

    [(catalog_block, catalog_blocks)] = fork_extents(header + 0x110)
    catalog = catalog_block * block_size
    node_size = int.from_bytes(data[catalog + 14 + 18 : catalog + 14 + 20], "big")
    depth = int.from_bytes(data[catalog + 14 : catalog + 16], "big")
    root = int.from_bytes(data[catalog + 16 : catalog + 20], "big")
    assert depth == 1, "hfsplus_delete edits a catalog of one leaf node only"
    assert (root + 1) * node_size <= catalog_blocks * block_size
    leaf = catalog + root * node_size

    def records() -> list[tuple[int, int, bytes, int]]:
        """(record start, key's parent ID, key's name as UTF-16BE, data start) of each."""
        count = int.from_bytes(data[leaf + 10 : leaf + 12], "big")
        found = []
        for i in range(count):
            end = leaf + node_size - 2 * (i + 1)
            at = leaf + int.from_bytes(data[end : end + 2], "big")
            key_length = int.from_bytes(data[at : at + 2], "big")
            parent = int.from_bytes(data[at + 2 : at + 6], "big")
            name_length = int.from_bytes(data[at + 6 : at + 8], "big")
            found.append(
                (at, parent, bytes(data[at + 8 : at + 8 + 2 * name_length]), at + 2 + key_length)
            )
        return found

    def lookup(parent: int, part: str) -> int:
        for _, key_parent, key_name, body in records():
            if key_parent == parent and key_name == part.encode("utf-16-be"):
                return body
        raise KeyError(name)

    def item_id(body: int) -> int:
        return int.from_bytes(data[body + 8 : body + 12], "big")

    parent = 2  # the root folder's ID
    *folders, leaf_name = name.split("/")
    for part in folders:
        parent = item_id(lookup(parent, part))
    body = lookup(parent, leaf_name)
    assert data[body : body + 2] == b"\x00\x02", f"{name}: not a file"
    file_id = item_id(body)
    freed = fork_extents(body + 88)

    def remove(index: int) -> None:
        count = int.from_bytes(data[leaf + 10 : leaf + 12], "big")
        offsets = [
            int.from_bytes(data[leaf + node_size - 2 * (i + 1) : leaf + node_size - 2 * i], "big")
            for i in range(count + 1)  # the last: where free space starts
        ]
        gone = offsets[index + 1] - offsets[index]
        tail = bytes(data[leaf + offsets[index + 1] : leaf + offsets[count]])
        data[leaf + offsets[index] : leaf + offsets[index] + len(tail)] = tail
        data[leaf + offsets[count] - gone : leaf + offsets[count]] = bytes(gone)
        kept = offsets[:index] + [o - gone for o in offsets[index + 1 :]]
        data[leaf + node_size - 2 * (count + 1) : leaf + node_size] = bytes(2 * (count + 1))
        for i, offset in enumerate(kept):
            at = leaf + node_size - 2 * (i + 1)
            data[at : at + 2] = offset.to_bytes(2, "big")
        data[leaf + 10 : leaf + 12] = (count - 1).to_bytes(2, "big")

    for key in ((parent, leaf_name.encode("utf-16-be")), (file_id, b"")):
        [index] = [i for i, r in enumerate(records()) if (r[1], r[2]) == key]
        remove(index)
    leaf_records = catalog + 14 + 6
    count = int.from_bytes(data[leaf_records : leaf_records + 4], "big")
    data[leaf_records : leaf_records + 4] = (count - 2).to_bytes(4, "big")
    for _, _, _, folder in records():
        if data[folder : folder + 2] == b"\x00\x01" and item_id(folder) == parent:
            valence = int.from_bytes(data[folder + 4 : folder + 8], "big")
            data[folder + 4 : folder + 8] = (valence - 1).to_bytes(4, "big")

    [(bitmap_block, _), *_] = fork_extents(header + 0x70)
    bitmap = bitmap_block * block_size
    for first, count in freed:
        for block in range(first, first + count):
            data[bitmap + block // 8] &= ~(0x80 >> (block % 8)) & 0xFF
    free = int.from_bytes(data[header + 48 : header + 52], "big")
    data[header + 48 : header + 52] = (free + sum(c for _, c in freed)).to_bytes(4, "big")
    files = int.from_bytes(data[header + 32 : header + 36], "big")
    data[header + 32 : header + 36] = (files - 1).to_bytes(4, "big")
    data[len(data) - 1024 : len(data) - 512] = data[header : header + 512]  # the backup header
    volume.write_bytes(bytes(data))
    return [(first * block_size, count * block_size) for first, count in freed]
