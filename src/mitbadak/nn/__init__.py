"""Neural-network building blocks: ``from mitbadak import nn``.

* ``module``        `Module` (the tree of layers, its parameters and state) and `Parameter`
* ``linear``        `Linear`, the book's Affine layer
* ``activation``    `ReLU`, `Sigmoid`, `Tanh`, `LeakyReLU`, `Identity`, `Softmax`
* ``container``     `Sequential`
* ``normalization`` `BatchNorm1d`, `BatchNorm2d`
* ``conv``          `Conv2d`, `ConvTranspose2d`, `MaxPool2d`, `AvgPool2d`, `Flatten` (chapter 7)
* ``dropout``       `Dropout`
* ``mlp``           `MLP` (the book's MultiLayerNetExtend) and `TwoLayerNet`
* ``convnets``      `SimpleConvNet` (chapter 7) and `DeepConvNet` (chapter 8)
* ``summary``       `summary(model, input_shape)`: layers, output shapes, parameters, memory
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
from mitbadak.nn.conv import AvgPool2d, Conv2d, ConvTranspose2d, Flatten, MaxPool2d
from mitbadak.nn.convnets import DeepConvNet, SimpleConvNet
from mitbadak.nn.dropout import Dropout
from mitbadak.nn.linear import Linear
from mitbadak.nn.mlp import MLP, TwoLayerNet
from mitbadak.nn.module import IncompatibleKeys, Module, Parameter
from mitbadak.nn.normalization import BatchNorm1d, BatchNorm2d
from mitbadak.nn.summary import Summary, summary

__all__ = [
    "ACTIVATIONS", "MLP", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "DeepConvNet",
    "Dropout", "Flatten", "MaxPool2d", "Identity", "IncompatibleKeys",
    "LeakyReLU", "Linear", "Module", "Parameter", "ReLU", "Sequential", "Sigmoid",
    "SimpleConvNet", "Softmax", "Summary", "Tanh", "TwoLayerNet", "get_activation", "summary",
]
__all__ += ["ConvTranspose2d"]
