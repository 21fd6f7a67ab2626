"""The SDXL reference networks with their fp16-variant weights computed in float32, for
tests/fixtures/goldens/sdxl-fp16w/<case>.safetensors.

    PYTHONPATH=../shared/vendor/diffusers/src python3 python/goldens/sdxl_fp16w.py

../shared/goldens/sdxl/<case>/io.safetensors holds the float32-weight outputs only. The fp16
variant's weights differ from those by float16 rounding (about 1e-3 relative at the outputs), so a
test of the app's fp16-weight path needs the outputs of those same rounded weights: transformers'
CLIPTextModel(WithProjection), diffusers' UNet2DConditionModel and AutoencoderKL loaded with
`variant="fp16"` and `torch_dtype=float32`, fed the inputs of io.safetensors. Keys mirror io's.
"""

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors.numpy import load_file, save_file
from transformers import CLIPTextModel, CLIPTextModelWithProjection

for case in ["sdxl", "sdxl-turbo", "sdxl-inpaint"]:
    folder = f"tests/fixtures/sdxl/{case}"
    io = {k: torch.from_numpy(v) for k, v in load_file(f"{folder}/io.safetensors").items()}
    kw = dict(variant="fp16", torch_dtype=torch.float32)
    out = {}
    with torch.no_grad():
        for key, cls, sub in [
            ("text", CLIPTextModel, "text_encoder"),
            ("text_2", CLIPTextModelWithProjection, "text_encoder_2"),
        ]:
            model = cls.from_pretrained(folder, subfolder=sub, **kw).eval()
            res = model(io[f"{key}.input_ids"], output_hidden_states=True)
            out[f"{key}.last_hidden_state"] = res.last_hidden_state
            out[f"{key}.penultimate_hidden_state"] = res.hidden_states[-2]
            if key == "text_2":
                out["text_2.text_embeds"] = res.text_embeds
        unet = UNet2DConditionModel.from_pretrained(folder, subfolder="unet", **kw).eval()
        out["unet.out_sample"] = unet(
            io["unet.sample"],
            io["unet.timestep"],
            encoder_hidden_states=io["unet.encoder_hidden_states"],
            added_cond_kwargs={"text_embeds": io["unet.text_embeds"], "time_ids": io["unet.time_ids"]},
        ).sample
        vae = AutoencoderKL.from_pretrained(folder, subfolder="vae", **kw).eval()
        out["vae.decoded"] = vae.decode(io["vae.latent_sample"]).sample
        out["vae.latent_parameters"] = vae.encode(io["vae.image"]).latent_dist.parameters
    save_file(
        {k: v.contiguous().numpy() for k, v in out.items()},
        f"tests/fixtures/goldens/sdxl-fp16w/{case}.safetensors",
    )
    print(case, {k: tuple(v.shape) for k, v in out.items()})
