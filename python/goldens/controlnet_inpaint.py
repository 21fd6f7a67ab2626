"""ControlNet inpainting references, for tests/fixtures/goldens/controlnet-inpaint/.

    PYTHONPATH=../shared/vendor/diffusers/src python3 python/goldens/controlnet_inpaint.py \
        tests/fixtures/goldens/controlnet-inpaint

diffusers' StableDiffusionControlNetInpaintPipeline with the tiny reference ControlNet
(tests/fixtures/controlnet/sd1-canny) on the `sd1` checkpoint (4-channel UNet: the latents outside
the mask blended back each step) and on `sd1-inpaint` (9-channel UNet: mask and masked-image
latents as input), with the start picture and mask of sd1-inpaint's own inpaint run and the
control picture of the controlnet-canny run. Each run is <run>.json (settings) +
<run>.safetensors (`image`, `start_image`, `mask`, `control_image`, uint8).
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch
from diffusers import ControlNetModel, PNDMScheduler, StableDiffusionControlNetInpaintPipeline
from PIL import Image
from safetensors.numpy import load_file, save_file

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
controlnet = ControlNetModel.from_pretrained("tests/fixtures/controlnet/sd1-canny", torch_dtype=torch.float32)
inputs = load_file("tests/fixtures/networks/sd1-inpaint/pipelines/inpaint.safetensors")
control = load_file("tests/fixtures/controlnet/sd1-canny/pipelines/controlnet-canny.safetensors")["control_image"]
start, mask = inputs["start_image"], inputs["mask"]

RUNS = [
    dict(run="controlnet-inpaint-sd1", checkpoint="sd1", strength=0.8, scale=1.0, seed=5021, end=1.0),
    dict(run="controlnet-inpaint-9ch", checkpoint="sd1-inpaint", strength=1.0, scale=0.7, seed=5022, end=0.8),
]
for r in RUNS:
    folder = f"tests/fixtures/networks/{r['checkpoint']}"
    pipe = StableDiffusionControlNetInpaintPipeline.from_pretrained(
        folder, controlnet=controlnet, safety_checker=None, requires_safety_checker=False, torch_dtype=torch.float32
    )
    pipe.scheduler = PNDMScheduler.from_pretrained(folder, subfolder="scheduler")
    pipe.set_progress_bar_config(disable=True)
    settings = dict(
        prompt="a red bicycle leaning on a wall",
        negative_prompt="",
        height=64,
        width=96,
        num_inference_steps=6,
        guidance_scale=7.5,
        strength=r["strength"],
        controlnet_conditioning_scale=r["scale"],
        control_guidance_start=0.0,
        control_guidance_end=r["end"],
    )
    result = pipe(
        **settings,
        image=Image.fromarray(start),
        mask_image=Image.fromarray(mask),
        control_image=Image.fromarray(control),
        generator=torch.Generator().manual_seed(r["seed"]),
        output_type="np",
    ).images[0]
    pixels = np.ascontiguousarray((result * 255).round().clip(0, 255).astype(np.uint8))
    save_file(
        {"image": pixels, "start_image": start, "mask": mask, "control_image": control},
        str(out / f"{r['run']}.safetensors"),
    )
    (out / f"{r['run']}.json").write_text(
        json.dumps(
            {
                **settings,
                "seed": r["seed"],
                "scheduler": "pndm",
                "mode": "inpaint",
                "checkpoint": r["checkpoint"],
                "guess_mode": False,
            },
            indent=1,
        )
    )
    Image.fromarray(pixels).save(out / f"{r['run']}.png")
    print(r["run"], pixels.shape)
