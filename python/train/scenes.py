"""The data set: pictures of one shape on a plain background, and the words that name them.

A scene is a few attributes; its picture is drawn from them and its caption is composed from them
each time it is used, so one picture is seen with the short and the long ways of naming it.
Omitted words have a fixed meaning (no size = large, no position = centre) so that a short prompt
such as "a red circle on a blue background" names one picture, not a lottery.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

# Colours a prompt can name. RGB values are far apart in hue or lightness so the tests can tell
# them apart by hue over regions.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "orange": (245, 140, 20),
    "yellow": (245, 225, 30),
    "green": (40, 170, 50),
    "blue": (30, 70, 220),
    "purple": (140, 50, 190),
    "pink": (245, 130, 190),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
    "grey": (128, 128, 128),
}
SHAPES = ("circle", "square", "triangle")
SIZES = {"small": 0.14, "large": 0.26}  # radius as a fraction of the side
# Centres as fractions of the side; "centre" is also what no position means.
POSITIONS: dict[str, tuple[float, float]] = {
    "centre": (0.5, 0.5),
    "left": (0.28, 0.5),
    "right": (0.72, 0.5),
    "top": (0.5, 0.28),
    "bottom": (0.5, 0.72),
    "top left": (0.28, 0.28),
    "top right": (0.72, 0.28),
    "bottom left": (0.28, 0.72),
    "bottom right": (0.72, 0.72),
}


@dataclass(frozen=True)
class Scene:
    shape: str
    colour: str
    background: str
    size: str
    position: str
    jitter: tuple[float, float]  # small offset of the centre, a fraction of the side
    turn: float  # rotation of squares and triangles, radians

    def centre(self, side: int) -> tuple[float, float]:
        px, py = POSITIONS[self.position]
        # A small shape near an edge keeps the same margin as a large one.
        return ((px + self.jitter[0]) * side, (py + self.jitter[1]) * side)


def random_scene(rng: np.random.Generator) -> Scene:
    colour, background = rng.choice(len(COLOURS), size=2, replace=False)
    names = list(COLOURS)
    size = "small" if rng.random() < 0.35 else "large"
    # Half the scenes are centred, so the most common prompt (no position) is seen often.
    position = "centre" if rng.random() < 0.4 else str(rng.choice(list(POSITIONS)[1:]))
    jitter = tuple(float(v) for v in rng.uniform(-0.03, 0.03, size=2))
    return Scene(
        shape=str(rng.choice(SHAPES)),
        colour=names[colour],
        background=names[background],
        size=size,
        position=position,
        jitter=(jitter[0], jitter[1]),
        turn=float(rng.uniform(-0.25, 0.25)),
    )


def _polygon(scene: Scene, side: int, scale: int) -> list[tuple[float, float]]:
    cx, cy = scene.centre(side)
    r = SIZES[scene.size] * side
    if scene.shape == "square":
        r *= 0.85
        corners = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    else:  # triangle, pointing up
        corners = [(0, -1.1), (1.05, 0.8), (-1.05, 0.8)]
    c, s = math.cos(scene.turn), math.sin(scene.turn)
    return [((cx + r * (x * c - y * s)) * scale, (cy + r * (x * s + y * c)) * scale) for x, y in corners]


def silhouette(scene: Scene, side: int) -> np.ndarray:
    """1 inside the shape, 0 outside (float32, side×side), antialiased."""
    return _draw(scene, side, (0, 0, 0), (255, 255, 255))[..., 0] / 255.0


def render(scene: Scene, side: int) -> np.ndarray:
    """The picture as float32 RGB in [0, 1], side×side×3."""
    return _draw(scene, side, COLOURS[scene.background], COLOURS[scene.colour]) / 255.0


def _draw(scene: Scene, side: int, background: tuple[int, int, int], fill: tuple[int, int, int]) -> np.ndarray:
    scale = 4  # drawn at 4× and reduced: antialiased edges, as photographs of shapes have
    big = Image.new("RGB", (side * scale, side * scale), background)
    draw = ImageDraw.Draw(big)
    if scene.shape == "circle":
        cx, cy = scene.centre(side)
        r = SIZES[scene.size] * side
        draw.ellipse([(cx - r) * scale, (cy - r) * scale, (cx + r) * scale, (cy + r) * scale], fill=fill)
    else:
        draw.polygon(_polygon(scene, side, scale), fill=fill)
    return np.asarray(big.resize((side, side), Image.Resampling.BOX), dtype=np.float32)


def caption(scene: Scene, rng: np.random.Generator, generic_shape: float = 0.1) -> str:
    """One of the ways of naming the scene. Words whose omission would change the picture stay."""
    shape = "shape" if rng.random() < generic_shape else scene.shape
    words = ["a"]
    if scene.size == "small" or rng.random() < 0.3:
        words.append(scene.size)
    if rng.random() < 0.9:
        words.append(scene.colour)
    words.append(shape)
    if rng.random() < 0.8:
        words.append(f"on a {scene.background} background")
    text = " ".join(words)
    if scene.position != "centre" or rng.random() < 0.3:
        text += f", {scene.position}"
    return text
