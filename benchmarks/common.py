"""Helpers shared by the benchmark scripts: repository path, sample files, large frames, timing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the scripts run from a checkout, installed or not
    sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from marsviz.samples import SAMPLES_DIR, manifest  # noqa: E402


def sample_files() -> list[Path]:
    """The bundled sample images, in manifest order."""
    return [SAMPLES_DIR / name for name in manifest()]


def make_large_frames(folder: Path) -> dict[str, Path]:
    """Write the large test frames into `folder` (made from the samples; never committed).

    Returns
    -------
    dict
        ``{"4000x3000 JPEG": path, "7000x1400 panorama JPEG": path}``
    """
    folder.mkdir(parents=True, exist_ok=True)
    frames = {}
    big = folder / "ctx_4000x3000.jpg"
    if not big.exists():
        with Image.open(SAMPLES_DIR / "mro_ctx_P17_007703_2313_fullres.jpg") as image:
            image.convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC).save(big, quality=90)
    frames["4000x3000 JPEG"] = big
    panorama = folder / "panorama_7000x1400.jpg"
    if not panorama.exists():
        with Image.open(SAMPLES_DIR / "msl_panorama_marsscapes_137_1_fullres.jpg") as image:
            strip = image.convert("RGB").resize((3500, 1400), Image.Resampling.BICUBIC)
        wide = Image.new("RGB", (7000, 1400))
        wide.paste(strip, (0, 0))
        wide.paste(strip.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (3500, 0))
        wide.save(panorama, quality=90)
    frames["7000x1400 panorama JPEG"] = panorama
    return frames


def alternating_times(functions: list[Callable[[], object]], repeats: int) -> list[float]:
    """Best times of several functions measured in turn, so load from other processes hits all alike."""
    best = [float("inf")] * len(functions)
    for _ in range(repeats):
        for index, function in enumerate(functions):
            start = time.perf_counter()
            function()
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def paired_times(first: Callable[[], object], second: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Best times of two functions measured alternately (see :func:`alternating_times`)."""
    first_time, second_time = alternating_times([first, second], repeats)
    return first_time, second_time


class Report:
    """Collects figures and prints each with its target and PASS/MISS."""

    def __init__(self):
        self.rows: list[dict] = []

    def figure(self, name: str, value: float, target: str, passed: bool | None, unit: str = "",
               note: str = "") -> None:
        verdict = "INFO" if passed is None else ("PASS" if passed else "MISS")
        row = {"name": name, "value": round(value, 4), "unit": unit, "target": target, "verdict": verdict,
               "note": note}
        self.rows.append(row)
        text = f"{value:.3g}{unit}" if isinstance(value, float) else f"{value}{unit}"
        print(f"{verdict:<4}  {name:<58} {text:>12}   target {target}" + (f"   ({note})" if note else ""),
              flush=True)


def fresh_process_peak_mb(script: str, *args: object) -> float:
    """Peak resident memory, in MB, of a fresh Python process running `script` with `args`; the script prints
    it as its last line (VmHWM, not ru_maxrss: Linux carries a parent's ru_maxrss into the child it starts)."""
    result = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True,
                            check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return float(result.stdout.strip().splitlines()[-1])
