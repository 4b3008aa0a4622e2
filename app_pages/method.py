"""Method: what each feature measures and how, how scores are computed and validated, and credits."""

import pandas as pd
import streamlit as st

from marsviz import config, plots
from marsviz.errors import MarsvizError
from marsviz.learn import LEARNED_LABEL, MIN_PER_CLASS
from marsviz.registry import REGISTRY, feature_labels
from marsviz.scoring import GATE_CERTAINTY, OUTLIER_THRESHOLD, stand_in_map
from marsviz.terrain.model import load_evaluation
from marsviz.view.model import VIEW_MEANINGS, load_view_evaluation
from ui import preset_figures


def _loaded(loader, what: str) -> dict | None:
    """The summary `loader` reads, or None after a warning saying why it cannot be read."""
    try:
        return loader()
    except MarsvizError as error:
        st.warning(f"The {what} cannot be read: {error}")
        return None


def _rate(value: float | None) -> str:
    """A held-out rate as a percentage, or "-" where none was measured."""
    return "-" if value is None else f"{value:.1%}"


st.title("Method")
st.write(f"Every image is decoded at most {config.get('analysis_max_side')} px on its longest side "
         "(JPEGs are reduced by the decoder itself), turned upright from its EXIF orientation, and converted "
         "to values between 0 and 1. An RGB file whose three channels are identical is treated as grayscale. "
         "Each feature is a pure function of those pixels and gives a value between 0 and 1 plus the map of "
         "where in the image the value comes from (the overlays in the viewer).")

st.header("Features")
for feature in REGISTRY.values():
    with st.container(border=True):
        st.subheader(feature.label)
        st.markdown(f"**Measures.** {feature.measures}\n\n**How.** {feature.method}\n\n"
                    f"**Why it matters.** {feature.why}\n\n**Limits.** {feature.limits}")
        st.caption(f"column `{feature.name}` · version {feature.version}")

st.header("Composite score")
by_score: dict[str, list[str]] = {}
for stand_in, principals in stand_in_map().items():
    for principal in principals:
        by_score.setdefault(principal, []).append(REGISTRY[stand_in].label.lower())
stand_ins = "; ".join(f"{', '.join(names)} for {REGISTRY[principal].label.lower()}"
                      for principal, names in by_score.items())
st.markdown(
    "The composite score is the weighted mean of the feature values, with the weights from the sidebar. The "
    "probability that the frame shows Mars terrain gates the rest: every other feature's value is multiplied "
    "by it first, and it counts with its own weight too (weight 0 turns both off). From a probability of "
    f"{GATE_CERTAINTY:.0%} up a frame counts as surely showing terrain, so finer differences among such frames do "
    "not reorder them; below it the gate counts in proportion. A calibration target's bright pixels then add "
    "almost nothing, while a frame of plain ground still scores about half; evidence raises the score towards "
    "1. A feature that does not apply to an "
    "image (colour variation of a grayscale image, a trained score on a view it was not validated on) drops "
    "out of that image's mean instead of counting as 0. Where a trained score applies, the seed measurements "
    "that stand in for it do not also count: on orbital crops they rank ice terrain and landmarks worse than "
    "chance (the validation below), and averaging them in would dilute the validated score. On every other "
    f"view they count in its place ({stand_ins}). The viewer lists how many score points each feature adds. "
    "A **preset** in the sidebar sets all the weights at once, for one question:")
preset_figures.show(_loaded(load_evaluation, "evaluation summary"),
                    _loaded(load_view_evaluation, "view evaluation"))
st.header("Outlier score")
st.markdown(
    "For each feature, every image gets a robust z-score: its distance from the catalog's median, divided by "
    "a robust spread (the larger of 1.4826 x the median absolute deviation and 1.2533 x the mean absolute "
    "deviation; both equal the standard deviation for normally distributed values). The outlier score is "
    f"the largest absolute z-score over the features; an image is an **outlier** above {OUTLIER_THRESHOLD} "
    "(the cut-off Iglewicz and Hoaglin recommend for modified z-scores). The viewer names the features that "
    "make an image an outlier. Nearest neighbours are measured in the same space. The projections on the "
    "Explore page are the first two principal components of the features' *ranks* (each feature's values "
    "replaced by their rank among the images), so that a few extreme images do not squeeze all others into "
    "a corner of the plot; the outlier score, not the map, is what marks outliers.")
st.header("Validation on labeled Mars terrain")
evaluation = _loaded(load_evaluation, "evaluation summary")
if evaluation:
    dataset, protocol = evaluation["dataset"], evaluation["protocol"]
    counts = dataset.get("label_counts", {})
    st.markdown(
        f"Each score was tested on {dataset['crops']:,} labeled HiRISE crops from {dataset['source_images']} "
        "source images (Wagstaff et al., DOI 10.5281/zenodo.2538136), among them "
        f"{counts.get('swiss_cheese', 0)} swiss cheese and {counts.get('spider', 0)} spider crops from "
        f"{dataset['ice_source_images']} source images. Two questions: does the score rank **ice terrain** "
        "(swiss cheese and spiders, carved by CO2 ice) above the rest, and does it rank **any landmark** above "
        "plain \"other\" ground? ROC AUC is 0.5 for a score no better than chance and 1.0 for a perfect "
        f"ranking. The trained scores were validated in {protocol['folds']} folds, each holding out one source "
        "image with ice terrain and a share of the others, every crop scored by a model that never saw its "
        f"source image; intervals are {protocol['interval']}.")
    labels = feature_labels()
    st.dataframe(pd.DataFrame([{
        "question": "ice terrain vs rest" if row["task"] == "ice_terrain" else "any landmark vs other",
        "score": labels.get(row["score"], row["score"]),
        "ROC AUC": f"{row['auc']:.3f} [{row['auc_low']:.3f}, {row['auc_high']:.3f}]",
        "average precision": f"{row['average_precision']:.3f} [{row['ap_low']:.3f}, {row['ap_high']:.3f}]",
        "positives": f"{row['n_positive']} of {row['n_positive'] + row['n_negative']}",
        "how": row["note"],
    } for row in evaluation["rows"]]), hide_index=True)

    st.subheader("From place to place")
    spiders = evaluation["spiders"]
    st.markdown(
        "The ice terrain score of each held-out ice source image's crops against every crop without ice "
        f"terrain. Spiders alone ({spiders['n']} crops from {spiders['sources']} source images) reach ROC AUC "
        f"{spiders['auc_vs_no_ice']:.3f}.")
    st.dataframe(pd.DataFrame(evaluation["per_ice_source"]).rename(columns={
        "source": "source image", "n": "ice crops", "auc": "ROC AUC", "median_score": "median score"}),
        hide_index=True)

    st.subheader("At other scales")
    st.markdown("The same held-out crops shrunk to half and enlarged to twice their size (Lanczos), scored as "
                "any image of that size is.")
    st.dataframe(pd.DataFrame([{
        "score": labels.get(row["score"], row["score"]), "scale": f"{row['scale']:g}x",
        "ROC AUC": row["auc"], "change": row["auc_change"], "average precision": row["average_precision"],
    } for row in evaluation["scales"]]), hide_index=True)

    st.subheader("Are the scores probabilities?")
    st.markdown(
        "Each trained score is calibrated (a Platt map fitted on held-out scores), so that of the crops scored "
        "about 0.3, about 30% are what the score names. The diagram compares predicted and observed shares on "
        "held-out source images; ECE is the expected calibration error, the mean gap weighted by crops.")
    st.plotly_chart(plots.reliability(evaluation["reliability"], labels), key="reliability")
    st.markdown(
        "**Where the scores are not validated.** The labeled set holds only grayscale orbital crops at "
        "HiRISE browse scale. Nothing here measures how the scores behave on rover images, colour images or "
        "other instruments; treat a high score there as a prompt to look, not a finding. Ice terrain comes "
        f"from only {dataset['ice_source_images']} source images, all polar, so its average precision has a "
        "wide interval.")

#: How the view evaluation's orbital classes read on the page (the other kinds read as they are named).
CLASS_NAMES = {"orbital": "HiRISE crops", "orbital mosaic": "product: projected mosaic",
               "orbital strip": "product: projected strip", "orbital colour": "product: colour mosaic",
               "other photograph": "photographs (scikit-image)"}

st.header("What an image shows")
view_evaluation = _loaded(load_view_evaluation, "view evaluation")
if view_evaluation:
    st.markdown(
        "Every image gets a **view**: " + "; ".join(f"**{v}**, {m}" for v, m in VIEW_MEANINGS.items()) + ". "
        "Five small networks, averaged, over whole-frame descriptors (brightness and texture in bands from top to "
        "bottom, edge directions, colour, and the channels of a pretrained image network) decide, trained on "
        "labeled Curiosity frames (Stanboli and Wagstaff, DOI 10.5281/zenodo.1049137), the labeled HiRISE crops "
        "with orbital products assembled from them (a projected mosaic on a black no-data frame, a projected "
        "strip, a colour mosaic), and maps, artwork, "
        "screenshots and photographs that are not Mars, cut from Debian's image packages and scikit-image's "
        "samples. Training also sees every image at half its size, six jittered copies of every rover frame "
        "(zoomed in, mirrored, turned, exposed otherwise: the labeled drill holes show one place) and every HiRISE "
        "crop at twice its size. Validated as the Curiosity set's authors split it, on sols later than any trained on, on "
        "HiRISE source images held out, and on kinds of other images held out. The trained terrain scores "
        "were validated only on orbital images: on any other view the composite leaves them out, and the "
        "viewer says so.")
    st.dataframe(pd.DataFrame([{
        "true view": row["view"], "held out": row["n"], "called right": _rate(row.get("correct")),
        "at half size": _rate(row.get("correct_at_half")),
        **{f"called {v}": row["called"][v] for v in VIEW_MEANINGS}} for row in view_evaluation["views"]]),
        hide_index=True)
    st.caption("At half size: the same held-out images shrunk to half their width and height, as a smaller "
               "orbital crop or a rover thumbnail would come.")
    weakest = min(view_evaluation["rover_labels"], key=lambda row: row["correct"])
    st.markdown(
        f"Rover terrain against rover hardware: ROC AUC {view_evaluation['terrain_vs_hardware_auc']:.3f}. The "
        f"weakest Curiosity label is {weakest['label'].replace('_', ' ')} ({weakest['correct']:.0%} of "
        f"{weakest['n']} called {weakest['view']}).")
    if view_evaluation.get("classes"):
        st.markdown("Orbital crops, the products assembled from held-out source images, and each kind of other "
                    "image, held out by group:")
        st.dataframe(pd.DataFrame([{
            "images": CLASS_NAMES.get(row["class"], row["class"].removeprefix("other ")), "view": row["view"],
            "held out": row["n"], "called right": _rate(row["correct"]),
            "at half size": _rate(row.get("correct_at_half"))}
            for row in view_evaluation["classes"]]), hide_index=True)

st.header("Learning from your labels")
st.markdown(
    f"**{LEARNED_LABEL}** is fitted to the labels you set (sidebar: *Your labels*; `python -m marsviz train "
    f"--from-catalog`) once at least {MIN_PER_CLASS} images carry the label to find and {MIN_PER_CLASS} another: "
    "an L2-regularised logistic regression, the two classes weighted equally, on the 118 whole-frame descriptors "
    "made by hand that the view model classifies (stored per image). Before it is fitted on every label, its ROC "
    "AUC is measured by cross-validation with whole source images held out (crops of one HiRISE observation stay "
    "together), and that number is shown with the label counts: it says how well the score ranks images it was "
    "not fitted on. Every fit is recorded in the catalog with who fitted it and when; a refit happens only when "
    "asked for. "
    "*Limits*: tens of labels fit a rough score; below-chance or near-chance AUCs mean the descriptors do not "
    "separate what you labeled, and the score should not be used. It is not one of the composite's weights.\n\n"
    "**New to you** orders the catalog by how unlike an image is to everything labeled so far (after DEMUD, "
    "Wagstaff et al. 2013): each descriptor is standardised as the view model standardises it, the labeled "
    "images' mean and main "
    "directions (the fewest that keep 99% of their variance, at most 10) reconstruct every image, and the "
    "reconstruction error ranks them, largest first. The viewer names the three descriptors with the largest "
    "residuals. Each label changes the model, so labeling as you walk this order (Next not reviewed) moves on to "
    "what you have not seen yet. `python -m marsviz rank --new-to-you` gives the same order.")

st.header("Archive products and what their labels say")
st.markdown(
    "PDS3 (label attached, or a detached `.LBL` with its data file), PDS4, VICAR and JPEG 2000 products are read "
    "by GDAL, FITS files by astropy, at the resolution the analysis needs (a JPEG 2000 product from its own "
    "reduced resolution levels). Samples become pixels the way 16-bit PNG and TIFF images do: integer samples "
    "are divided by the largest value of the bits in use (10-bit data in 16-bit words are not left dark), "
    "floating-point samples are stretched from their minimum to their maximum, and samples the product marks as "
    "carrying no data are left out of the stretch and shown black. Three bands make a colour image with one "
    "stretch for all three, so the balance between them is kept; any other number of bands shows the first.\n\n"
    "From the label come the mission (else the spacecraft), instrument, product id, target, start time, the "
    "centre latitude and longitude (the middle of the label's bounds, else the centre it gives, since a map "
    "projection's centre need not lie in the image; planetocentric, "
    "longitude east in 0-360°, converted from labels that count westward), the scale in metres per pixel and the "
    "incidence and emission angles. They are what the label says, not checked against the pixels. The map "
    "places an image at that centre on a simple cylindrical graticule, without a basemap. The appearance scores "
    "do not use the place or the scale: they are functions of the pixels alone (the place counts through the "
    "context features, below).\n\n"
    "A browse image scraped from the PDS Imaging Atlas IV comes with its product's PDS3 or PDS4 label, read the "
    "same way. Its scale is the browse image's own: the product's metres per pixel times how much the browse "
    "image is reduced from the product's size in the label, and none when the label gives no size or the browse "
    "image is not the whole product reduced.")

st.header("Where and when")
st.markdown(
    "Each image's place is found, where it can be, from (first that applies) the centre its archive label "
    "gives; a Mars Reconnaissance Orbiter product id in its name or ids, whose four-digit target code is the angle "
    "from the nighttime equator to the observation's centre in tenths of a degree (0900 the south pole, 1800 the "
    "daytime equator, 2700 the north pole; codes 9000 and above are other bodies), which gives the latitude, and "
    "a CTX id's rounded centre (`05S146W`), which gives the longitude too; or the landing site of a lander or rover "
    "that images only around it (Curiosity, Perseverance, Spirit, Opportunity, Phoenix, InSight, Pathfinder, the "
    "Viking landers; the rovers drove at most about 45 km from it). The time is the one the source or the label "
    "gives (not the NASA Image Library's, which is when an item was published), else the middle of the image's "
    "sol at its landing site. From the time come the solar longitude Ls and the Mars year (the Mars24 algorithm "
    "of Allison and McEwen 2000; years after Piqueux et al. 2015), and with the latitude the season in the "
    "image's hemisphere: spring runs from Ls 0 in the north and from Ls 180 in the south. The viewer says which "
    "source each came from.\n\n"
    "Two **context features** (below, with the others) turn the place into evidence: the south polar CO2-ice "
    "region and the ground-ice stability band. They are functions of the latitude alone, never of the pixels, "
    "so renaming a file changes no appearance score. The preset *Water and ice* adds them to the appearance "
    "scores, and the viewer shows what each adds; *Appearance only* ranks by the pixels alone. An image whose "
    "place is not known gets no context term (the viewer says so). The outlier score, Explore's projection and "
    "the neighbours compare appearance only.")

st.header("Image credits")
st.markdown(
    "The bundled sample images are public-domain NASA material: NASA/JPL-Caltech, NASA/JPL-Caltech/MSSS, "
    "NASA/JPL-Caltech/University of Arizona, NASA/JPL-Caltech/ASU, NASA/JPL/Cornell and USGS. Some come from "
    "labeled data sets: *Mars orbital image (HiRISE) labeled data set* (Wagstaff et al., "
    "DOI 10.5281/zenodo.2538136) and *Mars surface image (Curiosity rover) labeled data set* "
    "(DOI 10.5281/zenodo.1049137). Each image's own credit is in the viewer under *Metadata and provenance*.")
