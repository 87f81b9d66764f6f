//! Visible image of an official round red seal (电子印章图样).
//!
//! This is only the human-facing sign stamped onto printable sealed documents so that a reader
//! recognises the document as sealed by a given authority. It carries no security on its own:
//! the cryptographic electronic seal (signature, certificate chain, timestamp) lives elsewhere
//! and is what actually proves authenticity. Anyone can draw a red circle, so nothing here may
//! ever be treated as evidence.
//!
//! The layout follows the usual look of a Chinese official seal: a thick outer ring, the
//! organisation name along the upper arc with each character standing radially (its foot
//! pointing at the centre), a solid five-pointed star in the middle, an optional purpose line
//! (e.g. "行政审批专用章") under the star and an optional serial code along the bottom arc.

use std::f64::consts::PI;
use std::fmt::Write as _;

const SIZE: f64 = 200.0;
const CENTRE: f64 = SIZE / 2.0;
const COLOUR: &str = "#d0021b";
const FONT_FAMILY: &str = "SimSun, 'Noto Serif CJK SC', 'Noto Sans CJK SC', serif";

const RING_RADIUS: f64 = 92.5;
const RING_WIDTH: f64 = 5.5;
/// Breathing room between the inner edge of the ring and the tops of the name characters.
const RING_GAP: f64 = 3.5;
/// Tallest a name character may be; longer names get narrower, not shorter, characters first,
/// because real seals keep the ring of text visually solid.
const MAX_GLYPH_HEIGHT: f64 = 26.0;
/// Real seal lettering is condensed (taller than wide) even for short names.
const MAX_GLYPH_WIDTH_RATIO: f64 = 0.9;
/// Widest angular gap (degrees) between neighbouring name characters.
const MAX_NAME_STEP: f64 = 42.0;
/// How condensed a crowded name may get before its characters start shrinking.
const DENSE_GLYPH_WIDTH_RATIO: f64 = 0.7;
/// Share of the arc between two neighbouring characters that one character may fill, so
/// crowded names keep a visible gap instead of ink running together.
const NAME_FILL: f64 = 0.85;
/// Neighbours come closest near a glyph's foot; measuring the free arc this far (in glyph
/// heights) inwards from the glyph's top keeps their lower corners apart.
const WIDTH_PROBE_DEPTH: f64 = 0.8;

const STAR_RADIUS: f64 = 27.0;
/// Ratio of inner to outer radius of a regular pentagram (sin 18° / sin 54°).
const STAR_INNER_RATIO: f64 = 0.381_966;

/// For CJK fonts the ideographic em box is centred roughly this far (in em) above the
/// baseline. Shifting by it instead of relying on `dominant-baseline` keeps the layout the
/// same in renderers that ignore that attribute (PDF converters, some print pipelines).
const CJK_CENTRE_ABOVE_BASELINE: f64 = 0.38;

/// An official round red seal (电子印章图样) as a standalone SVG document string.
pub fn seal_svg(organisation: &str, purpose: &str, serial: &str) -> String {
    let label = format!("电子印章：{organisation}{purpose}");
    let mut svg = String::with_capacity(4096);
    // `write!` into a String cannot fail, so its Result is deliberately ignored throughout.
    let _ = write!(
        svg,
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200" viewBox="0 0 200 200""#,
            r#" role="img" aria-label="{label}">"#,
            "<title>{label}</title>",
            r#"<g fill="{colour}" font-family="{font}" font-weight="bold" text-anchor="middle">"#,
            r#"<circle cx="{c}" cy="{c}" r="{r}" fill="none" stroke="{colour}" stroke-width="{w}"/>"#,
        ),
        label = escape_xml(&label),
        colour = COLOUR,
        font = FONT_FAMILY,
        c = num(CENTRE),
        r = num(RING_RADIUS),
        w = num(RING_WIDTH),
    );
    let _ = write!(svg, r#"<path class="seal-star" d="{}"/>"#, star_path(CENTRE, CENTRE, STAR_RADIUS));
    write_organisation(&mut svg, organisation);
    write_purpose(&mut svg, purpose);
    write_serial(&mut svg, serial);
    svg.push_str("</g></svg>");
    svg
}

fn write_organisation(svg: &mut String, organisation: &str) {
    let chars: Vec<char> = organisation.chars().collect();
    let n = chars.len();
    if n == 0 {
        return;
    }
    // Longer names need a wider arc so characters stay legible; the bottom ~110° is kept free
    // for the purpose line and serial, as on physical seals.
    let span = (190.0 + 3.0 * n as f64).clamp(210.0, 250.0);
    // Very short names (2-4 chars) would otherwise end up as isolated characters at the sides;
    // capping the step keeps them together over the top.
    let step = if n > 1 { (span / (n - 1) as f64).min(MAX_NAME_STEP) } else { 0.0 };
    let span = step * n.saturating_sub(1) as f64;

    let outer = RING_RADIUS - RING_WIDTH / 2.0 - RING_GAP;
    let step_rad = step.to_radians();
    let height = if n > 1 {
        // Solves width(h) = DENSE_GLYPH_WIDTH_RATIO * h, where width(h) is the usable arc at
        // the probe depth, i.e. the tallest character that still fits when fully condensed.
        let h = step_rad * outer * NAME_FILL
            / (DENSE_GLYPH_WIDTH_RATIO + step_rad * WIDTH_PROBE_DEPTH * NAME_FILL);
        h.min(MAX_GLYPH_HEIGHT)
    } else {
        MAX_GLYPH_HEIGHT
    };
    let centre_radius = outer - height / 2.0;
    let width = if n > 1 {
        let usable = step_rad * (outer - height * WIDTH_PROBE_DEPTH) * NAME_FILL;
        usable.min(height * MAX_GLYPH_WIDTH_RATIO)
    } else {
        height * MAX_GLYPH_WIDTH_RATIO
    };
    let x_scale = width / height;
    let baseline = -centre_radius + height * CJK_CENTRE_ABOVE_BASELINE;

    let _ = write!(svg, r#"<g class="seal-org" font-size="{}">"#, num(height));
    for (i, ch) in chars.iter().enumerate() {
        // Angle measured clockwise from 12 o'clock; rotating the upright glyph about the
        // centre by it is what makes its foot point at the centre.
        let angle = -span / 2.0 + step * i as f64;
        let _ = write!(
            svg,
            r#"<text transform="translate({c} {c}) rotate({a}) scale({s} 1)" x="0" y="{y}">{t}</text>"#,
            c = num(CENTRE),
            a = num(angle),
            s = num(x_scale),
            y = num(baseline),
            t = escape_xml(ch.encode_utf8(&mut [0; 4])),
        );
    }
    svg.push_str("</g>");
}

fn write_purpose(svg: &mut String, purpose: &str) {
    let n = purpose.chars().count();
    if n == 0 {
        return;
    }
    // The line must fit between the star and the lower ends of the name arc.
    let size = (90.0 / n as f64).min(14.0);
    // The star's lowest points sit at cos 36° of its radius, not at the full radius; measuring
    // from them keeps the line close to the star and clear of the ends of the name arc.
    let star_bottom = CENTRE + STAR_RADIUS * (PI / 5.0).cos();
    let y = star_bottom + 6.0 + size * (0.5 + CJK_CENTRE_ABOVE_BASELINE);
    let _ = write!(
        svg,
        r#"<text class="seal-purpose" x="{}" y="{}" font-size="{}">{}</text>"#,
        num(CENTRE),
        num(y),
        num(size),
        escape_xml(purpose),
    );
}

fn write_serial(svg: &mut String, serial: &str) {
    let chars: Vec<char> = serial.chars().collect();
    let n = chars.len();
    if n == 0 {
        return;
    }
    let size = 6.5;
    let radius = RING_RADIUS - RING_WIDTH / 2.0 - 2.5;
    // Digits are about half an em wide; keep the whole code inside the free bottom arc.
    let step = (size * 0.62 / radius).to_degrees().min(90.0 / n as f64);
    let first = step * (n - 1) as f64 / 2.0;
    let _ = write!(svg, r#"<g class="seal-serial" font-size="{}" font-weight="normal">"#, num(size));
    for (i, ch) in chars.iter().enumerate() {
        // Hanging the glyph below the centre (positive y) puts it on the bottom arc with its
        // top facing the centre; a positive rotation then swings it to the left, so the first
        // digit gets the largest angle and the code reads left to right.
        let angle = first - step * i as f64;
        let _ = write!(
            svg,
            r#"<text transform="translate({c} {c}) rotate({a})" x="0" y="{y}">{t}</text>"#,
            c = num(CENTRE),
            a = num(angle),
            y = num(radius),
            t = escape_xml(ch.encode_utf8(&mut [0; 4])),
        );
    }
    svg.push_str("</g>");
}

/// Pentagram outline with one point straight up, as on official seals.
fn star_path(cx: f64, cy: f64, outer: f64) -> String {
    let inner = outer * STAR_INNER_RATIO;
    let mut d = String::new();
    for i in 0..10 {
        let r = if i % 2 == 0 { outer } else { inner };
        let a = PI / 5.0 * i as f64;
        let (x, y) = (cx + r * a.sin(), cy - r * a.cos());
        let _ = write!(d, "{}{},{}", if i == 0 { "M" } else { "L" }, num(x), num(y));
    }
    d.push('Z');
    d
}

/// At most two decimals keeps the document small and, more importantly, byte-for-byte stable
/// across platforms whose floating point noise differs in the last digits.
fn num(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_owned() } else { s.to_owned() }
}

fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN_TAGS: &[&str] = &["svg", "title", "g", "circle", "path", "text"];

    /// Crude well-formedness check: every `<` starts a known tag, and tags balance.
    fn assert_well_formed(svg: &str) {
        let mut stack: Vec<&str> = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            let end = after.find('>').expect("unterminated tag");
            let tag = &after[..end];
            assert!(!tag.contains('<'), "stray '<' inside tag: {tag}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(name), "mismatched close tag");
            } else {
                let name = tag.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or("");
                assert!(KNOWN_TAGS.contains(&name), "unknown tag <{name}>");
                if !tag.ends_with('/') {
                    stack.push(name);
                }
            }
            rest = &after[end + 1..];
        }
        assert!(stack.is_empty(), "unclosed tags: {stack:?}");
        assert!(!rest.contains('>'));
    }

    fn org_text_count(svg: &str) -> usize {
        let start = svg.find(r#"<g class="seal-org""#).expect("org group");
        let group = &svg[start..];
        let end = group.find("</g>").expect("org group end");
        group[..end].matches("<text ").count()
    }

    #[test]
    fn escapes_all_special_characters() {
        let svg = seal_svg(r#"A&B<C>"D'E"#, "<p&>", "1'2\"3");
        assert!(svg.contains("&amp;"));
        assert!(svg.contains("&lt;p&amp;&gt;"));
        assert!(svg.contains(">&apos;<"));
        assert!(svg.contains(">&quot;<"));
        assert!(svg.contains(r#"aria-label="电子印章：A&amp;B&lt;C&gt;&quot;D&apos;E&lt;p&amp;&gt;""#));
        assert!(!svg.contains("<p&>"));
        assert_well_formed(&svg);
    }

    #[test]
    fn output_is_deterministic() {
        let a = seal_svg("济南市行政审批服务局", "行政审批专用章", "3701000001234");
        let b = seal_svg("济南市行政审批服务局", "行政审批专用章", "3701000001234");
        assert_eq!(a, b);
    }

    #[test]
    fn one_text_element_per_organisation_char() {
        for name in
            ["济南", "济南市民政局", "济南市行政审批服务局", "济南市历城区洪家楼街道办事处社区服务中心"]
        {
            let svg = seal_svg(name, "专用章", "");
            assert_eq!(org_text_count(&svg), name.chars().count(), "{name}");
            assert_well_formed(&svg);
        }
        let long: String = "字".repeat(24);
        assert_eq!(org_text_count(&seal_svg(&long, "", "")), 24);
    }

    #[test]
    fn has_star_ring_and_accessibility() {
        let svg = seal_svg("济南市民政局", "", "");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains(r#"viewBox="0 0 200 200""#));
        assert!(svg.contains(r#"width="200" height="200""#));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"aria-label="电子印章：济南市民政局""#));
        assert!(svg.contains("<title>电子印章：济南市民政局</title>"));
        assert!(svg.contains("<circle "));
        assert!(svg.contains(COLOUR));
        let star = svg.find(r#"<path class="seal-star" d="M100,73L"#).expect("star path");
        let d = &svg[star..];
        assert_eq!(d[..d.find("/>").unwrap_or(0)].matches('L').count(), 9);
    }

    #[test]
    fn empty_purpose_and_serial_are_omitted() {
        let svg = seal_svg("济南市民政局", "", "");
        assert!(!svg.contains("seal-purpose"));
        assert!(!svg.contains("seal-serial"));
        let svg = seal_svg("济南市民政局", "专用章", "370100");
        assert!(svg.contains(r#"class="seal-purpose""#));
        assert!(svg.contains(">专用章</text>"));
        assert!(svg.contains(r#"class="seal-serial""#));
    }

    #[test]
    fn numbers_have_at_most_two_decimals() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.5), "1.5");
        assert_eq!(num(1.23456), "1.23");
        assert_eq!(num(-0.001), "0");
        let svg = seal_svg("济南市历城区洪家楼街道办事处社区服务中心", "行政审批专用章", "3701000001234");
        for token in svg.split(|c: char| !(c.is_ascii_digit() || c == '.')) {
            if let Some((_, frac)) = token.split_once('.') {
                assert!(frac.len() <= 2, "too many decimals in {token}");
            }
        }
    }

    fn org_angles(svg: &str) -> Vec<f64> {
        svg.split("rotate(").skip(1).filter_map(|rest| rest.split(')').next()?.parse().ok()).collect()
    }

    #[test]
    fn name_arc_is_symmetric_and_bounded() {
        let svg = seal_svg("济南市历城区洪家楼街道办事处社区服务中心", "", "");
        let angles = org_angles(&svg);
        assert_eq!(angles.len(), 20);
        assert_eq!(angles[0], -angles[19]);
        assert!((angles[19] - angles[0] - 250.0).abs() < 0.05, "{angles:?}");
        // Two characters must sit together over the top, not at the far ends of the arc.
        let angles = org_angles(&seal_svg("公安", "", ""));
        assert_eq!(angles, vec![-21.0, 21.0]);
    }
}
