"""``mitbadak sample CKPT``: text drawn from a language model trained by ``mitbadak train
--task language-model``.

The checkpoint carries the model's architecture and the vocabulary it was trained with; the
prompt is encoded with that vocabulary, read by the model, and then ``--length`` tokens are
drawn one at a time from softmax(logits / temperature) over the ``--top-k`` most likely
(`nn.sampling`), each fed back in. The prompt and what follows it are printed.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mitbadak.cli import UsageError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from mitbadak.cli.train import _non_negative, _positive_int, non_negative_int, seed

    parser = subparsers.add_parser(
        "sample", help="generate text with a language-model checkpoint",
        description="Generate text with a checkpoint of `mitbadak train --task "
                    "language-model`: the prompt, then --length characters drawn one at a "
                    "time. A temperature below 1 keeps to the likely characters (0: always "
                    "the most likely), above 1 takes more risks; --top-k K draws among the K "
                    "most likely only.",
        epilog="example:\n  mitbadak sample runs/s/best.npz --length 500 --temperature 0.8 "
               "--prompt ROMEO:",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", metavar="CKPT", help="a language model's checkpoint (.npz)")
    parser.add_argument("--length", type=non_negative_int, default=500, metavar="N",
                        help="how many tokens to generate after the prompt (default: "
                             "%(default)s)")
    parser.add_argument("--temperature", type=_non_negative, default=0.8, metavar="T",
                        help="softmax temperature, >= 0; 0 is greedy (default: %(default)s)")
    parser.add_argument("--top-k", type=_positive_int, metavar="K",
                        help="draw among the K most likely tokens only (default: all)")
    parser.add_argument("--prompt", default="\n", metavar="TEXT",
                        help="the text to continue; each of its characters must be in the "
                             "model's vocabulary (default: a new line)")
    parser.add_argument("--seed", type=seed, metavar="S",
                        help="seed of the draws, for the same text again (default: random)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    import mitbadak as mb
    from mitbadak.cli._common import load_checkpoint
    from mitbadak.data import Vocabulary
    from mitbadak.data.vocabulary import UnknownTokenError
    from mitbadak.training.registry import ARCHITECTURES

    saved = load_checkpoint(args.checkpoint)
    kind = (saved.model_config or {}).get("type")
    if kind not in ARCHITECTURES or ARCHITECTURES[kind].input != "tokens":
        raise UsageError(f"{args.checkpoint}: a checkpoint of a {kind or 'custom model'}, not "
                         "of a language model; `mitbadak sample` needs one written by "
                         "`mitbadak train --task language-model`")
    try:
        vocabulary = Vocabulary.from_dict(saved.meta.get("vocabulary"))  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:
        raise UsageError(f"{args.checkpoint}: holds no usable vocabulary ({error})") from None
    try:
        prompt = vocabulary.encode(args.prompt)
    except UnknownTokenError as error:
        raise UsageError(f"--prompt: {error}") from None
    if prompt.size == 0:
        raise UsageError("--prompt: empty; give at least one character to start from")
    if args.seed is not None:  # else the default generator's own random seed
        mb.manual_seed(args.seed)
    model: Any = saved.model  # a registered language model: it has generate()
    ids = model.generate(prompt[None, :], args.length, temperature=args.temperature,
                         top_k=args.top_k)
    text = vocabulary.decode(np.asarray(getattr(ids, "data", ids)).reshape(-1))
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
