//! Race stories of the write path, on both databases. On PostgreSQL every race is run across two
//! servers (two app states with their own connection pools on one database), half of the
//! requests through each; `tests/it/processes.rs` runs the same races across two `quanban serve`
//! processes. Every write claims its row first and a lost claim rolls back everything it did,
//! so each story checks both that one side wins and that nothing of the loser was kept.

use std::net::SocketAddr;

use crate::common::{Backend, TestApp};
use base64::Engine;
use futures::future::join_all;
use quanban::app::AppState;
use serde_json::{Value, json};
use sqlx::Row;

crate::stories!(
    withdraw_races_approve_and_the_loser_leaves_nothing,
    two_parts_of_a_bundle_finish_at_once,
    a_bundle_withdrawn_while_a_part_is_accepted,
    proactive_scans_at_once_raise_one_task_per_cluster,
    one_complaint_dispatched_twice,
    an_appointment_cancelled_while_visited,
    data_requests_decided_and_withdrawn_at_once,
    a_called_number_passed_over_twice_and_recalled_at_once,
    one_hand_off_answered_twice_with_different_items,
    one_project_stage_applied_for_twice_at_once,
    joint_opinions_given_at_once_keep_each_with_its_event,
    monitoring_sweeps_at_once_raise_each_case_once,
    one_supervision_order_closed_twice_at_once,
    supervision_orders_issued_by_hand_at_once_each_get_their_own_number,
    one_milestone_reviewed_twice_at_once_and_reported_twice_at_once,
    two_plans_sharing_a_task_imported_at_once,
    scorecards_summed_on_both_servers_while_cases_are_decided_miss_none,
);

/// A second server on the same database (PostgreSQL); on SQLite, whose file has one writer
/// process, the same server again.
struct Servers {
    bases: Vec<String>,
    _second: Option<AppState>,
}

impl Servers {
    async fn of(app: &TestApp) -> Servers {
        Servers::at(app, None).await
    }

    /// The same, the second server's clock set to `clock` (the first's is the test's own).
    async fn at(app: &TestApp, clock: Option<String>) -> Servers {
        if app.backend == Backend::Sqlite {
            return Servers { bases: vec![app.base.clone()], _second: None };
        }
        let mut config = quanban::config::Config::clone(&app.state.config);
        if clock.is_some() {
            config.clock = clock;
        }
        let second = AppState::open(config).await.expect("second server starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = quanban::app::router(second.clone());
        tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
        });
        Servers { bases: vec![app.base.clone(), format!("http://{addr}")], _second: Some(second) }
    }

    /// The server for the `i`-th request (alternating on PostgreSQL).
    fn base(&self, i: usize) -> &str {
        &self.bases[i % self.bases.len()]
    }
}

async fn post(app: &TestApp, base: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
    let resp = app.client.post(format!("{base}{path}")).bearer_auth(token).json(&body).send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn pdf() -> String {
    base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4\n% race material\n")
}

/// A citizen's application for 食品经营许可（新办）, accepted: it can now be approved, or
/// withdrawn by the applicant.
async fn accepted_food_licence(app: &TestApp, citizen: &str, clerk: &str) -> String {
    let (s, b) = app
        .post_json(
            "/api/v1/cases",
            Some(citizen),
            json!({
                "item_code": "JN-SPJ-0003",
                "form": {"contact_name": "张伟", "contact_phone": "13800138001"},
                "materials": [{"index": 0, "file_name": "申请书.pdf", "content_base64": pdf()}],
            }),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let n = b["case_number"].as_str().unwrap().to_string();
    let (s, b) = app.post_json(&format!("/api/v1/cases/{n}/actions/accept"), Some(clerk), json!({})).await;
    assert_eq!(s, 200, "{b}");
    n
}

async fn count(app: &TestApp, sql: &'static str, key: &str) -> i64 {
    sqlx::query(sql).bind(key).fetch_one(app.state.db.reader()).await.unwrap().try_get::<i64, _>(0).unwrap()
}

/// 200 cases, each withdrawn by its applicant while the approver approves it: every case ends in
/// exactly one final state; a withdrawn one has no e-licence, no decision and no "approved"
/// message; an approved one has exactly one e-licence; the loser was told 409 with the winner's
/// state; the audit chains verify.
async fn withdraw_races_approve_and_the_loser_leaves_nothing(app: &TestApp) {
    const PAIRS: usize = 200;
    let citizen = app.demo_token("13800138001").await;
    let clerk = app.demo_token("spj.clerk").await;
    let approver = app.demo_token("spj.approver").await;
    let servers = Servers::of(app).await;
    let mut numbers = Vec::new();
    for chunk in (0..PAIRS).collect::<Vec<_>>().chunks(20) {
        numbers.extend(join_all(chunk.iter().map(|_| accepted_food_licence(app, &citizen, &clerk))).await);
    }
    let races = numbers.iter().enumerate().map(|(i, n)| {
        let (withdraw_at, approve_at) = (servers.base(i), servers.base(i + 1));
        let (citizen, approver) = (citizen.clone(), approver.clone());
        async move {
            let (withdraw, approve) =
                (format!("/api/v1/cases/{n}/actions/withdraw"), format!("/api/v1/cases/{n}/actions/approve"));
            let (w, a) = tokio::join!(
                post(app, withdraw_at, &withdraw, &citizen, json!({})),
                post(app, approve_at, &approve, &approver, json!({})),
            );
            (n.clone(), w, a)
        }
    });
    let outcomes = join_all(races).await;
    let approved_zh = quanban::cases::domain::CaseState::Approved.label_zh();
    let (mut withdrawn, mut approved) = (0, 0);
    for (n, (ws, wb), (as_, ab)) in outcomes {
        let mut statuses = [ws, as_];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{n}: withdraw {ws} {wb}, approve {as_} {ab}");
        let row = sqlx::query("SELECT state, decision, decision_document FROM cases WHERE number = $1")
            .bind(&n)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
        let state: String = row.try_get("state").unwrap();
        let licences = count(app, "SELECT COUNT(*) FROM credentials WHERE case_number = $1", &n).await;
        let approved_messages = sqlx::query(
            "SELECT COUNT(*) FROM notifications WHERE case_number = $1 AND title_zh LIKE '%' || $2",
        )
        .bind(&n)
        .bind(approved_zh)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap();
        let events = count(app, "SELECT COUNT(*) FROM case_events WHERE case_number = $1", &n).await;
        assert_eq!(events, 3, "{n}: submit, accept and the winner's event only");
        match state.as_str() {
            "withdrawn" => {
                withdrawn += 1;
                assert_eq!(ws, 200);
                assert_eq!(ab["state"], "withdrawn", "{n}: the loser is told the winner's state: {ab}");
                assert_eq!(licences, 0, "{n}: withdrawn but an e-licence was kept");
                assert!(row.try_get::<Option<String>, _>("decision").unwrap().is_none(), "{n}");
                assert!(row.try_get::<Option<String>, _>("decision_document").unwrap().is_none(), "{n}");
                assert_eq!(approved_messages, 0, "{n}: withdrawn but told it was approved");
            }
            "approved" => {
                approved += 1;
                assert_eq!(as_, 200);
                assert_eq!(wb["state"], "approved", "{n}: {wb}");
                assert_eq!(licences, 1, "{n}: approved with {licences} e-licences");
                assert_eq!(approved_messages, 1, "{n}");
            }
            other => panic!("{n} ended {other}"),
        }
    }
    assert_eq!(withdrawn + approved, PAIRS);
    eprintln!("withdraw vs approve ({:?}): {withdrawn} withdrawn, {approved} approved", app.backend);
    let admin = app.demo_token("dsj.admin").await;
    let (_, ok) = app.get_json("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!(ok["ok"], true, "{ok}");
}

/// 100 bundles (开药店一件事, three parts in three departments): every part is brought to its
/// decision, then all parts of all bundles are closed at once. Every bundle ends finished with
/// exactly one combined result listing every part, one "parts changed" event per change of the
/// bundle's state, and one "finished" message.
async fn two_parts_of_a_bundle_finish_at_once(app: &TestApp) {
    const BUNDLES: usize = 100;
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let staff = app.pharmacy_bundle_staff().await;
    let servers = Servers::of(app).await;

    let mut parents = Vec::new();
    for _ in 0..BUNDLES {
        let (s, b) = app
            .post_json(
                "/api/v1/cases",
                Some(&rep),
                json!({"bundle_code": "JN-YJS-004", "enterprise": code,
                       "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        parents.push(b["case_number"].as_str().unwrap().to_string());
    }
    // Each part to its decision (approved), many at once.
    let mut parts: Vec<(String, String)> = Vec::new();
    for p in &parents {
        let rows = sqlx::query("SELECT number, department FROM cases WHERE parent_number = $1")
            .bind(p)
            .fetch_all(app.state.db.reader())
            .await
            .unwrap();
        parts.extend(rows.iter().map(|r| (r.try_get("number").unwrap(), r.try_get("department").unwrap())));
    }
    for chunk in parts.chunks(24) {
        join_all(chunk.iter().map(|(n, d)| decide_part(app, &staff[d.as_str()], n))).await;
    }
    // Now every part closes at once.
    let closes = parts.iter().enumerate().map(|(i, (n, d))| {
        let tokens = &staff[d.as_str()];
        let base = servers.base(i);
        async move {
            for t in tokens {
                let (s, b) = post(app, base, &format!("/api/v1/cases/{n}/actions/close"), t, json!({})).await;
                match s {
                    200 => return,
                    403 => continue,
                    _ => panic!("closing {n}: {s} {b}"),
                }
            }
            panic!("nobody could close {n}");
        }
    });
    join_all(closes).await;
    for p in &parents {
        let row = sqlx::query("SELECT state, decision_document FROM cases WHERE number = $1")
            .bind(p)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
        assert_eq!(row.try_get::<String, _>("state").unwrap(), "closed", "{p}");
        let doc: Value =
            serde_json::from_str(&row.try_get::<String, _>("decision_document").unwrap()).unwrap();
        assert_eq!(doc["kind"], "bundle_result", "{p}");
        let listed = doc["parts"].as_array().unwrap();
        assert!(listed.len() >= 3 && listed.iter().all(|x| x["state"] == "closed"), "{p}: {doc}");
        let finished = count(
            app,
            "SELECT COUNT(*) FROM case_events WHERE case_number = $1 AND action = 'parts_changed' AND to_state = 'closed'",
            p,
        )
        .await;
        assert_eq!(finished, 1, "{p}: one change to finished");
        let told = count(
            app,
            "SELECT COUNT(*) FROM notifications WHERE case_number = $1 AND body_zh LIKE '%全部事项均已办结%'",
            p,
        )
        .await;
        assert_eq!(told, 1, "{p}: told once");
        // The parent's timeline has no gaps or doubles: one event per version.
        let (events, version) = {
            let e = count(app, "SELECT COUNT(*) FROM case_events WHERE case_number = $1", p).await;
            let v = count(app, "SELECT version FROM cases WHERE number = $1", p).await;
            (e, v)
        };
        assert_eq!(events, version, "{p}: events and versions");
    }
}

/// 20 bundles (开药店一件事), each withdrawn by its applicant while a window clerk accepts its
/// 审批局 part. Whatever the order, nothing is half-written: a withdrawal that answered 200 left
/// every part and the bundle withdrawn; one that answered 409 left the bundle and its other parts
/// as they were; an accept that answered 409 was told `withdrawn`; every timeline has one event
/// per version.
async fn a_bundle_withdrawn_while_a_part_is_accepted(app: &TestApp) {
    let rep = app.demo_token("13800138002").await;
    let clerk = app.demo_token("spj.clerk").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let servers = Servers::of(app).await;
    for round in 0..20 {
        let (s, b) = app
            .post_json(
                "/api/v1/cases",
                Some(&rep),
                json!({"bundle_code": "JN-YJS-004", "enterprise": code,
                       "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let parent = b["case_number"].as_str().unwrap().to_string();
        let part: String =
            sqlx::query("SELECT number FROM cases WHERE parent_number = $1 AND department = 'JN-SPJ'")
                .bind(&parent)
                .fetch_one(app.state.db.reader())
                .await
                .unwrap()
                .try_get("number")
                .unwrap();
        let (withdraw, accept) = (
            format!("/api/v1/cases/{parent}/actions/withdraw"),
            format!("/api/v1/cases/{part}/actions/accept"),
        );
        let ((ws, wb), (as_, ab)) = tokio::join!(
            post(app, servers.base(round), &withdraw, &rep, json!({"reason": "改为线下办理"})),
            post(app, servers.base(round + 1), &accept, &clerk, json!({})),
        );
        let states: Vec<(String, String)> =
            sqlx::query("SELECT number, state FROM cases WHERE parent_number = $1")
                .bind(&parent)
                .fetch_all(app.state.db.reader())
                .await
                .unwrap()
                .iter()
                .map(|r| (r.try_get("number").unwrap(), r.try_get("state").unwrap()))
                .collect();
        let parent_state: String = sqlx::query("SELECT state FROM cases WHERE number = $1")
            .bind(&parent)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap()
            .try_get("state")
            .unwrap();
        match ws {
            200 => {
                assert_eq!(parent_state, "withdrawn", "{parent}");
                assert!(states.iter().all(|(_, st)| st == "withdrawn"), "{parent}: {states:?}");
            }
            409 => {
                assert_ne!(parent_state, "withdrawn", "{parent}: {wb}");
                assert_eq!(as_, 200, "the withdrawal lost to the accept: {ab}");
                for (n, st) in &states {
                    let expected = if *n == part { "accepted" } else { "submitted" };
                    assert_eq!(st, expected, "{n}: nothing of the lost withdrawal was kept");
                }
            }
            other => panic!("withdraw answered {other}: {wb}"),
        }
        if as_ == 409 {
            assert_eq!(ab["state"], "withdrawn", "{ab}");
        } else {
            assert_eq!(as_, 200, "{ab}");
        }
        for (n, _) in states.iter().chain([(parent.clone(), parent_state.clone())].iter()) {
            let events = count(app, "SELECT COUNT(*) FROM case_events WHERE case_number = $1", n).await;
            let version = count(app, "SELECT version FROM cases WHERE number = $1", n).await;
            assert_eq!(events, version, "{n}: one event per version");
        }
    }
}

/// Brings a part to its decision with whichever of `tokens` can act next.
async fn decide_part(app: &TestApp, tokens: &[String], n: &str) {
    const PREFERENCE: [&str; 3] = ["accept", "start_review", "approve"];
    for _ in 0..6 {
        let mut acted = false;
        for t in tokens {
            let (s, c) = app.get_json(&format!("/api/v1/cases/{n}"), Some(t)).await;
            assert_eq!(s, 200, "{c}");
            if c["state"] == "approved" {
                return;
            }
            let available: Vec<&str> =
                c["available_actions"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
            if let Some(a) = PREFERENCE.iter().find(|p| available.contains(p)) {
                let (s, b) =
                    app.post_json(&format!("/api/v1/cases/{n}/actions/{a}"), Some(t), json!({})).await;
                assert_eq!(s, 200, "{a} on {n}: {b}");
                acted = true;
            }
        }
        assert!(acted, "nobody can move {n} on");
    }
    panic!("{n} not decided");
}

/// Three clusters of alike complaints; then the periodic scan (this process), the API on both
/// servers and a direct call all scan at once, eight times over: each cluster has exactly one
/// task, and each complaint belongs to one.
async fn proactive_scans_at_once_raise_one_task_per_cluster(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let operator = app.demo_token("hotline.operator").await;
    let servers = Servers::of(app).await;
    let spots = [(36.6500, 117.1000), (36.6800, 117.0200), (36.6200, 116.9800)];
    for (k, (lat, lon)) in spots.iter().enumerate() {
        for i in 0..4 {
            let (s, b) = app
                .post_json(
                    "/api/v1/complaints",
                    Some(&citizen),
                    json!({"description": format!("这段路面有个大坑，坑洼很深，第{k}处第{i}次反映"),
                           "category": "city.road_damage", "lat": lat + i as f64 * 0.0003, "lon": lon}),
                )
                .await;
            assert_eq!(s, 201, "{b}");
        }
    }
    let scans = (0..8).map(|i| {
        let (operator, base) = (operator.clone(), servers.base(i).to_string());
        async move {
            let (api, direct) = tokio::join!(
                post(app, &base, "/api/v1/proactive-tasks/scan", &operator, json!({})),
                quanban::complaints::service::scan_clusters(&app.state),
            );
            assert_eq!(api.0, 200, "{}", api.1);
            direct.expect("direct scan");
        }
    });
    join_all(scans).await;
    let rows = sqlx::query("SELECT id, size FROM proactive_tasks WHERE category = 'city.road_damage'")
        .fetch_all(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(rows.len(), spots.len(), "one task per cluster");
    for r in &rows {
        assert_eq!(r.try_get::<i64, _>("size").unwrap(), 4);
    }
    let linked = sqlx::query(
        "SELECT COUNT(*) FROM complaints WHERE category = 'city.road_damage' AND proactive_task IS NOT NULL",
    )
    .fetch_one(app.state.db.reader())
    .await
    .unwrap()
    .try_get::<i64, _>(0)
    .unwrap();
    assert_eq!(linked, 12);
}

/// A returned complaint dispatched by two operators at once, to two departments, each from the
/// version they saw: one wins, the other gets 409 with the status the winner left, and the
/// complaint has one dispatch event. (Without a version, a dispatch after another is a
/// deliberate re-dispatch of the complaint as it now is, and is allowed.)
async fn one_complaint_dispatched_twice(app: &TestApp) {
    let operator = app.demo_token("hotline.operator").await;
    let scj = app.demo_token("scj.clerk").await;
    let servers = Servers::of(app).await;
    for round in 0..10 {
        let (s, b) = app
            .post_json(
                "/api/v1/complaints",
                Some(&operator),
                json!({"description": format!("审批局办食品经营许可证，过了十天还没批（第{round}次）"),
                       "department": "JN-SCJ", "address": "历城区"}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let id = b["complaint"]["id"].as_str().unwrap().to_string();
        let (s, b) = app
            .post_json(
                &format!("/api/v1/complaints/{id}/return"),
                Some(&scj),
                json!({"reason": "不属本部门职责"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        // Both operators saw the returned complaint at this version (their forms carry it).
        let seen = b["version"].as_i64().unwrap();
        let path = format!("/api/v1/complaints/{id}/dispatch");
        let (a, b) = tokio::join!(
            post(
                app,
                servers.base(0),
                &path,
                &operator,
                json!({"department": "JN-SPJ", "category": "gov.hall_service", "version": seen})
            ),
            post(
                app,
                servers.base(1),
                &path,
                &operator,
                json!({"department": "JN-CGJ", "category": "city.road_damage", "version": seen})
            ),
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
        let (winner, loser) = if a.0 == 200 { (a.1, b.1) } else { (b.1, a.1) };
        assert_eq!(loser["state"], winner["status"], "the loser is told the winner's status: {loser}");
        let dispatches = count(
            app,
            "SELECT COUNT(*) FROM complaint_events WHERE complaint_id = $1 AND action = 'dispatch'",
            &id,
        )
        .await;
        assert_eq!(dispatches, 1, "one dispatch recorded");
    }
}

/// An appointment cancelled by its holder while a window clerk records the visit: one wins, the
/// other gets 409 with the winner's status; a cancellation gives the place back exactly once.
async fn an_appointment_cancelled_while_visited(app: &TestApp) {
    use chrono::{Datelike, Duration, Weekday};
    let citizen = app.demo_token("13800138001").await;
    let clerk = app.demo_token("spj.clerk").await;
    let servers = Servers::of(app).await;
    let cal = app.state.calendar().await;
    let mut day = app.clock().today() + Duration::days(1);
    while !cal.is_working_day(day) || matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day += Duration::days(1);
    }
    let slot = format!("{}T10:00", day.format("%Y-%m-%d"));
    for round in 0..4 {
        let (s, a) = app
            .post_json(
                "/api/v1/appointments",
                Some(&citizen),
                json!({"hall_code": "JN-H-0002", "item_code": "JN-SPJ-0003", "slot_start": slot}),
            )
            .await;
        assert_eq!(s, 201, "round {round}: {a}");
        let id = a["id"].as_str().unwrap().to_string();
        let (cancel, visit) =
            (format!("/api/v1/appointments/{id}/cancel"), format!("/api/v1/appointments/{id}/visit"));
        let (c, v) = tokio::join!(
            post(app, servers.base(round), &cancel, &citizen, json!({})),
            post(app, servers.base(round + 1), &visit, &clerk, json!({"status": "arrived"})),
        );
        let mut statuses = [c.0, v.0];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{c:?} {v:?}");
        let (winner, loser) = if c.0 == 200 { (c.1, v.1) } else { (v.1, c.1) };
        assert_eq!(loser["state"], winner["status"], "{loser}");
        let booked = count(
            app,
            "SELECT COUNT(*) FROM appointments WHERE slot_start = $1 AND hall_code = 'JN-H-0002' AND status = 'booked'",
            &slot,
        )
        .await;
        assert_eq!(booked, 0);
    }
    // Every cancelled place came back and every visited one stayed taken.
    let taken = count(
        app,
        "SELECT CAST(COALESCE(SUM(booked), 0) AS BIGINT) FROM appointment_slots WHERE hall_code = 'JN-H-0002' AND slot_start = $1",
        &slot,
    )
    .await;
    let arrived = count(
        app,
        "SELECT COUNT(*) FROM appointments WHERE hall_code = 'JN-H-0002' AND slot_start = $1 AND status = 'arrived'",
        &slot,
    )
    .await;
    assert_eq!(taken, arrived, "places taken = visits recorded");
}

/// 20 requests for conditional data, each decided by its owner (twice, with different verdicts)
/// while its requester withdraws it, through both servers: every request ends in exactly one of
/// granted, refused or withdrawn; the losers got 409; the request moved exactly once (version 2)
/// and its audit stream holds the creation and the one step that won; the chains verify.
async fn data_requests_decided_and_withdrawn_at_once(app: &TestApp) {
    let servers = Servers::of(app).await;
    let requester = app.token_for_staff_with("fgw.data", "JN-FGW", &["data_officer"]).await;
    let owner = app.demo_token("swj.data").await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        let (s, r) = post(
            app,
            servers.base(0),
            "/api/v1/data/requests",
            &requester,
            json!({"dataset": "tax", "fields": ["revenue_last_year", "tax_paid_last_year"], "purpose": "statistics",
                   "purpose_detail": "统计分析", "legal_basis": "《统计法》第七条"}),
        )
        .await;
        assert_eq!(s, 201, "{r}");
        ids.push(r["id"].as_str().unwrap().to_string());
    }
    let mut calls = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let approve_all = json!({"verdicts": [
            {"field": "revenue_last_year", "approve": true}, {"field": "tax_paid_last_year", "approve": true}]});
        let refuse_all = json!({"verdicts": [
            {"field": "revenue_last_year", "approve": false, "reason": "不符合"},
            {"field": "tax_paid_last_year", "approve": false, "reason": "不符合"}]});
        for (k, (token, action, body)) in [
            (&owner, "decide", approve_all),
            (&requester, "withdraw", json!({"reason": "不再需要"})),
            (&owner, "decide", refuse_all),
        ]
        .into_iter()
        .enumerate()
        {
            let path = format!("/api/v1/data/requests/{id}/{action}");
            let base = servers.base(n + k).to_string();
            calls.push(async move { (n, post(app, &base, &path, token, body).await) });
        }
    }
    let answers = join_all(calls).await;
    for (n, id) in ids.iter().enumerate() {
        let mine: Vec<&(u16, Value)> = answers.iter().filter(|(i, _)| *i == n).map(|(_, a)| a).collect();
        let won: Vec<&&(u16, Value)> = mine.iter().filter(|(s, _)| *s == 200).collect();
        assert_eq!(won.len(), 1, "exactly one step wins: {mine:?}");
        assert!(mine.iter().all(|(s, _)| *s == 200 || *s == 409), "{mine:?}");
        let status = won[0].1["status"].as_str().unwrap().to_string();
        assert!(["granted", "refused", "withdrawn"].contains(&status.as_str()), "{status}");
        let (_, now) = app.get_json(&format!("/api/v1/data/requests/{id}"), Some(&requester)).await;
        assert_eq!(now["status"], status.as_str());
        assert_eq!(now["version"], 2, "moved exactly once");
        let expected_expiry = status == "granted";
        assert_eq!(now["expires_on"].is_string(), expected_expiry, "{now}");
        let steps =
            count(app, "SELECT COUNT(*) FROM audit_log WHERE stream = $1", &format!("data_request:{id}"))
                .await;
        assert_eq!(steps, 2, "the creation and the one step that won");
    }
    assert!(quanban::audit::store::verify(&app.state.db).await.unwrap().is_ok());
}

/// 20 numbers, each called at a window and then, through both servers at once, passed over (过号)
/// twice and recalled (重呼): each number is passed over exactly once (one 200, the other 409
/// `nothing_called`); the recall counts when it came first (200) and is refused after the pass
/// (409); the ticket's recall count is the recalls that succeeded, its audit stream holds one
/// pass; the chains verify.
async fn a_called_number_passed_over_twice_and_recalled_at_once(app: &TestApp) {
    app.open_hall("JN-H-0002").await;
    let clerk = app.demo_token("spj.clerk").await;
    let servers = Servers::of(app).await;
    const QUEUE: &str = "/api/v1/halls/JN-H-0002/queue";
    let window = json!({"window": "7号窗口"});
    let (skip, recall) = (format!("{QUEUE}/skip"), format!("{QUEUE}/recall"));
    let mut recalls_won = 0;
    for round in 0..20 {
        let (s, ticket) = app.post_json(QUEUE, None, json!({})).await;
        assert!(s < 300, "round {round}: {ticket}");
        let (s, called) = app.post_json(&format!("{QUEUE}/call"), Some(&clerk), window.clone()).await;
        assert_eq!((s, called["ticket"]["id"].clone()), (200, ticket["id"].clone()), "{called}");
        let id = ticket["id"].as_str().unwrap().to_string();
        let (a, b, r) = tokio::join!(
            post(app, servers.base(round), &skip, &clerk, window.clone()),
            post(app, servers.base(round + 1), &skip, &clerk, window.clone()),
            post(app, servers.base(round), &recall, &clerk, window.clone()),
        );
        let mut skips = [a.0, b.0];
        skips.sort();
        assert_eq!(skips, [200, 409], "{a:?} {b:?}");
        let refused = if a.0 == 409 { &a.1 } else { &b.1 };
        assert_eq!(refused["code"], "nothing_called", "{refused}");
        assert!(r.0 == 200 || (r.0 == 409 && r.1["code"] == "nothing_called"), "{r:?}");
        let row = sqlx::query("SELECT status, recalls FROM queue_tickets WHERE id = $1")
            .bind(&id)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
        let (status, recalls): (String, i64) = (row.try_get(0).unwrap(), row.try_get(1).unwrap());
        assert_eq!(status, "skipped");
        assert_eq!(recalls, i64::from(r.0 == 200), "round {round}: recall {r:?}");
        recalls_won += i64::from(r.0 == 200);
        let passes = count(
            app,
            "SELECT COUNT(*) FROM audit_log WHERE resource = $1 AND action LIKE '%skip%'",
            &format!("ticket:{id}"),
        )
        .await;
        assert_eq!(passes, 1, "one pass in the audit for {id}");
    }
    println!("recalls before the pass: {recalls_won} of 20");
    assert!(quanban::audit::store::verify(&app.state.db).await.unwrap().is_ok());
}

/// 10 hand-offs, each answered at once through both servers with different items (two officers,
/// or one in two tabs, holding the same version): one answer wins (200), the other gets 409; the
/// stored answer and its items are the winner's alone, the audit holds one answer, and the
/// guide learns the winner's item only.
async fn one_hand_off_answered_twice_with_different_items(app: &TestApp) {
    let officer = app.demo_token("spj.guide").await;
    let servers = Servers::of(app).await;
    for round in 0..10 {
        let (s, h) = app
            .post_json(
                "/api/v1/guide/handoffs",
                None,
                json!({"query": format!("第{round}个问题：老房子翻修要什么手续")}),
            )
            .await;
        assert_eq!(s, 201, "{h}");
        let id = h["id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/guide/handoffs/{id}/answer");
        let (a, b) = tokio::join!(
            post(
                app,
                servers.base(round),
                &path,
                &officer,
                json!({"answer": "甲", "items": ["JN-ZRJ-0002"], "version": 1})
            ),
            post(
                app,
                servers.base(round + 1),
                &path,
                &officer,
                json!({"answer": "乙", "items": ["JN-SPJ-0018"], "version": 1})
            ),
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
        let winner = if a.0 == 200 { &a.1 } else { &b.1 };
        let row = sqlx::query("SELECT answer, answer_items, version FROM guide_handoffs WHERE id = $1")
            .bind(&id)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
        let (answer, items, version): (String, String, i64) =
            (row.try_get(0).unwrap(), row.try_get(1).unwrap(), row.try_get(2).unwrap());
        assert_eq!(answer, winner["answer"].as_str().unwrap());
        assert_eq!(
            serde_json::from_str::<Value>(&items).unwrap(),
            winner["answer_items"],
            "the loser's items were not kept"
        );
        assert_eq!(version, 2, "moved once");
        let answers = count(
            app,
            "SELECT COUNT(*) FROM audit_log WHERE resource = $1 AND action = 'guide.handoff_answered'",
            &format!("handoff:{id}"),
        )
        .await;
        assert_eq!(answers, 1);
    }
    assert!(quanban::audit::store::verify(&app.state.db).await.unwrap().is_ok());
}

/// The demo builder's representative and enterprise, and a new project of theirs.
async fn builder_project(app: &TestApp, round: usize) -> (String, String, String) {
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let enterprise = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let (s, b) = app
        .post_json(
            "/api/v1/projects",
            Some(&rep),
            json!({"name": format!("竞态项目{round}"), "district": "历城区", "location": "港源七路",
                   "floor_area_m2": 1000, "investment_wan": 800, "enterprise": enterprise}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    (rep, enterprise, b["code"].as_str().unwrap().to_string())
}

/// 10 projects, each with its first stage applied for twice at once through both servers (a
/// double click, or two agents): one application is made, the other is refused (409 when both
/// read the project before either wrote, 422 `stage_in_progress` when the first had landed); the
/// project has one stage case with its parts and nothing of the loser's.
async fn one_project_stage_applied_for_twice_at_once(app: &TestApp) {
    let servers = Servers::of(app).await;
    let mut conflicts = 0;
    for round in 0..10 {
        let (rep, enterprise, code) = builder_project(app, round).await;
        let body = json!({"bundle_code": "JN-GCXM-1", "enterprise": enterprise, "project": code,
                          "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}});
        let (a, b) = tokio::join!(
            post(app, servers.base(round), "/api/v1/cases", &rep, body.clone()),
            post(app, servers.base(round + 1), "/api/v1/cases", &rep, body.clone()),
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert!(statuses == [201, 409] || statuses == [201, 422], "{a:?} {b:?}");
        let loser = if a.0 == 201 { &b.1 } else { &a.1 };
        conflicts += usize::from(statuses[1] == 409);
        assert!(
            loser["code"] == "version_conflict" || loser["errors"][0]["code"] == "stage_in_progress",
            "{loser}"
        );
        let winner = if a.0 == 201 { &a.1 } else { &b.1 };
        let stages = count(app, "SELECT COUNT(*) FROM cases WHERE project_code = $1", &code).await;
        assert_eq!(stages, 1, "one stage case for {code}");
        let parts = count(
            app,
            "SELECT COUNT(*) FROM cases WHERE parent_number = $1",
            winner["case_number"].as_str().unwrap(),
        )
        .await;
        assert_eq!(parts, 2, "the stage's two parts");
        let submits = count(
            app,
            "SELECT COUNT(*) FROM audit_log WHERE resource = $1 AND action = 'project.stage_submit'",
            &format!("project:{code}"),
        )
        .await;
        assert_eq!(submits, 1);
    }
    // Nothing of a loser anywhere: every stage bundle belongs to a project.
    let orphans = count(
        app,
        "SELECT COUNT(*) FROM cases WHERE bundle_code = $1 AND parent_number IS NULL AND project_code IS NULL",
        "JN-GCXM-1",
    )
    .await;
    assert_eq!(orphans, 0);
    println!("stage applications lost at the claim (409): {conflicts} of 10; the rest saw the first (422)");
    assert!(quanban::audit::store::verify(&app.state.db).await.unwrap().is_ok());
}

/// 10 joint drawing reviews under review; on each, the planning bureau's reviewer sends 同意
/// twice at once (two tabs, both servers) while the fire brigade sends 不同意: the planning
/// bureau's opinion is stored once (the other send 409, leaving nothing), the fire brigade's is
/// never turned away by it, and each stored opinion has one timeline event and one audit entry.
async fn joint_opinions_given_at_once_keep_each_with_its_event(app: &TestApp) {
    let servers = Servers::of(app).await;
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let enterprise = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let lead =
        app.token_for_staff_with("zjj.race", "JN-ZJJ", &["window_clerk", "reviewer", "approver"]).await;
    let planning = app.demo_token("zrj.reviewer").await;
    let fire = app.token_for_staff_with("xfzd.race", "JN-XFZD", &["reviewer"]).await;
    let mut won_in_all = 0;
    for round in 0..10 {
        let (s, b) = app
            .post_json(
                "/api/v1/cases",
                Some(&rep),
                json!({"item_code": "JN-ZJJ-0008", "enterprise": enterprise,
                       "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let n = b["case_number"].as_str().unwrap().to_string();
        for a in ["accept", "start_review"] {
            let (s, b) =
                app.post_json(&format!("/api/v1/cases/{n}/actions/{a}"), Some(&lead), json!({})).await;
            assert_eq!(s, 200, "{a}: {b}");
        }
        let path = format!("/api/v1/cases/{n}/joint-review");
        let (p1, p2, f) = tokio::join!(
            post(app, servers.base(round), &path, &planning, json!({"opinion": "pass"})),
            post(app, servers.base(round + 1), &path, &planning, json!({"opinion": "pass"})),
            post(
                app,
                servers.base(round),
                &path,
                &fire,
                json!({"opinion": "fail", "comment": "疏散宽度不足"})
            ),
        );
        for r in [&p1, &p2, &f] {
            assert!(r.0 == 200 || r.0 == 409, "{r:?}");
        }
        let planning_won = [&p1, &p2].iter().filter(|r| r.0 == 200).count();
        assert_eq!(planning_won, 1, "the planning bureau agreed once: {p1:?} {p2:?}");
        assert_eq!(f.0, 200, "another member's opinion is not turned away: {f:?}");
        let won = planning_won + usize::from(f.0 == 200);
        won_in_all += won;
        let rows = count(app, "SELECT COUNT(*) FROM joint_opinions WHERE case_number = $1", &n).await;
        let events = count(
            app,
            "SELECT COUNT(*) FROM case_events WHERE case_number = $1 AND action = 'joint_opinion'",
            &n,
        )
        .await;
        let audits = count(
            app,
            "SELECT COUNT(*) FROM audit_log WHERE resource = $1 AND action = 'case.joint_opinion'",
            &format!("case:{n}"),
        )
        .await;
        assert_eq!((rows, events, audits), (won as i64, won as i64, won as i64), "{p1:?} {p2:?} {f:?}");
        let stored_fire = count(
            app,
            "SELECT COUNT(*) FROM joint_opinions WHERE case_number = $1 AND department = 'JN-XFZD'",
            &n,
        )
        .await;
        assert_eq!(stored_fire, i64::from(f.0 == 200));
    }
    assert_eq!(won_in_all, 20, "two opinions land each round");
    println!("opinions acknowledged: {won_in_all} of 30 sent (10 rounds of three at once)");
    assert!(quanban::audit::store::verify(&app.state.db).await.unwrap().is_ok());
}

/// Eight sweeps at once (four through each server) over 12 overdue cases and three missed hall
/// visits: each case is raised red once, with one supervision order, one message to the head
/// and one audit entry, and each visit marked no-show once, whatever sweep got there first.
async fn monitoring_sweeps_at_once_raise_each_case_once(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let clerk = app.demo_token("spj.clerk").await;
    let mut numbers = Vec::new();
    for _ in 0..12 {
        numbers.push(accepted_food_licence(app, &citizen, &clerk).await);
    }
    // Three hall visits booked for the next working day, which nobody will come to.
    let cal = app.state.calendar().await;
    let mut day = app.clock().today() + chrono::Duration::days(1);
    while !cal.is_working_day(day) || chrono::Datelike::weekday(&day).number_from_monday() > 5 {
        day += chrono::Duration::days(1);
    }
    let mut appointments = Vec::new();
    for time in ["09:00", "09:30", "10:00"] {
        let body = json!({"hall_code": "JN-H-0002", "item_code": "JN-SPJ-0003",
                          "slot_start": format!("{}T{time}", day.format("%Y-%m-%d"))});
        let (s, b) = app.post_json("/api/v1/appointments", Some(&citizen), body).await;
        assert_eq!(s, 201, "{b}");
        appointments.push(b["id"].as_str().unwrap().to_string());
    }
    // A month later every one of them is overdue, on both servers.
    let late = app.clock().now() + chrono::Duration::days(30);
    app.clock().set(late).unwrap();
    let servers = Servers::at(app, Some(late.to_rfc3339())).await;
    let supervisor = app.demo_token("dsj.supervisor").await;
    let sweeps =
        (0..8).map(|i| post(app, servers.base(i), "/api/v1/supervision/sweep", &supervisor, json!({})));
    let reports = join_all(sweeps).await;
    let (mut red, mut no_shows) = (0, 0);
    for (s, b) in &reports {
        assert_eq!(*s, 200, "{b}");
        red += b["red"].as_u64().unwrap();
        no_shows += b["no_shows"].as_u64().unwrap();
    }
    assert_eq!(red, 12, "each case raised by exactly one sweep: {reports:?}");
    assert_eq!(no_shows, 3, "each missed visit marked by exactly one sweep: {reports:?}");
    for id in &appointments {
        let resource = format!("appointment:{id}");
        let marked = count(
            app,
            "SELECT COUNT(*) FROM audit_log WHERE resource = $1 AND action = 'appointment.no_show'",
            &resource,
        )
        .await;
        let status =
            count(app, "SELECT COUNT(*) FROM appointments WHERE id = $1 AND status = 'no_show'", id).await;
        assert_eq!((marked, status), (1, 1), "{id}");
    }
    for n in &numbers {
        let subject = format!("case:{n}");
        let alerts = count(app, "SELECT COUNT(*) FROM monitoring_alerts WHERE subject = $1", &subject).await;
        let orders = count(app, "SELECT COUNT(*) FROM supervision_orders WHERE subject = $1", &subject).await;
        let audits = count(
            app,
            "SELECT COUNT(*) FROM audit_log WHERE resource = $1 AND action = 'monitoring.raise'",
            &subject,
        )
        .await;
        let told = count(
            app,
            "SELECT COUNT(*) FROM notifications WHERE case_number = $1 AND title_zh LIKE '督办单%'",
            n,
        )
        .await;
        assert_eq!((alerts, orders, audits, told), (1, 1, 1, 1), "{n}");
    }
    let numbers_used =
        count(app, "SELECT COUNT(DISTINCT number) FROM supervision_orders WHERE status = $1", "open").await;
    assert_eq!(numbers_used, 12, "no order number twice");
    assert!(quanban::audit::store::verify(&app.state.db).await.unwrap().is_ok());
}

/// 6 supervision orders, each closed twice at once by the head through both servers with
/// different rectifications (two tabs holding the same version): one close wins (200), the
/// other gets 409; the stored rectification is the winner's and the audit holds one close.
async fn one_supervision_order_closed_twice_at_once(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let clerk = app.demo_token("spj.clerk").await;
    for _ in 0..6 {
        accepted_food_licence(app, &citizen, &clerk).await;
    }
    let late = app.clock().now() + chrono::Duration::days(30);
    app.clock().set(late).unwrap();
    let servers = Servers::at(app, Some(late.to_rfc3339())).await;
    let supervisor = app.demo_token("dsj.supervisor").await;
    let (s, b) = post(app, servers.base(0), "/api/v1/supervision/sweep", &supervisor, json!({})).await;
    assert_eq!((s, b["red"].as_u64()), (200, Some(6)), "{b}");
    let head = app.demo_token("spj.head").await;
    let (_, orders) = app.get_json("/api/v1/supervision/orders", Some(&head)).await;
    let orders = orders.as_array().unwrap().clone();
    assert_eq!(orders.len(), 6);
    for (i, order) in orders.iter().enumerate() {
        let id = order["id"].as_str().unwrap();
        let path = format!("/api/v1/supervision/orders/{id}/close");
        let (a, b) = tokio::join!(
            post(
                app,
                servers.base(i),
                &path,
                &head,
                json!({"rectification": "甲", "version": order["version"]})
            ),
            post(
                app,
                servers.base(i + 1),
                &path,
                &head,
                json!({"rectification": "乙", "version": order["version"]})
            ),
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
        let winner = if a.0 == 200 { &a.1 } else { &b.1 };
        let row = sqlx::query("SELECT rectification, version FROM supervision_orders WHERE id = $1")
            .bind(id)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
        let (kept, version): (String, i64) = (row.try_get(0).unwrap(), row.try_get(1).unwrap());
        assert_eq!(kept, winner["rectification"].as_str().unwrap(), "the loser's rectification was not kept");
        assert_eq!(version, 2, "moved once");
        let closes = count(
            app,
            "SELECT COUNT(*) FROM audit_log WHERE resource = $1 AND action = 'monitoring.order_closed'",
            &format!("order:{id}"),
        )
        .await;
        assert_eq!(closes, 1);
    }
    assert!(quanban::audit::store::verify(&app.state.db).await.unwrap().is_ok());
}

/// The supervision office accepts and returns one report at once (one wins, with its one event);
/// then the lead's head sends two reports at once on the returned milestone (one is kept).
async fn one_milestone_reviewed_twice_at_once_and_reported_twice_at_once(app: &TestApp) {
    crate::reform::import_plan(app).await;
    let servers = Servers::of(app).await;
    let head = app.demo_token("spj.head").await;
    let supervisor = app.demo_token("dsj.supervisor").await;
    let (report, review) =
        ("/api/v1/reform-tasks/RT-01/milestones/2/report", "/api/v1/reform-tasks/RT-01/milestones/2/review");
    let (s, t) = post(app, servers.base(0), report, &head, json!({"report": "进展一"})).await;
    assert_eq!(s, 200, "{t}");
    let version = t["milestones"][1]["version"].clone();
    let (a, b) = tokio::join!(
        post(app, servers.base(0), review, &supervisor, json!({"decision": "accept", "version": version})),
        post(
            app,
            servers.base(1),
            review,
            &supervisor,
            json!({"decision": "return", "comment": "请补充", "version": version})
        ),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    let winner = if a.0 == 200 { "accepted" } else { "returned" };
    let row = sqlx::query("SELECT status FROM reform_milestones WHERE task_code = 'RT-01' AND seq = 2")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("status"), winner);
    let events: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM reform_events WHERE task_code = 'RT-01' AND seq = 2")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap()
            .get("n");
    assert_eq!(events, 2, "one report and one review, the loser's event rolled back");
    if winner == "accepted" {
        return;
    }
    let (_, t) = app.get_json("/api/v1/reform-tasks/RT-01", Some(&head)).await;
    let version = t["milestones"][1]["version"].clone();
    let (a, b) = tokio::join!(
        post(app, servers.base(0), report, &head, json!({"report": "甲", "version": version})),
        post(app, servers.base(1), report, &head, json!({"report": "乙", "version": version})),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    let kept: String =
        sqlx::query("SELECT report FROM reform_milestones WHERE task_code = 'RT-01' AND seq = 2")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap()
            .get("report");
    assert_eq!(kept, if a.0 == 200 { "甲" } else { "乙" });
}

/// Eight orders typed at once by the supervision office through both servers: eight orders,
/// eight numbers in the year's sequence (none twice), eight audit entries and messages.
async fn supervision_orders_issued_by_hand_at_once_each_get_their_own_number(app: &TestApp) {
    let servers = Servers::at(app, None).await;
    let supervisor = app.demo_token("dsj.supervisor").await;
    let rectify_by = app.state.calendar().await.add_working_days(app.clock().today(), 5).to_string();
    let issues = (0..8).map(|i| {
        post(
            app,
            servers.base(i),
            "/api/v1/supervision/orders",
            &supervisor,
            json!({"department": "JN-SPJ", "title": format!("第{i}项督办事项"), "rectify_by": rectify_by}),
        )
    });
    let answers = join_all(issues).await;
    let mut numbers = std::collections::HashSet::new();
    for (s, b) in &answers {
        assert_eq!(*s, 201, "{b}");
        numbers.insert(b["number"].as_str().unwrap().to_string());
    }
    assert_eq!(numbers.len(), 8, "no number twice: {answers:?}");
    let issued =
        count(app, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "monitoring.order_issued").await;
    assert_eq!(issued, 8);
    let stored = count(
        app,
        "SELECT COUNT(DISTINCT number) FROM supervision_orders WHERE issued_by IS NOT NULL AND status = $1",
        "open",
    )
    .await;
    assert_eq!(stored, 8);
    assert!(quanban::audit::store::verify(&app.state.db).await.unwrap().is_ok());
}

/// Two plans sharing task RT-09 (one also has RT-08, the other RT-10) uploaded at once through
/// both servers: one is imported whole, the other refused whole (422 naming the taken code) — never
/// RT-08 and RT-10 together, never a task without its milestones, only the winner's in the audit.
async fn two_plans_sharing_a_task_imported_at_once(app: &TestApp) {
    let servers = Servers::of(app).await;
    let supervisor = app.demo_token("dsj.supervisor").await;
    let due = app.state.calendar().await.add_working_days(app.clock().today(), 10).to_string();
    let task = |code: &str, title: &str| {
        [code, title, "办事流程集成", "", "JN-SPJ", "", "完成节点", due.as_str(), "否"]
            .map(String::from)
            .to_vec()
    };
    let plans = [
        crate::reform::sheet(&[task("RT-08", "甲"), task("RT-09", "共同任务")]),
        crate::reform::sheet(&[task("RT-09", "共同任务"), task("RT-10", "乙")]),
    ];
    let send = |i: usize| {
        let request = app
            .client
            .post(format!("{}/api/v1/reform-tasks/import", servers.base(i)))
            .bearer_auth(&supervisor)
            .header("content-type", "application/octet-stream")
            .body(plans[i].clone());
        async move {
            let resp = request.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };
    let (a, b) = tokio::join!(send(0), send(1));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [201, 422], "{a:?} {b:?}");
    // The loser is told the code is taken (by the check, or by the insert if both passed it).
    let lost = if a.0 == 422 { &a.1 } else { &b.1 };
    assert_eq!(lost["errors"][0]["code"], "duplicate", "{lost}");
    let codes: Vec<String> = sqlx::query("SELECT code FROM reform_tasks ORDER BY code")
        .fetch_all(app.state.db.reader())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("code"))
        .collect();
    let won = if a.0 == 201 { ["RT-08", "RT-09"] } else { ["RT-09", "RT-10"] };
    assert_eq!(codes, won, "the winner's tasks, whole");
    let milestones = count(app, "SELECT COUNT(*) FROM reform_milestones WHERE task_code <> $1", "").await;
    assert_eq!(milestones, 2, "one milestone each");
    let imports = count(app, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "reform.import").await;
    assert_eq!(imports, 2, "one entry per task imported, the winner's only");
    assert!(quanban::audit::store::verify(&app.state.db).await.unwrap().is_ok());
}

async fn get(app: &TestApp, base: &str, path: &str, token: &str) -> (u16, Value) {
    let resp = app.client.get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Eight cases decided while both servers sum the scorecards sixteen times (each read brings the
/// day sums up to date, as the background job does): every read sees between none and all of
/// the decisions, and afterwards the figure counts each decision once, as its records do.
async fn scorecards_summed_on_both_servers_while_cases_are_decided_miss_none(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let clerk = app.demo_token("spj.clerk").await;
    let mut numbers = Vec::new();
    for _ in 0..8 {
        numbers.push(accepted_food_licence(app, &citizen, &clerk).await);
    }
    let tokens = [app.demo_token("spj.reviewer").await, app.demo_token("spj.approver").await];
    let supervisor = app.demo_token("dsj.supervisor").await;
    let today = app.clock().today();
    let period = format!("from={today}&to={today}");
    let path = format!("/api/v1/assessment/scorecards?{period}");
    let decided = |a: &Value| -> i64 {
        let card = a["scorecards"].as_array().unwrap().iter().find(|c| c["department"] == "JN-SPJ").unwrap();
        let f = card["figures"].as_array().unwrap().iter().find(|f| f["indicator"] == "on_time").unwrap();
        f["denominator"].as_i64().unwrap()
    };
    let servers = Servers::of(app).await;
    let (s, before) = get(app, servers.base(0), &path, &supervisor).await;
    assert_eq!(s, 200, "{before}");
    let before = decided(&before);
    let decisions = join_all(numbers.iter().map(|n| decide_part(app, &tokens, n)));
    let reads = join_all((0..16).map(|i| get(app, servers.base(i), &path, &supervisor)));
    let (_, reads) = tokio::join!(decisions, reads);
    for (s, b) in &reads {
        assert_eq!(*s, 200, "{b}");
        assert!((before..=before + 8).contains(&decided(b)), "{}", decided(b));
    }
    for i in 0..2 {
        let (_, after) = get(app, servers.base(i), &path, &supervisor).await;
        assert_eq!(decided(&after), before + 8, "server {i}");
    }
    let (_, drill) = get(
        app,
        servers.base(1),
        &format!("/api/v1/assessment/scorecards/JN-SPJ/on_time?{period}"),
        &supervisor,
    )
    .await;
    let rows = drill["rows"].as_array().unwrap();
    assert_eq!(rows.len() as i64, before + 8);
    for n in &numbers {
        assert_eq!(rows.iter().filter(|r| r["record"] == n.as_str()).count(), 1, "{n}");
    }
}
