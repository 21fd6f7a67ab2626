"""A1111's hires fix composed from diffusers' own pipelines, for tests/fixtures/goldens/hires/.

    PYTHONPATH=../shared/vendor/diffusers/src python3 python/goldens/hires_fix.py tests/fixtures/goldens/hires

On the `sd1` reference checkpoint: StableDiffusionPipeline at the set size (latents out), upscaled
("latent": torch's bilinear interpolate of those latents; "lanczos": the decoded picture resized
with PIL's LANCZOS), then StableDiffusionImg2ImgPipeline from it with a generator seeded again with
the same seed. Each run is <run>.json (settings) + <run>.safetensors (`image`, uint8 [H, W, 3]).
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import EulerDiscreteScheduler, PNDMScheduler, StableDiffusionImg2ImgPipeline, StableDiffusionPipeline
from PIL import Image
from safetensors.numpy import save_file

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
folder = "tests/fixtures/networks/sd1"
base = StableDiffusionPipeline.from_pretrained(
    folder, safety_checker=None, requires_safety_checker=False, torch_dtype=torch.float32
)
base.set_progress_bar_config(disable=True)

RUNS = [
    dict(run="latent", upscaler="latent", scale=2, hires_steps=8, denoise=0.7, scheduler="pndm", seed=2024),
    dict(run="lanczos", upscaler="lanczos", scale=1.5, hires_steps=0, denoise=0.55, scheduler="euler", seed=77),
]
for r in RUNS:
    cls = PNDMScheduler if r["scheduler"] == "pndm" else EulerDiscreteScheduler
    base.scheduler = cls.from_pretrained(folder, subfolder="scheduler")
    settings = dict(
        prompt="a red bicycle leaning on a wall",
        negative_prompt="blurry",
        width=96,
        height=64,
        num_inference_steps=6,
        guidance_scale=7.5,
    )
    first = base(**settings, generator=torch.Generator().manual_seed(r["seed"]), output_type="latent").images
    w = int(settings["width"] * r["scale"]) // 8 * 8
    h = int(settings["height"] * r["scale"]) // 8 * 8
    if r["upscaler"] == "latent":
        image = F.interpolate(first, size=(h // 8, w // 8), mode="bilinear", antialias=False)
    else:
        with torch.no_grad():
            decoded = base.vae.decode(first / base.vae.config.scaling_factor).sample
        image = base.image_processor.postprocess(decoded, output_type="pil")[0].resize((w, h), Image.LANCZOS)
    second = StableDiffusionImg2ImgPipeline(**base.components)
    second.set_progress_bar_config(disable=True)
    steps = r["hires_steps"] or settings["num_inference_steps"]
    result = second(
        prompt=settings["prompt"],
        negative_prompt=settings["negative_prompt"],
        image=image,
        strength=r["denoise"],
        num_inference_steps=steps,
        guidance_scale=settings["guidance_scale"],
        generator=torch.Generator().manual_seed(r["seed"]),
        output_type="np",
    ).images[0]
    # contiguous: the pipeline gives a transposed view, and safetensors writes the buffer as it lies.
    pixels = np.ascontiguousarray((result * 255).round().clip(0, 255).astype(np.uint8))
    save_file({"image": pixels}, str(out / f"{r['run']}.safetensors"))
    (out / f"{r['run']}.json").write_text(json.dumps({**settings, **r}, indent=1))
    Image.fromarray(pixels).save(out / f"{r['run']}.png")
