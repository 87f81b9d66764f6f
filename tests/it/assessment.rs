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
    the_day_sums_follow_every_change_however_it_is_made,
    the_supervision_office_comments_on_a_scorecard_and_only_its_head_reads_it,
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

/// The indicators summed from per-day rows (`assessment::rollup`).
const ROLLED_UP: [&str; 12] = [
    "on_time",
    "overdue",
    "acceptance_backlog",
    "online",
    "zero_trip",
    "at_most_once",
    "days_used",
    "good_rate",
    "rectified_on_time",
    "complaint_response",
    "complaint_resolution",
    "complaint_satisfaction",
];

/// Every rolled-up figure of `departments` (every department: `None`) equals the sums of the
/// records its drill-down lists, which are read from the records themselves. Returns the
/// scorecards.
async fn figures_match_records(app: &TestApp, period: &str, departments: Option<&[&str]>) -> Value {
    let supervisor = app.demo_token("dsj.supervisor").await;
    let (s, a) = app.get_json(&format!("/api/v1/assessment/scorecards?{period}"), Some(&supervisor)).await;
    assert_eq!(s, 200, "{a}");
    let all: Vec<String> = a["scorecards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["department"].as_str().unwrap().to_string())
        .collect();
    let checked: Vec<String> = match departments {
        Some(d) => d.iter().map(|d| d.to_string()).collect(),
        None => all,
    };
    for department in &checked {
        for indicator in ROLLED_UP {
            let (s, d) = app
                .get_json(
                    &format!("/api/v1/assessment/scorecards/{department}/{indicator}?{period}"),
                    Some(&supervisor),
                )
                .await;
            assert_eq!(s, 200, "{d}");
            let rows = d["rows"].as_array().unwrap();
            let sum = |side: &str| rows.iter().map(|r| r[side].as_i64().unwrap()).sum::<i64>();
            let f = figure(&a, department, indicator);
            assert_eq!(
                (f["numerator"].as_i64().unwrap(), f["denominator"].as_i64().unwrap()),
                (sum("numerator"), sum("denominator")),
                "{department} {indicator}"
            );
        }
    }
    a
}

/// A statement run on the database directly, as an operator with a SQL console would.
async fn exec(app: &TestApp, sql: &str, binds: &[&str]) {
    let (text, binds): (String, Vec<String>) =
        (sql.to_string(), binds.iter().map(|b| b.to_string()).collect());
    app.state
        .db
        .write(move |tx| {
            let mut q = quanban::store::query(text);
            for b in binds {
                q = q.bind(b);
            }
            q.execute(tx)?;
            Ok(())
        })
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn the_day_sums_follow_every_change_however_it_is_made(app: &TestApp) {
    let clerk = app.demo_token("spj.clerk").await;
    let first_day = app.clock().today();
    // Three applications: one accepted, left three working days and decided; one accepted and
    // left open; one never accepted. A complaint; a bad review of the decided case.
    let (decided, open, waiting) = (apply(app).await, apply(app).await, apply(app).await);
    act(app, &clerk, &decided, "accept").await;
    act(app, &clerk, &open, "accept").await;
    let cal = app.state.calendar().await;
    let between = cal.add_working_days(first_day, 1);
    let later = cal.add_working_days(first_day, 3);
    app.clock().set(quanban::platform::clock::from_beijing(later.and_hms_opt(17, 30, 0).unwrap())).unwrap();
    decide(app, &decided).await;
    let citizen = app.demo_token("13800138001").await;
    let (s, b) = app
        .post_json(
            "/api/v1/complaints",
            Some(&citizen),
            json!({"description": "办理食品经营许可时窗口人员态度差，要求整改", "lat": 36.6636, "lon": 117.0227}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app
        .post_json(
            "/api/v1/ratings",
            Some(&citizen),
            json!({"case_number": decided, "score": 1, "comment": "等了三个工作日，材料说明不清楚"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let rating = b["id"].as_str().unwrap().to_string();
    assert!(b["rectification"].is_object(), "a bad review opens a rectification: {b}");
    let period = format!("from={first_day}&to={}", app.clock().today());

    // Through the platform: every figure of every department equals its records.
    let a = figures_match_records(app, &period, None).await;
    let spj = |a: &Value, i: &str| {
        let f = figure(a, "JN-SPJ", i);
        (f["numerator"].as_i64().unwrap(), f["denominator"].as_i64().unwrap())
    };
    let used_before = spj(&a, "days_used");
    assert_eq!(used_before.0, 3, "three working days from acceptance to decision");
    let backlog = spj(&a, "acceptance_backlog");
    assert_eq!(backlog, (1, 3), "{waiting} waits for acceptance");
    assert_eq!(spj(&a, "good_rate"), (0, 1));

    // Changed in the database by hand, past every write path: the figures follow all the same.
    exec(app, "UPDATE cases SET department = 'JN-SCJ' WHERE number = $1", &[&open]).await;
    exec(app, "UPDATE cases SET state = 'accepted' WHERE number = $1", &[&waiting]).await;
    exec(app, "UPDATE complaints SET status = 'merged'", &[]).await;
    exec(
        app,
        "UPDATE rectifications SET rectified_at = $1, on_time = 1 WHERE rating_id = $2",
        &[&app.state.db.now_text(), &rating],
    )
    .await;
    let a = figures_match_records(app, &period, None).await;
    assert_eq!(spj(&a, "acceptance_backlog"), (0, 2), "one moved away, one accepted");
    let scj = figure(&a, "JN-SCJ", "acceptance_backlog");
    assert_eq!(scj["denominator"].as_i64().unwrap(), 1, "{open} now counts where it went");
    assert_eq!(spj(&a, "rectified_on_time"), (1, 1));
    exec(app, "UPDATE ratings SET excluded = 1", &[]).await;
    let a = figures_match_records(app, &period, Some(&["JN-SPJ"])).await;
    assert_eq!(spj(&a, "good_rate"), (0, 0), "an excluded review is not counted");

    // A working day between acceptance and decision becomes a holiday: the days used are
    // recomputed with the new calendar.
    let admin = app.demo_token("dsj.admin").await;
    let year = chrono::Datelike::year(&between);
    // The year's published arrangement stays as it is, with one more day off.
    let (mut off, work) = cal.year(year).map(|y| (y.off.clone(), y.work.clone())).unwrap_or_default();
    off.push(between);
    let (s, b) = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/calendar/years/{year}"),
            Some(&admin),
            json!({"off": off, "work": work}),
        )
        .await;
    assert_eq!(s, 204, "{b}");
    let a = figures_match_records(app, &period, None).await;
    assert_eq!(spj(&a, "days_used").0, used_before.0 - 1, "{between} is no longer a working day");
}

async fn the_supervision_office_comments_on_a_scorecard_and_only_its_head_reads_it(app: &TestApp) {
    let supervisor = app.demo_token("dsj.supervisor").await;
    let path = "/api/v1/assessment/scorecards/JN-SPJ/comments";
    let month = app.clock().today().format("%Y-%m").to_string();
    let (s, c) = app
        .post_json(
            path,
            Some(&supervisor),
            json!({"body": "按时办结率低于全市平均，请分析原因并于月底前报送整改措施", "indicator": "on_time", "month": month}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["indicator"], "on_time");
    assert_eq!(c["department"], "JN-SPJ");
    assert!(c["period_from"].as_str().unwrap().starts_with(&month), "{c}");
    assert!(!c["author_name"].as_str().unwrap().is_empty());
    assert_eq!(app.audit_count("assessment.commented").await, 1);

    // Its head reads it; nobody else in the departments does, and nobody but the office writes.
    let head = app.demo_token("spj.head").await;
    let (s, list) = app.get_json(path, Some(&head)).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], c["id"]);
    let (s, _) = app.post_json(path, Some(&head), json!({"body": "我们自己写一条"})).await;
    assert_eq!(s, 403, "a head does not comment on a scorecard");
    for who in ["rsj.head", "spj.clerk", "13800138001"] {
        let t = app.demo_token(who).await;
        assert_eq!(app.get_json(path, Some(&t)).await.0, 404, "{who} reads");
        assert_eq!(app.post_json(path, Some(&t), json!({"body": "意见"})).await.0, 404, "{who} writes");
    }
    assert_eq!(app.get_json(path, None).await.0, 401);
    let (s, _) = app
        .post_json("/api/v1/assessment/scorecards/JN-NOPE/comments", Some(&supervisor), json!({"body": "x"}))
        .await;
    assert_eq!(s, 404);

    // Wrong input: every field named, nothing kept.
    let (s, b) = app.post_json(path, Some(&supervisor), json!({"body": "  ", "indicator": "speed"})).await;
    assert_eq!(s, 422, "{b}");
    let fields: Vec<&str> =
        b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["body", "indicator"], "{b}");
    let (s, b) = app.post_json(path, Some(&supervisor), json!({"body": "意见", "month": "2026-13"})).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["field"], "month");
    let (_, list) = app.get_json(path, Some(&head)).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "nothing kept from a refused comment");
    assert_eq!(app.audit_count("assessment.commented").await, 1);

    // On the page: the office's form, post/redirect/get; a blank comment names the field and
    // keeps the page; the head sees the comments and no form.
    let office = common::page_client();
    common::web_login(&office, &app.base, "dsj.supervisor", &app.demo("dsj.supervisor").await.password).await;
    let html = office.get(app.url("/assessment/JN-SPJ")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"comment-form\""));
    let csrf = common::csrf_of(&html);
    let today = app.clock().today().to_string();
    let r = office
        .post(app.url("/assessment/JN-SPJ/comments"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("body", "网办率提升明显"),
            ("indicator", "online"),
            ("from", &today),
            ("to", &today),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let back = r.headers()["location"].to_str().unwrap().to_string();
    assert!(back.starts_with("/assessment/JN-SPJ?"), "{back}");
    let r = office
        .post(app.url("/assessment/JN-SPJ/comments"))
        .form(&[("csrf", csrf.as_str()), ("body", ""), ("indicator", ""), ("from", &today), ("to", &today)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"#body\""), "the error links to the field");
    let chief = common::page_client();
    common::web_login(&chief, &app.base, "spj.head", &app.demo("spj.head").await.password).await;
    let html = chief.get(app.url("/assessment/JN-SPJ")).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("网办率提升明显") && html.contains("按时办结率低于全市平均"),
        "both comments shown"
    );
    assert!(!html.contains("id=\"comment-form\""), "no form for the head");
    assert_eq!(app.audit_count("assessment.commented").await, 2);

    // The month's report lists the comments written in its period.
    let r = office
        .get(app.url(&format!("/assessment/report.xlsx?from={today}&to={today}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let book = r.bytes().await.unwrap();
    let rows = sheet_rows(&book, "督查意见 Comments");
    assert_eq!(rows.len(), 3, "the header and both comments: {rows:?}");
    let bodies: Vec<String> = rows[1..].iter().map(|r| r[2].to_string()).collect();
    assert!(bodies.iter().any(|b| b.contains("网办率提升明显")), "{bodies:?}");
    assert!(rows[1..].iter().any(|r| r[1].to_string().contains("按时办结率")), "{rows:?}");
}
