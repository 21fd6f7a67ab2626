"""Another VAE for the tiny `sdxl` checkpoint, and diffusers' image with it, for
tests/fixtures/goldens/sdxl-vae/ (the app's VAE override, as madebyollin/sdxl-vae-fp16-fix is used).

    PYTHONPATH=../shared/vendor/diffusers/src python3 python/goldens/sdxl_vae.py

- `vae-fix/`: sdxl's VAE with every decoder weight perturbed (seeded) and `force_upcast: false`,
  as the fp16-fix VAE's config says, saved by `save_pretrained` (config.json +
  diffusion_pytorch_model.safetensors): a VAE folder as the hub has them.
- `vae-fix.safetensors`: the same weights as an A1111 VAE file (LDM names without a prefix:
  `encoder.down.0.block.0.…`, `decoder.mid.attn_1.q.weight` as 1×1 convs), which diffusers'
  `AutoencoderKL.from_single_file` reads back as the same VAE (checked).
- `vae-fix-image`: diffusers' StableDiffusionXLPipeline with `vae=` that VAE, the settings of
  sdxl's `txt2img-negative`.
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch
from diffusers import AutoencoderKL, StableDiffusionXLPipeline
from PIL import Image
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).parent.parent / "single_file"))
from real_headers import ldm_vae  # noqa: E402

FOLDER = "tests/fixtures/sdxl/sdxl"
OUT = Path("tests/fixtures/goldens/sdxl-vae")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    vae = AutoencoderKL.from_pretrained(FOLDER, subfolder="vae", torch_dtype=torch.float32)
    g = torch.Generator().manual_seed(2929)
    with torch.no_grad():
        for p in vae.decoder.parameters():
            p += torch.randn(p.shape, generator=g) * 0.05 * (p.abs().mean() + 1e-3)
    vae.register_to_config(force_upcast=False)
    vae.save_pretrained(OUT / "vae-fix", safe_serialization=True)

    state = {k: v.contiguous() for k, v in vae.state_dict().items()}
    names = ldm_vae({k: [k] for k in state})
    single = {}
    for new, (old, *conv) in names.items():
        single[new.removeprefix("first_stage_model.")] = state[old][:, :, None, None] if conv else state[old]
    save_file(single, str(OUT / "vae-fix.safetensors"))
    # diffusers' own single-file loader reads it back as the same VAE.
    back = AutoencoderKL.from_single_file(str(OUT / "vae-fix.safetensors"), config=str(OUT / "vae-fix"))
    for k, v in back.state_dict().items():
        assert torch.equal(v, state[k]), k

    settings = json.loads(Path(f"{FOLDER}/pipelines/txt2img-negative.json").read_text())
    fixed = AutoencoderKL.from_pretrained(OUT / "vae-fix", torch_dtype=torch.float32)
    pipe = StableDiffusionXLPipeline.from_pretrained(FOLDER, vae=fixed, torch_dtype=torch.float32)
    image = pipe(
        prompt=settings["prompt"],
        negative_prompt=settings["negative_prompt"],
        height=settings["height"],
        width=settings["width"],
        num_inference_steps=settings["num_inference_steps"],
        guidance_scale=settings["guidance_scale"],
        generator=torch.Generator().manual_seed(settings["seed"]),
        output_type="np",
    ).images[0]
    pixels = np.ascontiguousarray(np.round(image * 255).clip(0, 255).astype(np.uint8))
    save_file({"image": torch.from_numpy(pixels)}, str(OUT / "vae-fix-image.safetensors"))
    Image.fromarray(pixels).save(OUT / "vae-fix-image.png")
    (OUT / "vae-fix-image.json").write_text(json.dumps({**settings, "vae": "vae-fix"}, indent=1))
    own = np.asarray(Image.open(f"{FOLDER}/pipelines/txt2img-negative.png"), dtype=float)
    print("against the model's own VAE:", np.abs(pixels.astype(float) - own).mean())


if __name__ == "__main__":
    main()
