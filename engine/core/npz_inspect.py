"""The arrays of an .npz file as their headers declare them, read without loading any of them,
so a take's shapes and sizes are checked before anything is allocated or decompressed."""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.core.errors import InputError


@dataclass(frozen=True)
class ArrayHeader:
    shape: tuple[int, ...]
    dtype: np.dtype
    stored_bytes: int  # the member's uncompressed size as the zip records it

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=object)) * self.dtype.itemsize


def npz_headers(path: Path) -> dict[str, ArrayHeader]:
    """name -> header of each array in the archive. InputError naming the file when it is not
    an .npz archive of .npy arrays."""
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not a Monocap take (not an .npz archive)")
    headers: dict[str, ArrayHeader] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                with archive.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                    elif version == (2, 0):
                        shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
                    else:
                        raise ValueError(f"array format version {version} is not supported")
                name = info.filename[:-4]
                if dtype.hasobject:
                    raise ValueError(f"array {name!r} holds Python objects")
                headers[name] = ArrayHeader(tuple(int(s) for s in shape), dtype, info.file_size)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, UnicodeDecodeError,
            NotImplementedError, RuntimeError, SyntaxError, TypeError) as exc:
        raise InputError(f"{path}: not a Monocap take (damaged archive: {exc})") from None
    return headers


def check_stored_sizes(path: Path, headers: dict[str, ArrayHeader]) -> None:
    """InputError when an array declares more bytes than the archive holds for it (a truncated
    or doctored file), before it would be allocated."""
    for name, header in headers.items():
        if header.nbytes > header.stored_bytes:
            raise InputError(f"{path}: array {name!r} declares {header.nbytes} bytes but the archive holds "
                             f"{header.stored_bytes}; the file is truncated or damaged")
