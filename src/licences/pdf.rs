//! The printable licence (PDF): the card's lines and its verification QR code on one A4 page.
//!
//! The text is set in STSong-Light, one of the standard Chinese fonts that PDF readers supply
//! themselves (Adobe-GB1 character collection, `UniGB-UCS2-H` encoding: each character is its
//! UCS-2 code), so nothing is embedded and the file stays a few kilobytes. A `ToUnicode` map
//! makes the text searchable and copyable. The QR code is drawn as filled squares, so it
//! prints sharp at any size.

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

/// What the printed licence shows.
pub struct PrintedLicence<'a> {
    /// The licence type's name (食品经营许可证).
    pub title: &'a str,
    /// Labelled lines in the card's order: the number first, then the holder and the fields.
    pub lines: &'a [(String, String)],
    pub issuer: &'a str,
    /// The page anyone can open (or scan) to check the licence.
    pub verify_url: &'a str,
    /// Printed at the foot: when this copy was made (Beijing time).
    pub printed_at: &'a str,
}

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 64.0;
const BODY_SIZE: f32 = 12.0;
/// Characters per line for a field's value before it wraps (full-width characters).
const WRAP: usize = 26;

/// The licence as a PDF file.
pub fn licence_pdf(p: &PrintedLicence<'_>) -> Vec<u8> {
    let catalog_id = Ref::new(1);
    let page_tree_id = Ref::new(2);
    let page_id = Ref::new(3);
    let content_id = Ref::new(4);
    let font_id = Ref::new(5);
    let cid_font_id = Ref::new(6);
    let descriptor_id = Ref::new(7);
    let cmap_id = Ref::new(8);
    let font_name = Name(b"F1");
    let system_info = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"GB1"), supplement: 2 };

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(page_tree_id);
    pdf.pages(page_tree_id).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
    page.parent(page_tree_id);
    page.contents(content_id);
    page.resources().fonts().pair(font_name, font_id);
    page.finish();

    let mut used: Vec<char> = Vec::new();
    let mut content = Content::new();
    let mut text = |content: &mut Content, x: f32, y: f32, size: f32, s: &str| {
        used.extend(s.chars());
        content.begin_text().set_font(font_name, size).next_line(x, y).show(Str(&ucs2(s))).end_text();
    };

    // A frame, the title centred, then the lines.
    content.set_line_width(1.5).rect(
        MARGIN - 24.0,
        80.0,
        PAGE_WIDTH - 2.0 * (MARGIN - 24.0),
        PAGE_HEIGHT - 140.0,
    );
    content.stroke();
    let title_size = 26.0;
    let title_width = text_width(p.title, title_size);
    text(&mut content, (PAGE_WIDTH - title_width) / 2.0, PAGE_HEIGHT - 120.0, title_size, p.title);
    let mut y = PAGE_HEIGHT - 180.0;
    let label_width = 7.0 * BODY_SIZE;
    for (label, value) in p.lines {
        text(&mut content, MARGIN, y, BODY_SIZE, &format!("{label}："));
        for (i, chunk) in wrap(value, WRAP).iter().enumerate() {
            if i > 0 {
                y -= BODY_SIZE * 1.6;
            }
            text(&mut content, MARGIN + label_width + 8.0, y, BODY_SIZE, chunk);
        }
        y -= BODY_SIZE * 2.2;
    }
    text(&mut content, PAGE_WIDTH - MARGIN - text_width(p.issuer, 14.0), 230.0, 14.0, p.issuer);

    // The QR code, bottom left, with what it is for.
    if let Ok(code) = qrcode::QrCode::with_error_correction_level(p.verify_url.as_bytes(), qrcode::EcLevel::M)
    {
        let modules = code.width();
        let size = 120.0;
        let cell = size / modules as f32;
        let (left, bottom) = (MARGIN, 110.0);
        for (i, colour) in code.to_colors().iter().enumerate() {
            if *colour == qrcode::Color::Dark {
                let (row, col) = (i / modules, i % modules);
                content.rect(left + col as f32 * cell, bottom + size - (row + 1) as f32 * cell, cell, cell);
            }
        }
        content.fill_nonzero();
        text(
            &mut content,
            left + size + 16.0,
            bottom + 70.0,
            10.0,
            "扫码或访问以下网址核验本证照真伪与状态：",
        );
        text(&mut content, left + size + 16.0, bottom + 54.0, 8.0, p.verify_url);
        text(&mut content, left + size + 16.0, bottom + 30.0, 10.0, &format!("打印时间：{}", p.printed_at));
    }
    pdf.stream(content_id, &content.finish());

    pdf.type0_font(font_id)
        .base_font(Name(b"STSong-Light"))
        .encoding_predefined(Name(b"UniGB-UCS2-H"))
        .descendant_font(cid_font_id)
        .to_unicode(cmap_id);
    let mut cid = pdf.cid_font(cid_font_id);
    cid.subtype(CidFontType::Type0)
        .base_font(Name(b"STSong-Light"))
        .system_info(system_info)
        .font_descriptor(descriptor_id)
        .default_width(1000.0);
    // Adobe-GB1 CIDs 1–95 are the proportional Latin characters: half a square each.
    cid.widths().consecutive(1, [500.0; 95]);
    cid.finish();
    pdf.font_descriptor(descriptor_id)
        .name(Name(b"STSong-Light"))
        .flags(FontFlags::SYMBOLIC)
        .bbox(Rect::new(-25.0, -254.0, 1000.0, 880.0))
        .italic_angle(0.0)
        .ascent(880.0)
        .descent(-120.0)
        .cap_height(880.0)
        .stem_v(93.0);
    // Codes are UCS-2 code units, so each maps to itself.
    let mut cmap = UnicodeCmap::new(Name(b"Adobe-GB1-UCS2"), system_info);
    used.sort_unstable();
    used.dedup();
    for c in used {
        if let Ok(code) = u16::try_from(u32::from(c)) {
            cmap.pair(code, c);
        }
    }
    pdf.cmap(cmap_id, &cmap.finish());
    pdf.finish()
}

/// The string as UCS-2 big-endian codes (the encoding's codes); characters outside the basic
/// plane, which the font has no glyph for, print as a full-width question mark.
fn ucs2(s: &str) -> Vec<u8> {
    s.chars().flat_map(|c| u16::try_from(u32::from(c)).unwrap_or(0xFF1F).to_be_bytes()).collect()
}

/// The width of `s` at `size`: ASCII half a square, everything else a full one.
fn text_width(s: &str, size: f32) -> f32 {
    s.chars().map(|c| if c.is_ascii() { 0.5 } else { 1.0 }).sum::<f32>() * size
}

/// `s` in lines of at most `width` full-width characters (ASCII counts half).
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = if c.is_ascii() { 1 } else { 2 };
        if used + w > width * 2 {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        line.push(c);
        used += w;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_encoded_as_ucs2_codes() {
        assert_eq!(ucs2("许A"), vec![0x8B, 0xB8, 0x00, 0x41]);
        // Outside the basic plane: a full-width question mark.
        assert_eq!(ucs2("𠀀"), vec![0xFF, 0x1F]);
    }

    #[test]
    fn long_values_wrap_by_display_width() {
        let chinese = "一".repeat(30);
        assert_eq!(wrap(&chinese, 26).iter().map(|l| l.chars().count()).collect::<Vec<_>>(), [26, 4]);
        // ASCII takes half a square: 52 fit on a line of 26.
        assert_eq!(wrap(&"a".repeat(60), 26).iter().map(String::len).collect::<Vec<_>>(), [52, 8]);
        assert_eq!(wrap("", 26), [""]);
    }

    #[test]
    fn the_file_names_the_standard_font_and_maps_text_back_to_unicode() {
        let lines = vec![("许可证编号".to_string(), "JY13701000000001".to_string())];
        let bytes = licence_pdf(&PrintedLicence {
            title: "食品经营许可证",
            lines: &lines,
            issuer: "济南市行政审批服务局",
            verify_url: "https://quanban.example/verify/x",
            printed_at: "2026-12-07 14:00",
        });
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.starts_with("%PDF-1.7"));
        assert!(text.contains("/BaseFont /STSong-Light"));
        assert!(text.contains("/Encoding /UniGB-UCS2-H"));
        // 许 (U+8BB8) maps to itself in the ToUnicode map.
        assert!(text.contains("<8BB8> <8BB8>"), "{text}");
        assert!(text.trim_end().ends_with("%%EOF"));
    }
}
