"""``.ckpt`` / ``.pt`` / ``.pth`` files: PyTorch zip archives (or bare pickles). Only the zip
listing is read — the central directory at the end of the file — and the pickle inside is
never loaded (unpickling runs arbitrary code). Tensor names live inside the pickle, so such
a file is classified only when its member names alone tell what it is.
"""

import zipfile

from ..errors import HeaderError
from ..identity import read_error
from .table import TensorTable

MAX_MEMBERS = 200_000


class _Counted:
    """The file object zipfile reads through, counting the bytes it takes."""

    def __init__(self, f):
        self.f, self.bytes_read = f, 0

    def read(self, n=-1):
        data = self.f.read(n)
        self.bytes_read += len(data)
        return data

    def seek(self, offset, whence=0):
        return self.f.seek(offset, whence)

    def tell(self):
        return self.f.tell()

    def seekable(self):
        return True


def read_zip(f, path: str, size: int) -> TensorTable:
    """The member names of the zip archive ``f`` (its central directory only)."""
    counted = _Counted(f)
    try:
        f.seek(0)
        with zipfile.ZipFile(counted) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise HeaderError(f"'{path}' is a damaged zip archive ({exc}).", path) from None
    except OSError as exc:
        raise read_error(path, exc) from exc
    if len(infos) > MAX_MEMBERS:
        raise HeaderError(f"'{path}' lists {len(infos)} members: not a model archive.", path)
    table = TensorTable("pickle", listing=[i.filename for i in infos])
    table.bytes_read = counted.bytes_read
    return table
