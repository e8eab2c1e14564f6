"""`Sequential`: layers applied one after another, as the book's ``OrderedDict`` of layers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mitbadak.nn.module import Module


class Sequential(Module):
    """``Sequential(Linear(2, 8), Tanh(), Linear(8, 2))(x)`` feeds x through each module in
    order. Modules are named "0", "1", ... (so parameters are ``"0.W"``, ``"2.b"``, ...);
    ``seq[i]``, ``seq[a:b]``, ``len(seq)`` and iteration work as on a list. A slice keeps
    its layers' names, as in PyTorch (``seq[1:]`` holds "1", "2", ...), so its state_dict
    keys are the original's."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end, named by the next number no layer has (a slice such as
        ``seq[1:]`` may already hold "1" and "2": the next is then "3")."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: element {len(self)} is a {type(module).__name__}, "
                            "not a Module")
        index = len(self)
        while str(index) in self._modules:
            index += 1
        setattr(self, str(index), module)
        return self

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            part = Sequential()
            for name, module in list(self._modules.items())[index]:
                setattr(part, name, module)
            return part
        return list(self._modules.values())[index]
