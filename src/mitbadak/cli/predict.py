"""``mitbadak predict CKPT IMAGE...``: classify your own pictures of digits or garments.

A photo or drawing is made to look like the training data before the model sees it
(`prepare_image`): grey levels, light-on-dark (MNIST's digits are white on black, so a dark
digit on white paper is inverted), resized to the dataset's image size by averaging the pixels
that fall into each target pixel, padded to a square, and stretched to fill [0, 1]. Each image
that cannot be read (or is blank) gets an error line; the others are still classified, and
the command then exits with status 2.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from mitbadak.cli import UsageError
from mitbadak.data import CLASSES


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict", help="classify PNG/JPEG images with a checkpoint",
        description="Classify images with a checkpoint written by `mitbadak train`. Each image "
                    "is converted like the training data (grayscale, inverted if its "
                    "background is light, resized to the dataset's size, scaled to [0, 1]); "
                    "the most likely classes are printed with their probabilities.")
    parser.add_argument("checkpoint", metavar="CKPT", help="a checkpoint (.npz)")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="PNG or JPEG files")
    parser.add_argument("--top", type=int, default=3, metavar="K",
                        help="how many classes to show per image (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mitbadak import functional as F
    from mitbadak.autograd.tensor import Tensor
    from mitbadak.cli._common import check_fits_dataset, input_shape, load_checkpoint
    from mitbadak.training.evaluation import predict

    if args.top < 1:
        raise UsageError(f"--top must be at least 1, got {args.top}")
    saved = load_checkpoint(args.checkpoint)
    shape = input_shape(saved)  # (H*W,) for an MLP, (1, H, W) for a CNN
    side = shape[-1] if len(shape) == 3 else math.isqrt(shape[0])
    if shape not in ((side * side,), (1, side, side)):
        raise UsageError(f"{args.checkpoint}: the model does not take square grey images "
                         f"(its input is {shape})")
    dataset = saved.meta.get("settings", {}).get("dataset")
    if dataset is not None:
        check_fits_dataset(saved, dataset)
    images: dict[str, np.ndarray] = {}
    errors: dict[str, str] = {}
    for path in args.images:  # each image that cannot be used gets its line; the rest go on
        try:
            images[path] = prepare_image(path, side).reshape(shape)
        except UsageError as error:
            errors[path] = str(error)
    probabilities: dict[str, np.ndarray] = {}
    if images:
        logits = predict(saved.model, np.stack(list(images.values())))
        probabilities = dict(zip(images, F.softmax(Tensor(logits), axis=1).data))
    for path in args.images:
        if path in errors:
            print(f"mitbadak predict: error: {errors[path]}", file=sys.stderr)
            continue
        p = probabilities[path]
        names = CLASSES.get(dataset) or [str(i) for i in range(len(p))]
        best = np.argsort(p)[::-1][:args.top]
        print(f"{path}: " + ", ".join(f"{names[k]} {p[k]:.1%}" for k in best))
    return 2 if errors else 0


def prepare_image(path: str | Path, side: int) -> np.ndarray:
    """A (side, side) float32 image in [0, 1], light on dark, read from a PNG or JPEG file.

    Memory is bounded by the output, not the input: Pillow averages the grey image (8 or 32
    bits a pixel) down until its longer side is ``side``, and only that small image is padded
    to a square, in float32 (a 30000x2 picture no longer becomes a 30000x30000 array of
    float64). An image of more than Pillow's
    ``Image.MAX_IMAGE_PIXELS`` (a decompression bomb) is refused, and so is one that carries
    no ink (its grey levels span less than `MIN_CONTRAST`)."""
    from PIL import Image

    grey, scale = _read_grey(path)
    width, height = grey.size
    factor = side / max(width, height)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    small = np.asarray(grey.resize(size, Image.Resampling.BOX), dtype=np.float32) / scale
    border = np.concatenate([np.asarray(grey.crop(box), dtype=np.float32).ravel() / scale
                             for box in _edges(width, height)])
    if np.median(border) > 0.5:  # a light background: invert to light-on-dark
        small, border = 1 - small, 1 - border
    pixels = _pad_to_square(small, float(np.median(border)))
    low, high = float(pixels.min()), float(pixels.max())
    if high - low < MIN_CONTRAST:
        raise UsageError(f"{path}: the image carries no ink (it is blank: its grey levels "
                         f"span {high - low:.1%})")
    return (pixels - low) / (high - low)


# An image whose grey levels span less than this (4 of 255 levels) is taken as blank.
MIN_CONTRAST = 4 / 255


def _read_grey(path: str | Path) -> tuple[Any, float]:
    """The image as a grey Pillow image, transparency composited onto white paper, and the
    value of white in it: ("L", 255) for 8-bit images, ("F", 65535) for 16-bit ones."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():  # Pillow only warns between 1x and 2x its limit
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                if image.mode.startswith("I"):  # 16-bit (or 32-bit) grey
                    return image.convert("F"), 65535.0
                if image.mode == "F":
                    return image, 1.0
                if "A" in image.mode or "transparency" in image.info:
                    paper = Image.new("RGBA", image.size, "white")
                    return Image.alpha_composite(paper, image.convert("RGBA")).convert("L"), 255.0
                return image.convert("L"), 255.0  # L = 0.299 R + 0.587 G + 0.114 B
    except (Image.DecompressionBombError, Image.DecompressionBombWarning,  # a bomb, refused
            OSError, ValueError, SyntaxError) as error:  # what Pillow raises for a bad file
        raise UsageError(f"cannot read image {path}: {error}") from None


def _edges(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The boxes of the first and last row and column of a width x height image."""
    return [(0, 0, width, 1), (0, height - 1, width, height), (0, 0, 1, height),
            (width - 1, 0, width, height)]


def _pad_to_square(pixels: np.ndarray, background: float) -> np.ndarray:
    """Pad the shorter side equally on both ends, so the picture keeps its aspect ratio."""
    height, width = pixels.shape
    extra = abs(height - width)
    pad = ((extra // 2, extra - extra // 2), (0, 0))
    return np.pad(pixels, pad if height < width else pad[::-1], constant_values=background)
