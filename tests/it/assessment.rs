//! Department assessment stories over HTTP, on SQLite and PostgreSQL: scorecards computed from
//! the cases as they happen, each figure recomputed by hand from the records its drill-down
//! lists, who may read which, and the monthly report (from the page and from `quanban report
//! monthly`) opened with calamine showing the same figures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::common::{self, TestApp};

stories!(
    scorecards_follow_the_cases_and_each_figure_is_recomputed_from_its_records,
    only_heads_and_the_supervision_office_read_scorecards_and_each_head_only_their_own_records,
    the_monthly_report_holds_the_same_figures_as_the_page,
);

async fn apply(app: &TestApp) -> String {
    app.apply_for_food_licence().await
}

async fn act(app: &TestApp, token: &str, n: &str, action: &str) {
    let (s, b) = app.post_json(&format!("/api/v1/cases/{n}/actions/{action}"), Some(token), json!({})).await;
    assert_eq!(s, 200, "{action} {n}: {b}");
}

async fn decide(app: &TestApp, n: &str) {
    let tokens = [
        app.demo_token("spj.clerk").await,
        app.demo_token("spj.reviewer").await,
        app.demo_token("spj.approver").await,
    ];
    app.drive_to_delivery(&tokens, n).await;
}

fn figure<'a>(assessment: &'a Value, department: &str, indicator: &str) -> &'a Value {
    let card = assessment["scorecards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["department"] == department)
        .unwrap_or_else(|| panic!("{department} in {assessment}"));
    card["figures"].as_array().unwrap().iter().find(|f| f["indicator"] == indicator).unwrap()
}

fn card<'a>(assessment: &'a Value, department: &str) -> &'a Value {
    assessment["scorecards"].as_array().unwrap().iter().find(|c| c["department"] == department).unwrap()
}

/// A stored instant's day in Beijing.
fn beijing_day(stored: &str) -> NaiveDate {
    quanban::platform::clock::beijing_date(quanban::platform::clock::parse_time(stored).unwrap())
}

async fn scorecards_follow_the_cases_and_each_figure_is_recomputed_from_its_records(app: &TestApp) {
    let clerk = app.demo_token("spj.clerk").await;
    let first_day = app.clock().today();
    // Three applications: one decided at once, one left open past its deadline and then
    // decided late, one never accepted.
    let (on_time, late, waiting) = (apply(app).await, apply(app).await, apply(app).await);
    act(app, &clerk, &on_time, "accept").await;
    decide(app, &on_time).await;
    act(app, &clerk, &late, "accept").await;
    let (_, c) = app.get_json(&format!("/api/v1/cases/{late}"), Some(&clerk)).await;
    let due: NaiveDate = c["due_date"].as_str().unwrap().parse().unwrap();
    // Two working days past the due date (whatever weekends and holidays lie between).
    let cal = app.state.calendar().await;
    let after =
        quanban::platform::clock::from_beijing(cal.add_working_days(due, 2).and_hms_opt(10, 0, 0).unwrap());
    app.clock().set(after).unwrap();
    // Signed in after the move (sessions last hours, not weeks).
    let supervisor = app.demo_token("dsj.supervisor").await;
    let period = format!("from={first_day}&to={}", app.clock().today());

    // Still open two days after its due date: overdue, not yet in the on-time figure.
    let (s, a) = app.get_json(&format!("/api/v1/assessment/scorecards?{period}"), Some(&supervisor)).await;
    assert_eq!(s, 200, "{a}");
    let overdue_before = figure(&a, "JN-SPJ", "overdue")["numerator"].as_i64().unwrap();
    let decided_before = figure(&a, "JN-SPJ", "on_time")["denominator"].as_i64().unwrap();
    decide(app, &late).await;
    let (_, a) = app.get_json(&format!("/api/v1/assessment/scorecards?{period}"), Some(&supervisor)).await;
    assert_eq!(figure(&a, "JN-SPJ", "on_time")["denominator"].as_i64().unwrap(), decided_before + 1);
    assert_eq!(
        figure(&a, "JN-SPJ", "overdue")["numerator"].as_i64().unwrap(),
        overdue_before,
        "still overdue once decided late"
    );
    // Every indicator comes with its formula and weight.
    assert_eq!(a["indicators"].as_array().unwrap().len(), 17);
    assert!(
        a["indicators"].as_array().unwrap().iter().all(|i| !i["formula_zh"].as_str().unwrap().is_empty())
    );

    // Each figure equals the sums of its records, and the on-time and overdue figures are
    // recomputed here from each listed case's own dates.
    for indicator in
        ["on_time", "overdue", "acceptance_backlog", "online", "zero_trip", "at_most_once", "days_used"]
    {
        let (s, d) = app
            .get_json(
                &format!("/api/v1/assessment/scorecards/JN-SPJ/{indicator}?{period}"),
                Some(&supervisor),
            )
            .await;
        assert_eq!(s, 200, "{d}");
        let rows = d["rows"].as_array().unwrap();
        let sum = |side: &str| rows.iter().map(|r| r[side].as_i64().unwrap()).sum::<i64>();
        let f = figure(&a, "JN-SPJ", indicator);
        assert_eq!(
            (sum("numerator"), sum("denominator")),
            (f["numerator"].as_i64().unwrap(), f["denominator"].as_i64().unwrap()),
            "{indicator}"
        );
        if indicator == "on_time" || indicator == "overdue" {
            let mut by_hand = 0;
            for r in rows {
                let (_, c) = app
                    .get_json(&format!("/api/v1/cases/{}", r["record"].as_str().unwrap()), Some(&supervisor))
                    .await;
                let due: NaiveDate = c["due_date"].as_str().unwrap().parse().unwrap();
                let in_time = c["decided_at"].as_str().is_some_and(|t| beijing_day(t) <= due);
                by_hand += i64::from(if indicator == "on_time" { in_time } else { !in_time });
            }
            assert_eq!(by_hand, f["numerator"].as_i64().unwrap(), "{indicator} recomputed by hand");
        }
        let flag = |n: &str| rows.iter().find(|r| r["record"] == n).map(|r| r["numerator"].as_i64().unwrap());
        match indicator {
            "on_time" => assert_eq!((flag(&on_time), flag(&late), flag(&waiting)), (Some(1), Some(0), None)),
            "overdue" => assert_eq!((flag(&on_time), flag(&late)), (Some(0), Some(1))),
            "acceptance_backlog" => assert_eq!((flag(&on_time), flag(&waiting)), (Some(0), Some(1))),
            "online" => assert_eq!(flag(&waiting), Some(1)),
            _ => {}
        }
    }
    // Days used: the late case's working days from acceptance to decision, of those promised.
    let (_, d) = app
        .get_json(&format!("/api/v1/assessment/scorecards/JN-SPJ/days_used?{period}"), Some(&supervisor))
        .await;
    let row = d["rows"].as_array().unwrap().iter().find(|r| r["record"] == late.as_str()).unwrap();
    assert_eq!(row["numerator"].as_i64().unwrap(), cal.working_days_between(first_day, app.clock().today()));
    assert!(
        row["numerator"].as_i64().unwrap() > row["denominator"].as_i64().unwrap(),
        "{row}: late uses more than promised"
    );

    // The ranking is the scores in order; ranks are reproducible from the scores.
    let cards = a["scorecards"].as_array().unwrap();
    let scores: Vec<f64> = cards.iter().filter_map(|c| c["score"].as_f64()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    for c in cards.iter().filter(|c| c["score"].is_number()) {
        let better = scores.iter().filter(|s| **s > c["score"].as_f64().unwrap()).count();
        assert_eq!(c["rank"].as_u64().unwrap() as usize, better + 1);
    }
    // A department's score is the weighted mean of its figures with data.
    let spj = card(&a, "JN-SPJ");
    let (sum, weights) = spj["figures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["score"].is_number() && f["weight"].as_f64().unwrap() > 0.0)
        .fold((0.0, 0.0), |(s, w), f| {
            (
                s + f["score"].as_f64().unwrap() * f["weight"].as_f64().unwrap(),
                w + f["weight"].as_f64().unwrap(),
            )
        });
    assert!((spj["score"].as_f64().unwrap() - sum / weights).abs() < 0.01, "{spj}");
}

async fn only_heads_and_the_supervision_office_read_scorecards_and_each_head_only_their_own_records(
    app: &TestApp,
) {
    let head = app.demo_token("spj.head").await;
    let (s, a) = app.get_json("/api/v1/assessment/scorecards", Some(&head)).await;
    assert_eq!(s, 200, "a head sees the ranking: {a}");
    assert!(a["scorecards"].as_array().unwrap().iter().any(|c| c["department"] == "JN-SCJ"));
    let (s, _) = app.get_json("/api/v1/assessment/scorecards/JN-SPJ/on_time", Some(&head)).await;
    assert_eq!(s, 200, "their own department's records");
    let (s, p) = app.get_json("/api/v1/assessment/scorecards/JN-SCJ/on_time", Some(&head)).await;
    assert_eq!(s, 404, "another department's records: {p}");
    let (s, _) = app.get_json("/api/v1/assessment/scorecards/JN-SPJ/speed", Some(&head)).await;
    assert_eq!(s, 404, "no such indicator");
    for who in ["spj.clerk", "13800138001"] {
        let (s, _) = app.get_json("/api/v1/assessment/scorecards", Some(&app.demo_token(who).await)).await;
        assert_eq!(s, 404, "{who} has no ranking to see");
        let (s, _) = app
            .get_json("/api/v1/assessment/scorecards/JN-SPJ/on_time", Some(&app.demo_token(who).await))
            .await;
        assert_eq!(s, 404, "{who}");
    }
    let (s, _) = app.get_json("/api/v1/assessment/scorecards", None).await;
    assert_eq!(s, 401);
    // A wrong period names its field.
    let supervisor = app.demo_token("dsj.supervisor").await;
    for (q, field) in [
        ("month=2026-13", "month"),
        ("from=2026-02-30", "from"),
        ("from=2026-03-01&to=2026-02-01", "to"),
        ("to=2026-02-01", "from"),
    ] {
        let (s, p) = app.get_json(&format!("/api/v1/assessment/scorecards?{q}"), Some(&supervisor)).await;
        assert_eq!(s, 422, "{q}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{q}: {p}");
    }
    // Nobody edits a figure: there is no route that writes one.
    let (s, _) =
        app.post_json("/api/v1/assessment/scorecards", Some(&supervisor), json!({"score": 100})).await;
    assert_eq!(s, 405);
}

fn sheet_rows(book: &[u8], name: &str) -> Vec<Vec<Data>> {
    let mut xlsx: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(book.to_vec())).unwrap();
    let range = xlsx.worksheet_range(name).unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

fn number(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("a number, not {other:?}"),
    }
}

async fn the_monthly_report_holds_the_same_figures_as_the_page(app: &TestApp) {
    let n = apply(app).await;
    act(app, &app.demo_token("spj.clerk").await, &n, "accept").await;
    decide(app, &n).await;
    let month = app.clock().today().format("%Y-%m").to_string();
    let supervisor = app.demo_token("dsj.supervisor").await;
    let (_, a) =
        app.get_json(&format!("/api/v1/assessment/scorecards?month={month}"), Some(&supervisor)).await;
    let spj = card(&a, "JN-SPJ");

    // The same figures on /metrics (read by the host itself here).
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let on_time = figure(&a, "JN-SPJ", "on_time")["value"].as_f64().unwrap();
    let line = format!("quanban_assessment_figure{{department=\"JN-SPJ\",indicator=\"on_time\"}} {on_time}");
    assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    let score =
        format!("quanban_assessment_score{{department=\"JN-SPJ\"}} {}", spj["score"].as_f64().unwrap());
    assert!(metrics.lines().any(|l| l == score), "{score}");

    // The page's download, as a browser gets it.
    let client = common::page_client();
    common::web_login(&client, &app.base, "dsj.supervisor", &app.demo("dsj.supervisor").await.password).await;
    let resp = client.get(app.url(&format!("/assessment/report.xlsx?month={month}"))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let book = resp.bytes().await.unwrap().to_vec();
    let check = |book: &[u8]| {
        let ranking = sheet_rows(book, "排名 Ranking");
        let row = ranking.iter().find(|r| r.get(1).is_some_and(|c| *c == "JN-SPJ")).expect("JN-SPJ ranked");
        assert!((number(&row[3]) - spj["score"].as_f64().unwrap()).abs() < 1e-9, "{row:?} vs {spj}");
        assert_eq!(number(&row[0]) as u64, spj["rank"].as_u64().unwrap());
        let figures = sheet_rows(book, "指标明细 Figures");
        for f in spj["figures"].as_array().unwrap() {
            let code = f["indicator"].as_str().unwrap();
            let r =
                figures.iter().find(|r| r[0] == "JN-SPJ" && r[2] == code).unwrap_or_else(|| panic!("{code}"));
            assert_eq!(number(&r[4]) as i64, f["numerator"].as_i64().unwrap(), "{code}");
            assert_eq!(number(&r[5]) as i64, f["denominator"].as_i64().unwrap(), "{code}");
        }
        assert_eq!(sheet_rows(book, "指标说明 Indicators").len(), 18);
    };
    check(&book);
    // The reform tasks' milestones due by the month's end are in the report, where each stands.
    let (first_due, _) = crate::reform::import_plan(app).await;
    let due_month = first_due.format("%Y-%m").to_string();
    let resp =
        client.get(app.url(&format!("/assessment/report.xlsx?month={due_month}"))).send().await.unwrap();
    let tasks = sheet_rows(&resp.bytes().await.unwrap(), "改革任务 Reform tasks");
    let first = tasks
        .iter()
        .find(|r| r[0] == "RT-01" && number(&r[3]) as i64 == 1)
        .unwrap_or_else(|| panic!("RT-01 milestone 1 in {tasks:?}"));
    assert_eq!(first[5], Data::String(first_due.to_string()));
    assert!(first[6].to_string().starts_with("待报送"), "{first:?}");
    assert!(tasks.iter().all(
        |r| r[5] == Data::String("完成时限 Due".into()) || r[5].to_string() <= format!("{due_month}-31")
    ));
    let resp = client.get(app.url(&format!("/assessment/report.pdf?month={month}"))).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    assert!(resp.bytes().await.unwrap().starts_with(b"%PDF-"));

    // The command line writes the same workbook (and the PDF) from the same database.
    let out = tempfile::tempdir().unwrap();
    let (xlsx_path, pdf_path) = (out.path().join("report.xlsx"), out.path().join("report.pdf"));
    let run = |args: Vec<String>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_quanban"));
        command
            .args(args)
            .env("QUANBAN_DATA", &app.state.config.data_dir)
            .env("QUANBAN_LOG", "warn")
            .env("QUANBAN_CLOCK", quanban::platform::clock::time_text(app.clock().now()));
        match &app.state.config.database_url {
            Some(url) => command.env("QUANBAN_DATABASE_URL", url),
            None => command.env_remove("QUANBAN_DATABASE_URL"),
        };
        command.output().unwrap()
    };
    let done = run(vec![
        "report".into(),
        "monthly".into(),
        "--month".into(),
        month.clone(),
        "--out".into(),
        xlsx_path.display().to_string(),
        "--pdf".into(),
        pdf_path.display().to_string(),
    ]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    check(&std::fs::read(&xlsx_path).unwrap());
    assert!(std::fs::read(&pdf_path).unwrap().starts_with(b"%PDF-"));
    let wrong = run(vec![
        "report".into(),
        "monthly".into(),
        "--month".into(),
        "2026-13".into(),
        "--out".into(),
        xlsx_path.display().to_string(),
    ]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("month"));
}
