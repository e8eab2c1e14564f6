"""``mitbadak export CKPT --format onnx|safetensors --out FILE``: a trained model for use
outside mitbadak, in ONNX Runtime (``onnx``) or PyTorch (``safetensors``)."""

from __future__ import annotations

import argparse

FORMATS = ("onnx", "safetensors")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="write a checkpoint's model as ONNX or safetensors",
        description="Export the model of a checkpoint written by `mitbadak train`: as an ONNX "
                    "file that ONNX Runtime runs (--format onnx), or as its weights under "
                    "PyTorch's names (--format safetensors). Needs "
                    "`pip install 'mitbadak[export]'`.")
    parser.add_argument("checkpoint", metavar="CKPT", help="a checkpoint (.npz)")
    parser.add_argument("--format", choices=FORMATS, required=True,
                        help="onnx (model.onnx) or safetensors (model.safetensors)")
    parser.add_argument("--out", metavar="FILE", required=True, help="the file to write")
    parser.add_argument("--opset", type=int, default=17,
                        help="the ONNX opset to target (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from mitbadak.cli._common import input_shape, load_checkpoint

    saved = load_checkpoint(args.checkpoint)  # in eval mode
    if args.format == "onnx":
        from mitbadak.export.onnx import to_onnx

        example = np.zeros((1, *input_shape(saved)), dtype=np.float32)
        path = to_onnx(saved.model, example, args.out, opset=args.opset)
    else:
        from mitbadak.export.safetensors import save_safetensors

        path = save_safetensors(saved.model, args.out)
    print(f"{args.format}: {path}")
    return 0
