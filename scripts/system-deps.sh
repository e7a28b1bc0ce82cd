#!/usr/bin/env bash
# Debian packages the tests and benchmarks need: Chromium for browser tests, hashdeep as the
# triage baseline, 7z to build test archives, gettext to compile translations, Noto fonts so
# that screenshots of Urdu pages show Urdu letters; and the tools that build disk images in the
# triage tests and give the Sleuth Kit baseline (sleuthkit, ewf-tools, dosfstools, mtools,
# ntfs-3g, qemu-utils, e2fsprogs, gdisk, fdisk, exfatprogs; xorriso writes the HFS+ volume of
# a hybrid ISO, apfsprogs' mkapfs an empty APFS container and apfsck checks the one the tests
# fill: Debian has no mkfs.hfsplus, and the hfsplus package's tools corrupt volumes on amd64).
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v hashdeep >/dev/null || need+=(hashdeep)
command -v 7z >/dev/null || need+=(p7zip-full)
command -v msgfmt >/dev/null || need+=(gettext)
command -v fls >/dev/null || need+=(sleuthkit)
command -v ewfacquirestream >/dev/null || need+=(ewf-tools)
command -v mkfs.vfat >/dev/null || need+=(dosfstools)
command -v mcopy >/dev/null || need+=(mtools)
command -v ntfscp >/dev/null || need+=(ntfs-3g)
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v mke2fs >/dev/null || need+=(e2fsprogs)
command -v sgdisk >/dev/null || need+=(gdisk)
command -v sfdisk >/dev/null || need+=(fdisk)
command -v mkfs.exfat >/dev/null || need+=(exfatprogs)
command -v xorriso >/dev/null || need+=(xorriso)
command -v mkapfs >/dev/null || [ -x /usr/sbin/mkapfs ] || need+=(apfsprogs)
if command -v dpkg >/dev/null; then dpkg -s fonts-noto-core >/dev/null 2>&1 || need+=(fonts-noto-core); fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "Please install: ${need[*]} (Debian/Ubuntu: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
echo "Installing ${need[*]} from Debian…"
# Wait for another apt run (a second checkout's `make test`) instead of failing on its lock.
lock=(-o DPkg::Lock::Timeout=600)
apt-get "${lock[@]}" update -qq
DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" install -y -qq "${need[@]}" >/dev/null
