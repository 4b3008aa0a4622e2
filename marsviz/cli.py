"""Command line: ``python -m marsviz COMMAND ...`` (also installed as ``marsviz``).

A thin layer over the library: each command is ``cmd_<name>(args) -> exit status`` and its parser
``_add_<name>_parser(subparsers)``.  Errors of the library are printed as one line, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from tqdm import tqdm

from marsviz import config
from marsviz.errors import MarsvizError


def _catalog(args):
    from marsviz.catalog import Catalog

    return Catalog(args.home)


def _count(minimum: int):
    """An argparse type: a whole number of at least `minimum`."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below {minimum}; give {minimum} or more")
        return value
    return parse


@contextlib.contextmanager
def _progress_bar(desc: str, unit: str = "image", show_when_piped: bool = False):
    """A tqdm bar on stderr, yielding the ``progress(done, total)`` callback the library takes.

    The bar shows position `done` of `total`; unless `show_when_piped`, it is hidden when stderr is not a
    terminal (tqdm's ``disable=None``).
    """
    with tqdm(unit=unit, desc=desc, file=sys.stderr, disable=False if show_when_piped else None) as bar:
        def progress(done: int, total: int | None) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        yield progress


def _image_id(text: str) -> int:
    """An argparse type: a whole number that can be an image id (a SQLite integer)."""
    from marsviz.catalog import ID_RANGE

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value not in ID_RANGE:
        raise argparse.ArgumentTypeError(f"{text} is not an image id (ids are 64-bit whole numbers)")
    return value


def _folder(text: str) -> Path:
    """An argparse type: a data folder path that is not blank."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the data folder cannot be blank")
    return Path(text)


# -- add ---------------------------------------------------------------------------------------------
def _add_add_parser(subparsers):
    parser = subparsers.add_parser("add", help="add image files or folders of images to the catalog")
    parser.add_argument("paths", nargs="+", type=Path, help="image files or folders (searched recursively; "
                        "files in them not named like an image are listed as skipped)")
    parser.add_argument("--workers", type=_count(1), default=None,
                        help="analysis processes (default: one per core)")
    parser.set_defaults(func=cmd_add)


def cmd_add(args) -> int:
    """Add files; one line per file (skipped ones too); exit 1 if any file was rejected."""
    from marsviz.pipeline import add_paths

    catalog = _catalog(args)
    rejected = 0
    for result in add_paths(catalog, args.paths, workers=args.workers):
        name = _printable(result.name)
        if result.status == "rejected":
            rejected += 1
            print(f"rejected  {name}: {result.reason}")
        elif result.status == "skipped":
            print(f"skipped   {name}: {result.reason}")
        else:
            note = f": {_printable(result.note)}" if result.note else ""
            print(f"{result.status:<9} {name} (id {result.image_id}){note}")
    return 1 if rejected else 0


# -- samples -----------------------------------------------------------------------------------------
def _add_samples_parser(subparsers):
    parser = subparsers.add_parser("samples", help="load the bundled sample images into the catalog")
    parser.set_defaults(func=cmd_samples)


def cmd_samples(args) -> int:
    """Load the bundled samples, with a progress bar."""
    from marsviz.samples import load_samples

    catalog = _catalog(args)
    with _progress_bar("samples", show_when_piped=True) as progress:
        results = load_samples(catalog, lambda done, total, _result: progress(done, total))
    added = sum(r.status == "added" for r in results)
    print(f"{added} added, {len(results) - added} already there; catalog holds {catalog.count()} images")
    return 0


# -- rank --------------------------------------------------------------------------------------------
def _add_rank_parser(subparsers):
    parser = subparsers.add_parser("rank", help="print the ranking (best composite score first)")
    parser.add_argument("--top", type=_count(0), default=None,
                        help=f"how many images, best first (0: all; default: {TABLE_TOP} for the table, "
                             "all for csv and json)")
    parser.add_argument("--format", choices=["table", "csv", "json"], default="table",
                        help="table for people (default); csv or json for machines")
    parser.add_argument("--new-to-you", action="store_true",
                        help="order by how unlike the labeled images each image is (largest first), with the "
                             "descriptors it is most unlike them in (keys new_to_you, new_in)")
    _add_preset_argument(parser)
    parser.set_defaults(func=cmd_rank)


def _add_preset_argument(parser) -> None:
    from marsviz.presets import DEFAULT_PRESET, PRESETS

    parser.add_argument("--preset", choices=list(PRESETS), default=DEFAULT_PRESET,
                        help=f"composite weights (default {DEFAULT_PRESET}; the Method page explains each)")


#: Rows `rank` prints as a table unless told otherwise; machine formats get every row.
TABLE_TOP = 10


def ranking_records(catalog, top: int = 0, preset: str | None = None, new_to_you: bool = False) -> list[dict]:
    """The ranking as plain records: id, name, source, mission, instrument, view, score, outlier, the
    person's label and note (null when none), the score learnt from the labels (null until one is fitted),
    features.

    `preset` names the composite's weights (:mod:`marsviz.presets`; default its default preset).  With
    `new_to_you`, images come in the "New to you" order (:mod:`marsviz.novelty`) and each record has
    ``new_to_you`` and ``new_in``.
    """
    from marsviz.labels import with_labels
    from marsviz.presets import DEFAULT_PRESET
    from marsviz.records import json_records
    from marsviz.registry import LEARNED_SCORE, REGISTRY
    from marsviz.scoring import ranked, weights_of_preset

    table = ranked(catalog.frame(include_synthetic=True), weights_of_preset(preset or DEFAULT_PRESET))
    labels = catalog.labels()
    extra = []
    if new_to_you:
        from marsviz.novelty import novelty_table
        from marsviz.view.descriptors import VIEW_DESCRIPTOR_LABELS

        _, novelty = novelty_table(catalog, labels["id"].tolist(), list(VIEW_DESCRIPTOR_LABELS.values()))
        table = table.merge(novelty, on="id", how="left").sort_values("new_to_you", ascending=False,
                                                                       kind="stable", na_position="last")
        extra = ["new_to_you", "new_in"]
    if top:
        table = table.head(top)
    table = with_labels(table, labels)
    columns = ["rank", "id", "name", "source", "mission", "instrument", "product_id", "latitude", "longitude",
               "location_from", "observed_at", "solar_longitude", "mars_year", "season", "scale_m_per_px", "view",
               "view_confidence", "score",
               "outlier", "outlier_score", "label", "note", LEARNED_SCORE, *extra, *REGISTRY]
    records = json_records(table[columns])
    for row in records:
        for key in ("mission", "instrument", "product_id", "location_from", "observed_at"):
            row[key] = row[key] or None  # unknown: null, like the numbers
        row["outlier"] = bool(row["outlier"])
        row["id"], row["rank"] = int(row["id"]), int(row["rank"])
    return records


def cmd_rank(args) -> int:
    """Print the top of the ranking as a table, CSV or JSON."""
    from marsviz.registry import REGISTRY

    top = args.top if args.top is not None else (TABLE_TOP if args.format == "table" else 0)
    records = ranking_records(_catalog(args), top, args.preset, args.new_to_you)
    if args.format == "json":
        print(json.dumps(records, indent=2))
    elif args.format == "csv":
        import pandas as pd

        print(pd.DataFrame(records).to_csv(index=False), end="")
    elif args.new_to_you:
        print("New to you: least like the labeled images first (root mean square difference, in standard deviations)")
        print(f"{'rank':>4}  {'new':>5}  {'name':<44} most unlike the labeled images in")
        for r in records:
            new = f"{r['new_to_you']:.2f}" if r["new_to_you"] is not None else "-"
            print(f"{r['rank']:>4}  {new:>5}  {_printable(r['name'])[:44]:<44} {_printable(r['new_in'] or '')}")
    else:
        print("Top Scoring Images")
        header = f"{'rank':>4}  {'score':>6}  {'outlier':<7}  {'name':<44} " + " ".join(
            f"{REGISTRY[n].label[:12]:>12}" for n in REGISTRY)
        print(header)
        for r in records:
            values = " ".join(f"{r[n]:>12.3f}" if r[n] is not None else f"{'-':>12}" for n in REGISTRY)
            score = f"{r['score']:.3f}" if r["score"] is not None else "-"
            print(f"{r['rank']:>4}  {score:>6}  {'yes' if r['outlier'] else '':<7}  "
                  f"{_printable(r['name'])[:44]:<44} {values}")
    return 0


# -- export ------------------------------------------------------------------------------------------
def _add_export_parser(subparsers):
    parser = subparsers.add_parser("export", help="write the ranked catalog to CSV or Parquet")
    parser.add_argument("file", type=Path, help="FILE.csv or FILE.parquet")
    _add_preset_argument(parser)
    parser.set_defaults(func=cmd_export)


def cmd_export(args) -> int:
    """Write the whole ranked catalog, with its labels, to CSV or Parquet (chosen by the file extension)."""
    from marsviz.labels import with_labels
    from marsviz.scoring import ranked, weights_of_preset

    suffix = args.file.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise MarsvizError(f"cannot export to {args.file.name}: use a .csv or .parquet file name")
    catalog = _catalog(args)
    table = with_labels(ranked(catalog.frame(), weights_of_preset(args.preset)), catalog.labels())
    try:
        if suffix == ".csv":
            table.to_csv(args.file, index=False)
        else:
            table.to_parquet(args.file, index=False)
    except OSError as error:
        raise MarsvizError(f"cannot write {args.file} ({error.strerror or error})") from None
    print(f"wrote {len(table)} images to {args.file}")
    return 0


# -- label, labels -----------------------------------------------------------------------------------
def _add_label_parser(subparsers):
    from marsviz.labels import QUICK_LABELS

    parser = subparsers.add_parser(
        "label", help="label one image, or clear its label",
        description="Set or clear the label of one image. Labels are kept by the image's content (SHA-256): "
                    "re-analysis, new feature versions, re-scrapes and re-adds keep them, and every change is "
                    "kept in the image's label history.")
    parser.add_argument("image_id", type=_image_id, metavar="ID", help="the image's id (as `rank` lists it)")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--as", dest="label", metavar="TEXT",
                        help=f"the label: any text, e.g. {', '.join(QUICK_LABELS)} (the viewer's buttons); "
                             "stored in lower case with _ between words")
    action.add_argument("--clear", action="store_true", help="remove the image's label")
    parser.add_argument("--note", default="", help="a note kept with the label")
    parser.add_argument("--by", default=None, metavar="NAME", help="who labels (default: your user name)")
    parser.set_defaults(func=cmd_label)


def _user_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return ""


def cmd_label(args) -> int:
    """Set or clear one image's label; say what it was."""
    from marsviz.labels import shown

    catalog = _catalog(args)
    by = _user_name() if args.by is None else args.by.strip()
    row = catalog.get(args.image_id)
    name = f" ({_printable(row['name'])})" if row else ""
    if args.clear:
        if args.note:
            raise MarsvizError("--note goes with --as, not with --clear")
        before = catalog.label_of(args.image_id)
        if catalog.clear_label(args.image_id, by):
            print(f"image {args.image_id}{name}: label “{_printable(shown(before.label))}” removed")
        else:
            print(f"image {args.image_id}{name} had no label")
        return 0
    label = catalog.set_label(args.image_id, args.label, args.note, by)
    print(f"image {args.image_id}{name}: labeled “{_printable(shown(label.label))}”"
          + (f" by {_printable(by)}" if by else ""))
    return 0


def _add_labels_parser(subparsers):
    parser = subparsers.add_parser(
        "labels", help="export or import every label as CSV (matched by SHA-256)",
        description="Move labels between catalogs that hold the same images: a labels file has one row per "
                    "labeled image with its sha256, label, note, labeled_by, labeled_at and (for people) its "
                    "name; images are matched by SHA-256, not by id or name.")
    actions = parser.add_subparsers(dest="labels_action", required=True)
    export = actions.add_parser("export", help="write every label to a CSV file")
    export.add_argument("file", type=Path, help="FILE.csv")
    export.set_defaults(func=cmd_labels_export)
    load = actions.add_parser("import", help="set the labels of a CSV file on the images with those hashes")
    load.add_argument("file", type=Path, help="FILE.csv (columns sha256 and label at least)")
    load.add_argument("--by", default=None, metavar="NAME",
                      help="who to record where a row names nobody (default: your user name)")
    load.set_defaults(func=cmd_labels_import)


def cmd_labels_export(args) -> int:
    """Write every label to a CSV file."""
    from marsviz.labels import labels_csv

    labels = _catalog(args).labels()
    try:
        args.file.write_text(labels_csv(labels), encoding="utf-8")
    except OSError as error:
        raise MarsvizError(f"cannot write {args.file} ({error.strerror or error})") from None
    print(f"wrote {_plural(len(labels), 'label')} to {args.file}")
    return 0


def cmd_labels_import(args) -> int:
    """Import a labels file; print what it changed."""
    from marsviz.labels import read_labels_csv

    labels = read_labels_csv(args.file)
    counts = _catalog(args).import_labels(labels, _user_name() if args.by is None else args.by.strip())
    line = (f"{_plural(counts['set'], 'image')} labeled, {_plural(counts['replaced'], 'label')} replaced (the "
            f"label history keeps the earlier ones), {counts['unchanged']} already so")
    if counts["not_in_catalog"]:
        line += (f"; {_plural(counts['not_in_catalog'], 'row')} skipped: no image with that SHA-256 in this "
                 "catalog")
    print(line)
    return 0


# -- analyze -----------------------------------------------------------------------------------------
def _add_analyze_parser(subparsers):
    parser = subparsers.add_parser("analyze", help="(re)compute features of images analysed by an older version, "
                                   "and read again archive labels read with older rules")
    parser.add_argument("--workers", type=_count(1), default=None,
                        help="analysis processes (default: one per core)")
    parser.add_argument("--dask", default=None, metavar="SCHEDULER_ADDRESS",
                        help="compute features on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 "
                             "(needs the optional extra: pip install 'marsviz[dask]')")
    parser.set_defaults(func=cmd_analyze)


def cmd_analyze(args) -> int:
    """Recompute stale feature values, locally or on a Dask cluster; exit 1 if an image failed."""
    from marsviz.pipeline import reanalyse

    runner = None
    if args.dask:
        from marsviz.runner import DaskRunner

        runner = DaskRunner(args.dask)
    with _progress_bar("analyse", show_when_piped=True) as progress:
        report = reanalyse(_catalog(args), args.workers, progress, runner=runner)
    for image_id, name, reason in report.failed:
        print(f"failed    {_printable(name)} (id {image_id}): {_printable(reason)}", file=sys.stderr)
    line = f"{report.updated} images re-analysed"
    if report.labels_read:
        line += f"; the labels of {report.labels_read} archive products read again with today's rules"
    if report.failed:
        line += (f"; {len(report.failed)} failed and keep their old values (`marsviz check` tells whether "
                 "their stored files are missing or damaged)")
    print(line)
    return 1 if report.failed else 0


# -- check -------------------------------------------------------------------------------------------
def _add_check_parser(subparsers):
    parser = subparsers.add_parser(
        "check", help="verify the catalog file and every stored image against its content hash",
        description="Check the database with SQLite's integrity check and hash every stored image. A stored "
                    "file that no longer matches its hash is moved into damaged/ (nothing is deleted); re-add "
                    "the original with 'marsviz add' to restore it. Missing thumbnails are rebuilt.")
    parser.set_defaults(func=cmd_check)


def cmd_check(args) -> int:
    """Check the data folder, one line per problem; exit 1 if anything is missing or damaged."""
    from marsviz.integrity import check_catalog

    catalog = _catalog(args)
    with _progress_bar("check") as progress:
        report = check_catalog(catalog, progress)
    for problem in report.database:
        print(f"database  {_printable(problem)}")
    for image_id, name, path in report.missing:
        print(f"missing   {_printable(name)} (id {image_id}): {path}")
    for image_id, name, path in report.damaged:
        print(f"damaged   {_printable(name)} (id {image_id}): does not match its hash; moved to {path}")
    if report.database:
        print(f"the catalog {catalog.path} is damaged: {catalog.rebuild_advice}")
        return 1
    line = (f"{report.checked} images intact, {len(report.missing)} missing, {len(report.damaged)} damaged; "
            f"{report.thumbnails_rebuilt} thumbnails rebuilt")
    if report.missing or report.damaged:
        line += "; re-add the original files with `marsviz add` to restore them"
    print(line)
    return 0 if report.ok else 1


# -- scrape ------------------------------------------------------------------------------------------
def _add_scrape_parser(subparsers):
    from marsviz.sources import RENDITIONS, SOURCES

    parser = subparsers.add_parser(
        "scrape", help="fetch images from NASA's public services into the catalog",
        description="Fetch images from a NASA service, analyse them and add them to the catalog. Images "
                    "already in the catalog are skipped without downloading, so a re-run resumes.")
    parser.add_argument("source", choices=list(SOURCES),
                        help="; ".join(f"{name}: {cls.description}" for name, cls in SOURCES.items()))
    parser.add_argument("--query", "-q", default="", help="search text (nasa-images; default: mars)")
    parser.add_argument("--sol", type=int, default=None, help="one sol (mars2020, msl, pds-atlas4, pds-atlas)")
    parser.add_argument("--sol-min", type=int, default=None, help="first sol of a range")
    parser.add_argument("--sol-max", type=int, default=None, help="last sol of a range")
    parser.add_argument("--camera", action="append", default=[], metavar="C",
                        help="camera code as the service names it (repeat or comma-separate), e.g. NAVCAM_LEFT")
    parser.add_argument("--year-start", type=int, default=None, help="first year (nasa-images)")
    parser.add_argument("--year-end", type=int, default=None, help="last year (nasa-images)")
    parser.add_argument("--size", choices=RENDITIONS, default="",
                        help="rendition to download (nasa-images, mars2020, pds-atlas4); 'full' can be very large")
    parser.add_argument("--include-partial", action="store_true",
                        help="also take thumbnails and subframes (mars2020, msl)")
    parser.add_argument("--target", default="", help="target (pds-atlas4, pds-atlas; default: mars)")
    parser.add_argument("--mission", default="",
                        help="mission (pds-atlas4: the Atlas IV code, e.g. mpf, mer, msl, mars_2020, mro; pds-atlas)")
    parser.add_argument("--instrument", default="", help="instrument (pds-atlas4, e.g. imp, hirise; pds-atlas)")
    parser.add_argument("--spacecraft", default="",
                        help="spacecraft (default: the Mars Pathfinder lander; pds-atlas4: its code, csms; "
                             "pds-atlas: carl sagan memorial station)")
    parser.add_argument("--limit", type=_count(1), default=None,
                        help="look at no more than N items of the source (default: all)")
    parser.add_argument("--api-root", default=None, metavar="URL",
                        help="another server for the source (a mirror; the tests use a local one)")
    parser.set_defaults(func=cmd_scrape)


def scrape_query(args):
    """The :class:`marsviz.sources.Query` of parsed ``scrape`` arguments."""
    from marsviz.sources import Query

    if args.sol is not None and (args.sol_min is not None or args.sol_max is not None):
        raise MarsvizError("give either --sol or --sol-min/--sol-max, not both")
    low = args.sol if args.sol is not None else args.sol_min
    high = args.sol if args.sol is not None else args.sol_max
    return Query.from_inputs(text=args.query, sol_min=low, sol_max=high, cameras=args.camera,
                             year_start=args.year_start, year_end=args.year_end, size=args.size, target=args.target,
                             mission=args.mission, instrument=args.instrument, spacecraft=args.spacecraft,
                             include_partial=args.include_partial)


def cmd_scrape(args) -> int:
    """Scrape one source with a progress bar; exit 1 if the run stopped early or an item failed."""
    import threading

    from marsviz.fetch import make_session
    from marsviz.scrape import run_scrape
    from marsviz.sources import make_source

    query = scrape_query(args)
    catalog = _catalog(args)
    session = make_session(args.api_root)
    source = make_source(args.source, session, query, api_root=args.api_root)
    cancel = threading.Event()
    with tqdm(total=None, unit="image", desc=args.source, file=sys.stderr) as bar:
        def progress(report):
            bar.total = report.total
            bar.n = report.done
            bar.set_postfix_str(_printable(report.last)[:60], refresh=False)
            bar.refresh()
        try:
            report = run_scrape(catalog, source, session, limit=args.limit, progress=progress, cancel=cancel)
        except KeyboardInterrupt:
            cancel.set()
            raise
        # The service's count includes items the filters drop client-side (thumbnails, subframes).
        bar.total = bar.n = report.done
        bar.refresh()
    for name, reason in report.failed:
        print(f"failed    {_printable(name)}: {_printable(reason)}", file=sys.stderr)
    for name, reason in report.rejected:
        print(f"rejected  {_printable(name)}: {_printable(reason)}", file=sys.stderr)
    for name, reason in report.unlabelled:
        print(f"no label  {_printable(name)}: {_printable(reason)}; added without what it says", file=sys.stderr)
    for image_id, name in report.added:
        print(f"added     {_printable(name)} (id {image_id})")
    print(_printable(report.summary()))
    if report.error:
        print(f"marsviz: {_printable(report.error)}; everything fetched before that is kept", file=sys.stderr)
    return 0 if report.ok else 1


# -- evaluate ----------------------------------------------------------------------------------------
def _add_evaluate_parser(subparsers):
    parser = subparsers.add_parser(
        "evaluate", help="ROC AUC and average precision of every feature and preset on labeled images",
        description="For every registered feature and every composite preset: ROC AUC and average precision, "
                    "with 95%% bootstrap intervals over source images; over all images, then per view the view "
                    "model called. On a labeled image set (LABELS IMAGE_DIR): ice terrain against the rest and "
                    "any landmark against 'other'. With --from-catalog: the catalog's stored scores against "
                    "your own labels (--positive against every other label, or against --negative).")
    parser.add_argument("labels", type=Path, nargs="?", help="CSV with columns file,label")
    parser.add_argument("image_dir", type=Path, nargs="?", help="folder holding the labeled images")
    parser.add_argument("--from-catalog", action="store_true",
                        help="evaluate the catalog's stored scores against the labels set in it")
    parser.add_argument("--positive", nargs="+", default=None, metavar="LABEL",
                        help="labels counted as positive (default: swiss_cheese spider on a labeled set, "
                             "interesting with --from-catalog); commas separate too")
    parser.add_argument("--negative", nargs="+", default=None, metavar="LABEL",
                        help="with --from-catalog: labels counted as negative (default: every other label)")
    parser.add_argument("--format", choices=["table", "csv", "json"], default="table", help="output format")
    parser.add_argument("--output", type=Path, default=None, help="write to this file instead of the terminal")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.set_defaults(func=cmd_evaluate)


def _label_list(values: list[str] | None, default: list[str]) -> list[str]:
    """Labels given as separate arguments, comma-separated, or both.

    Examples
    --------
    >>> _label_list(["swiss_cheese,spider", "crater"], []), _label_list(None, ["interesting"])
    (['swiss_cheese', 'spider', 'crater'], ['interesting'])
    """
    if values is None:
        return default
    return [label.strip() for value in values for label in value.split(",") if label.strip()]


def cmd_evaluate(args) -> int:
    """Score labeled images (or read the catalog's scores and labels) and print or write the evaluation."""
    from marsviz.evaluate import render

    if args.from_catalog:
        if args.labels or args.image_dir:
            raise MarsvizError("--from-catalog evaluates the catalog's own labels: give no labels file or folder")
        from marsviz.evaluate import evaluate_catalog_labels

        catalog = _catalog(args)
        table = evaluate_catalog_labels(catalog.frame(), catalog.labels(), _label_list(args.positive, ["interesting"]),
                                        _label_list(args.negative, []), resamples=args.resamples, seed=args.seed)
    else:
        if args.labels is None or args.image_dir is None:
            raise MarsvizError("give a labels CSV and its image folder, or --from-catalog")
        if args.negative is not None:
            raise MarsvizError("--negative goes with --from-catalog")
        table = _evaluate_labeled_set(args)
    text = render(table, args.format)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {len(table)} rows to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _evaluate_labeled_set(args):
    from marsviz.evaluate import ICE_LABELS, evaluate_by_view, in_sample_notes, load_labels, score_images
    from marsviz.terrain.model import load_model

    labels = load_labels(args.labels)
    with _progress_bar("scoring") as progress:
        scores = score_images(labels, args.image_dir, progress=progress)
    return evaluate_by_view(scores, labels, _label_list(args.positive, list(ICE_LABELS)), resamples=args.resamples,
                            seed=args.seed, notes=in_sample_notes(labels, load_model()))


# -- train -------------------------------------------------------------------------------------------
def _add_train_parser(subparsers):
    from marsviz.learn import MIN_PER_CLASS

    parser = subparsers.add_parser(
        "train", help="rebuild the terrain model from labeled crops, or learn a score from your labels",
        description="Describe every labeled crop, cross-validate leaving one ice source image out at a time, "
                    "calibrate, fit the terrain model and write it with its evaluation summary (evaluation.json "
                    "beside it). Each SET is a folder holding labels.csv and images/, or a labels CSV followed "
                    "by its image folder; the sets are validated together, split by source image across all. "
                    "With --from-catalog: fit 'Your labels, trained' to the labels set in the catalog "
                    f"(--positive against every other label, or against --negative; at least {MIN_PER_CLASS} of each), "
                    "cross-validated with source images held out, recorded, and stored for every image.")
    parser.add_argument("sets", nargs="*", type=Path, metavar="SET", help="labeled set (see above)")
    parser.add_argument("--from-catalog", action="store_true", help="learn a score from the catalog's labels")
    parser.add_argument("--positive", nargs="+", default=None, metavar="LABEL",
                        help="with --from-catalog: labels counted as positive (default: interesting)")
    parser.add_argument("--negative", nargs="+", default=None, metavar="LABEL",
                        help="with --from-catalog: labels counted as negative (default: every other label)")
    parser.add_argument("--by", default=None, metavar="NAME",
                        help="with --from-catalog: who fits, as recorded (default: your user name)")
    parser.add_argument("--output", type=Path, default=None,
                        help="model file to write (default: the shipped marsviz/terrain/model.json)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the folds, network and bootstrap (default 0)")
    parser.add_argument("--resamples", type=_count(1), default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--workers", type=_count(1), default=1,
                        help="processes describing crops (default 1; the model does not depend on it)")
    parser.add_argument("--scores-output", type=Path, default=None, metavar="FILE.csv",
                        help="also write every crop's held-out values (per scale) to this CSV")
    parser.set_defaults(func=cmd_train)


def labeled_sets(arguments: list[Path]) -> list[tuple[Path, Path]]:
    """Pair the train command's SET arguments into (labels_csv, image_dir).

    Examples
    --------
    >>> labeled_sets([Path("a"), Path("b/labels.csv"), Path("b/crops")])
    [(PosixPath('a/labels.csv'), PosixPath('a/images')), (PosixPath('b/labels.csv'), PosixPath('b/crops'))]
    """
    pairs, items = [], list(arguments)
    while items:
        item = items.pop(0)
        if item.suffix.lower() == ".csv":
            if not items:
                raise MarsvizError(f"{item}: a labels CSV must be followed by its image folder")
            pairs.append((item, items.pop(0)))
        else:
            pairs.append((item / "labels.csv", item / "images"))
    return pairs


def cmd_train(args) -> int:
    """Train, write the model and its evaluation, print the held-out table; or learn from the catalog's labels."""
    if args.from_catalog:
        if args.sets:
            raise MarsvizError("--from-catalog learns from the catalog's own labels: give no labeled sets")
        return _train_from_catalog(args)
    if not args.sets:
        raise MarsvizError("give one or more labeled sets, or --from-catalog")
    from marsviz.evaluate import format_table
    from marsviz.terrain.model import model_path
    from marsviz.train import default_model_output, train

    output = args.output or default_model_output()
    with _progress_bar("describing crops", unit="crop") as progress:
        summary = train(labeled_sets(args.sets), output=output, seed=args.seed, resamples=args.resamples,
                        workers=args.workers, progress=progress, scores_output=args.scores_output)
    import pandas as pd

    print(format_table(pd.DataFrame(summary["rows"]).fillna(float("nan"))))
    for row in summary["presets"]:
        print(f"preset {row['preset']:<16} {row['task']:<12} ROC AUC {row['auc']:.3f} "
              f"[{row['auc_low']:.3f}, {row['auc_high']:.3f}]  avg precision {row['average_precision']:.3f}")
    print(f"wrote {output} and {output.with_name('evaluation.json')}", file=sys.stderr)
    _say_how_to_use(output, model_path(), "MARSVIZ_TERRAIN_MODEL")
    return 0


def _train_from_catalog(args) -> int:
    from marsviz.learn import LEARNED_LABEL, train_from_catalog

    catalog = _catalog(args)
    model = train_from_catalog(catalog, _label_list(args.positive, ["interesting"]), _label_list(args.negative, []),
                               _user_name() if args.by is None else args.by.strip(), seed=args.seed)
    print(f"{LEARNED_LABEL}: {model.describe()}")
    print(f"stored for every image (column your_labels_score); fit {len(catalog.label_fits())} recorded")
    return 0


def _add_train_view_parser(subparsers):
    parser = subparsers.add_parser(
        "train-view", help="rebuild the view model (orbital, surface, hardware, other)",
        description="Describe labeled rover frames and orbital crops, validate on later sols and held-out "
                    "source images, fit the view model and write it with view_evaluation.json beside it.")
    parser.add_argument("--rover", type=Path, required=True,
                        help="folder with the labeled Curiosity frames (labels.csv with file,label,split; images/)")
    parser.add_argument("--orbital", type=Path, nargs="+", required=True,
                        help="folders with labeled HiRISE crops (labels.csv, images/)")
    parser.add_argument("--other", type=Path, nargs="+", default=[],
                        help="folders made by make-other-set: maps, globes, artwork, photographs that are not Mars")
    parser.add_argument("--output", type=Path, default=None,
                        help="model file to write (default: the shipped marsviz/view/view_model.json)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the network (default 0)")
    parser.add_argument("--workers", type=_count(1), default=1, help="processes describing images (default 1)")
    parser.set_defaults(func=cmd_train_view)


def _add_datasets_parser(subparsers):
    from marsviz.datasets import DATASETS

    parser = subparsers.add_parser(
        "datasets", help="fetch the labeled data sets behind the models, by DOI",
        description="Download a labeled data set from its Zenodo record (by DOI, checked against the checksum "
                    "the record publishes), unpack it and write it as train and evaluate read it: a folder "
                    "with labels.csv and images/. See docs/evaluation.md.")
    actions = parser.add_subparsers(dest="datasets_action", required=True)
    listing = actions.add_parser("list", help="the data sets known, with their DOIs")
    listing.set_defaults(func=cmd_datasets_list)
    fetch = actions.add_parser("fetch", help="download, check, unpack and lay out one data set")
    fetch.add_argument("name", choices=list(DATASETS))
    fetch.add_argument("--dir", type=Path, default=None,
                       help="where the set goes (default: datasets/ in the data folder); it lands in DIR/NAME")
    fetch.add_argument("--mirror", default=None, metavar="URL",
                       help="a web address holding the record's files under the same names, instead of the DOI")
    fetch.add_argument("--sha256", default=None, help="the archive's SHA-256, required with --mirror")
    fetch.set_defaults(func=cmd_datasets_fetch)


def cmd_datasets_list(args) -> int:
    """Print the data sets :mod:`marsviz.datasets` knows."""
    from marsviz.datasets import DATASETS

    for name, spec in DATASETS.items():
        print(f"{name:<10} DOI {spec.doi}  {spec.archive}\n{'':<10} {spec.title}\n{'':<10} cite: {spec.citation}")
    return 0


def cmd_datasets_fetch(args) -> int:
    """Fetch one data set and say where it is."""
    from marsviz import config
    from marsviz.datasets import fetch

    folder = args.dir if args.dir is not None else (args.home or config.home()) / "datasets"
    target, count = fetch(args.name, folder, mirror=args.mirror, sha256=args.sha256, progress=sys.stderr.isatty())
    print(f"{args.name}: {count:,} labeled images in {target} (labels.csv, images/); "
          f"train with `python -m marsviz train {target}`")
    return 0


def _add_make_other_set_parser(subparsers):
    parser = subparsers.add_parser(
        "make-other-set", help="cut the view model's `other` set from unpacked Debian image packages",
        description="Sample maps, globes, artwork, screenshots and photographs that are not Mars from Debian "
                    "packages unpacked with dpkg-deb -x (openclipart-png, stellarium-data, desktop-base, "
                    "gnome-backgrounds, marble-data) into a folder for train-view --other.")
    parser.add_argument("unpacked", type=Path, nargs="+", help="folders the packages were unpacked into")
    parser.add_argument("--output", type=Path, required=True, help="folder to write (images/, labels.csv)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampling (default 0)")
    parser.set_defaults(func=cmd_make_other_set)


def cmd_make_other_set(args) -> int:
    """Write the `other` set and print how many images of each kind it holds."""
    from collections import Counter

    from marsviz.view.other_set import make_other_set

    rows = make_other_set(args.unpacked, args.output, seed=args.seed)
    if not rows:
        print("no images found: unpack the packages with dpkg-deb -x into the folders given", file=sys.stderr)
        return 1
    for kind, count in Counter(row["kind"] for row in rows).items():
        print(f"{count:5d} {kind}")
    print(f"wrote {len(rows)} images in {len({row['group'] for row in rows})} groups to {args.output}",
          file=sys.stderr)
    return 0


def cmd_train_view(args) -> int:
    """Train the view model, write it and its evaluation, print the held-out rates."""
    from marsviz.view.model import view_model_path
    from marsviz.view.train import default_view_model_output, train_view

    output = args.output or default_view_model_output()
    with _progress_bar("describing images") as progress:
        summary = train_view(args.rover, args.orbital, output=output, seed=args.seed, workers=args.workers,
                             progress=progress, other=args.other)
    def rate(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    for row in summary["views"]:
        print(f"{row['view']:9s} {row['n']:6d} held out, called right {rate(row['correct'])} "
              f"(at half size {rate(row['correct_at_half'])})  {row['called']}")
    for row in summary["classes"]:
        print(f"  {row['class']:<34} {row['n']:6d} held out, called {row['view']} {rate(row['correct'])} "
              f"(at half size {rate(row['correct_at_half'])})")
    print(f"terrain vs hardware ROC AUC {summary['terrain_vs_hardware_auc']:.3f} (view model)")
    for row in summary["presets"]:
        print(f"preset {row['preset']:<16} terrain vs hardware ROC AUC {row['auc']:.3f} "
              f"[{row['auc_low']:.3f}, {row['auc_high']:.3f}]")
    print(f"wrote {output} and {output.with_name('view_evaluation.json')}", file=sys.stderr)
    _say_how_to_use(output, view_model_path(), "MARSVIZ_VIEW_MODEL")
    return 0


def _say_how_to_use(written: Path, in_use: Path, variable: str) -> None:
    """Tell the user how to rank with a model just written, unless it is already the one in use."""
    if written.expanduser().resolve() != in_use:
        print(f"to rank with it: {variable}={written} (`analyze` then recomputes the stored scores)",
              file=sys.stderr)


# -- plumbing ----------------------------------------------------------------------------------------
def _plural(count: int, noun: str) -> str:
    """Examples: ``_plural(1, "label")`` is ``'1 label'``, ``_plural(2, "label")`` is ``'2 labels'``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _printable(text: str) -> str:
    """`text` with control characters escaped, so a hostile file name cannot drive the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="marsviz", description="Triage Mars images by features that hint at "
                                     "water, ice or unusual terrain.")
    parser.add_argument("--home", type=_folder, default=None,
                        help="data folder (default: $MARSVIZ_HOME or the per-user data directory)")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for add_parser in (_add_add_parser, _add_samples_parser, _add_rank_parser, _add_export_parser,
                       _add_label_parser, _add_labels_parser, _add_analyze_parser, _add_check_parser,
                       _add_scrape_parser, _add_evaluate_parser, _add_train_parser, _add_train_view_parser,
                       _add_make_other_set_parser, _add_datasets_parser):
        add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        config.check()
        return args.func(args)
    except MarsvizError as error:
        for line in str(error).splitlines() or [""]:
            print(f"marsviz: {_printable(line)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("marsviz: interrupted; everything finished before the interruption is kept", file=sys.stderr)
        return 130


def main_entry() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
