"""Archive products at size: a large JPEG 2000 product analysed and zoomed, against the same pixels as a
JPEG (the path every other image takes), timed in the same process: ``python benchmarks/bench_archive.py
[--side 12000]``.

GDAL reads a JPEG 2000 file at the resolution asked for from its resolution levels, so the analysis of a
product much larger than the analysis resolution should cost about what a JPEG reduced by its decoder
costs, not what decoding every pixel would.  Each figure is printed with its ratio to the JPEG.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from common import fresh_process_peak_mb, paired_times

import numpy as np
from PIL import Image

# Large enough to need more than the default pixel limit's share of memory if it were decoded whole.
os.environ.setdefault("MARSVIZ_MAX_IMAGE_PIXELS", str(400_000_000))

from marsviz.decode import load_image  # noqa: E402

PEAK_SCRIPT = """
import re, sys
from marsviz.decode import load_image
data = open(sys.argv[1], 'rb').read()
load_image(data, name='x', max_side=int(sys.argv[2]))
status = open('/proc/self/status').read()
print(int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) / 1024)
"""


def terrain(side: int) -> np.ndarray:
    """8-bit samples of a smooth relief: they compress as real orbital products do, unlike noise."""
    y, x = np.mgrid[0:side, 0:side].astype(np.float32) / side
    return ((np.sin(x * 40) * np.cos(y * 30) * 0.5 + 0.5) * 255).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=12000, help="the product's width and height, in pixels")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        pixels = terrain(args.side)
        jp2, jpeg = Path(folder) / "product.jp2", Path(folder) / "product.jpg"
        Image.fromarray(pixels).save(jp2, format="JPEG2000", irreversible=True, quality_mode="rates",
                                     quality_layers=[40], num_resolutions=6)
        Image.fromarray(pixels).save(jpeg, quality=90)
        del pixels
        figures = {"side": args.side, "jp2_mb": round(jp2.stat().st_size / 1e6, 2),
                   "jpeg_mb": round(jpeg.stat().st_size / 1e6, 2)}
        for name, side in (("analysis", 512), ("zoom", 4096)):
            jp2_data, jpeg_data = jp2.read_bytes(), jpeg.read_bytes()
            archive_s, jpeg_s = paired_times(lambda: load_image(jp2_data, max_side=side),
                                             lambda: load_image(jpeg_data, max_side=side), args.repeats)
            figures.update({f"{name}_jp2_s": round(archive_s, 3), f"{name}_jpeg_s": round(jpeg_s, 3),
                            f"{name}_jp2_over_jpeg": round(archive_s / jpeg_s, 2),
                            f"{name}_jp2_peak_mb": round(fresh_process_peak_mb(PEAK_SCRIPT, jp2, side)),
                            f"{name}_jpeg_peak_mb": round(fresh_process_peak_mb(PEAK_SCRIPT, jpeg, side))})
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
