//! Printable documents (PDF): the licence, with its lines and verification QR code, and the
//! blank application form of an item, each on one A4 page.
//!
//! The text is set in STSong-Light, one of the standard Chinese fonts that PDF readers supply
//! themselves (Adobe-GB1 character collection, `UniGB-UCS2-H` encoding: each character is its
//! UCS-2 code), so nothing is embedded and the file stays a few kilobytes. A `ToUnicode` map
//! makes the text searchable and copyable. The QR code is drawn as filled squares, so it
//! prints sharp at any size.

use pdf_writer::Filter;
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

/// One A4 page being drawn: its content stream and the characters it uses (for the
/// `ToUnicode` map).
struct Page {
    content: Content,
    used: Vec<char>,
}

const FONT: Name<'static> = Name(b"F1");

impl Page {
    fn new() -> Page {
        Page { content: Content::new(), used: Vec::new() }
    }

    fn text(&mut self, x: f32, y: f32, size: f32, s: &str) {
        self.used.extend(s.chars());
        self.content.begin_text().set_font(FONT, size).next_line(x, y).show(Str(&ucs2(s))).end_text();
    }

    /// `s` centred on the page.
    fn centred(&mut self, y: f32, size: f32, s: &str) {
        self.text((PAGE_WIDTH - text_width(s, size)) / 2.0, y, size, s);
    }

    /// A rule from `x1` to `x2` at `y` (a line to write on).
    fn rule(&mut self, x1: f32, x2: f32, y: f32) {
        self.content.set_line_width(0.6).move_to(x1, y).line_to(x2, y).stroke();
    }

    /// The page as a PDF file.
    fn finish(self) -> Vec<u8> {
        write_pdf(vec![self])
    }
}

/// Pages as one PDF file: the font objects first, then each page with its content.
fn write_pdf(pages: Vec<Page>) -> Vec<u8> {
    let catalog_id = Ref::new(1);
    let page_tree_id = Ref::new(2);
    let font_id = Ref::new(3);
    let cid_font_id = Ref::new(4);
    let descriptor_id = Ref::new(5);
    let cmap_id = Ref::new(6);
    let page_ids: Vec<Ref> = (0..pages.len()).map(|i| Ref::new(7 + 2 * i as i32)).collect();
    let system_info = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"GB1"), supplement: 2 };

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(page_tree_id);
    pdf.pages(page_tree_id).kids(page_ids.iter().copied()).count(pages.len() as i32);
    let mut used: Vec<char> = Vec::new();
    for (page_id, p) in page_ids.iter().zip(pages) {
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
        page.parent(page_tree_id);
        page.contents(content_id);
        page.resources().fonts().pair(FONT, font_id);
        page.finish();
        // Deflated: the QR code's hundreds of squares shrink to a few kilobytes.
        pdf.stream(content_id, &deflate(&p.content.finish())).filter(Filter::FlateDecode);
        used.extend(p.used);
    }

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
    pdf.cmap(cmap_id, &deflate(&cmap.finish())).filter(Filter::FlateDecode);
    pdf.finish()
}

/// A report of several A4 pages: a title, headings, and tables whose columns start at fixed
/// offsets; a new page begins when one is full, repeating the table's header.
pub struct ReportPdf {
    pages: Vec<Page>,
    page: Page,
    y: f32,
    header: Option<(Vec<f32>, Vec<String>)>,
}

const REPORT_MARGIN: f32 = 40.0;
const REPORT_LINE: f32 = 14.0;

impl Default for ReportPdf {
    fn default() -> Self {
        ReportPdf { pages: Vec::new(), page: Page::new(), y: PAGE_HEIGHT - REPORT_MARGIN, header: None }
    }
}

impl ReportPdf {
    pub fn title(&mut self, s: &str) {
        self.page.centred(self.y - 10.0, 18.0, s);
        self.y -= 34.0;
    }

    /// A line of running text at `size`, wrapped.
    pub fn paragraph(&mut self, size: f32, s: &str) {
        let width = ((PAGE_WIDTH - 2.0 * REPORT_MARGIN) / size) as usize;
        for line in wrap(s, width) {
            self.room(size * 1.5);
            self.page.text(REPORT_MARGIN, self.y, size, &line);
            self.y -= size * 1.5;
        }
    }

    pub fn heading(&mut self, s: &str) {
        self.header = None;
        self.y -= 8.0;
        self.room(40.0);
        self.page.text(REPORT_MARGIN, self.y, 13.0, s);
        self.y -= 20.0;
    }

    /// Starts a table: column offsets (from the left margin) and their titles.
    pub fn table(&mut self, columns: &[f32], titles: &[&str]) {
        self.header = Some((columns.to_vec(), titles.iter().map(|t| t.to_string()).collect()));
        self.room(REPORT_LINE * 2.0);
        self.header_row();
    }

    fn header_row(&mut self) {
        if let Some((columns, titles)) = self.header.clone() {
            for (x, t) in columns.iter().zip(&titles) {
                self.page.text(REPORT_MARGIN + x, self.y, 8.5, t);
            }
            self.page.rule(REPORT_MARGIN, PAGE_WIDTH - REPORT_MARGIN, self.y - 4.0);
            self.y -= REPORT_LINE;
        }
    }

    /// One table row; each cell is cut to the room before the next column.
    pub fn row(&mut self, cells: &[String]) {
        if self.room(REPORT_LINE) {
            self.header_row();
        }
        let columns = self.header.as_ref().map(|h| h.0.clone()).unwrap_or_default();
        for (i, (x, cell)) in columns.iter().zip(cells).enumerate() {
            let next = columns.get(i + 1).copied().unwrap_or(PAGE_WIDTH - 2.0 * REPORT_MARGIN);
            let room = ((next - x - 4.0) / 8.5 * 2.0) as usize;
            let cut: String = wrap(cell, room.max(2) / 2).into_iter().next().unwrap_or_default();
            self.page.text(REPORT_MARGIN + x, self.y, 8.5, &cut);
        }
        self.y -= REPORT_LINE;
    }

    /// Starts a new page when less than `needed` is left; says whether it did.
    fn room(&mut self, needed: f32) -> bool {
        if self.y - needed >= REPORT_MARGIN {
            return false;
        }
        let full = std::mem::replace(&mut self.page, Page::new());
        self.pages.push(full);
        self.y = PAGE_HEIGHT - REPORT_MARGIN;
        true
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.pages.push(self.page);
        write_pdf(self.pages)
    }
}

/// The licence as a PDF file.
pub fn licence_pdf(p: &PrintedLicence<'_>) -> Vec<u8> {
    let mut page = Page::new();
    // A frame, the title centred, then the lines.
    page.content.set_line_width(1.5).rect(
        MARGIN - 24.0,
        80.0,
        PAGE_WIDTH - 2.0 * (MARGIN - 24.0),
        PAGE_HEIGHT - 140.0,
    );
    page.content.stroke();
    page.centred(PAGE_HEIGHT - 120.0, 26.0, p.title);
    let mut y = PAGE_HEIGHT - 180.0;
    let label_width = 7.0 * BODY_SIZE;
    for (label, value) in p.lines {
        page.text(MARGIN, y, BODY_SIZE, &format!("{label}："));
        for (i, chunk) in wrap(value, WRAP).iter().enumerate() {
            if i > 0 {
                y -= BODY_SIZE * 1.6;
            }
            page.text(MARGIN + label_width + 8.0, y, BODY_SIZE, chunk);
        }
        y -= BODY_SIZE * 2.2;
    }
    page.text(PAGE_WIDTH - MARGIN - text_width(p.issuer, 14.0), 230.0, 14.0, p.issuer);

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
                page.content.rect(
                    left + col as f32 * cell,
                    bottom + size - (row + 1) as f32 * cell,
                    cell,
                    cell,
                );
            }
        }
        page.content.fill_nonzero();
        page.text(left + size + 16.0, bottom + 70.0, 10.0, "扫码或访问以下网址核验本证照真伪与状态：");
        page.text(left + size + 16.0, bottom + 54.0, 8.0, p.verify_url);
        page.text(left + size + 16.0, bottom + 30.0, 10.0, &format!("打印时间：{}", p.printed_at));
    }
    page.finish()
}

/// A blank application form (申请表) for an item, to fill in by hand and bring to a window.
pub struct BlankForm<'a> {
    /// The item's name.
    pub item_name: &'a str,
    pub item_code: &'a str,
    pub department: &'a str,
    /// The applicant's fields to fill in.
    pub fields: &'a [&'a str],
    /// The materials to bring: (name, original or copy).
    pub materials: &'a [(String, String)],
}

/// The blank form as a PDF file: applicant's fields with lines to write on, the materials as a
/// checklist, the applicant's declaration and the signature line.
pub fn application_form_pdf(f: &BlankForm<'_>) -> Vec<u8> {
    let mut page = Page::new();
    page.centred(PAGE_HEIGHT - 80.0, 20.0, &format!("{}申请表", f.item_name));
    page.centred(
        PAGE_HEIGHT - 104.0,
        10.0,
        &format!("事项编码：{}　实施部门：{}", f.item_code, f.department),
    );
    let mut y = PAGE_HEIGHT - 140.0;
    page.text(MARGIN, y, 13.0, "一、申请人信息");
    y -= 26.0;
    for label in f.fields {
        let label = format!("{label}：");
        page.text(MARGIN, y, BODY_SIZE, &label);
        page.rule(MARGIN + text_width(&label, BODY_SIZE) + 6.0, PAGE_WIDTH - MARGIN, y - 3.0);
        y -= 26.0;
    }
    y -= 8.0;
    page.text(MARGIN, y, 13.0, "二、申请材料（已备齐的请打√）");
    y -= 24.0;
    for (name, form) in f.materials {
        for (i, chunk) in wrap(&format!("{name}（{form}）"), 36).iter().enumerate() {
            let lead = if i == 0 { "□ " } else { "　 " };
            page.text(MARGIN, y, 11.0, &format!("{lead}{chunk}"));
            y -= 18.0;
        }
        if y < 200.0 {
            break;
        }
    }
    y -= 10.0;
    page.text(MARGIN, y, 13.0, "三、申请人声明");
    y -= 22.0;
    let declaration =
        "本人（单位）承诺所填写内容和提交的材料真实、合法、有效，如有虚假，愿承担相应法律责任。";
    for chunk in wrap(declaration, 36) {
        page.text(MARGIN, y, 11.0, &chunk);
        y -= 18.0;
    }
    page.text(MARGIN, 120.0, BODY_SIZE, "申请人（签字或盖章）：");
    page.rule(MARGIN + 11.0 * BODY_SIZE, MARGIN + 22.0 * BODY_SIZE, 117.0);
    page.text(PAGE_WIDTH - MARGIN - 11.0 * BODY_SIZE, 120.0, BODY_SIZE, "日期：　　年　　月　　日");
    page.finish()
}

/// `data` deflated (zlib), as a `FlateDecode` stream holds it.
fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
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
        // The streams are deflated; inside, 许 (U+8BB8) maps to itself in the ToUnicode map.
        assert_eq!(text.matches("/Filter /FlateDecode").count(), 2);
        let inflated: Vec<String> = bytes
            .windows(7)
            .enumerate()
            .filter(|(_, w)| *w == b"stream\n")
            .filter_map(|(at, _)| {
                let body = &bytes[at + "stream\n".len()..];
                let mut out = String::new();
                std::io::Read::read_to_string(&mut flate2::read::ZlibDecoder::new(body), &mut out).ok()?;
                Some(out)
            })
            .collect();
        assert!(inflated.iter().any(|s| s.contains("<8BB8> <8BB8>")), "{inflated:?}");
        assert!(text.trim_end().ends_with("%%EOF"));
    }
}
