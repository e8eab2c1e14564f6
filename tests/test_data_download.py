"""Downloads against a local HTTP server on 127.0.0.1: mirror fallback, checksums, atomic cache.

No test here reaches the internet; the server serves tiny IDX fixtures made with write_idx.
"""

import hashlib
import http.server
import sys
import threading

import numpy as np
import pytest

from mitbadak.data import DatasetNotFoundError, DownloadError, load_dataset, write_idx
from mitbadak.data import datasets as ds
from mitbadak.data.download import fetch


class Server:
    """Serves `routes` (path -> bytes, an HTTP status, or "cut" for a cut-off body)."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body = server.routes.get(self.path, 404)
                if isinstance(body, int):
                    self.send_error(body)
                    return
                if body == "cut":
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(b"only part of it")
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


# --- fetch -------------------------------------------------------------------------------


def test_good_file_is_written(server, tmp_path):
    server.routes["/a/f.bin"] = b"payload"
    dest = tmp_path / "cache" / "f.bin"
    assert fetch([server.url + "/a/f.bin"], dest, sha256(b"payload"), progress=False) == dest
    assert dest.read_bytes() == b"payload"
    assert leftovers(dest.parent) == []


@pytest.mark.parametrize("first", [b"corrupted", 404, 500, "cut"])
def test_bad_first_mirror_falls_back_to_the_next(server, tmp_path, first):
    server.routes["/bad/f.bin"] = first
    server.routes["/good/f.bin"] = b"payload"
    urls = [server.url + "/bad/f.bin", server.url + "/good/f.bin"]
    fetch(urls, tmp_path / "f.bin", sha256(b"payload"), progress=False)
    assert (tmp_path / "f.bin").read_bytes() == b"payload"
    assert server.requests == ["/bad/f.bin", "/good/f.bin"]
    assert leftovers(tmp_path) == []


def test_all_mirrors_bad_is_one_clear_error_and_leaves_nothing(server, tmp_path):
    server.routes["/one/f.bin"] = b"corrupted"
    server.routes["/two/f.bin"] = "cut"
    urls = [server.url + "/one/f.bin", server.url + "/two/f.bin", server.url + "/three/f.bin"]
    with pytest.raises(DownloadError) as info:
        fetch(urls, tmp_path / "f.bin", sha256(b"payload"), progress=False)
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "could not download f.bin" in message
    assert f"{urls[0]}: SHA-256 mismatch: expected {sha256(b'payload')}" in message
    assert f"{urls[1]}: " in message
    assert f"{urls[2]}: HTTP Error 404" in message
    assert list(tmp_path.iterdir()) == []


def test_unreachable_mirror_is_reported(tmp_path):
    with pytest.raises(DownloadError, match=r"http://127\.0\.0\.1:9/f\.bin: "):
        fetch(["http://127.0.0.1:9/f.bin"], tmp_path / "f.bin", "0" * 64, progress=False)


# --- load_dataset through the cache ------------------------------------------------------


@pytest.fixture
def remote(server, tmp_path, monkeypatch):
    """A tiny MNIST-layout set served under /mnist/, with its checksums made the official ones."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MITBADAK_DATA", raising=False)
    monkeypatch.setattr(ds, "SYSTEM_DIR", tmp_path / "system")
    rng = np.random.default_rng(0)
    shapes = {"x_train": (5, 28, 28), "t_train": (5,), "x_test": (3, 28, 28), "t_test": (3,)}
    arrays, sums = {}, {}
    for role, shape in shapes.items():
        arrays[role] = rng.integers(0, 10 if role[0] == "t" else 256, shape, dtype=np.uint8)
        path = tmp_path / f"{ds.FILES[role]}.gz"
        write_idx(path, arrays[role])
        server.routes[f"/mnist/{path.name}"] = path.read_bytes()
        sums[role] = sha256(path.read_bytes())
    monkeypatch.setitem(ds.SHA256, "mnist", sums)
    return arrays


def cache_dir(tmp_path):
    return tmp_path / "home" / ".cache" / "mitbadak" / "mnist"


def test_download_fills_the_cache_once(server, tmp_path, remote):
    mirrors = [server.url + "/nowhere/", server.url + "/mnist/"]
    (x, t), (xt, tt) = load_dataset("mnist", normalize=False, mirrors=mirrors, progress=False)
    np.testing.assert_array_equal(x.reshape(5, 28, 28), remote["x_train"])
    np.testing.assert_array_equal(tt, remote["t_test"])
    files = sorted(p.name for p in cache_dir(tmp_path).iterdir())
    assert files == sorted(f"{stem}.gz" for stem in ds.FILES.values())

    served = len(server.requests)
    load_dataset("mnist", mirrors=mirrors, progress=False)
    assert len(server.requests) == served  # the verified cache is used, not the network


def test_module_mirror_list_is_used_by_default(server, tmp_path, remote, monkeypatch, capsys):
    monkeypatch.setitem(ds.MIRRORS, "mnist", (server.url + "/mnist",))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a bar is drawn only on a terminal
    _, (_, tt) = load_dataset("mnist")
    np.testing.assert_array_equal(tt, remote["t_test"])
    assert "t10k-images-idx3-ubyte.gz" in capsys.readouterr().err  # the progress bar


def test_corrupt_cache_file_is_downloaded_again(server, tmp_path, remote):
    mirrors = [server.url + "/mnist/"]
    load_dataset("mnist", mirrors=mirrors, progress=False)
    damaged = cache_dir(tmp_path) / "t10k-labels-idx1-ubyte.gz"
    damaged.write_bytes(b"rot")
    server.requests.clear()
    _, (_, tt) = load_dataset("mnist", mirrors=mirrors, progress=False)
    assert server.requests == ["/mnist/t10k-labels-idx1-ubyte.gz"]
    np.testing.assert_array_equal(tt, remote["t_test"])


def test_all_mirrors_bad_leaves_no_file_that_looks_complete(server, tmp_path, remote):
    server.routes["/mnist/t10k-images-idx3-ubyte.gz"] = b"corrupted"
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("mnist", mirrors=[server.url + "/mnist/"], progress=False)
    message = str(info.value)
    assert "could not download t10k-images-idx3-ubyte.gz" in message
    assert "SHA-256 mismatch" in message
    assert f"{cache_dir(tmp_path)}: no such directory" in message
    names = sorted(p.name for p in cache_dir(tmp_path).iterdir())
    assert "t10k-images-idx3-ubyte.gz" not in names
    assert not any(name.endswith(".part") for name in names)
