"""mitbadak.memory: a training process keeps freed memory for its next step (no page faults).

Measured by the page faults of a loop that allocates and frees 160 MB as a training step
does (in arrays of 4 MB), in a fresh process each: glibc's defaults give the memory back
after each round and fault it in again; after keep_freed_memory() the rounds reuse it."""

import os
import subprocess
import sys

import pytest

ROUNDS = """
import resource, sys
import numpy as np
from mitbadak import memory
changed = memory.keep_freed_memory() if sys.argv[1] == "keep" else False
def step():
    arrays = [np.ones(1 << 20, np.float32) for _ in range(40)]  # 40 x 4 MB, touched
    del arrays
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
print(changed, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) // 5)
"""


def _faults_per_round(how: str, **env: str) -> tuple[str, int]:
    done = subprocess.run([sys.executable, "-c", ROUNDS, how], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120, check=True)
    changed, faults = done.stdout.split()
    return changed, int(faults)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_kept_memory_is_reused_without_page_faults():
    changed, kept = _faults_per_round("keep")
    assert changed == "True"
    _, default = _faults_per_round("default")
    # 160 MB given back and faulted in again (40,960 pages of 4 KiB; with huge pages far fewer)
    assert default > 10_000 or "[always]" in _huge_pages()
    assert kept <= default // 20


def _huge_pages() -> str:
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return f.read()
    except OSError:
        return ""


def test_it_changes_the_allocator_once_and_not_when_told_not_to():
    code = ("from mitbadak import memory\n"
            "print(memory.keep_freed_memory(), memory.keep_freed_memory())")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "MITBADAK_KEEP_MEMORY": "0"}, check=True)
    assert run.stdout.split() == ["False", "False"]
    if sys.platform.startswith("linux"):
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        assert run.stdout.split() == ["True", "False"]


def test_a_bad_setting_is_refused_by_name_at_the_command_line(capsys, monkeypatch, tmp_path):
    from helpers import usage_error

    monkeypatch.setenv("MITBADAK_KEEP_MEMORY", "yes")
    usage_error(capsys, ["train", "--epochs", "1", "--out", str(tmp_path)],
                "MITBADAK_KEEP_MEMORY must be 0 or 1, got 'yes'")
    assert not any(tmp_path.iterdir())  # refused before any work
