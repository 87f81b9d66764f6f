//! The OpenAPI document is part of the interface: a snapshot makes every change to it visible in
//! review (`cargo insta review` after an intended change).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn openapi_document_snapshot() {
    let doc = quanban::http::ops::document();
    insta::assert_json_snapshot!("openapi", doc, { ".info.version" => "[version]" });
}

#[test]
fn every_operation_is_tagged_and_documents_its_answers() {
    let doc = quanban::http::ops::document();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 30, "{} paths", paths.len());
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{method} {path} has no tag");
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} has no responses"
            );
        }
    }
}

use crate::common;

use common::{Backend, TestApp};
use serde_json::json;

/// Every route of the router (read from the router itself: its paths as added, their methods
/// from its own 405 answers), for every demo role and an anonymous caller, on records that
/// belong to someone else (citizen 李四). The statuses form a table kept as a snapshot: any cell
/// that changes fails until it is reviewed. On top, the rules that must hold whatever the table
/// says: someone else's record answers 404, never its content, and nobody anonymous reaches a
/// personal record.
///
/// One database (SQLite): the decision is the same code on both; the clock is fixed at the
/// default test instant whatever `QUANBAN_TEST_CLOCK` says, so that the table does not depend
/// on the hour.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_for_every_role() {
    let running =
        TestApp::start_with(Backend::Sqlite, |c| c.clock = Some("2026-12-09T09:00:00+08:00".into()))
            .await
            .expect("app starts");
    let app = &running;
    let (_, paths) = quanban::app::router_with_paths(app.state.clone());

    // 李四's records.
    let (phone, password) = app.register_person("李四", 77).await;
    let owner = app.token(&phone, &password).await;
    let post = |path: &str, body: serde_json::Value| {
        let (owner, path) = (owner.clone(), path.to_string());
        async move { app.post_json(&path, Some(&owner), body).await }
    };
    let (s, case) = post(
        "/api/v1/cases",
        json!({"item_code": "JN-SPJ-0003", "form": {"contact_name": "李四", "contact_phone": phone}}),
    )
    .await;
    assert_eq!(s, 201, "{case}");
    let (s, complaint) = post(
        "/api/v1/complaints",
        json!({"description": "楼下路灯坏了三天", "lat": 36.66, "lon": 117.02, "public": true}),
    )
    .await;
    assert_eq!(s, 201, "{complaint}");
    let (s, draft) = post("/api/v1/drafts", json!({"item_code": "JN-SPJ-0003", "data": {}})).await;
    assert_eq!(s, 201, "{draft}");
    let (s, assistance) = post(
        "/api/v1/assistance",
        json!({"item_code": "JN-SPJ-0003", "description": "请帮忙代办", "contact_phone": phone}),
    )
    .await;
    assert_eq!(s, 201, "{assistance}");
    let (s, ticket) = post("/api/v1/halls/JN-H-0002/queue", json!({})).await;
    assert_eq!(s, 201, "{ticket}");
    let (_, slots) = app.get_json("/api/v1/halls/JN-H-0002/slots?date=2026-12-10", None).await;
    let slot = slots["slots"].as_array().unwrap().iter().find(|x| x["remaining"].as_i64() > Some(0)).unwrap();
    let (s, appointment) = post(
        "/api/v1/appointments",
        json!({"hall_code": "JN-H-0002", "item_code": "JN-SPJ-0003", "slot_start": slot["start"]}),
    )
    .await;
    assert_eq!(s, 201, "{appointment}");
    // A credential of another holder (a demo card of 13800138002).
    let rep = app.demo("13800138002").await;
    let credential: String = sqlx::query_scalar(
        "SELECT id FROM credentials WHERE holder_user_id = (SELECT id FROM users WHERE phone_digest = $1) ORDER BY type_code, id LIMIT 1",
    )
    .bind(app.state.vault.digest("phone", &rep.username))
    .fetch_one(app.state.db.reader())
    .await
    .expect("a demo card of 13800138002");

    // The plan's reform tasks (RT-01 led by the approval bureau).
    crate::reform::import_plan(app).await;

    // The demo enterprise's credit code (its representative is 13800138002).
    let enterprise = quanban::demo::credit_code("91370100MA3C00001").unwrap();
    let id = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap().to_string();
    let (case_number, complaint_id, public_id) = (
        id(&case, "case_number"),
        id(&complaint["complaint"], "id"),
        id(&complaint["complaint"], "public_id"),
    );
    let (draft_id, assistance_id, ticket_id, appointment_id) =
        (id(&draft, "id"), id(&assistance, "id"), id(&ticket, "id"), id(&appointment, "id"));
    let fill = |path: &str| -> String {
        let mut out = String::new();
        let segments: Vec<&str> = path.split('/').collect();
        for (i, seg) in segments.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            let before = if i > 0 { segments[i - 1] } else { "" };
            let value = match *seg {
                "{case_number}" => case_number.clone(),
                "{index}" | "{n}" => "0".into(),
                "{item}" => "JN-SPJ-0003".into(),
                "{department}" => "JN-SPJ".into(),
                "{purpose}" => "revocation".into(),
                "{date}" => "2026-12-09".into(),
                "{year}" => "2027".into(),
                "{lang}" => "en".into(),
                "{token}" => "not-a-token".into(),
                "{dataset}" => "tax".into(),
                "{key}" => "91370100MA3C000011".into(),
                "{*path}" => "quanban.css".into(),
                "{policy}" => "JN-ZC-2026-001".into(),
                "{version}" => "1".into(),
                "{indicator}" => "on_time".into(),
                "{seq}" => "1".into(),
                "{hash}" => "none".into(),
                "{code}" => match before {
                    "halls" => "JN-H-0002".into(),
                    "policies" => "JN-ZC-2026-001".into(),
                    "enterprises" => enterprise.clone(),
                    "bundles" | "bundle" => "JN-YJS-001".into(),
                    "reform-tasks" => "RT-01".into(),
                    _ => "JN-SPJ-0003".into(),
                },
                "{file}" => match before {
                    "open311" => "discovery.json".into(),
                    "v2" => "requests.json".into(),
                    "services" => "water.supply.json".into(),
                    "requests" => format!("{public_id}.json"),
                    _ => "JN-SPJ.svg".into(),
                },
                "{action}" => {
                    if before == "actions" {
                        "withdraw".into()
                    } else if path.contains("/assistance/") {
                        "cancel".into()
                    } else if path.contains("/complaints/") {
                        "dispatch".into()
                    } else if path.contains("/bad-reviews/") {
                        "respond".into()
                    } else if path.contains("/credentials/") {
                        "suspend".into()
                    } else if path.contains("/data/requests/") {
                        "withdraw".into()
                    } else if path.contains("/benefits/") {
                        "decline".into()
                    } else if path.contains("/versions/") {
                        "approve".into()
                    } else {
                        "none".into()
                    }
                }
                "{id}" => {
                    if path.contains("drafts/") {
                        draft_id.clone()
                    } else if path.contains("assistance/") {
                        assistance_id.clone()
                    } else if path.contains("tickets/") || path.starts_with("/queue/") {
                        ticket_id.clone()
                    } else if path.contains("appointments/") {
                        appointment_id.clone()
                    } else if path.contains("complaints/") {
                        complaint_id.clone()
                    } else if path.contains("credentials/") || path.contains("wallet/") {
                        credential.clone()
                    } else {
                        "none".into()
                    }
                }
                other if other.starts_with('{') => panic!("no value for {other} in {path}"),
                other => other.to_string(),
            };
            out.push_str(&value);
        }
        out
    };

    // The roles: anonymous, two citizens who are not the owner, every demo staff account.
    let mut roles: Vec<(String, Option<String>)> = vec![("anonymous".into(), None)];
    for account in app.demo_accounts().await {
        let token = app.demo_token(&account.username).await;
        roles.push((account.username.clone(), Some(token)));
    }

    // Logging out ends the token: those routes go last.
    let mut ordered: Vec<&String> = paths.iter().filter(|p| !p.ends_with("/logout")).collect();
    ordered.extend(paths.iter().filter(|p| p.ends_with("/logout")));
    roles[1..].sort_by(|a, b| a.0.cmp(&b.0));
    let mut table = String::from("columns:");
    for (i, (name, _)) in roles.iter().enumerate() {
        table.push_str(&format!(" {i}={name}"));
    }
    table.push_str(&format!("\n{:<58}", "route"));
    for i in 0..roles.len() {
        table.push_str(&format!(" {i:>4}"));
    }
    table.push('\n');
    // Redirects are answers too (a page sends an anonymous caller to the login page): not followed.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut cells = 0;
    let mut anonymous_reached = Vec::new();
    let mut not_hidden = Vec::new();
    for path in ordered {
        let url = fill(path);
        // The methods, from the router's 405 (`Allow`).
        let probe = client
            .request(reqwest::Method::from_bytes(b"TRACE").unwrap(), app.url(&url))
            .send()
            .await
            .unwrap();
        assert_eq!(probe.status().as_u16(), 405, "{path}: every routed path answers 405 to TRACE");
        let allow = probe.headers().get("allow").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let mut methods: Vec<&str> =
            allow.split(',').map(str::trim).filter(|m| !m.is_empty() && *m != "HEAD").collect();
        methods.sort();
        assert!(!methods.is_empty(), "{path}: no methods in Allow");
        for method in methods {
            table.push_str(&format!("{:<58}", format!("{method} {path}")));
            for (name, token) in &roles {
                let mut request =
                    client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), app.url(&url));
                if let Some(t) = token {
                    request = request.bearer_auth(t);
                }
                if method != "GET" {
                    request = if url.starts_with("/api/") {
                        request.json(&json!({}))
                    } else {
                        request.form(&[("csrf", "")])
                    };
                }
                let status = request.send().await.unwrap().status().as_u16();
                cells += 1;
                table.push_str(&format!(" {status:>4}"));
                let personal = [
                    "{case_number}",
                    "drafts/{id}",
                    "appointments/{id}",
                    "assistance/{id}",
                    "complaints/{id}",
                ]
                .iter()
                .any(|p| path.contains(p));
                if token.is_none() && personal && (200..300).contains(&status) {
                    anonymous_reached.push(format!("{method} {path}"));
                }
                if name == "13800138001"
                    && personal
                    && method == "GET"
                    && path.starts_with("/api/")
                    && status != 404
                {
                    not_hidden.push(format!("{method} {path}: {status}"));
                }
            }
            table.push('\n');
        }
    }
    assert!(
        anonymous_reached.is_empty(),
        "anonymous callers reached personal records: {anonymous_reached:?}"
    );
    assert!(not_hidden.is_empty(), "another person's records must answer 404: {not_hidden:?}");
    assert!(cells > 2_000, "{cells} cells");
    insta::assert_snapshot!("every_route_for_every_role", table);
    running.stop().await;
}
