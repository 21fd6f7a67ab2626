"""Draw a grid of prompts × seeds with diffusers' own pipeline, to look at what training made.

  PYTHONPATH=<diffusers>/src python python/train/sample.py public/models/shapes-sd grid.png [scale] [snapshot]

A snapshot (train.py --snapshots, e.g. .train/snapshots/base-1000) replaces the UNet and text encoder.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import diffusers
import numpy as np
import torch
from diffusers import AutoencoderKL, StableDiffusionPipeline, UNet2DConditionModel
from PIL import Image
from transformers import CLIPTextModel, CLIPTokenizer

PROMPTS = [
    "a red circle on a blue background",
    "a yellow square on a green background, top left",
    "a small white triangle on a black background, bottom right",
    "a purple circle on a white background, left",
    "a pink square on a grey background, top",
    "a circle",
]


def own_scheduler(folder: Path) -> diffusers.SchedulerMixin:
    """The scheduler class the model's scheduler_config.json names (PNDM for the committed model)."""
    config = json.loads((folder / "scheduler" / "scheduler_config.json").read_text())
    return getattr(diffusers, config["_class_name"]).from_pretrained(folder / "scheduler")


def load(folder: Path, snapshot: Path | None = None) -> StableDiffusionPipeline:
    text_dir = snapshot.with_name(snapshot.name + "-text") if snapshot else folder / "text_encoder"
    return StableDiffusionPipeline(
        vae=AutoencoderKL.from_pretrained(folder / "vae", torch_dtype=torch.float32),
        text_encoder=CLIPTextModel.from_pretrained(text_dir, torch_dtype=torch.float32),
        tokenizer=CLIPTokenizer.from_pretrained(folder / "tokenizer"),
        unet=UNet2DConditionModel.from_pretrained(snapshot or folder / "unet", torch_dtype=torch.float32),
        scheduler=own_scheduler(folder),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def main() -> None:
    folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    scale = float(sys.argv[3]) if len(sys.argv) > 3 else 7.5
    pipe = load(folder, Path(sys.argv[4]) if len(sys.argv) > 4 else None)
    rows = []
    for prompt in PROMPTS:
        row = []
        for seed in range(4):
            image = pipe(
                prompt,
                height=256,
                width=256,
                num_inference_steps=20,
                guidance_scale=scale,
                generator=torch.Generator().manual_seed(seed),
                output_type="np",
            ).images[0]
            row.append((image * 255).round().astype(np.uint8))
        rows.append(np.concatenate(row, 1))
    Image.fromarray(np.concatenate(rows, 0)).save(out)
    print("wrote", out)


if __name__ == "__main__":
    main()
