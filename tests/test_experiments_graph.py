"""`mitbadak.viz.to_dot` and the rendering of graphs with Graphviz."""

import shutil

import pytest

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import viz
from mitbadak.experiments import _report, compute

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")


def small_graph():
    x = mb.tensor([[1.0, 2.0]])
    W = mb.tensor([[0.5], [-1.0]], requires_grad=True)
    loss = F.sigmoid(x @ W).sum()
    return x, W, loss


def test_nodes_edges_values_and_gradients():
    x, W, loss = small_graph()
    loss.backward(retain_graph=True)
    dot = viz.to_dot(loss, names={"x": x, "W": W, "loss": loss}, values=True, grads=True)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    for text in ("label=<x>", "label=<W>", "label=<loss>", "@", "Sigmoid", "Sum", "1×2"):
        assert text in dot, text
    assert "SigmoidFunction" not in dot  # the node's class name, drawn without its suffix
    assert "‖grad‖" in dot  # W's gradient, a 2×1 array, is shown by its norm
    assert dot.count("->") == 5  # x, W -> @ -> Sigmoid -> Sum -> loss
    assert f"{loss.item():.6g}" in dot


def test_a_freed_graph_cannot_be_drawn():
    _, _, loss = small_graph()
    loss.backward()
    with pytest.raises(ValueError, match="retain_graph=True"):
        viz.to_dot(loss)


def test_a_leaf_is_a_single_node():
    assert viz.to_dot(mb.tensor(3.0)).count("->") == 0


@needs_dot
@pytest.mark.parametrize("key", ["shopping", "mlp_step"])
def test_experiment_graphs_render_with_dot(key):
    dot = compute("graph", quick=True)[key]["dot"]
    svg = viz.render(dot, "svg")
    assert b"<svg" in svg
    assert viz.render(dot, "png").startswith(b"\x89PNG")


@needs_dot
def test_render_reports_dot_errors():
    with pytest.raises(RuntimeError, match="dot failed"):
        viz.render("digraph { a -> }")


def test_without_dot_the_dot_file_is_still_written(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(viz.GraphvizNotFoundError):
        viz.render("digraph { a -> b }")
    written = _report.write_dot("digraph { a -> b }\n", tmp_path / "g.dot")
    assert written == [tmp_path / "g.dot"]
    assert "dot -Tpng" in capsys.readouterr().err


def test_float64_shopping_values_on_the_edges():
    dot = compute("graph", quick=True)["shopping"]["dot"]
    for text in ("715", "650", "2.2", "110", "3.3", "165", "1.1"):
        assert text in dot


def test_to_dot_is_a_str_that_jupyter_draws_as_svg():
    _, _, loss = small_graph()
    dot = viz.to_dot(loss)
    assert isinstance(dot, str) and dot.startswith("digraph")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz `dot` not installed")
    svg = dot._repr_svg_()
    assert svg is not None and "<svg" in svg


def test_without_graphviz_jupyter_falls_back_to_the_text(monkeypatch):
    _, _, loss = small_graph()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert viz.to_dot(loss)._repr_svg_() is None  # IPython skips a repr that returns None
