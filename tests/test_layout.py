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
               or m in ("mitbadak.blas", "mitbadak.memory", "mitbadak.parallel")
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


# Each layer of the package and its rank: a module may import only from its own layer or a
# lower one (imports under ``if TYPE_CHECKING:`` are for annotations and do not count).
RANKS = {
    "autograd.backward": 0, "autograd.grad_mode": 0, "autograd.random": 0, "fileio": 0,
    "messages": 0, "progress": 0, "blas": 0,
    "memory": 0, "parallel": 0,
    "autograd.tensor": 1, "autograd.function": 2, "autograd": 3,
    "functional": 4, "mitbadak": 4,  # the top package loads autograd and functional only
    "nn": 5, "optim": 5, "data": 5, "numerical": 5,
    "training": 6, "viz": 6, "export": 6, "experiments": 7, "cli": 8, "__main__": 9,
    "autograd.gradient": 2, "autograd.functional": 3,
    "tune": 5,
}


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "mitbadak"
    if parts[1] == "autograd" and len(parts) > 2:
        return f"autograd.{parts[2]}"
    return parts[1]


def _imports(path, module: str):
    import ast

    tree = ast.parse(path.read_text())
    annotations_only = {id(sub) for node in ast.walk(tree) if isinstance(node, ast.If)
                        and getattr(node.test, "id", None) == "TYPE_CHECKING"
                        for sub in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in annotations_only:
            continue
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mitbadak"):
            if node.module in ("mitbadak", "mitbadak.autograd"):
                yield from (f"{node.module}.{alias.name}" for alias in node.names)
            else:
                yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("mitbadak"))


def test_dependencies_point_one_way():
    from pathlib import Path

    import mitbadak

    root = Path(mitbadak.__file__).parent
    upward = []
    for path in sorted(root.rglob("*.py")):
        module = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        here = RANKS[_layer(module)]
        for target in _imports(path, module):
            layer = _layer(target)
            if layer in RANKS and RANKS[layer] > here:
                upward.append(f"{module} imports {target}")
    assert not upward, upward
