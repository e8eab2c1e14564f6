"""Draw a computational graph: ``mb.viz.to_dot(loss)`` gives Graphviz DOT text.

Every result of an operation remembers the `Function` node that made it (``tensor.creator``),
and every node remembers its inputs (``fn.inputs``). Walking these links back from a result
draws the graph the book sketches in chapter 5: operation nodes, input tensors, and along each
edge the value flowing forward and -- optionally, in red beneath it -- the gradient flowing
back.

``backward()`` frees the graph (``fn.inputs`` becomes None), so draw before it, or call
``backward(retain_graph=True)``. Gradients are shown where a tensor's ``.grad`` is set: leaves
after ``backward()``, and any other tensor whose ``.grad`` you assign.

Render the text with Graphviz: ``render(source, "svg")`` returns the bytes (``dot`` must be
installed), or on the command line ``dot -Tpng graph.dot -o graph.png``. In Jupyter the text
that `to_dot` returns displays as the drawn graph (SVG) when ``dot`` is installed.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from collections.abc import Mapping

import numpy as np

from mitbadak.autograd.function import Function
from mitbadak.autograd.tensor import Tensor

__all__ = ["DotSource", "GraphvizNotFoundError", "render", "to_dot"]

# Operations the book draws as a symbol in a circle.
SYMBOLS = {"Add": "+", "Sub": "−", "Mul": "×", "Div": "÷", "Neg": "−", "Pow": "^",
           "MatMul": "@"}


class GraphvizNotFoundError(FileNotFoundError):
    """Rendering needs Graphviz's ``dot`` program, which is not installed."""


class DotSource(str):
    """DOT text (a plain ``str`` in every use) that Jupyter displays as the drawn graph."""

    __slots__ = ()

    def _repr_svg_(self) -> str | None:
        """The graph as SVG text; None without Graphviz, so Jupyter shows the text instead
        (IPython skips a ``_repr_*_`` method that returns None)."""
        try:
            return render(self, "svg").decode()
        except GraphvizNotFoundError:
            return None


def to_dot(*outputs: Tensor, names: Mapping[str, Tensor] | None = None, values: bool = False,
           grads: bool = False, title: str | None = None) -> DotSource:
    """The graph that produced ``outputs``, as Graphviz DOT text (a `DotSource`: a str that
    displays as SVG in Jupyter).

    ``names`` labels tensors (``{"W1": W1, "loss": loss}``); unnamed inputs are labelled by
    their shape. With ``values``, each edge shows the tensor flowing along it (a number for a
    scalar, else its shape); with ``grads``, also its ``.grad`` (a number, else its norm).
    Raises ValueError if the graph was freed by ``backward()``.
    """
    label_of = {id(t): name for name, t in (names or {}).items()}
    lines = ["digraph mitbadak {", "  rankdir=LR;",
             '  graph [fontname="Helvetica"];', '  node [fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=10];']
    if title:
        lines.append(f"  labelloc=t; label=<{html.escape(title)}>;")
    node_ids: dict[int, str] = {}

    def node(obj: Tensor | Function, attributes: str) -> str:
        if id(obj) not in node_ids:
            node_ids[id(obj)] = f"n{len(node_ids)}"
            lines.append(f"  {node_ids[id(obj)]} [{attributes}];")
        return node_ids[id(obj)]

    def tensor_node(t: Tensor, default: str) -> str:
        name = label_of.get(id(t), default if t.ndim == 0 else _shape(t.data))
        if t.creator is not None:  # a result
            style = 'style=filled, fillcolor="#dbe9f6"'
        elif t.requires_grad:  # a parameter
            style = 'style=filled, fillcolor="#fff2cc"'
        else:  # data
            style = "color=gray"
        return node(t, f"shape=box, {style}, label=<{html.escape(name)}>")

    def source(t: Tensor) -> str:
        """The node an edge carrying ``t`` starts from: its creator, or ``t`` itself."""
        if t.creator is None:
            return tensor_node(t, "input")
        return function_node(t.creator, t)

    def function_node(fn: Function, output: Tensor) -> str:
        if fn.inputs is None:
            raise ValueError(f"to_dot: the graph through {fn.name} was freed by backward(); "
                             "draw before backward(), or call backward(retain_graph=True)")
        symbol = SYMBOLS.get(fn.name)
        text = html.escape(symbol or fn.name.removesuffix("Function"))  # ReLUFunction: ReLU
        if output.ndim:
            text += f"<br/><font point-size='9'>{_shape(output.data)}</font>"
        shape = "circle" if symbol else "box, style=rounded"
        return node(fn, f"shape={shape}, label=<{text}>")

    for t in outputs:  # the results themselves, at the right-hand end
        end = tensor_node(t, "output")
        if t.creator is not None:
            lines.append(f"  {function_node(t.creator, t)} -> {end} "
                         f"[{_edge_label(t, label_of, values, grads, named_edge=False)}];")
    done: set[int] = set()
    stack = list(outputs)
    while stack:
        t = stack.pop()
        fn = t.creator
        if fn is None or id(fn) in done:
            continue
        done.add(id(fn))
        target = function_node(fn, t)
        for x in fn.inputs or ():
            named_edge = x.creator is not None  # a leaf's name is on its node already
            lines.append(f"  {source(x)} -> {target} "
                         f"[{_edge_label(x, label_of, values, grads, named_edge)}];")
            stack.append(x)
    lines.append("}")
    return DotSource("\n".join(lines) + "\n")


def _shape(a: np.ndarray) -> str:
    return "×".join(str(n) for n in a.shape) or "scalar"


def _describe(a: np.ndarray) -> str:
    """A number for a single value, else the shape."""
    return f"{a.item():.6g}" if a.size == 1 else _shape(a)


def _edge_label(t: Tensor, label_of: dict[int, str], values: bool, grads: bool,
                named_edge: bool) -> str:
    rows = []
    if named_edge and id(t) in label_of:
        rows.append(f"<i>{html.escape(label_of[id(t)])}</i>")
    if values:
        rows.append(html.escape(_describe(t.data)))
    if grads and t.grad is not None:
        g = t.grad
        text = f"{g.item():.6g}" if g.size == 1 else f"‖grad‖ {np.linalg.norm(g):.3g}"
        rows.append(f"<font color='#d62728'>{html.escape(text)}</font>")
    return f"label=<{'<br/>'.join(rows)}>" if rows else 'label=""'


def render(source: str, fmt: str = "svg", dpi: int | None = None) -> bytes:
    """Run Graphviz's ``dot`` on DOT text and return the rendered ``fmt`` (svg, png, pdf)."""
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizNotFoundError(
            "Graphviz's `dot` is not installed (e.g. apt-get install graphviz); the DOT text "
            "can still be saved and rendered later with `dot -Tsvg graph.dot -o graph.svg`")
    command = [dot, f"-T{fmt}"] + ([f"-Gdpi={dpi}"] if dpi else [])
    done = subprocess.run(command, input=source.encode(), capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout
