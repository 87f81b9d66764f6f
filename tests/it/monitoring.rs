//! Electronic-monitoring stories over HTTP, on SQLite and PostgreSQL: a case that turns yellow
//! and then red is raised once at each light (the officer told, then an order to the head), the
//! head closes the order with the rectification, and who may see and close what.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::TestApp;
use serde_json::{Value, json};

stories!(a_late_case_is_raised_once_per_light_and_the_head_puts_it_right,);

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
