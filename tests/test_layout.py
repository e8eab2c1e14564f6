"""The package layout: `import mitbadak` loads the core only, the rest on first use, and the
names that moved in 0.2 still resolve or say where they went."""

import subprocess
import sys

import pytest


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout


def test_import_loads_the_core_and_ops_only():
    loaded = _run("import sys, mitbadak\n"
                  "print(' '.join(sorted(m for m in sys.modules if m.startswith('mitbadak'))))\n"
                  "print(' '.join(m for m in ('urllib', 'pathlib', 'matplotlib', 'tqdm')"
                  " if m in sys.modules))").splitlines()
    ours = loaded[0].split()
    assert all(m == "mitbadak" or m.startswith(("mitbadak.autograd", "mitbadak.functional"))
               for m in ours), ours
    assert loaded[1:] in ([], [""])


def test_subpackages_load_on_first_use():
    out = _run("import sys, mitbadak as mb\n"
               "print('mitbadak.nn' in sys.modules, mb.nn.Linear.__name__,"
               " 'mitbadak.nn' in sys.modules)")
    assert out.split() == ["False", "Linear", "True"]


def test_moved_names_resolve_as_attributes():
    import mitbadak as mb
    from mitbadak.training import checkpoint, trainer

    assert mb.train.Trainer is trainer.Trainer
    assert mb.checkpoint is checkpoint
    assert mb.perceptron.AND(1, 1) == 1


def test_a_moved_module_names_its_new_place():
    with pytest.raises(ModuleNotFoundError, match=r"mitbadak\.train moved to mitbadak\.training"):
        import mitbadak.train  # noqa: F401


def test_unknown_attribute_is_an_attribute_error():
    import mitbadak as mb

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        mb.nope  # noqa: B018
