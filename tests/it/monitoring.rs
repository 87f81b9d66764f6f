//! Electronic-monitoring stories over HTTP, on SQLite and PostgreSQL: a case that turns yellow
//! and then red is raised once at each light (the officer told, then an order to the head), the
//! head closes the order with the rectification, and who may see and close what.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::TestApp;
use serde_json::{Value, json};

stories!(
    a_late_case_is_raised_once_per_light_and_the_head_puts_it_right,
    every_watched_kind_is_raised_once_and_a_missed_appointment_becomes_a_no_show,
    the_supervision_office_issues_an_order_by_hand_and_the_head_closes_it,
);

/// The demo citizen's 食品经营许可（新办）, accepted by the demo window clerk: its number.
async fn accepted_case(app: &TestApp) -> String {
    let n = app.apply_for_food_licence().await;
    let clerk = app.demo_token("spj.clerk").await;
    let (s, b) = app.post_json(&format!("/api/v1/cases/{n}/actions/accept"), Some(&clerk), json!({})).await;
    assert_eq!(s, 200, "{b}");
    n
}

async fn sweep(app: &TestApp) -> Value {
    let (s, b) = app
        .post_json("/api/v1/supervision/sweep", Some(&app.demo_token("dsj.supervisor").await), json!({}))
        .await;
    assert_eq!(s, 200, "{b}");
    b
}

async fn alerts(app: &TestApp, n: &str) -> Vec<String> {
    let rows =
        sqlx::query("SELECT level FROM monitoring_alerts WHERE subject = $1 ORDER BY raised_at, level")
            .bind(format!("case:{n}"))
            .fetch_all(app.state.db.reader())
            .await
            .unwrap();
    rows.iter().map(|r| sqlx::Row::try_get::<String, _>(r, 0).unwrap()).collect()
}

async fn alerts_like(app: &TestApp, prefix: &str) -> Vec<(String, String)> {
    let rows = sqlx::query(
        "SELECT subject, level FROM monitoring_alerts WHERE subject LIKE $1 ORDER BY subject, level",
    )
    .bind(format!("{prefix}%"))
    .fetch_all(app.state.db.reader())
    .await
    .unwrap();
    rows.iter()
        .map(|r| {
            (sqlx::Row::try_get::<String, _>(r, 0).unwrap(), sqlx::Row::try_get::<String, _>(r, 1).unwrap())
        })
        .collect()
}

async fn inbox_titles(app: &TestApp, username: &str) -> Vec<String> {
    let (_, inbox) = app.get_json("/api/v1/notifications", Some(&app.demo_token(username).await)).await;
    inbox["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["title_zh"].as_str().unwrap().to_string())
        .collect()
}

async fn a_late_case_is_raised_once_per_light_and_the_head_puts_it_right(app: &TestApp) {
    let n = accepted_case(app).await;
    let clerk = app.demo_token("spj.clerk").await;
    let (_, c) = app.get_json(&format!("/api/v1/cases/{n}"), Some(&clerk)).await;
    let due = chrono::NaiveDate::parse_from_str(c["due_date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    // Only the supervision office runs the sweep by hand.
    let (s, _) = app.post_json("/api/v1/supervision/sweep", Some(&clerk), json!({})).await;
    assert_eq!(s, 403);
    sweep(app).await;
    assert!(alerts(app, &n).await.is_empty(), "green is not raised");

    // On its last day the case is yellow: raised once, and the clerk who accepted it is told.
    let last_day = quanban::platform::clock::from_beijing(due.and_hms_opt(10, 0, 0).unwrap());
    app.clock().set(last_day).unwrap();
    sweep(app).await;
    sweep(app).await;
    assert_eq!(alerts(app, &n).await, ["yellow"], "raised once");
    let told = inbox_titles(app, "spj.clerk").await;
    assert_eq!(told.iter().filter(|t| t.starts_with("办件即将到期")).count(), 1, "{told:?}");

    // Past the due date it is red: raised once more, with an order to the bureau's head.
    app.clock().set(last_day + chrono::Duration::days(3)).unwrap();
    let report = sweep(app).await;
    assert!(report["red"].as_u64().unwrap() >= 1, "{report}");
    sweep(app).await;
    assert_eq!(alerts(app, &n).await, ["yellow", "red"]);
    let raised: i64 =
        sqlx::query("SELECT COUNT(*) FROM audit_log WHERE resource = $1 AND action = 'monitoring.raise'")
            .bind(format!("case:{n}"))
            .fetch_one(app.state.db.reader())
            .await
            .map(|r| sqlx::Row::try_get(&r, 0).unwrap())
            .unwrap();
    assert_eq!(raised, 2, "each raise is in the audit log once");
    let head_told = inbox_titles(app, "spj.head").await;
    assert_eq!(head_told.iter().filter(|t| t.starts_with("督办单")).count(), 1, "{head_told:?}");
    assert!(inbox_titles(app, "spj.clerk").await.iter().any(|t| t.starts_with("办件已超期")));

    // The same figures for the city's monitoring, on /metrics (read by the host itself here).
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for line in [
        "quanban_supervision_orders{department=\"JN-SPJ\",status=\"open\"} 1",
        "quanban_monitoring_alerts{level=\"red\"} 1",
        "quanban_monitoring_alerts{level=\"yellow\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }
    assert!(metrics.contains("quanban_supervision_cases{department=\"JN-SPJ\",light=\"red\"}"));
    assert!(metrics.ends_with("# EOF\n"));

    let supervisor = app.demo_token("dsj.supervisor").await;
    let (s, all) = app.get_json("/api/v1/supervision/orders", Some(&supervisor)).await;
    assert_eq!(s, 200);
    let order = all
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["subject"] == format!("case:{n}"))
        .expect("an order for the case")
        .clone();
    let year = app.clock().today().format("%Y").to_string();
    let number = order["number"].as_str().unwrap();
    assert!(number.starts_with(&format!("济政务督〔{year}〕")) && number.ends_with('号'), "{number}");
    assert_eq!((order["department"].as_str(), order["status"].as_str()), (Some("JN-SPJ"), Some("open")));
    // The bureau's head and approver see it; another department does not.
    let head = app.demo_token("spj.head").await;
    let (s, mine) = app.get_json("/api/v1/supervision/orders", Some(&head)).await;
    assert_eq!(s, 200);
    assert!(mine.as_array().unwrap().iter().all(|o| o["department"] == "JN-SPJ"));
    let (s, _) = app.get_json("/api/v1/supervision/orders", Some(&app.demo_token("scj.clerk").await)).await;
    assert_eq!(s, 403);
    // Only the head closes it, saying what was done.
    let id = order["id"].as_str().unwrap();
    let path = format!("/api/v1/supervision/orders/{id}/close");
    let (s, _) = app.post_json(&path, Some(&supervisor), json!({"rectification": "已办结"})).await;
    assert_eq!(s, 403, "the supervision office reads and orders, it does not close");
    let (s, _) = app
        .post_json(&path, Some(&app.demo_token("spj.approver").await), json!({"rectification": "x"}))
        .await;
    assert_eq!(s, 403);
    let (s, b) = app.post_json(&path, Some(&head), json!({"rectification": "  "})).await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("rectification")), "{b}");
    let (s, b) = app
        .post_json(
            &path,
            Some(&head),
            json!({"rectification": "已督促承办人当日办结，并调整受理排班", "version": order["version"]}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!((b["status"].as_str(), b["closed_by_name"].as_str()), (Some("closed"), Some("周丽华")));
    let (s, b) = app.post_json(&path, Some(&head), json!({"rectification": "再次"})).await;
    assert_eq!((s, b["code"].as_str()), (409, Some("version_conflict")), "{b}");
    assert!(quanban::audit::store::verify(&app.state.db).await.unwrap().is_ok());
}

/// Beyond cases: a 补正 the applicant leaves unanswered, a complaint its department does not
/// answer and a data request its owner does not decide all turn red when their days run out;
/// one sweep raises each once (its officer or the staff doing that work told, an order to the
/// head), a second raises nothing; a booked hall visit nobody came to becomes a no-show once.
async fn every_watched_kind_is_raised_once_and_a_missed_appointment_becomes_a_no_show(app: &TestApp) {
    // A supplement asked by the reviewer after the clerk accepted.
    let n = accepted_case(app).await;
    let reviewer = app.demo_token("spj.reviewer").await;
    for (action, body) in
        [("start_review", json!({})), ("request_supplement", json!({"reason": "缺少食品安全管理制度"}))]
    {
        let (s, b) =
            app.post_json(&format!("/api/v1/cases/{n}/actions/{action}"), Some(&reviewer), body).await;
        assert_eq!(s, 200, "{action}: {b}");
    }
    // A complaint taken by the hotline and dispatched.
    let operator = app.demo_token("hotline.operator").await;
    let (s, c) = app
        .post_json(
            "/api/v1/complaints",
            Some(&operator),
            json!({"description": "文化西路的路灯一到晚上就不亮", "call_type": "complaint", "district": "历下区"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let complaint = c["complaint"]["id"].as_str().unwrap().to_string();
    let complaint_department =
        c["complaint"]["department"].as_str().expect("dispatched by its category").to_string();
    assert_eq!(c["complaint"]["status"], "dispatched", "{c}");
    // A data request to the tax bureau.
    let fgw_data = app.token_for_staff_with("fgw.data", "JN-FGW", &["data_officer"]).await;
    let (s, request) = app
        .post_json(
            "/api/v1/data/requests",
            Some(&fgw_data),
            json!({"dataset": "tax", "fields": ["revenue_last_year"], "purpose": "case_handling",
                   "purpose_detail": "核验惠企政策兑现申请人的营业收入", "legal_basis": "《优化营商环境条例》第三十五条",
                   "items": ["JN-FGW-0003"]}),
        )
        .await;
    assert_eq!(s, 201, "{request}");
    let request = request["id"].as_str().unwrap().to_string();
    // A hall visit booked for the next working day.
    let cal = app.state.calendar().await;
    let mut day = app.clock().today() + chrono::Duration::days(1);
    while !cal.is_working_day(day) || chrono::Datelike::weekday(&day).number_from_monday() > 5 {
        day += chrono::Duration::days(1);
    }
    let citizen = app.demo_token("13800138001").await;
    let (s, booked) = app
        .post_json(
            "/api/v1/appointments",
            Some(&citizen),
            json!({"hall_code": "JN-H-0002", "item_code": "JN-SPJ-0003", "slot_start": format!("{}T09:30", day.format("%Y-%m-%d"))}),
        )
        .await;
    assert_eq!(s, 201, "{booked}");
    let appointment = booked["id"].as_str().unwrap().to_string();

    // Nothing is late yet, and the visit is still to come.
    let first = sweep(app).await;
    assert_eq!(first["no_shows"], 0, "{first}");
    for prefix in ["supplement:", "complaint:", "data_request:"] {
        assert!(alerts_like(app, prefix).await.is_empty(), "{prefix} raised while green");
    }

    // Thirty working days on everything has run out.
    let later = cal.add_working_days(app.clock().today(), 30);
    app.clock().set(quanban::platform::clock::from_beijing(later.and_hms_opt(10, 0, 0).unwrap())).unwrap();
    let report = sweep(app).await;
    assert_eq!(report["no_shows"], 1, "{report}");
    let again = sweep(app).await;
    assert_eq!(
        (again["yellow"].as_u64(), again["red"].as_u64(), again["no_shows"].as_u64()),
        (Some(0), Some(0), Some(0)),
        "{again}"
    );

    let supplement = alerts_like(app, &format!("supplement:{n}@")).await;
    assert_eq!(supplement.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>(), ["red"], "{supplement:?}");
    let complaint_alerts = alerts_like(app, &format!("complaint:{complaint}/")).await;
    assert_eq!(complaint_alerts.len(), 1, "{complaint_alerts:?}");
    assert!(
        complaint_alerts[0].0.starts_with(&format!("complaint:{complaint}/respond/")),
        "{complaint_alerts:?}"
    );
    assert_eq!(alerts_like(app, &format!("data_request:{request}")).await.len(), 1);

    // The officer who accepted the case is told the applicant is late; the tax bureau's data
    // officer that the request waits; each department's head holds an order.
    assert!(inbox_titles(app, "spj.clerk").await.iter().any(|t| t.starts_with("补正已逾期")));
    assert!(inbox_titles(app, "swj.data").await.iter().any(|t| t.starts_with("数据申请已超期")));
    let supervisor = app.demo_token("dsj.supervisor").await;
    let (_, orders) = app.get_json("/api/v1/supervision/orders", Some(&supervisor)).await;
    let order_of = |subject_prefix: &str| {
        orders
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["subject"].as_str().unwrap().starts_with(subject_prefix))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(order_of(&format!("supplement:{n}@"))[0]["department"], "JN-SPJ");
    assert_eq!(order_of(&format!("data_request:{request}"))[0]["department"], "JN-SWJ");
    let complaint_orders = order_of(&format!("complaint:{complaint}/"));
    assert_eq!(
        (complaint_orders.len(), complaint_orders[0]["department"].as_str()),
        (1, Some(complaint_department.as_str()))
    );
    // The complaint's head is told by the order alone, once.
    let heads: Vec<String> =
        sqlx::query("SELECT user_id FROM user_roles WHERE role = 'department_head' AND department = $1")
            .bind(&complaint_department)
            .fetch_all(app.state.db.reader())
            .await
            .unwrap()
            .iter()
            .map(|r| sqlx::Row::try_get(r, 0).unwrap())
            .collect();
    for head in &heads {
        let titles: Vec<String> = sqlx::query("SELECT title_zh FROM notifications WHERE user_id = $1")
            .bind(head)
            .fetch_all(app.state.db.reader())
            .await
            .unwrap()
            .iter()
            .map(|r| sqlx::Row::try_get(r, 0).unwrap())
            .collect();
        assert_eq!(titles.iter().filter(|t| t.contains(&complaint)).count(), 1, "{titles:?}");
    }

    // The visit nobody came to: a no-show, the applicant told, in the audit log once.
    let (_, mine) = app.get_json("/api/v1/appointments", Some(&app.demo_token("13800138001").await)).await;
    let a = mine.as_array().unwrap().iter().find(|a| a["id"] == appointment.as_str()).unwrap().clone();
    assert_eq!(a["status"], "no_show", "{a}");
    assert!(inbox_titles(app, "13800138001").await.iter().any(|t| t == "预约未到场，已记爽约"));
    let audited: i64 =
        sqlx::query("SELECT COUNT(*) FROM audit_log WHERE resource = $1 AND action = 'appointment.no_show'")
            .bind(format!("appointment:{appointment}"))
            .fetch_one(app.state.db.reader())
            .await
            .map(|r| sqlx::Row::try_get(&r, 0).unwrap())
            .unwrap();
    assert_eq!(audited, 1);
    assert!(quanban::audit::store::verify(&app.state.db).await.unwrap().is_ok());
}

/// For what no deadline watches, the supervision office types an order: each wrong field named,
/// nothing written; a good one numbered in the year's sequence, the head told, the audit
/// entry written; only the office issues; the head closes it like any other.
async fn the_supervision_office_issues_an_order_by_hand_and_the_head_closes_it(app: &TestApp) {
    let n = accepted_case(app).await;
    let supervisor = app.demo_token("dsj.supervisor").await;
    let orders_before = app.audit_count("monitoring.order_issued").await;
    let (s, b) = app
        .post_json(
            "/api/v1/supervision/orders",
            Some(&supervisor),
            json!({"department": "NOPE", "title": " ", "subject": "parcel:1", "rectify_by": "2020-01-01"}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    let fields: Vec<&str> =
        b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["department", "title", "subject", "rectify_by"], "{b}");
    assert_eq!(app.audit_count("monitoring.order_issued").await, orders_before, "nothing written");
    let rectify_by = app.state.calendar().await.add_working_days(app.clock().today(), 5).to_string();
    let body = json!({"department": "JN-SPJ", "title": "食品经营许可审查环节积压，请核查原因", "subject": format!("case:{n}"),
                      "rectify_by": rectify_by});
    // Only the office issues: not a head, not a clerk.
    for user in ["spj.head", "spj.clerk"] {
        let (s, _) = app
            .post_json("/api/v1/supervision/orders", Some(&app.demo_token(user).await), body.clone())
            .await;
        assert_eq!(s, 403, "{user}");
    }
    let (s, order) = app.post_json("/api/v1/supervision/orders", Some(&supervisor), body.clone()).await;
    assert_eq!(s, 201, "{order}");
    assert_eq!(
        (order["about"].as_str(), order["status"].as_str()),
        (Some(format!("case:{n}").as_str()), Some("open"))
    );
    assert!(order["number"].as_str().unwrap().starts_with("济政务督〔"), "{order}");
    assert_eq!(order["rectify_by"], rectify_by.as_str());
    // A second one about the same case is a second order, with its own number.
    let (s, second) = app.post_json("/api/v1/supervision/orders", Some(&supervisor), body).await;
    assert_eq!(s, 201);
    assert_ne!(second["number"], order["number"]);
    assert_eq!(app.audit_count("monitoring.order_issued").await, orders_before + 2);
    assert_eq!(
        inbox_titles(app, "spj.head").await.iter().filter(|t| t.contains("食品经营许可审查环节积压")).count(),
        2
    );
    let head = app.demo_token("spj.head").await;
    let (s, closed) = app
        .post_json(
            &format!("/api/v1/supervision/orders/{}/close", order["id"].as_str().unwrap()),
            Some(&head),
            json!({"rectification": "已调整审查人员排班，积压件本周内办结", "version": order["version"]}),
        )
        .await;
    assert_eq!((s, closed["status"].as_str()), (200, Some("closed")), "{closed}");
}
