"""Safe writing to removable media: all or nothing, with plain messages."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from app.domain.errors import MediaError
from app.io import safe_write
from app.io.safe_write import (
    ExportCancelled,
    ProgressSink,
    atomic_export,
    check_cancelled,
    write_manifest,
)

PAYLOAD = b"synthetic return data\n" * 1000
TEMP_NAME = re.compile(r"\.caseward-[0-9a-f]{12}\.part")


def write_payload(stream: BinaryIO, sink: ProgressSink) -> None:
    stream.write(PAYLOAD)


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def _mount_tmpfs(where: Path, options: str) -> None:
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


@pytest.fixture
def tiny_media(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB file system, so that 'disk full' comes from the kernel."""
    media = tmp_path / "media"
    _mount_tmpfs(media, "size=64k")
    yield media
    subprocess.run(["umount", str(media)], check=False)


@pytest.fixture
def read_only_media(tmp_path: Path) -> Iterator[Path]:
    media = tmp_path / "ro-media"
    _mount_tmpfs(media, "ro,size=64k")
    yield media
    subprocess.run(["umount", str(media)], check=False)


class Sink:
    def __init__(self, cancel_after: int | None = None) -> None:
        self.calls: list[tuple[int, int | None]] = []
        self.cancel_after = cancel_after

    def progress(self, done: int, total: int | None) -> None:
        self.calls.append((done, total))

    def is_cancelled(self) -> bool:
        return self.cancel_after is not None and len(self.calls) >= self.cancel_after


# --- the normal case -------------------------------------------------------------------------


def test_writes_file_and_checksum_beside_it(tmp_path: Path) -> None:
    result = atomic_export(tmp_path / "return.xlsx", write_payload)

    digest = hashlib.sha256(PAYLOAD).hexdigest()
    assert result.path == tmp_path / "return.xlsx"
    assert result.sha256 == digest
    assert result.size == len(PAYLOAD)
    assert (tmp_path / "return.xlsx").read_bytes() == PAYLOAD
    assert (tmp_path / "return.xlsx.sha256").read_text() == f"{digest}  return.xlsx\n"
    assert listing(tmp_path) == ["return.xlsx", "return.xlsx.sha256"]


def test_checksum_file_is_accepted_by_sha256sum(tmp_path: Path) -> None:
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum is not installed")
    atomic_export(tmp_path / "return.xlsx", write_payload)
    done = subprocess.run(["sha256sum", "-c", "return.xlsx.sha256"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_temporary_name_reveals_nothing_and_sits_in_the_destination(tmp_path: Path) -> None:
    seen: list[str] = []

    def write(stream: BinaryIO, sink: ProgressSink) -> None:
        seen.extend(listing(tmp_path))
        stream.write(PAYLOAD)

    atomic_export(tmp_path / "headcount-return-2025-10.xlsx", write)
    assert len(seen) == 1
    assert TEMP_NAME.fullmatch(seen[0])


def test_progress_sink_is_passed_to_the_writer(tmp_path: Path) -> None:
    sink = Sink()

    def write(stream: BinaryIO, given: ProgressSink) -> None:
        given.progress(1, 2)
        stream.write(PAYLOAD)
        given.progress(2, 2)

    atomic_export(tmp_path / "r.xlsx", write, progress=sink)
    assert sink.calls == [(1, 2), (2, 2)]


# --- never overwrite without asking ----------------------------------------------------------


def test_existing_name_is_not_overwritten(tmp_path: Path) -> None:
    existing = tmp_path / "return.xlsx"
    existing.write_bytes(b"the earlier return")
    called = []

    with pytest.raises(MediaError, match="already exists") as caught:
        atomic_export(existing, lambda s, k: called.append(1))

    assert "nothing was written" in str(caught.value)
    assert called == []
    assert existing.read_bytes() == b"the earlier return"
    assert listing(tmp_path) == ["return.xlsx"]


def test_existing_checksum_file_also_blocks(tmp_path: Path) -> None:
    (tmp_path / "return.xlsx.sha256").write_text("old\n")
    with pytest.raises(MediaError, match="already exists"):
        atomic_export(tmp_path / "return.xlsx", write_payload)
    assert listing(tmp_path) == ["return.xlsx.sha256"]


def test_overwrite_when_confirmed(tmp_path: Path) -> None:
    (tmp_path / "return.xlsx").write_bytes(b"old")
    (tmp_path / "return.xlsx.sha256").write_text("old\n")
    result = atomic_export(tmp_path / "return.xlsx", write_payload, overwrite=True)
    assert (tmp_path / "return.xlsx").read_bytes() == PAYLOAD
    assert result.sha256 in (tmp_path / "return.xlsx.sha256").read_text()
    assert listing(tmp_path) == ["return.xlsx", "return.xlsx.sha256"]


def test_name_taken_while_writing_is_not_replaced(tmp_path: Path) -> None:
    final = tmp_path / "return.xlsx"

    def write(stream: BinaryIO, sink: ProgressSink) -> None:
        stream.write(PAYLOAD)
        final.write_bytes(b"someone else's file")

    with pytest.raises(MediaError, match="appeared"):
        atomic_export(final, write)
    assert final.read_bytes() == b"someone else's file"
    assert listing(tmp_path) == ["return.xlsx"]


def test_name_taken_while_writing_on_media_without_hard_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    final = tmp_path / "return.xlsx"

    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")  # as on FAT media

    monkeypatch.setattr(safe_write.os, "link", no_links)

    def write(stream: BinaryIO, sink: ProgressSink) -> None:
        stream.write(PAYLOAD)
        final.write_bytes(b"someone else's file")

    with pytest.raises(MediaError, match="appeared"):
        atomic_export(final, write)
    assert final.read_bytes() == b"someone else's file"
    assert listing(tmp_path) == ["return.xlsx"]


def test_media_without_hard_links_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(safe_write.os, "link", no_links)
    atomic_export(tmp_path / "return.xlsx", write_payload)
    assert listing(tmp_path) == ["return.xlsx", "return.xlsx.sha256"]


# --- disk full -------------------------------------------------------------------------------


def test_disk_full_on_a_real_small_file_system(tiny_media: Path) -> None:
    big = os.urandom(200 * 1024)  # random, so that no file system trick can fit it

    with pytest.raises(MediaError) as caught:
        atomic_export(tiny_media / "return.xlsx", lambda s, k: s.write(big) and None)

    assert str(caught.value) == (
        "The destination is full. Free space or choose other media; nothing was written."
    )
    assert listing(tiny_media) == []


def test_fits_on_the_small_file_system_when_small(tiny_media: Path) -> None:
    atomic_export(tiny_media / "return.xlsx", write_payload)
    assert listing(tiny_media) == ["return.xlsx", "return.xlsx.sha256"]


def test_disk_full_when_the_checksum_no_longer_fits(tiny_media: Path) -> None:
    # Fill the media to within a few bytes of full with the data file itself, so that the data
    # fits but the checksum file does not (tmpfs allocates whole pages).
    page = os.sysconf("SC_PAGE_SIZE")
    data = os.urandom(64 * 1024 - page + 1)
    with pytest.raises(MediaError, match="full"):
        atomic_export(tiny_media / "return.xlsx", lambda s, k: s.write(data) and None)
    assert listing(tiny_media) == []


def test_disk_full_reported_by_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Network and delayed-allocation file systems report ENOSPC only when data is flushed.
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safe_write.os, "fsync", full)
    with pytest.raises(MediaError, match="^The destination is full"):
        atomic_export(tmp_path / "return.xlsx", write_payload)
    assert listing(tmp_path) == []


def test_disk_full_reported_by_a_write(tmp_path: Path) -> None:
    def write(stream: BinaryIO, sink: ProgressSink) -> None:
        stream.write(PAYLOAD[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(MediaError, match="^The destination is full"):
        atomic_export(tmp_path / "return.xlsx", write)
    assert listing(tmp_path) == []


def test_disk_full_while_writing_the_checksum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = os.fsync
    calls = []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:  # the first sync is the data file, the second the checksum file
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(safe_write.os, "fsync", fsync)
    with pytest.raises(MediaError, match="full"):
        atomic_export(tmp_path / "return.xlsx", write_payload)
    assert listing(tmp_path) == []


def test_failure_after_the_data_file_is_named_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace

    def replace(src: str, dst: str, **kwargs: object) -> None:
        if str(dst).endswith(".sha256"):
            raise OSError(errno.EIO, "Input/output error")
        real_replace(src, dst, **kwargs)  # type: ignore[arg-type]

    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(safe_write.os, "link", no_links)
    monkeypatch.setattr(safe_write.os, "replace", replace)
    with pytest.raises(MediaError, match="input/output"):
        atomic_export(tmp_path / "return.xlsx", write_payload)
    assert listing(tmp_path) == []


# --- media removed, read-only, no permission -------------------------------------------------


def test_media_removed_mid_write(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()

    def write(stream: BinaryIO, sink: ProgressSink) -> None:
        stream.write(PAYLOAD[: len(PAYLOAD) // 2])
        shutil.rmtree(media)  # the stick is pulled: the folder and our temporary file vanish
        stream.write(PAYLOAD[len(PAYLOAD) // 2 :])

    with pytest.raises(MediaError, match="went away") as caught:
        atomic_export(media / "return.xlsx", write)
    assert "Reconnect" in str(caught.value)
    assert not media.exists()
    assert listing(tmp_path) == []


def test_media_moved_mid_write_leaves_nothing_in_either_place(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    moved = tmp_path / "remounted-elsewhere"

    def write(stream: BinaryIO, sink: ProgressSink) -> None:
        stream.write(PAYLOAD[:100])
        media.rename(moved)
        stream.write(PAYLOAD[100:])

    with pytest.raises(MediaError, match="went away"):
        atomic_export(media / "return.xlsx", write)
    assert listing(moved) == []
    assert not media.exists()


def test_input_output_error_mid_write(tmp_path: Path) -> None:
    def write(stream: BinaryIO, sink: ProgressSink) -> None:
        stream.write(PAYLOAD)
        raise OSError(errno.EIO, "Input/output error")

    with pytest.raises(MediaError, match="input/output error"):
        atomic_export(tmp_path / "return.xlsx", write)
    assert listing(tmp_path) == []


def test_missing_destination_folder(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="does not exist"):
        atomic_export(tmp_path / "gone" / "return.xlsx", write_payload)
    assert listing(tmp_path) == []


def test_read_only_media(read_only_media: Path) -> None:
    with pytest.raises(MediaError, match="read-only") as caught:
        atomic_export(read_only_media / "return.xlsx", write_payload)
    assert "nothing was written" in str(caught.value)
    assert listing(read_only_media) == []


def test_read_only_folder_by_permissions(tmp_path: Path) -> None:
    if os.name != "posix" or os.geteuid() == 0:
        pytest.skip("root ignores folder permissions; the read-only mount test covers root")
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(MediaError, match="not allowed"):
            atomic_export(folder / "return.xlsx", write_payload)
        assert listing(folder) == []
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (errno.EROFS, "read-only"),
        (errno.EACCES, "not allowed"),
        (errno.EPERM, "not allowed"),
        (errno.ENOSPC, "full"),
        (errno.EIO, "input/output"),
        (errno.ENOENT, "went away"),
        (errno.ENODEV, "went away"),
    ],
)
def test_cannot_create_the_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, expected: str
) -> None:
    real_open = os.open

    def failing_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if flags & os.O_CREAT:
            raise OSError(code, os.strerror(code))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(safe_write.os, "open", failing_open)
    with pytest.raises(MediaError, match=expected) as caught:
        atomic_export(tmp_path / "return.xlsx", write_payload)
    assert str(caught.value).endswith("nothing was written.")
    assert listing(tmp_path) == []


def test_messages_never_contain_the_file_name(tmp_path: Path) -> None:
    def write(stream: BinaryIO, sink: ProgressSink) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "Jones-Nowak.xlsx")

    with pytest.raises(MediaError) as caught:
        atomic_export(tmp_path / "Jones-Nowak.xlsx", write)
    assert "Jones" not in str(caught.value)
    assert str(tmp_path) not in str(caught.value)


def test_cleanup_that_fails_is_admitted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def write(stream: BinaryIO, sink: ProgressSink) -> None:
        raise OSError(errno.EIO, "Input/output error")

    def cannot_unlink(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(safe_write.os, "unlink", cannot_unlink)
    with pytest.raises(MediaError, match=r"temporary file \(\.caseward-"):
        atomic_export(tmp_path / "return.xlsx", write)
    assert not (tmp_path / "return.xlsx").exists()


# --- cancellation and writer bugs ------------------------------------------------------------


def test_cancel_during_the_write_leaves_nothing(tmp_path: Path) -> None:
    sink = Sink(cancel_after=3)

    def write(stream: BinaryIO, given: ProgressSink) -> None:
        for i in range(10):
            stream.write(PAYLOAD)
            given.progress(i + 1, 10)
            check_cancelled(given)

    with pytest.raises(ExportCancelled):
        atomic_export(tmp_path / "return.xlsx", write, progress=sink)
    assert len(sink.calls) == 3
    assert listing(tmp_path) == []


def test_cancel_pressed_as_the_write_finishes_leaves_nothing(tmp_path: Path) -> None:
    sink = Sink(cancel_after=1)

    def write(stream: BinaryIO, given: ProgressSink) -> None:
        stream.write(PAYLOAD)
        given.progress(1, 1)  # Cancel is pressed now; the writer itself never checks

    with pytest.raises(ExportCancelled):
        atomic_export(tmp_path / "return.xlsx", write, progress=sink)
    assert listing(tmp_path) == []


def test_a_bug_in_the_writer_is_not_dressed_up_as_a_media_error(tmp_path: Path) -> None:
    def write(stream: BinaryIO, sink: ProgressSink) -> None:
        stream.write(PAYLOAD)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        atomic_export(tmp_path / "return.xlsx", write)
    assert listing(tmp_path) == []


def test_a_folder_is_not_a_file_name() -> None:
    with pytest.raises(ValueError):
        atomic_export(Path("/"), write_payload)


# --- manifest --------------------------------------------------------------------------------


def test_manifest_lists_every_file_with_its_hash(tmp_path: Path) -> None:
    (tmp_path / "pdf").mkdir()
    results = [
        atomic_export(tmp_path / "headcount.xlsx", write_payload),
        atomic_export(tmp_path / "pdf" / "briefing.pdf", lambda s, k: s.write(b"%PDF") and None),
    ]
    manifest = write_manifest(tmp_path, results)

    text = (tmp_path / "MANIFEST.sha256").read_text()
    assert text == (
        f"{results[0].sha256}  headcount.xlsx\n{results[1].sha256}  pdf/briefing.pdf\n"
    )
    assert manifest.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert (tmp_path / "MANIFEST.sha256.sha256").exists()
    if shutil.which("sha256sum"):
        done = subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=tmp_path,
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def test_manifest_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "MANIFEST.sha256").write_text("earlier batch\n")
    with pytest.raises(MediaError, match="already exists"):
        write_manifest(tmp_path, [])
    assert (tmp_path / "MANIFEST.sha256").read_text() == "earlier batch\n"


def test_manifest_refuses_files_from_elsewhere(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    result = atomic_export(other / "x.xlsx", write_payload)
    (tmp_path / "batch").mkdir()
    with pytest.raises(ValueError):
        write_manifest(tmp_path / "batch", [result])
    assert listing(tmp_path / "batch") == []


def test_sidecar_line_escapes_awkward_names() -> None:
    assert safe_write.sidecar_line("ab", "a\\b\nc") == "\\ab  a\\\\b\\nc\n"
