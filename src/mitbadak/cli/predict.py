"""``mitbadak predict CKPT IMAGE...``: classify your own pictures of digits or garments.

A photo or drawing is made to look like the training data before the model sees it
(`prepare_image`): grey levels, light-on-dark (MNIST's digits are white on black, so a dark
digit on white paper is inverted), padded to a square, resized to the dataset's image size by
averaging the pixels that fall into each target pixel, and stretched to fill [0, 1].
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from mitbadak.cli import UsageError
from mitbadak.data import CLASSES

LUMINANCE = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601 weights of R, G and B


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
    from mitbadak.training.trainer import predict

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
    x = np.stack([prepare_image(path, side).reshape(shape) for path in args.images])
    probabilities = F.softmax(Tensor(predict(saved.model, x)), axis=1).data
    names = CLASSES.get(dataset) or [str(i) for i in range(probabilities.shape[1])]
    for path, p in zip(args.images, probabilities):
        best = np.argsort(p)[::-1][:args.top]
        print(f"{path}: " + ", ".join(f"{names[k]} {p[k]:.1%}" for k in best))
    return 0


def prepare_image(path: str | Path, side: int) -> np.ndarray:
    """A (side, side) float32 image in [0, 1], light on dark, read from a PNG or JPEG file."""
    pixels = _read(path)
    if pixels.ndim == 3:
        if pixels.shape[2] in (2, 4):  # composite a transparent picture onto white paper
            alpha = pixels[..., -1:]
            pixels = pixels[..., :-1] * alpha + (1 - alpha)
        pixels = pixels @ LUMINANCE if pixels.shape[2] == 3 else pixels[..., 0]
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    if np.median(border) > 0.5:  # a light background: invert to light-on-dark
        pixels, border = 1 - pixels, 1 - border
    pixels = _pad_to_square(pixels, float(np.median(border)))
    pixels = _resize(pixels, side)
    low, high = pixels.min(), pixels.max()
    return ((pixels - low) / (high - low) if high > low else np.zeros_like(pixels))


def _read(path: str | Path) -> np.ndarray:
    """The image as floats in [0, 1]: (H, W) gray or (H, W, channels)."""
    from matplotlib.image import imread  # PNG natively; JPEG and others through Pillow

    try:
        pixels = imread(path)
    except (OSError, ValueError, SyntaxError) as error:  # Pillow raises all three
        raise UsageError(f"cannot read image {path}: {error}") from None
    if pixels.dtype.kind in "ui":
        return pixels / np.iinfo(pixels.dtype).max
    return pixels.astype(np.float64)


def _pad_to_square(pixels: np.ndarray, background: float) -> np.ndarray:
    """Pad the shorter side equally on both ends, so resizing keeps the aspect ratio."""
    height, width = pixels.shape
    extra = abs(height - width)
    pad = ((extra // 2, extra - extra // 2), (0, 0))
    return np.pad(pixels, pad if height < width else pad[::-1], constant_values=background)


def _resize(pixels: np.ndarray, side: int) -> np.ndarray:
    """Area resampling (each output pixel is the mean of the input it covers), via Pillow."""
    from PIL import Image  # installed with matplotlib

    image = Image.fromarray(pixels.astype(np.float32))
    return np.asarray(image.resize((side, side), Image.Resampling.BOX), dtype=np.float32)
