#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The city's registers: a register file is loaded into each owning department's dataset, on
//! both databases; a file with bad rows is rejected whole and stores nothing.

mod common;

use common::TestApp;
use quanban::data::domain::{DATASETS, Register, datasets_of};
use quanban::data::import::import;
use quanban::data::store::count;
use quanban::store::query;

fn generated(dir: &std::path::Path, n: u64, seed: u64) -> std::path::PathBuf {
    let path = dir.join(format!("register-{n}-{seed}.csv"));
    let mut file = std::fs::File::create(&path).unwrap();
    quanban::data::generate::enterprises(n, seed, &mut file, &mut |_| {}).unwrap();
    path
}

async fn imports(app: &TestApp) -> i64 {
    query("SELECT COUNT(*) AS n FROM data_imports")
        .read_one(&app.state.db)
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

async fn a_register_file_loads_into_each_department_dataset(app: &TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let file = generated(dir.path(), 12_345, 7);
    let today = app.state.clock().today();
    let mut seen = Vec::new();
    let report = import(&app.state.db, Register::Enterprises, &file, "test", today, &mut |_, n| seen.push(n))
        .await
        .unwrap();
    assert_eq!((report.rows, report.problem_count), (12_345, 0), "{:?}", report.problems);
    assert!(report.import_id.is_some());
    assert!(seen.contains(&12_345));
    for d in datasets_of(Register::Enterprises) {
        assert_eq!(count(&app.state.db, d).await.unwrap(), 12_345, "{}", d.id);
    }
    // Money arrives as exact fen, flags as 0/1, blanks as null.
    let row = query(
        "SELECT t.revenue_last_year, m.name, i.srdi_since, i.srdi_level FROM data_tax t \
         JOIN data_market_entities m ON m.uscc = t.uscc JOIN data_industry i ON i.uscc = t.uscc \
         WHERE i.srdi_level = 'none' ORDER BY t.uscc LIMIT 1",
    )
    .read_one(&app.state.db)
    .await
    .unwrap();
    assert!(row.try_get::<Option<i64>, _>("revenue_last_year").unwrap().is_some());
    assert_eq!(row.try_get::<Option<String>, _>("srdi_since").unwrap(), None);
    assert!(row.try_get::<String, _>("name").unwrap().starts_with("济南"));

    // A batch for an import that has finished loses its claim and writes nothing.
    let other = generated(dir.path(), 3, 99);
    let text = std::fs::read_to_string(&other).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let layout = quanban::data::domain::layout(Register::Enterprises, &header, today).unwrap();
    let rows: Vec<_> = lines
        .enumerate()
        .map(|(i, l)| {
            quanban::data::domain::check_row(&layout, i as u64 + 1, &l.split(',').collect::<Vec<_>>())
                .unwrap()
        })
        .collect();
    let late = quanban::data::store::load_batch(
        &app.state.db,
        report.import_id.clone().unwrap(),
        Register::Enterprises,
        1,
        rows,
        "test".into(),
    )
    .await;
    assert!(matches!(late, Err(quanban::store::StoreError::Conflict)), "{late:?}");
    assert_eq!(count(&app.state.db, &DATASETS[1]).await.unwrap(), 12_345, "nothing of the lost batch stays");

    // Loading the same file again replaces the rows (one record per enterprise), as a second import.
    let again =
        import(&app.state.db, Register::Enterprises, &file, "test", today, &mut |_, _| {}).await.unwrap();
    assert_eq!(again.problem_count, 0);
    assert_eq!(count(&app.state.db, &DATASETS[0]).await.unwrap(), 12_345);
    assert_eq!(imports(app).await, 2);
    // Each batch is in the audit log.
    let entries: i64 = query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'data.import.rows'")
        .read_one(&app.state.db)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(entries, 2 * 3, "12,345 rows are three batches of at most 5,000");
}

async fn a_file_with_bad_rows_is_rejected_whole(app: &TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let good = generated(dir.path(), 40, 3);
    let text = std::fs::read_to_string(&good).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // Row 3: a credit code with a wrong check character; row 10: a district outside Jinan and
    // an amount with three decimals; row 20 repeats row 1's key.
    let mut cells: Vec<String> = lines[3].split(',').map(String::from).collect();
    let code = &cells[0];
    let wrong = if code.ends_with('0') { '1' } else { '0' };
    cells[0] = format!("{}{wrong}", &code[..17]);
    lines[3] = cells.join(",");
    let mut cells: Vec<String> = lines[10].split(',').map(String::from).collect();
    cells[2] = "朝阳区".into();
    cells[9] = "12.345".into();
    lines[10] = cells.join(",");
    let first_key = lines[1].split(',').next().unwrap().to_string();
    let mut cells: Vec<String> = lines[20].split(',').map(String::from).collect();
    cells[0] = first_key;
    lines[20] = cells.join(",");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();

    let today = app.state.clock().today();
    let report =
        import(&app.state.db, Register::Enterprises, &bad, "test", today, &mut |_, _| {}).await.unwrap();
    let found: Vec<(u64, &str, &str)> =
        report.problems.iter().map(|p| (p.row, p.column.as_str(), p.code)).collect();
    assert_eq!(
        found,
        [
            (3, "uscc", "credit_code_check_digit"),
            (10, "district", "not_district"),
            (10, "revenue_last_year", "not_amount"),
            (20, "uscc", "duplicate_key"),
        ]
    );
    assert!(report.problems.iter().all(|p| !p.message_zh.is_empty() && !p.message_en.is_empty()));
    assert_eq!(report.import_id, None);
    for d in datasets_of(Register::Enterprises) {
        assert_eq!(count(&app.state.db, d).await.unwrap(), 0, "nothing stored in {}", d.id);
    }
    assert_eq!(imports(app).await, 0);

    // A header that is not the register's is refused before any row is read.
    let odd = dir.path().join("odd.csv");
    std::fs::write(&odd, "uscc,name,colour\n").unwrap();
    let report =
        import(&app.state.db, Register::Enterprises, &odd, "test", today, &mut |_, _| {}).await.unwrap();
    assert!(report.problems.iter().any(|p| p.row == 0 && p.column == "colour" && p.code == "unknown_column"));
    assert!(report.problems.iter().any(|p| p.column == "district" && p.code == "missing_column"));
}

stories!(a_register_file_loads_into_each_department_dataset, a_file_with_bad_rows_is_rejected_whole);
