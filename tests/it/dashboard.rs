//! Dashboard stories over HTTP, on SQLite and PostgreSQL: the city's and a department's
//! dashboard count the cases and complaints as they happen and link each number to its records;
//! who may read which; the public page publishes a month's figures, as a page and a CSV file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Datelike, NaiveDate};
use serde_json::json;

use crate::common::{self, TestApp};

stories!(
    the_dashboard_counts_what_happened_and_links_each_number,
    only_the_supervision_office_and_a_department_s_head_read_its_dashboard,
    the_public_page_publishes_a_month_s_figures,
);

async fn act(app: &TestApp, token: &str, n: &str, action: &str) {
    let (s, b) = app.post_json(&format!("/api/v1/cases/{n}/actions/{action}"), Some(token), json!({})).await;
    assert_eq!(s, 200, "{action} {n}: {b}");
}

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn signed_in(app: &TestApp, username: &str) -> reqwest::Client {
    let client = common::page_client();
    common::web_login(&client, &app.base, username, &app.demo(username).await.password).await;
    client
}

/// The text directly inside the element with `id` (up to its first child tag).
fn text_of(html: &str, id: &str) -> String {
    let at = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("#{id} in the page"));
    let rest = &html[at..];
    let body = &rest[rest.find('>').unwrap() + 1..];
    body[..body.find('<').unwrap_or(body.len())].trim().to_string()
}

/// The value of the tile `id`: the number it shows.
fn tile(html: &str, id: &str) -> String {
    let at = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("#{id}"));
    let rest = &html[at..];
    let value = &rest[rest.find("class=\"tile-value\">").unwrap() + "class=\"tile-value\">".len()..];
    value[..value.find('<').unwrap()].to_string()
}

/// The link of the tile `id`.
fn tile_href(html: &str, id: &str) -> String {
    let at = html[..html.find(&format!("id=\"{id}\"")).unwrap()].rfind("href=\"").unwrap() + 6;
    html[at..at + html[at..].find('"').unwrap()].replace("&amp;", "&").replace("&#38;", "&")
}

async fn the_dashboard_counts_what_happened_and_links_each_number(app: &TestApp) {
    let first_day = app.clock().today();
    // Two applications today, one accepted and left to run late; a complaint with a place.
    let clerk = app.demo_token("spj.clerk").await;
    let (late, waiting) = (app.apply_for_food_licence().await, app.apply_for_food_licence().await);
    // The first is accepted and left past its due date; the second never accepted.
    act(app, &clerk, &late, "accept").await;
    let (_, c) = app.get_json(&format!("/api/v1/cases/{late}"), Some(&clerk)).await;
    let due: NaiveDate = c["due_date"].as_str().unwrap().parse().unwrap();
    let citizen = app.demo_token("13800138001").await;
    let (s, filed) = app
        .post_json(
            "/api/v1/complaints",
            Some(&citizen),
            json!({"description": "泉城路人行道地砖松动，雨天溅水", "lat": 36.6636, "lon": 117.0227}),
        )
        .await;
    assert_eq!(s, 201, "{filed}");
    // Two working days past the due date; the sweep raises the late case.
    let cal = app.state.calendar().await;
    let after = cal.add_working_days(due, 2);
    app.clock().set(quanban::platform::clock::from_beijing(after.and_hms_opt(10, 0, 0).unwrap())).unwrap();
    let (s, b) = app
        .post_json("/api/v1/supervision/sweep", Some(&app.demo_token("dsj.supervisor").await), json!({}))
        .await;
    assert_eq!(s, 200, "{b}");
    let period = format!("from={first_day}&to={after}");

    let supervisor = signed_in(app, "dsj.supervisor").await;
    let (s, city) = page(&supervisor, app, &format!("/dashboard?{period}")).await;
    assert_eq!(s, 200, "{city}");
    assert!(text_of(&city, "scope-name").contains("全市"));
    // Counted from the records: both applications were submitted in the period, none decided.
    let submitted: i64 = tile(&city, "tile-submitted").parse().unwrap();
    assert!(submitted >= 2, "{submitted}");
    assert_eq!(tile(&city, "tile-decided"), "0");
    assert!(tile(&city, "tile-red").parse::<i64>().unwrap() >= 1);
    assert!(tile(&city, "tile-orders").parse::<i64>().unwrap() >= 1);
    assert!(tile(&city, "tile-complaints").parse::<i64>().unwrap() >= 1);
    // The department's own dashboard: exactly what happened here.
    let (s, spj) = page(&supervisor, app, &format!("/dashboard?department=JN-SPJ&{period}")).await;
    assert_eq!(s, 200);
    let spj_name: String = sqlx::query("SELECT name FROM departments WHERE code = 'JN-SPJ'")
        .fetch_one(app.state.db.reader())
        .await
        .map(|r| sqlx::Row::try_get(&r, 0).unwrap())
        .unwrap();
    assert_eq!(text_of(&spj, "scope-name"), spj_name);
    assert_eq!(tile(&spj, "tile-submitted"), "2");
    // Both are overdue: one past its decision's due date, the other never accepted within the
    // window's five working days; each raised red once with an order.
    assert_eq!(tile(&spj, "tile-red"), "2");
    assert_eq!(tile(&spj, "tile-orders"), "2");
    assert_eq!(tile(&spj, "tile-raised"), "2");
    for n in [&late, &waiting] {
        assert!(spj.contains(&format!("href=\"/cases/{n}\"")), "{n} is listed and linked");
    }
    // Another department's dashboard does not count them.
    let (_, scj) = page(&supervisor, app, &format!("/dashboard?department=JN-SCJ&{period}")).await;
    assert_eq!((tile(&scj, "tile-submitted").as_str(), tile(&scj, "tile-red").as_str()), ("0", "0"));
    // Every tile opens a page the supervisor may read.
    for id in [
        "tile-submitted",
        "tile-on-time",
        "tile-red",
        "tile-orders",
        "tile-complaints",
        "tile-resolution",
        "tile-good",
    ] {
        let href = tile_href(&spj, id);
        let (s, _) = page(&supervisor, app, &href).await;
        assert_eq!(s, 200, "{id} → {href}");
    }
    assert_eq!(tile_href(&spj, "tile-on-time"), format!("/assessment/JN-SPJ/on_time?{period}"));
    // The chart's data and its table hold the same days.
    let days = (after - first_day).num_days() + 1;
    assert!(spj.matches("<tr><th scope=\"row\">20").count() as i64 >= days);
    assert!(spj.contains("id=\"dashboard-data\""));
    // The map draws the placed complaint (city) and the halls.
    assert!(city.contains("class=\"complaint-dot\""));
    assert!(city.contains("class=\"hall-mark\""));
    // A wrong period names its field and still shows the page.
    let (s, bad) = page(&supervisor, app, "/dashboard?from=2026-13-01").await;
    assert_eq!(s, 422);
    assert!(bad.contains("from"), "the field is named");
}

async fn only_the_supervision_office_and_a_department_s_head_read_its_dashboard(app: &TestApp) {
    let head = signed_in(app, "spj.head").await;
    let (s, own) = page(&head, app, "/dashboard").await;
    assert_eq!(s, 200);
    assert!(!text_of(&own, "scope-name").contains("全市"), "the head's own department");
    assert!(!own.contains("id=\"department\""), "no scope switch for a head");
    let (s, _) = page(&head, app, "/dashboard?department=JN-SCJ").await;
    assert_eq!(s, 404, "another department's dashboard is not there for them");
    let (s, _) = page(&signed_in(app, "spj.clerk").await, app, "/dashboard").await;
    assert_eq!(s, 404);
    let (s, _) = page(&signed_in(app, "13800138001").await, app, "/dashboard").await;
    assert_eq!(s, 404);
    let r = common::page_client().get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 303, "signed out: to the login page");
    let supervisor = signed_in(app, "dsj.supervisor").await;
    let (s, city) = page(&supervisor, app, "/dashboard").await;
    assert_eq!(s, 200);
    assert!(city.contains("id=\"department\""), "the supervision office switches scope");
    let (s, _) = page(&supervisor, app, "/dashboard?department=NOPE").await;
    assert_eq!(s, 404);
}

async fn the_public_page_publishes_a_month_s_figures(app: &TestApp) {
    // Two months on, in a month nothing else happened in: one case decided, one left open.
    let today = app.clock().today();
    let start = NaiveDate::from_ymd_opt(today.year() + 1, 3, 2).unwrap();
    let cal = app.state.calendar().await;
    let mut day = start;
    while !cal.is_working_day(day) {
        day = day.succ_opt().unwrap();
    }
    app.clock().set(quanban::platform::clock::from_beijing(day.and_hms_opt(10, 0, 0).unwrap())).unwrap();
    let (decided, _open) = (app.apply_for_food_licence().await, app.apply_for_food_licence().await);
    let tokens = [
        app.demo_token("spj.clerk").await,
        app.demo_token("spj.reviewer").await,
        app.demo_token("spj.approver").await,
    ];
    app.drive_to_delivery(&tokens, &decided).await;
    // In the month after, the page shows the month before by default, to anyone.
    app.clock()
        .set(quanban::platform::clock::from_beijing(
            NaiveDate::from_ymd_opt(start.year(), 4, 10).unwrap().and_hms_opt(10, 0, 0).unwrap(),
        ))
        .unwrap();
    let month = format!("{}-03", start.year());
    let anyone = common::page_client();
    let (s, html) = page(&anyone, app, "/open-data").await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains(&format!("value=\"{month}\"")), "last month by default");
    assert_eq!(text_of(&html, "city-decided"), "1");
    assert!(html.contains("id=\"line-JN-SPJ\""));
    assert!(!html.contains("身份证") && !html.contains("13800138001"), "no personal data");
    let (s, csv) = page(&anyone, app, &format!("/open-data.csv?month={month}")).await;
    assert_eq!(s, 200);
    assert!(csv.starts_with('\u{feff}'), "a byte-order mark for spreadsheet programs");
    let rows: Vec<Vec<&str>> =
        csv.trim_start_matches('\u{feff}').lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0].len(), 10);
    let spj = rows.iter().find(|r| r[0] == "JN-SPJ").expect("JN-SPJ in the CSV");
    assert_eq!((rows[1][2], spj[2]), ("1", "1"), "decided: the city's and the bureau's");
    assert_eq!(spj[3], "100.00%", "decided within its deadline");
    // A wrong month names its field.
    let (s, bad) = page(&anyone, app, "/open-data?month=2026-13").await;
    assert_eq!(s, 422);
    assert!(bad.contains("month"));
}
