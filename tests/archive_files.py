"""Small archive products in their real formats, written by the tests: PDS3 (label attached and
detached), PDS4, VICAR, FITS and JPEG 2000, each as its format's documentation lays it out."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

HIRISE_LABEL = {"MISSION_NAME": '"MARS RECONNAISSANCE ORBITER"', "SPACECRAFT_NAME": '"MARS RECONNAISSANCE ORBITER"',
                "INSTRUMENT_NAME": '"HIGH RESOLUTION IMAGING SCIENCE EXPERIMENT"', "INSTRUMENT_ID": "HIRISE",
                "PRODUCT_ID": '"ESP_011386_2065_RED"', "TARGET_NAME": "MARS",
                "START_TIME": "2009-01-05T12:04:56.123"}
#: The map projection object of a HiRISE RDR, as its labels give it (bounds, not a centre).
HIRISE_MAP = """OBJECT = IMAGE_MAP_PROJECTION
  MAP_PROJECTION_TYPE = EQUIRECTANGULAR
  MAXIMUM_LATITUDE = 26.75 <DEG>
  MINIMUM_LATITUDE = 26.25 <DEG>
  EASTERNMOST_LONGITUDE = 1.5 <DEG>
  WESTERNMOST_LONGITUDE = 359.5 <DEG>
  MAP_SCALE = 0.25 <METERS/PIXEL>
  POSITIVE_LONGITUDE_DIRECTION = EAST
END_OBJECT = IMAGE_MAP_PROJECTION
OBJECT = VIEWING_PARAMETERS
  INCIDENCE_ANGLE = 53.2 <DEG>
  EMISSION_ANGLE = 4.1 <DEG>
END_OBJECT = VIEWING_PARAMETERS
"""


def terrain(height: int = 48, width: int = 64, top: int = 1023) -> np.ndarray:
    """uint16 samples in [0, `top`]: a slope with a dark disc, so a stretch and a flip both show."""
    rows, columns = np.mgrid[0:height, 0:width]
    values = (columns / (width - 1)) * 0.6 * top + (rows / (height - 1)) * 0.4 * top
    values[(rows - height / 3) ** 2 + (columns - width / 3) ** 2 < (min(height, width) / 6) ** 2] = top * 0.05
    return np.round(values).astype(np.uint16)


def _sample_type(samples: np.ndarray) -> tuple[str, int]:
    return {np.dtype(np.uint8): ("MSB_UNSIGNED_INTEGER", 8), np.dtype(np.uint16): ("MSB_UNSIGNED_INTEGER", 16),
            np.dtype(np.int16): ("MSB_INTEGER", 16), np.dtype(np.float32): ("IEEE_REAL", 32)}[samples.dtype]


def _big_endian(samples: np.ndarray) -> bytes:
    return samples.astype(samples.dtype.newbyteorder(">")).tobytes()


def pds3_label(samples: np.ndarray, pointer: str, *, record_bytes: int, label_records: int = 0,
               fields: dict | None = None, extra: str = HIRISE_MAP, nodata: int | None = None) -> str:
    """A PDS3 label of one IMAGE object of `samples` ((bands,) lines, samples), its pointer as given."""
    bands, lines, line_samples = (1, *samples.shape) if samples.ndim == 2 else samples.shape
    sample_type, bits = _sample_type(samples)
    header = ["PDS_VERSION_ID = PDS3", "RECORD_TYPE = FIXED_LENGTH", f"RECORD_BYTES = {record_bytes}"]
    if label_records:
        header += [f"FILE_RECORDS = {label_records + lines * bands}", f"LABEL_RECORDS = {label_records}"]
    header += [f"^IMAGE = {pointer}", *(f"{key} = {value}" for key, value in (fields or HIRISE_LABEL).items())]
    image = ["OBJECT = IMAGE", f"  LINES = {lines}", f"  LINE_SAMPLES = {line_samples}", f"  BANDS = {bands}",
             "  BAND_STORAGE_TYPE = BAND_SEQUENTIAL", f"  SAMPLE_TYPE = {sample_type}", f"  SAMPLE_BITS = {bits}"]
    if nodata is not None:
        image.append(f"  MISSING_CONSTANT = {nodata}")
    return "\r\n".join([*header, *extra.strip().splitlines(), *image, "END_OBJECT = IMAGE", "END", ""])


def pds3_attached(samples: np.ndarray, **options) -> bytes:
    """A PDS3 image file with its label attached (fixed-length records of one image line)."""
    record_bytes = samples.shape[-1] * samples.dtype.itemsize
    records = 1
    while True:  # the label's length depends on the record count it states
        text = pds3_label(samples, str(records + 1), record_bytes=record_bytes, label_records=records, **options)
        if len(text) <= records * record_bytes:
            break
        records = -(-len(text) // record_bytes)
    return text.encode("ascii").ljust(records * record_bytes, b" ") + _big_endian(samples)


def pds3_detached(folder: Path, samples: np.ndarray, stem: str = "ESP_011386_2065_RED",
                  data_suffix: str = ".IMG", **options) -> tuple[Path, Path]:
    """A PDS3 label ``stem.LBL`` and its data file ``stem + data_suffix`` in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{stem}{data_suffix}"
    data.write_bytes(_big_endian(samples))
    label = folder / f"{stem}.LBL"
    label.write_text(pds3_label(samples, f'"{data.name}"', record_bytes=samples.shape[-1] * samples.dtype.itemsize,
                                **options))
    return label, data


def hirise_jp2_product(folder: Path, samples: np.ndarray, stem: str = "PSP_001330_1395_RED") -> tuple[Path, Path]:
    """A HiRISE RDR as the archive holds it: ``stem.JP2`` and a PDS3 label ``stem.LBL`` describing it as the
    compressed form of an uncompressed image that is not distributed."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{stem}.JP2"
    data.write_bytes(jpeg2000(samples))
    lines, line_samples = samples.shape
    label = folder / f"{stem}.LBL"
    label.write_text("\r\n".join([
        "PDS_VERSION_ID = PDS3", "NOT_APPLICABLE_CONSTANT = -9998", f'PRODUCT_ID = "{stem}"',
        'INSTRUMENT_HOST_NAME = "MARS RECONNAISSANCE ORBITER"', 'INSTRUMENT_ID = "HIRISE"',
        "OBJECT = COMPRESSED_FILE", f'  FILE_NAME = "{data.name}"', "  RECORD_TYPE = UNDEFINED",
        '  ENCODING_TYPE = "JP2"', f'  UNCOMPRESSED_FILE_NAME = "{stem}.IMG"', "END_OBJECT = COMPRESSED_FILE",
        "OBJECT = UNCOMPRESSED_FILE", f'  FILE_NAME = "{stem}.IMG"', "  RECORD_TYPE = FIXED_LENGTH",
        f"  RECORD_BYTES = {line_samples}", f"  FILE_RECORDS = {lines}", f'  ^IMAGE = "{stem}.IMG"',
        "  OBJECT = IMAGE", f"    LINES = {lines}", f"    LINE_SAMPLES = {line_samples}", "    BANDS = 1",
        "    SAMPLE_TYPE = MSB_UNSIGNED_INTEGER", "    SAMPLE_BITS = 8", "  END_OBJECT = IMAGE",
        "END_OBJECT = UNCOMPRESSED_FILE", *HIRISE_MAP.strip().splitlines(), "END", ""]))
    return label, data


def pds4_product(folder: Path, samples: np.ndarray, stem: str = "product", offset: int = 0) -> tuple[Path, Path]:
    """A PDS4 observational product: ``stem.xml`` describing a 2-D image array in ``stem.img``."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{stem}.img"
    data.write_bytes(b"\0" * offset + _big_endian(samples))
    lines, line_samples = samples.shape
    label = folder / f"{stem}.xml"
    label.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<Product_Observational xmlns="http://pds.nasa.gov/pds4/pds/v1" xmlns:cart="http://pds.nasa.gov/pds4/cart/v1"
    xmlns:geom="http://pds.nasa.gov/pds4/geom/v1">
  <Identification_Area>
    <logical_identifier>urn:nasa:pds:mro_hirise:data_rdr:esp_045678_0930_red</logical_identifier>
    <version_id>1.0</version_id><title>HiRISE RDR</title>
    <information_model_version>1.15.0.0</information_model_version><product_class>Product_Observational</product_class>
  </Identification_Area>
  <Observation_Area>
    <Time_Coordinates><start_date_time>2016-04-20T10:11:12Z</start_date_time>
      <stop_date_time>2016-04-20T10:11:14Z</stop_date_time></Time_Coordinates>
    <Investigation_Area><name>Mars Reconnaissance Orbiter</name><type>Mission</type></Investigation_Area>
    <Observing_System>
      <Observing_System_Component><name>Mars Reconnaissance Orbiter</name><type>Host</type></Observing_System_Component>
      <Observing_System_Component><name>HiRISE</name><type>Instrument</type></Observing_System_Component>
    </Observing_System>
    <Target_Identification><name>Mars</name><type>Planet</type></Target_Identification>
    <Discipline_Area>
      <geom:Geometry><geom:incidence_angle unit="deg">71.5</geom:incidence_angle>
        <geom:emission_angle unit="deg">2.0</geom:emission_angle></geom:Geometry>
      <cart:Cartography><cart:Spatial_Domain><cart:Bounding_Coordinates>
        <cart:west_bounding_coordinate unit="deg">170.0</cart:west_bounding_coordinate>
        <cart:east_bounding_coordinate unit="deg">171.0</cart:east_bounding_coordinate>
        <cart:north_bounding_coordinate unit="deg">-86.5</cart:north_bounding_coordinate>
        <cart:south_bounding_coordinate unit="deg">-87.5</cart:south_bounding_coordinate>
      </cart:Bounding_Coordinates></cart:Spatial_Domain>
      <cart:Spatial_Reference_Information><cart:Horizontal_Coordinate_System_Definition><cart:Planar>
        <cart:Planar_Coordinate_Information><cart:Coordinate_Representation>
          <cart:pixel_resolution_x unit="m/pixel">0.5</cart:pixel_resolution_x>
          <cart:pixel_resolution_y unit="m/pixel">0.5</cart:pixel_resolution_y>
        </cart:Coordinate_Representation></cart:Planar_Coordinate_Information>
      </cart:Planar></cart:Horizontal_Coordinate_System_Definition></cart:Spatial_Reference_Information>
      </cart:Cartography>
    </Discipline_Area>
  </Observation_Area>
  <File_Area_Observational>
    <File><file_name>{data.name}</file_name></File>
    <Array_2D_Image>
      <offset unit="byte">{offset}</offset><axes>2</axes><axis_index_order>Last Index Fastest</axis_index_order>
      <Element_Array><data_type>UnsignedMSB2</data_type></Element_Array>
      <Axis_Array><axis_name>Line</axis_name><elements>{lines}</elements>
        <sequence_number>1</sequence_number></Axis_Array>
      <Axis_Array><axis_name>Sample</axis_name><elements>{line_samples}</elements>
        <sequence_number>2</sequence_number></Axis_Array>
    </Array_2D_Image>
  </File_Area_Observational>
</Product_Observational>
""")
    return label, data


def vicar(samples: np.ndarray) -> bytes:
    """A VICAR image (16-bit 'HALF' samples, high byte first) with an MSL-style IDENTIFICATION property."""
    lines, line_samples = samples.shape
    record = line_samples * 2
    items = ["LBLSIZE={size}", "FORMAT='HALF'", "TYPE='IMAGE'", f"BUFSIZ={record}", "DIM=3", "EOL=0",
             f"RECSIZE={record}", "ORG='BSQ'", f"NL={lines}", f"NS={line_samples}", "NB=1", f"N1={line_samples}",
             f"N2={lines}", "N3=1", "N4=0", "NBB=0", "NLB=0", "HOST='JAVA'", "INTFMT='HIGH'", "REALFMT='IEEE'",
             "BHOST='JAVA'", "BINTFMT='HIGH'", "BREALFMT='IEEE'", "BLTYPE=''", "PROPERTY='IDENTIFICATION'",
             "MISSION_NAME='MARS SCIENCE LABORATORY'", "INSTRUMENT_ID='NAV_LEFT_B'",
             "PRODUCT_ID='NLB_412345678EDR_F0050104NCAM00100M1'", "TARGET_NAME='MARS'",
             "START_TIME='2013-01-25T11:12:13.000'"]
    size = record
    while len("  ".join(items).format(size=size)) >= size:
        size += record
    return "  ".join(items).format(size=size).encode("ascii").ljust(size, b"\0") + samples.astype(">i2").tobytes()


def fits(samples: np.ndarray, **header) -> bytes:
    """A FITS file of `samples` (top row first, as an image is seen: FITS stores the bottom row first)."""
    from astropy.io import fits as astropy_fits

    hdu = astropy_fits.PrimaryHDU(samples[::-1].astype(np.int16))
    for key, value in {"TELESCOP": "MRO", "INSTRUME": "CTX", "OBJECT": "MARS", "DATE-OBS": "2012-03-04T05:06:07",
                       **header}.items():
        hdu.header[key] = value
    buffer = io.BytesIO()
    hdu.writeto(buffer)
    return buffer.getvalue()


def jpeg2000(samples: np.ndarray) -> bytes:
    """A JPEG 2000 (JP2) file of 8-bit `samples`."""
    buffer = io.BytesIO()
    Image.fromarray(samples).save(buffer, format="JPEG2000")
    return buffer.getvalue()


def placed_product(latitude: float, longitude: float, seed: int = 0) -> bytes:
    """A PDS3 image (label attached) centred at `latitude`, `longitude` (degrees east), with its own pixels."""
    rng = np.random.default_rng(seed)
    samples = (terrain() + rng.integers(0, 200, (48, 64))).clip(0, 1023).astype(np.uint16)
    projection = (f"OBJECT = IMAGE_MAP_PROJECTION\n  CENTER_LATITUDE = {latitude} <DEG>\n"
                  f"  CENTER_LONGITUDE = {longitude} <DEG>\n  MAP_SCALE = 0.5 <METERS/PIXEL>\n"
                  "END_OBJECT = IMAGE_MAP_PROJECTION")
    return pds3_attached(samples, extra=projection)
