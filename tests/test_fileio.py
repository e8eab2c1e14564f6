"""fileio.atomic_write: contents, permissions, failures as one-line FileWriteErrors, and the
removal of temporary files left by killed writers."""

import errno
import os
import stat
import subprocess
import sys

import pytest

from mitbadak import fileio
from mitbadak.fileio import FileWriteError, atomic_write


def dead_pid() -> int:
    """The id of a process that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_writes_bytes_or_through_a_callback(tmp_path):
    assert atomic_write(tmp_path / "a" / "b.bin", b"\x00\x01") == tmp_path / "a" / "b.bin"
    assert (tmp_path / "a" / "b.bin").read_bytes() == b"\x00\x01"
    atomic_write(tmp_path / "a" / "b.bin", lambda file: file.write(b"new"))
    assert (tmp_path / "a" / "b.bin").read_bytes() == b"new"
    assert stat.S_IMODE((tmp_path / "a" / "b.bin").stat().st_mode) == fileio.FILE_MODE
    assert os.listdir(tmp_path / "a") == ["b.bin"]


def test_a_failing_write_keeps_the_old_file_and_says_why_in_one_line(tmp_path):
    target = tmp_path / "last.npz"
    target.write_bytes(b"old")

    def disk_fills(file):
        file.write(b"half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(FileWriteError) as caught:
        atomic_write(target, disk_fills)
    assert str(caught.value) == f"cannot write {target}: No space left on device"
    assert caught.value.errno == errno.ENOSPC and isinstance(caught.value, OSError)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["last.npz"]


def test_a_path_under_a_file(tmp_path):
    (tmp_path / "out").write_text("a file")
    for target in (tmp_path / "out" / "last.npz", tmp_path / "out" / "sub" / "x"):
        with pytest.raises(FileWriteError) as caught:
            atomic_write(target, b"x")
        blocker = tmp_path / "out"
        assert str(caught.value) == f"cannot write {target}: {blocker} is a file, not a directory"


def test_a_directory_as_the_target(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(FileWriteError, match=r"^cannot write .*d: Is a directory"):
        atomic_write(tmp_path / "d", b"x")
    assert os.listdir(tmp_path) == ["d"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into read-only directories")
def test_a_read_only_directory(tmp_path):
    (tmp_path / "ro").mkdir(mode=0o555)
    with pytest.raises(FileWriteError, match=r"^cannot write .*ro/x: .*Permission denied"):
        atomic_write(tmp_path / "ro" / "x", b"x")


def test_stale_temporaries_of_the_same_target_are_removed(tmp_path):
    dead, alive = dead_pid(), os.getppid()
    names = {
        f".last.npz.{dead}.k2j4h6g8.tmp": False,  # a killed writer's: removed
        f".last.npz.{alive}.k2j4h6g8.tmp": True,  # a running writer's
        f".last.npz.{os.getpid()}.k2j4h6g8.tmp": True,  # this process's (another thread?)
        f".best.npz.{dead}.k2j4h6g8.tmp": True,  # another target's
        ".last.npz.k2j4h6g8.tmp": True,  # not of this naming
        f"last.npz.{dead}.k2j4h6g8.tmp": True,
    }
    for name in names:
        (tmp_path / name).write_bytes(b"partial")
    atomic_write(tmp_path / "last.npz", b"x")
    kept = {name for name, keep in names.items() if keep}
    assert set(os.listdir(tmp_path)) == kept | {"last.npz"}
