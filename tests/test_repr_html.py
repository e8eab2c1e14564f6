"""Jupyter's rich display: `Tensor._repr_html_` and `Module._repr_html_` show the pieces a
learner checks (shape, dtype, gradient state, parameter counts), HTML-escaped; the plain-text
repr is unchanged."""

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import nn
from mitbadak.autograd.function import Function


def cell(html, key):
    """The value cell after a header cell ``key`` in a tensor's table."""
    return html.split(f">{key}</th>", 1)[1].split("</td>", 1)[0].rsplit(">", 1)[1]


def test_a_leaf_with_a_gradient():
    x = mb.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (x * 2).sum().backward()
    html = x._repr_html_()
    assert cell(html, "shape") == "(2, 2)" and cell(html, "dtype") == "float32"
    assert cell(html, "requires_grad") == "True" and cell(html, "grad_fn") == "None"
    assert cell(html, "grad") == "set, shape (2, 2)"
    assert "<pre>[[1., 2.],\n [3., 4.]]</pre>" in html
    assert repr(x) == "tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)"


def test_a_result_names_its_creator_and_has_no_gradient_yet():
    y = (mb.tensor([1.0, 2.0], requires_grad=True) * 3).sum()
    html = y._repr_html_()
    assert cell(html, "shape") == "()" and cell(html, "grad_fn") == "Sum"
    assert cell(html, "grad") == "None" and "<pre>9.</pre>" in html


@pytest.mark.parametrize("data, dtype, shape, preview", [
    (np.float64(2.5), "float64", "()", "2.5"),
    (np.zeros((0, 3)), "float32", "(0, 3)", "[]"),
    (np.array([0.5, -1.0]), "float64", "(2,)", "[ 0.5, -1. ]"),
])
def test_zero_d_empty_and_float64(data, dtype, shape, preview):
    t = mb.tensor(data, dtype=dtype)
    html = t._repr_html_()
    assert cell(html, "dtype") == dtype and cell(html, "shape") == shape
    assert f"<pre>{preview}</pre>" in html


def test_a_large_tensor_is_previewed_not_printed_whole():
    html = mb.tensor(np.arange(10_000, dtype=np.float32))._repr_html_()
    assert "..." in html and len(html) < 2_000


def test_a_creator_name_is_escaped():
    class Odd(Function):
        @property
        def name(self):
            return "a<b>&c"

        def forward(self, x):
            return x

        def backward(self, gy):
            return gy

    html = Odd.apply(mb.tensor([1.0], requires_grad=True))._repr_html_()
    assert "a&lt;b&gt;&amp;c" in html and "a<b>" not in html


def rows(html):
    """(name, type, parameters, count) of each module row."""
    body = html.split("</th></tr>", 1)[1].split("</table>")[0]
    return [tuple(c.rsplit(">", 1)[-1] for c in row.split("</td>")[:4])
            for row in body.split("</tr>") if row]


def test_a_nested_model_lists_each_module_with_its_parameters():
    mb.manual_seed(0)
    model = nn.MLP(4, [8], 3)
    html = model._repr_html_()
    assert rows(html) == [
        ("", "MLP", "", "67"),
        ("layers", "Sequential", "", "67"),
        ("0", "Linear(in_features=4, out_features=8, bias=True)", "W (4, 8), b (8,)", "40"),
        ("1", "ReLU", "", "0"),
        ("2", "Linear(in_features=8, out_features=3, bias=True)", "W (8, 3), b (3,)", "27"),
    ]
    assert "padding-left:2.5em'>0<" in html  # a grandchild sits two levels in
    assert html.startswith("<div><b>MLP</b>") and "Total: 67 parameters (268 bytes)" in html
    assert sum(p.size for p in model.parameters()) == 67


def test_a_shared_layer_is_counted_once_and_float64_bytes():
    layer = nn.Linear(300, 400)
    model = nn.Sequential(layer, nn.ReLU(), layer).to(np.float64)
    html = model._repr_html_()
    assert [r[0] for r in rows(html)] == ["", "0", "1"]
    assert "Total: 120,400 parameters (963,200 bytes)" in html


def test_module_names_and_arguments_are_escaped():
    Odd = type("Odd<T>", (nn.Module,), {"extra_repr": lambda self: "x<y & z"})  # noqa: N806
    model = nn.Module()
    setattr(model, "a<b", Odd())
    html = model._repr_html_()
    assert "a&lt;b" in html and "Odd&lt;T&gt;(x&lt;y &amp; z)" in html
    assert "<b>" not in html.replace("<div><b>Module</b>", "")
