"""Damaged and crafted checkpoints: whatever the bytes, `checkpoint.load` either returns the
saved model exactly or raises `CheckpointError` with a one-line message -- never another
exception, never an unbounded allocation."""

import io
import json
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn, optim
from mitbadak.training import checkpoint
from mitbadak.training.checkpoint import CheckpointError


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """A small real checkpoint (MLP with BatchNorm, Adam after two steps): its bytes and
    its model's state."""
    mb.manual_seed(0)
    model = nn.MLP(6, [5], 3, batchnorm=True)
    opt = optim.Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    for _ in range(2):
        loss = F.cross_entropy(model(mb.tensor(rng.random((4, 6)))), rng.integers(0, 3, 4))
        opt.zero_grad()
        loss.backward()
        opt.step()
    path = checkpoint.save(tmp_path_factory.mktemp("ckpt") / "c.npz", model, opt, epoch=2,
                           settings={"dataset": "digits"})
    return path.read_bytes(), model.state_dict()


def load_bytes(tmp_path, blob: bytes, name: str = "c.npz"):
    """``checkpoint.load`` of a file holding ``blob``: the Checkpoint, or the CheckpointError
    (asserted to be one line naming the file). Any other exception fails the test."""
    path = tmp_path / name
    path.unlink(missing_ok=True)  # (ext4 flushes a file truncated and rewritten: slow)
    path.write_bytes(blob)
    try:
        return checkpoint.load(path)
    except CheckpointError as error:
        message = str(error)
        assert "\n" not in message and message.startswith(f"{path}: "), message
        assert "pickle" not in message, message
        return error


def refused(tmp_path, blob: bytes, match: str = "") -> str:
    result = load_bytes(tmp_path, blob)
    assert isinstance(result, CheckpointError), "a damaged file loaded"
    assert match in str(result), str(result)
    return str(result)


def assert_same_state(saved, state):
    loaded = saved.model.state_dict()
    assert loaded.keys() == state.keys()
    for name, array in state.items():
        assert loaded[name].dtype == array.dtype and np.array_equal(loaded[name], array), name


# ----------------------------------------------------------------------- random damage
def test_every_single_byte_flip_loads_exactly_or_is_refused(tmp_path, original):
    """1,200 flips (seeded): each either leaves the contents intact (a byte no reader uses,
    such as a timestamp or header padding) or is refused with a CheckpointError."""
    blob, state = original
    rng = np.random.default_rng(13)
    outcomes = {"loaded": 0, "refused": 0}
    for position, mask in zip(rng.integers(0, len(blob), 1200), rng.integers(1, 256, 1200)):
        damaged = bytearray(blob)
        damaged[position] ^= mask
        result = load_bytes(tmp_path, bytes(damaged))
        if isinstance(result, CheckpointError):
            outcomes["refused"] += 1
        else:
            assert_same_state(result, state)
            outcomes["loaded"] += 1
    assert outcomes["refused"] > 900, outcomes  # the others hit timestamps, padding, ...


def test_every_truncation_is_refused(tmp_path, original):
    blob, _ = original
    for end in [*range(0, 64), *range(64, len(blob), 7)]:
        refused(tmp_path, blob[:end])


def test_random_bytes_and_appended_garbage(tmp_path, original):
    blob, state = original
    rng = np.random.default_rng(1)
    for size in (1, 3, 4, 100, 5000):
        refused(tmp_path, b"PK\x03\x04" + rng.bytes(size))
        refused(tmp_path, rng.bytes(size))
    result = load_bytes(tmp_path, blob + rng.bytes(100))  # zip tolerates a trailing comment?
    if not isinstance(result, CheckpointError):
        assert_same_state(result, state)


# ----------------------------------------------------------------------- crafted zips
def members(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def build_zip(entries: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def npy(header: str, data: bytes = b"", version: int = 1) -> bytes:
    """An .npy entry with ``header`` (the dict text) as given, padded as NumPy pads it."""
    text = header.encode("latin-1")
    width = 2 if version == 1 else 4
    text += b" " * (-(len(text) + 11 + width) % 64) + b"\n"
    return (b"\x93NUMPY" + bytes([version, 0]) + len(text).to_bytes(width, "little") + text
            + data)


def with_entry(blob: bytes, name: str, data: bytes) -> bytes:
    entries = members(blob)
    entries[name] = data
    return build_zip(entries)


@pytest.mark.parametrize("header, match", [
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }",
     "claims (1000000000000,) of float32 (4,000,000,000,000 bytes)"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (4000000000, 28, 28), }", "claims"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': " + "(" * 100_000 + "), }",
     "not one NumPy writes"),
    ("{'descr': [" * 5000 + "]" * 5000 + ", 'fortran_order': False, 'shape': (3,), }",
     "not one NumPy writes"),
    ("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "has dtype '|O'"),
    ("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", "has dtype '>f4'"),
    ("{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", "has dtype '<U3'"),
    ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "not one NumPy"),
    ("{'descr': '<f4', 'fortran_order': 1, 'shape': (1,), }", "not one NumPy writes"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "not one NumPy writes"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), '__class__': 0, }", "not one"),
    ("__import__('os').system('echo owned')", "not one NumPy writes"),
])
def test_crafted_npy_headers_are_refused_before_allocating(tmp_path, original, header, match):
    blob, _ = original
    name = "model/layers.0.W.npy"
    for version in (1, 2) if len(header) < 60_000 else (2,):  # v1 lengths are 16-bit
        crafted = with_entry(blob, name, npy(header, b"\0" * 16, version))
        tracemalloc.start()
        try:
            message = refused(tmp_path, crafted, match)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert name in message
        assert peak < 5_000_000, peak


def test_a_zip_bomb_is_refused_before_inflating(tmp_path, original):
    """An entry of 64 MB of zeros, deflated to 64 KB: refused from the sizes alone."""
    blob, _ = original
    name = "model/layers.0.W.npy"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for key, data in members(blob).items():
            if key != name:
                archive.writestr(key, data)
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as entry:
            entry.write(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (16777216,), }"))
            for _ in range(64):
                entry.write(bytes(1 << 20))
    bomb = out.getvalue()
    assert len(bomb) < 200_000
    tracemalloc.start()
    try:
        refused(tmp_path, bomb, "would inflate to")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, peak


def test_an_entry_inflating_past_its_claimed_size_is_refused(tmp_path, original):
    """A deflated entry whose header understates its size: the reader stops at the claimed
    size, and the CRC no longer matches."""
    blob, _ = original
    name = "model/layers.0.W.npy"
    entries = members(blob)
    deflated = build_zip({**entries, name: entries[name] + bytes(1 << 20)},
                         zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(io.BytesIO(deflated)) as archive:
        true_size = archive.getinfo(name).file_size
    claimed = struct.pack("<L", len(entries[name]))
    crafted = deflated.replace(struct.pack("<L", true_size), claimed)
    refused(tmp_path, crafted)


def test_a_recompressed_checkpoint_still_loads(tmp_path, original):
    blob, state = original
    result = load_bytes(tmp_path, build_zip(members(blob), zipfile.ZIP_DEFLATED))
    assert not isinstance(result, CheckpointError), result
    assert_same_state(result, state)


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_other_compression_methods_are_refused(tmp_path, original, method):
    blob, _ = original
    refused(tmp_path, build_zip(members(blob), method), f"compression method {method}")


def _patch_records(blob: bytes, signature: bytes, offset: int, value: bytes) -> bytes:
    """``blob`` with ``value`` written at ``offset`` into every zip record of ``signature``."""
    damaged, start = bytearray(blob), 0
    while (start := blob.find(signature, start)) != -1:
        damaged[start + offset:start + offset + len(value)] = value
        start += 4
    return bytes(damaged)


def test_the_encrypted_flag_is_refused(tmp_path, original):
    blob, _ = original
    crafted = _patch_records(blob, b"PK\x01\x02", 8, b"\x01\x00")
    crafted = _patch_records(crafted, b"PK\x03\x04", 6, b"\x01\x00")
    refused(tmp_path, crafted, "is encrypted")


@pytest.mark.parametrize("version", [b"\xff\x00", b"\x40\x00"])
def test_an_unsupported_zip_version_is_refused(tmp_path, original, version):
    blob, _ = original
    refused(tmp_path, _patch_records(blob, b"PK\x01\x02", 6, version), "cannot be read")


def test_duplicate_and_foreign_entries_are_refused(tmp_path, original):
    blob, _ = original
    entries = members(blob)
    refused(tmp_path, build_zip({**entries, "notes.txt": b"hi"}), "'notes.txt'")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive, pytest.warns(UserWarning, match="Duplicate"):
        for name, data in [*entries.items(), ("model/layers.0.W.npy", b"x")]:
            archive.writestr(name, data)
    refused(tmp_path, out.getvalue(), "a second 'model/layers.0.W.npy'")


def test_a_text_file_is_not_a_checkpoint(tmp_path):
    message = refused(tmp_path, b"epoch,loss\n1,0.5\n", "not a mitbadak checkpoint")
    assert "allow_pickle" not in message


# ------------------------------------------------------ crafted headers, valid checksums
def resealed(blob: bytes, edit) -> bytes:
    """``blob`` with its JSON header changed by ``edit(header)`` (in place) and its SHA-256
    recomputed, as someone crafting a file would."""
    entries = members(blob)
    with np.load(io.BytesIO(blob)) as npz:
        arrays = {name: npz[name] for name in npz.files}
    header = json.loads(arrays.pop(checkpoint.HEADER).tobytes())
    header.pop("sha256")
    edit(header)
    header["sha256"] = checkpoint._checksum(arrays, checkpoint._canonical_json(header))
    out = io.BytesIO()
    np.save(out, np.frombuffer(json.dumps(header).encode(), np.uint8))
    entries[checkpoint.HEADER + ".npy"] = out.getvalue()
    return build_zip(entries)


def _set(*keys_and_value):
    *keys, last, value = keys_and_value

    def edit(header):
        for key in keys:
            header = header[key]
        if value is _DELETE:
            del header[last]
        else:
            header[last] = value
    return edit


_DELETE = object()


@pytest.mark.parametrize("edit, match", [
    (_set("model", "MLP"), "the header's 'model' is a str; expected an object or null"),
    (_set("meta", _DELETE), "the header's 'meta' is missing"),
    (_set("meta", [1]), "'meta' is a list"),
    (_set("rng", 5), "'rng' is a int"),
    (_set("rng", {"bit_generator": "PCG64"}), "rng is not a PCG64 state"),
    (_set("rng", "state", "state", "x"), "rng is not a PCG64 state"),
    (_set("model", "type", 3), "has no 'type'"),
    (_set("model", "type", "Evil"), "unknown model type 'Evil'"),
    (_set("model", "input_size", "six"), "cannot build a MLP"),
    (_set("model", "hidden_sizes", [10 ** 15]), "too large to build in this machine"),
    (_set("model", "hidden_sizes", None), "cannot build a MLP"),
    (_set("optimizer", []), "'optimizer' is a list"),
    (_set("optimizer", "state", {}), "optimizer['state'] is not a list"),
    (_set("optimizer", "state", [1, 2]), "optimizer['state'] is not a list of objects"),
    (_set("optimizer", "param_shapes", [[-1]]), "'param_shapes'] is not a list of shapes"),
    (_set("optimizer", "state", 0, "exp_avg", {"$array": "nope"}), "does not hold: nope"),
    (_set("meta", "x", json.loads("[" * 60 + "]" * 60)), None),  # deep, but allowed
])
def test_valid_checksums_with_malformed_fields(tmp_path, original, edit, match):
    blob, state = original
    result = load_bytes(tmp_path, resealed(blob, edit))
    if match is None:
        assert_same_state(result, state)
    else:
        assert isinstance(result, CheckpointError) and match in str(result), result


@pytest.mark.parametrize("text, match", [
    ('{"format": "mitbadak-checkpoint", "meta": ' + "[" * 100_000 + "]" * 100_000 + "}",
     "nests 100001 levels deep"),
    ('{"a": "[[[[", "b": ' + "{" * 65 + "}" * 65 + "}", "nests 66 levels deep"),
    ("[1, 2]", "the header is not a JSON object"),
    ('{"format": "mitbadak-checkpoint", "version": 1', "corrupted header"),
    ('{"format": "mitbadak-checkpoint", "version": 1e999}', "format version inf"),
    ('{"format": "mitbadak-checkpoint", "version": ' + "9" * 5000 + "}", "corrupted header"),
    ('{"format": "mitbadak-checkpoint", "version": 1}', "SHA-256"),
    ('{"format": "mitbadak-checkpoint", "version": 1, "sha256": {}}', "SHA-256"),
    ('{"format": ["x"], "version": 1}', "not a mitbadak checkpoint (format \"['x']\")"),
])
def test_crafted_json_headers_are_refused(tmp_path, original, text, match):
    blob, _ = original
    out = io.BytesIO()
    np.save(out, np.frombuffer(text.encode(), np.uint8))
    refused(tmp_path, with_entry(blob, checkpoint.HEADER + ".npy", out.getvalue()), match)


@pytest.mark.parametrize("edit", [
    _set("optimizer", "param_groups", [1]),
    _set("optimizer", "param_groups", 0, "params", 5),
    _set("optimizer", "param_groups", 0, "lr", "fast"),
    _set("optimizer", "optimizer", "SGD"),
    _set("optimizer", "state", 0, "step", "one"),
])
def test_an_optimizer_state_that_does_not_fit_is_refused(tmp_path, original, edit):
    blob, _ = original
    path = tmp_path / "c.npz"
    path.write_bytes(resealed(blob, edit))
    model = nn.MLP(6, [5], 3, batchnorm=True)
    with pytest.raises(CheckpointError) as caught:
        checkpoint.load(path, model, optim.Adam(model.parameters(), lr=0.01))
    assert "\n" not in str(caught.value)
