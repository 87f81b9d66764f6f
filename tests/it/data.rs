#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The city's registers: a register file is loaded into each owning department's dataset, on
//! both databases; a file with bad rows is rejected whole and stores nothing.

use crate::common;

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

    // A batch read holds each field of every enterprise, aligned with the keys, the same values a
    // single read gives; a dataset missing a record leaves it null there.
    let pick = |id: &str, names: &[&str]| {
        let d = quanban::data::domain::dataset(id).unwrap();
        (d, d.fields.iter().filter(|f| names.contains(&f.name)).collect::<Vec<_>>())
    };
    let wanted = vec![
        pick("market_entities", &["size", "district"]),
        pick("tax", &["revenue_last_year"]),
        pick("industry", &["srdi_since"]),
    ];
    let gone: String = query("SELECT uscc FROM data_tax ORDER BY uscc LIMIT 1")
        .read_one(&app.state.db)
        .await
        .unwrap()
        .try_get("uscc")
        .unwrap();
    app.state
        .db
        .write({
            let gone = gone.clone();
            move |tx| {
                Ok(query("DELETE FROM data_tax WHERE uscc = $1").bind(&gone).execute(tx)?.rows_affected())
            }
        })
        .await
        .unwrap();
    let columns = quanban::data::store::read_columns(&app.state.db, &wanted).await.unwrap();
    assert_eq!(columns.keys.len(), 12_345);
    assert_eq!(columns.columns.len(), 4);
    assert!(columns.columns.iter().all(|(_, _, c)| c.len() == 12_345));
    use quanban::data::store::Column;
    let col = |name: &str| &columns.columns.iter().find(|(_, f, _)| *f == name).unwrap().2;
    for i in [0usize, 1, 77, 12_344] {
        let key = columns.keys.get(i).to_string();
        let row = query("SELECT m.size, m.district, t.revenue_last_year, i.srdi_since FROM data_market_entities m \
             LEFT JOIN data_tax t ON t.uscc = m.uscc JOIN data_industry i ON i.uscc = m.uscc WHERE m.uscc = $1")
            .bind(&key)
            .read_one(&app.state.db)
            .await
            .unwrap();
        let Column::Code { codes, dictionary } = col("size") else { panic!("size is coded") };
        assert_eq!(dictionary[usize::from(codes[i])], row.try_get::<String, _>("size").unwrap());
        assert!(matches!(col("revenue_last_year"), Column::Money { .. }), "money is fen");
        let revenue: Option<i64> = row.try_get("revenue_last_year").unwrap();
        assert_eq!(col("revenue_last_year").number(i), revenue, "{key}");
        assert_eq!(key == gone, revenue.is_none());
        assert!(matches!(col("srdi_since"), Column::Int { .. }), "dates are days");
        let since: Option<String> = row.try_get("srdi_since").unwrap();
        let days = since.map(|s| {
            (chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").unwrap()
                - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
            .num_days()
        });
        assert_eq!(col("srdi_since").number(i), days);
        assert_eq!(col("size").text(i), Some(row.try_get::<String, _>("size").unwrap().as_str()));
    }
    let gone_at = (0..columns.keys.len()).find(|i| columns.keys.get(*i) == gone).unwrap();
    assert_eq!(col("revenue_last_year").number(gone_at), None, "the deleted tax record reads as null");
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
    // 发改委 holds the demo's grants for policy benefits (its policy service), not for cases.
    assert_eq!(denied["errors"][0]["code"], "purpose_mismatch");
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

/// A person's side: the population register keeps ID numbers sealed; a department with a grant
/// fills a material from it, reads it for the case, evaluates it in a batch, and the person sees
/// all three reads on their own page (and nobody else's).
async fn a_person_sees_who_read_their_population_record(app: &TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    let mut file = std::fs::File::create(&path).unwrap();
    quanban::data::generate::people(30, 5, &mut file, &mut |_| {}).unwrap();
    drop(file);
    // The demo citizen 张伟 is the first row.
    let zhang = quanban::demo::id_number("37010219900307123").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let other_id = lines[2].split(',').next().unwrap().to_string();
    lines[1] = format!("{zhang},张伟,历下区,1990-03-07,married,1,false,false");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    assert_eq!(quanban::data::import::register_of(&path).unwrap(), Register::People);
    let today = app.state.clock().today();
    let report = import(&app.state.db, Register::People, &path, "test", today, &mut |_, _| {}).await.unwrap();
    assert_eq!((report.rows, report.problem_count), (30, 0), "{:?}", report.problems);
    // Sealed at rest: neither the number nor its digest in clear is the number.
    let stored: Vec<String> = query("SELECT id_number FROM data_population")
        .read_all(&app.state.db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("id_number").unwrap())
        .collect();
    assert_eq!(stored.len(), 30);
    assert!(stored.iter().all(|s| !s.contains(&zhang[..6]) && !s.contains("1990")), "ID numbers are sealed");

    // 卫健委 asks 公安局 for three fields for 育儿补贴 (JN-WJW-0008); all are granted.
    let wjw_data = app.token_for_staff_with("wjw.data", "JN-WJW", &["data_officer"]).await;
    let wjw_clerk = app.token_for_staff_with("wjw.clerk", "JN-WJW", &["window_clerk"]).await;
    let gaj_data = app.token_for_staff_with("gaj.data", "JN-GAJ", &["data_officer"]).await;
    let (s, request) = app
        .post_json(
            "/api/v1/data/requests",
            Some(&wjw_data),
            json!({"dataset": "population", "fields": ["name", "household_district", "birth_date"],
                   "purpose": "case_handling", "purpose_detail": "核验育儿补贴申请人户籍", "legal_basis": "《山东省育儿补贴实施办法》",
                   "items": ["JN-WJW-0008"]}),
        )
        .await;
    assert_eq!(s, 201, "{request}");
    let id = request["id"].as_str().unwrap();
    let verdicts: Vec<serde_json::Value> = ["name", "household_district", "birth_date"]
        .iter()
        .map(|f| json!({"field": f, "approve": true}))
        .collect();
    let (s, granted) = app
        .post_json(
            &format!("/api/v1/data/requests/{id}/decide"),
            Some(&gaj_data),
            json!({"verdicts": verdicts}),
        )
        .await;
    assert_eq!((s, granted["status"].as_str()), (200, Some("granted")), "{granted}");

    // 张伟 applies: the household record is filled from the register.
    let citizen = app.demo_token("13800138001").await;
    let (s, case) = app
        .post_json(
            "/api/v1/cases",
            Some(&citizen),
            json!({"item_code": "JN-WJW-0008", "form": {"contact_name": "张伟", "contact_phone": "13800138001"}}),
        )
        .await;
    assert_eq!(s, 201, "{case}");
    let number = case["case_number"].as_str().unwrap().to_string();
    let (_, c) = app.get_json(&format!("/api/v1/cases/{number}"), Some(&citizen)).await;
    let hukou = c["materials"].as_array().unwrap().iter().find(|m| m["source"] == "data:hukou_info").unwrap();
    assert_eq!(hukou["provided_as"], "data_shared", "{hukou}");
    assert!(hukou["exchange_data"]["values"].as_array().unwrap().iter().any(|v| v[2] == "历下区"));

    // The clerk reads for the case; reading someone else's record against this case is refused.
    let path = |key: &str| {
        format!(
            "/api/v1/data/exchange/population/{key}?fields=name,birth_date&purpose=case_handling&case={number}"
        )
    };
    let (s, record) = app.get_json(&path(&zhang), Some(&wjw_clerk)).await;
    assert_eq!(s, 200, "{record}");
    assert_eq!(record["fields"]["name"], "张伟");
    assert_eq!(record["fields"]["birth_date"], "1990-03-07");
    let (s, mismatch) = app.get_json(&path(&other_id), Some(&wjw_clerk)).await;
    assert_eq!((s, mismatch["code"].as_str()), (403, Some("case_subject_mismatch")), "{mismatch}");

    // A batch evaluation over the whole register, logged once.
    let reader = quanban::data::service::Reader {
        department: "JN-WJW".into(),
        actor: "job:test".into(),
        actor_name: "育儿补贴资格测算".into(),
    };
    let d = quanban::data::domain::dataset("population").unwrap();
    let fields: Vec<_> = d.fields.iter().filter(|f| f.name == "birth_date").collect();
    let columns = quanban::data::service::read_batch(
        &app.state,
        &reader,
        &[(d, fields)],
        quanban::data::sharing::Purpose::CaseHandling,
        Some("育儿补贴"),
    )
    .await
    .unwrap();
    assert_eq!(columns.keys.len(), 30);
    assert_eq!(columns.columns.len(), 1);
    // Not-shared fields stay out of any batch.
    let secret: Vec<_> = d.fields.iter().filter(|f| f.name == "minimum_living").collect();
    let refused = quanban::data::service::read_batch(
        &app.state,
        &reader,
        &[(d, secret)],
        quanban::data::sharing::Purpose::CaseHandling,
        None,
    )
    .await;
    assert!(refused.is_err());

    // 张伟 sees the three reads; the access log holds no ID number.
    let (s, mine) = app.get_json("/api/v1/me/data-access", Some(&citizen)).await;
    assert_eq!(s, 200, "{mine}");
    let reads = mine.as_array().unwrap();
    assert_eq!(reads.len(), 3, "{mine}");
    assert!(reads.iter().all(|a| a["department"] == "JN-WJW"));
    assert_eq!(reads.iter().filter(|a| a["batch"] == true).count(), 1);
    assert_eq!(reads.iter().filter(|a| a["case_number"] == number.as_str()).count(), 2);
    let logged: Vec<String> = query("SELECT COALESCE(subject, '') AS s FROM data_access_log")
        .read_all(&app.state.db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("s").unwrap())
        .collect();
    assert!(logged.iter().all(|s| !s.contains(&zhang)), "subjects are digests, never ID numbers");
    // Someone not in the register was read by nobody.
    let (phone, password) = app.register_person("李雷", 62).await;
    let stranger = app.token(&phone, &password).await;
    let (_, theirs) = app.get_json("/api/v1/me/data-access", Some(&stranger)).await;
    assert_eq!(theirs.as_array().unwrap().len(), 0, "not in the register: no reads");
}

stories!(
    a_person_sees_who_read_their_population_record,
    a_register_file_loads_into_each_department_dataset,
    a_file_with_bad_rows_is_rejected_whole,
    conditional_data_flows_through_one_exchange_and_its_subject_sees_every_read
);
