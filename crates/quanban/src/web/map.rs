//! The city map on pages: the districts drawn from their boundaries as SVG paths, points put on
//! the same frame, and the frame's numbers for `static/map.js` (pan, zoom, tap to mark a place).
//! Every page with a map draws it through here, so a hall, a complaint and a tapped point land
//! where the districts say they are.

use std::sync::Arc;

use quanban_domain::geo::{City, District};

/// The SVG's user units: the city is taller than wide at Jinan's latitude.
pub const MAP_W: f64 = 720.0;
pub const MAP_H: f64 = 800.0;
const PAD: f64 = 12.0;
/// How far in the page script may zoom: a district's street, not a house.
pub const MAX_ZOOM: f64 = 12.0;

/// Equirectangular projection of the city's extent, longitudes shrunk by cos(latitude) so that
/// distances look right at Jinan's latitude.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    lon_min: f64,
    lat_max: f64,
    k: f64,
    scale: f64,
}

impl Frame {
    pub fn of(bounds: (f64, f64, f64, f64)) -> Frame {
        let (lon_min, lat_min, lon_max, lat_max) = bounds;
        let k = ((lat_min + lat_max) / 2.0).to_radians().cos();
        let scale =
            ((MAP_W - 2.0 * PAD) / ((lon_max - lon_min) * k)).min((MAP_H - 2.0 * PAD) / (lat_max - lat_min));
        Frame { lon_min, lat_max, k, scale }
    }

    /// `(x, y)` in the SVG's units.
    pub fn xy(&self, lon: f64, lat: f64) -> (f64, f64) {
        (PAD + (lon - self.lon_min) * self.k * self.scale, PAD + (self.lat_max - lat) * self.scale)
    }

    /// The inverse of [`Frame::xy`]: `(lon, lat)`.
    pub fn lon_lat(&self, x: f64, y: f64) -> (f64, f64) {
        (self.lon_min + (x - PAD) / (self.k * self.scale), self.lat_max - (y - PAD) / self.scale)
    }

    /// A length on the ground in the SVG's units (one degree of latitude is about 111.2 km).
    pub fn metres(&self, m: f64) -> f64 {
        m / 111_200.0 * self.scale
    }

    /// What the page script needs to turn a tap into a place: `lon_min,lat_max,k,scale,pad`.
    pub fn attr(&self) -> String {
        format!("{},{},{},{},{PAD}", self.lon_min, self.lat_max, self.k, self.scale)
    }

    /// A view box around `bounds` (lon_min, lat_min, lon_max, lat_max) with a margin, keeping
    /// the map's proportions.
    fn view_box(&self, bounds: (f64, f64, f64, f64)) -> String {
        let (x0, y1) = self.xy(bounds.0, bounds.1);
        let (x1, y0) = self.xy(bounds.2, bounds.3);
        let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let w = ((x1 - x0) * 1.25).max((y1 - y0) * 1.25 * MAP_W / MAP_H).max(MAP_W / MAX_ZOOM);
        let h = w * MAP_H / MAP_W;
        format!("{:.1} {:.1} {w:.1} {h:.1}", cx - w / 2.0, cy - h / 2.0)
    }
}

/// A district as drawn: its outline as SVG path data and where its name goes.
pub struct DistrictShape {
    pub name: String,
    pub path: String,
    pub label_x: String,
    pub label_y: String,
    /// The label's box, kept clear of the halls' labels.
    label_box: (f64, f64, f64, f64),
}

/// The districts drawn once per process (the boundaries do not change while running).
pub struct CityShapes {
    pub frame: Frame,
    pub shapes: Vec<DistrictShape>,
}

impl CityShapes {
    pub fn draw(city: &City) -> CityShapes {
        let frame = Frame::of(city.bounds());
        let shapes = city.districts.iter().map(|d| shape(&frame, d)).collect();
        CityShapes { frame, shapes }
    }
}

/// Outline path data, rounded to a tenth of a unit; a point within half a unit of the last one
/// drawn adds nothing at the largest zoom and is left out.
fn shape(frame: &Frame, d: &District) -> DistrictShape {
    let mut path = String::new();
    for ring in d.polygons.iter().flatten() {
        let mut last: Option<(f64, f64)> = None;
        for (i, &(lon, lat)) in ring.iter().enumerate() {
            let (x, y) = frame.xy(lon, lat);
            let is_last = i + 1 == ring.len();
            if let Some((lx, ly)) = last
                && (x - lx).abs() < 0.5
                && (y - ly).abs() < 0.5
                && !is_last
            {
                continue;
            }
            path.push_str(&format!("{}{x:.1} {y:.1}", if last.is_none() { "M" } else { "L" }));
            last = Some((x, y));
        }
        path.push('Z');
    }
    let (x, y) = frame.xy(d.label.0, d.label.1);
    let half = 7.0 * d.name.chars().count() as f64;
    DistrictShape {
        name: d.name.clone(),
        path,
        label_x: format!("{x:.1}"),
        label_y: format!("{y:.1}"),
        label_box: (x - half, y - 12.0, x + half, y + 4.0),
    }
}

/// One map on one page: the shared district shapes, which district is picked out, and the
/// view the page opens on.
pub struct CityMap {
    pub shapes: Arc<CityShapes>,
    /// The district picked out (a filter), or empty.
    pub selected: String,
    /// The view the page opens on (the selected district, or the whole city).
    pub view_box: String,
    /// The whole city, for the 全市 button.
    pub home: String,
    /// Map units per screen pixel for the view the page opens on, assuming the map is shown
    /// at its full width (the page script corrects it for the real width).
    pub px: String,
    pub scale_10km: String,
}

impl CityMap {
    pub fn new(shapes: Arc<CityShapes>, city: &City, selected: Option<&str>) -> CityMap {
        let home = format!("0 0 {MAP_W} {MAP_H}");
        let picked = selected.and_then(|name| city.districts.iter().find(|d| d.name == name));
        let view_box = picked.map(|d| shapes.frame.view_box(d.bounds())).unwrap_or_else(|| home.clone());
        CityMap {
            px: px_of(&view_box),
            view_box,
            selected: picked.map(|d| d.name.clone()).unwrap_or_default(),
            scale_10km: format!("{:.1}", shapes.frame.metres(10_000.0)),
            home,
            shapes,
        }
    }

    /// Opens the map on a point (a place found, a position given), near enough to tell the
    /// streets apart.
    pub fn focus(&mut self, lon: f64, lat: f64) {
        let (x, y) = self.shapes.frame.xy(lon, lat);
        let (w, h) = (MAP_W / 6.0, MAP_H / 6.0);
        self.view_box = format!("{:.1} {:.1} {w:.1} {h:.1}", x - w / 2.0, y - h / 2.0);
        self.px = px_of(&self.view_box);
    }

    /// A point as `(x, y)` text for the template.
    pub fn point(&self, lon: f64, lat: f64) -> (String, String) {
        let (x, y) = self.shapes.frame.xy(lon, lat);
        (format!("{x:.1}"), format!("{y:.1}"))
    }

    /// A length on the ground as text in the SVG's units, at least a few units so that it shows.
    pub fn metres(&self, m: f64) -> String {
        format!("{:.1}", self.shapes.frame.metres(m).max(3.0))
    }

    pub fn frame_attr(&self) -> String {
        self.shapes.frame.attr()
    }

    /// Greedy label placement: a label is written only where it covers neither a district's
    /// name nor a label already written (in the order given); the others keep their name as a
    /// tooltip and in the page's list. `items` are `(x, y, characters)`; the answer says which
    /// to label.
    /// Boxes are measured in screen pixels at the view the page opens on (text keeps its size
    /// on screen as the map zooms, so a zoomed-in view has room for more names).
    pub fn place_labels(&self, items: &[(f64, f64, usize)]) -> Vec<bool> {
        let px: f64 = self.px.parse().unwrap_or(1.0);
        let mut placed: Vec<(f64, f64, f64, f64)> = self
            .shapes
            .shapes
            .iter()
            .map(|s| {
                let (x, y) = (s.label_x.parse().unwrap_or(0.0), s.label_y.parse().unwrap_or(0.0));
                let b = s.label_box;
                (x + (b.0 - x) * px, y + (b.1 - y) * px, x + (b.2 - x) * px, y + (b.3 - y) * px)
            })
            .collect();
        items
            .iter()
            .map(|&(x, y, chars)| {
                let b = (x + 8.0 * px, y - 10.0 * px, x + (10.0 + 12.0 * chars as f64) * px, y + 5.0 * px);
                let free =
                    b.2 <= MAP_W && !placed.iter().any(|p| b.0 < p.2 && p.0 < b.2 && b.1 < p.3 && p.1 < b.3);
                if free {
                    placed.push(b);
                }
                free
            })
            .collect()
    }
}

fn px_of(view_box: &str) -> String {
    let width: f64 = view_box.split(' ').nth(2).and_then(|w| w.parse().ok()).unwrap_or(MAP_W);
    format!("{:.4}", width / MAP_W)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn city() -> City {
        let data =
            quanban_domain::reference::data::parse(&quanban_domain::reference::data::RawFiles::SHIPPED)
                .unwrap();
        City::shipped(&data.halls.halls).unwrap()
    }

    #[test]
    fn the_city_fits_the_map_and_a_tap_comes_back_to_the_same_place() {
        let city = city();
        let shapes = CityShapes::draw(&city);
        let (lon_min, lat_min, lon_max, lat_max) = city.bounds();
        for (lon, lat) in [(lon_min, lat_min), (lon_max, lat_max), (117.0210, 36.6610)] {
            let (x, y) = shapes.frame.xy(lon, lat);
            assert!((0.0..=MAP_W).contains(&x) && (0.0..=MAP_H).contains(&y), "({x}, {y})");
            let (lon2, lat2) = shapes.frame.lon_lat(x, y);
            assert!((lon - lon2).abs() < 1e-9 && (lat - lat2).abs() < 1e-9);
        }
        assert_eq!(shapes.shapes.len(), 12);
        for s in &shapes.shapes {
            assert!(s.path.starts_with('M') && s.path.ends_with('Z'), "{}", s.name);
        }
    }

    #[test]
    fn a_selected_district_opens_zoomed_in_on_it() {
        let city = city();
        let shapes = Arc::new(CityShapes::draw(&city));
        let whole = CityMap::new(shapes.clone(), &city, None);
        assert_eq!(whole.view_box, whole.home);
        let lixia = CityMap::new(shapes.clone(), &city, Some("历下区"));
        assert_eq!(lixia.selected, "历下区");
        let w: f64 = lixia.view_box.split(' ').nth(2).unwrap().parse().unwrap();
        assert!((MAP_W / MAX_ZOOM..MAP_W / 4.0).contains(&w), "{}", lixia.view_box);
        // Its label point is inside the view.
        let d = city.districts.iter().find(|d| d.name == "历下区").unwrap();
        let (x, y) = shapes.frame.xy(d.label.0, d.label.1);
        let v: Vec<f64> = lixia.view_box.split(' ').map(|n| n.parse().unwrap()).collect();
        assert!(x > v[0] && x < v[0] + v[2] && y > v[1] && y < v[1] + v[3]);
        let unknown = CityMap::new(shapes, &city, Some("浦东新区"));
        assert_eq!((unknown.selected.as_str(), unknown.view_box.as_str()), ("", unknown.home.as_str()));
    }

    #[test]
    fn labels_do_not_cover_each_other_or_the_district_names() {
        let city = city();
        let map = CityMap::new(Arc::new(CityShapes::draw(&city)), &city, None);
        let far = map.place_labels(&[(50.0, 700.0, 4), (50.0, 702.0, 4), (50.0, 760.0, 4)]);
        assert_eq!(far, [true, false, true], "the second would cover the first");
        let lixia = city.districts.iter().find(|d| d.name == "历下区").unwrap();
        let (x, y) = map.shapes.frame.xy(lixia.label.0, lixia.label.1);
        assert_eq!(map.place_labels(&[(x - 20.0, y, 3)]), [false], "over a district's name");
    }
}
