"""SDXL runs with no negative prompt, for tests/fixtures/goldens/sdxl-zeros/.

    PYTHONPATH=../shared/vendor/diffusers/src python3 python/goldens/sdxl_zeros.py

The shared SDXL runs with an empty negative prompt (`txt2img-default`, `img2img`, `inpaint`) were
made with `negative_prompt=""`, which diffusers encodes: its `force_zeros_for_empty_prompt` zeros
the negative embeddings only when `negative_prompt` is None (measured: the shared
txt2img-default image is 0.0/255 from diffusers with "" and 28.4/255 from diffusers with None).
This makes the same runs with `negative_prompt=None`, diffusers' (and A1111's) default for an
empty negative prompt: same settings, same seeds, `<run>.json` + `<run>.safetensors` (`image`,
and the `start_image`/`mask` used) + `<run>.png`.
"""

import json
from pathlib import Path

import numpy as np
import torch
from diffusers import (
    StableDiffusionXLImg2ImgPipeline,
    StableDiffusionXLInpaintPipeline,
    StableDiffusionXLPipeline,
)
from PIL import Image
from safetensors.numpy import load_file, save_file

out = Path("tests/fixtures/goldens/sdxl-zeros")
out.mkdir(parents=True, exist_ok=True)
RUNS = [
    ("sdxl", "txt2img-default", StableDiffusionXLPipeline),
    ("sdxl", "img2img", StableDiffusionXLImg2ImgPipeline),
    ("sdxl-inpaint", "inpaint", StableDiffusionXLInpaintPipeline),
]
for case, run, cls in RUNS:
    folder = f"tests/fixtures/sdxl/{case}"
    settings = json.loads(Path(f"{folder}/pipelines/{run}.json").read_text())
    inputs = load_file(f"{folder}/pipelines/{run}.safetensors")
    pipe = cls.from_pretrained(folder, torch_dtype=torch.float32)
    assert pipe.config.force_zeros_for_empty_prompt
    kw = dict(
        prompt=settings["prompt"],
        negative_prompt=None,
        num_inference_steps=settings["num_inference_steps"],
        guidance_scale=settings["guidance_scale"],
        generator=torch.Generator().manual_seed(settings["seed"]),
        output_type="np",
    )
    kept = {}
    if "start_image" in inputs:
        kept["start_image"] = inputs["start_image"]
        kw["image"] = Image.fromarray(inputs["start_image"])
        kw["strength"] = settings["strength"]
    if "mask" in inputs:
        kept["mask"] = inputs["mask"]
        kw["mask_image"] = Image.fromarray(inputs["mask"])
    height, width = inputs["image"].shape[:2]
    if cls is not StableDiffusionXLImg2ImgPipeline:
        kw["height"], kw["width"] = height, width
    image = pipe(**kw).images[0]
    # diffusers' numpy output is a transposed view; safetensors writes the buffer as laid out.
    pixels = np.ascontiguousarray(np.round(image * 255).clip(0, 255).astype(np.uint8))
    name = f"{case}-{run}"
    save_file({"image": pixels, **kept}, str(out / f"{name}.safetensors"))
    assert (load_file(str(out / f"{name}.safetensors"))["image"] == pixels).all(), name
    Image.fromarray(pixels).save(out / f"{name}.png")
    (out / f"{name}.json").write_text(json.dumps({**settings, "negative_prompt": None}, indent=1))
    print(name, "vs the shared run with '':", np.abs(pixels.astype(float) - inputs["image"]).mean())
