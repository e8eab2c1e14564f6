"""XOR by backpropagation: the problem a single perceptron cannot solve (the book's chapter 2),
learned by a two-layer network with tensors and autograd (chapter 5), then checked against
numerical gradients (chapter 4).

Run: python examples/xor.py
"""

import numpy as np

import mitbadak as mb
from mitbadak import functional as F
from mitbadak.numerical import gradcheck

x = mb.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
t = np.array([0, 1, 1, 0])  # XOR of the two inputs, as class indices

rng = np.random.default_rng(0)
W1 = mb.tensor(rng.normal(0, 1, (2, 8)), requires_grad=True)
b1 = mb.tensor(np.zeros(8), requires_grad=True)
W2 = mb.tensor(rng.normal(0, 1, (8, 2)), requires_grad=True)
b2 = mb.tensor(np.zeros(2), requires_grad=True)
params = [W1, b1, W2, b2]


def predict(x):
    return F.linear(F.tanh(F.linear(x, W1, b1)), W2, b2)


for step in range(501):
    loss = F.cross_entropy(predict(x), t)
    for p in params:
        p.grad = None
    loss.backward()
    for p in params:
        p.data -= 0.5 * p.grad  # plain gradient descent
    if step % 100 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}  accuracy {F.accuracy(predict(x), t):.2f}")

with mb.no_grad():
    print("predictions:", predict(x).argmax(axis=1), "targets:", t)

# Gradient check in float64: backprop against central differences.
params64 = [mb.tensor(p.data, dtype=np.float64, requires_grad=True) for p in params]
x64 = mb.tensor(x.data, dtype=np.float64)


def loss64(w1, c1, w2, c2):
    return F.cross_entropy(F.linear(F.tanh(F.linear(x64, w1, c1)), w2, c2), t)


print(gradcheck(loss64, params64))
