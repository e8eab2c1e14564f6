"""IDX reading and writing: round trips, byte layout, and every malformed-file error."""

import gzip
import struct
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mitbadak.data import read_idx, write_idx

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_round_trip(tmp_path, dtype, name):
    array = (np.arange(24) - 7).astype(dtype).reshape(2, 3, 4)
    write_idx(tmp_path / name, array)
    back = read_idx(tmp_path / name)
    assert back.dtype == np.dtype(dtype)  # native byte order
    assert back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


@settings(max_examples=30, deadline=None)
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.dtype(d) for d in DTYPES]),
        shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5),
    )
)
def test_round_trip_any_array(tmp_path_factory, array):
    path = tmp_path_factory.mktemp("idx") / "x.idx"
    write_idx(path, array)
    np.testing.assert_array_equal(read_idx(path), array)


def test_layout_is_big_endian_idx(tmp_path):
    write_idx(tmp_path / "a.idx", np.array([[1, 258]], dtype=np.int32))
    raw = (tmp_path / "a.idx").read_bytes()
    assert raw[:4] == bytes([0, 0, 0x0C, 2])
    assert struct.unpack(">II", raw[4:12]) == (1, 2)
    assert raw[12:] == bytes([0, 0, 0, 1, 0, 0, 1, 2])


def test_gzip_is_detected_by_content_not_name(tmp_path):
    write_idx(tmp_path / "a.gz", np.arange(5, dtype=np.uint8))
    (tmp_path / "a.gz").rename(tmp_path / "plain-name")
    np.testing.assert_array_equal(read_idx(tmp_path / "plain-name"), np.arange(5))


def test_compressed_output_is_reproducible(tmp_path):
    array = np.arange(100, dtype=np.uint8)
    write_idx(tmp_path / "a.gz", array)
    first = (tmp_path / "a.gz").read_bytes()
    write_idx(tmp_path / "a.gz", array)
    assert (tmp_path / "a.gz").read_bytes() == first


def _raw(tmp_path, data: bytes, compress: bool = False):
    path = tmp_path / ("f.gz" if compress else "f.idx")
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def test_bad_magic(tmp_path):
    path = _raw(tmp_path, b"\x01\x02\x08\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(ValueError, match=r"not an IDX file.*expected magic 00 00.*found '01 02"):
        read_idx(path)
    with pytest.raises(ValueError, match=str(path)):
        read_idx(path)


def test_empty_file(tmp_path):
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(_raw(tmp_path, b""))


def test_unknown_type_code(tmp_path):
    path = _raw(tmp_path, b"\x00\x00\x0a\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(ValueError, match=r"f\.idx: unknown IDX type code 0x0A; expected one of"):
        read_idx(path)


def test_truncated_header(tmp_path):
    path = _raw(tmp_path, b"\x00\x00\x08\x03" + struct.pack(">I", 2))
    with pytest.raises(ValueError, match=r"truncated header: expected 3 dimension sizes"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_payload(tmp_path, compress):
    data = b"\x00\x00\x08\x02" + struct.pack(">II", 2, 3) + bytes(5)
    with pytest.raises(ValueError, match=r"truncated payload.*\(2, 3\).*6 bytes\), found 5 bytes"):
        read_idx(_raw(tmp_path, data, compress))


@pytest.mark.parametrize("compress", [False, True])
def test_oversized_payload(tmp_path, compress):
    data = b"\x00\x00\x08\x01" + struct.pack(">I", 3) + bytes(4)
    with pytest.raises(ValueError, match=r"oversized payload.*\(3,\).*3 bytes\), found at least 4"):
        read_idx(_raw(tmp_path, data, compress))


def test_cut_off_gzip_stream(tmp_path):
    write_idx(tmp_path / "a.gz", np.arange(1000, dtype=np.int32))
    blob = (tmp_path / "a.gz").read_bytes()
    (tmp_path / "a.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match=r"a\.gz: corrupt gzip stream"):
        read_idx(tmp_path / "a.gz")


def test_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(ValueError, match=r"cannot store dtype int64; expected one of uint8"):
        write_idx(tmp_path / "a.idx", np.arange(3, dtype=np.int64))


@pytest.mark.parametrize("compress", [False, True])
def test_a_header_claiming_huge_dimensions_is_refused_before_allocating(tmp_path, compress):
    data = b"\x00\x00\x08\x03" + struct.pack(">III", 4_000_000_000, 28, 28) + bytes(784)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"f\.(idx|gz): truncated payload: header says shape "
                                             r"\(4000000000, 28, 28\) of uint8 "
                                             r"\(3136000000000 bytes\), found "):
            read_idx(_raw(tmp_path, data, compress))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


def test_a_gzip_header_within_the_inflation_bound_streams_only_what_is_there(tmp_path):
    """A 64 KB gzip file whose header claims 64 MB (a ratio deflate could reach): the reader
    decompresses what is there and stops, without allocating the 64 MB."""
    payload = np.random.default_rng(0).bytes(1 << 16)  # incompressible
    data = b"\x00\x00\x08\x01" + struct.pack(">I", 1 << 26) + payload
    path = _raw(tmp_path, data, compress=True)
    assert (1 << 26) < 1032 * path.stat().st_size
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"truncated payload.*found 65536 bytes"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000
