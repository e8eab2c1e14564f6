"""`mb.nn.summary`: layers, output shapes, parameter counts and memory of a model."""

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import nn


def mlp():
    mb.manual_seed(0)
    return nn.MLP(784, [100, 50], 10, batchnorm=True)


def test_mlp_counts_shapes_and_totals():
    model = mlp()
    s = nn.summary(model, (784,), batch_size=3)
    assert s.total_params == sum(p.size for p in model.parameters()) == 84_360
    assert s.trainable_params == s.total_params
    assert sum(row.params for row in s.rows) == s.total_params
    leaves = [(row.type, row.output_shape, row.params) for row in s.rows if row.leaf]
    assert leaves == [("Linear", (3, 100), 78_500), ("BatchNorm1d", (3, 100), 200),
                      ("ReLU", (3, 100), 0), ("Linear", (3, 50), 5_050),
                      ("BatchNorm1d", (3, 50), 100), ("ReLU", (3, 50), 0),
                      ("Linear", (3, 10), 510)]
    assert s.rows[0].output_shape == (3, 10) and s.rows[0].depth == 0
    assert s.params_bytes == 84_360 * 4
    assert s.forward_bytes == 3 * 4 * (100 * 3 + 50 * 3 + 10)  # float32 activations
    assert s.input_bytes == 3 * 784 * 4
    text = str(s)
    for line in ("Total params: 84,360", "Trainable params: 84,360", "Params size (MB): 0.34",
                 "Forward pass size (MB): 0.01", "Estimated total size (MB): 0.35",
                 "Linear (layers.0)", "[3, 100]", "78,500"):
        assert line in text, line
    page = s._repr_html_()
    assert page.startswith("<table") and "78,500" in page and "Total params" in page


@pytest.mark.parametrize("model", [nn.SimpleConvNet(), nn.DeepConvNet(),
                                   nn.TwoLayerNet(), mlp()], ids=type)
def test_output_shapes_and_counts_match_a_plain_forward(model):
    input_shape = (1, 28, 28) if "Conv" in type(model).__name__ else (784,)
    s = nn.summary(model, input_shape, batch_size=2)
    assert s.total_params == sum(p.size for p in model.parameters())
    model.eval()
    x = np.zeros((2, *input_shape), dtype=np.float32)
    with mb.no_grad():
        for row, layer in zip([r for r in s.rows if r.leaf], model.layers):
            x = layer(x)
            assert row.output_shape == x.shape, row.name
    assert s.rows[0].output_shape == x.shape


def test_modes_and_forward_restored_also_on_error():
    model = mlp()
    model.layers[1].eval()  # a mixed tree keeps each module's own flag
    nn.summary(model, (784,))
    assert model.training and not model.layers[1].training and model.layers[0].training
    with pytest.raises(ValueError):
        nn.summary(model, (5,))
    assert model.training and not model.layers[1].training
    assert all("forward" not in vars(m) for m in model.modules())  # the class's again


def test_a_shape_the_model_cannot_take_names_the_layer():
    with pytest.raises(ValueError) as info:
        nn.summary(mlp(), (1, 28, 28))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("summary: Linear (layers.0) cannot take an input of shape "
                              "[1, 1, 28, 28]")
    with pytest.raises(ValueError, match=r"Conv2d \(layers.0\).*\[1, 784\]"):
        nn.summary(nn.SimpleConvNet(), (784,))
    with pytest.raises(ValueError, match="positive ints"):
        nn.summary(mlp(), (0,))


def _sequence_models():
    """Every model of the sequel's and the Transformer's, with its inputs (token ids)."""
    mb.manual_seed(0)
    corpus = np.arange(20) % 7
    return [
        (nn.LSTMLanguageModel(11, 8, 8), (5,)),
        (nn.GPT(11, block_size=6, n_layer=2, n_head=2, n_embd=8), (5,)),
        (nn.CBOW(7, 4, corpus, sample_size=2, seed=0), (2,)),
        (nn.SkipGram(7, 4, corpus, sample_size=2, seed=0), ()),
        (nn.Seq2seq(11, wordvec_size=4, hidden_size=6), [(7,), (4,)]),
        (nn.PeekySeq2seq(11, wordvec_size=4, hidden_size=6), [(7,), (4,)]),
        (nn.AttentionSeq2seq(11, wordvec_size=4, hidden_size=6), [(7,), (4,)]),
    ]


@pytest.mark.parametrize(("model", "input_shape"), _sequence_models(),
                         ids=lambda m: type(m).__name__ if isinstance(m, nn.Module) else "")
def test_sequence_models_count_every_parameter_once(model, input_shape):
    """Token models take int64 ids; seq2seq takes two inputs (a list of shapes); tied weights
    (the language models' output layer is the embedding) count once, as in parameters()."""
    several = bool(input_shape) and isinstance(input_shape[0], tuple)
    dtype = [np.int64] * len(input_shape) if several else np.int64
    s = nn.summary(model, input_shape, batch_size=2, dtype=dtype)
    assert s.total_params == sum(p.size for p in model.parameters()) > 0
    assert s.rows[0].depth == 0 and "Total params" in str(s)
    expected_input = sum(2 * int(np.prod(shape)) * 8 for shape in
                         (input_shape if several else [input_shape]))
    assert s.input_bytes == expected_input


def test_several_inputs_need_as_many_dtypes():
    with pytest.raises(ValueError, match="2 input shapes but 3 dtypes"):
        nn.summary(nn.Seq2seq(11, wordvec_size=4, hidden_size=6), [(7,), (4,)],
                   dtype=[np.int64] * 3)
