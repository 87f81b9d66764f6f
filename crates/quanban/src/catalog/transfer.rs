//! Import and export of the service-item catalogue (政务服务事项清单) as JSON, CSV and Excel.
//!
//! Departments keep their item lists in Excel with Chinese column headers, administrators move
//! them around as CSV, and the platform itself speaks JSON (the shape of `reference/catalog.json`).
//! This module converts between those three and [`CatalogItem`], so that whatever a department
//! uploads is checked once, here, with the same rules.
//!
//! # Importing
//!
//! [`parse`] (or [`parse_with_progress`]) either returns every item or every problem: it never
//! stops at the first one, because a department fixing a 2,000-row sheet wants the full list in one
//! go, and it never returns part of the items, because importing half a catalogue is worse than
//! importing none. Each [`RowProblem`] names the row as a person sees it in Excel (the header is
//! row 1, the first item row 2; for JSON the 1-based item index), the column (its Chinese header,
//! or the JSON field name for JSON), a stable `code` for programs, and a reason in Chinese and in
//! English. Row 0 means the file as a whole (empty, corrupt, not JSON…).
//!
//! [`check_references`] is the second step, against the database: departments and e-licence
//! types that must exist. It is separate because parsing needs no database.
//!
//! # Tabular conventions (CSV and XLSX)
//!
//! The columns, in export order, are [`COLUMNS`]; the header row may use the Chinese header or the
//! English field name of each column, in any order (full-width or ASCII brackets, a leading `*`
//! marking a required column, and the bracketed unit may be left out: `法定时限` is accepted).
//!
//! - 层级: 市级 / 区县级 / 街道级 / 社区级 (or `city`, `district`, `street`, `community`).
//! - 服务对象: 个人 / 法人 / 个人和法人 (or `person`, `enterprise`, `both`).
//! - 事项类型, 办件类型, 跨域通办: the Chinese values of [`ITEM_KINDS`], [`HANDLING`] and
//!   [`CROSS_REGION_MODES`]; an empty 跨域通办 (or `无`) means none.
//! - Yes/no columns: 是 / 否 (also `true`/`false`, `1`/`0`, `Y`/`N`, `yes`/`no`, Excel booleans).
//! - 法定时限: empty (or `无`) when the law sets none. Numbers are whole working days, 0 to
//!   [`MAX_DAYS`]; 到现场次数 is 0 to [`MAX_VISITS`].
//! - 申请材料: one material per line inside the cell, `名称｜来源｜可承诺`, e.g.
//!   `公司章程｜applicant｜否` or `居民身份证｜elicence:id_card｜否` (ASCII `|` works too). The
//!   source is `applicant`, `elicence:<type>` or `data:<dataset>`.
//! - 关键词: separated by `、`, `，`, `,`, `;`, `；` or line breaks.
//! - Leading and trailing spaces in cells are ignored; fully empty rows are skipped (but counted,
//!   so row numbers still match the sheet).
//! - CSV: UTF-8 (with or without BOM); comma, tab or semicolon separated (guessed from the header
//!   line). Export writes a BOM so that Excel shows the Chinese correctly, and CRLF line ends.
//! - XLSX: the sheet named [`SHEET_NAME`] if there is one, else the first sheet; the header is the
//!   first row of the used range and row numbers are the sheet's own.
//!
//! # JSON
//!
//! `{"version": "…", "items": [...]}` (the `catalog.json` shape), `{"items": [...]}` or a bare
//! array of items, with the field names of [`CatalogItem`]. The value checks are the tabular ones;
//! JSON is a little more lenient in types (a number given as a string is accepted) but rejects
//! unknown fields, as `catalog.json` loading does.
//!
//! # Rules beyond single values
//!
//! Checked because [`crate::reference::data::ReferenceData::check`] enforces them on the shipped
//! data (all 196 shipped items pass), so an import must not bring in items that would break it:
//! the promised limit may not exceed a (non-zero) legal limit; 即办件 if and only if the promised
//! limit is 0; 告知承诺 if and only if some material is marked 可承诺; the item code starts with
//! `<department>-`; item codes are unique within the file.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, Format as CellFormat, FormatAlign, FormatBorder, Workbook,
};
use serde::Serialize;
use serde_json::Value;

use crate::reference::data::{
    AUDIENCES, CROSS_REGION_MODES, CatalogItem, HANDLING, ITEM_KINDS, LEVELS, Material, MaterialSource,
};

/// Name of the worksheet written by [`export`] and preferred by [`parse`].
pub const SHEET_NAME: &str = "政务服务事项清单";
/// Largest accepted time limit in days (ten years): anything above is a typo, not a law.
pub const MAX_DAYS: u32 = 3650;
/// Largest accepted number of visits to a hall; the reform target is at most one, so more than
/// ten is a mistake.
pub const MAX_VISITS: u32 = 10;

// ---------------------------------------------------------------------------------------------
// Formats
// ---------------------------------------------------------------------------------------------

/// A file format the catalogue can be imported from and exported to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `catalog.json` shape, or a bare array of items.
    Json,
    /// UTF-8 CSV with the headers of [`COLUMNS`].
    Csv,
    /// Excel 2007+ workbook with the headers of [`COLUMNS`].
    Xlsx,
}

impl Format {
    /// The format for a file name, from its extension (case-insensitive): `.json`, `.csv` (or
    /// `.tsv`), `.xlsx`. Legacy `.xls` is not supported and gives `None`.
    pub fn from_filename(name: &str) -> Option<Format> {
        let (_, ext) = name.rsplit_once('.')?;
        match ext.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "csv" | "tsv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    /// Guesses the format from the content: a zip (`PK\x03\x04`) is XLSX, text starting with `[`
    /// or `{` (after a BOM and white space) is JSON, other text is CSV.
    ///
    /// `None` for an empty (or all white-space) file and for an OLE2 compound file, which is a
    /// legacy `.xls` or a password-protected `.xlsx`: neither can be read, and treating it as CSV
    /// would only produce a wall of nonsense problems.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(b"PK\x03\x04") {
            return Some(Format::Xlsx);
        }
        if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            return None;
        }
        match strip_bom(bytes).iter().find(|b| !b.is_ascii_whitespace()) {
            None => None,
            Some(b'[' | b'{') => Some(Format::Json),
            Some(_) => Some(Format::Csv),
        }
    }

    /// MIME type for a download.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// File extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    /// Row number [`parse`] gives the first item: 2 for tabular formats (below the header), 1 for
    /// JSON (the item index). Pass it to [`check_references`].
    pub fn first_row(self) -> usize {
        match self {
            Format::Json => 1,
            Format::Csv | Format::Xlsx => 2,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Columns
// ---------------------------------------------------------------------------------------------

/// A column of the tabular formats: its Chinese header and the [`CatalogItem`] field it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Header written on export, e.g. `事项编码`.
    pub zh: &'static str,
    /// Field name, also accepted as a header and used as the column name for JSON problems.
    pub en: &'static str,
}

/// The columns, in the order [`export`] writes them.
pub const COLUMNS: [Column; 20] = [
    Column { zh: "事项编码", en: "code" },
    Column { zh: "事项名称", en: "name" },
    Column { zh: "实施部门", en: "department" },
    Column { zh: "层级", en: "level" },
    Column { zh: "事项类型", en: "kind" },
    Column { zh: "服务对象", en: "audience" },
    Column { zh: "生活事件", en: "life_event" },
    Column { zh: "办件类型", en: "handling" },
    Column { zh: "法定时限（工作日）", en: "legal_limit_days" },
    Column { zh: "承诺时限（工作日）", en: "promised_limit_days" },
    Column { zh: "到现场次数", en: "visits" },
    Column { zh: "全程网办", en: "online" },
    Column { zh: "跨域通办", en: "cross_region" },
    Column { zh: "告知承诺", en: "commitment" },
    Column { zh: "独任审批", en: "single_approver" },
    Column { zh: "收费", en: "fee" },
    Column { zh: "受理条件", en: "conditions" },
    Column { zh: "设定依据", en: "legal_basis" },
    Column { zh: "申请材料", en: "materials" },
    Column { zh: "关键词", en: "keywords" },
];

// Indices into `COLUMNS`, so that the decoding code reads as field names.
const CODE: usize = 0;
const NAME: usize = 1;
const DEPARTMENT: usize = 2;
const LEVEL: usize = 3;
const KIND: usize = 4;
const AUDIENCE: usize = 5;
const LIFE_EVENT: usize = 6;
const HANDLING_COL: usize = 7;
const LEGAL: usize = 8;
const PROMISED: usize = 9;
const VISITS: usize = 10;
const ONLINE: usize = 11;
const CROSS_REGION: usize = 12;
const COMMITMENT: usize = 13;
const SINGLE_APPROVER: usize = 14;
const FEE: usize = 15;
const CONDITIONS: usize = 16;
const LEGAL_BASIS: usize = 17;
const MATERIALS: usize = 18;
const KEYWORDS: usize = 19;

/// Column widths in the exported sheet (Excel character units; a Chinese character is about 2).
const WIDTHS: [f64; 20] = [
    14.0, 32.0, 12.0, 8.0, 12.0, 11.0, 10.0, 9.0, 10.0, 10.0, 8.0, 8.0, 12.0, 8.0, 8.0, 14.0, 50.0, 36.0,
    50.0, 30.0,
];
/// Columns whose long text wraps in the exported sheet.
const WRAPPED: [usize; 4] = [CONDITIONS, LEGAL_BASIS, MATERIALS, KEYWORDS];

/// `(value, Chinese label)` for levels; the label is what the tabular formats show.
const LEVEL_LABELS: &[(&str, &str)] =
    &[("city", "市级"), ("district", "区县级"), ("street", "街道级"), ("community", "社区级")];
/// Other spellings departments use for the same levels (accepted, never written).
const LEVEL_ALIASES: &[(&str, &str)] = &[
    ("district", "区级"),
    ("district", "县级"),
    ("district", "区（县）级"),
    ("street", "乡镇级"),
    ("street", "镇街级"),
    ("street", "乡镇（街道）级"),
    ("community", "村级"),
    ("community", "村（社区）级"),
];
/// `(value, Chinese label)` for audiences.
const AUDIENCE_LABELS: &[(&str, &str)] =
    &[("person", "个人"), ("enterprise", "法人"), ("both", "个人和法人")];
/// Other spellings for audiences, as in the national catalogue (自然人/法人).
const AUDIENCE_ALIASES: &[(&str, &str)] = &[
    ("person", "自然人"),
    ("enterprise", "企业"),
    ("both", "自然人和法人"),
    ("both", "个人、法人"),
    ("both", "自然人、法人"),
];
/// Separators between materials' parts, full-width first (the one written).
const PART_SEPARATORS: [char; 2] = ['｜', '|'];
/// Separators between keywords, `、` first (the one written).
const KEYWORD_SEPARATORS: [char; 7] = ['、', '，', ',', ';', '；', '\n', '\r'];

// ---------------------------------------------------------------------------------------------
// Problems and errors
// ---------------------------------------------------------------------------------------------

/// Something wrong in an imported file, at a row and column.
///
/// `Display` is Chinese, `第3行「层级」：… [bad_level]`; the alternate form (`{:#}`) is English,
/// `row 3, 层级: … [bad_level]`. Row 0 (the file as a whole) reads `文件：…` / `file: …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// 1-based row as Excel shows it (header = 1, first item = 2); for JSON the 1-based item index;
    /// 0 for the file as a whole.
    pub row: usize,
    /// Chinese header of the column (JSON: field name); for an unknown header, the header as
    /// written; empty when no single column is at fault.
    pub column: String,
    /// Stable snake_case identifier of the kind of problem, for programs and tests.
    pub code: &'static str,
    /// Reason, in Chinese, for the people who fix the file.
    pub reason_zh: String,
    /// Reason, in English.
    pub reason_en: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let english = f.alternate();
        match (self.row, self.column.is_empty(), english) {
            (0, _, false) => write!(f, "文件：")?,
            (0, _, true) => write!(f, "file: ")?,
            (row, true, false) => write!(f, "第{row}行：")?,
            (row, true, true) => write!(f, "row {row}: ")?,
            (row, false, false) => write!(f, "第{row}行「{}」：", self.column)?,
            (row, false, true) => write!(f, "row {row}, {}: ", self.column)?,
        }
        let reason = if english { &self.reason_en } else { &self.reason_zh };
        write!(f, "{reason} [{}]", self.code)
    }
}

/// Why [`export`] could not write a file.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// Writing the CSV failed.
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    /// Writing to the in-memory buffer failed.
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
    /// Writing the workbook failed (e.g. a text longer than Excel's 32,767 characters).
    #[error("cannot write XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// Serialising the JSON failed.
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A value cannot be written in a spreadsheet cell so that it reads back the same, e.g. a
    /// material name containing `｜` or a keyword containing `、`.
    #[error("item {code}: {field} cannot be written to a spreadsheet cell: {reason}")]
    Unrepresentable {
        /// Item code.
        code: String,
        /// Field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Parsing: entry points
// ---------------------------------------------------------------------------------------------

/// Parses a whole file; see the [module documentation](self) for the conventions.
///
/// Returns all items, or every problem found in the file (then the caller imports nothing).
pub fn parse(format: Format, bytes: &[u8]) -> Result<Vec<CatalogItem>, Vec<RowProblem>> {
    parse_with_progress(format, bytes, &mut |_, _| {})
}

/// Like [`parse`], calling `on_row(rows_done, rows_total)` after each data row (JSON: item), so
/// that a CLI can show a progress bar. Reading the file itself (unzipping an XLSX, splitting a
/// CSV) happens before the first call.
pub fn parse_with_progress(
    format: Format,
    bytes: &[u8],
    on_row: &mut dyn FnMut(usize, usize),
) -> Result<Vec<CatalogItem>, Vec<RowProblem>> {
    if strip_bom(bytes).iter().all(u8::is_ascii_whitespace) {
        return Err(vec![file_problem("empty_file", "文件为空".into(), "the file is empty".into())]);
    }
    let parsed = match format {
        Format::Json => parse_json(bytes, on_row),
        Format::Csv => read_csv(bytes).and_then(|t| parse_table(t, on_row)),
        Format::Xlsx => read_xlsx(bytes).and_then(|t| parse_table(t, on_row)),
    };
    parsed.map_err(at_most_problems)
}

/// The most rows (items) a file may hold: far more than a city's catalog, far fewer than what
/// would let one upload occupy the server.
pub const MAX_ROWS: usize = 20_000;
/// The most problems reported for one file; a person fixes the first ones and tries again.
pub const MAX_PROBLEMS: usize = 200;
/// The most an XLSX upload may inflate to (the sum of its parts' declared sizes).
pub const MAX_XLSX_INFLATED_BYTES: u64 = 32 * 1024 * 1024;

fn at_most_problems(mut problems: Vec<RowProblem>) -> Vec<RowProblem> {
    if problems.len() > MAX_PROBLEMS {
        let more = problems.len() - MAX_PROBLEMS;
        problems.truncate(MAX_PROBLEMS);
        problems.push(file_problem(
            "too_many_problems",
            format!("另有{more}个问题未列出：请先改正以上问题再导入"),
            format!("{more} more problems not listed: fix the ones above and import again"),
        ));
    }
    problems
}

fn too_many_rows(rows: usize) -> Vec<RowProblem> {
    vec![file_problem(
        "too_many_rows",
        format!("文件有{rows}行，超过上限{MAX_ROWS}行：请分批导入"),
        format!("the file has {rows} rows, more than the limit of {MAX_ROWS}: import it in parts"),
    )]
}

/// Checks items against the database: departments and e-licence types must exist.
///
/// The items no longer know which format they came from, so the row of `items[i]` is
/// `first_row + i`: pass [`Format::first_row`] (2 for CSV/XLSX, 1 for JSON) when the items came
/// straight from [`parse`] of a file without blank rows. Columns are named by their Chinese
/// header whatever the format, since these problems are shown to the departments. Dataset sources
/// (`data:<dataset>`) are not checked: there is no registry of datasets.
pub fn check_references(
    items: &[CatalogItem],
    departments: &HashSet<String>,
    elicence_types: &HashSet<String>,
    first_row: usize,
) -> Vec<RowProblem> {
    let mut problems = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let row = first_row + i;
        if !departments.contains(&item.department) {
            problems.push(RowProblem {
                row,
                column: COLUMNS[DEPARTMENT].zh.to_owned(),
                code: "unknown_department",
                reason_zh: format!("实施部门“{}”不存在", item.department),
                reason_en: format!("department `{}` does not exist", item.department),
            });
        }
        for m in &item.materials {
            if let Some(MaterialSource::Elicence(t)) = m.parsed_source()
                && !elicence_types.contains(t)
            {
                problems.push(RowProblem {
                    row,
                    column: COLUMNS[MATERIALS].zh.to_owned(),
                    code: "unknown_elicence_type",
                    reason_zh: format!("材料“{}”的电子证照类型“{t}”不存在", m.name),
                    reason_en: format!("material `{}`: e-licence type `{t}` does not exist", m.name),
                });
            }
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// Parsing: reading files into cells
// ---------------------------------------------------------------------------------------------

/// One cell of a tabular file, before interpretation.
enum RawCell {
    /// Its text (possibly empty).
    Text(String),
    /// A cell that has no usable text: invalid UTF-8, an Excel error value.
    Bad { code: &'static str, zh: String, en: String },
}

/// A tabular file: header and data rows, each with its row number as Excel shows it.
struct Table {
    header_row: usize,
    header: Vec<RawCell>,
    rows: Vec<(usize, Vec<RawCell>)>,
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

fn file_problem(code: &'static str, reason_zh: String, reason_en: String) -> RowProblem {
    RowProblem { row: 0, column: String::new(), code, reason_zh, reason_en }
}

/// The separator of a CSV file, guessed from its first line: files saved by Excel in some
/// locales use `;` or tabs instead of commas.
fn guess_delimiter(data: &[u8]) -> u8 {
    let first_line = data.split(|&b| b == b'\n').next().unwrap_or(data);
    let count = |d: u8| first_line.iter().filter(|&&b| b == d).count();
    [b',', b'\t', b';'].into_iter().max_by_key(|&d| (count(d), d == b',')).unwrap_or(b',')
}

fn read_csv(bytes: &[u8]) -> Result<Table, Vec<RowProblem>> {
    let data = strip_bom(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(guess_delimiter(data))
        .from_reader(data);
    let mut records = Vec::new();
    // The csv crate skips blank lines, but Excel shows them as rows; to report the row a person
    // sees, track where each record starts against where the previous one should have ended.
    let mut row = 0usize;
    let mut next_line = 1u64;
    for result in reader.byte_records() {
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                return Err(vec![file_problem(
                    "csv_malformed",
                    format!("CSV 格式错误：{e}"),
                    format!("malformed CSV: {e}"),
                )]);
            }
        };
        let line = record.position().map_or(next_line, csv::Position::line);
        row += 1 + usize::try_from(line.saturating_sub(next_line)).unwrap_or(0);
        let newlines: usize = record.iter().map(|f| f.iter().filter(|&&b| b == b'\n').count()).sum();
        next_line = line + 1 + newlines as u64;
        let cells = record
            .iter()
            .map(|field| match std::str::from_utf8(field) {
                Ok(s) => RawCell::Text(from_csv_cell(s.to_owned())),
                Err(_) => RawCell::Bad {
                    code: "invalid_utf8",
                    zh: "不是 UTF-8 编码（在 Excel 中请“另存为 CSV UTF-8”）".into(),
                    en: "not UTF-8 (in Excel, save as \"CSV UTF-8\")".into(),
                },
            })
            .collect();
        records.push((row, cells));
        if records.len() > MAX_ROWS + 1 {
            return Err(too_many_rows(records.len()));
        }
    }
    let mut records = records.into_iter();
    let Some((header_row, header)) = records.next() else {
        return Err(vec![file_problem("empty_file", "文件为空".into(), "the file is empty".into())]);
    };
    Ok(Table { header_row, header, rows: records.collect() })
}

/// Text of an Excel cell as a person would read it.
fn xlsx_cell(cell: &Data) -> RawCell {
    match cell {
        Data::Empty => RawCell::Text(String::new()),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => RawCell::Text(s.clone()),
        Data::Int(i) => RawCell::Text(i.to_string()),
        // Excel stores every number as a float; whole numbers must read as `3`, not `3.0`.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => RawCell::Text(format!("{}", *f as i64)),
        Data::Float(f) => RawCell::Text(f.to_string()),
        Data::Bool(b) => RawCell::Text(b.to_string()),
        Data::DateTime(d) => RawCell::Text(d.to_string()),
        Data::Error(e) => RawCell::Bad {
            code: "cell_error",
            zh: format!("单元格是错误值 {e}（公式出错？）"),
            en: format!("the cell holds the error value {e} (a broken formula?)"),
        },
    }
}

/// The first sheet of an .xlsx upload as rows of text (the header first), with the catalog
/// import's limits and checks (size, zip bombs, a parser that panics); a cell holding an error
/// value reads as empty. A file that cannot be read is one problem for the whole file.
pub fn xlsx_text_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>, RowProblem> {
    let table = read_xlsx(bytes).map_err(|mut problems| problems.remove(0))?;
    let text = |c: &RawCell| match c {
        RawCell::Text(t) => t.clone(),
        RawCell::Bad { .. } => String::new(),
    };
    let mut rows = vec![table.header.iter().map(text).collect::<Vec<_>>()];
    rows.extend(table.rows.iter().map(|(_, cells)| cells.iter().map(text).collect()));
    Ok(rows)
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, Vec<RowProblem>> {
    let corrupt = |detail: &str| {
        vec![file_problem(
            "xlsx_corrupt",
            format!("不是有效的 Excel（.xlsx）文件：{detail}"),
            format!("not a valid Excel (.xlsx) file: {detail}"),
        )]
    };
    // Uploads are untrusted and calamine is a large parser of a complex format; a panic on some
    // malformed archive must become a problem report, not take down the request or the CLI.
    // A small archive can inflate to gigabytes (a "zip bomb"): add up what its parts declare
    // before anything is inflated.
    let inflated = (|| -> Result<u64, zip::result::ZipError> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes))?;
        let mut total = 0u64;
        for i in 0..archive.len() {
            total = total.saturating_add(archive.by_index_raw(i)?.size());
        }
        Ok(total)
    })();
    match inflated {
        Err(e) => return Err(corrupt(&e.to_string())),
        Ok(n) if n > MAX_XLSX_INFLATED_BYTES => {
            return Err(vec![file_problem(
                "file_too_large",
                format!("解压后{}MB，超过上限{}MB：请分批导入", n >> 20, MAX_XLSX_INFLATED_BYTES >> 20),
                format!(
                    "it inflates to {} MB, more than the limit of {} MB: import it in parts",
                    n >> 20,
                    MAX_XLSX_INFLATED_BYTES >> 20
                ),
            )]);
        }
        Ok(_) => {}
    }
    let read = std::panic::catch_unwind(|| -> Result<Option<calamine::Range<Data>>, String> {
        let mut workbook: Xlsx<Cursor<&[u8]>> = calamine::open_workbook_from_rs(Cursor::new(bytes))
            .map_err(|e: calamine::XlsxError| e.to_string())?;
        let names = workbook.sheet_names();
        let Some(name) = names.iter().find(|n| *n == SHEET_NAME).or(names.first()) else {
            return Ok(None);
        };
        workbook.worksheet_range(name).map(Some).map_err(|e| e.to_string())
    });
    let range = match read {
        Ok(Ok(Some(range))) => range,
        Ok(Ok(None)) => return Err(corrupt("没有工作表 / no worksheet")),
        Ok(Err(detail)) => return Err(corrupt(&detail)),
        Err(_) => return Err(corrupt("无法读取 / unreadable")),
    };
    let Some((first_row, _)) = range.start() else {
        return Err(vec![file_problem("empty_file", "工作表为空".into(), "the worksheet is empty".into())]);
    };
    if range.height() > MAX_ROWS + 1 {
        return Err(too_many_rows(range.height()));
    }
    let mut rows = range.rows().enumerate().map(|(i, cells)| {
        // Absolute sheet rows, so that a sheet whose header is not on row 1 still reports
        // the row numbers Excel shows.
        (first_row as usize + i + 1, cells.iter().map(xlsx_cell).collect::<Vec<_>>())
    });
    let Some((header_row, header)) = rows.next() else {
        return Err(vec![file_problem("empty_file", "工作表为空".into(), "the worksheet is empty".into())]);
    };
    Ok(Table { header_row, header, rows: rows.collect() })
}

// ---------------------------------------------------------------------------------------------
// Parsing: headers and rows
// ---------------------------------------------------------------------------------------------

/// Canonical form of a header for matching: no spaces, ASCII brackets, lower case, no `*`
/// required-marker.
fn normalize_header(h: &str) -> String {
    h.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '*' | '＊' | '\u{feff}'))
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Map from every accepted spelling of a header to its column index.
fn header_lookup() -> HashMap<String, usize> {
    let mut map = HashMap::new();
    for (i, c) in COLUMNS.iter().enumerate() {
        let zh = normalize_header(c.zh);
        if let Some((stem, _)) = zh.split_once('(') {
            map.insert(stem.to_owned(), i);
        }
        map.insert(zh, i);
        map.insert(c.en.to_owned(), i);
    }
    map
}

/// A cell handed to the decoder, from a tabular file or a JSON item.
enum Cell<'a> {
    /// The column is missing from the file; already reported once for the whole file.
    Absent,
    /// Text (JSON scalars are turned into text, so the tabular rules apply to both).
    Text(Cow<'a, str>),
    /// A JSON array or object.
    Json(&'a Value),
    /// Unusable; the problem is reported when the cell is read.
    Bad(&'a RawCell),
}

fn parse_table(
    table: Table,
    on_row: &mut dyn FnMut(usize, usize),
) -> Result<Vec<CatalogItem>, Vec<RowProblem>> {
    let mut problems = Vec::new();
    let lookup = header_lookup();
    // Position in the file of each column.
    let mut positions: [Option<usize>; 20] = [None; 20];
    let header_problem = |column: String, code, reason_zh, reason_en| RowProblem {
        row: table.header_row,
        column,
        code,
        reason_zh,
        reason_en,
    };
    for (pos, cell) in table.header.iter().enumerate() {
        let text = match cell {
            RawCell::Text(t) => t.trim(),
            // An unreadable header (typically a GBK-encoded CSV) makes every column look
            // missing; one problem says what is really wrong.
            RawCell::Bad { code, zh, en } => {
                return Err(vec![header_problem(
                    String::new(),
                    code,
                    format!("表头{zh}"),
                    format!("header: {en}"),
                )]);
            }
        };
        // Excel often carries empty trailing columns; an unnamed column holds nothing we know.
        if text.is_empty() {
            continue;
        }
        match lookup.get(&normalize_header(text)) {
            None => problems.push(header_problem(
                text.to_owned(),
                "unknown_column",
                format!("未知的列“{text}”；可用的列：{}", COLUMNS.map(|c| c.zh).join("、")),
                format!("unknown column `{text}`; the columns are {}", COLUMNS.map(|c| c.en).join(", ")),
            )),
            Some(&col) if positions[col].is_some() => problems.push(header_problem(
                text.to_owned(),
                "duplicate_column",
                format!("列“{}”出现了两次", COLUMNS[col].zh),
                format!("column {} appears twice", COLUMNS[col].en),
            )),
            Some(&col) => positions[col] = Some(pos),
        }
    }
    for (col, _) in positions.iter().enumerate().filter(|(_, p)| p.is_none()) {
        let c = COLUMNS[col];
        problems.push(header_problem(
            c.zh.to_owned(),
            "missing_column",
            format!("缺少列“{}”", c.zh),
            format!("column {} ({}) is missing", c.zh, c.en),
        ));
    }

    let total = table.rows.len();
    let mut items = Vec::with_capacity(total);
    let mut seen = HashMap::new();
    for (done, (row, cells)) in table.rows.iter().enumerate() {
        let blank = cells.iter().all(|c| matches!(c, RawCell::Text(t) if t.trim().is_empty()));
        if !blank {
            let row_cells: [Cell<'_>; 20] = std::array::from_fn(|col| match positions[col] {
                None => Cell::Absent,
                // A short row (fewer cells than the header) has empty cells at its end.
                Some(pos) => match cells.get(pos) {
                    None => Cell::Text(Cow::Borrowed("")),
                    Some(RawCell::Text(t)) => Cell::Text(Cow::Borrowed(t.as_str())),
                    Some(bad) => Cell::Bad(bad),
                },
            });
            decode_row(*row, &row_cells, false, &mut seen, &mut items, &mut problems);
        }
        on_row(done + 1, total);
    }
    finish(items, problems)
}

fn finish(
    items: Vec<CatalogItem>,
    mut problems: Vec<RowProblem>,
) -> Result<Vec<CatalogItem>, Vec<RowProblem>> {
    if problems.is_empty() && items.is_empty() {
        problems.push(file_problem("no_items", "文件中没有事项".into(), "the file holds no items".into()));
    }
    if problems.is_empty() { Ok(items) } else { Err(problems) }
}

fn parse_json(
    bytes: &[u8],
    on_row: &mut dyn FnMut(usize, usize),
) -> Result<Vec<CatalogItem>, Vec<RowProblem>> {
    let text = match std::str::from_utf8(strip_bom(bytes)) {
        Ok(t) => t,
        Err(e) => {
            let line = strip_bom(bytes)[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
            return Err(vec![file_problem(
                "invalid_utf8",
                format!("第 {line} 行起不是 UTF-8 编码"),
                format!("not UTF-8 from line {line}"),
            )]);
        }
    };
    let value: Value = serde_json::from_str(text).map_err(|e| {
        vec![file_problem(
            "json_syntax",
            format!("JSON 格式错误（第 {} 行第 {} 列）：{e}", e.line(), e.column()),
            format!("invalid JSON at line {}, column {}: {e}", e.line(), e.column()),
        )]
    })?;
    let shape_problem = || {
        vec![file_problem(
            "json_shape",
            "JSON 应为事项数组，或含 items 数组的对象（同 catalog.json）".into(),
            "JSON must be an array of items or an object with an `items` array (like catalog.json)".into(),
        )]
    };
    let mut problems = Vec::new();
    let list = match &value {
        Value::Array(list) => list,
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("items", _) | ("version", Value::String(_)) => {}
                    ("version", _) => problems.push(file_problem(
                        "json_shape",
                        "version 应为字符串".into(),
                        "`version` must be a string".into(),
                    )),
                    _ => problems.push(RowProblem {
                        row: 0,
                        column: key.clone(),
                        code: "unknown_column",
                        reason_zh: format!("未知字段“{key}”；只能有 version 和 items"),
                        reason_en: format!("unknown field `{key}`; only `version` and `items` are allowed"),
                    }),
                }
            }
            match map.get("items") {
                Some(Value::Array(list)) => list,
                _ => return Err(shape_problem()),
            }
        }
        _ => return Err(shape_problem()),
    };

    let total = list.len();
    if total > MAX_ROWS {
        return Err(too_many_rows(total));
    }
    let mut items = Vec::with_capacity(total);
    let mut seen = HashMap::new();
    for (i, entry) in list.iter().enumerate() {
        let row = i + 1;
        match entry {
            Value::Object(map) => {
                for key in map.keys().filter(|k| !COLUMNS.iter().any(|c| c.en == k.as_str())) {
                    problems.push(RowProblem {
                        row,
                        column: key.clone(),
                        code: "unknown_column",
                        reason_zh: format!("未知字段“{key}”"),
                        reason_en: format!("unknown field `{key}`"),
                    });
                }
                let cells: [Cell<'_>; 20] = std::array::from_fn(|col| match map.get(COLUMNS[col].en) {
                    // A missing field is treated as empty, so an optional one may be left out and a
                    // required one is reported as empty.
                    None | Some(Value::Null) => Cell::Text(Cow::Borrowed("")),
                    Some(Value::String(s)) => Cell::Text(Cow::Borrowed(s.as_str())),
                    Some(Value::Bool(b)) => Cell::Text(Cow::Borrowed(if *b { "true" } else { "false" })),
                    Some(Value::Number(n)) => Cell::Text(Cow::Owned(n.to_string())),
                    Some(v) => Cell::Json(v),
                });
                decode_row(row, &cells, true, &mut seen, &mut items, &mut problems);
            }
            _ => problems.push(RowProblem {
                row,
                column: String::new(),
                code: "json_shape",
                reason_zh: "事项应为 JSON 对象".into(),
                reason_en: "an item must be a JSON object".into(),
            }),
        }
        on_row(row, total);
    }
    finish(items, problems)
}

// ---------------------------------------------------------------------------------------------
// Parsing: decoding one item
// ---------------------------------------------------------------------------------------------

/// A set of allowed values for an enumerated column.
struct Choice {
    code: &'static str,
    allowed: &'static [&'static str],
    labels: &'static [(&'static str, &'static str)],
    aliases: &'static [(&'static str, &'static str)],
}

const LEVEL_CHOICE: Choice =
    Choice { code: "bad_level", allowed: LEVELS, labels: LEVEL_LABELS, aliases: LEVEL_ALIASES };
const AUDIENCE_CHOICE: Choice =
    Choice { code: "bad_audience", allowed: AUDIENCES, labels: AUDIENCE_LABELS, aliases: AUDIENCE_ALIASES };
const KIND_CHOICE: Choice = Choice { code: "bad_kind", allowed: ITEM_KINDS, labels: &[], aliases: &[] };
const HANDLING_CHOICE: Choice = Choice { code: "bad_handling", allowed: HANDLING, labels: &[], aliases: &[] };
const CROSS_REGION_CHOICE: Choice =
    Choice { code: "bad_cross_region", allowed: CROSS_REGION_MODES, labels: &[], aliases: &[] };

/// Decodes the cells of one row, reporting problems against `row`.
struct RowDecoder<'c, 'a> {
    row: usize,
    cells: &'c [Cell<'a>; 20],
    /// JSON names columns by field name, tabular files by Chinese header.
    json: bool,
    problems: &'c mut Vec<RowProblem>,
}

impl<'c> RowDecoder<'c, '_> {
    fn column_name(&self, col: usize) -> &'static str {
        if self.json { COLUMNS[col].en } else { COLUMNS[col].zh }
    }

    fn push(&mut self, col: usize, code: &'static str, reason_zh: String, reason_en: String) {
        self.problems.push(RowProblem {
            row: self.row,
            column: self.column_name(col).to_owned(),
            code,
            reason_zh,
            reason_en,
        });
    }

    /// The trimmed text of a scalar cell; `None` (reported unless absent) if it has none.
    fn text(&mut self, col: usize) -> Option<&'c str> {
        // Borrowed from the cells rather than from `self`, so problems can be pushed meanwhile.
        let cells: &'c [Cell<'_>; 20] = self.cells;
        match &cells[col] {
            Cell::Absent => None,
            Cell::Text(t) => Some(t.trim()),
            Cell::Json(_) => {
                self.push(
                    col,
                    "wrong_type",
                    format!("「{}」应为单个值，不能是数组或对象", COLUMNS[col].zh),
                    format!("{} must be a single value, not an array or object", COLUMNS[col].en),
                );
                None
            }
            Cell::Bad(RawCell::Bad { code, zh, en }) => {
                let (code, zh, en) = (*code, zh.clone(), en.clone());
                self.push(col, code, zh, en);
                None
            }
            Cell::Bad(RawCell::Text(t)) => Some(t.trim()),
        }
    }

    fn empty_problem(&mut self, col: usize) {
        let c = COLUMNS[col];
        self.push(
            col,
            "empty_required",
            format!("「{}」不能为空", c.zh),
            format!("{} must not be empty", c.en),
        );
    }

    fn required(&mut self, col: usize) -> Option<String> {
        match self.text(col) {
            Some("") => {
                self.empty_problem(col);
                None
            }
            t => t.map(str::to_owned),
        }
    }

    fn choice(&mut self, col: usize, choice: &Choice) -> Option<String> {
        let text = self.required(col)?;
        self.choice_value(col, &text, choice)
    }

    fn choice_value(&mut self, col: usize, text: &str, choice: &Choice) -> Option<String> {
        let found = choice.allowed.iter().find(|a| a.eq_ignore_ascii_case(text)).copied().or_else(|| {
            choice.labels.iter().chain(choice.aliases).find(|(_, label)| *label == text).map(|(v, _)| *v)
        });
        if let Some(value) = found {
            return Some(value.to_owned());
        }
        let c = COLUMNS[col];
        let (zh_list, en_list) = if choice.labels.is_empty() {
            (choice.allowed.join("、"), choice.allowed.join(", "))
        } else {
            let labels: Vec<&str> = choice.labels.iter().map(|(_, l)| *l).collect();
            (
                format!("{}（或 {}）", labels.join("、"), choice.allowed.join("、")),
                format!("{} (or {})", choice.allowed.join(", "), labels.join(", ")),
            )
        };
        self.push(
            col,
            choice.code,
            format!("「{}」的值“{text}”无效，可选：{zh_list}", c.zh),
            format!("{} `{text}` is not one of {en_list}", c.en),
        );
        None
    }

    /// An optional choice: empty or `无` is `None`.
    fn optional_choice(&mut self, col: usize, choice: &Choice) -> Option<Option<String>> {
        match self.text(col)? {
            "" | "无" => Some(None),
            t => {
                let t = t.to_owned();
                self.choice_value(col, &t, choice).map(Some)
            }
        }
    }

    /// A whole number between 0 and `max`; `Some(None)` for an empty optional cell.
    fn number(&mut self, col: usize, max: u32, optional: bool) -> Option<Option<u32>> {
        let text = self.text(col)?;
        if text.is_empty() || (optional && text == "无") {
            if optional {
                return Some(None);
            }
            self.empty_problem(col);
            return None;
        }
        // Chinese input methods often type full-width digits.
        let ascii: String = text
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
                c => c,
            })
            .collect();
        let c = COLUMNS[col];
        let value = match ascii.parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => {
                self.push(
                    col,
                    "not_a_number",
                    format!("「{}」的值“{text}”不是整数", c.zh),
                    format!("{} `{text}` is not a whole number", c.en),
                );
                return None;
            }
        };
        if value < 0.0 {
            self.push(
                col,
                "negative_number",
                format!("「{}」不能为负数（“{text}”）", c.zh),
                format!("{} must not be negative (`{text}`)", c.en),
            );
            return None;
        }
        if value.fract() != 0.0 {
            self.push(
                col,
                "not_a_number",
                format!("「{}」的值“{text}”不是整数", c.zh),
                format!("{} `{text}` is not a whole number", c.en),
            );
            return None;
        }
        if value > f64::from(max) {
            self.push(
                col,
                "number_too_large",
                format!("「{}」的值 {text} 不合理，最大为 {max}", c.zh),
                format!("{} {text} is implausible; at most {max}", c.en),
            );
            return None;
        }
        // Whole, non-negative and at most `max`, so the conversion is exact.
        Some(Some(value as u32))
    }

    fn required_number(&mut self, col: usize, max: u32) -> Option<u32> {
        self.number(col, max, false).flatten()
    }

    fn boolean(&mut self, col: usize) -> Option<bool> {
        let text = self.required(col)?;
        match parse_bool(&text) {
            Some(b) => Some(b),
            None => {
                let c = COLUMNS[col];
                self.push(
                    col,
                    "bad_boolean",
                    format!("「{}」的值“{text}”无效，应为“是”或“否”", c.zh),
                    format!("{} `{text}` is not yes/no (是/否, true/false, 1/0, Y/N)", c.en),
                );
                None
            }
        }
    }

    fn materials(&mut self) -> Option<Vec<Material>> {
        match &self.cells[MATERIALS] {
            Cell::Json(Value::Array(list)) => {
                let mut out = Vec::with_capacity(list.len());
                let mut ok = true;
                for (i, v) in list.iter().enumerate() {
                    match self.json_material(i + 1, v) {
                        Some(m) => out.push(m),
                        None => ok = false,
                    }
                }
                ok.then_some(out)
            }
            _ => {
                let text = self.text(MATERIALS)?.to_owned();
                let mut out = Vec::new();
                let mut ok = true;
                for (i, line) in text.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
                    match self.material_line(i + 1, line) {
                        Some(m) => out.push(m),
                        None => ok = false,
                    }
                }
                ok.then_some(out)
            }
        }
    }

    /// One material line, `名称｜来源｜可承诺`; `n` is its 1-based position in the cell.
    fn material_line(&mut self, n: usize, line: &str) -> Option<Material> {
        let parts: Vec<&str> = line.split(PART_SEPARATORS).map(str::trim).collect();
        let [name, source, ok] = parts[..] else {
            self.push(
                MATERIALS,
                "material_malformed",
                format!("第{n}条材料“{line}”格式应为“名称｜来源｜可承诺”，如“公司章程｜applicant｜否”"),
                format!("material {n} `{line}` must be `name｜source｜commitment_ok`, e.g. `公司章程｜applicant｜否`"),
            );
            return None;
        };
        self.material(n, name, source, MaterialFlag::Text(ok))
    }

    fn json_material(&mut self, n: usize, v: &Value) -> Option<Material> {
        let shape = |this: &mut Self| {
            this.push(
                MATERIALS,
                "material_malformed",
                format!("第{n}条材料应为 {{\"name\", \"source\", \"commitment_ok\"}} 对象"),
                format!("material {n} must be an object with name, source and commitment_ok"),
            );
            None
        };
        let Value::Object(map) = v else { return shape(self) };
        if map.keys().any(|k| !matches!(k.as_str(), "name" | "source" | "commitment_ok")) {
            return shape(self);
        }
        let (Some(Value::String(name)), Some(Value::String(source))) = (map.get("name"), map.get("source"))
        else {
            return shape(self);
        };
        let flag = match map.get("commitment_ok") {
            Some(Value::Bool(b)) => MaterialFlag::Bool(*b),
            Some(Value::String(s)) => MaterialFlag::Text(s),
            _ => return shape(self),
        };
        self.material(n, name.trim(), source.trim(), flag)
    }

    fn material(&mut self, n: usize, name: &str, source: &str, flag: MaterialFlag<'_>) -> Option<Material> {
        let mut ok = true;
        if name.is_empty() {
            self.push(
                MATERIALS,
                "material_malformed",
                format!("第{n}条材料没有名称"),
                format!("material {n} has no name"),
            );
            ok = false;
        }
        let material = Material { name: name.to_owned(), source: source.to_owned(), commitment_ok: false };
        if material.parsed_source().is_none() {
            self.push(
                MATERIALS,
                "bad_material_source",
                format!(
                    "第{n}条材料“{name}”的来源“{source}”无效，应为 applicant、elicence:<证照类型> 或 data:<数据集>"
                ),
                format!(
                    "material {n} `{name}`: source `{source}` is not `applicant`, `elicence:<type>` or `data:<dataset>`"
                ),
            );
            ok = false;
        }
        let commitment_ok = match flag {
            MaterialFlag::Bool(b) => Some(b),
            MaterialFlag::Text(t) => parse_bool(t),
        };
        if commitment_ok.is_none() {
            self.push(
                MATERIALS,
                "bad_boolean",
                format!("第{n}条材料“{name}”的“可承诺”应为“是”或“否”"),
                format!("material {n} `{name}`: commitment_ok must be yes or no (是/否)"),
            );
        }
        let commitment_ok = commitment_ok?;
        ok.then_some(Material { commitment_ok, ..material })
    }

    fn keywords(&mut self) -> Option<Vec<String>> {
        match &self.cells[KEYWORDS] {
            Cell::Json(Value::Array(list)) => {
                let words: Option<Vec<String>> = list
                    .iter()
                    .map(|v| v.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned))
                    .collect();
                if words.is_none() {
                    self.push(
                        KEYWORDS,
                        "wrong_type",
                        "关键词应为非空字符串".into(),
                        "keywords must be non-empty strings".into(),
                    );
                }
                words
            }
            _ => {
                let text = self.text(KEYWORDS)?;
                Some(
                    text.split(KEYWORD_SEPARATORS)
                        .map(str::trim)
                        .filter(|w| !w.is_empty())
                        .map(str::to_owned)
                        .collect(),
                )
            }
        }
    }
}

/// The 可承诺 flag of a material, as found in the file.
enum MaterialFlag<'a> {
    Bool(bool),
    Text(&'a str),
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "是" | "true" | "1" | "y" | "yes" => Some(true),
        "否" | "false" | "0" | "n" | "no" => Some(false),
        _ => None,
    }
}

/// Decodes one row into `items`, or reports its problems. `seen` maps item codes to the row that
/// first used them.
fn decode_row(
    row: usize,
    cells: &[Cell<'_>; 20],
    json: bool,
    seen: &mut HashMap<String, usize>,
    items: &mut Vec<CatalogItem>,
    problems: &mut Vec<RowProblem>,
) {
    let before = problems.len();
    let mut d = RowDecoder { row, cells, json, problems };
    // Every field is decoded (no `?`), so that all of a row's problems are reported.
    let code = d.required(CODE);
    let name = d.required(NAME);
    let department = d.required(DEPARTMENT);
    let level = d.choice(LEVEL, &LEVEL_CHOICE);
    let kind = d.choice(KIND, &KIND_CHOICE);
    let audience = d.choice(AUDIENCE, &AUDIENCE_CHOICE);
    let life_event = d.required(LIFE_EVENT);
    let handling = d.choice(HANDLING_COL, &HANDLING_CHOICE);
    let legal = d.number(LEGAL, MAX_DAYS, true);
    let promised = d.required_number(PROMISED, MAX_DAYS);
    let visits = d.required_number(VISITS, MAX_VISITS);
    let online = d.boolean(ONLINE);
    let cross_region = d.optional_choice(CROSS_REGION, &CROSS_REGION_CHOICE);
    let commitment = d.boolean(COMMITMENT);
    let single_approver = d.boolean(SINGLE_APPROVER);
    let fee = d.required(FEE);
    let conditions = d.required(CONDITIONS);
    let legal_basis = d.required(LEGAL_BASIS);
    let materials = d.materials();
    let keywords = d.keywords();

    if let Some(code) = &code {
        if let Some(first) = seen.get(code) {
            d.push(
                CODE,
                "duplicate_code",
                format!("事项编码 {code} 与第{first}行重复"),
                format!("item code {code} is already used on row {first}"),
            );
        } else {
            seen.insert(code.clone(), row);
        }
        if let Some(dept) = &department
            && !code.starts_with(&format!("{dept}-"))
        {
            d.push(
                CODE,
                "code_department_mismatch",
                format!("事项编码 {code} 应以实施部门编码 {dept}- 开头"),
                format!("item code {code} must start with its department code {dept}-"),
            );
        }
    }
    if let (Some(Some(legal)), Some(promised)) = (legal, promised)
        && legal > 0
        && promised > legal
    {
        d.push(
            PROMISED,
            "promised_exceeds_legal",
            format!("承诺时限 {promised} 天超过法定时限 {legal} 天"),
            format!("promised limit {promised} exceeds the legal limit {legal}"),
        );
    }
    if let (Some(handling), Some(promised)) = (&handling, promised) {
        // 即办件 means done on the spot; anything promised later is a 承诺件.
        let instant = handling == "即办件";
        if instant != (promised == 0) {
            d.push(
                HANDLING_COL,
                "handling_mismatch",
                format!("办件类型“{handling}”与承诺时限 {promised} 天不符：即办件承诺时限为 0，承诺件大于 0"),
                format!("handling {handling} does not match promised limit {promised} (即办件 iff 0 days)"),
            );
        }
    }
    if let (Some(commitment), Some(materials)) = (commitment, &materials) {
        // A commitment replaces some proof, so it must say which one, and only then may it.
        let any = materials.iter().any(|m| m.commitment_ok);
        if commitment != any {
            let (zh, en) = if commitment {
                ("告知承诺为“是”，但没有任何材料可承诺", "commitment is yes but no material is commitment_ok")
            } else {
                ("有材料可承诺，但告知承诺为“否”", "a material is commitment_ok but commitment is no")
            };
            d.push(COMMITMENT, "commitment_mismatch", zh.into(), en.into());
        }
    }

    if problems.len() != before {
        return;
    }
    // No problem was reported, so every field decoded; the `let … else` only satisfies the types
    // (an absent column is reported once in the header, which also makes the file fail).
    let (
        Some(code),
        Some(name),
        Some(department),
        Some(level),
        Some(kind),
        Some(audience),
        Some(life_event),
        Some(handling),
        Some(legal_limit_days),
        Some(promised_limit_days),
        Some(visits),
        Some(online),
        Some(cross_region),
        Some(commitment),
        Some(single_approver),
        Some(fee),
        Some(conditions),
        Some(legal_basis),
        Some(materials),
        Some(keywords),
    ) = (
        code,
        name,
        department,
        level,
        kind,
        audience,
        life_event,
        handling,
        legal,
        promised,
        visits,
        online,
        cross_region,
        commitment,
        single_approver,
        fee,
        conditions,
        legal_basis,
        materials,
        keywords,
    )
    else {
        return;
    };
    items.push(CatalogItem {
        code,
        name,
        department,
        level,
        kind,
        audience,
        life_event,
        handling,
        legal_limit_days,
        promised_limit_days,
        visits,
        online,
        cross_region,
        commitment,
        single_approver,
        fee,
        conditions,
        legal_basis,
        materials,
        keywords,
    });
}

// ---------------------------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------------------------

/// Writes the items in `format`.
///
/// JSON is pretty-printed `{"items": [...]}` (which [`parse`] reads back); use
/// [`export_catalog_json`] for a file with a `version`, loadable as `catalog.json`. CSV starts
/// with a UTF-8 BOM and has the Chinese headers; XLSX has one sheet, [`SHEET_NAME`], with a bold,
/// frozen header row, drop-down lists for the enumerated columns, and wrapped long texts.
///
/// Fails with [`TransferError::Unrepresentable`] (tabular formats only) when a material or
/// keyword contains a separator of the cell conventions, which would not read back the same.
pub fn export(format: Format, items: &[CatalogItem]) -> Result<Vec<u8>, TransferError> {
    match format {
        Format::Json => {
            #[derive(Serialize)]
            struct Items<'a> {
                items: &'a [CatalogItem],
            }
            json_bytes(&Items { items })
        }
        Format::Csv => export_csv(items),
        Format::Xlsx => export_xlsx(items),
    }
}

/// Writes the items as a full `catalog.json` (`{"version": …, "items": [...]}`), pretty-printed.
pub fn export_catalog_json(version: &str, items: &[CatalogItem]) -> Result<Vec<u8>, TransferError> {
    #[derive(Serialize)]
    struct Catalog<'a> {
        version: &'a str,
        items: &'a [CatalogItem],
    }
    json_bytes(&Catalog { version, items })
}

fn json_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, TransferError> {
    let mut out = serde_json::to_vec_pretty(value)?;
    out.push(b'\n');
    Ok(out)
}

/// A cell to write.
enum OutCell {
    Text(String),
    Number(u32),
    Empty,
}

fn label(value: &str, labels: &[(&str, &'static str)]) -> String {
    labels.iter().find(|(v, _)| *v == value).map_or_else(|| value.to_owned(), |(_, l)| (*l).to_owned())
}

fn yes_no(b: bool) -> OutCell {
    OutCell::Text(if b { "是" } else { "否" }.to_owned())
}

/// The cells of one item, in [`COLUMNS`] order.
fn out_cells(item: &CatalogItem) -> Result<[OutCell; 20], TransferError> {
    let unrepresentable =
        |field, reason: String| TransferError::Unrepresentable { code: item.code.clone(), field, reason };
    let mut lines = Vec::with_capacity(item.materials.len());
    for m in &item.materials {
        for (what, s) in [("name", &m.name), ("source", &m.source)] {
            if s.trim().is_empty() || s.contains(PART_SEPARATORS) || s.contains(['\n', '\r']) {
                return Err(unrepresentable(
                    "materials",
                    format!("material {what} `{s}` is empty or contains ｜, | or a line break"),
                ));
            }
        }
        lines.push(format!("{}｜{}｜{}", m.name, m.source, if m.commitment_ok { "是" } else { "否" }));
    }
    for k in &item.keywords {
        if k.trim().is_empty() || k.contains(KEYWORD_SEPARATORS) {
            return Err(unrepresentable(
                "keywords",
                format!("keyword `{k}` is empty or contains a separator"),
            ));
        }
    }
    let text = |s: &str| OutCell::Text(s.to_owned());
    Ok([
        text(&item.code),
        text(&item.name),
        text(&item.department),
        OutCell::Text(label(&item.level, LEVEL_LABELS)),
        text(&item.kind),
        OutCell::Text(label(&item.audience, AUDIENCE_LABELS)),
        text(&item.life_event),
        text(&item.handling),
        item.legal_limit_days.map_or(OutCell::Empty, OutCell::Number),
        OutCell::Number(item.promised_limit_days),
        OutCell::Number(item.visits),
        yes_no(item.online),
        item.cross_region.as_deref().map_or(OutCell::Empty, text),
        yes_no(item.commitment),
        yes_no(item.single_approver),
        text(&item.fee),
        text(&item.conditions),
        text(&item.legal_basis),
        OutCell::Text(lines.join("\n")),
        OutCell::Text(item.keywords.join("、")),
    ])
}

/// Whether a spreadsheet would take `text` for a formula (OWASP "CSV injection": a cell that
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return), or it is such a text already
/// neutralised (a `'` in front of one), which must be marked again to read back the same.
fn formula_like(text: &str) -> bool {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => true,
        Some('\'') => formula_like(&text[1..]),
        _ => false,
    }
}

/// A CSV cell as written: formula-like text gets a leading `'`, which spreadsheets show as text
/// (and hide); [`from_csv_cell`] takes it off again, so our own files read back exactly.
fn to_csv_cell(text: &str) -> Cow<'_, str> {
    if formula_like(text) { Cow::Owned(format!("'{text}")) } else { Cow::Borrowed(text) }
}

fn from_csv_cell(text: String) -> String {
    match text.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest.to_owned(),
        _ => text,
    }
}

fn export_csv(items: &[CatalogItem]) -> Result<Vec<u8>, TransferError> {
    let mut out = Vec::with_capacity(512 * (items.len() + 1));
    // Without the BOM, Excel opens a UTF-8 CSV as the local code page (GBK) and shows mojibake.
    out.extend_from_slice(b"\xEF\xBB\xBF");
    {
        let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(&mut out);
        writer.write_record(COLUMNS.iter().map(|c| c.zh))?;
        for item in items {
            let cells = out_cells(item)?;
            writer.write_record(cells.iter().map(|c| match c {
                OutCell::Text(s) => match to_csv_cell(s) {
                    Cow::Borrowed(b) => Cow::Borrowed(b.as_bytes()),
                    Cow::Owned(o) => Cow::Owned(o.into_bytes()),
                },
                OutCell::Number(n) => Cow::Owned(n.to_string().into_bytes()),
                OutCell::Empty => Cow::Borrowed(&b""[..]),
            }))?;
        }
        writer.flush()?;
    }
    Ok(out)
}

fn export_xlsx(items: &[CatalogItem]) -> Result<Vec<u8>, TransferError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(SHEET_NAME)?;
    let header = CellFormat::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter)
        .set_background_color(0xDDEBF7)
        .set_border(FormatBorder::Thin);
    // Top alignment keeps short cells readable next to a tall wrapped one.
    let plain = CellFormat::new().set_align(FormatAlign::Top);
    let wrapped = CellFormat::new().set_align(FormatAlign::Top).set_text_wrap();

    for (col, c) in COLUMNS.iter().enumerate() {
        let col16 = col as u16;
        sheet.write_string_with_format(0, col16, c.zh, &header)?;
        sheet.set_column_width(col16, WIDTHS[col])?;
    }
    sheet.set_freeze_panes(1, 0)?;

    for (i, item) in items.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(|_| rust_xlsxwriter::XlsxError::RowColumnLimitError)?;
        for (col, cell) in out_cells(item)?.iter().enumerate() {
            let format = if WRAPPED.contains(&col) { &wrapped } else { &plain };
            let col16 = col as u16;
            match cell {
                OutCell::Text(s) => sheet.write_string_with_format(row, col16, s, format)?,
                OutCell::Number(n) => sheet.write_number_with_format(row, col16, *n, format)?,
                OutCell::Empty => sheet.write_blank(row, col16, format)?,
            };
        }
    }

    // Drop-down lists guide whoever edits the sheet to the accepted values. Warning style rather
    // than stop, because the parser also accepts the English codes and aliases.
    let last_row = 1_048_575;
    let yes_no_list = ["是", "否"];
    let level_list: Vec<&str> = LEVEL_LABELS.iter().map(|(_, l)| *l).collect();
    let audience_list: Vec<&str> = AUDIENCE_LABELS.iter().map(|(_, l)| *l).collect();
    let lists: [(usize, &[&str]); 8] = [
        (LEVEL, &level_list),
        (KIND, ITEM_KINDS),
        (AUDIENCE, &audience_list),
        (HANDLING_COL, HANDLING),
        (ONLINE, &yes_no_list),
        (CROSS_REGION, CROSS_REGION_MODES),
        (COMMITMENT, &yes_no_list),
        (SINGLE_APPROVER, &yes_no_list),
    ];
    for (col, list) in lists {
        let validation = DataValidation::new()
            .allow_list_strings(list)?
            .set_error_style(DataValidationErrorStyle::Warning);
        sheet.add_data_validation(1, col as u16, last_row, col as u16, &validation)?;
    }
    let last_item_row = u32::try_from(items.len()).unwrap_or(u32::MAX).min(last_row);
    sheet.autofilter(0, 0, last_item_row, (COLUMNS.len() - 1) as u16)?;

    Ok(workbook.save_to_buffer()?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::reference::data::{CatalogFile, RawFiles, shipped};
    use proptest::prelude::*;

    fn items() -> Vec<CatalogItem> {
        shipped().unwrap().catalog.items
    }

    /// The exported CSV of `items` as rows of cells (header first), to tamper with.
    fn rows_of(items: &[CatalogItem]) -> Vec<Vec<String>> {
        let bytes = export(Format::Csv, items).unwrap();
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(strip_bom(&bytes));
        reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect()
    }

    fn col(zh: &str) -> usize {
        COLUMNS.iter().position(|c| c.zh == zh).unwrap()
    }

    fn csv_of(rows: &[Vec<String>]) -> Vec<u8> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        for r in rows {
            writer.write_record(r).unwrap();
        }
        writer.into_inner().unwrap()
    }

    fn xlsx_of(rows: &[Vec<String>]) -> Vec<u8> {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if !cell.is_empty() {
                    sheet.write_string(r as u32, c as u16, cell).unwrap();
                }
            }
        }
        workbook.save_to_buffer().unwrap()
    }

    /// `(row, column, code)` of each problem, for compact assertions.
    fn summary(problems: &[RowProblem]) -> Vec<(usize, String, &'static str)> {
        problems.iter().map(|p| (p.row, p.column.clone(), p.code)).collect()
    }

    fn s(x: &str) -> String {
        x.to_owned()
    }

    #[test]
    fn round_trip_all_formats() {
        let items = items();
        assert_eq!(items.len(), 196);
        for format in [Format::Json, Format::Csv, Format::Xlsx] {
            let bytes = export(format, &items).unwrap();
            assert_eq!(Format::sniff(&bytes), Some(format));
            let back = parse(format, &bytes).map_err(|ps| (format, ps[..ps.len().min(5)].to_vec())).unwrap();
            assert_eq!(back, items, "{format:?}");
        }
    }

    #[test]
    fn a_huge_or_broken_file_is_refused_with_a_bounded_report() {
        // 30,000 rows of nonsense: refused by its size, not parsed into 600,000 problems.
        let mut rows = vec![COLUMNS.iter().map(|c| s(c.zh)).collect::<Vec<_>>()];
        rows.extend((0..30_000).map(|i| vec![format!("X{i}"); COLUMNS.len()]));
        let err = parse(Format::Csv, &csv_of(&rows)).unwrap_err();
        assert_eq!(summary(&err), [(0, s(""), "too_many_rows")]);
        // 1,000 bad rows (under the row cap): the first 200 problems and one line saying how
        // many more there are.
        rows.truncate(1_001);
        let err = parse(Format::Csv, &csv_of(&rows)).unwrap_err();
        assert_eq!(err.len(), MAX_PROBLEMS + 1);
        assert_eq!(err.last().unwrap().code, "too_many_problems");
        // An XLSX whose parts declare more than the inflation cap is refused before inflating.
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        let text = "重复内容".repeat(8_000);
        // Distinct texts (the shared-string table keeps one copy of a repeated one): about 38 MB.
        for r in 0..400u32 {
            sheet.write_string(r, 0, format!("{r}{text}")).unwrap();
        }
        let bomb = workbook.save_to_buffer().unwrap();
        assert!(bomb.len() < 2 * 1024 * 1024, "small on the wire: {}", bomb.len());
        let err = parse(Format::Xlsx, &bomb).unwrap_err();
        assert_eq!(summary(&err), [(0, s(""), "file_too_large")]);
    }

    #[test]
    fn csv_cells_that_look_like_formulas_are_neutralised_and_read_back_exactly() {
        let mut items = items()[..3].to_vec();
        items[0].name = "=HYPERLINK(\"http://evil.example\",\"点此\")".into();
        items[1].conditions = "@SUM(1+1)".into();
        items[2].fee = "'=already quoted".into();
        items[2].legal_basis = "-1+2".into();
        let rows = rows_of(&items);
        let name = &rows[1][col("事项名称")];
        assert!(name.starts_with("'="), "{name}");
        assert!(rows[2][col("受理条件")].starts_with("'@"));
        assert_eq!(rows[3][col("收费")], "''=already quoted");
        let starts_formula = |cell: &String| cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
        assert!(!rows.iter().flatten().any(starts_formula), "no cell starts a formula");
        let back = parse(Format::Csv, &export(Format::Csv, &items).unwrap()).unwrap();
        assert_eq!(back, items);
        // An ordinary text starting with a quote is left as it is.
        assert_eq!(to_csv_cell("'引号开头"), "'引号开头");
        assert_eq!(from_csv_cell("'引号开头".into()), "'引号开头");
    }

    #[test]
    fn catalog_json_export_matches_shipped_file() {
        let data = shipped().unwrap();
        let bytes = export_catalog_json(&data.catalog.version, &data.catalog.items).unwrap();
        let again: CatalogFile = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(again, data.catalog);
        let original: Value = serde_json::from_str(RawFiles::SHIPPED.catalog).unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), original);
        // The shipped file itself parses, with its version.
        assert_eq!(parse(Format::Json, RawFiles::SHIPPED.catalog.as_bytes()).unwrap(), data.catalog.items);
    }

    #[test]
    fn csv_reports_every_bad_row_with_row_and_column() {
        let mut rows = rows_of(&items()[..5]);
        rows[1][col("层级")] = s("省级");
        rows[3][col("到现场次数")] = s("两次");
        rows[4][col("申请材料")] = s("公司章程｜applicant｜否\n身份证 applicant");
        let err = parse(Format::Csv, &csv_of(&rows)).unwrap_err();
        assert_eq!(
            summary(&err),
            [
                (2, s("层级"), "bad_level"),
                (4, s("到现场次数"), "not_a_number"),
                (5, s("申请材料"), "material_malformed"),
            ]
        );
        assert!(err[0].reason_zh.contains("市级、区县级、街道级、社区级"), "{}", err[0]);
        assert!(err[0].reason_en.contains("city, district, street, community"), "{:#}", err[0]);
        assert!(err[2].reason_zh.contains("第2条材料"), "{}", err[2]);
    }

    #[test]
    fn xlsx_reports_bad_boolean_and_missing_name() {
        let mut rows = rows_of(&items()[..3]);
        rows[1][col("全程网办")] = s("可以");
        rows[3][col("事项名称")] = String::new();
        let err = parse(Format::Xlsx, &xlsx_of(&rows)).unwrap_err();
        assert_eq!(summary(&err), [(2, s("全程网办"), "bad_boolean"), (4, s("事项名称"), "empty_required")]);
    }

    #[test]
    fn english_headers_and_codes_are_accepted() {
        let items = items();
        let mut rows = rows_of(&items[..10]);
        rows[0] = COLUMNS.iter().map(|c| c.en.to_owned()).collect();
        for row in &mut rows[1..] {
            for (c, labels) in [(LEVEL, LEVEL_LABELS), (AUDIENCE, AUDIENCE_LABELS)] {
                let value = labels.iter().find(|(_, l)| *l == row[c]).unwrap().0;
                row[c] = value.to_owned();
            }
            row[ONLINE] = if row[ONLINE] == "是" { s("TRUE") } else { s("0") };
        }
        // Columns in another order, and the ASCII-bracket spelling of a header.
        for row in &mut rows {
            row.swap(CODE, KEYWORDS);
        }
        rows[0][LEGAL] = s("法定时限(工作日)");
        assert_eq!(parse(Format::Csv, &csv_of(&rows)).unwrap(), items[..10]);
        assert_eq!(parse(Format::Xlsx, &xlsx_of(&rows)).unwrap(), items[..10]);
    }

    #[test]
    fn duplicate_codes_are_reported() {
        let mut rows = rows_of(&items()[..4]);
        // The first two items share a department, so only the code is wrong.
        assert_eq!(rows[1][DEPARTMENT], rows[2][DEPARTMENT]);
        rows[2][CODE] = rows[1][CODE].clone();
        let err = parse(Format::Csv, &csv_of(&rows)).unwrap_err();
        assert_eq!(summary(&err), [(3, s("事项编码"), "duplicate_code")]);
        assert!(err[0].reason_zh.contains("第2行"), "{}", err[0]);

        let mut list = items()[..3].to_vec();
        list[1].code = list[0].code.clone();
        let json = serde_json::to_vec(&list).unwrap();
        assert_eq!(summary(&parse(Format::Json, &json).unwrap_err()), [(2, s("code"), "duplicate_code")]);
    }

    #[test]
    fn garbage_as_xlsx_is_one_clear_problem() {
        for bytes in [&b"this is not a spreadsheet"[..], b"PK\x03\x04garbage", &[0u8; 64]] {
            let err = parse(Format::Xlsx, bytes).unwrap_err();
            assert_eq!(summary(&err), [(0, String::new(), "xlsx_corrupt")], "{err:?}");
            assert!(err[0].to_string().starts_with("文件：不是有效的 Excel"), "{}", err[0]);
        }
    }

    #[test]
    fn header_problems_are_reported_on_row_one() {
        let mut rows = rows_of(&items()[..2]);
        for row in &mut rows {
            row.remove(col("关键词"));
        }
        rows[0][col("收费")] = s("收费标准");
        let err = parse(Format::Csv, &csv_of(&rows)).unwrap_err();
        assert_eq!(
            summary(&err),
            [
                (1, s("收费标准"), "unknown_column"),
                (1, s("收费"), "missing_column"),
                (1, s("关键词"), "missing_column")
            ]
        );
    }

    #[test]
    fn cross_field_rules_are_checked() {
        let items = items();
        let instant = items.iter().position(|i| i.handling == "即办件").unwrap();
        let limited = items.iter().position(|i| i.legal_limit_days.is_some_and(|l| l > 1)).unwrap();
        let committed = items.iter().position(|i| i.commitment).unwrap();
        let picked = [items[instant].clone(), items[limited].clone(), items[committed].clone()];
        let mut rows = rows_of(&picked);
        rows[1][PROMISED] = s("3");
        let legal: u32 = rows[2][LEGAL].parse().unwrap();
        rows[2][PROMISED] = (legal + 1).to_string();
        rows[3][COMMITMENT] = s("否");
        rows[3][DEPARTMENT] = s("JN-XXX");
        let err = parse(Format::Csv, &csv_of(&rows)).unwrap_err();
        let codes: Vec<_> = summary(&err).into_iter().map(|(r, _, c)| (r, c)).collect();
        assert!(codes.contains(&(2, "handling_mismatch")), "{codes:?}");
        assert!(codes.contains(&(3, "promised_exceeds_legal")), "{codes:?}");
        assert!(codes.contains(&(4, "commitment_mismatch")), "{codes:?}");
        assert!(codes.contains(&(4, "code_department_mismatch")), "{codes:?}");
    }

    #[test]
    fn numbers_are_checked() {
        let mut rows = rows_of(&items()[..4]);
        rows[1][LEGAL] = s("-5");
        rows[2][LEGAL] = s("99999");
        rows[3][VISITS] = s("11");
        rows[4][LEGAL] = s("2.5");
        let err = parse(Format::Csv, &csv_of(&rows)).unwrap_err();
        assert_eq!(
            summary(&err),
            [
                (2, s("法定时限（工作日）"), "negative_number"),
                (3, s("法定时限（工作日）"), "number_too_large"),
                (4, s("到现场次数"), "number_too_large"),
                (5, s("法定时限（工作日）"), "not_a_number"),
            ]
        );
    }

    #[test]
    fn material_sources_and_flags_are_checked() {
        let mut rows = rows_of(&items()[..1]);
        rows[1][MATERIALS] = s("申请书|upload|否\n身份证|elicence:ID card|否\n章程|applicant|也许");
        let err = parse(Format::Csv, &csv_of(&rows)).unwrap_err();
        let codes: Vec<_> = err.iter().map(|p| p.code).collect();
        assert_eq!(codes[..3], ["bad_material_source", "bad_material_source", "bad_boolean"], "{err:?}");
    }

    #[test]
    fn json_problems_name_fields_and_item_index() {
        let mut list: Vec<Value> = items()[..3].iter().map(|i| serde_json::to_value(i).unwrap()).collect();
        list[0]["audience"] = Value::from("everyone");
        list[1]["extra"] = Value::from(1);
        list[2]["online"] = Value::from("maybe");
        list.push(Value::from(5));
        let json = serde_json::to_vec(&serde_json::json!({"version": "x", "items": list})).unwrap();
        assert_eq!(
            summary(&parse(Format::Json, &json).unwrap_err()),
            [
                (1, s("audience"), "bad_audience"),
                (2, s("extra"), "unknown_column"),
                (3, s("online"), "bad_boolean"),
                (4, String::new(), "json_shape"),
            ]
        );
        let err = parse(Format::Json, b"{\"items\": [}").unwrap_err();
        assert_eq!(summary(&err), [(0, String::new(), "json_syntax")]);
    }

    #[test]
    fn file_level_problems() {
        let only = |format, bytes: &[u8]| summary(&parse(format, bytes).unwrap_err());
        assert_eq!(only(Format::Csv, b""), [(0, String::new(), "empty_file")]);
        assert_eq!(only(Format::Json, b"\xEF\xBB\xBF \n"), [(0, String::new(), "empty_file")]);
        let header_only = csv_of(&rows_of(&[]));
        assert_eq!(only(Format::Csv, &header_only), [(0, String::new(), "no_items")]);
        assert_eq!(only(Format::Json, b"[]"), [(0, String::new(), "no_items")]);
        assert_eq!(only(Format::Json, b"[\"\xFF\"]"), [(0, String::new(), "invalid_utf8")]);
    }

    #[test]
    fn gbk_header_is_one_problem() {
        // 事项编码,事项名称 in GBK.
        let gbk = b"\xCA\xC2\xCF\xEE\xB1\xE0\xC2\xEB,\xCA\xC2\xCF\xEE\xC3\xFB\xB3\xC6\r\nA,B\r\n";
        let err = parse(Format::Csv, gbk).unwrap_err();
        assert_eq!(summary(&err), [(1, String::new(), "invalid_utf8")]);
        assert!(err[0].reason_zh.contains("CSV UTF-8"), "{}", err[0]);
    }

    #[test]
    fn gbk_csv_reports_invalid_utf8_cells() {
        let mut bytes = csv_of(&rows_of(&items()[..2]));
        let pos = bytes.iter().rposition(|&b| b >= 0x80).unwrap();
        bytes[pos] = 0xFF;
        let err = parse(Format::Csv, &bytes).unwrap_err();
        assert_eq!(err.len(), 1, "{err:?}");
        assert_eq!((err[0].row, err[0].code), (3, "invalid_utf8"));
    }

    #[test]
    fn blank_lines_and_multiline_cells_keep_excel_row_numbers() {
        let mut rows = rows_of(&items()[..3]);
        rows[3][LEVEL] = s("省级");
        let text = String::from_utf8(csv_of(&rows)).unwrap();
        // A blank line after the first item: Excel shows it as row 3, so the bad item is row 5.
        let (first, rest) = text.split_at(text.find(&rows[2][CODE]).unwrap());
        let bytes = format!("{first}\n{rest}");
        assert!(rows[1][MATERIALS].contains('\n'), "the first item spans several lines");
        assert_eq!(
            summary(&parse(Format::Csv, bytes.as_bytes()).unwrap_err()),
            [(5, s("层级"), "bad_level")]
        );
    }

    #[test]
    fn references_are_checked() {
        let items = items();
        let departments: HashSet<String> =
            shipped().unwrap().departments.into_iter().map(|d| d.code).filter(|c| c != "JN-SPJ").collect();
        let elicences: HashSet<String> = shipped()
            .unwrap()
            .elicence_types
            .into_iter()
            .map(|e| e.code)
            .filter(|c| c != "id_card")
            .collect();
        let problems = check_references(&items[..1], &departments, &elicences, Format::Csv.first_row());
        assert_eq!(
            summary(&problems),
            [(2, s("实施部门"), "unknown_department"), (2, s("申请材料"), "unknown_elicence_type")]
        );
        assert!(problems[1].reason_en.contains("id_card"), "{problems:?}");
    }

    #[test]
    fn formats_are_recognised() {
        assert_eq!(Format::from_filename("清单.XLSX"), Some(Format::Xlsx));
        assert_eq!(Format::from_filename("a.b.csv"), Some(Format::Csv));
        assert_eq!(Format::from_filename("catalog.json"), Some(Format::Json));
        assert_eq!(Format::from_filename("old.xls"), None);
        assert_eq!(Format::from_filename("noext"), None);
        assert_eq!(Format::sniff(b"\xEF\xBB\xBF  [1]"), Some(Format::Json));
        assert_eq!(Format::sniff("事项编码,事项名称".as_bytes()), Some(Format::Csv));
        assert_eq!(Format::sniff(b"\xD0\xCF\x11\xE0rest"), None);
        assert_eq!(Format::sniff(b" \n"), None);
        for f in [Format::Json, Format::Csv, Format::Xlsx] {
            assert_eq!(Format::from_filename(&format!("x.{}", f.extension())), Some(f));
            assert!(!f.content_type().is_empty());
        }
    }

    #[test]
    fn csv_export_is_excel_friendly() {
        let bytes = export(Format::Csv, &items()[..1]).unwrap();
        assert!(bytes.starts_with("\u{feff}事项编码,事项名称,实施部门,层级".as_bytes()));
        assert!(String::from_utf8(bytes).unwrap().contains("\r\n"));
        let mut bad = items()[..1].to_vec();
        bad[0].keywords.push(s("a、b"));
        assert!(matches!(export(Format::Csv, &bad), Err(TransferError::Unrepresentable { .. })));
        assert!(export(Format::Json, &bad).is_ok());
    }

    #[test]
    fn display_is_chinese_and_alternate_english() {
        let p = RowProblem {
            row: 3,
            column: s("层级"),
            code: "bad_level",
            reason_zh: s("无效"),
            reason_en: s("invalid"),
        };
        assert_eq!(p.to_string(), "第3行「层级」：无效 [bad_level]");
        assert_eq!(format!("{p:#}"), "row 3, 层级: invalid [bad_level]");
    }

    #[test]
    fn twenty_thousand_rows_with_progress() {
        let base = items();
        let many: Vec<CatalogItem> = (0..20_000)
            .map(|i| {
                let mut item = base[i % base.len()].clone();
                item.code = format!("{}-{i:05}", item.department);
                item
            })
            .collect();
        let bytes = export(Format::Csv, &many).unwrap();
        let mut calls = 0;
        let mut last = (0, 0);
        let parsed = parse_with_progress(Format::Csv, &bytes, &mut |done, total| {
            calls += 1;
            last = (done, total);
        })
        .unwrap();
        assert_eq!(parsed.len(), 20_000);
        assert_eq!((calls, last), (20_000, (20_000, 20_000)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            for format in [Format::Json, Format::Csv, Format::Xlsx] {
                let _ = parse(format, &bytes);
            }
            let mut zip = b"PK\x03\x04".to_vec();
            zip.extend_from_slice(&bytes);
            let _ = parse(Format::Xlsx, &zip);
            let _ = Format::sniff(&bytes);
        }

        #[test]
        fn random_text_cells_never_panic(cells in proptest::collection::vec(".{0,12}", 20)) {
            let mut rows = vec![COLUMNS.iter().map(|c| c.zh.to_owned()).collect::<Vec<_>>()];
            rows.push(cells);
            let _ = parse(Format::Csv, &csv_of(&rows));
        }
    }
}
