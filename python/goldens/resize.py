"""Hires fix's upscalers as A1111 runs them, for tests/fixtures/goldens/hires-resize.json.

    python3 python/goldens/resize.py > tests/fixtures/goldens/hires-resize.json

"Latent": torch.nn.functional.interpolate(latents, size, mode="bilinear", antialias=False) on seeded
latents; "Lanczos": PIL's Image.resize(size, Image.LANCZOS) on a seeded RGBA picture with smooth
shapes and sharp edges. Scales 2 and 1.5, as hires fix uses them.
"""

import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

out = {"latent": [], "lanczos": []}
torch.manual_seed(0)
latents = torch.randn(1, 4, 6, 5)
for h, w in ((12, 10), (9, 7)):
    up = F.interpolate(latents, size=(h, w), mode="bilinear", antialias=False)
    out["latent"].append({"dims": list(up.shape), "data": [float(v) for v in up.flatten()]})
out["latentInput"] = {"dims": list(latents.shape), "data": [float(v) for v in latents.flatten()]}

rng = np.random.default_rng(0)
y, x = np.mgrid[0:16, 0:24]
rgba = np.zeros((16, 24, 4), dtype=np.uint8)
rgba[..., 0] = (x * 10).clip(0, 255)
rgba[..., 1] = np.where((x - 12) ** 2 + (y - 8) ** 2 < 30, 230, 20)
rgba[..., 2] = rng.integers(0, 256, size=(16, 24))
rgba[..., 3] = 255
image = Image.fromarray(rgba, "RGBA")
out["lanczosInput"] = {"width": 24, "height": 16, "pixels": rgba.flatten().tolist()}
for w, h in ((48, 32), (36, 24)):
    up = np.asarray(image.resize((w, h), Image.LANCZOS))
    out["lanczos"].append({"width": w, "height": h, "pixels": up.flatten().tolist()})
json.dump(out, sys.stdout)
