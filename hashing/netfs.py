"""Is a file on a network filesystem? For ``connect_db``'s journal mode choice.

SQLite's WAL journal needs shared memory (the ``-shm`` file, mmap'ed) and working locks, so
it is only safe when every process is on one host and the filesystem supports both; on
NFS, CIFS/SMB or FUSE mounts a rollback journal (``DELETE``) is the safe choice. Rented GPU
boxes often keep ComfyUI, and so its user folder and the store, on such a volume.

On Linux the answer comes from ``/proc/mounts`` (the mount with the longest mount point
that holds the file's real directory; ``os.statvfs`` has no filesystem type). Elsewhere
(macOS, Windows) nothing is detected and WAL stays.
"""

import os

MOUNTS = "/proc/mounts"
#: filesystem types (as in /proc/mounts) that are network or FUSE mounts; ``fuse.*`` too
NETWORK_TYPES = frozenset(
    "nfs nfs4 cifs smb smb3 smbfs fuse 9p ceph glusterfs lustre gpfs afs davfs ncpfs beegfs".split()
)


def network_fs_type(path) -> str | None:
    """The network filesystem type under ``path`` (e.g. "nfs4", "fuse.sshfs"), or None when
    it is local or cannot be told."""
    directory = os.path.dirname(os.path.realpath(os.fspath(path)))
    best, best_type = "", None
    try:
        with open(MOUNTS, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        mount_point, fs_type = _unescape(parts[1]), parts[2]
        inside = directory == mount_point or directory.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, best_type = mount_point, fs_type
    if best_type is not None and (best_type in NETWORK_TYPES or best_type.startswith("fuse.")):
        return best_type
    return None


def _unescape(field: str) -> str:
    r"""/proc/mounts writes a space as ``\040``, a tab as ``\011``, a backslash as ``\134``."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        chunk = field[i + 1 : i + 4]
        if field[i] == "\\" and len(chunk) == 3 and all(c in "01234567" for c in chunk):
            out.append(chr(int(chunk, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)
