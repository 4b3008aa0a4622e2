"""Peak memory of one process analysing images: ``python benchmarks/memory_probe.py [--largest K] [--repeat N]``.

Prints one JSON line: resident memory after the imports and at the peak (MB), and what was analysed.
Run as its own process so that nothing else in the benchmark inflates the peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from pathlib import Path

from common import sample_files

from PIL import Image

from marsviz.config import AnalysisSettings
from marsviz.decode import read_bounded
from marsviz.errors import ImageRejected
from marsviz.pipeline import analyse


def _rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    # VmHWM rather than ru_maxrss: the latter keeps the high-water mark of the parent that forked us.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--largest", type=int, default=0, help="only the K bundled samples with the most pixels")
    parser.add_argument("--repeat", type=int, default=1, help="analyse the set this many times")
    parser.add_argument("files", nargs="*", type=Path, help="analyse these instead of the samples")
    args = parser.parse_args()
    files = args.files or sample_files()
    if args.largest:
        def pixels(path):
            with Image.open(path) as image:
                return image.width * image.height
        files = sorted(files, key=pixels, reverse=True)[:args.largest]
    after_imports = _rss_mb()
    analysed, settings = 0, AnalysisSettings.from_environment()
    for _ in range(args.repeat):
        for path in files:
            try:
                analyse(read_bounded(path, path.name), path.name, settings)
                analysed += 1
            except ImageRejected as error:
                print(f"rejected {error}", file=sys.stderr)
    print(json.dumps({"after_imports_mb": round(after_imports, 1), "peak_mb": round(_rss_mb(), 1),
                      "images": analysed, "files": [p.name for p in files][:10]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
