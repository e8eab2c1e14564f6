"""The frameworks `bench_peers.py` compares with mitbadak, one module each.

Every module has ``LABEL`` (the table's column), ``version()`` (raises ImportError when the
framework is not installed) and ``build(layers, optimizer, lr) -> Runner``: the same network,
rebuilt from the framework-neutral `base.Layer` list that mitbadak's own model gives, with the
same initial weights. Frameworks are imported only when asked for, so any subset runs.
"""

MODULES = {  # the --peers name: the module in this package
    "floor": "floor_peer",
    "torch": "torch_peer",
    "torch-best": "torch_peer",
    "torch-compile": "torch_peer",
    "jax": "jax_peer",
    "tinygrad": "tinygrad_peer",
    "dezero": "dezero_peer",
    "mygrad": "mygrad_peer",
    "book": "book_peer",
}
OPT_IN = {"torch-compile"}  # not in the default run: inductor compiles for ~30 s a workload
