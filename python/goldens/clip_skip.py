"""Prompt embeddings with diffusers' `clip_skip`, for tests/fixtures/goldens/clip-skip.json.

    PYTHONPATH=../shared/vendor/diffusers/src python3 python/goldens/clip_skip.py \
        > tests/fixtures/goldens/clip-skip.json

Two reference checkpoints in tests/fixtures/networks are loaded as diffusers pipelines and
`encode_prompt` run with clip_skip None and 1 (A1111's "Clip skip: 1" and "Clip skip: 2").
"""

import json
import sys

import torch
from transformers import CLIPTextModel, CLIPTokenizer

PROMPT = "a yellow triangle on a green background"
cases = []
for name in ("sd1", "sd2-depth"):
    folder = f"tests/fixtures/networks/{name}"
    tokenizer = CLIPTokenizer.from_pretrained(folder, subfolder="tokenizer")
    encoder = CLIPTextModel.from_pretrained(folder, subfolder="text_encoder", torch_dtype=torch.float32)
    ids = tokenizer(
        PROMPT, padding="max_length", max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt"
    ).input_ids
    for a1111 in (1, 2):
        clip_skip = None if a1111 == 1 else a1111 - 1
        with torch.no_grad():
            if clip_skip is None:
                embeds = encoder(ids)[0]
            else:
                # encode_prompt's lines for clip_skip; transformers 5 has the final norm on the model
                # itself where diffusers reads text_model.final_layer_norm (transformers 4).
                hidden = encoder(ids, output_hidden_states=True)[-1][-(clip_skip + 1)]
                embeds = encoder.final_layer_norm(hidden)
        cases.append(
            {
                "checkpoint": name,
                "prompt": PROMPT,
                "clipSkip": a1111,
                "dims": list(embeds.shape),
                "data": [float(v) for v in embeds.flatten()],
            }
        )
json.dump(
    {
        "source": "diffusers StableDiffusionPipeline.encode_prompt's clip_skip steps (clip_skip = clipSkip - 1)",
        "cases": cases,
    },
    sys.stdout,
)
