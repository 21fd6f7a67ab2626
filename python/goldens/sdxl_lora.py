"""An SDXL LoRA and an SDXL embedding for the tiny `sdxl` checkpoint, and diffusers' images with
them, for tests/fixtures/goldens/sdxl-lora/.

    PYTHONPATH=../shared/vendor/diffusers/src python3 python/goldens/sdxl_lora.py

- `style-xl.kohya.safetensors`: kohya's SDXL layout: `lora_unet_<SGM block name>` (input_blocks,
  middle_block, output_blocks, as kohya's SDXL trainer names them), `lora_te1_text_model_*` and
  `lora_te2_text_model_*`, `lora_down`/`lora_up`/`alpha`, rank 4, alpha 2, on every attention
  projection, feed-forward, proj_in/proj_out and both text encoders' attention and MLP; random.
- `style-xl.peft.safetensors`: the same update in diffusers/PEFT names (`unet.`, `text_encoder.`,
  `text_encoder_2.`; alpha/rank baked into lora_B).
- `lora-<scale>`: diffusers' StableDiffusionXLPipeline image (the settings of sdxl's
  `txt2img-negative`) with the LoRA merged by hand, W + s·(alpha/rank)·up·down, in every layer.
  diffusers' own `load_lora_weights` cannot read the text-encoder half of a kohya file with
  transformers 5 here (its CLIPTextModel has no `text_model.` modules; diffusers raises an
  IndexError in get_peft_kwargs), so its UNet half is checked: `load_lora_weights` of the file's
  `lora_unet_*` tensors (SGM block names, mapped by diffusers' own converter) with
  `set_adapters(scale)` must give the image of the UNet half merged by hand (the shared sd1 LoRA
  data showed diffusers' load equals the hand merge within 0.0002/255).
- `style-xl-embedding.safetensors`: an SDXL textual-inversion file (`clip_l` [2, 16], `clip_g`
  [2, 24]); `embedding`: diffusers' image after `load_textual_inversion` of each into its encoder
  and tokenizer under `<xl-style>`.
"""

import json
from pathlib import Path

import numpy as np
import torch
from diffusers import StableDiffusionXLPipeline
from PIL import Image
from safetensors.torch import load_file, save_file

FOLDER = "tests/fixtures/sdxl/sdxl"
OUT = Path("tests/fixtures/goldens/sdxl-lora")
RANK, ALPHA = 4, 2.0
RESNET = [("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("time_emb_proj", "emb_layers.1")]


def sgm_unet_module(name, layers):
    """diffusers' UNet module name → the SGM (LDM) one kohya's SDXL LoRAs use; transformer parts only."""
    p = name.split(".")
    if p[0] == "down_blocks" and p[2] == "attentions":
        return f"input_blocks.{(layers + 1) * int(p[1]) + int(p[3]) + 1}.1." + ".".join(p[4:])
    if p[0] == "up_blocks" and p[2] == "attentions":
        return f"output_blocks.{(layers + 1) * int(p[1]) + int(p[3])}.1." + ".".join(p[4:])
    if p[0] == "mid_block" and p[1] == "attentions":
        return "middle_block.1." + ".".join(p[3:])
    return None


def targets(module):
    """Linear layers a LoRA trains: (module name, weight)."""
    return [(n, m.weight) for n, m in module.named_modules() if isinstance(m, torch.nn.Linear)]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    pipe = StableDiffusionXLPipeline.from_pretrained(FOLDER, torch_dtype=torch.float32)
    layers = pipe.unet.config.layers_per_block
    g = torch.Generator().manual_seed(29)
    kohya, peft, updates = {}, {}, {}
    parts = [("unet", pipe.unet), ("text_encoder", pipe.text_encoder), ("text_encoder_2", pipe.text_encoder_2)]
    for part, module in parts:
        for name, weight in targets(module):
            if part == "unet":
                sgm = sgm_unet_module(name, layers)
                if sgm is None or "add_embedding" in name or "time_embedding" in name:
                    continue
                key = "lora_unet_" + sgm.replace(".", "_")
            else:
                if not ("self_attn" in name or "mlp" in name):
                    continue
                te = "lora_te1_" if part == "text_encoder" else "lora_te2_"
                key = te + ("text_model." + name.removeprefix("text_model.")).replace(".", "_")
            out_f, in_f = weight.shape
            down = torch.randn(RANK, in_f, generator=g) * 0.3
            up = torch.randn(out_f, RANK, generator=g) * 0.3
            kohya[f"{key}.lora_down.weight"] = down
            kohya[f"{key}.lora_up.weight"] = up
            kohya[f"{key}.alpha"] = torch.tensor(ALPHA)
            peft[f"{part}.{name}.lora_A.weight"] = down
            peft[f"{part}.{name}.lora_B.weight"] = up * (ALPHA / RANK)
            updates[(part, name)] = (ALPHA / RANK) * up @ down
    save_file(kohya, str(OUT / "style-xl.kohya.safetensors"))
    save_file(peft, str(OUT / "style-xl.peft.safetensors"))
    print(len(updates), "layers")

    settings = json.loads(Path(f"{FOLDER}/pipelines/txt2img-negative.json").read_text())

    def run(p, prompt=settings["prompt"]):
        image = p(
            prompt=prompt,
            negative_prompt=settings["negative_prompt"],
            height=settings["height"],
            width=settings["width"],
            num_inference_steps=settings["num_inference_steps"],
            guidance_scale=settings["guidance_scale"],
            generator=torch.Generator().manual_seed(settings["seed"]),
            output_type="np",
        ).images[0]
        return np.ascontiguousarray(np.round(image * 255).clip(0, 255).astype(np.uint8))

    def save(name, pixels, extra):
        save_file({"image": torch.from_numpy(pixels)}, str(OUT / f"{name}.safetensors"))
        Image.fromarray(pixels).save(OUT / f"{name}.png")
        (OUT / f"{name}.json").write_text(json.dumps({**settings, **extra}, indent=1))

    def merged(scale, parts):
        m = StableDiffusionXLPipeline.from_pretrained(FOLDER, torch_dtype=torch.float32)
        with torch.no_grad():
            for (part, name), delta in updates.items():
                if part in parts:
                    getattr(m, part).get_submodule(name).weight += scale * delta
        return m

    unet_only = {k: v for k, v in kohya.items() if k.startswith("lora_unet_")}
    save_file(unet_only, "/tmp/style-xl-unet.kohya.safetensors")
    for scale in (0.8, 0.3):
        lora = StableDiffusionXLPipeline.from_pretrained(FOLDER, torch_dtype=torch.float32)
        lora.load_lora_weights("/tmp", weight_name="style-xl-unet.kohya.safetensors", adapter_name="style")
        lora.set_adapters(["style"], adapter_weights=[scale])
        diffusers_unet = run(lora)
        unet_by_hand = run(merged(scale, {"unet"}))
        check = np.abs(diffusers_unet.astype(float) - unet_by_hand).mean()
        pixels = run(merged(scale, {"unet", "text_encoder", "text_encoder_2"}))
        plain = np.abs(pixels.astype(float) - run(pipe)).mean()
        print(f"lora {scale}: diffusers' UNet half against the hand merge {check:.4f}/255")
        print(f"lora {scale}: against no LoRA {plain:.2f}/255")
        assert check < 0.05, check
        note = "hand-merged W + s·(alpha/rank)·up·down in the UNet and both text encoders (see the script)"
        save(f"lora-{scale}", pixels, {"lora": {"file": "style-xl.kohya.safetensors", "scale": scale}, "note": note})

    embedding = {
        "clip_l": torch.randn(2, pipe.text_encoder.config.hidden_size, generator=g) * 0.05,
        "clip_g": torch.randn(2, pipe.text_encoder_2.config.hidden_size, generator=g) * 0.5,
    }
    save_file(embedding, str(OUT / "style-xl-embedding.safetensors"))
    ti = StableDiffusionXLPipeline.from_pretrained(FOLDER, torch_dtype=torch.float32)
    state = load_file(str(OUT / "style-xl-embedding.safetensors"))
    ti.load_textual_inversion(
        state["clip_g"], token="<xl-style>", text_encoder=ti.text_encoder_2, tokenizer=ti.tokenizer_2
    )
    ti.load_textual_inversion(state["clip_l"], token="<xl-style>", text_encoder=ti.text_encoder, tokenizer=ti.tokenizer)
    prompt = "a red bicycle leaning on a wall, <xl-style>"
    pixels = run(ti, prompt)
    print("embedding against no embedding:", np.abs(pixels.astype(float) - run(pipe, prompt)).mean())
    save(
        "embedding",
        pixels,
        {"prompt": prompt, "embedding": {"file": "style-xl-embedding.safetensors", "token": "<xl-style>"}},
    )


if __name__ == "__main__":
    main()
