"""Measure what a Shapes model follows: over prompts × seeds with diffusers' own pipeline, how often
the shape's colour, the background and the position (the shape's centroid in the named cell of a
3×3 grid) are right. Colours are read as the nearest of the training palette.

  PYTHONPATH=<diffusers>/src python python/train/evaluate.py public/models/shapes-sd [scale] [snapshot]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sample import load  # noqa: E402
from scenes import COLOURS, POSITIONS  # noqa: E402

PAIRS = [("yellow", "green"), ("red", "blue"), ("white", "black")]
SHAPES = ["square", "circle", "triangle"]
SEEDS = [0, 1]


def cell(v: float) -> int:
    return 0 if v < 1 / 3 else 2 if v > 2 / 3 else 1


def read(image: np.ndarray) -> tuple[str, str, tuple[float, float] | None]:
    """(shape colour, background colour, shape centroid as fractions) of an H×W×3 image in [0, 1]."""
    names = list(COLOURS)
    palette = np.array([COLOURS[n] for n in names], dtype=np.float32) / 255
    nearest = np.argmin(((image[:, :, None, :] - palette[None, None]) ** 2).sum(-1), -1)
    edge = np.concatenate([nearest[:8].ravel(), nearest[-8:].ravel(), nearest[:, :8].ravel(), nearest[:, -8:].ravel()])
    background = int(np.bincount(edge, minlength=len(names)).argmax())
    counts = np.bincount(nearest.ravel(), minlength=len(names))
    counts[background] = 0
    shape = int(counts.argmax())
    ys, xs = np.nonzero(nearest == shape)
    centre = (float(xs.mean()) / image.shape[1], float(ys.mean()) / image.shape[0]) if len(xs) > 50 else None
    return names[shape], names[background], centre


def main() -> None:
    folder = Path(sys.argv[1])
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 7.5
    pipe = load(folder, Path(sys.argv[3]) if len(sys.argv) > 3 else None)
    pipe.set_progress_bar_config(disable=True)
    colour = background = position = total = 0
    for i, pos in enumerate(POSITIONS):
        c, b = PAIRS[i % len(PAIRS)]
        prompt = f"a {c} {SHAPES[i % 3]} on a {b} background" + ("" if pos == "centre" else f", {pos}")
        for seed in SEEDS:
            image = pipe(
                prompt,
                height=256,
                width=256,
                num_inference_steps=20,
                guidance_scale=scale,
                generator=torch.Generator().manual_seed(seed),
                output_type="np",
            ).images[0]
            seen, ground, centre = read(image)
            px, py = POSITIONS[pos]
            where = centre is not None and cell(centre[0]) == cell(px) and cell(centre[1]) == cell(py)
            colour += seen == c
            background += ground == b
            position += where
            total += 1
            at = f"{centre[0]:.2f},{centre[1]:.2f}" if centre else "-"
            print(f"{prompt!r} seed {seed}: {seen} on {ground} at {at}{'' if where else '  (position missed)'}")
    print(f"guidance {scale}: colour {colour}/{total}, background {background}/{total}, position {position}/{total}")


if __name__ == "__main__":
    main()
