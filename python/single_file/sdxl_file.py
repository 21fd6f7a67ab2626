"""The tiny `sdxl` reference checkpoint as an SDXL single file (sgm layout, as A1111 and ComfyUI
users have SDXL fine-tunes), for tests/fixtures/sdxl-single-file/sdxl.fp16.safetensors.

    PYTHONPATH=../shared/vendor/diffusers/src python3 python/single_file/sdxl_file.py

The fp16 variant's tensors are renamed to the original layout with the same name maps that
real_headers.py checks on SDXL's real shapes (UNet `input_blocks`/`output_blocks`/`label_emb`,
`conditioner.embedders.0.transformer.*`, OpenCLIP's `conditioner.embedders.1.model.*` with q/k/v
fused into `in_proj` and `text_projection` stored for `x @ P`, VAE `first_stage_model.*`), then
read back with diffusers' own `StableDiffusionXLPipeline.from_single_file(config=<the folder>)`,
whose every network must equal the folder's bit for bit.
"""

import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, str(Path(__file__).parent))
from diffusers import StableDiffusionXLPipeline  # noqa: E402
from real_headers import ldm_unet, ldm_vae  # noqa: E402

FOLDER = "tests/fixtures/sdxl/sdxl"
OUT = Path("tests/fixtures/sdxl-single-file/sdxl.fp16.safetensors")


def openclip(state, prefix):
    out = {}
    fused = {}
    for key, value in state.items():
        k = key.removeprefix("text_model.")
        if k.endswith("position_ids"):
            continue
        if k == "text_projection.weight":
            out["text_projection"] = value.T.contiguous()
        elif k == "embeddings.token_embedding.weight":
            out["token_embedding.weight"] = value
        elif k == "embeddings.position_embedding.weight":
            out["positional_embedding"] = value
        elif k.startswith("final_layer_norm."):
            out["ln_final." + k.split(".")[-1]] = value
        else:
            _, _, i, rest = k.split(".", 3)
            for new, old in [
                ("layer_norm1", "ln_1"),
                ("layer_norm2", "ln_2"),
                ("mlp.fc1", "mlp.c_fc"),
                ("mlp.fc2", "mlp.c_proj"),
                ("self_attn.out_proj", "attn.out_proj"),
            ]:
                rest = rest.replace(new, old)
            part = next((p for p in "qkv" if rest.startswith(f"self_attn.{p}_proj.")), None)
            if part:
                fused.setdefault((i, rest.split(".")[-1]), {})[part] = value
            else:
                out[f"transformer.resblocks.{i}.{rest}"] = value
    for (i, kind), parts in fused.items():
        out[f"transformer.resblocks.{i}.attn.in_proj_{kind}"] = torch.cat([parts["q"], parts["k"], parts["v"]])
    out["logit_scale"] = torch.tensor(4.6052, dtype=torch.float16)
    return {prefix + k: v for k, v in out.items()}


def main():
    unet = load_file(f"{FOLDER}/unet/diffusion_pytorch_model.fp16.safetensors")
    vae = load_file(f"{FOLDER}/vae/diffusion_pytorch_model.fp16.safetensors")
    text = load_file(f"{FOLDER}/text_encoder/model.fp16.safetensors")
    text_2 = load_file(f"{FOLDER}/text_encoder_2/model.fp16.safetensors")
    ckpt = {}
    # ldm_unet/ldm_vae rename {name: shape}; given [name] as the "shape", they give each new name's
    # old one (the VAE's attention weights gain [1, 1]: their 1×1 conv shape).
    for new, (old, *_) in ldm_unet({k: [k] for k in unet}).items():
        ckpt[new] = unet[old]
    for new, (old, *conv) in ldm_vae({k: [k] for k in vae}).items():
        ckpt[new] = vae[old][:, :, None, None] if conv else vae[old]
    ckpt.update({"conditioner.embedders.0.transformer." + k: v for k, v in text.items() if "position_ids" not in k})
    ckpt.update(openclip(text_2, "conditioner.embedders.1.model."))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in ckpt.items()}, str(OUT))

    folder = StableDiffusionXLPipeline.from_pretrained(FOLDER, variant="fp16", torch_dtype=torch.float16)
    single = StableDiffusionXLPipeline.from_single_file(
        str(OUT), config=FOLDER, local_files_only=True, torch_dtype=torch.float16
    )
    for part in ["unet", "vae", "text_encoder", "text_encoder_2"]:
        a = getattr(folder, part).state_dict()
        b = getattr(single, part).state_dict()
        a = {k: v for k, v in a.items() if "position_ids" not in k}
        b = {k: v for k, v in b.items() if "position_ids" not in k}
        assert a.keys() == b.keys(), (part, sorted(set(a) ^ set(b))[:5])
        for k in a:
            assert torch.equal(a[k], b[k]), (part, k)
        print(part, len(a), "tensors equal to the folder's")
    print(OUT, len(ckpt), "tensors")


if __name__ == "__main__":
    main()
