"""Checkpoints: exact round trips, verification on read, atomic writes, no pickle."""

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn, optim
from mitbadak.training import checkpoint
from mitbadak.training.checkpoint import CheckpointError


def trained(hidden=(16,), steps=3, seed=0):
    """A small MLP (BatchNorm and dropout on) and its Adam after a few updates."""
    mb.manual_seed(seed)
    model = nn.MLP(8, list(hidden), 3, batchnorm=True, dropout=0.2)
    opt = optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        loss = F.cross_entropy(model(mb.tensor(rng.random((10, 8)))), rng.integers(0, 3, 10))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model, opt


def outputs(model, x):
    model.eval()
    with mb.no_grad():
        return model(mb.tensor(x)).data


def test_round_trip_restores_outputs_optimizer_state_and_metadata(tmp_path):
    model, opt = trained()
    path = checkpoint.save(tmp_path / "c.npz", model, opt, epoch=3, note="ok", lr=np.float32(0.5))
    rng_state = mb.random.default_generator().bit_generator.state

    fresh, fresh_opt = trained(seed=1, steps=1)
    saved = checkpoint.load(path, fresh, fresh_opt)
    x = np.random.default_rng(2).random((5, 8))
    assert np.array_equal(outputs(fresh, x), outputs(model, x))
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        assert np.array_equal(a, b) and a.dtype == b.dtype, name
    before, after = opt.state_dict(), fresh_opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for s, t in zip(before["state"], after["state"]):
        assert s.keys() == t.keys() and s["step"] == t["step"]
        assert all(np.array_equal(s[k], t[k]) for k in s if k != "step")
    assert saved.meta == {"epoch": 3, "note": "ok", "lr": 0.5}
    assert saved.rng_state == rng_state


def test_load_without_a_model_rebuilds_it_from_the_saved_architecture(tmp_path):
    model, opt = trained(hidden=(12, 7))
    checkpoint.save(tmp_path / "c.npz", model, opt)
    saved = checkpoint.load(tmp_path / "c.npz")
    assert isinstance(saved.model, nn.MLP) and saved.model.config == model.config
    x = np.random.default_rng(3).random((4, 8))
    assert np.array_equal(outputs(saved.model, x), outputs(model, x))
    assert saved.optimizer_state["optimizer"] == "Adam"


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match=r"nope\.npz: no such file"):
        checkpoint.load(tmp_path / "nope.npz")


@pytest.mark.parametrize("keep", [0, 10, 0.5, 0.999])
def test_truncated_file(tmp_path, keep):
    model, _ = trained()
    path = checkpoint.save(tmp_path / "c.npz", model)
    blob = path.read_bytes()
    path.write_bytes(blob[: int(keep * len(blob)) if isinstance(keep, float) else keep])
    with pytest.raises(CheckpointError, match=r"c\.npz: cannot be read: damaged, truncated"):
        checkpoint.load(path)


def test_flipped_byte_is_detected(tmp_path):
    model, _ = trained()
    path = checkpoint.save(tmp_path / "c.npz", model)
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 3] ^= 0x40
    path.write_bytes(bytes(blob))
    with pytest.raises(CheckpointError, match=r"c\.npz: (cannot be read|corrupted)"):
        checkpoint.load(path)


def test_changed_contents_fail_the_checksum(tmp_path):
    """A well-formed file whose arrays differ from what was saved (the zip's own CRCs are
    fine, so only the SHA-256 can notice)."""
    model, _ = trained()
    path = checkpoint.save(tmp_path / "c.npz", model)
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["model/layers.0.W"][0, 0] += 1
    np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match=r"c\.npz: corrupted \(its SHA-256"):
        checkpoint.load(path)


def test_other_files_are_refused(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a mitbadak checkpoint"):
        checkpoint.load(tmp_path / "plain.npz")
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(CheckpointError, match="single .npy array"):
        checkpoint.load(tmp_path / "one.npy")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(CheckpointError, match="not a mitbadak checkpoint") as caught:
        checkpoint.load(tmp_path / "text.npz")
    assert "pickle" not in str(caught.value)
    with pytest.raises(CheckpointError, match="not a file"):
        checkpoint.load(tmp_path)


def test_pickled_objects_are_never_loaded(tmp_path):
    model, _ = trained()
    path = checkpoint.save(tmp_path / "c.npz", model)
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["model/evil"] = np.array([{"a": 1}], dtype=object)
    np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match="'model/evil.npy' has dtype '|O'"):
        checkpoint.load(path)


def test_newer_format_version_is_refused(tmp_path, monkeypatch):
    model, _ = trained()
    monkeypatch.setattr(checkpoint, "VERSION", 2)
    checkpoint.save(tmp_path / "c.npz", model)
    monkeypatch.setattr(checkpoint, "VERSION", 1)
    with pytest.raises(CheckpointError, match="format version 2; this mitbadak reads version 1"):
        checkpoint.load(tmp_path / "c.npz")


def test_a_checkpoint_of_another_architecture_is_refused(tmp_path):
    model, opt = trained(hidden=(16,))
    checkpoint.save(tmp_path / "c.npz", model, opt)
    other, other_opt = trained(hidden=(20,))
    with pytest.raises(CheckpointError, match=r"c\.npz: holds a MLP\(.*hidden_sizes=\[16\].*"
                                              r"but the model is a MLP\(.*\[20\]"):
        checkpoint.load(tmp_path / "c.npz", other)
    custom = nn.Sequential(nn.Linear(8, 5))  # no config: the weights' shapes decide
    with pytest.raises(CheckpointError, match="saved weights do not fit the model"):
        checkpoint.load(tmp_path / "c.npz", custom)


def test_optimizer_mismatch_and_absence(tmp_path):
    model, opt = trained()
    checkpoint.save(tmp_path / "with.npz", model, opt)
    checkpoint.save(tmp_path / "without.npz", model)
    with pytest.raises(CheckpointError, match="holds no optimizer state"):
        checkpoint.load(tmp_path / "without.npz", model, opt)
    sgd = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(CheckpointError, match="optimizer state does not fit.*Adam, not SGD"):
        checkpoint.load(tmp_path / "with.npz", model, sgd)


def test_a_custom_model_needs_to_be_given(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    checkpoint.save(tmp_path / "c.npz", model)
    with pytest.raises(CheckpointError, match="holds no architecture"):
        checkpoint.load(tmp_path / "c.npz")
    copy = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    checkpoint.load(tmp_path / "c.npz", copy)
    assert all(np.array_equal(a, b) for a, b in zip(
        model.state_dict().values(), copy.state_dict().values()))


def test_metadata_must_be_json(tmp_path):
    model, _ = trained()
    with pytest.raises(TypeError, match="JSON-serialisable"):
        checkpoint.save(tmp_path / "c.npz", model, weights=np.zeros(2))
    assert not (tmp_path / "c.npz").exists()


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    model, opt = trained()
    path = checkpoint.save(tmp_path / "last.npz", model, opt, epoch=1)

    def dies_halfway(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.np, "savez", dies_halfway)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(path, model, opt, epoch=2)
    monkeypatch.undo()
    assert checkpoint.load(path).meta["epoch"] == 1
    assert os.listdir(tmp_path) == ["last.npz"]  # the temporary file is gone


def test_killing_the_process_mid_save_leaves_the_previous_checkpoint(tmp_path):
    """SIGKILL a process while it is inside a save, with half the new file written: the
    checkpoint under the name is the previous one, byte for byte, and the next save removes
    the half-written temporary file the killed process left."""
    path = tmp_path / "last.npz"
    script = textwrap.dedent(f"""
        import io, time
        import numpy as np
        import mitbadak as mb
        from mitbadak import nn
        from mitbadak.training import checkpoint

        mb.manual_seed(0)
        model = nn.MLP(784, [300], 10)
        checkpoint.save({str(path)!r}, model, epoch=1)
        print("saved", flush=True)
        savez = np.savez
        def savez_half_then_hang(file, **arrays):  # the writer, stopped mid-write
            whole = io.BytesIO()
            savez(whole, **arrays)
            file.write(whole.getvalue()[:whole.tell() // 2])
            file.flush()
            print("writing", flush=True)
            time.sleep(60)

        np.savez = savez_half_then_hang
        model.layers[0].W.data += 1
        checkpoint.save({str(path)!r}, model, epoch=2)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert process.stdout.readline() == b"saved\n"
        before = path.read_bytes()
        assert process.stdout.readline() == b"writing\n"
        temporary, = (p for p in tmp_path.iterdir() if p != path)
        assert temporary.name.startswith(f".last.npz.{process.pid}.")
        assert 0 < temporary.stat().st_size < len(before)  # killed inside the write
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    saved = checkpoint.load(path)
    assert saved.meta["epoch"] == 1
    mb.manual_seed(0)
    assert all(np.array_equal(a, b) for a, b in zip(
        saved.model.state_dict().values(), nn.MLP(784, [300], 10).state_dict().values()))
    assert temporary.exists()
    checkpoint.save(path, saved.model, epoch=3)
    assert os.listdir(tmp_path) == ["last.npz"]


def test_fortran_ordered_and_recompressed_arrays_round_trip(tmp_path):
    """Arrays NumPy stores with ``fortran_order: True`` (an F-contiguous weight), and a file
    recompressed with ``np.savez_compressed``, load exactly."""
    model, opt = trained()
    W = model.layers[0].W
    W.data = np.asfortranarray(W.data)
    assert not W.data.flags.c_contiguous
    path = checkpoint.save(tmp_path / "c.npz", model, opt)
    with np.load(path) as npz:
        np.savez_compressed(tmp_path / "z.npz", **{k: npz[k] for k in npz.files})
    for name in ("c.npz", "z.npz"):
        loaded = checkpoint.load(tmp_path / name).model.state_dict()
        for key, array in model.state_dict().items():
            assert np.array_equal(loaded[key], array) and loaded[key].dtype == array.dtype, key
