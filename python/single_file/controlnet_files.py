"""
A1111 (LDM) single-file ControlNets for the app's tests, checked with diffusers' own converter
(diffusers.loaders.single_file_utils.convert_controlnet_checkpoint, LDM -> diffusers):

1. Names and shapes (no weights) of real single-file ControlNets: SD 1.5's
   `control_v11p_sd15_canny.safetensors` (`control_model.*`) and an SD 2.1 one in the layout
   thibaud/controlnet-sd21 publishes (no prefix), built with the official configs on torch's meta
   device and renamed to the LDM layout; diffusers' converter must give back exactly
   ControlNetModel's state dict.
2. The tiny reference ControlNet (tests/fixtures/controlnet/sd1-canny) written in that layout,
   whose conversion by diffusers must give back its weights bit for bit.

    PYTHONPATH=<diffusers>/src python3 python/single_file/controlnet_files.py \
      tests/fixtures/controlnet/sd1-canny tests/fixtures/single-file-headers
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch
from diffusers import ControlNetModel
from diffusers.loaders import single_file_utils as sfu
from safetensors.numpy import load_file, save_file

sys.path.insert(0, str(Path(__file__).parent))
from real_headers import SD1_UNET, SD2_UNET, ldm_unet, meta, shapes  # noqa: E402


def controlnet_config(unet):
    config = {k: v for k, v in unet.items() if k not in ("up_block_types", "sample_size")}
    return dict(config, conditioning_embedding_out_channels=[16, 32, 96, 256])


def ldm_controlnet(state, layers, prefix):
    """ControlNetModel's names in the LDM ControlNet layout."""
    unet_part = {k: v for k, v in state.items() if not k.startswith(("controlnet_", "controlnet_cond_embedding"))}
    out = {k.removeprefix("model.diffusion_model."): v for k, v in ldm_unet(unet_part, layers=layers).items()}
    hint_blocks = sorted({int(k.split(".")[2]) for k in state if k.startswith("controlnet_cond_embedding.blocks.")})
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] == "controlnet_down_blocks":
            out[f"zero_convs.{parts[1]}.0.{parts[2]}"] = value
        elif parts[0] == "controlnet_mid_block":
            out[f"middle_block_out.0.{parts[1]}"] = value
        elif parts[0] == "controlnet_cond_embedding":
            if parts[1] == "conv_in":
                index = 0
            elif parts[1] == "conv_out":
                index = 2 * (len(hint_blocks) + 1)
            else:
                index = 2 * (int(parts[2]) + 1)
            out[f"input_hint_block.{index}.{parts[-1]}"] = value
    return {prefix + k: v for k, v in out.items()}


def check(name, got, want):
    assert set(got) == set(want), f"{name}: diffusers reads {sorted(set(got) ^ set(want))[:5]} differently"
    for k in want:
        assert list(got[k].shape) == list(want[k].shape), f"{name}: {k} {got[k].shape} vs {want[k].shape}"


def headers(target):
    for name, unet, prefix in [("controlnet-sd15", SD1_UNET, "control_model."), ("controlnet-sd21", SD2_UNET, "")]:
        config = controlnet_config(unet)
        with torch.device("meta"):
            model = ControlNetModel(**config)
        header = ldm_controlnet(shapes(model.state_dict()), 2, prefix)
        converted = sfu.convert_controlnet_checkpoint(meta(header), dict(model.config))
        check(name, converted, model.state_dict())
        record = {
            "diffusers_model_type": sfu.infer_diffusers_model_type(meta(header)),
            "tensors": {k: header[k] for k in sorted(header)},
            "diffusers": {k: v for k, v in sorted(shapes(model.state_dict()).items())},
        }
        Path(target, f"{name}.json").write_text(json.dumps(record, separators=(",", ":")) + "\n")
        print(name, len(header), "tensors; diffusers calls it", record["diffusers_model_type"])


def tiny(folder):
    config = json.loads(Path(folder, "config.json").read_text())
    state = load_file(str(Path(folder, "diffusion_pytorch_model.safetensors")))
    layers = config["layers_per_block"]
    # ldm_unet numbers input blocks 3i + j + 1, which holds for layers_per_block = 2 only.
    ldm = {}
    for key, value in state.items():
        ldm.update(ldm_tiny(key, value, layers))
    ckpt = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in ldm.items()}
    converted = sfu.convert_controlnet_checkpoint(ckpt, config)
    assert set(converted) == set(state), sorted(set(converted) ^ set(state))[:5]
    for k, v in state.items():
        assert np.array_equal(converted[k].numpy(), v), k
    out = Path(folder, "single-file", "control_sd1_canny_tiny.safetensors")
    out.parent.mkdir(exist_ok=True)
    save_file({k: np.ascontiguousarray(v) for k, v in ldm.items()}, str(out))
    print("tiny", len(ldm), "tensors ->", out)


RESNET = [
    ("norm1", "in_layers.0"),
    ("conv1", "in_layers.2"),
    ("time_emb_proj", "emb_layers.1"),
    ("norm2", "out_layers.0"),
    ("conv2", "out_layers.3"),
    ("conv_shortcut", "skip_connection"),
]


def ldm_tiny(key, value, layers):
    """One tensor's LDM ControlNet name for any layers_per_block: input block 1 + i·(layers + 1) + j."""

    def resnet(rest):
        for new, old in RESNET:
            rest = rest.replace(new, old)
        return rest

    p = key.split(".")
    name = None
    if key.startswith("time_embedding.linear_1."):
        name = "time_embed.0." + p[-1]
    elif key.startswith("time_embedding.linear_2."):
        name = "time_embed.2." + p[-1]
    elif key.startswith("conv_in."):
        name = "input_blocks.0.0." + p[-1]
    elif p[0] == "down_blocks":
        i, kind, j, rest = int(p[1]), p[2], int(p[3]), ".".join(p[4:])
        block = 1 + i * (layers + 1) + j
        if kind == "resnets":
            name = f"input_blocks.{block}.0.{resnet(rest)}"
        elif kind == "attentions":
            name = f"input_blocks.{block}.1.{rest}"
        else:
            name = f"input_blocks.{(i + 1) * (layers + 1)}.0.op.{'.'.join(p[5:])}"
    elif p[0] == "mid_block":
        kind, j, rest = p[1], int(p[2]), ".".join(p[3:])
        name = f"middle_block.1.{rest}" if kind == "attentions" else f"middle_block.{2 * j}.{resnet(rest)}"
    elif p[0] == "controlnet_down_blocks":
        name = f"zero_convs.{p[1]}.0.{p[2]}"
    elif p[0] == "controlnet_mid_block":
        name = f"middle_block_out.0.{p[1]}"
    elif p[0] == "controlnet_cond_embedding":
        index = {"conv_in": 0, "conv_out": 14}.get(p[1])
        name = f"input_hint_block.{index if index is not None else 2 * (int(p[2]) + 1)}.{p[-1]}"
    assert name, key
    return {"control_model." + name: value}


if __name__ == "__main__":
    tiny(sys.argv[1])
    headers(sys.argv[2])
