//! Reform-task stories over HTTP, on SQLite and PostgreSQL: the supervision office imports the
//! plan from its spreadsheet; the lead unit's head reports a milestone (refused without the
//! evidence it needs), the office returns it with a comment and then accepts it; a milestone left
//! past its date turns red and gets one supervision order however many sweeps run; the
//! milestones-on-time figure is recomputed from its records; the export opens in calamine.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use base64::Engine;
use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::common::{self, TestApp};

stories!(a_task_moves_through_report_review_overdue_and_order, bad_sheets_are_refused_whole_naming_each_cell,);

const HEADER: [&str; 9] = [
    "任务编号",
    "改革任务",
    "所属领域",
    "任务内容",
    "牵头单位",
    "配合单位",
    "节点任务",
    "完成时限",
    "须附佐证材料",
];

/// An .xlsx with the header and `rows`.
pub fn sheet(rows: &[Vec<String>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, cell).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

pub async fn import(app: &TestApp, token: &str, bytes: Vec<u8>) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url("/api/v1/reform-tasks/import"))
        .bearer_auth(token)
        .header("content-type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The plan used by the stories: RT-01 led by the approval bureau with two milestones (the first
/// needs evidence), RT-02 led by market supervision. Returns the two milestones' due dates.
pub async fn import_plan(app: &TestApp) -> (NaiveDate, NaiveDate) {
    let cal = app.state.calendar().await;
    let today = app.clock().today();
    let (first, second) = (cal.add_working_days(today, 5), cal.add_working_days(today, 10));
    let bytes = sheet(&[
        row(&[
            "RT-01",
            "高频事项一件事一次办",
            "办事流程集成",
            "推出一批高频一件事",
            "济南市行政审批服务局",
            "JN-DSJ",
            "制定配套方案",
            &first.to_string(),
            "是",
        ]),
        row(&["", "", "", "", "", "", "取得明显突破", &second.format("%Y/%m/%d").to_string(), "否"]),
        row(&[
            "RT-02",
            "涉企政策免申即享",
            "涉企政策集成",
            "",
            "JN-SCJ",
            "",
            "形成完整机制",
            &second.to_string(),
            "否",
        ]),
    ]);
    let supervisor = app.demo_token("dsj.supervisor").await;
    let (s, b) = import(app, &supervisor, bytes).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!((b["tasks"].as_u64(), b["milestones"].as_u64()), (Some(2), Some(3)));
    (first, second)
}

fn milestone(task: &Value, seq: i64) -> &Value {
    task["milestones"].as_array().unwrap().iter().find(|m| m["seq"] == seq).unwrap()
}

async fn a_task_moves_through_report_review_overdue_and_order(app: &TestApp) {
    let first_day = app.clock().today();
    let (_, second_due) = import_plan(app).await;
    let head = app.demo_token("spj.head").await;
    let supervisor = app.demo_token("dsj.supervisor").await;

    // Each unit sees its own tasks; the office sees all.
    let codes = |v: &Value| {
        v.as_array().unwrap().iter().map(|t| t["code"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let (_, mine) = app.get_json("/api/v1/reform-tasks", Some(&head)).await;
    assert_eq!(codes(&mine), ["RT-01"]);
    let (_, all) = app.get_json("/api/v1/reform-tasks", Some(&supervisor)).await;
    assert_eq!(codes(&all), ["RT-01", "RT-02"]);
    let (s, _) = app.get_json("/api/v1/reform-tasks/RT-02", Some(&head)).await;
    assert_eq!(s, 404, "another unit's task");
    let (s, _) = import(app, &head, sheet(&[])).await;
    assert_eq!(s, 404, "only the supervision office imports");

    // A report without the evidence the milestone needs names it; nothing changes.
    let path = |seq: i64, step: &str| format!("/api/v1/reform-tasks/RT-01/milestones/{seq}/{step}");
    let (s, p) = app.post_json(&path(1, "report"), Some(&head), json!({"report": "已起草方案"})).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("evidence")), "{p}");
    let (s, p) = app
        .post_json(
            &path(1, "report"),
            Some(&head),
            json!({"report": "", "evidence": [{"kind": "link", "href": "javascript:alert(1)"}]}),
        )
        .await;
    assert_eq!(s, 422);
    let fields: Vec<&str> =
        p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["report", "evidence[0]"]);
    let (_, t) = app.get_json("/api/v1/reform-tasks/RT-01", Some(&head)).await;
    assert_eq!(milestone(&t, 1)["status"], "pending");

    let (s, t) = app
        .post_json(
            &path(1, "report"),
            Some(&head),
            json!({"report": "已起草方案", "evidence": [{"kind": "link", "href": "/catalog"}]}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(milestone(&t, 1)["status"], "reported");
    let (s, _) = app
        .post_json(
            &path(1, "report"),
            Some(&head),
            json!({"report": "再报", "evidence": [{"kind": "link", "href": "/catalog"}]}),
        )
        .await;
    assert_eq!(s, 409, "a report waits for its review");

    // The office reviews: the head cannot; returning needs a comment; the office edits nothing.
    let (s, _) = app.post_json(&path(1, "review"), Some(&head), json!({"decision": "accept"})).await;
    assert_eq!(s, 403);
    let (s, p) = app.post_json(&path(1, "review"), Some(&supervisor), json!({"decision": "return"})).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("comment")));
    let (s, t) = app
        .post_json(
            &path(1, "review"),
            Some(&supervisor),
            json!({"decision": "return", "comment": "请附印发文件"}),
        )
        .await;
    assert_eq!((s, milestone(&t, 1)["status"].as_str()), (200, Some("returned")), "{t}");
    let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4\n% plan\n");
    let (s, t) = app
        .post_json(
            &path(1, "report"),
            Some(&head),
            json!({"report": "方案已印发", "evidence": [{"kind": "file", "file_name": "方案.pdf", "content_base64": pdf}]}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    let (s, t) = app.post_json(&path(1, "review"), Some(&supervisor), json!({"decision": "accept"})).await;
    assert_eq!(s, 200, "{t}");
    let m = milestone(&t, 1);
    assert_eq!(
        (m["status"].as_str(), m["accepted_on"].as_str()),
        (Some("accepted"), Some(first_day.to_string().as_str()))
    );
    let kinds: Vec<&str> =
        m["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["report", "return", "report", "accept"]);
    assert_eq!(app.audit_count("reform.report").await, 2);
    assert_eq!(app.audit_count("reform.accept").await, 1);

    // The second milestone is left past its date: red, one order to the bureau's head.
    let cal = app.state.calendar().await;
    let late = quanban::platform::clock::from_beijing(
        cal.add_working_days(second_due, 1).and_hms_opt(10, 0, 0).unwrap(),
    );
    app.clock().set(late).unwrap();
    let supervisor = app.demo_token("dsj.supervisor").await;
    for _ in 0..2 {
        let (s, b) = app.post_json("/api/v1/supervision/sweep", Some(&supervisor), json!({})).await;
        assert_eq!(s, 200, "{b}");
    }
    let (_, orders) = app.get_json("/api/v1/supervision/orders", Some(&supervisor)).await;
    let for_milestone: Vec<&Value> =
        orders.as_array().unwrap().iter().filter(|o| o["subject"] == "milestone:RT-01#2").collect();
    assert_eq!(for_milestone.len(), 1, "{orders}");
    assert_eq!(for_milestone[0]["department"], "JN-SPJ");
    assert_eq!(
        orders.as_array().unwrap().iter().filter(|o| o["subject"] == "milestone:RT-01#1").count(),
        0,
        "accepted in time"
    );
    let head = app.demo_token("spj.head").await;
    let (_, inbox) = app.get_json("/api/v1/notifications", Some(&head)).await;
    let titles: Vec<&str> =
        inbox["notifications"].as_array().unwrap().iter().map(|n| n["title_zh"].as_str().unwrap()).collect();
    assert_eq!(
        titles.iter().filter(|t| t.starts_with("督办单") && t.contains("RT-01")).count(),
        1,
        "{titles:?}"
    );
    let (_, t) = app.get_json("/api/v1/reform-tasks/RT-01", Some(&head)).await;
    assert_eq!(t["lights"], json!([null, "red"]));

    // The figure: of the bureau's milestones due and past, those accepted by their date —
    // recomputed here from the records it lists.
    let period = format!("from={first_day}&to={}", app.clock().today());
    let (_, a) = app.get_json(&format!("/api/v1/assessment/scorecards?{period}"), Some(&supervisor)).await;
    let card = a["scorecards"].as_array().unwrap().iter().find(|c| c["department"] == "JN-SPJ").unwrap();
    let f =
        card["figures"].as_array().unwrap().iter().find(|f| f["indicator"] == "milestones_on_time").unwrap();
    assert_eq!((f["numerator"].as_i64(), f["denominator"].as_i64()), (Some(1), Some(2)), "{f}");
    let (_, d) = app
        .get_json(&format!("/api/v1/assessment/scorecards/JN-SPJ/milestones_on_time?{period}"), Some(&head))
        .await;
    let by_hand = d["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            let (code, seq) = r["record"].as_str().unwrap().split_once("#m").unwrap();
            let m = milestone(&t, seq.parse().unwrap());
            assert_eq!(code, "RT-01");
            m["accepted_on"].as_str().is_some_and(|a| a <= m["due_on"].as_str().unwrap())
        })
        .count();
    assert_eq!(by_hand, 1);

    // The export, as the office downloads it, opens with every milestone's state.
    let client = common::page_client();
    common::web_login(&client, &app.base, "dsj.supervisor", &app.demo("dsj.supervisor").await.password).await;
    let resp = client.get(app.url("/reform-tasks.xlsx")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let bytes = resp.bytes().await.unwrap().to_vec();
    let mut xlsx: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let range = xlsx.worksheet_range("改革任务").unwrap();
    let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(Data::to_string).collect()).collect();
    assert_eq!(rows[0][..9], HEADER.map(String::from));
    let states: Vec<(&str, &str, &str)> =
        rows[1..].iter().map(|r| (r[6].as_str(), r[9].as_str(), r[10].as_str())).collect();
    assert_eq!(
        states,
        [
            ("制定配套方案", "已完成", ""),
            ("取得明显突破", "待报送", "红灯（超期）"),
            ("形成完整机制", "待报送", "红灯（超期）")
        ]
    );
}

async fn bad_sheets_are_refused_whole_naming_each_cell(app: &TestApp) {
    let supervisor = app.demo_token("dsj.supervisor").await;
    let bytes = sheet(&[
        row(&["RT-09", "好任务", "办事流程集成", "", "JN-SPJ", "", "节点", "2026-12-31", "否"]),
        row(&["RT-10", "坏任务", "改革", "", "无此局", "", "节点", "下个月", "也许"]),
    ]);
    let (s, p) = import(app, &supervisor, bytes).await;
    assert_eq!(s, 422, "{p}");
    let fields: Vec<&str> =
        p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["row3.area", "row3.lead", "row3.due", "row3.evidence"]);
    let (_, all) = app.get_json("/api/v1/reform-tasks", Some(&supervisor)).await;
    assert_eq!(all, json!([]), "nothing of a refused file is kept");
    let (s, p) = import(app, &supervisor, b"not a spreadsheet".to_vec()).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("file")), "{p}");
    import_plan(app).await;
    let again = sheet(&[row(&["RT-01", "重复", "process", "", "JN-SPJ", "", "节点", "2026-12-31", "否"])]);
    let (s, p) = import(app, &supervisor, again).await;
    assert_eq!((s, p["errors"][0]["code"].as_str()), (422, Some("duplicate")), "{p}");
}
