#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The city's registers: a register file is loaded into each owning department's dataset, on
//! both databases; a file with bad rows is rejected whole and stores nothing.

mod common;

use common::TestApp;
use quanban::data::domain::{DATASETS, Register, datasets_of};
use quanban::data::import::import;
use quanban::data::store::count;
use quanban::store::query;
use serde_json::json;

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

/// A register file of `n` generated enterprises whose first row is the demo enterprise.
fn register_with(dir: &std::path::Path, code: &str) -> std::path::PathBuf {
    let path = generated(dir, 50, 11);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut cells: Vec<String> = lines[1].split(',').map(String::from).collect();
    cells[0] = code.to_string();
    cells[9] = "1234567.89".into(); // revenue_last_year
    cells[11] = "45678.90".into(); // tax_paid_last_year
    lines[1] = cells.join(",");
    let out = dir.join("with-demo.csv");
    std::fs::write(&out, lines.join("\n") + "\n").unwrap();
    out
}

/// Issue 16's "done when": a department asks for three conditional fields, the owner approves
/// two, reads of the third are refused, a case's material is filled through the exchange, and
/// the enterprise sees both reads on its page; revoking ends the grant.
async fn conditional_data_flows_through_one_exchange_and_its_subject_sees_every_read(app: &TestApp) {
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let today = app.state.clock().today();
    let report = import(
        &app.state.db,
        Register::Enterprises,
        &register_with(dir.path(), &code),
        "test",
        today,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(report.problem_count, 0, "{:?}", report.problems);

    // 发改委 (JN-FGW) handles 惠企政策兑现申请 (JN-FGW-0003), whose materials include the tax record.
    let fgw_data = app.token_for_staff_with("fgw.data", "JN-FGW", &["data_officer"]).await;
    let fgw_clerk = app.token_for_staff_with("fgw.clerk", "JN-FGW", &["window_clerk"]).await;
    let ask = json!({
        "dataset": "tax",
        "fields": ["revenue_last_year", "tax_paid_last_year", "rd_expense_last_year"],
        "purpose": "case_handling",
        "purpose_detail": "核验惠企政策兑现申请人的营业收入和纳税情况",
        "legal_basis": "《优化营商环境条例》第三十五条",
        "items": ["JN-FGW-0003"],
    });
    // A clerk may not ask; a bad request names its fields; the data officer asks.
    let (s, _) = app.post_json("/api/v1/data/requests", Some(&fgw_clerk), ask.clone()).await;
    assert_eq!(s, 403);
    let (s, bad) = app
        .post_json(
            "/api/v1/data/requests",
            Some(&fgw_data),
            json!({"dataset": "tax", "fields": ["name"], "purpose": "gossip"}),
        )
        .await;
    assert_eq!(s, 422, "{bad}");
    let fields: Vec<&str> =
        bad["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(
        fields.contains(&"purpose") && fields.contains(&"fields") && fields.contains(&"legal_basis"),
        "{bad}"
    );
    let (s, request) = app.post_json("/api/v1/data/requests", Some(&fgw_data), ask).await;
    assert_eq!(s, 201, "{request}");
    assert_eq!(request["status"], "pending");
    assert_eq!(request["owner"], "JN-SWJ");
    let due = chrono::NaiveDate::parse_from_str(request["due_on"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let calendar = app.state.calendar().await;
    assert_eq!(calendar.working_days_between(today, due), 10, "10 working days to decide");
    assert_eq!(request["light"], "green");
    let id = request["id"].as_str().unwrap().to_string();

    // Before the decision the conditional fields are refused; unconditional ones are read freely.
    let read = |path: String, token: String| async move { app.get_json(&path, Some(&token)).await };
    let tax_path = |fields: &str, purpose: &str| {
        format!("/api/v1/data/exchange/tax/{code}?fields={fields}&purpose={purpose}")
    };
    let (s, denied) = read(tax_path("revenue_last_year", "case_handling"), fgw_clerk.clone()).await;
    assert_eq!(s, 403, "{denied}");
    assert_eq!(denied["errors"][0]["field"], "fields.revenue_last_year");
    assert_eq!(denied["errors"][0]["code"], "not_granted");
    let (s, open) = read(
        format!("/api/v1/data/exchange/market_entities/{code}?fields=name,district&purpose=case_handling"),
        fgw_clerk.clone(),
    )
    .await;
    assert_eq!(s, 200, "{open}");

    // Only the owner decides; it approves two fields of three.
    let verdicts = json!({"verdicts": [
        {"field": "revenue_last_year", "approve": true},
        {"field": "tax_paid_last_year", "approve": true},
        {"field": "rd_expense_last_year", "approve": false, "reason": "研发费用属于纳税人商业秘密"},
    ]});
    let (s, _) =
        app.post_json(&format!("/api/v1/data/requests/{id}/decide"), Some(&fgw_data), verdicts.clone()).await;
    assert_eq!(s, 403, "the requester cannot grant itself");
    let spj_data = app.demo_token("spj.data").await;
    let (s, _) =
        app.post_json(&format!("/api/v1/data/requests/{id}/decide"), Some(&spj_data), verdicts.clone()).await;
    assert_eq!(s, 404, "another department does not see the request");
    let swj = app.demo_token("swj.data").await;
    let (s, granted) =
        app.post_json(&format!("/api/v1/data/requests/{id}/decide"), Some(&swj), verdicts.clone()).await;
    assert_eq!(s, 200, "{granted}");
    assert_eq!(granted["status"], "granted");
    let (s, again) = app.post_json(&format!("/api/v1/data/requests/{id}/decide"), Some(&swj), verdicts).await;
    assert_eq!((s, again["code"].as_str()), (409, Some("action_not_allowed_in_state")));

    // The two granted fields are read; the third, another purpose, a wrong check character and a
    // citizen are refused, and nothing is returned.
    let (s, record) =
        read(tax_path("revenue_last_year,tax_paid_last_year", "case_handling"), fgw_clerk.clone()).await;
    assert_eq!(s, 200, "{record}");
    assert_eq!(record["fields"]["revenue_last_year"], "1234567.89");
    assert_eq!(record["fields"]["tax_paid_last_year"], "45678.90");
    let (s, third) =
        read(tax_path("revenue_last_year,rd_expense_last_year", "case_handling"), fgw_clerk.clone()).await;
    assert_eq!(s, 403);
    assert_eq!(third["errors"].as_array().unwrap().len(), 1);
    assert_eq!(third["errors"][0]["field"], "fields.rd_expense_last_year");
    assert!(third.get("fields").is_none(), "nothing of the record is returned");
    let (s, other) = read(tax_path("revenue_last_year", "statistics"), fgw_clerk.clone()).await;
    assert_eq!((s, other["errors"][0]["code"].as_str()), (403, Some("purpose_mismatch")));
    let wrong = format!("{}{}", &code[..17], if code.ends_with('0') { '1' } else { '0' });
    let (s, bad_key) = read(
        format!("/api/v1/data/exchange/tax/{wrong}?fields=revenue_last_year&purpose=case_handling"),
        fgw_clerk.clone(),
    )
    .await;
    assert_eq!((s, bad_key["errors"][0]["field"].as_str()), (422, Some("key")));
    let (s, citizen) = read(tax_path("revenue_last_year", "case_handling"), rep.clone()).await;
    assert_eq!((s, citizen["code"].as_str()), (403, Some("exchange_staff_only")));

    // The enterprise applies: the tax record is filled through the exchange, nothing uploaded;
    // the social insurance record (no grant from 人社) stays with the department.
    let (s, case) = app
        .post_json(
            "/api/v1/cases",
            Some(&rep),
            json!({"item_code": "JN-FGW-0003", "enterprise": code, "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}}),
        )
        .await;
    assert_eq!(s, 201, "{case}");
    let number = case["case_number"].as_str().unwrap().to_string();
    let (_, c) = app.get_json(&format!("/api/v1/cases/{number}"), Some(&rep)).await;
    let materials = c["materials"].as_array().unwrap();
    let tax = materials.iter().find(|m| m["source"] == "data:tax_payment_record").unwrap();
    assert_eq!(tax["provided_as"], "data_shared", "{tax}");
    assert_eq!(tax["exchange_data"]["owner"], "JN-SWJ");
    let values = tax["exchange_data"]["values"].as_array().unwrap();
    assert!(values.iter().any(|v| v[0] == "revenue_last_year" && v[2] == "1234567.89 元"), "{values:?}");
    let social = materials.iter().find(|m| m["source"] == "data:social_insurance_record").unwrap();
    assert_eq!(social["provided_as"], "data_pending");

    // The enterprise sees both reads of its tax data (the clerk's and the case's), with the
    // department, the fields, the purpose and the case; another person sees nothing of it.
    let (s, log) = app.get_json(&format!("/api/v1/enterprises/{code}/data-access"), Some(&rep)).await;
    assert_eq!(s, 200, "{log}");
    let tax_reads: Vec<&serde_json::Value> =
        log.as_array().unwrap().iter().filter(|a| a["dataset"] == "tax").collect();
    assert_eq!(tax_reads.len(), 2, "{log}");
    assert!(tax_reads.iter().all(|a| a["department"] == "JN-FGW" && a["purpose"] == "case_handling"));
    assert!(tax_reads.iter().any(|a| a["case_number"] == number.as_str()));
    assert!(tax_reads.iter().all(|a| a["grants"][0] == id.as_str()));
    let (phone, password) = app.register_person("王五", 61).await;
    let stranger = app.token(&phone, &password).await;
    let (s, _) = app.get_json(&format!("/api/v1/enterprises/{code}/data-access"), Some(&stranger)).await;
    assert_eq!(s, 404);
    // Each read is in the enterprise's audit stream, and the chain verifies.
    let trail =
        quanban::audit::store::recent(&app.state.db, &format!("data_access:{code}"), 20).await.unwrap();
    assert_eq!(
        trail.iter().filter(|e| e.action == "data.exchange.read").count(),
        3,
        "market entities + two tax reads"
    );
    assert!(quanban::audit::store::verify(&app.state.db).await.unwrap().is_ok());

    // The owner revokes: reads stop at once, naming why.
    let (s, revoked) = app
        .post_json(
            &format!("/api/v1/data/requests/{id}/revoke"),
            Some(&swj),
            json!({"reason": "核验工作已结束"}),
        )
        .await;
    assert_eq!((s, revoked["status"].as_str()), (200, Some("revoked")));
    let (s, after) = read(tax_path("revenue_last_year", "case_handling"), fgw_clerk.clone()).await;
    assert_eq!((s, after["errors"][0]["code"].as_str()), (403, Some("grant_revoked")));
}

stories!(
    a_register_file_loads_into_each_department_dataset,
    a_file_with_bad_rows_is_rejected_whole,
    conditional_data_flows_through_one_exchange_and_its_subject_sees_every_read
);
