//! Halls, the service map and appointments over HTTP, on SQLite and PostgreSQL: GeoJSON, nearest
//! halls, slots by opening hours and the calendar, booking with every refusal, the iCalendar
//! file, no-shows pausing booking, and a crowd racing for one slot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use common::{Backend, TestApp};
use serde_json::json;

stories!(
    the_map_data_is_valid_geojson,
    places_are_found_by_name_and_nobody_types_coordinates,
    nearest_halls_by_distance_for_an_item,
    booking_refusals_cancel_and_calendar_file,
    no_shows_pause_booking,
    queue_numbers_are_called_in_order,
    numbers_only_while_open_cancel_recall_and_pass_over,
    kiosks_register_beat_and_fall_silent,
    a_kiosk_signs_in_with_the_phone_once,
);

/// The next working day after today (by the shipped calendar) that is Monday to Friday.
async fn next_working_weekday(app: &TestApp) -> NaiveDate {
    let cal = app.state.calendar().await;
    let mut d = app.clock().today() + Duration::days(1);
    while !cal.is_working_day(d) || matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
        d += Duration::days(1);
    }
    d
}

/// The gazetteer answers names (a landmark, a street without 街道, an alias); the districts are
/// served as GeoJSON and filter the halls; the halls page sorts by a named place and the
/// complaint form takes a named place, each refusing an unknown name naming `place`.
async fn places_are_found_by_name_and_nobody_types_coordinates(app: &TestApp) {
    let (s, found) = app.get_json("/api/v1/places?q=趵突泉", None).await;
    assert_eq!(s, 200);
    assert_eq!(found[0]["name"], "趵突泉", "{found}");
    assert_eq!(
        (found[0]["kind"].as_str(), found[0]["district"].as_str()),
        (Some("landmark"), Some("历下区"))
    );
    let names: Vec<&str> = found.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"趵突泉街道"), "{names:?}");
    let (_, street) = app.get_json("/api/v1/places?q=千佛山&limit=1", None).await;
    assert_eq!(street.as_array().unwrap().len(), 1);
    assert!(street[0]["name"].as_str().unwrap().starts_with("千佛山"), "{street}");
    let (_, alias) = app.get_json("/api/v1/places?q=火车站", None).await;
    assert_eq!(alias[0]["name"], "济南站", "{alias}");
    let (_, none) = app.get_json("/api/v1/places?q=", None).await;
    assert_eq!(none, json!([]));
    for (query, field) in [(format!("q={}", "路".repeat(101)), "q"), ("q=a&limit=0".to_string(), "limit")] {
        let (s, b) = app.get_json(&format!("/api/v1/places?{query}"), None).await;
        assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!(field)), "{b}");
    }

    let r = reqwest::get(app.url("/api/v1/districts.geojson")).await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/geo+json");
    let g: serde_json::Value = r.json().await.unwrap();
    let features = g["features"].as_array().unwrap();
    assert_eq!(features.len(), 12);
    for f in features {
        assert!(matches!(f["geometry"]["type"].as_str(), Some("Polygon" | "MultiPolygon")), "{}", f["id"]);
        assert_eq!(f["properties"]["code"].as_str().unwrap().len(), 6);
    }

    let (s, lixia) = app.get_json("/api/v1/halls?district=历下区", None).await;
    assert_eq!(s, 200);
    let lixia = lixia.as_array().unwrap();
    assert!(!lixia.is_empty() && lixia.len() < 51);
    assert!(lixia.iter().all(|h| h["district"] == "历下区"));
    let (s, b) = app.get_json("/api/v1/halls?district=浦东新区", None).await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("district")));

    // The halls page: nearest to a named place first; the district chosen opens zoomed in.
    let page = |path: &str| {
        let url = app.url(path);
        async move {
            let r = reqwest::get(url).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let spring = &found[0];
    let (_, nearest) = app
        .get_json(&format!("/api/v1/halls/nearest?lat={}&lon={}&limit=1", spring["lat"], spring["lon"]), None)
        .await;
    let (s, html) = page("/halls?place=趵突泉").await;
    assert_eq!(s, 200);
    let list = &html[html.find(r#"id="hall-list""#).unwrap()..];
    let first = &list[list.find("href=\"/halls/").unwrap() + "href=\"/halls/".len()..];
    assert_eq!(&first[..first.find('"').unwrap()], nearest[0]["code"].as_str().unwrap());
    assert!(html.contains("趵突泉（历下区）"), "the page says where it sorted from");
    assert!(!html.contains(r#"id="lat" name="lat" type="text""#), "no coordinate fields to type in");
    let (s, html) = page("/halls?place=不存在的地方").await;
    assert_eq!(s, 422);
    assert!(html.contains("没有找到“不存在的地方”"));
    let (s, html) = page("/halls?district=历下区").await;
    assert_eq!(s, 200);
    assert!(html.contains(r#"class="district selected""#));
    assert!(!html.contains(r#"viewBox="0 0 720 800" data-home"#), "opens on the district, not the city");
    let list = &html[html.find(r#"id="hall-list""#).unwrap()..];
    assert!(list.matches("<tr>").count() >= lixia.len());

    // The complaint form takes a named place instead of coordinates.
    let citizen = app.demo("13800138001").await;
    let client = common::page_client();
    common::web_login(&client, &app.base, &citizen.username, &citizen.password).await;
    let form_page = client.get(app.url("/complaints")).send().await.unwrap().text().await.unwrap();
    let csrf = common::csrf_of(&form_page);
    let send = |place: &str| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("description", "趵突泉东门附近路灯不亮，晚上很黑")
            .text("place", place.to_string())
            .text("lat", "")
            .text("lon", "");
        client.post(app.url("/complaints")).multipart(form).send()
    };
    let token = app.demo_token("13800138001").await;
    let (_, before) = app.get_json("/api/v1/complaints", Some(&token)).await;
    let r = send("不存在的地方").await.unwrap();
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("没有找到“不存在的地方”") && body.contains("aria-invalid"),
        "named next to the field"
    );
    let (_, after) = app.get_json("/api/v1/complaints", Some(&token)).await;
    assert_eq!(before.as_array().unwrap().len(), after.as_array().unwrap().len(), "nothing filed");
    let r = send("趵突泉").await.unwrap();
    assert_eq!(r.status(), 303);
    let (_, after) = app.get_json("/api/v1/complaints", Some(&token)).await;
    let filed = after
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["description"].as_str().is_some_and(|d| d.contains("趵突泉东门")))
        .expect("filed");
    assert_eq!((filed["lat"].clone(), filed["lon"].clone()), (spring["lat"].clone(), spring["lon"].clone()));
}

async fn the_map_data_is_valid_geojson(app: &TestApp) {
    let (s, g) = app.get_json("/api/v1/halls.geojson", None).await;
    assert_eq!(s, 200);
    assert_eq!(g["type"], "FeatureCollection");
    let features = g["features"].as_array().unwrap();
    assert_eq!(features.len(), 51);
    for f in features {
        assert_eq!(f["type"], "Feature");
        assert_eq!(f["geometry"]["type"], "Point");
        let c = f["geometry"]["coordinates"].as_array().unwrap();
        let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
        assert!((116.0..118.5).contains(&lon) && (36.0..37.8).contains(&lat), "[lon, lat] in Jinan: {c:?}");
        assert!(f["properties"]["name"].is_string());
    }
    let (_, city) = app.get_json("/api/v1/halls.geojson?level=city", None).await;
    assert_eq!(city["features"].as_array().unwrap().len(), 1);
    // A district department's item is handled only in its district's centre.
    let (_, lixia) = app.get_json("/api/v1/halls?item=JN-LXSPJ-0001", None).await;
    let codes: Vec<&str> = lixia.as_array().unwrap().iter().map(|h| h["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["JN-H-0002"]);
    // Opening by the statutory calendar: a holiday weekday and a Saturday inside the National
    // Day block are closed; the city centre opens on ordinary Saturdays; a 调休 Saturday opens
    // on the weekday hours even where weekends are closed.
    for (hall, date, open) in [
        ("JN-H-0001", "2026-10-01", false),
        ("JN-H-0001", "2026-10-03", false),
        ("JN-H-0001", "2026-11-28", true),
        ("JN-H-0002", "2026-11-29", false),
        ("JN-H-0003", "2026-10-10", true),
    ] {
        let (s, d) = app.get_json(&format!("/api/v1/halls/{hall}/slots?date={date}"), None).await;
        assert_eq!((s, d["open"].clone()), (200, json!(open)), "{hall} {date}: {d}");
    }
    let (s, b) = app.get_json("/api/v1/halls.geojson?level=province", None).await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("level")));
    // An administrator adds the item to another hall.
    let admin = app.demo_token("dsj.admin").await;
    let (s, _) = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/halls/JN-H-0003/items/JN-LXSPJ-0001",
            Some(&admin),
            json!({"handles": true}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, now) = app.get_json("/api/v1/halls?item=JN-LXSPJ-0001", None).await;
    assert_eq!(now.as_array().unwrap().len(), 2);
    let clerk = app.demo_token("spj.clerk").await;
    let (s, _) = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/halls/JN-H-0003/items/JN-LXSPJ-0001",
            Some(&clerk),
            json!({"handles": false}),
        )
        .await;
    assert_eq!(s, 403);
}

async fn nearest_halls_by_distance_for_an_item(app: &TestApp) {
    // 泉城广场. 食品经营许可 (a district-level item of a city department) is handled by every
    // district centre.
    let (s, near) =
        app.get_json("/api/v1/halls/nearest?lat=36.6611&lon=117.0216&item=JN-SPJ-0003&limit=5", None).await;
    assert_eq!(s, 200, "{near}");
    let near = near.as_array().unwrap();
    assert_eq!(near.len(), 5);
    let distances: Vec<f64> = near.iter().map(|h| h["distance_m"].as_f64().unwrap()).collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert!(near.iter().all(|h| h["level"] == "district" && h["open_now"].is_boolean()));
    // Without an item, the closest hall of any level comes first.
    let (_, any) = app.get_json("/api/v1/halls/nearest?lat=36.6611&lon=117.0216", None).await;
    assert!(any[0]["distance_m"].as_f64().unwrap() <= distances[0]);
    for (q, field) in [
        ("lat=91&lon=117", "lat"),
        ("lat=36.6&lon=-181", "lon"),
        ("lat=abc&lon=117", "lat"),
        ("lon=117", "lat"),
    ] {
        let (s, b) = app.get_json(&format!("/api/v1/halls/nearest?{q}"), None).await;
        assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!(field)), "{q}: {b}");
    }
    let (s, b) = app.get_json("/api/v1/halls/nearest?lat=36.6&lon=117&item=NOPE", None).await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("item")));
}

async fn booking_refusals_cancel_and_calendar_file(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let day = next_working_weekday(app).await;
    let date = day.format("%Y-%m-%d");
    let (s, slots) =
        app.get_json(&format!("/api/v1/halls/JN-H-0002/slots?date={date}&item=JN-SPJ-0003"), None).await;
    assert_eq!(s, 200, "{slots}");
    assert_eq!(slots["open"], true);
    let list = slots["slots"].as_array().unwrap();
    assert_eq!(list[0]["start"], format!("{date}T09:00"));
    let capacity = list[0]["capacity"].as_i64().unwrap();
    assert_eq!(list[0]["remaining"].as_i64().unwrap(), capacity);
    let slot = format!("{date}T09:30");
    let body = json!({"hall_code": "JN-H-0002", "item_code": "JN-SPJ-0003", "slot_start": slot});
    let (s, a) = app.post_json("/api/v1/appointments", Some(&citizen), body.clone()).await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["status"], "booked");
    let (s, b) = app.post_json("/api/v1/appointments", Some(&citizen), body.clone()).await;
    assert_eq!((s, b["code"].clone()), (409, json!("already_booked")), "{b}");
    let (_, after) = app.get_json(&format!("/api/v1/halls/JN-H-0002/slots?date={date}"), None).await;
    let place =
        after["slots"].as_array().unwrap().iter().find(|x| x["start"] == slot.as_str()).unwrap().clone();
    assert_eq!(place["remaining"].as_i64().unwrap(), capacity - 1);

    // The calendar file.
    let id = a["id"].as_str().unwrap();
    let resp = app
        .client
        .get(app.url(&format!("/api/v1/appointments/{id}/ics")))
        .bearer_auth(&citizen)
        .send()
        .await
        .unwrap();
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let ics = resp.text().await.unwrap();
    assert!(ics.contains(&format!("DTSTART;TZID=Asia/Shanghai:{}T093000", day.format("%Y%m%d"))), "{ics}");

    // Refusals, each naming the field; nothing is stored.
    let sunday = {
        let mut d = day;
        while d.weekday() != Weekday::Sun {
            d += Duration::days(1);
        }
        d
    };
    let cases = [
        (
            json!({"hall_code": "JN-H-0002", "item_code": "JN-SPJ-0003", "slot_start": "2020-01-06T09:00"}),
            "in_the_past",
        ),
        (
            json!({"hall_code": "JN-H-0002", "item_code": "JN-SPJ-0003", "slot_start": format!("{date}T12:30")}),
            "not_a_slot",
        ),
        (
            json!({"hall_code": "JN-H-0002", "item_code": "JN-SPJ-0003", "slot_start": format!("{}T09:00", sunday.format("%Y-%m-%d"))}),
            "hall_closed",
        ),
        (
            json!({"hall_code": "JN-H-0002", "item_code": "JN-SPJ-0003", "slot_start": "2099-01-05T09:00"}),
            "too_far_ahead",
        ),
        (json!({"hall_code": "JN-H-0002", "item_code": "JN-SPJ-0003", "slot_start": "soon"}), "invalid_time"),
        (
            json!({"hall_code": "JN-H-0001", "item_code": "JN-SPJ-0003", "slot_start": slot}),
            "not_handled_here",
        ),
        (json!({"hall_code": "JN-H-9999", "item_code": "JN-SPJ-0003", "slot_start": slot}), "unknown_hall"),
    ];
    for (body, code) in cases {
        let (s, b) = app.post_json("/api/v1/appointments", Some(&citizen), body).await;
        assert_eq!((s, b["errors"][0]["code"].clone()), (422, json!(code)), "{b}");
    }
    let (_, mine) = app.get_json("/api/v1/appointments", Some(&citizen)).await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "refusals stored nothing");

    // Cancelling frees the place; a second cancel is refused.
    let (s, c) = app.post_json(&format!("/api/v1/appointments/{id}/cancel"), Some(&citizen), json!({})).await;
    assert_eq!((s, c["status"].clone()), (200, json!("cancelled")));
    let (s, _) = app.post_json(&format!("/api/v1/appointments/{id}/cancel"), Some(&citizen), json!({})).await;
    assert_eq!(s, 409);
    let (_, after) = app.get_json(&format!("/api/v1/halls/JN-H-0002/slots?date={date}"), None).await;
    let place =
        after["slots"].as_array().unwrap().iter().find(|x| x["start"] == slot.as_str()).unwrap().clone();
    assert_eq!(place["remaining"].as_i64().unwrap(), capacity);
    // Someone else's appointment is not found; without a login there is nothing.
    let rep = app.demo_token("13800138002").await;
    let (s, _) = app.post_json(&format!("/api/v1/appointments/{id}/cancel"), Some(&rep), json!({})).await;
    assert_eq!(s, 404);
    let (s, _) = app.post_json("/api/v1/appointments", None, body).await;
    assert_eq!(s, 401);
}

async fn no_shows_pause_booking(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let clerk = app.demo_token("spj.clerk").await;
    let day = next_working_weekday(app).await;
    let date = day.format("%Y-%m-%d");
    let mut ids = Vec::new();
    for t in ["09:00", "09:30", "10:00"] {
        let (s, a) = app
            .post_json(
                "/api/v1/appointments",
                Some(&citizen),
                json!({"hall_code": "JN-H-0002", "item_code": "JN-SPJ-0003", "slot_start": format!("{date}T{t}")}),
            )
            .await;
        assert_eq!(s, 201, "{a}");
        ids.push(a["id"].as_str().unwrap().to_string());
    }
    let visit = |token: &str, id: &str| {
        let (token, path) = (token.to_string(), format!("/api/v1/appointments/{id}/visit"));
        async move { app.post_json(&path, Some(&token), json!({"status": "no_show"})).await }
    };
    // Nobody is absent before the slot begins; a clerk of another hall does not see the booking.
    let (s, b) = visit(&clerk, &ids[0]).await;
    assert_eq!((s, b["code"].clone()), (409, json!("slot_not_started")), "{b}");
    let elsewhere = app.demo_token("scj.clerk").await;
    let (s, _) = visit(&elsewhere, &ids[0]).await;
    assert_eq!(s, 404, "not this clerk's hall");
    // That morning at 10:15 the three slots have begun: the hall's clerk records the no-shows.
    let at = quanban::platform::clock::from_beijing(day.and_hms_opt(10, 15, 0).unwrap());
    app.clock().set(at).unwrap();
    // A day later yesterday's sessions have ended: sign in again.
    let (citizen, clerk) = (app.demo_token("13800138001").await, app.demo_token("spj.clerk").await);
    let visit = |token: &str, id: &str| {
        let (token, path) = (token.to_string(), format!("/api/v1/appointments/{id}/visit"));
        async move { app.post_json(&path, Some(&token), json!({"status": "no_show"})).await }
    };
    for id in &ids {
        let (s, v) = visit(&clerk, id).await;
        assert_eq!((s, v["status"].clone()), (200, json!("no_show")), "{v}");
    }
    let (s, b) = app
        .post_json(
            "/api/v1/appointments",
            Some(&citizen),
            json!({"hall_code": "JN-H-0002", "item_code": "JN-SPJ-0003", "slot_start": format!("{date}T10:30")}),
        )
        .await;
    assert_eq!((s, b["code"].clone()), (409, json!("booking_paused")), "{b}");
    // A citizen cannot record visits.
    let (_, mine) = app.get_json("/api/v1/appointments", Some(&citizen)).await;
    let id = mine[0]["id"].as_str().unwrap();
    let (s, _) = app
        .post_json(&format!("/api/v1/appointments/{id}/visit"), Some(&citizen), json!({"status": "arrived"}))
        .await;
    assert_eq!(s, 403);
}

/// 25 people race for one slot of capacity 10: exactly 10 get it, on both databases.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crowd_never_overbooks_a_slot() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = TestApp::start_with(backend, |c| c.slot_capacity = 10).await else { continue };
        let day = next_working_weekday(&app).await;
        let slot = format!("{}T14:00", day.format("%Y-%m-%d"));
        let mut tokens = Vec::new();
        for i in 0..25 {
            let name: String =
                ["排队", &"甲乙丙丁戊己庚辛壬癸".chars().nth((i % 10) as usize).unwrap().to_string()]
                    .concat();
            let (phone, password) = app.register_person(&name, 500 + i).await;
            tokens.push(app.token(&phone, &password).await);
        }
        let body = json!({"hall_code": "JN-H-0002", "item_code": "JN-SPJ-0003", "slot_start": slot});
        let results = futures::future::join_all(
            tokens.iter().map(|t| app.post_json("/api/v1/appointments", Some(t), body.clone())),
        )
        .await;
        let won = results.iter().filter(|(s, _)| *s == 201).count();
        let full = results.iter().filter(|(s, b)| *s == 409 && b["code"] == "slot_full").count();
        assert_eq!(
            (won, full),
            (10, 15),
            "{backend:?}: {:?}",
            results.iter().map(|r| r.0).collect::<Vec<_>>()
        );
        let (_, slots) = app
            .get_json(&format!("/api/v1/halls/JN-H-0002/slots?date={}", day.format("%Y-%m-%d")), None)
            .await;
        let s =
            slots["slots"].as_array().unwrap().iter().find(|x| x["start"] == slot.as_str()).unwrap().clone();
        assert_eq!(s["remaining"], 0);
        app.stop().await;
    }
}

/// Numbers are given only while the hall is open: when the test's instant falls outside its
/// hours, taking one is refused naming the next opening, and the clock moves there.
async fn open_the_hall(app: &TestApp, code: &str) {
    let hall = app.state.halls.directory.get(code).unwrap().clone();
    let cal = app.state.calendar().await;
    let now = app.clock().beijing_now();
    if quanban::halls::domain::is_open(&hall.hours, &cal, now) {
        return;
    }
    let next = quanban::halls::domain::next_opening(&hall.hours, &cal, now).unwrap();
    let (s, b) = app.post_json(&format!("/api/v1/halls/{code}/queue"), None, json!({})).await;
    assert_eq!((s, b["code"].as_str()), (409, Some("hall_closed")), "{b}");
    let when = next.format("%Y-%m-%d %H:%M").to_string();
    assert!(b["detail"].as_str().unwrap().contains(&when), "names the next opening {when}: {b}");
    app.open_hall(code).await;
    assert_eq!(app.clock().beijing_now(), next);
}

async fn queue_numbers_are_called_in_order(app: &TestApp) {
    open_the_hall(app, "JN-H-0002").await;
    let citizen = app.demo_token("13800138001").await;
    let clerk = app.demo_token("spj.clerk").await;
    let general = app.demo_token("spj.general").await;
    // Two walk-ins (no login needed) and an appointment holder arriving today.
    let (s, a1) = app.post_json("/api/v1/halls/JN-H-0002/queue", None, json!({})).await;
    assert_eq!((s, a1["label"].clone()), (201, json!("A001")), "{a1}");
    let (_, a2) = app.post_json("/api/v1/halls/JN-H-0002/queue", None, json!({})).await;
    assert_eq!(a2["label"], "A002");
    assert_eq!(a2["ahead"], 1);
    let today = app.clock().today().format("%Y-%m-%d").to_string();
    let (_, me) = app.get_json("/api/v1/me", Some(&citizen)).await;
    let user = me["id"].as_str().unwrap().to_string();
    let booked = quanban::halls::store::book(
        &app.state.db,
        quanban::halls::store::NewAppointment {
            id: "appt-today".into(),
            hall_code: "JN-H-0002".into(),
            item_code: "JN-SPJ-0003".into(),
            user_id: user,
            slot_start: format!("{today}T23:00"),
            slot_end: format!("{today}T23:30"),
            capacity: 5,
        },
    )
    .await
    .unwrap();
    assert_eq!(booked, quanban::halls::store::Booking::Booked);
    let (s, b1) = app
        .post_json("/api/v1/halls/JN-H-0002/queue", Some(&citizen), json!({"appointment_id": "appt-today"}))
        .await;
    assert_eq!((s, b1["label"].clone()), (201, json!("B001")), "{b1}");
    let (_, mine) = app.get_json("/api/v1/appointments", Some(&citizen)).await;
    assert_eq!(mine[0]["status"], "arrived");
    let (s, again) = app
        .post_json("/api/v1/halls/JN-H-0002/queue", Some(&citizen), json!({"appointment_id": "appt-today"}))
        .await;
    assert_eq!(s, 409, "{again}");

    // Appointments first, then walk-ins in order; two clerks never get the same number.
    let call = |token: &str, window: &str| {
        let token = token.to_string();
        let body = json!({"window": window});
        async move { app.post_json("/api/v1/halls/JN-H-0002/queue/call", Some(&token), body).await }
    };
    let (s, first) = call(&clerk, "1号窗口").await;
    assert_eq!((s, first["ticket"]["label"].clone()), (200, json!("B001")), "{first}");
    let ((_, x), (_, y)) = tokio::join!(call(&clerk, "1号窗口"), call(&general, "2号窗口"));
    let mut labels = vec![
        x["ticket"]["label"].as_str().unwrap().to_string(),
        y["ticket"]["label"].as_str().unwrap().to_string(),
    ];
    labels.sort();
    assert_eq!(labels, ["A001", "A002"]);
    let (_, none) = call(&clerk, "1号窗口").await;
    assert_eq!(none["ticket"], json!(null), "nobody waiting");
    let (_, status) = app.get_json("/api/v1/halls/JN-H-0002/queue", None).await;
    assert_eq!(status["issued_today"], 3);
    assert_eq!(status["served_today"], 3);
    assert!(status["mean_wait_minutes"].as_f64().unwrap() >= 0.0);
    let id = a1["id"].as_str().unwrap();
    let (_, t) = app.get_json(&format!("/api/v1/queue/tickets/{id}"), None).await;
    // Called to a window (and done if that window has called again since).
    assert!(t["status"] == "called" || t["status"] == "done", "{t}");
    assert!(t["window_label"].is_string());
    // Citizens cannot call; bad input names the field.
    let (s, _) =
        app.post_json("/api/v1/halls/JN-H-0002/queue/call", Some(&citizen), json!({"window": "1"})).await;
    assert_eq!(s, 403);
    let (s, b) = app
        .post_json(
            "/api/v1/halls/JN-H-0002/queue/call",
            Some(&clerk),
            json!({"window": "1", "groups": ["Z"]}),
        )
        .await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("groups")));
    let (s, b) = app
        .post_json("/api/v1/halls/JN-H-0002/queue", Some(&citizen), json!({"appointment_id": "nope"}))
        .await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("appointment_id")));
}

async fn kiosks_register_beat_and_fall_silent(app: &TestApp) {
    let admin = app.demo_token("dsj.admin").await;
    let clerk = app.demo_token("spj.clerk").await;
    let body = json!({"hall_code": "JN-H-0002", "name": "一楼大厅 1 号机"});
    let (s, _) = app.post_json("/api/v1/kiosks", Some(&clerk), body.clone()).await;
    assert_eq!(s, 403);
    let (s, b) =
        app.post_json("/api/v1/kiosks", Some(&admin), json!({"hall_code": "NOPE", "name": ""})).await;
    let fields: Vec<&str> =
        b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!((s, fields), (422, vec!["hall_code", "name"]));
    let (s, k) = app.post_json("/api/v1/kiosks", Some(&admin), body).await;
    assert_eq!(s, 201, "{k}");
    let id = k["kiosk"]["id"].as_str().unwrap().to_string();
    let token = k["token"].as_str().unwrap().to_string();
    assert!(k["url"].as_str().unwrap().ends_with(&format!("/kiosk/{id}?token={token}")));
    let silent = |list: &serde_json::Value| {
        list.as_array().unwrap().iter().find(|x| x["id"] == id.as_str()).unwrap()["silent"].clone()
    };
    let (_, list) = app.get_json("/api/v1/kiosks", Some(&clerk)).await;
    assert_eq!(silent(&list), true, "never heard from");
    let (s, _) = app.post_json("/api/v1/kiosks/heartbeat", None, json!({"id": id, "token": "wrong"})).await;
    assert_eq!(s, 401);
    let (s, _) = app.post_json("/api/v1/kiosks/heartbeat", None, json!({"id": id, "token": token})).await;
    assert_eq!(s, 204);
    let (_, list) = app.get_json("/api/v1/kiosks", Some(&clerk)).await;
    assert_eq!(silent(&list), false);
    // The kiosk page switches the browser into kiosk mode; a wrong token finds nothing.
    let page = app.client.get(app.url(&format!("/kiosk/{id}?token={token}"))).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("<body class=\"kiosk\">"));
    let home = app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("/static/kiosk.js"), "every page in kiosk mode has the idle timeout");
    let wrong = app.client.get(app.url(&format!("/kiosk/{id}?token=nope"))).send().await.unwrap();
    assert_eq!(wrong.status().as_u16(), 404);
}

async fn numbers_only_while_open_cancel_recall_and_pass_over(app: &TestApp) {
    // Closed at night: refused, naming when it opens; nothing issued.
    let hall = app.state.halls.directory.get("JN-H-0002").unwrap().clone();
    let cal = app.state.calendar().await;
    let night = app.clock().today().and_hms_opt(22, 0, 0).unwrap();
    app.clock().set(quanban::platform::clock::from_beijing(night)).unwrap();
    let (s, b) = app.post_json("/api/v1/halls/JN-H-0002/queue", None, json!({})).await;
    assert_eq!((s, b["code"].as_str()), (409, Some("hall_closed")), "{b}");
    assert_eq!(app.audit_count("queue.issue").await, 0);
    open_the_hall(app, "JN-H-0002").await;
    assert!(quanban::halls::domain::is_open(&hall.hours, &cal, app.clock().beijing_now()));

    let citizen = app.demo_token("13800138001").await;
    let clerk = app.demo_token("spj.clerk").await;
    // The service chosen is kept with the number; an unknown one is refused naming the field.
    let (s, b) = app.post_json("/api/v1/halls/JN-H-0002/queue", None, json!({"item_code": "NOPE"})).await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("item_code")), "{b}");
    let (s, first) =
        app.post_json("/api/v1/halls/JN-H-0002/queue", None, json!({"item_code": "JN-SPJ-0003"})).await;
    assert_eq!(s, 201, "{first}");
    assert_eq!(first["item_code"], "JN-SPJ-0003");
    let (id, secret) =
        (first["id"].as_str().unwrap().to_string(), first["holder_secret"].as_str().unwrap().to_string());
    let cancel = |id: String, token: Option<String>, body: serde_json::Value| async move {
        app.post_json(&format!("/api/v1/queue/tickets/{id}/cancel"), token.as_deref(), body).await
    };
    // Only its holder leaves the queue: without the slip's code, or with another, it is not found.
    assert_eq!(cancel(id.clone(), None, json!({})).await.0, 404);
    assert_eq!(cancel(id.clone(), Some(citizen.clone()), json!({"secret": "0000000000000000"})).await.0, 404);
    let (s, b) = cancel(id.clone(), None, json!({"secret": secret})).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("cancelled")), "{b}");
    let (s, b) = cancel(id.clone(), None, json!({"secret": secret})).await;
    assert_eq!((s, b["code"].as_str()), (409, Some("not_waiting")), "{b}");
    // The signed-in holder needs no code.
    let (_, mine) = app.post_json("/api/v1/halls/JN-H-0002/queue", Some(&citizen), json!({})).await;
    let (s, b) = cancel(mine["id"].as_str().unwrap().to_string(), Some(citizen.clone()), json!({})).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("cancelled")), "{b}");
    assert_eq!(app.audit_count("queue.cancel").await, 2);

    // A cancelled number is never called.
    let (_, third) = app.post_json("/api/v1/halls/JN-H-0002/queue", None, json!({})).await;
    let call = |window: &str| {
        let body = json!({"window": window});
        let clerk = clerk.clone();
        async move { app.post_json("/api/v1/halls/JN-H-0002/queue/call", Some(&clerk), body).await }
    };
    let (s, called) = call("7号窗口").await;
    assert_eq!((s, called["ticket"]["label"].clone()), (200, third["label"].clone()), "{called}");
    // 重呼: the same number again, back on top of the display.
    let step = |what: &str, token: &str, window: &str| {
        let (path, token, body) =
            (format!("/api/v1/halls/JN-H-0002/queue/{what}"), token.to_string(), json!({"window": window}));
        async move { app.post_json(&path, Some(&token), body).await }
    };
    let (s, again) = step("recall", &clerk, "7号窗口").await;
    assert_eq!(
        (s, again["recalls"].as_i64(), again["label"].clone()),
        (200, Some(1), third["label"].clone()),
        "{again}"
    );
    let (_, display) = app.get_json("/api/v1/halls/JN-H-0002/queue", None).await;
    assert_eq!(display["called"][0]["label"], third["label"]);
    // 过号: passed over; then the window has nothing called.
    let (s, passed) = step("skip", &clerk, "7号窗口").await;
    assert_eq!((s, passed["status"].as_str()), (200, Some("skipped")), "{passed}");
    let (s, b) = step("skip", &clerk, "7号窗口").await;
    assert_eq!((s, b["code"].as_str()), (409, Some("nothing_called")), "{b}");
    let (s, b) = step("recall", &clerk, "8号窗口").await;
    assert_eq!((s, b["code"].as_str()), (409, Some("nothing_called")), "{b}");
    let (s, b) = step("recall", &clerk, " ").await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("window")), "{b}");
    assert_eq!(step("recall", &citizen, "7号窗口").await.0, 403, "citizens do not call");
    assert_eq!((app.audit_count("queue.recall").await, app.audit_count("queue.skip").await), (1, 1));

    // Leaving and being called at the same moment: one of them wins, never both.
    for _ in 0..5 {
        let (_, t) = app.post_json("/api/v1/halls/JN-H-0002/queue", None, json!({})).await;
        let (id, secret) = (t["id"].as_str().unwrap().to_string(), t["holder_secret"].clone());
        let ((cs, _), (_, called)) =
            tokio::join!(cancel(id.clone(), None, json!({"secret": secret})), call("9号窗口"));
        let (_, now) = app.get_json(&format!("/api/v1/queue/tickets/{id}"), None).await;
        let was_called = called["ticket"]["id"] == id.as_str();
        match (cs, was_called) {
            (200, false) => assert_eq!(now["status"], "cancelled"),
            (409, true) => assert_eq!(now["status"], "called"),
            other => panic!("cancel {other:?}: {now}"),
        }
        // The window finishes with whoever it had before the next round.
        let _ = step("skip", &clerk, "9号窗口").await;
    }
}

/// 扫码登录: only a registered kiosk shows a code; the person confirms on the phone, signed in
/// there; the kiosk then signs in once as them; a code two minutes old, a second confirmation or
/// a second sign-in are refused, and staff cannot lend their phones.
async fn a_kiosk_signs_in_with_the_phone_once(app: &TestApp) {
    let browser = common::page_client;
    let csrf_of = common::csrf_of;
    let log_in = |client: &reqwest::Client, username: String, password: String| {
        let (client, base) = (client.clone(), app.url(""));
        async move { common::web_login(&client, &base, &username, &password).await }
    };
    let admin = app.demo_token("dsj.admin").await;
    let (s, k) = app
        .post_json("/api/v1/kiosks", Some(&admin), json!({"hall_code": "JN-H-0002", "name": "一楼2号机"}))
        .await;
    assert_eq!(s, 201, "{k}");
    let (kiosk_id, token) = (k["kiosk"]["id"].as_str().unwrap(), k["token"].as_str().unwrap());
    let kiosk = browser();
    let r = kiosk.get(app.url(&format!("/kiosk/{kiosk_id}?token={token}"))).send().await.unwrap();
    assert!(r.status().is_success() || r.status().is_redirection(), "{}", r.status());
    // Anyone else's browser shows no code.
    assert_eq!(browser().get(app.url("/kiosk/qr-login")).send().await.unwrap().status(), 404);

    let new_code = || {
        let kiosk = kiosk.clone();
        async move {
            let page = kiosk.get(app.url("/kiosk/qr-login")).send().await.unwrap().text().await.unwrap();
            assert!(page.contains("<svg"), "a QR code");
            let at = page.find(r#"id="qr-link">"#).unwrap() + r#"id="qr-link">"#.len();
            let link = page[at..at + page[at..].find('<').unwrap()].to_string();
            let path = link[link.find("/qr-login/").unwrap()..].to_string();
            (path, csrf_of(&page))
        }
    };
    let status = || {
        let kiosk = kiosk.clone();
        async move {
            let r = kiosk.get(app.url("/kiosk/qr-login/status")).send().await.unwrap();
            r.json::<serde_json::Value>().await.unwrap()["status"].as_str().unwrap().to_string()
        }
    };
    let sign_in = |csrf: String| {
        let kiosk = kiosk.clone();
        async move { kiosk.post(app.url("/kiosk/qr-login/sign-in")).form(&[("csrf", csrf)]).send().await.unwrap() }
    };
    let (path, kiosk_csrf) = new_code().await;
    assert_eq!(status().await, "pending");
    assert_eq!(sign_in(kiosk_csrf.clone()).await.status(), 409, "not before the phone confirms");

    // The phone: signed in first (the page asks for it), then confirms.
    let phone = browser();
    let r = phone.get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login?next="));
    let citizen = app.demo("13800138001").await;
    log_in(&phone, citizen.username.clone(), citizen.password.clone()).await;
    let page = phone.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("历下区政务服务中心") && page.contains("qr-approve"), "which kiosk asks");
    let decide = |decision: &'static str, page: String| {
        let (phone, path) = (phone.clone(), path.clone());
        async move {
            let form = [("csrf", csrf_of(&page)), ("decision", decision.to_string())];
            phone.post(app.url(&path)).form(&form).send().await.unwrap().text().await.unwrap()
        }
    };
    let answer = decide("approve", page.clone()).await;
    assert!(answer.contains("已确认"), "{answer}");
    assert_eq!(status().await, "approved");
    assert!(decide("approve", page.clone()).await.contains("已在手机上确认过"), "confirmed once");
    // Staff do not sign kiosks in from their phones.
    let staff = browser();
    let clerk = app.demo("spj.clerk").await;
    log_in(&staff, clerk.username.clone(), clerk.password.clone()).await;
    assert_eq!(staff.get(app.url(&path)).send().await.unwrap().status(), 404);

    // The kiosk signs in once as the person: two tries at the same moment, one session.
    let (a, b) = tokio::join!(sign_in(kiosk_csrf.clone()), sign_in(kiosk_csrf.clone()));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [303, 409]);
    let cases = kiosk.get(app.url("/my/cases")).send().await.unwrap();
    assert_eq!(cases.status(), 200, "signed in on the kiosk");
    assert_eq!((app.audit_count("qr_login.approved").await, app.audit_count("qr_login.used").await), (1, 1));

    // A code left two minutes is gone, for the phone and the kiosk alike.
    let (old, _) = new_code().await;
    app.clock().advance(chrono::Duration::seconds(121)).unwrap();
    assert_eq!(status().await, "expired");
    let page = phone.get(app.url(&old)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("已失效") && !page.contains("qr-approve"), "{page}");
}
