"""Neural-network building blocks: ``from mitbadak import nn``.

* ``module``        `Module` (the tree of layers, its parameters and state) and `Parameter`
* ``linear``        `Linear`, the book's Affine layer
* ``activation``    `ReLU`, `Sigmoid`, `Tanh`, `LeakyReLU`, `Identity`, `Softmax`
* ``container``     `Sequential`
* ``normalization`` `BatchNorm1d`, `BatchNorm2d`
* ``conv``          `Conv2d`, `MaxPool2d`, `AvgPool2d`, `Flatten` (chapter 7)
* ``dropout``       `Dropout`
* ``language_model`` `LSTMLanguageModel`, the sequel's better RNNLM (chapter 6)
* ``sampling``      `sample_next(logits, temperature, top_k)`: the next token of a generator
* ``mlp``           `MLP` (the book's MultiLayerNetExtend) and `TwoLayerNet`
* ``convnets``      `SimpleConvNet` (chapter 7) and `DeepConvNet` (chapter 8)
* ``summary``       `summary(model, input_shape)`: layers, output shapes, parameters, memory
* ``embedding``     `Embedding` (the sequel's chapter 4)
* ``recurrent``     `RNN`, `LSTM`, `GRU` and `RNNCell`, `LSTMCell`, `GRUCell` (chapters 5-6)
* ``seq2seq``       `Seq2seq`, `PeekySeq2seq`, `AttentionSeq2seq` (the sequel's chapters 7-8)
"""

from mitbadak.nn.activation import (
    ACTIVATIONS,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    get_activation,
)
from mitbadak.nn.container import Sequential
from mitbadak.nn.conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from mitbadak.nn.convnets import DeepConvNet, SimpleConvNet
from mitbadak.nn.dropout import Dropout
from mitbadak.nn.embedding import Embedding
from mitbadak.nn.linear import Linear
from mitbadak.nn.mlp import MLP, TwoLayerNet
from mitbadak.nn.module import IncompatibleKeys, Module, Parameter
from mitbadak.nn.normalization import BatchNorm1d, BatchNorm2d
from mitbadak.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from mitbadak.nn.summary import Summary, summary

__all__ = [
    "ACTIVATIONS", "MLP", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "DeepConvNet",
    "Dropout", "Flatten", "MaxPool2d", "Identity", "IncompatibleKeys",
    "LeakyReLU", "Linear", "Module", "Parameter", "ReLU", "Sequential", "Sigmoid",
    "SimpleConvNet", "Softmax", "Summary", "Tanh", "TwoLayerNet", "get_activation", "summary",
]
__all__ += ["Embedding"]
__all__ += ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNCell"]

from mitbadak.nn.language_model import LSTMLanguageModel  # noqa: E402

__all__ += ["LSTMLanguageModel"]

from mitbadak.nn.word2vec import (  # noqa: E402
    CBOW,
    NegativeSamplingLoss,
    SkipGram,
    UnigramSampler,
    create_contexts_target,
    negative_sampling_loss,
)

__all__ += ["CBOW", "NegativeSamplingLoss", "SkipGram", "UnigramSampler",
            "create_contexts_target", "negative_sampling_loss"]

from mitbadak.nn.seq2seq import AttentionSeq2seq, PeekySeq2seq, Seq2seq  # noqa: E402

__all__ += ["AttentionSeq2seq", "PeekySeq2seq", "Seq2seq"]
from mitbadak.nn.activation import GELU  # noqa: E402  (issue 17: the Transformer)
from mitbadak.nn.normalization import LayerNorm  # noqa: E402

__all__ += ["GELU", "LayerNorm"]

from mitbadak.nn.transformer import GPT, MultiheadAttention, TransformerBlock  # noqa: E402

__all__ += ["GPT", "MultiheadAttention", "TransformerBlock"]
