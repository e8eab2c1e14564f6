"""Download one file from a list of mirrors, verified by SHA-256, written atomically.

The bytes go to a hidden ``.<name>.*.part`` file next to the destination, are hashed on the way
and only then renamed into place with `os.replace`. So a download that is killed, cut short or
corrupted never leaves a file under the final name. A mirror that fails (network error, HTTP
error, wrong checksum) is reported and the next one is tried.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from mitbadak.progress import progress_bar

# Some mirrors answer urllib's default User-Agent with HTTP 403 (the book's mnist.py hit this).
USER_AGENT = "Mozilla/5.0 (compatible; mitbadak)"
_CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """Every mirror failed; the message lists each URL and why."""


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of the file at `path`."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def fetch(
    urls: Sequence[str],
    dest: str | os.PathLike,
    sha256: str,
    *,
    progress: bool = True,
    timeout: float = 30.0,
) -> Path:
    """Fetch the first of `urls` whose content has SHA-256 `sha256` into `dest`; return `dest`.

    Raises `DownloadError` listing every URL tried and its failure when none succeeds.
    """
    import http.client  # lazy, as is urllib below: `import mitbadak` needs numpy only

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        try:
            _download_one(url, dest, sha256.lower(), progress, timeout)
            return dest
        except (OSError, ValueError, http.client.HTTPException) as e:
            failures.append(f"  {url}: {e}")
    tried = "\n".join(failures) or "  (no mirrors given)"
    raise DownloadError(f"could not download {dest.name}; tried:\n{tried}")


def _download_one(url: str, dest: Path, sha256: str, progress: bool, timeout: float) -> None:
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    fd, part = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        h = hashlib.sha256()
        with (
            os.fdopen(fd, "wb") as out,
            urllib.request.urlopen(request, timeout=timeout) as response,
        ):
            size = response.headers.get("Content-Length")
            bar = progress_bar(total=int(size) if size else None, unit="B", unit_scale=True,
                               desc=dest.name, leave=False) if progress else None
            with bar or contextlib.nullcontext():
                while chunk := response.read(_CHUNK):
                    h.update(chunk)
                    out.write(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        if h.hexdigest() != sha256:
            raise ValueError(f"SHA-256 mismatch: expected {sha256}, found {h.hexdigest()}")
        os.replace(part, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(part)
        raise
