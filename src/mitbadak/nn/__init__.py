"""Neural-network building blocks: ``from mitbadak import nn``.

* ``module``        `Module` (the tree of layers, its parameters and state) and `Parameter`
* ``linear``        `Linear`, the book's Affine layer
* ``activation``    `ReLU`, `Sigmoid`, `Tanh`, `LeakyReLU`, `Identity`, `Softmax`, `GELU`
* ``container``     `Sequential`
* ``normalization`` `BatchNorm1d`, `BatchNorm2d`, `LayerNorm`
* ``conv``          `Conv2d`, `ConvTranspose2d`, `MaxPool2d`, `AvgPool2d`, `Flatten` (chapter 7)
* ``dropout``       `Dropout`
* ``mlp``           `MLP` (the book's MultiLayerNetExtend) and `TwoLayerNet`
* ``convnets``      `SimpleConvNet` (chapter 7) and `DeepConvNet` (chapter 8)
* ``summary``       `summary(model, input_shape)`: layers, output shapes, parameters, memory
* ``embedding``     `Embedding` (the sequel's chapter 4)
* ``word2vec``      `CBOW`, `SkipGram`, negative sampling (the sequel's chapters 3-4);
  ``word_vectors``  the count-based method: co-occurrence, PPMI, SVD, `most_similar` (chapter 2)
* ``recurrent``     `RNN`, `LSTM`, `GRU` and `RNNCell`, `LSTMCell`, `GRUCell` (chapters 5-6)
* ``language_model`` `LSTMLanguageModel`, the sequel's better RNNLM (chapter 6)
* ``sampling``      `sample_next(logits, temperature, top_k)`: the next token of a generator
* ``seq2seq``       `Seq2seq`, `PeekySeq2seq`, `AttentionSeq2seq` (the sequel's chapters 7-8)
* ``transformer``   `MultiheadAttention`, `TransformerBlock`, `GPT`
"""

from mitbadak.nn.activation import (
    ACTIVATIONS,
    GELU,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    get_activation,
)
from mitbadak.nn.container import Sequential
from mitbadak.nn.conv import AvgPool2d, Conv2d, ConvTranspose2d, Flatten, MaxPool2d
from mitbadak.nn.convnets import DeepConvNet, SimpleConvNet
from mitbadak.nn.dropout import Dropout
from mitbadak.nn.embedding import Embedding
from mitbadak.nn.language_model import LSTMLanguageModel
from mitbadak.nn.linear import Linear
from mitbadak.nn.mlp import MLP, TwoLayerNet
from mitbadak.nn.module import IncompatibleKeys, Module, Parameter
from mitbadak.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from mitbadak.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from mitbadak.nn.seq2seq import AttentionSeq2seq, PeekySeq2seq, Seq2seq
from mitbadak.nn.summary import Summary, summary
from mitbadak.nn.transformer import GPT, MultiheadAttention, TransformerBlock
from mitbadak.nn.word2vec import (
    CBOW,
    NegativeSamplingLoss,
    SkipGram,
    UnigramSampler,
    create_contexts_target,
    negative_sampling_loss,
)

__all__ = [
    "ACTIVATIONS", "CBOW", "GELU", "GPT", "GRU", "LSTM", "MLP", "RNN", "AttentionSeq2seq",
    "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "ConvTranspose2d", "DeepConvNet",
    "Dropout", "Embedding", "Flatten", "GRUCell", "Identity", "IncompatibleKeys", "LSTMCell",
    "LSTMLanguageModel", "LayerNorm", "LeakyReLU", "Linear", "MaxPool2d", "Module",
    "MultiheadAttention", "NegativeSamplingLoss", "Parameter", "PeekySeq2seq", "RNNCell", "ReLU",
    "Seq2seq", "Sequential", "Sigmoid", "SimpleConvNet", "SkipGram", "Softmax", "Summary", "Tanh",
    "TransformerBlock", "TwoLayerNet", "UnigramSampler", "create_contexts_target",
    "get_activation", "negative_sampling_loss", "summary",
]
