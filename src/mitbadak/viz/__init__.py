"""Pictures: figures of a training run (`figures`, matplotlib's Figure API, no pyplot) and the
computational graph as Graphviz DOT text (`graph`).

matplotlib is imported only when a figure is drawn; Graphviz's ``dot`` only when rendering.
"""

from mitbadak.viz.figures import confusion_matrix, learning_curves, smooth_curve
from mitbadak.viz.graph import GraphvizNotFoundError, render, to_dot

__all__ = ["GraphvizNotFoundError", "confusion_matrix", "learning_curves", "render",
           "smooth_curve", "to_dot"]
