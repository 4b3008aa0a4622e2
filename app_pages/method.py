"""Method: what each feature measures and how, how scores are computed and validated, and credits."""

import pandas as pd
import streamlit as st

from marsviz import config
from marsviz.errors import MarsvizError
from marsviz.features import REGISTRY
from marsviz.scoring import OUTLIER_THRESHOLD
from marsviz.terrain.model import load_evaluation

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
        st.caption(f"column `{feature.name}` · version {feature.version} · default weight {feature.default_weight}")

st.header("Composite score")
st.markdown(
    "The composite score is the weighted mean of the feature values, with the weights from the sidebar. "
    "A feature that does not apply to an image (colour variation of a grayscale image) drops out of that "
    "image's mean instead of counting as 0, so grayscale frames are not pushed down the ranking for lacking "
    "colour. The viewer lists how many score points each feature adds.")
st.header("Outlier score")
st.markdown(
    "For each feature, every image gets a robust z-score: its distance from the catalog's median, divided by "
    "a robust spread (the larger of 1.4826 x the median absolute deviation and 1.2533 x the mean absolute "
    "deviation; both equal the standard deviation for normally distributed values). The outlier score is "
    f"the largest absolute z-score over the features; an image is an **outlier** above {OUTLIER_THRESHOLD} "
    "(the cut-off Iglewicz and Hoaglin recommend for modified z-scores). The viewer names the features that "
    "make an image an outlier. The 2-D projection on the Explore page is the first two principal components "
    "of these z-scores, and nearest neighbours are measured in the same space.")
st.header("Validation on labeled Mars terrain")
try:
    evaluation = load_evaluation()
except MarsvizError as error:
    st.warning(f"The evaluation summary cannot be read: {error}")
else:
    dataset, protocol = evaluation["dataset"], evaluation["protocol"]
    st.markdown(
        f"Each score was tested on {dataset['crops']:,} labeled HiRISE crops from {dataset['source_images']} "
        "source images (Wagstaff et al., DOI 10.5281/zenodo.2538136). Two questions: does the score rank "
        "**ice terrain** (swiss cheese and spiders, carved by CO2 ice) above the rest, and does it rank **any "
        "landmark** above plain \"other\" ground? ROC AUC is 0.5 for a score no better than chance and 1.0 "
        "for a perfect ranking. The trained scores were cross-validated with whole source images held out "
        f"({protocol['outer_folds']} folds); intervals are {protocol['interval']}.")
    labels = {name: f.label for name, f in REGISTRY.items()}
    st.dataframe(pd.DataFrame([{
        "question": "ice terrain vs rest" if row["task"] == "ice_terrain" else "any landmark vs other",
        "score": labels.get(row["score"], row["score"]),
        "ROC AUC": f"{row['auc']:.3f} [{row['auc_low']:.3f}, {row['auc_high']:.3f}]",
        "average precision": f"{row['average_precision']:.3f} [{row['ap_low']:.3f}, {row['ap_high']:.3f}]",
        "positives": f"{row['n_positive']} of {row['n_positive'] + row['n_negative']}",
        "how": row["note"],
    } for row in evaluation["rows"]]), hide_index=True)
    st.markdown(
        "**Where the scores are not validated.** The labeled set holds only grayscale orbital crops at "
        "HiRISE browse scale. Nothing here measures how the scores behave on rover images, colour images, "
        "other instruments or other scales; treat a high score there as a prompt to look, not a finding. "
        f"The ice-terrain class has only {dataset['class_counts'].get('ice_terrain', 0)} crops, so its average "
        "precision has a wide interval.")

st.header("Image credits")
st.markdown(
    "The bundled sample images are public-domain NASA material: NASA/JPL-Caltech, NASA/JPL-Caltech/MSSS, "
    "NASA/JPL-Caltech/University of Arizona, NASA/JPL-Caltech/ASU, NASA/JPL/Cornell and USGS. Some come from "
    "labeled data sets: *Mars orbital image (HiRISE) labeled data set* (Wagstaff et al., "
    "DOI 10.5281/zenodo.2538136) and *Mars surface image (Curiosity rover) labeled data set* "
    "(DOI 10.5281/zenodo.1049137). Each image's own credit is in the viewer under *Metadata and provenance*.")
