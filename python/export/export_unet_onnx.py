"""Exports a diffusers UNet to ONNX with torch's own exporter, as optimum does (opset 17, optimum's
input and output names), for `npm run bench` to compare against the graph the app builds from the
same safetensors. Development tool only: the app and its tests never run Python.

    PYTHONPATH=<diffusers>/src python3 python/export/export_unet_onnx.py \
        tests/fixtures/networks/sd1/unet bench/fixtures/sd1-unet.onnx
"""

import sys

import torch
from diffusers import UNet2DConditionModel


class Wrapper(torch.nn.Module):
    """The UNet's positional call with a plain tensor out, as optimum's export wraps it."""

    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep, encoder_hidden_states):
        return self.unet(sample, timestep, encoder_hidden_states, return_dict=False)[0]


def main(src: str, dst: str) -> None:
    unet = UNet2DConditionModel.from_pretrained(src).eval()
    c = unet.config
    sample = torch.randn(2, c.in_channels, 8, 12)
    timestep = torch.tensor([981, 501], dtype=torch.int64)
    text = torch.randn(2, 77, c.cross_attention_dim)
    with torch.no_grad():
        torch.onnx.export(
            Wrapper(unet),
            (sample, timestep, text),
            dst,
            opset_version=17,
            dynamo=False,
            input_names=["sample", "timestep", "encoder_hidden_states"],
            output_names=["out_sample"],
            dynamic_axes={
                "sample": {0: "batch", 2: "height", 3: "width"},
                "timestep": {0: "timestep_batch"},
                "encoder_hidden_states": {0: "batch", 1: "sequence"},
                "out_sample": {0: "batch", 2: "height", 3: "width"},
            },
            do_constant_folding=True,
        )
    print(f"exported {src} to {dst} with torch {torch.__version__}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
