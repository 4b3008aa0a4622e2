"""Every performance figure of marsviz in one run: ``python benchmarks/run_all.py``.

Prints each figure with its target and PASS/MISS (INFO for figures without a target) and writes them
to ``benchmarks/results.json``.  Ratios compare runs made in the same process on the same files, each
time the best of several alternating repeats, so other load on the machine affects both sides alike.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from common import ROOT, Report, alternating_times, make_large_frames, paired_times, sample_files

from PIL import Image

import baseline
from bench_query import QUERIES
from marsviz.catalog import Catalog
from marsviz.config import AnalysisSettings
from marsviz.decode import load_image
from marsviz.registry import REGISTRY, compute_values
from marsviz.features.seed_group import seed_features
from marsviz.pipeline import ImageTask, add_paths, reanalyse
from marsviz.runner import LocalRunner
from marsviz.terrain.backbone import forget_feature_maps
from marsviz.view.descriptors import NETWORK_SIDE

HERE = Path(__file__).resolve().parent


def plain_decode(path: Path) -> None:
    """The reference: Pillow decoding the whole file at full resolution, nothing else."""
    with Image.open(path) as image:
        image.load()


def full_analysis(path: Path) -> dict[str, float]:
    """What the target counts: decode at the analysis resolution plus every registry feature (the network's
    maps of the previous repeat forgotten, as for an image seen the first time)."""
    forget_feature_maps()
    return compute_values(load_image(path).pixels)


def afresh(features: list, pixels) -> list:
    """Each of `features` computed on `pixels` as on an image seen the first time (no network maps kept)."""
    forget_feature_maps()
    return [feature.function(pixels) for feature in features]


def seed_analysis(path: Path) -> dict[str, float]:
    """marsviz's decode plus the seed's four features only (what the baseline implements)."""
    return {name: result.value for name, result in seed_features(load_image(path).pixels).items()}


def bench_analysis(report: Report, samples: list[Path], large: dict[str, Path], repeats: int) -> None:
    ratios, ours_times, plain_total, ours_total = [], [], 0.0, 0.0
    for path in samples:
        plain, ours = paired_times(lambda: plain_decode(path), lambda: full_analysis(path), repeats)
        ratios.append(ours / plain)
        ours_times.append(ours)
        plain_total += plain
        ours_total += ours
    features = ", ".join(REGISTRY)
    report.figure("analysis / Pillow decode, 71 samples (sum of times)", ours_total / plain_total, "<= 2.5",
                  ours_total / plain_total <= 2.5, "x",
                  f"{ours_total * 1e3:.0f} ms vs {plain_total * 1e3:.0f} ms; features: {features}")
    report.figure("analysis / Pillow decode, samples: median per image", statistics.median(ratios), "<= 2.5",
                  statistics.median(ratios) <= 2.5, "x")
    small = [r for r, p in zip(ratios, samples) if _pixels(p) <= 300 * 300]
    report.figure("analysis / Pillow decode, samples: worst image", max(ratios), "(info)", None, "x",
                  f"{sum(r > 2.5 for r in ratios)} of {len(ratios)} images above 2.5x, {len(small)} of them "
                  f"<= 300x300 px")
    # The per-image target restated by size (benchmarks/README.md says why): a thumbnail's decode is
    # too short a unit for any Python analysis, so the ratio is judged on frames of 1 MP and more.
    for label, low, high in (("< 0.25 MP", 0, 250_000), ("0.25-1 MP", 250_000, 1_000_000),
                             (">= 1 MP", 1_000_000, float("inf"))):
        group = [r for r, p in zip(ratios, samples) if low <= _pixels(p) < high]
        judged = label == ">= 1 MP"
        if group:
            report.figure(f"analysis / Pillow decode, samples {label}: median per image", statistics.median(group),
                          "<= 2.5 (restated)" if judged else "(info)",
                          statistics.median(group) <= 2.5 if judged else None, "x",
                          f"{len(group)} images, {sum(r <= 2.5 for r in group)} within 2.5x")
    thumbnails = [t for t, p in zip(ours_times, samples) if _pixels(p) < 250_000]
    report.figure("analysis time per image, samples < 0.25 MP: median", statistics.median(thumbnails) * 1e3,
                  "(info)", None, " ms", "the fixed cost of six features in Python, whatever the size")
    for label, path in large.items():
        plain, ours = paired_times(lambda: plain_decode(path), lambda: full_analysis(path), repeats)
        report.figure(f"analysis / Pillow decode, {label}", ours / plain, "<= 2.5", ours / plain <= 2.5, "x",
                      f"{ours * 1e3:.1f} ms vs {plain * 1e3:.1f} ms")


def bench_view(report: Report, samples: list[Path], repeats: int) -> None:
    """What the view model adds per image at the analysis resolution (issue 15's budget: 5 ms)."""
    view = REGISTRY["terrain_view_score"]
    others = [f for f in REGISTRY.values() if f.group is not view.group]
    extra, shares, large = [], [], []
    for path in samples:
        pixels = load_image(path).pixels
        large.append(max(pixels.shape[:2]) > NETWORK_SIDE)
        # The view reads the terrain pass's network maps where its frame is the terrain's (frames over 256 px).
        without, with_view = paired_times(lambda: afresh(others, pixels), lambda: afresh([*others, view], pixels),
                                          repeats)
        extra.append(with_view - without)
        shares.append(with_view / without)
    report.figure("view model per image, samples at the analysis size: median added time",
                  statistics.median(extra) * 1e3, "<= 5", statistics.median(extra) * 1e3 <= 5, " ms",
                  f"worst {max(extra) * 1e3:.1f} ms; every feature / every feature but the view, median "
                  f"{statistics.median(shares):.2f}x")
    # Over 256 px the view reads the terrain pass's network maps; a smaller frame takes a pass of its own.
    for label, wanted in ((f"over {NETWORK_SIDE} px", True), (f"at most {NETWORK_SIDE} px", False)):
        group = [e for e, is_large in zip(extra, large) if is_large == wanted]
        if group:
            report.figure(f"view model per image, frames {label} at the analysis size: median added time",
                          statistics.median(group) * 1e3, "(info)", None, " ms",
                          f"{len(group)} samples, worst {max(group) * 1e3:.1f} ms")


def bench_terrain_network(report: Report, samples: list[Path], repeats: int) -> None:
    """What the terrain scores' pretrained network adds per image at the analysis resolution (budget: 5 ms)."""
    from marsviz.terrain.backbone import backbone_descriptors
    from marsviz.terrain.descriptors import untile
    from marsviz.terrain.features import half_resolution_tiles

    extra, shares = [], []
    for path in samples:
        pixels = load_image(path).pixels
        tiles, _, rows, cols, _ = half_resolution_tiles(pixels)
        image = untile(tiles, rows, cols)
        network, everything = paired_times(lambda: (forget_feature_maps(), backbone_descriptors(image, rows, cols)),
                                           lambda: (forget_feature_maps(), compute_values(pixels)), repeats)
        extra.append(network)
        shares.append(network / everything)
    report.figure("terrain network per image, samples at the analysis size: median time",
                  statistics.median(extra) * 1e3, "<= 5", statistics.median(extra) * 1e3 <= 5, " ms",
                  f"worst {max(extra) * 1e3:.1f} ms; median share of the whole analysis "
                  f"{statistics.median(shares):.0%}")


def bench_baseline(report: Report, samples: list[Path], large: dict[str, Path], repeats: int) -> None:
    for label, files in (("71 samples", samples), ("large frames", list(large.values()))):
        straightforward = ours = plain = 0.0
        for path in files:
            slow, fast, decode = alternating_times(
                [lambda: baseline.analyse(path), lambda: seed_analysis(path), lambda: plain_decode(path)], repeats)
            straightforward += slow
            ours += fast
            plain += decode
        report.figure(f"speed-up over full-res float64 baseline, {label}", straightforward / ours, ">= 20",
                      straightforward / ours >= 20, "x",
                      f"seed four: {straightforward * 1e3:.0f} ms vs {ours * 1e3:.0f} ms")
        report.figure(f"baseline / Pillow decode, {label}", straightforward / plain, "(info)", None, "x",
                      "the issue's premise: about 50x")
        # The 20x target restated (benchmarks/README.md): the issue derived it from a baseline at 50x a
        # decode, which puts the seed four at 2.5x a decode; these files' baseline is cheaper than that.
        report.figure(f"seed four with decode / Pillow decode, {label}", ours / plain, "<= 2.5 (restated)",
                      ours / plain <= 2.5, "x", f"{ours * 1e3:.0f} ms vs {plain * 1e3:.0f} ms")


def bench_cores(report: Report, samples: list[Path]) -> None:
    def run(batch, workers):
        """Wall-clock seconds and CPU seconds (this process and its workers) of one batch."""
        before = _cpu_seconds()
        start = time.perf_counter()
        for _ in LocalRunner(workers).map(ImageTask(AnalysisSettings.from_environment()), batch):
            pass
        return time.perf_counter() - start, _cpu_seconds() - before
    cores = len(os.sched_getaffinity(0))
    # The small batch shows what starting the pool costs; the target is judged on the larger one, a few
    # seconds of work, still far below a mission's worth of frames.
    for copies, target in ((3, None), (6, 1.8)):
        batch = samples * copies
        # Alternate the two set-ups so that load from other processes on the machine hits both alike.
        pairs = [(run(batch, 1), run(batch, 2)) for _ in range(3)]
        one, cpu_one = min(first for first, _ in pairs)
        two, cpu_two = min(second for _, second in pairs)
        load = os.getloadavg()[0]
        report.figure(f"batch speed-up, 2 workers vs 1 ({len(batch)} files)", one / two,
                      ">= 1.8" if target else "(info: pool start-up weighs more)",
                      one / two >= target if target else None, "x",
                      f"{one:.2f} s vs {two:.2f} s on {cores} cores, load average {load:.1f}; full analysis incl. "
                      f"thumbnails; CPU time 2 workers / 1: {cpu_two / cpu_one:.2f}")
    control = min(_control_run(1) for _ in range(2)) / min(_control_run(2) for _ in range(2))
    report.figure("control: same pool, pure-Python loop, 2 workers vs 1", control, "(info: what the machine "
                  "allows now)", None, "x", "8 equal CPU-bound tasks; below 2 means other load takes the cores")


def _spin(count: int) -> int:
    total = 0
    for i in range(count):
        total += i * i
    return total


def _control_run(workers: int) -> float:
    """Wall-clock seconds of 8 equal CPU-bound tasks in the same kind of pool as the analysis."""
    start = time.perf_counter()
    if workers == 1:
        for _ in range(8):
            _spin(2_000_000)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_spin, [2_000_000] * 8))
    return time.perf_counter() - start


def bench_rerun(report: Report, samples: list[Path]) -> None:
    with tempfile.TemporaryDirectory() as home:
        catalog = Catalog(home)
        start = time.perf_counter()
        added = sum(r.status == "added" for r in add_paths(catalog, samples))
        first = time.perf_counter() - start
        start = time.perf_counter()
        stale = reanalyse(catalog).stale
        rerun = time.perf_counter() - start
        report.figure("re-run `analyze` / first run (nothing changed)", rerun / first, "<= 0.05",
                      rerun / first <= 0.05 and stale == 0, "",
                      f"{rerun * 1e3:.1f} ms vs {first * 1e3:.0f} ms for {added} images; {stale} recomputed")
        start = time.perf_counter()
        duplicates = sum(r.status == "duplicate" for r in add_paths(catalog, samples))
        readd = time.perf_counter() - start
        report.figure("re-run `add` of the same files / first run", readd / first, "<= 0.05", readd / first <= 0.05,
                      "", f"{readd * 1e3:.0f} ms; {duplicates} found by content hash")
        name = "edge_ratio"
        original = REGISTRY[name]
        REGISTRY[name] = dataclasses.replace(original, version=original.version + "-bench")
        try:
            start = time.perf_counter()
            recomputed = reanalyse(catalog).updated
            bumped = time.perf_counter() - start
        finally:
            REGISTRY[name] = original
        report.figure(f"re-run after bumping {name}'s version / first run", bumped / first, "(info)", None, "",
                      f"{recomputed} rows recomputed (features only: no hash, no thumbnail)")


def bench_memory(report: Report, large: dict[str, Path]) -> None:
    def probe(*args):
        out = subprocess.run([sys.executable, str(HERE / "memory_probe.py"), *map(str, args)], check=True,
                             capture_output=True, text=True, cwd=ROOT).stdout
        return json.loads(out.strip().splitlines()[-1])
    largest = probe("--largest", 5)
    report.figure("peak memory, 5 largest bundled frames", largest["peak_mb"], "< 250", largest["peak_mb"] < 250,
                  " MB", f"{largest['after_imports_mb']:.0f} MB after imports")
    frames = probe(*large.values())
    report.figure("peak memory, 4000x3000 and 7000-px frames", frames["peak_mb"], "< 250", frames["peak_mb"] < 250,
                  " MB")
    once, four = probe(), probe("--repeat", 4)
    growth = four["peak_mb"] - once["peak_mb"]
    report.figure(f"peak memory growth, {four['images']} vs {once['images']} images", growth, "flat (< 10 MB)",
                  growth < 10, " MB", f"{once['peak_mb']:.0f} MB vs {four['peak_mb']:.0f} MB")


def bench_explore(report: Report, rows: int) -> None:
    command = [sys.executable, str(HERE / "bench_explore.py"), "--rows", str(rows), "--json"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        report.figure(f"Explore page, {rows:,} images", float("nan"), "scatter < 3 s, click < 0.5 s", False, "",
                      "benchmark failed: " + (result.stderr.strip().splitlines() or ["?"])[-1][:200])
        return
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    report.figure(f"Explore: scatter visible after opening, {rows:,} images", figures["scatter_s"], "< 3 s",
                  figures["scatter_s"] < 3, " s")
    report.figure("Explore: same, first open after the server started", figures["scatter_cold_s"], "(info)", None,
                  " s", "includes reading and ranking the catalog")
    report.figure("Explore: same page on the 71 bundled samples", figures["scatter_samples_s"], "(info)", None,
                  " s", "what Streamlit and plotly.js cost at any catalog size")
    report.figure(f"Explore: scatter at {rows:,} images / on the 71 samples", figures["scatter_s"] /
                  figures["scatter_samples_s"], "(info)", None, "x", "what the catalog's size adds to the page")
    report.figure(f"Explore: click to image in viewer, median of {figures['clicks']}", figures["click_median_s"],
                  "< 0.5 s", figures["click_median_s"] < 0.5, " s")
    if "ranking_s" in figures:
        report.figure(f"Ranking: table drawn after opening, {rows:,} images", figures["ranking_s"], "<= 3 s",
                      figures["ranking_s"] <= 3, " s", f"next page of the table: {figures['ranking_next_page_s']:.2f} s")
    if "ranking_search_s" in figures:
        report.figure(f"Ranking: a search answered on the page, {rows:,} images", figures["ranking_search_s"],
                      "<= 1 s", figures["ranking_search_s"] <= 1, " s", "typed, Enter, to the rerun done")
    if "server_rss_mb" in figures:
        report.figure(f"App server resident memory after these, {rows:,} images", figures["server_rss_mb"],
                      "<= 1536 MB", figures["server_rss_mb"] <= 1536, " MB",
                      f"peak {figures['server_hwm_mb']:.0f} MB")


def bench_query(report: Report, rows: int) -> None:
    """Ranking-page search, filter and sort over the whole catalog (bench_query.py), in its own process."""
    command = [sys.executable, str(HERE / "bench_query.py"), "--rows", str(rows), "--json"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=HERE)
    if result.returncode != 0:
        report.figure(f"Ranking query, {rows:,} rows", float("nan"), "<= 1 s", False, "",
                      "benchmark failed: " + (result.stderr.strip().splitlines() or ["?"])[-1][:200])
        return
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    for label in QUERIES:
        figure = figures[label]
        report.figure(f"Ranking {label}, {rows:,} rows", figure["s"], "<= 1 s", figure["s"] <= 1, " s",
                      f"{figure['baseline_s'] / figure['s']:.1f}x faster than plain pandas; "
                      f"{figure['rows_matched']:,} rows match")
    report.figure("Ranking search index, built once per catalog revision and weights", figures["search_index_s"],
                  "(info)", None, " s")


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _pixels(path: Path) -> int:
    with Image.open(path) as image:
        return image.width * image.height


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timing repeats per file (best is kept)")
    parser.add_argument("--rows", type=int, default=100_000, help="catalog size for the Explore benchmark")
    parser.add_argument("--query-rows", type=int, default=1_000_000, help="ranked rows for the Ranking query "
                        "benchmark")
    parser.add_argument("--skip-browser", action="store_true", help="leave out the Playwright benchmark")
    args = parser.parse_args()
    report = Report()
    samples = sample_files()
    print(f"marsviz benchmarks: {len(samples)} samples, features: {', '.join(REGISTRY)}", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        large = make_large_frames(Path(scratch))
        bench_analysis(report, samples, large, args.repeats)
        bench_view(report, samples, args.repeats)
        bench_terrain_network(report, samples, args.repeats)
        bench_memory(report, large)
        bench_baseline(report, samples, large, 3)
    bench_cores(report, samples)
    bench_rerun(report, samples)
    bench_query(report, args.query_rows)
    if not args.skip_browser:
        bench_explore(report, args.rows)
    (HERE / "results.json").write_text(json.dumps({"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                                   "features": list(REGISTRY), "figures": report.rows}, indent=2))
    missed = sum(r["verdict"] == "MISS" for r in report.rows)
    print(f"{len(report.rows)} figures, {missed} missed; written to benchmarks/results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
