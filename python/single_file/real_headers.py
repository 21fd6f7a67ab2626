"""
Tensor names and shapes (no weights) of real Stable Diffusion single-file checkpoints, for the
app's layout tests: SD 1.5, SD 1.5 inpainting, SD 2.1, SD 2 depth, SDXL base 1.0 and SDXL
inpainting 0.1 (sgm layout: `conditioner.embedders.0.transformer.*` CLIP ViT-L,
`conditioner.embedders.1.model.*` OpenCLIP ViT-bigG with every layer and its `text_projection`,
the UNet's `label_emb` as SDXL's add_embedding).

The original (LDM) names are written out here from the LDM layout, then checked with diffusers'
own single-file loader (diffusers.loaders.single_file_utils: LDM -> diffusers), which must turn
them into exactly the state dicts of diffusers' UNet, VAE and CLIP classes built with the official
configs on torch's meta device (nothing allocated). Also recorded: diffusers' own model-type guess.

    PYTHONPATH=<diffusers>/src python3 python/single_file/real_headers.py \
      tests/fixtures/single-file-headers
"""

import json
import sys
from pathlib import Path

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from diffusers.loaders import single_file_utils as sfu
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

SD1_UNET = dict(
    block_out_channels=[320, 640, 1280, 1280],
    layers_per_block=2,
    attention_head_dim=8,
    cross_attention_dim=768,
    down_block_types=["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
    up_block_types=["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
    sample_size=64,
)
SD2_UNET = dict(SD1_UNET, attention_head_dim=[5, 10, 20, 20], cross_attention_dim=1024, use_linear_projection=True)
VAE = dict(
    block_out_channels=[128, 256, 512, 512],
    layers_per_block=2,
    latent_channels=4,
    down_block_types=["DownEncoderBlock2D"] * 4,
    up_block_types=["UpDecoderBlock2D"] * 4,
)
VIT_L = dict(
    hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12, hidden_act="quick_gelu"
)
# SD 2's text encoder in diffusers: OpenCLIP ViT-H/14 up to the penultimate layer (23 of 24).
VIT_H = dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=23, num_attention_heads=16, hidden_act="gelu")

# stabilityai/stable-diffusion-xl-base-1.0's unet/config.json (the keys that shape it).
SDXL_UNET = dict(
    block_out_channels=[320, 640, 1280],
    layers_per_block=2,
    attention_head_dim=[5, 10, 20],
    cross_attention_dim=2048,
    down_block_types=["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    up_block_types=["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    transformer_layers_per_block=[1, 2, 10],
    use_linear_projection=True,
    addition_embed_type="text_time",
    addition_time_embed_dim=256,
    projection_class_embeddings_input_dim=2816,
    sample_size=128,
)
# SDXL's text_encoder_2: OpenCLIP ViT-bigG/14, every layer (SDXL reads the penultimate itself), projected.
VIT_BIGG = dict(
    hidden_size=1280,
    intermediate_size=5120,
    num_hidden_layers=32,
    num_attention_heads=20,
    hidden_act="gelu",
    projection_dim=1280,
)
SDXL_CASES = {"sdxl": 4, "sdxl-inpaint": 9}

CASES = {
    "sd15": (SD1_UNET, 4, VIT_L),
    "sd15-inpaint": (SD1_UNET, 9, VIT_L),
    "sd21": (SD2_UNET, 4, VIT_H),
    "sd2-depth": (SD2_UNET, 5, VIT_H),
}

RESNET = [
    ("norm1", "in_layers.0"),
    ("conv1", "in_layers.2"),
    ("time_emb_proj", "emb_layers.1"),
    ("norm2", "out_layers.0"),
    ("conv2", "out_layers.3"),
    ("conv_shortcut", "skip_connection"),
]


def sub(key, pairs):
    for new, old in pairs:
        key = key.replace(new, old)
    return key


def ldm_unet(state, levels=4, layers=2):
    """diffusers' UNet names in the LDM layout (`input_blocks.{3i+j+1}`, `output_blocks.{3i+j}`)."""
    out = {}
    for key, shape in state.items():
        k = key
        k = k.replace("time_embedding.linear_1.", "time_embed.0.").replace("time_embedding.linear_2.", "time_embed.2.")
        k = (
            k.replace("conv_in.", "input_blocks.0.0.")
            .replace("conv_norm_out.", "out.0.")
            .replace("conv_out.", "out.2.")
        )
        parts = k.split(".")
        if parts[0] == "down_blocks":
            i, kind, j = int(parts[1]), parts[2], int(parts[3])
            rest = ".".join(parts[4:])
            if kind == "resnets":
                k = f"input_blocks.{3 * i + j + 1}.0.{sub(rest, RESNET)}"
            elif kind == "attentions":
                k = f"input_blocks.{3 * i + j + 1}.1.{rest}"
            else:  # downsamplers.0.conv
                k = f"input_blocks.{3 * (i + 1)}.0.op.{'.'.join(parts[5:])}"
        elif parts[0] == "up_blocks":
            i, kind, j = int(parts[1]), parts[2], int(parts[3])
            rest = ".".join(parts[4:])
            if kind == "resnets":
                k = f"output_blocks.{3 * i + j}.0.{sub(rest, RESNET)}"
            elif kind == "attentions":
                k = f"output_blocks.{3 * i + j}.1.{rest}"
            else:  # upsamplers.0.conv: after the transformer when the block has one
                has_attention = any(x.startswith(f"up_blocks.{i}.attentions.") for x in state)
                k = f"output_blocks.{3 * i + 2}.{2 if has_attention else 1}.{'.'.join(parts[4:])}"
        elif parts[0] == "mid_block":
            kind, j = parts[1], int(parts[2])
            rest = ".".join(parts[3:])
            if kind == "attentions":
                k = f"middle_block.1.{rest}"
            else:
                k = f"middle_block.{2 * j}.{sub(rest, RESNET)}"
        k = k.replace("add_embedding.linear_1.", "label_emb.0.0.").replace("add_embedding.linear_2.", "label_emb.0.2.")
        out["model.diffusion_model." + k] = shape
    return out


def ldm_vae(state, levels=4):
    out = {}
    for key, shape in state.items():
        k = key.replace("conv_norm_out", "norm_out").replace("conv_shortcut", "nin_shortcut")
        parts = k.split(".")
        if parts[1] == "down_blocks":
            i, kind = parts[2], parts[3]
            k = (
                f"{parts[0]}.down.{i}.block.{parts[4]}." if kind == "resnets" else f"{parts[0]}.down.{i}.downsample."
            ) + ".".join(parts[5:])
        elif parts[1] == "up_blocks":
            i, kind = levels - 1 - int(parts[2]), parts[3]
            k = (f"decoder.up.{i}.block.{parts[4]}." if kind == "resnets" else f"decoder.up.{i}.upsample.") + ".".join(
                parts[5:]
            )
        elif parts[1] == "mid_block":
            if parts[2] == "resnets":
                k = f"{parts[0]}.mid.block_{int(parts[3]) + 1}." + ".".join(parts[4:])
            else:
                name = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out": "proj_out"}[parts[4]]
                k = f"{parts[0]}.mid.attn_1.{name}.{parts[-1]}"
                if parts[-1] == "weight" and name != "norm":
                    shape = shape + [1, 1]
        out["first_stage_model." + k] = shape
    return out


def ldm_clip(state):
    return {"cond_stage_model.transformer." + k: v for k, v in state.items() if not k.endswith("position_ids")}


def ldm_openclip(state, layers, prefix="cond_stage_model.model.", keep_all=False):
    out = {}
    for key, shape in state.items():
        k = key.removeprefix("text_model.")
        if k.endswith("position_ids"):
            continue
        if k == "text_projection.weight":
            # OpenCLIP multiplies by it (x @ P); transformers' Linear stores P transposed.
            out["text_projection"] = shape[::-1]
        elif k == "embeddings.token_embedding.weight":
            out["token_embedding.weight"] = shape
        elif k == "embeddings.position_embedding.weight":
            out["positional_embedding"] = shape
        elif k.startswith("final_layer_norm."):
            out["ln_final." + k.split(".")[-1]] = shape
        else:
            _, _, i, rest = k.split(".", 3)
            rest = sub(
                rest,
                [
                    ("layer_norm1", "ln_1"),
                    ("layer_norm2", "ln_2"),
                    ("mlp.fc1", "mlp.c_fc"),
                    ("mlp.fc2", "mlp.c_proj"),
                    ("self_attn.out_proj", "attn.out_proj"),
                ],
            )
            fused = next((p for p in "qkv" if rest.startswith(f"self_attn.{p}_proj.")), None)
            if fused:
                rest = "attn.in_proj_" + rest.split(".")[-1]
                shape = [shape[0] * 3] + shape[1:]
            out[f"transformer.resblocks.{i}.{rest}"] = shape
    if not keep_all:
        # The file's 24th resblock (SD 2 reads the 23rd) and CLIP's image-text head.
        for k in [k for k in out if k.startswith(f"transformer.resblocks.{layers - 1}.")]:
            out[k.replace(f".{layers - 1}.", f".{layers}.", 1)] = out[k]
        out["text_projection"] = [1024, 1024]
    out["logit_scale"] = []
    return {prefix + k: v for k, v in out.items()}


def shapes(state):
    return {k: list(v.shape) for k, v in state.items()}


def meta(header):
    return {k: torch.empty(v, device="meta") for k, v in header.items()}


def check(name, got, want):
    got, want = shapes(got), {k: v for k, v in shapes(want).items() if not k.endswith("position_ids")}
    got = {k: v for k, v in got.items() if not k.endswith("position_ids")}
    # transformers 4 saves CLIP's weights under `text_model.`, transformers 5 without: either reads.
    got = {k.removeprefix("text_model."): v for k, v in got.items()}
    want = {k.removeprefix("text_model."): v for k, v in want.items()}
    assert got == want, f"{name}: diffusers reads {sorted(set(got) ^ set(want))[:5]} differently"


def main(target):
    Path(target).mkdir(parents=True, exist_ok=True)
    for name, (unet_config, channels, text_config) in CASES.items():
        with torch.device("meta"):
            unet = UNet2DConditionModel(**unet_config, in_channels=channels)
            vae = AutoencoderKL(**VAE)
            text = CLIPTextModel(CLIPTextConfig(**text_config))
        header = {**ldm_unet(shapes(unet.state_dict())), **ldm_vae(shapes(vae.state_dict()))}
        sd2 = text_config is VIT_H
        header.update(ldm_openclip(shapes(text.state_dict()), 23) if sd2 else ldm_clip(shapes(text.state_dict())))
        ckpt = meta(header)
        check(f"{name} unet", sfu.convert_ldm_unet_checkpoint(ckpt, dict(unet.config)), unet.state_dict())
        check(f"{name} vae", sfu.convert_ldm_vae_checkpoint(ckpt, dict(vae.config)), vae.state_dict())
        text_state = sfu.convert_open_clip_checkpoint(text, ckpt) if sd2 else sfu.convert_ldm_clip_checkpoint(ckpt)
        check(f"{name} text", text_state, text.state_dict())
        record = {
            "diffusers_model_type": sfu.infer_diffusers_model_type(ckpt),
            "tensors": {k: header[k] for k in sorted(header)},
            "diffusers": {
                "unet": {k: v for k, v in sorted(shapes(unet.state_dict()).items())},
                "vae": {k: v for k, v in sorted(shapes(vae.state_dict()).items())},
                "text_encoder": {
                    k: v for k, v in sorted(shapes(text.state_dict()).items()) if not k.endswith("position_ids")
                },
            },
        }
        Path(target, f"{name}.json").write_text(json.dumps(record, separators=(",", ":")) + "\n")
        print(name, len(header), "tensors; diffusers calls it", record["diffusers_model_type"])


def main_sdxl(target):
    for name, channels in SDXL_CASES.items():
        with torch.device("meta"):
            unet = UNet2DConditionModel(**SDXL_UNET, in_channels=channels)
            vae = AutoencoderKL(**VAE)
            text = CLIPTextModel(CLIPTextConfig(**VIT_L))
            text_2 = CLIPTextModelWithProjection(CLIPTextConfig(**VIT_BIGG))
        header = {**ldm_unet(shapes(unet.state_dict())), **ldm_vae(shapes(vae.state_dict()))}
        header.update(
            {
                "conditioner.embedders.0.transformer." + k: v
                for k, v in shapes(text.state_dict()).items()
                if not k.endswith("position_ids")
            }
        )
        header.update(ldm_openclip(shapes(text_2.state_dict()), 32, "conditioner.embedders.1.model.", keep_all=True))
        ckpt = meta(header)
        check(f"{name} unet", sfu.convert_ldm_unet_checkpoint(ckpt, dict(unet.config)), unet.state_dict())
        check(f"{name} vae", sfu.convert_ldm_vae_checkpoint(ckpt, dict(vae.config)), vae.state_dict())
        check(f"{name} text", sfu.convert_ldm_clip_checkpoint(ckpt), text.state_dict())
        text_2_state = sfu.convert_open_clip_checkpoint(text_2, ckpt, prefix="conditioner.embedders.1.model.")
        check(f"{name} text_2", text_2_state, text_2.state_dict())
        record = {
            "diffusers_model_type": sfu.infer_diffusers_model_type(ckpt),
            "tensors": {k: header[k] for k in sorted(header)},
            "diffusers": {
                "unet": {k: v for k, v in sorted(shapes(unet.state_dict()).items())},
                "vae": {k: v for k, v in sorted(shapes(vae.state_dict()).items())},
                "text_encoder": {
                    k: v for k, v in sorted(shapes(text.state_dict()).items()) if not k.endswith("position_ids")
                },
                "text_encoder_2": {
                    k: v for k, v in sorted(shapes(text_2.state_dict()).items()) if not k.endswith("position_ids")
                },
            },
        }
        Path(target, f"{name}.json").write_text(json.dumps(record, separators=(",", ":")) + "\n")
        print(name, len(header), "tensors; diffusers calls it", record["diffusers_model_type"])


if __name__ == "__main__":
    main(sys.argv[1])
    main_sdxl(sys.argv[1])
