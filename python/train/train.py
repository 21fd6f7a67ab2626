"""Train Latent Studio's built-in model: a genuine (tiny) Stable Diffusion that draws shapes.

Stages, as Stable Diffusion's own models were made:
  1. vae        AutoencoderKL on pictures of scenes (reconstruction + a small KL term).
  2. base       CLIPTextModel + UNet2DConditionModel (4 channels) on a Recipe's noise schedule
                and prediction (SD's, or zero-SNR with v-prediction), captions dropped 10% of the
                time so classifier-free guidance works.
  3. inpaint    the base UNet widened to 9 input channels (latents, mask, masked-image latents), new
                weights zero so it starts as the base model, fine-tuned on random masks.
  4. depth      the base UNet widened to 5 channels (latents, depth), depth = the shape's silhouette.
The text encoder and the VAE are frozen after stages 1–2, and the variants share them.

Deterministic from --seed on the CPU. The committed model took five runs (README, "The built-in
Shapes model"), from the repository's root:
  PYTHONPATH=<diffusers>/src python python/train/train.py --out public/models/shapes-sd ...
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import diffusers  # noqa: E402
from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel  # noqa: E402
from scenes import caption, random_scene, render, silhouette  # noqa: E402
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer  # noqa: E402

SIDE = 256  # the model's native size; latents are SIDE / 8
ROOT = Path(__file__).resolve().parents[2]
TOKENIZER_DIR = ROOT / "public" / "models" / "tiny-sd" / "tokenizer"  # the real CLIP tokenizer files

TEXT_CONFIG = dict(
    vocab_size=49408,
    hidden_size=64,
    intermediate_size=256,
    num_hidden_layers=3,
    num_attention_heads=4,
    max_position_embeddings=77,
    hidden_act="quick_gelu",
    projection_dim=64,
    bos_token_id=49406,
    eos_token_id=49407,
    pad_token_id=49407,
)
UNET_CONFIG = dict(
    sample_size=SIDE // 8,
    in_channels=4,
    out_channels=4,
    block_out_channels=(32, 64, 64),
    layers_per_block=1,
    # Cross-attention at 8×8 only: 0.42 s per batch of 32 on this 2-core CPU against 0.73 s with it
    # at 16×16 as well (measured). It does not learn positions (README, "Positions").
    down_block_types=("DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
    attention_head_dim=4,
    cross_attention_dim=64,
    # 4 channels per group at the 32-channel level (32 groups would normalise each channel alone
    # and lose the per-channel offsets flat colours need).
    norm_num_groups=8,
)
# The zero-SNR experiment's UNet: five levels, down to 2×2 latents, where every cell touches the
# zero padding that is a convolution's only clue to where it is. Cross-attention at 8×8 and below:
# 0.53 s per batch of 32 for the UNet on this CPU (measured).
UNET_CONFIG_5 = dict(
    UNET_CONFIG,
    block_out_channels=(32, 64, 64, 64, 64),
    down_block_types=("DownBlock2D", "DownBlock2D") + ("CrossAttnDownBlock2D",) * 3,
    up_block_types=("CrossAttnUpBlock2D",) * 3 + ("UpBlock2D", "UpBlock2D"),
)
VAE_CONFIG = dict(
    in_channels=3,
    out_channels=3,
    latent_channels=4,
    block_out_channels=(16, 32, 64, 64),
    down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4,
    layers_per_block=1,
    # Groups of two or more channels: with one channel per group (8 groups of 8) a flat crop
    # normalises to zero before conv_out and its colour is lost (reconstructions came out pink).
    norm_num_groups=8,
    # No attention: the network stays convolutional, so 64×64 crops teach it what it does at 256.
    mid_block_add_attention=False,
    sample_size=SIDE,
)
# Stable Diffusion's training schedule; the app samples with its PNDM / Euler / DPM++ on it.
SCHEDULE = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear")


@dataclass(frozen=True)
class Recipe:
    """What a base model is trained as. "sd" made runs 1–2 of the committed model and "zero-snr" its
    runs 3–5, resuming from run 2's weights (a fresh zero-snr run builds `unet`, the five-level
    UNet of the README's first "Positions" experiment). zero-snr: SD's betas rescaled to zero
    terminal SNR (Lin et al., "Common Diffusion Noise Schedules and Sample Steps are Flawed") with
    v-prediction. On SD's own schedule a training picture at t = 999 still shows its layout in its
    low frequencies (sqrt(alpha_bar) = 0.068, over a shape of 60–220 latent cells), so a model can
    put the shape where the starting noise suggests and never need the caption's position; at zero
    SNR only the caption can say."""

    unet: dict
    schedule: dict
    offset_noise: float
    # The sampler saved with the model, a diffusers class and its arguments: DDIM with trailing
    # timesteps starts at t = 999, the pure noise a zero-SNR model was trained on there (PNDM and
    # LMS ignore zero-SNR betas).
    sampler_class: str
    sampler: dict
    ema: Callable[[int], float]


RECIPES = {
    "sd": Recipe(
        UNET_CONFIG,
        SCHEDULE,
        # Offset noise: without it a 1000-step SD schedule keeps the mean colour at t = 999 and the
        # model cannot make saturated flat backgrounds from pure noise.
        0.1,
        "PNDMScheduler",
        dict(skip_prk_steps=True, steps_offset=1, set_alpha_to_one=False),
        lambda steps: 0.999,
    ),
    "zero-snr": Recipe(
        UNET_CONFIG_5,
        dict(SCHEDULE, rescale_betas_zero_snr=True, prediction_type="v_prediction"),
        0.0,
        "DDIMScheduler",
        dict(timestep_spacing="trailing", clip_sample=False, set_alpha_to_one=True),
        # The last tenth of the run: at 0.999 a 600-step fine-tune stays 55% the weights it began as.
        lambda steps: min(0.999, 1 - 10 / steps),
    ),
}


def log(*args: object) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *args, flush=True)


class Pool:
    """Scenes drawn once; pictures as tensors in [-1, 1], silhouettes in [0, 1]."""

    def __init__(self, count: int, rng: np.random.Generator) -> None:
        self.scenes = [random_scene(rng) for _ in range(count)]
        self.images = torch.from_numpy(np.stack([render(s, SIDE) for s in self.scenes]).transpose(0, 3, 1, 2) * 2 - 1)
        self.silhouettes = torch.from_numpy(np.stack([silhouette(s, SIDE) for s in self.scenes]))[:, None]


def tokenize(tokenizer: CLIPTokenizer, texts: list[str]) -> torch.Tensor:
    return tokenizer(texts, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids


def warmup_cosine(opt: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    warm = max(1, steps // 20)
    return torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    )


def train_vae(pool: Pool, steps: int, gen: torch.Generator) -> AutoencoderKL:
    vae = AutoencoderKL(**VAE_CONFIG)
    opt = torch.optim.AdamW(vae.parameters(), lr=1e-3, weight_decay=0.0)
    sched = warmup_cosine(opt, steps)
    crop = 64  # fully convolutional: trained on crops, used at 256 (0.25 s per batch of 16, measured)
    for step in range(steps):
        idx = torch.randint(len(pool.scenes), (16,), generator=gen)
        ox, oy = (int(v) for v in torch.randint(SIDE - crop + 1, (2,), generator=gen))
        x = pool.images[idx, :, oy : oy + crop, ox : ox + crop]
        posterior = vae.encode(x).latent_dist
        z = posterior.mean + posterior.std * torch.randn(posterior.mean.shape, generator=gen)
        y = vae.decode(z).sample
        rec = F.l1_loss(y, x) + F.mse_loss(y, x)
        kl = posterior.kl().mean() / z[0].numel()
        loss = rec + 1e-4 * kl
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"vae {step}/{steps} rec {rec.item():.4f} kl/elem {kl.item():.3f}")
    vae.eval().requires_grad_(False)
    return vae


@torch.no_grad()
def encode_pool(vae: AutoencoderKL, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    means, stds = [], []
    for i in range(0, len(images), 64):
        d = vae.encode(images[i : i + 64].contiguous()).latent_dist
        means.append(d.mean)
        stds.append(d.std)
    return torch.cat(means), torch.cat(stds)


class Ema:
    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        for e, p in zip(self.model.parameters(), model.parameters(), strict=True):
            e.lerp_(p, 1 - self.decay)


def widen_conv_in(unet: UNet2DConditionModel, channels: int) -> UNet2DConditionModel:
    """A copy with `channels` inputs; the new input weights are zero, so it starts as `unet` does."""
    config = dict(unet.config)
    config["in_channels"] = channels
    wide = UNet2DConditionModel.from_config(config)
    state = unet.state_dict()
    w = state["conv_in.weight"]
    state["conv_in.weight"] = torch.cat([w, torch.zeros(w.shape[0], channels - w.shape[1], *w.shape[2:])], 1)
    wide.load_state_dict(state)
    return wide


def random_masks(count: int, pool: Pool, idx: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Inpainting masks at full size, 1 = repaint. A quarter cover the whole picture (SD's recipe),
    half are a box around the shape (so a named shape is drawn in the hole), the rest random boxes."""
    masks = torch.zeros(count, 1, SIDE, SIDE)
    kinds = torch.rand(count, generator=gen)
    for i in range(count):
        if kinds[i] < 0.25:
            masks[i] = 1
            continue
        if kinds[i] < 0.75:
            ys, xs = torch.nonzero(pool.silhouettes[int(idx[i]), 0] > 0.5, as_tuple=True)
            grow = torch.randint(4, 48, (4,), generator=gen)
            y0, y1 = int(ys.min()) - int(grow[0]), int(ys.max()) + int(grow[1])
            x0, x1 = int(xs.min()) - int(grow[2]), int(xs.max()) + int(grow[3])
        else:
            w, h = (int(v) for v in torch.randint(SIDE // 4, SIDE, (2,), generator=gen))
            x0, y0 = (int(v) for v in torch.randint(0, SIDE - min(w, h) + 1, (2,), generator=gen))
            x1, y1 = x0 + w, y0 + h
        masks[i, :, max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = 1
    return masks


class Condition:
    """The extra UNet inputs of a variant, made once per scene (a mask and its masked-image latents
    for inpainting, a depth map for depth): encoding a masked picture at every step tripled the step time."""

    def __init__(
        self,
        planes: torch.Tensor,
        means: torch.Tensor | None = None,
        stds: torch.Tensor | None = None,
        scaling: float = 1.0,
    ) -> None:
        self.planes, self.means, self.stds, self.scaling = planes, means, stds, scaling

    def __len__(self) -> int:
        return len(self.planes)

    def sample(self, idx: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if self.means is None or self.stds is None:
            return self.planes[idx]
        m, s = self.means[idx], self.stds[idx]
        return torch.cat([self.planes[idx], (m + s * torch.randn(m.shape, generator=gen)) * self.scaling], 1)


def inpaint_condition(pool: Pool, vae: AutoencoderKL, scaling: float, gen: torch.Generator, n: int) -> Condition:
    # Encoding a masked picture costs ~0.13 s on this CPU: the first n scenes get one mask each.
    masks = random_masks(n, pool, torch.arange(n), gen)
    means, stds = encode_pool(vae, pool.images[:n] * (masks < 0.5))
    # As diffusers' inpaint pipeline prepares the mask: resized to latent size (nearest).
    return Condition(F.interpolate(masks, size=(SIDE // 8, SIDE // 8)), means, stds, scaling)


def depth_condition(sil: torch.Tensor) -> torch.Tensor:
    """As diffusers' depth pipeline prepares a depth map: bicubic to latent size, then min/max to [-1, 1]."""
    d = F.interpolate(sil, size=(SIDE // 8, SIDE // 8), mode="bicubic", align_corners=False)
    lo = d.amin(dim=(1, 2, 3), keepdim=True)
    hi = d.amax(dim=(1, 2, 3), keepdim=True)
    return 2.0 * (d - lo) / (hi - lo) - 1.0


def train_unet(
    stage: str,
    unet: UNet2DConditionModel,
    text_encoder: CLIPTextModel,
    train_text: bool,
    vae: AutoencoderKL,
    pool: Pool,
    latents: tuple[torch.Tensor, torch.Tensor],
    scaling: float,
    tokenizer: CLIPTokenizer,
    steps: int,
    lr: float,
    batch: int,
    rng: np.random.Generator,
    gen: torch.Generator,
    condition: Condition | None = None,
    snapshots: int = 0,
    snapshot_dir: Path = Path("."),
    high_t: float = 0.0,
    high_t_from: int = 800,
    recipe: Recipe = RECIPES["sd"],
    shape_weight: float = 0.0,
) -> UNet2DConditionModel:
    noise_schedule = DDPMScheduler(**recipe.schedule)
    params = list(unet.parameters()) + (list(text_encoder.parameters()) if train_text else [])
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-2)
    sched = warmup_cosine(opt, steps)
    ema = Ema(unet, recipe.ema(steps))
    text_encoder.train(train_text).requires_grad_(train_text)
    unet.train()
    means, stds = latents
    v_prediction = recipe.schedule.get("prediction_type") == "v_prediction"
    cache: dict[str, torch.Tensor] = {}
    # Where the shape is, at latent size: its cells weigh 1 + shape_weight in the loss. The shape is
    # a fifth of the picture or less, so with an even loss the background's colour outweighs where
    # the shape goes.
    shape_cells = F.interpolate(pool.silhouettes, size=(SIDE // 8, SIDE // 8), mode="area") if shape_weight else None
    started = time.time()
    for step in range(steps):
        idx = torch.randint(len(pool.scenes) if condition is None else len(condition), (batch,), generator=gen)
        # Caption dropout: the empty prompt is what the pipelines encode for guidance.
        texts = ["" if rng.random() < 0.1 else caption(pool.scenes[int(i)], rng) for i in idx]
        ids = tokenize(tokenizer, texts)
        x0 = (means[idx] + stds[idx] * torch.randn(means[idx].shape, generator=gen)) * scaling
        noise = torch.randn(x0.shape, generator=gen)
        if recipe.offset_noise:
            noise = noise + recipe.offset_noise * torch.randn(batch, 4, 1, 1, generator=gen)
        t = torch.randint(0, 1000, (batch,), generator=gen)
        if high_t > 0:
            # A share of the batch at t >= high_t_from, where the caption's position words are the
            # only clue to the layout. Zero-SNR sqrt(alpha_bar) is 0.13 at t = 800 (the layout still
            # shows through), 0.009 at 980 and 0 at 999 (measured with DDPMScheduler).
            high = torch.rand(batch, generator=gen) < high_t
            t = torch.where(high, torch.randint(high_t_from, 1000, (batch,), generator=gen), t)
        xt = noise_schedule.add_noise(x0, noise, t)
        if condition is not None:
            xt = torch.cat([xt, condition.sample(idx, gen)], 1)
        if train_text:
            hidden = text_encoder(ids).last_hidden_state
        else:
            with torch.no_grad():
                key_hidden = [cache.get(s) for s in texts]
                missing = [i for i, h in enumerate(key_hidden) if h is None]
                if missing:
                    out = text_encoder(ids[missing]).last_hidden_state
                    for j, i in enumerate(missing):
                        cache[texts[i]] = out[j]
                hidden = torch.stack([cache[s] for s in texts])
        pred = unet(xt, t, hidden).sample
        target = noise_schedule.get_velocity(x0, noise, t) if v_prediction else noise
        if shape_cells is None:
            loss = F.mse_loss(pred, target)
        else:
            weight = 1 + shape_weight * shape_cells[idx]
            loss = ((pred - target) ** 2 * weight).mean() / weight.mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        ema.update(unet)
        if step % 100 == 0 or step == steps - 1:
            rate = (time.time() - started) / (step + 1)
            log(f"{stage} {step}/{steps} loss {loss.item():.4f} ({rate:.2f} s/step)")
        if snapshots and (step + 1) % snapshots == 0 and step + 1 < steps:
            # To look at while it trains (python/train/sample.py, evaluate.py); not used again.
            ema.model.save_pretrained(snapshot_dir / f"{stage}-{step + 1}")
            text_encoder.save_pretrained(snapshot_dir / f"{stage}-{step + 1}-text")
    return ema.model


def save_pipeline(
    out: Path,
    unet: UNet2DConditionModel,
    shared: Path | None,
    text_encoder: CLIPTextModel,
    vae: AutoencoderKL,
    pipeline_class: str,
    recipe: Recipe,
) -> None:
    """Diffusers layout, fp16 safetensors. Variants reference the base's text encoder and VAE
    (`shared`) instead of copying them, to keep the committed weights small."""
    out.mkdir(parents=True, exist_ok=True)
    unet.to(torch.float16).save_pretrained(out / "unet", safe_serialization=True)
    unet.to(torch.float32)
    sched = getattr(diffusers, recipe.sampler_class)(**recipe.schedule, **recipe.sampler)
    sched.save_pretrained(out / "scheduler")
    if shared is None:
        text_encoder.to(torch.float16).save_pretrained(out / "text_encoder", safe_serialization=True)
        text_encoder.to(torch.float32)
        vae.to(torch.float16).save_pretrained(out / "vae", safe_serialization=True)
        vae.to(torch.float32)
        shutil.copytree(TOKENIZER_DIR, out / "tokenizer", dirs_exist_ok=True)
    index = {
        "_class_name": pipeline_class,
        "scheduler": ["diffusers", recipe.sampler_class],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"],
    }
    (out / "model_index.json").write_text(json.dumps(index, indent=2) + "\n")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", type=Path, default=ROOT / "public" / "models" / "shapes-sd")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pool", type=int, default=5000)
    p.add_argument("--vae-steps", type=int, default=2500)
    p.add_argument("--base-steps", type=int, default=3000)
    p.add_argument("--variant-steps", type=int, default=600)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--stages", default="vae,base,inpaint,depth")
    p.add_argument("--work", type=Path, default=ROOT / ".train")
    p.add_argument("--resume", action="store_true", help="continue the base stage from --work's weights")
    p.add_argument("--variant-pool", type=int, default=1500, help="scenes given masks / depth maps for the variants")
    p.add_argument("--variant-lr", type=float, default=3e-4)
    p.add_argument("--snapshots", type=int, default=0, help="save the base UNet every N steps, to look at")
    p.add_argument("--base-lr", type=float, default=1e-3)
    p.add_argument("--high-t", type=float, default=0.0, help="share of each base batch drawn at t >= --high-t-from")
    p.add_argument("--high-t-from", type=int, default=800)
    p.add_argument("--shape-weight", type=float, default=0.0, help="extra loss weight on the shape's latent cells")
    p.add_argument("--recipe", choices=sorted(RECIPES), default="sd", help="README: which runs used which")
    args = p.parse_args()

    torch.set_num_threads(os.cpu_count() or 1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    stages = args.stages.split(",")
    recipe = RECIPES[args.recipe]
    args.work.mkdir(parents=True, exist_ok=True)
    began = time.time()
    log("drawing", args.pool, "scenes")
    pool = Pool(args.pool, rng)
    tokenizer = CLIPTokenizer.from_pretrained(TOKENIZER_DIR)

    if "vae" in stages:
        vae = train_vae(pool, args.vae_steps, gen)
        vae.save_pretrained(args.work / "vae")
    vae = AutoencoderKL.from_pretrained(args.work / "vae").eval().requires_grad_(False)
    # The pool's latents, kept in --work: encoding 3000 pictures takes about 4 minutes here.
    cached = args.work / f"latents-seed{args.seed}-pool{args.pool}.pt"
    if cached.exists() and "vae" not in stages:
        means, stds = torch.load(cached)
    else:
        means, stds = encode_pool(vae, pool.images)
        torch.save((means, stds), cached)
    # SD's scaling factor is 1 / std of the latents (0.18215 for SD's VAE); measured on this pool.
    scaling = float(1.0 / means.std())
    vae.register_to_config(scaling_factor=round(scaling, 5))
    log(f"latent std {means.std().item():.4f} → scaling_factor {scaling:.5f}")

    if "base" in stages:
        torch.manual_seed(args.seed + 1)
        if args.resume:
            # Training continued in a second run (new scenes from a new seed), from the first's weights.
            text_encoder = CLIPTextModel.from_pretrained(args.work / "text_encoder")
            unet = UNet2DConditionModel.from_pretrained(args.work / "base-unet")
        else:
            text_encoder = CLIPTextModel(CLIPTextConfig(**TEXT_CONFIG))
            unet = UNet2DConditionModel(**recipe.unet)
        counts = {
            name: sum(p.numel() for p in m.parameters())
            for name, m in (("text", text_encoder), ("unet", unet), ("vae", vae))
        }
        log("params: " + ", ".join(f"{name} {n:,}" for name, n in counts.items()))
        unet = train_unet(
            "base",
            unet,
            text_encoder,
            True,
            vae,
            pool,
            (means, stds),
            scaling,
            tokenizer,
            args.base_steps,
            args.base_lr,
            args.batch,
            rng,
            gen,
            None,
            args.snapshots,
            args.work / "snapshots",
            args.high_t,
            args.high_t_from,
            recipe,
            args.shape_weight,
        )
        text_encoder.eval()
        save_pipeline(args.out, unet, None, text_encoder, vae, "StableDiffusionPipeline", recipe)
        unet.save_pretrained(args.work / "base-unet")
        text_encoder.save_pretrained(args.work / "text_encoder")
    text_encoder = CLIPTextModel.from_pretrained(args.work / "text_encoder").eval()
    base = UNet2DConditionModel.from_pretrained(args.work / "base-unet")

    for stage, channels, cls in (
        ("inpaint", 9, "StableDiffusionInpaintPipeline"),
        ("depth", 5, "StableDiffusionDepth2ImgPipeline"),
    ):
        if stage not in stages:
            continue
        wide = widen_conv_in(base, channels)
        condition = (
            inpaint_condition(pool, vae, scaling, gen, args.variant_pool)
            if stage == "inpaint"
            else Condition(depth_condition(pool.silhouettes[: args.variant_pool]))
        )
        wide = train_unet(
            stage,
            wide,
            text_encoder,
            False,
            vae,
            pool,
            (means, stds),
            scaling,
            tokenizer,
            args.variant_steps,
            args.variant_lr,
            args.batch,
            rng,
            gen,
            condition,
            recipe=recipe,
        )
        save_pipeline(args.out.with_name(f"{args.out.name}-{stage}"), wide, args.out, text_encoder, vae, cls, recipe)
    log(f"done in {time.time() - began:.0f} s")


if __name__ == "__main__":
    main()
