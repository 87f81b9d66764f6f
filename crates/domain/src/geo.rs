//! The city on a map, without drawing it: the districts' boundaries (`jinan_districts.geojson`),
//! which district a point lies in, and a gazetteer of places people name instead of
//! coordinates: districts, streets and towns (街道/镇), communities (社区) and landmarks.
//!
//! Streets and communities come from the service halls (each 便民服务中心 or 服务站 stands in
//! its street or community); landmarks and their approximate points are in `gazetteer.json`.
//! Points are for finding a place and drawing it, not for surveying: the boundaries are drawn
//! at about 100 m, the landmarks to a few hundred metres.
//!
//! Point-in-polygon is the even-odd rule over every ring, a dozen lines; CI checks the file and
//! every named point with shapely (GEOS), an implementation that is not ours.

use serde::{Deserialize, Serialize};

use crate::reference::data::Hall;

/// The districts' boundaries as shipped (GeoJSON, WGS84, `[lon, lat]`).
pub const DISTRICTS_GEOJSON: &str = include_str!("../../../reference/jinan_districts.geojson");
/// Landmarks with approximate points.
pub const GAZETTEER_JSON: &str = include_str!("../../../reference/gazetteer.json");

/// One ring of a polygon: `(lon, lat)` pairs, closed (the first point repeated last).
pub type Ring = Vec<(f64, f64)>;

/// A district (区/县) and its boundary.
#[derive(Clone, Debug, PartialEq)]
pub struct District {
    /// Its name, e.g. 历下区, as `DISTRICTS` spells it.
    pub name: String,
    /// Its administrative division code (GB/T 2260), e.g. 370102.
    pub code: String,
    /// Its polygons, each an outer ring then holes.
    pub polygons: Vec<Vec<Ring>>,
    /// Where its name is written on a map (inside it, where it is widest).
    pub label: (f64, f64),
}

impl District {
    /// Whether `(lon, lat)` lies inside (even-odd rule: a point in a hole is outside).
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        self.polygons
            .iter()
            .any(|rings| rings.iter().filter(|ring| crosses_odd(ring, lon, lat)).count() % 2 == 1)
    }

    /// `(lon_min, lat_min, lon_max, lat_max)`.
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        bounds(self.polygons.iter().flatten().flatten())
    }
}

/// Ray casting to the east: whether a ray from the point crosses the ring an odd number of times.
fn crosses_odd(ring: &[(f64, f64)], x: f64, y: f64) -> bool {
    let mut inside = false;
    for pair in ring.windows(2) {
        let ((x1, y1), (x2, y2)) = (pair[0], pair[1]);
        if (y1 > y) != (y2 > y) && x < x1 + (y - y1) * (x2 - x1) / (y2 - y1) {
            inside = !inside;
        }
    }
    inside
}

fn bounds<'a>(points: impl Iterator<Item = &'a (f64, f64)>) -> (f64, f64, f64, f64) {
    points.fold((f64::MAX, f64::MAX, f64::MIN, f64::MIN), |(a, b, c, d), &(x, y)| {
        (a.min(x), b.min(y), c.max(x), d.max(y))
    })
}

/// What the boundary file could not give.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    #[error("{file}: {error}")]
    Parse { file: &'static str, error: serde_json::Error },
    #[error("{file}: {detail}")]
    Shape { file: &'static str, detail: String },
}

#[derive(Deserialize)]
struct FeatureCollection {
    features: Vec<Feature>,
}

#[derive(Deserialize)]
struct Feature {
    properties: FeatureProperties,
    geometry: Geometry,
}

#[derive(Deserialize)]
struct FeatureProperties {
    name: String,
    code: String,
    label_point: (f64, f64),
}

#[derive(Deserialize)]
#[serde(tag = "type", content = "coordinates")]
enum Geometry {
    Polygon(Vec<Ring>),
    MultiPolygon(Vec<Vec<Ring>>),
}

/// Reads the districts from a GeoJSON FeatureCollection of (Multi)Polygons with `name`, `code`
/// and `label_point` properties. Every ring must be closed and have at least four points.
pub fn parse_districts(text: &str) -> Result<Vec<District>, GeoError> {
    const FILE: &str = "jinan_districts.geojson";
    let collection: FeatureCollection =
        serde_json::from_str(text).map_err(|error| GeoError::Parse { file: FILE, error })?;
    collection
        .features
        .into_iter()
        .map(|f| {
            let polygons = match f.geometry {
                Geometry::Polygon(rings) => vec![rings],
                Geometry::MultiPolygon(polygons) => polygons,
            };
            for ring in polygons.iter().flatten() {
                if ring.len() < 4 || ring.first() != ring.last() {
                    return Err(GeoError::Shape {
                        file: FILE,
                        detail: format!(
                            "{}: a ring is not closed or has fewer than 4 points",
                            f.properties.name
                        ),
                    });
                }
            }
            Ok(District {
                name: f.properties.name,
                code: f.properties.code,
                polygons,
                label: f.properties.label_point,
            })
        })
        .collect()
}

/// The district a point lies in, if any (outside the city: none).
pub fn district_at(districts: &[District], lon: f64, lat: f64) -> Option<&District> {
    districts.iter().find(|d| d.contains(lon, lat))
}

/// `(lon_min, lat_min, lon_max, lat_max)` of all the districts.
pub fn city_bounds(districts: &[District]) -> (f64, f64, f64, f64) {
    bounds(districts.iter().flat_map(|d| d.polygons.iter().flatten().flatten()))
}

/// The city as maps and place search know it.
#[derive(Clone, Debug, Default)]
pub struct City {
    pub districts: Vec<District>,
    pub gazetteer: Gazetteer,
}

impl City {
    /// The shipped boundaries and landmarks, with streets and communities from `halls`.
    pub fn shipped(halls: &[Hall]) -> Result<City, GeoError> {
        let districts = parse_districts(DISTRICTS_GEOJSON)?;
        let gazetteer = Gazetteer::build(&districts, halls, GAZETTEER_JSON)?;
        Ok(City { districts, gazetteer })
    }

    /// `(lon_min, lat_min, lon_max, lat_max)`.
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        city_bounds(&self.districts)
    }

    /// The district a point lies in.
    pub fn district_at(&self, lon: f64, lat: f64) -> Option<&District> {
        district_at(&self.districts, lon, lat)
    }
}

// ---------------------------------------------------------------------------------------------
// The gazetteer
// ---------------------------------------------------------------------------------------------

/// What kind of place a name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlaceKind {
    District,
    /// 街道 or 镇.
    Street,
    /// 社区 or 村.
    Community,
    Landmark,
}

impl PlaceKind {
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (PlaceKind::District, false) => "区县",
            (PlaceKind::Street, false) => "街道/镇",
            (PlaceKind::Community, false) => "社区/村",
            (PlaceKind::Landmark, false) => "地标",
            (PlaceKind::District, true) => "District",
            (PlaceKind::Street, true) => "Street or town",
            (PlaceKind::Community, true) => "Community",
            (PlaceKind::Landmark, true) => "Landmark",
        }
    }
}

/// A named place and its approximate point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Place {
    /// As people say it: 趵突泉, 趵突泉街道, 青年东路社区, 历下区.
    pub name: String,
    pub kind: PlaceKind,
    /// The district it lies in.
    pub district: String,
    pub lat: f64,
    pub lon: f64,
    /// Other names people use (济南站 → 火车站), searched like the name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

#[derive(Deserialize)]
struct GazetteerFile {
    landmarks: Vec<Place>,
}

/// The places people can search for.
#[derive(Clone, Debug, Default)]
pub struct Gazetteer {
    pub places: Vec<Place>,
}

/// The part of a hall's name that names its street (`…街道`, `…镇`) or community (`…社区`,
/// `…村`), after its district: 历下区趵突泉街道青年东路社区便民服务站 → (趵突泉街道, 青年东路社区).
fn street_and_community(hall: &Hall) -> (Option<String>, Option<String>) {
    let rest = hall.name.strip_prefix(hall.district.as_str()).unwrap_or(&hall.name);
    let street_end = ["街道", "镇"].iter().filter_map(|s| rest.find(s).map(|i| i + s.len())).min();
    let street = street_end.map(|end| rest[..end].to_string());
    let after = &rest[street_end.unwrap_or(0)..];
    // 全运村社区 is a 社区, not a 村: the longer suffix is tried first.
    let community =
        ["社区", "村"].iter().find_map(|s| after.find(s).map(|i| after[..i + s.len()].to_string()));
    (street, community)
}

impl Gazetteer {
    /// Districts (at their label point), streets and communities from the halls, and the
    /// landmarks file.
    pub fn build(
        districts: &[District],
        halls: &[Hall],
        landmarks_json: &str,
    ) -> Result<Gazetteer, GeoError> {
        let file: GazetteerFile = serde_json::from_str(landmarks_json)
            .map_err(|error| GeoError::Parse { file: "gazetteer.json", error })?;
        let mut places: Vec<Place> = districts
            .iter()
            .map(|d| Place {
                name: d.name.clone(),
                kind: PlaceKind::District,
                district: d.name.clone(),
                lon: d.label.0,
                lat: d.label.1,
                aliases: Vec::new(),
            })
            .collect();
        for hall in halls {
            let (street, community) = street_and_community(hall);
            let found = [(street, PlaceKind::Street), (community, PlaceKind::Community)];
            for (name, kind) in found {
                let Some(name) = name else { continue };
                // A street with several halls (its centre and its communities' stations) is
                // named once, at the hall of its own level.
                let own_level = (kind == PlaceKind::Street) == (hall.level == "street");
                match places.iter_mut().find(|p| p.name == name && p.district == hall.district) {
                    Some(p) if own_level => (p.lat, p.lon) = (hall.lat, hall.lon),
                    Some(_) => {}
                    None => places.push(Place {
                        name,
                        kind,
                        district: hall.district.clone(),
                        lat: hall.lat,
                        lon: hall.lon,
                        aliases: Vec::new(),
                    }),
                }
            }
        }
        places.extend(file.landmarks);
        Ok(Gazetteer { places })
    }

    /// Places matching what a person typed, best first: the name itself, then names that begin
    /// with it, then names that contain it, then places whose name the text contains (an
    /// address such as 历下区趵突泉街道某小区 finds 趵突泉街道, the longest name first).
    pub fn search(&self, query: &str, limit: usize) -> Vec<&Place> {
        let q = normalise(query);
        if q.is_empty() {
            return Vec::new();
        }
        let mut scored: Vec<(u32, usize, &Place)> = self
            .places
            .iter()
            .filter_map(|p| {
                let score = std::iter::once(&p.name)
                    .chain(&p.aliases)
                    .map(|name| score(&normalise(name), &q))
                    .max()
                    .unwrap_or(0);
                (score > 0).then_some((score, p.name.chars().count(), p))
            })
            .collect();
        // Higher score first; among names the text contains, the longest (the most precise);
        // otherwise the shortest; then the file's order.
        scored.sort_by(|a, b| {
            b.0.cmp(&a.0).then_with(|| if a.0 == CONTAINED { b.1.cmp(&a.1) } else { a.1.cmp(&b.1) })
        });
        scored.into_iter().take(limit).map(|(_, _, p)| p).collect()
    }
}

const EXACT: u32 = 4;
const PREFIX: u32 = 3;
const INSIDE: u32 = 2;
const CONTAINED: u32 = 1;

fn score(name: &str, query: &str) -> u32 {
    let bare = strip_suffix(name);
    if name == query || bare == query {
        EXACT
    } else if name.starts_with(query) {
        PREFIX
    } else if name.contains(query) {
        INSIDE
    } else if query.contains(name) || (bare.chars().count() >= 2 && query.contains(bare)) {
        CONTAINED
    } else {
        0
    }
}

/// 趵突泉街道 → 趵突泉: people leave the suffix off.
fn strip_suffix(name: &str) -> &str {
    ["街道", "社区", "镇", "村"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .filter(|b| !b.is_empty())
        .unwrap_or(name)
}

/// Spaces and the city's name do not matter: 济南市 历下区 → 历下区.
fn normalise(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let s = s.strip_prefix("山东省").unwrap_or(&s);
    let s = s.strip_prefix("济南市").or_else(|| s.strip_prefix("济南")).unwrap_or(s);
    s.to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::reference::data::{RawFiles, parse};

    fn districts() -> Vec<District> {
        parse_districts(DISTRICTS_GEOJSON).unwrap()
    }

    fn gazetteer() -> Gazetteer {
        let data = parse(&RawFiles::SHIPPED).unwrap();
        Gazetteer::build(&districts(), &data.halls.halls, GAZETTEER_JSON).unwrap()
    }

    #[test]
    fn the_twelve_districts_are_drawn_with_closed_rings() {
        let d = districts();
        let names: Vec<&str> = d.iter().map(|d| d.name.as_str()).collect();
        let mut want = crate::reference::DISTRICTS.to_vec();
        want.sort_unstable();
        let mut got = names.clone();
        got.sort_unstable();
        assert_eq!(got, want);
        for district in &d {
            let (lon, lat) = district.label;
            assert_eq!(district_at(&d, lon, lat).map(|x| x.name.as_str()), Some(district.name.as_str()));
        }
    }

    #[test]
    fn a_point_lies_in_one_district_and_outside_the_city_in_none() {
        let d = districts();
        // 泉城广场, 济南西站, 章丘 明水, 莱芜城区.
        for (lon, lat, want) in [
            (117.0210, 36.6610, "历下区"),
            (116.8895, 36.6660, "槐荫区"),
            (117.5342, 36.6862, "章丘区"),
            (117.6597, 36.2136, "莱芜区"),
        ] {
            let inside: Vec<&str> =
                d.iter().filter(|x| x.contains(lon, lat)).map(|x| x.name.as_str()).collect();
            assert_eq!(inside, [want], "({lon}, {lat})");
        }
        // Qingdao and Tai'an are not Jinan.
        assert!(district_at(&d, 120.38, 36.07).is_none());
        assert!(district_at(&d, 117.09, 36.19).is_none());
    }

    #[test]
    fn a_hole_is_outside() {
        let square = |x: f64| vec![(0.0, 0.0), (x, 0.0), (x, x), (0.0, x), (0.0, 0.0)];
        let mut hole = square(2.0);
        for p in &mut hole {
            p.0 += 4.0;
            p.1 += 4.0;
        }
        let d = District {
            name: "x".into(),
            code: "0".into(),
            polygons: vec![vec![square(10.0), hole]],
            label: (1.0, 1.0),
        };
        assert!(d.contains(1.0, 1.0));
        assert!(!d.contains(5.0, 5.0), "inside the hole");
        assert!(!d.contains(11.0, 1.0));
        assert_eq!(d.bounds(), (0.0, 0.0, 10.0, 10.0));
    }

    #[test]
    fn every_named_place_lies_in_its_district() {
        let d = districts();
        let g = gazetteer();
        for p in &g.places {
            let at = district_at(&d, p.lon, p.lat).map(|x| x.name.as_str());
            assert_eq!(at, Some(p.district.as_str()), "{} ({:?}) at ({}, {})", p.name, p.kind, p.lon, p.lat);
        }
    }

    #[test]
    fn streets_and_communities_come_from_the_halls() {
        let g = gazetteer();
        let find = |name: &str| g.places.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(find("趵突泉街道").kind, PlaceKind::Street);
        assert_eq!(find("青年东路社区").kind, PlaceKind::Community);
        assert_eq!(find("青年东路社区").district, "历下区");
        assert_eq!(g.places.iter().filter(|p| p.name == "趵突泉街道").count(), 1, "named once");
        assert_eq!(g.places.iter().filter(|p| p.kind == PlaceKind::District).count(), 12);
    }

    #[test]
    fn search_ranks_the_name_then_prefixes_then_what_an_address_contains() {
        let g = gazetteer();
        let names = |q: &str| g.search(q, 5).into_iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        // The landmark and the street named after it; the landmark is the exact name.
        let spring = names("趵突泉");
        assert_eq!(spring[0], "趵突泉", "{spring:?}");
        assert!(spring.contains(&"趵突泉街道".to_string()), "{spring:?}");
        // People leave 街道 off, write the city, or put spaces in.
        assert_eq!(names("济南市 千佛山街道")[0], "千佛山街道");
        assert_eq!(names("历下")[0], "历下区");
        // An address finds the most precise place it names.
        assert_eq!(names("历下区趵突泉街道青年东路社区3号楼")[0], "青年东路社区");
        // An alias.
        assert!(names("火车站").contains(&"济南站".to_string()), "{:?}", names("火车站"));
        assert!(names("").is_empty() && names("   ").is_empty());
        assert!(names("不存在的地方xyz").is_empty());
    }

    #[test]
    fn a_hall_name_gives_its_street_and_community() {
        let hall = |name: &str, level: &str| Hall {
            code: "JN-H-9999".into(),
            name: name.into(),
            level: level.into(),
            parent: None,
            district: "历下区".into(),
            address: String::new(),
            lat: 36.6,
            lon: 117.0,
            hours: String::new(),
            windows: 1,
            phone: None,
        };
        assert_eq!(
            street_and_community(&hall("历下区趵突泉街道青年东路社区便民服务站", "community")),
            (Some("趵突泉街道".into()), Some("青年东路社区".into()))
        );
        assert_eq!(
            street_and_community(&hall("历下区千佛山街道便民服务中心", "street")),
            (Some("千佛山街道".into()), None)
        );
        assert_eq!(street_and_community(&hall("历下区政务服务中心", "district")), (None, None));
    }
}
