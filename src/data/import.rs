//! `quanban import register FILE`: a register file is read twice, streaming (memory stays bounded
//! whatever its size). The first pass checks every row; a file with any bad row is rejected whole,
//! every problem named by row and column, and nothing is stored. The second pass loads the rows
//! in batches, each batch one transaction with its audit entry.

use std::collections::HashSet;
use std::path::Path;

use chrono::NaiveDate;

use super::domain::{CheckedRow, Problem, Register, check_row, layout};
use super::store;
use crate::store::Db;

/// Rows per load transaction.
const BATCH: usize = 5_000;
/// Problems listed in full (all are counted).
const LISTED: usize = 1_000;

/// Where an import is, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Checking,
    Loading,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Report {
    /// Data rows in the file.
    pub rows: u64,
    /// The first problems (at most 1,000); empty when the file was loaded.
    pub problems: Vec<Problem>,
    /// Every problem found.
    pub problem_count: u64,
    /// The import's id when the rows were loaded.
    pub import_id: Option<String>,
}

fn reader(path: &Path) -> anyhow::Result<csv::Reader<std::io::BufReader<std::fs::File>>> {
    let file = std::fs::File::open(path)?;
    Ok(csv::ReaderBuilder::new().flexible(true).from_reader(std::io::BufReader::with_capacity(1 << 20, file)))
}

fn header(r: &mut csv::Reader<std::io::BufReader<std::fs::File>>) -> anyhow::Result<Vec<String>> {
    Ok(r.headers()?.iter().map(|h| h.trim_start_matches('\u{feff}').trim().to_string()).collect())
}

/// Which register a file holds, by its header: the population register is keyed by `id_number`.
pub fn register_of(path: &Path) -> anyhow::Result<Register> {
    let mut r = reader(path)?;
    let names = header(&mut r)?;
    Ok(if names.iter().any(|n| n == "id_number") { Register::People } else { Register::Enterprises })
}

/// Checks, then loads, a register file. `progress` hears the phase and the rows done so far.
pub async fn import(
    db: &Db,
    register: Register,
    path: &Path,
    actor: &str,
    today: NaiveDate,
    progress: &mut (dyn FnMut(Phase, u64) + Send),
) -> anyhow::Result<Report> {
    let mut report = Report::default();
    // Pass 1: check everything.
    let mut r = reader(path)?;
    let names = header(&mut r)?;
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let layout = match layout(register, &names, today) {
        Ok(l) => l,
        Err(problems) => {
            report.problem_count = problems.len() as u64;
            report.problems = problems;
            return Ok(report);
        }
    };
    let mut keys: HashSet<String> = HashSet::new();
    let mut record = csv::StringRecord::new();
    let mut row = 0u64;
    let note = |report: &mut Report, p: Problem| {
        report.problem_count += 1;
        if report.problems.len() < LISTED {
            report.problems.push(p);
        }
    };
    loop {
        match r.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let p = Problem {
                    row: row + 1,
                    column: String::new(),
                    code: "unreadable",
                    message_zh: format!("该行无法读取（须为UTF-8编码的CSV）：{e}"),
                    message_en: format!("The row cannot be read (the file must be UTF-8 CSV): {e}"),
                };
                note(&mut report, p);
                break;
            }
        }
        row += 1;
        let cells: Vec<&str> = record.iter().collect();
        match check_row(&layout, row, &cells) {
            Ok(checked) => {
                if !keys.insert(checked.key.clone()) {
                    let p = Problem {
                        row,
                        column: layout.columns[0].0.key.to_string(),
                        code: "duplicate_key",
                        message_zh: format!("“{}”在文件中出现不止一次", checked.key),
                        message_en: format!("{} appears more than once in the file", checked.key),
                    };
                    note(&mut report, p);
                }
            }
            Err(problems) => {
                for p in problems {
                    note(&mut report, p);
                }
            }
        }
        if row.is_multiple_of(10_000) {
            progress(Phase::Checking, row);
        }
    }
    drop(keys);
    report.rows = row;
    progress(Phase::Checking, row);
    if report.problem_count > 0 || row == 0 {
        if row == 0 && report.problem_count == 0 {
            report.problem_count = 1;
            report.problems.push(Problem {
                row: 0,
                column: String::new(),
                code: "empty",
                message_zh: "文件没有数据行".into(),
                message_en: "The file has no data rows".into(),
            });
        }
        return Ok(report);
    }

    // Pass 2: load, batch by batch.
    let id = crate::platform::tokens::uuid_v4();
    let file_name = path.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default();
    store::start_import(db, id.clone(), register, file_name, row, actor.to_string()).await?;
    let mut r = reader(path)?;
    header(&mut r)?;
    let mut batch: Vec<CheckedRow> = Vec::with_capacity(BATCH);
    let mut done = 0u64;
    while r.read_record(&mut record)? {
        let cells: Vec<&str> = record.iter().collect();
        let checked = check_row(&layout, done + batch.len() as u64 + 1, &cells)
            .map_err(|p| anyhow::anyhow!("the file changed while it was imported: {p:?}"))?;
        batch.push(checked);
        if batch.len() == BATCH {
            let rows = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            let n = rows.len() as u64;
            store::load_batch(db, id.clone(), register, done + 1, rows, actor.to_string()).await?;
            done += n;
            progress(Phase::Loading, done);
        }
    }
    if !batch.is_empty() {
        let n = batch.len() as u64;
        store::load_batch(db, id.clone(), register, done + 1, batch, actor.to_string()).await?;
        done += n;
    }
    anyhow::ensure!(
        done == row,
        "the file changed while it was imported ({row} rows checked, {done} loaded)"
    );
    store::finish_import(db, id.clone(), actor.to_string()).await?;
    progress(Phase::Loading, done);
    report.import_id = Some(id);
    Ok(report)
}
