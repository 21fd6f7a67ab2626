"""Draw a grid of prompts × seeds with diffusers' own pipeline, to look at what training made.

  PYTHONPATH=<diffusers>/src python scripts/train/sample.py public/models/shapes-sd grid.png
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPTokenizer

PROMPTS = [
    "a red circle on a blue background",
    "a yellow square on a green background, top left",
    "a small white triangle on a black background, bottom right",
    "a purple circle on a white background, left",
    "a pink square on a grey background, top",
    "a circle",
]


def load(folder: Path, unet_dir: Path | None = None) -> StableDiffusionPipeline:
    return StableDiffusionPipeline(
        vae=AutoencoderKL.from_pretrained(folder / "vae", torch_dtype=torch.float32),
        text_encoder=CLIPTextModel.from_pretrained(folder / "text_encoder", torch_dtype=torch.float32),
        tokenizer=CLIPTokenizer.from_pretrained(folder / "tokenizer"),
        unet=UNet2DConditionModel.from_pretrained(unet_dir or folder / "unet", torch_dtype=torch.float32),
        scheduler=PNDMScheduler.from_pretrained(folder / "scheduler"),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def main() -> None:
    folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    scale = float(sys.argv[3]) if len(sys.argv) > 3 else 7.5
    pipe = load(folder)
    rows = []
    for prompt in PROMPTS:
        row = []
        for seed in range(4):
            image = pipe(
                prompt, height=256, width=256, num_inference_steps=20, guidance_scale=scale,
                generator=torch.Generator().manual_seed(seed), output_type="np",
            ).images[0]
            row.append((image * 255).round().astype(np.uint8))
        rows.append(np.concatenate(row, 1))
    Image.fromarray(np.concatenate(rows, 0)).save(out)
    print("wrote", out)


if __name__ == "__main__":
    main()
