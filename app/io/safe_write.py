"""Write exports to removable media so that a failure never leaves a file under the final name."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from app.domain.errors import CasewardError, MediaError

SIDECAR_SUFFIX = ".sha256"
DEFAULT_MANIFEST_NAME = "MANIFEST.sha256"

_NOTHING_WRITTEN = "nothing was written."
_LEFTOVER_NOTE = (
    " A hidden temporary file (.caseward-….part) may remain on the media; it can be deleted."
)


class ExportCancelled(CasewardError):
    """The user cancelled an export; nothing was left at the destination."""

    def __init__(self, message: str = "The export was cancelled; nothing was written.") -> None:
        super().__init__(message)


class ProgressSink(Protocol):
    """Where long writers report progress and learn that the user pressed Cancel."""

    def progress(self, done: int, total: int | None) -> None: ...

    def is_cancelled(self) -> bool: ...


class NullProgress:
    """A sink for callers that neither show progress nor offer Cancel."""

    def progress(self, done: int, total: int | None) -> None:
        return None

    def is_cancelled(self) -> bool:
        return False


def check_cancelled(sink: ProgressSink | None) -> None:
    """Raise ExportCancelled if the user has asked to stop."""
    if sink is not None and sink.is_cancelled():
        raise ExportCancelled()


WriteFn = Callable[[BinaryIO, ProgressSink], None]


@dataclass(frozen=True)
class ExportResult:
    """A file that is complete on the media, with its SHA-256 (hex) and size in bytes."""

    path: Path
    sha256: str
    size: int


def media_error(exc: OSError) -> MediaError:
    """A plain message for an OS error while writing, saying what happened and what to do."""
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        text = "The destination is full. Free space or choose other media; "
    elif code == errno.EFBIG:
        text = (
            "The file is too large for the destination's file system (FAT media hold at most "
            "4 GB per file). Choose other media; "
        )
    elif code == errno.EROFS:
        text = (
            "The destination is read-only (the media may be write-protected). Remove the "
            "protection or choose other media; "
        )
    elif code in (errno.EACCES, errno.EPERM):
        text = "You are not allowed to write to the destination. Choose another folder; "
    elif code == errno.EIO:
        text = (
            "The media could not be written (an input/output error: it may have been removed "
            "or be faulty). Check the media and try again; "
        )
    elif code in (errno.ENOENT, errno.ENOTDIR, errno.ENODEV, errno.ENXIO, errno.ESTALE):
        text = (
            "The destination went away while writing (the media may have been removed). "
            "Reconnect it and try again; "
        )
    else:
        name = errno.errorcode.get(code or 0, "unknown")
        text = f"Writing to the destination failed ({name}). Check the media and try again; "
    return MediaError(text + _NOTHING_WRITTEN)


class _Folder:
    """The destination folder, held open so that clean-up follows it even if it is renamed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self._identity: tuple[int, int] | None = None
        if os.open in os.supports_dir_fd and hasattr(os, "O_DIRECTORY"):
            self.fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
            st = os.fstat(self.fd)
            self._identity = (st.st_dev, st.st_ino)

    def _name(self, name: str) -> str:
        return name if self.fd is not None else str(self.path / name)

    def create_temp(self) -> tuple[str, int]:
        flags = (
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
            | getattr(os, "O_BINARY", 0)
        )
        for _ in range(20):
            # Random, content-free name: the final name may say what the file is, this must not.
            name = f".caseward-{secrets.token_hex(6)}.part"
            try:
                if self.fd is not None:
                    fd = os.open(name, flags, 0o600, dir_fd=self.fd)
                else:
                    fd = os.open(self._name(name), flags, 0o600)
            except FileExistsError:
                continue
            return name, fd
        raise OSError(errno.EEXIST, "could not choose a temporary name")

    def exists(self, name: str) -> bool:
        try:
            if self.fd is not None:
                os.stat(name, dir_fd=self.fd, follow_symlinks=False)
            else:
                os.lstat(self._name(name))
        except FileNotFoundError:
            return False
        return True

    def unlink(self, name: str) -> None:
        if self.fd is not None:
            os.unlink(name, dir_fd=self.fd)
        else:
            os.unlink(self._name(name))

    def discard(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.unlink(name)

    def publish(self, temp: str, final: str, *, overwrite: bool) -> None:
        """Give the temporary file its final name; without overwrite, never replace a file."""
        if not overwrite:
            try:
                if self.fd is not None:
                    os.link(temp, final, src_dir_fd=self.fd, dst_dir_fd=self.fd,
                            follow_symlinks=False)
                else:
                    os.link(self._name(temp), self._name(final))
            except FileExistsError:
                raise
            except OSError as exc:
                # FAT and exFAT media have no hard links: fall back to check-then-rename, whose
                # race only matters if something else writes the same name at the same moment.
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK,
                                     errno.ENOSYS, errno.EACCES):
                    raise
                if self.exists(final):
                    raise FileExistsError(errno.EEXIST, "name taken") from None
            else:
                return  # the caller removes the temporary name once it has noted the final one
        if self.fd is not None:
            os.replace(temp, final, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        else:
            os.replace(self._name(temp), self._name(final))

    def still_in_place(self) -> bool:
        """False if the folder was removed or moved away since we opened it."""
        if self._identity is None:
            return self.path.is_dir()
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self._identity

    def sync(self) -> None:
        if self.fd is None:
            return  # Windows cannot open a directory; its rename is already durable enough.
        try:
            os.fsync(self.fd)
        except OSError as exc:
            # Some file systems (and FUSE mounts) do not sync directories; the data is synced.
            if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF):
                raise

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _hash_file(folder: _Folder, name: str, sink: ProgressSink) -> tuple[str, int]:
    # Read back what is on the media rather than hash while writing: zip writers seek backwards.
    digest = hashlib.sha256()
    size = 0
    if folder.fd is not None:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0), dir_fd=folder.fd)
    else:
        fd = os.open(folder._name(name), os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        while True:
            block = os.read(fd, 1 << 20)
            if not block:
                break
            digest.update(block)
            size += len(block)
            check_cancelled(sink)
    finally:
        os.close(fd)
    return digest.hexdigest(), size


def _write_temp(folder: _Folder, write_fn: WriteFn, sink: ProgressSink, temps: list[str]) -> str:
    name, fd = folder.create_temp()
    temps.append(name)
    with os.fdopen(fd, "wb", buffering=1 << 20) as stream:
        write_fn(stream, sink)
        stream.flush()
        os.fsync(stream.fileno())
    return name


def sidecar_line(sha256: str, name: str) -> str:
    """One line in `sha256sum` format, escaping a name as GNU coreutils does."""
    if "\\" in name or "\n" in name or "\r" in name:
        escaped = name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        return f"\\{sha256}  {escaped}\n"
    return f"{sha256}  {name}\n"


def atomic_export(
    final_path: str | os.PathLike[str],
    write_fn: WriteFn,
    *,
    overwrite: bool = False,
    progress: ProgressSink | None = None,
) -> ExportResult:
    """Write a file with ``write_fn(stream, sink)`` and a ``.sha256`` beside it, all or nothing.

    The data and the checksum go to hidden temporary files in the destination folder, are synced,
    and only then take their final names, and the folder is synced. On any failure (disk full,
    media removed, read-only, no permission, name taken, cancelled, or an error in ``write_fn``)
    the temporary files are removed and nothing is left under either final name; OS errors become
    a MediaError with a plain message, anything else is re-raised unchanged.
    """
    final = Path(final_path)
    sink: ProgressSink = progress if progress is not None else NullProgress()
    if final.name in ("", ".", ".."):
        raise ValueError("an export needs a file name")
    sidecar_name = final.name + SIDECAR_SUFFIX

    folder_path = final.parent
    if not folder_path.is_dir():
        raise MediaError(
            "The destination folder does not exist (the media may have been removed). "
            "Reconnect it or choose another folder; " + _NOTHING_WRITTEN
        )
    try:
        folder = _Folder(folder_path)
    except OSError as exc:
        raise media_error(exc) from exc

    temps: list[str] = []
    published: list[str] = []
    try:
        if not overwrite:
            for name in (final.name, sidecar_name):
                if folder.exists(name):
                    raise MediaError(
                        "A file with that name already exists at the destination. Choose another "
                        "name or confirm that it may be replaced; " + _NOTHING_WRITTEN
                    )
        check_cancelled(sink)
        data_temp = _write_temp(folder, write_fn, sink, temps)
        check_cancelled(sink)
        sha256, size = _hash_file(folder, data_temp, sink)
        line = sidecar_line(sha256, final.name).encode("utf-8")

        def write_sidecar(stream: BinaryIO, _sink: ProgressSink) -> None:
            stream.write(line)

        sidecar_temp = _write_temp(folder, write_sidecar, sink, temps)
        check_cancelled(sink)
        if not folder.still_in_place():
            raise OSError(errno.ENOENT, "destination folder moved or removed")
        # Data first, then its checksum: a checksum never stands beside a missing file.
        for temp, name in ((data_temp, final.name), (sidecar_temp, sidecar_name)):
            folder.publish(temp, name, overwrite=overwrite)
            published.append(name)
            folder.discard(temp)
            temps.remove(temp)
        folder.sync()
    except BaseException as exc:
        leftovers = _clean_up(folder, temps, published)
        folder.close()
        note = _LEFTOVER_NOTE if leftovers else ""
        if isinstance(exc, FileExistsError):
            raise MediaError(
                "A file with that name appeared at the destination while writing. Choose another "
                "name; " + _NOTHING_WRITTEN + note
            ) from exc
        if isinstance(exc, OSError):
            error = media_error(exc)
            raise MediaError(str(error) + note) from exc
        raise
    folder.close()
    return ExportResult(path=final, sha256=sha256, size=size)


def _clean_up(folder: _Folder, temps: list[str], published: list[str]) -> bool:
    """Remove our temporary and half-published files; True if one could not be removed."""
    leftovers = False
    for name in [*temps, *published]:
        try:
            folder.discard(name)
        except OSError:
            leftovers = True
    return leftovers


def write_manifest(
    folder: str | os.PathLike[str],
    results: Iterable[ExportResult],
    *,
    name: str = DEFAULT_MANIFEST_NAME,
    overwrite: bool = False,
) -> ExportResult:
    """List every file of a batch export with its SHA-256, in `sha256sum -c` format.

    The manifest is written with atomic_export, so it gets its own ``.sha256`` too. Files must
    sit in ``folder`` or below it; they are listed by their path relative to it.
    """
    base = Path(folder).resolve()
    lines: list[str] = []
    for result in results:
        try:
            relative = result.path.resolve().relative_to(base)
        except ValueError:
            raise ValueError("a manifest lists only files inside its own folder") from None
        lines.append(sidecar_line(result.sha256, relative.as_posix()))
    data = "".join(lines).encode("utf-8")

    def write(stream: BinaryIO, _sink: ProgressSink) -> None:
        stream.write(data)

    return atomic_export(Path(folder) / name, write, overwrite=overwrite)
