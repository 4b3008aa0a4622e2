"""marsviz.missions: one name per mission and per camera, over the spellings real sources use; and what sample
provenance takes from the manifest."""

import json
import re
from pathlib import Path

import pytest

from marsviz.catalog import Catalog
from marsviz.missions import INSTRUMENTS, MISSIONS, canonical_instrument, canonical_mission
from marsviz.samples import manifest

FIXTURES = Path(__file__).parent / "fixtures" / "nasa"


def recorded_values(key: str) -> set[str]:
    """Every value of `key` anywhere in the recorded NASA responses."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            for name, value in node.items():
                if name == key and isinstance(value, str) and value:
                    found.add(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in FIXTURES.glob("*.json"):
        walk(json.loads(path.read_text()))
    return found


def test_every_camera_in_the_recorded_rover_feeds_has_its_one_name():
    cameras = recorded_values("instrument")
    assert len(cameras) >= 4
    names = {name for name, _ in INSTRUMENTS}
    assert {camera: canonical_instrument(camera) in names for camera in cameras} == dict.fromkeys(cameras, True)


def test_the_sample_missions_collapse_to_one_name_each():
    spelled = {row["mission"] for row in manifest().values()}
    canonical = {canonical_mission(m) for m in spelled}
    assert canonical <= {name for name, _ in MISSIONS}
    mer = {m for m in spelled if "MER" in m}
    assert len(mer) == 3 and {canonical_mission(m) for m in mer} == {"MER (Spirit, Opportunity)"}


@pytest.mark.parametrize("spellings", [
    ["MSL Curiosity", "Mars Science Laboratory (Curiosity)", "msl"],
    ["Mars 2020 Perseverance", "Mars 2020 (Perseverance)", "M2020"],
    ["MRO", "MARS RECONNAISSANCE ORBITER"],
    # the PDS Imaging Atlas IV's mission codes
    ["mars_2020", "Mars 2020"], ["mpf", "MARS PATHFINDER"], ["ody", "2001 MARS ODYSSEY"], ["nsyt", "InSight"],
    ["phx", "PHOENIX"], ["vik", "VIKING ORBITER 1"],
])
def test_each_source_spelling_of_a_mission_gives_the_same_name(spellings):
    assert len({canonical_mission(s) for s in spellings}) == 1


def test_a_camera_name_inside_a_longer_one_is_not_mistaken_for_it():
    assert canonical_instrument("FRONT_HAZCAM_LEFT_A") == "Hazcam"  # not Mastcam-Z, for its "zcam"
    assert canonical_instrument("SHERLOC_WATSON") == "WATSON"
    assert canonical_mission("Tianwen-1") == "Tianwen-1"  # unknown names are kept


def test_the_catalog_table_uses_the_one_names_and_keeps_the_sources_words(small_catalog_home):
    catalog = Catalog()
    frame = catalog.frame()
    assert set(frame["mission"]) <= {name for name, _ in MISSIONS}
    row = frame[frame["instrument"] == "HiRISE"].iloc[0]
    assert catalog.get(int(row["id"]))["instrument"] != "HiRISE"  # the manifest's fuller description
    assert re.search("hirise", catalog.get(int(row["id"]))["instrument"], re.IGNORECASE)


def test_sample_provenance_keeps_the_curation_notes_out_of_the_description():
    from marsviz.samples import provenance_of

    rows = manifest()
    assert any("repo commit" in row["notes"] for row in rows.values())
    described = {name: provenance_of(row).description for name, row in rows.items()}
    assert described == dict.fromkeys(rows, "")
    sols = [provenance_of(row).sol for row in rows.values()]
    assert sum(s is not None for s in sols) >= 10  # the sol is still read from the notes
