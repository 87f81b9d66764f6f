#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Story tests: the platform's foundation journeys, run on SQLite always and on PostgreSQL when
//! it is reachable (CI makes it reachable and required).

use crate::common;

use common::TestApp;
use reqwest::Method;
use serde_json::json;

stories!(
    health_and_readiness,
    register_login_and_me,
    bad_registration_names_every_field_and_stores_nothing,
    duplicate_registration_is_refused,
    malformed_requests_get_problem_details,
    control_characters_are_refused_by_field,
    a_rewritten_and_rehashed_log_fails_the_signature_check,
    personal_answers_are_not_cached,
    personal_data_is_sealed_at_rest,
    login_failures_lock_the_name_without_revealing_accounts,
    login_returns_to_the_page_asked_for_and_nowhere_else,
    logout_ends_the_token,
    concurrent_updates_one_wins_one_conflicts,
    department_scoping_and_not_found,
    supervisor_reads_but_cannot_change,
    enterprise_and_agent,
    calendar_endpoints_and_admin_year,
    audit_log_records_changes_and_verifies,
    tampering_is_detected,
    openapi_document_lists_the_interface,
    metrics_are_exposed,
    seed_is_idempotent,
    staff_creation_validates_and_scopes,
);

async fn health_and_readiness(app: &TestApp) {
    let resp = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-request-id"));
    assert_eq!(resp.text().await.unwrap(), "ok");
    let resp = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

async fn register_login_and_me(app: &TestApp) {
    let (phone, password) = app.register_person("王小明", 1).await;
    // The mobile number logs in in any accepted spelling.
    let token = app.token(&format!("+86 {}", &phone), &password).await;
    let (status, me) = app.get_json("/api/v1/me", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(me["name"], "王小明");
    assert_eq!(me["kind"], "person");
    let masked = me["id_number_masked"].as_str().unwrap();
    assert_eq!(masked.len(), 18);
    assert!(masked.starts_with("3701") && masked.contains("**********"), "{masked}");
    assert_eq!(me["phone_masked"].as_str().unwrap(), format!("{}****{}", &phone[..3], &phone[7..]));
    // The raw ID number never appears in the answer.
    assert!(!me.to_string().contains("199001"), "raw id leaked: {me}");
    let (status, _) = app.get_json("/api/v1/me", None).await;
    assert_eq!(status, 401);
    let (status, _) = app.get_json("/api/v1/me", Some("not-a-token")).await;
    assert_eq!(status, 401);
}

async fn count_users(app: &TestApp) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(app.state.db.reader()).await.unwrap().get("n")
}

async fn bad_registration_names_every_field_and_stores_nothing(app: &TestApp) {
    let before = count_users(app).await;
    let (status, body) = app
        .post_json(
            "/api/v1/auth/register",
            None,
            json!({"name": "王", "id_number": "110105194912310021", "phone": "1234", "password": "password"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "validation_failed");
    let fields: Vec<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "id_number", "phone", "password"]);
    let id_error = &body["errors"][1];
    assert_eq!(id_error["code"], "id_number_check_digit");
    assert!(id_error["message_zh"].as_str().unwrap().contains("校验位"));
    assert!(id_error["message_en"].as_str().unwrap().contains("check"));
    // Each problem on its own, too: a bad check digit alone is still refused.
    let (status, body) = app
        .post_json(
            "/api/v1/auth/register",
            None,
            json!({"name": "王小明", "id_number": "110105194912310021", "phone": "13912345678", "password": "Spring-City-2026"}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "id_number");
    // A missing field is named as required.
    let (status, body) = app.post_json("/api/v1/auth/register", None, json!({"name": "王小明"})).await;
    assert_eq!(status, 422);
    assert!(body["errors"].as_array().unwrap().iter().any(|e| e["field"] == "id_number"));
    assert_eq!(count_users(app).await, before, "nothing stored");
}

async fn duplicate_registration_is_refused(app: &TestApp) {
    let (phone, _) = app.register_person("李雷", 7).await;
    let before = count_users(app).await;
    let id = quanban::demo::id_number("37010219851111001").unwrap();
    let (status, body) = app
        .post_json(
            "/api/v1/auth/register",
            None,
            json!({"name": "韩梅梅", "id_number": id, "phone": phone, "password": "Spring-City-2026"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "phone");
    assert_eq!(body["errors"][0]["code"], "duplicate");
    assert_eq!(count_users(app).await, before);
}

async fn malformed_requests_get_problem_details(app: &TestApp) {
    let url = app.url("/api/v1/auth/register");
    let resp = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "malformed_json");

    let resp = app.client.post(&url).header("content-type", "text/plain").body("{}").send().await.unwrap();
    assert_eq!(resp.status(), 415);

    // A declared length over the cap is refused before the body is read. Sent by hand: a client
    // that keeps writing the 2 MB body after the server has answered and closed sees a broken pipe
    // (or a reset that discards the answer), whichever comes first.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        let head = format!(
            "POST /api/v1/auth/register HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            app.addr,
            2 * 1024 * 1024
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("application/problem+json"), "{answer}");
    }

    let resp = app.client.post(&url).json(&json!({"name": 5})).send().await.unwrap();
    assert_eq!(resp.status(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "name");

    let (status, body) = app.get_json("/api/v1/no/such/thing", None).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
    // Found by the schema fuzzer: a page number near u32::MAX overflowed the offset (500).
    let (status, body) = app.get_json("/api/v1/items?page=4294967295", None).await;
    assert_eq!((status, body["items"].as_array().map(Vec::len)), (200, Some(0)), "{body}");

    // RFC 9457 everywhere: a missing query parameter (422 naming it, as documented), a path
    // segment of the wrong type (404), a method the address does not take (405 with Allow).
    let r = app.client.get(app.url("/api/v1/calendar/add?from=2026-12-01")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "n", "{body}");
    let r = app.client.get(app.url("/api/v1/complaints/x/photos/first")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = app.client.delete(app.url("/api/v1/items")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert!(r.headers()["allow"].to_str().unwrap().contains("GET"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!((body["status"].clone(), body["code"].clone()), (json!(405), json!("method_not_allowed")));
    // The type URI leads to a page that explains the code.
    let r = app.client.get(app.url(body["type"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("Allow"), "the page explains the code");
    let r = app.client.get(app.url("/problems/version_conflict")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = app.client.get(app.url("/problems/NOT-a-code")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // A rejected catalog import is a problem too, with its list of row problems.
    let catalog = app.demo_token("spj.catalog").await;
    let r = app
        .client
        .post(app.url("/api/v1/catalog/import?format=csv&reason=test&effective_date=2027-01-04"))
        .bearer_auth(&catalog)
        .body("事项编码,事项名称\nX,\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (body["type"].clone(), body["status"].clone()),
        (json!("/problems/import_rejected"), json!(422))
    );
    assert!(!body["problems"].as_array().unwrap().is_empty(), "{body}");
}

async fn login_failures_lock_the_name_without_revealing_accounts(app: &TestApp) {
    let (phone, password) = app.register_person("周杰", 11).await;
    let bad = json!({"username": phone, "password": "Wrong-password-1"});
    let ghost = json!({"username": "13000000000", "password": "Wrong-password-1"});
    for _ in 0..4 {
        let (s1, b1) = app.post_json("/api/v1/auth/token", None, bad.clone()).await;
        let (s2, b2) = app.post_json("/api/v1/auth/token", None, ghost.clone()).await;
        // Same answer whether or not the account exists.
        assert_eq!((s1, s2), (401, 401));
        assert_eq!(b1["code"], b2["code"]);
        assert_eq!(b1["detail_zh"], b2["detail_zh"]);
    }
    let (status, body) = app.post_json("/api/v1/auth/token", None, bad.clone()).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "too_many_attempts");
    // Locked even with the right password, until the lock expires.
    let (status, _) =
        app.post_json("/api/v1/auth/token", None, json!({"username": phone, "password": password})).await;
    assert_eq!(status, 429);
}

async fn logout_ends_the_token(app: &TestApp) {
    let (phone, password) = app.register_person("吴迪", 12).await;
    let token = app.token(&phone, &password).await;
    let (status, _) = app.post_json("/api/v1/auth/logout", Some(&token), json!({})).await;
    assert_eq!(status, 204);
    let (status, _) = app.get_json("/api/v1/me", Some(&token)).await;
    assert_eq!(status, 401);
}

async fn concurrent_updates_one_wins_one_conflicts(app: &TestApp) {
    let (phone, password) = app.register_person("郑爽", 13).await;
    let token = app.token(&phone, &password).await;
    let (_, me) = app.get_json("/api/v1/me", Some(&token)).await;
    let version = me["version"].as_i64().unwrap();
    let a =
        app.send_json(Method::PATCH, "/api/v1/me", Some(&token), json!({"name": "郑一", "version": version}));
    let b =
        app.send_json(Method::PATCH, "/api/v1/me", Some(&token), json!({"name": "郑二", "version": version}));
    let ((sa, ba), (sb, bb)) = tokio::join!(a, b);
    let mut statuses = [sa, sb];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{ba} {bb}");
    let conflict = if sa == 409 { &ba } else { &bb };
    assert_eq!(conflict["code"], "version_conflict");
    let winner = if sa == 200 { "郑一" } else { "郑二" };
    let (_, me) = app.get_json("/api/v1/me", Some(&token)).await;
    assert_eq!(me["name"], winner);
    assert_eq!(me["version"].as_i64().unwrap(), version + 1);
}

async fn department_scoping_and_not_found(app: &TestApp) {
    // A window clerk of JN-SCJ cannot see another person's enterprise (404, not 403).
    let rep = app.demo("13800138002").await;
    let rep_token = app.token(&rep.username, &rep.password).await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep_token)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let (status, _) = app.get_json(&format!("/api/v1/enterprises/{code}"), Some(&rep_token)).await;
    assert_eq!(status, 200);
    let citizen = app.demo("13800138001").await;
    let citizen_token = app.token(&citizen.username, &citizen.password).await;
    let (status, body) = app.get_json(&format!("/api/v1/enterprises/{code}"), Some(&citizen_token)).await;
    assert_eq!(status, 404, "{body}");
    let clerk = app.demo_token("scj.clerk").await;
    let (status, _) = app.get_json(&format!("/api/v1/enterprises/{code}"), Some(&clerk)).await;
    assert_eq!(status, 404);
    // A clerk of JN-SCJ may not create staff in JN-SPJ.
    let (status, _) = app
        .post_json(
            "/api/v1/staff",
            Some(&clerk),
            json!({"username": "x.clerk", "name": "测试员", "department": "JN-SPJ", "roles": ["window_clerk"], "password": "Spring-City-2026"}),
        )
        .await;
    assert_eq!(status, 404);
    // The staff member's own view shows department and roles.
    let (_, me) = app.get_json("/api/v1/me", Some(&clerk)).await;
    assert_eq!(me["department"]["code"], "JN-SCJ");
    assert_eq!(me["roles"][0]["role"], "window_clerk");
}

async fn supervisor_reads_but_cannot_change(app: &TestApp) {
    let sup = app.demo_token("dsj.supervisor").await;
    let rep = app.demo("13800138002").await;
    let rep_token = app.token(&rep.username, &rep.password).await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep_token)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let (status, _) = app.get_json(&format!("/api/v1/enterprises/{code}"), Some(&sup)).await;
    assert_eq!(status, 200, "supervisor reads city-wide");
    // The staff read of personal data is itself in the audit log.
    let entries =
        quanban::audit::store::recent(&app.state.db, &format!("enterprise:{code}"), 5).await.unwrap();
    assert_eq!(entries[0].action, "personal_data.read");
    assert!(entries[0].actor.starts_with("user:"));
    let (status, _) = app
        .post_json(&format!("/api/v1/enterprises/{code}/agents"), Some(&sup), json!({"phone": "13800138001"}))
        .await;
    assert_eq!(status, 403, "supervisor changes nothing");
    let (status, _) = app
        .send_json(Method::PUT, "/api/v1/calendar/years/2027", Some(&sup), json!({"off": [], "work": []}))
        .await;
    assert_eq!(status, 403);
}

async fn enterprise_and_agent(app: &TestApp) {
    let (phone, password) = app.register_person("钱多多", 21).await;
    let token = app.token(&phone, &password).await;
    let code = quanban::demo::credit_code("91370102MA3D12345").unwrap();
    let (status, body) = app
        .post_json(
            "/api/v1/enterprises",
            Some(&token),
            json!({"credit_code": code, "name": "济南多多商贸有限公司", "legal_representative": "钱多多"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // A wrong check character is refused naming the field.
    let mut bad = code.clone();
    let last = bad.pop().unwrap();
    bad.push(if last == '0' { '1' } else { '0' });
    let (status, body) = app
        .post_json(
            "/api/v1/enterprises",
            Some(&token),
            json!({"credit_code": bad, "name": "济南另一家公司", "legal_representative": "钱多多"}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "credit_code");
    assert_eq!(body["errors"][0]["code"], "credit_code_check_digit");
    // Someone else as legal representative is refused.
    let code2 = quanban::demo::credit_code("91370102MA3D12346").unwrap();
    let (status, body) = app
        .post_json(
            "/api/v1/enterprises",
            Some(&token),
            json!({"credit_code": code2, "name": "济南另一家公司", "legal_representative": "别人"}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "legal_representative");
    // Authorise an agent, who can then read the enterprise.
    let (agent_phone, agent_pw) = app.register_person("孙代办", 22).await;
    let agent = app.token(&agent_phone, &agent_pw).await;
    let (status, _) = app.get_json(&format!("/api/v1/enterprises/{code}"), Some(&agent)).await;
    assert_eq!(status, 404);
    let (status, body) = app
        .post_json(&format!("/api/v1/enterprises/{code}/agents"), Some(&token), json!({"phone": agent_phone}))
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = app.get_json(&format!("/api/v1/enterprises/{code}"), Some(&agent)).await;
    assert_eq!(status, 200);
    assert_eq!(body["name"], "济南多多商贸有限公司");
    let (_, me) = app.get_json("/api/v1/me", Some(&agent)).await;
    assert_eq!(me["enterprises"][0]["relation"], "agent");
}

async fn calendar_endpoints_and_admin_year(app: &TestApp) {
    let (status, body) = app.get_json("/api/v1/calendar/add?from=2026-09-30&n=5", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["date"], "2026-10-13");
    let (_, body) = app.get_json("/api/v1/calendar/count?from=2026-09-30&to=2026-10-13", None).await;
    assert_eq!(body["working_days"], 5);
    let (_, body) = app.get_json("/api/v1/calendar/days/2026-10-10", None).await;
    assert_eq!(body["working_day"], true, "调休 Saturday");
    let (status, body) = app.get_json("/api/v1/calendar/add?from=2026-02-30&n=x", None).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
    // 2027 is not shipped: an administrator adds it; New Year's Day becomes a day off.
    let (_, body) = app.get_json("/api/v1/calendar/days/2027-01-01", None).await;
    assert_eq!((body["working_day"].as_bool(), body["covered"].as_bool()), (Some(true), Some(false)));
    let admin = app.demo_token("dsj.admin").await;
    let (status, body) = app
        .send_json(
            Method::PUT,
            "/api/v1/calendar/years/2027",
            Some(&admin),
            json!({"off": ["2027-01-01"], "work": ["2027-01-04"]}),
        )
        .await;
    assert_eq!(status, 422, "2027-01-04 is a Monday, not a weekend: {body}");
    let (status, body) = app
        .send_json(
            Method::PUT,
            "/api/v1/calendar/years/2027",
            Some(&admin),
            json!({"off": ["2027-01-01"], "work": []}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (_, body) = app.get_json("/api/v1/calendar/days/2027-01-01", None).await;
    assert_eq!((body["working_day"].as_bool(), body["covered"].as_bool()), (Some(false), Some(true)));
    let clerk = app.demo_token("spj.clerk").await;
    let (status, _) = app
        .send_json(Method::PUT, "/api/v1/calendar/years/2028", Some(&clerk), json!({"off": [], "work": []}))
        .await;
    assert_eq!(status, 403);
}

async fn audit_log_records_changes_and_verifies(app: &TestApp) {
    use sqlx::Row;
    let (phone, password) = app.register_person("冯程", 31).await;
    let token = app.token(&phone, &password).await;
    let (_, me) = app.get_json("/api/v1/me", Some(&token)).await;
    let stream = format!("user:{}", me["id"].as_str().unwrap());
    let entries = quanban::audit::store::recent(&app.state.db, &stream, 10).await.unwrap();
    let actions: Vec<&str> = entries.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["identity.register", "identity.login"]);
    // No raw personal data in the log.
    let rows = sqlx::query("SELECT summary FROM audit_log").fetch_all(app.state.db.reader()).await.unwrap();
    for r in rows {
        let s: String = r.get("summary");
        assert!(!s.contains(&phone), "phone in audit summary: {s}");
    }
    let id = quanban::audit::store::checkpoint(&app.state.db, &app.state.audit_key).await.unwrap();
    assert!(id.is_some());
    let report = quanban::audit::store::verify(&app.state.db).await.unwrap().expect("intact");
    assert!(report.entries > 10 && report.checkpoints == 1, "{report:?}");
    // Admins can ask the API too; others get 404.
    let admin = app.demo_token("dsj.admin").await;
    let (status, body) = app.get_json("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!((status, body["ok"].as_bool()), (200, Some(true)));
    let (status, _) = app.get_json("/api/v1/audit/verify", Some(&token)).await;
    assert_eq!(status, 404);
}

async fn tampering_is_detected(app: &TestApp) {
    use quanban::audit::domain::Break;
    app.register_person("褚卫", 41).await;
    quanban::audit::store::checkpoint(&app.state.db, &app.state.audit_key).await.unwrap();
    let db = &app.state.db;
    // Alter one summary behind the platform's back.
    db.write(|c| {
        quanban::store::query(
            "UPDATE audit_log SET summary = 'nothing happened' WHERE stream = 'system' AND seq = 1",
        )
        .execute(&mut *c)?;
        Ok(())
    })
    .await
    .unwrap();
    let outcome = quanban::audit::store::verify(db).await.unwrap();
    assert_eq!(outcome.unwrap_err(), Break::Altered { stream: "system".into(), seq: 1 });
}

/// Whoever can write the database can rewrite an entry and recompute every hash after it, the
/// stream head, the sealed head and the checkpoint: the hash check then passes. The checkpoint's
/// signature, made with a key that is not in the database, does not: `verify --keys` fails.
async fn a_rewritten_and_rehashed_log_fails_the_signature_check(app: &TestApp) {
    use quanban::audit::domain::{Break, checkpoint_hash};
    let db = &app.state.db;
    let (phone, _) = app.register_person("卫青", 43).await;
    let (_, me) = {
        let token = app.token(&phone, "Spring-City-2026").await;
        app.get_json("/api/v1/me", Some(&token)).await
    };
    let id = quanban::audit::store::checkpoint(db, &app.state.audit_key).await.unwrap().expect("sealed");
    let platform = vec![app.state.audit_key.public_key()];
    assert_eq!(quanban::audit::store::verify_signatures(db, &platform).await.unwrap(), Ok(id as u64));
    // Published for anyone to keep.
    let (_, published) = app.get_json("/api/v1/audit/checkpoints", None).await;
    assert_eq!(published["key"], platform[0].to_multibase());
    assert_eq!(published["checkpoints"][0]["id"], id);

    // The rewrite: the registration's entry says something else, and every hash follows.
    let stream = format!("user:{}", me["id"].as_str().unwrap());
    let mut entries = quanban::audit::store::recent(db, &stream, 100).await.unwrap();
    entries.reverse();
    let mut prev = quanban::audit::domain::GENESIS.to_string();
    for e in &mut entries {
        if e.seq == 1 {
            e.summary = "nothing happened".into();
        }
        e.prev_hash = prev.clone();
        e.hash = e.computed_hash();
        prev = e.hash.clone();
    }
    let rewritten = entries.clone();
    let stream_for_write = stream.clone();
    db.write(move |c| {
        for e in &rewritten {
            quanban::store::query(
                "UPDATE audit_log SET summary = $1, prev_hash = $2, hash = $3 WHERE stream = $4 AND seq = $5",
            )
            .bind(&e.summary)
            .bind(&e.prev_hash)
            .bind(&e.hash)
            .bind(&e.stream)
            .bind(e.seq)
            .execute(&mut *c)?;
        }
        let last = rewritten.last().unwrap();
        quanban::store::query("UPDATE audit_heads SET hash = $1 WHERE stream = $2")
            .bind(&last.hash)
            .bind(&stream_for_write)
            .execute(&mut *c)?;
        for e in &rewritten {
            quanban::store::query(
                "UPDATE audit_checkpoint_heads SET hash = $1 WHERE stream = $2 AND seq = $3",
            )
            .bind(&e.hash)
            .bind(&stream_for_write)
            .bind(e.seq)
            .execute(&mut *c)?;
        }
        Ok(())
    })
    .await
    .unwrap();
    // Recompute every checkpoint's hash in order, as the forger would.
    let checkpoints =
        sqlx::query("SELECT id, at FROM audit_checkpoints ORDER BY id").fetch_all(db.reader()).await.unwrap();
    let mut prev = quanban::audit::domain::GENESIS.to_string();
    for c in checkpoints {
        let (cid, at): (i64, String) = (sqlx::Row::get(&c, "id"), sqlx::Row::get(&c, "at"));
        let heads: Vec<(String, i64, String)> = sqlx::query(
            "SELECT stream, seq, hash FROM audit_checkpoint_heads WHERE checkpoint_id = $1 ORDER BY stream",
        )
        .bind(cid)
        .fetch_all(db.reader())
        .await
        .unwrap()
        .iter()
        .map(|r| (sqlx::Row::get(r, "stream"), sqlx::Row::get(r, "seq"), sqlx::Row::get(r, "hash")))
        .collect();
        let hash = checkpoint_hash(&prev, cid, &at, &heads);
        let (p, h) = (prev.clone(), hash.clone());
        db.write(move |conn| {
            quanban::store::query("UPDATE audit_checkpoints SET prev_hash = $1, hash = $2 WHERE id = $3")
                .bind(&p)
                .bind(&h)
                .bind(cid)
                .execute(&mut *conn)?;
            Ok(())
        })
        .await
        .unwrap();
        prev = hash;
    }
    // The hashes all agree again; the signature does not.
    assert!(
        quanban::audit::store::verify(db).await.unwrap().is_ok(),
        "a consistent rewrite passes the hash check"
    );
    let outcome = quanban::audit::store::verify_signatures(db, &platform).await.unwrap();
    assert!(matches!(outcome, Err(Break::Signature { .. })), "{outcome:?}");
    // And a key other than the platform's accepts nothing.
    let stranger =
        vec![quanban::audit::domain::signing_key("another platform's secret, 32+ characters").public_key()];
    let fresh = quanban::audit::store::verify_signatures(db, &stranger).await.unwrap();
    assert_eq!(fresh, Err(Break::Signature { id: 1 }));
}

async fn openapi_document_lists_the_interface(app: &TestApp) {
    let (status, doc) = app.get_json("/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in
        ["/api/v1/auth/register", "/api/v1/auth/token", "/api/v1/me", "/healthz", "/api/v1/calendar/add"]
    {
        assert!(doc["paths"][path].is_object(), "{path} missing from OpenAPI");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

async fn metrics_are_exposed(app: &TestApp) {
    app.client.get(app.url("/healthz")).send().await.unwrap();
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("quanban_http_requests_total"), "{text}");
    assert!(text.contains("route=\"/healthz\""));
}

async fn seed_is_idempotent(app: &TestApp) {
    let before = quanban::reference::seed::counts(&app.state.db).await.unwrap();
    let report = quanban::reference::seed::seed(&app.state.db).await.unwrap();
    assert!(!report.changed, "second seed changes nothing");
    let after = quanban::reference::seed::counts(&app.state.db).await.unwrap();
    assert_eq!(before, after);
    let get = |name: &str| after.iter().find(|(n, _)| n == name).unwrap().1;
    assert_eq!(get("departments"), 34);
    assert_eq!(get("catalog_items"), 196);
    assert_eq!(get("halls"), 51);
    assert_eq!(get("holiday_years"), 3);
}

async fn staff_creation_validates_and_scopes(app: &TestApp) {
    let head = app.demo_token("spj.head").await;
    let (status, body) = app
        .post_json(
            "/api/v1/staff",
            Some(&head),
            json!({"username": "1bad", "name": "新员工", "department": "JN-SPJ", "roles": ["window_clerk", "wizard"], "password": "short"}),
        )
        .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["username", "roles", "password"]);
    let (status, body) = app
        .post_json(
            "/api/v1/staff",
            Some(&head),
            json!({"username": "spj.new", "name": "新员工", "department": "JN-SPJ", "roles": ["reviewer"], "password": "Spring-City-2026"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let token = app.token("spj.new", "Spring-City-2026").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&token)).await;
    assert_eq!(me["roles"][0]["role"], "reviewer");
    let (status, _) = app
        .post_json(
            "/api/v1/staff",
            Some(&head),
            json!({"username": "spj.new", "name": "重名员工", "department": "JN-SPJ", "roles": ["reviewer"], "password": "Spring-City-2026"}),
        )
        .await;
    assert_eq!(status, 422, "duplicate username");
    let (status, _) = app
        .post_json(
            "/api/v1/staff",
            Some(&head),
            json!({"username": "scj.new", "name": "别部门", "department": "JN-SCJ", "roles": ["reviewer"], "password": "Spring-City-2026"}),
        )
        .await;
    assert_eq!(status, 404, "head of JN-SPJ cannot see JN-SCJ staff");

    // A head grants only department roles: a city-wide role (supervisor, system administrator,
    // general window, hotline, guidance) is refused with 403 and nothing is created.
    for role in ["supervisor", "system_admin", "general_window_clerk", "hotline_operator", "guide_officer"] {
        let (status, body) = app
            .post_json(
                "/api/v1/staff",
                Some(&head),
                json!({"username": "spj.climb", "name": "越权", "department": "JN-SPJ", "roles": ["window_clerk", role], "password": "Spring-City-2026"}),
            )
            .await;
        assert_eq!(status, 403, "head granting {role}: {body}");
    }
    // The system administrator grants a city-wide role in any department; the grant is audited.
    let admin = app.demo_token("dsj.admin").await;
    let (status, body) = app
        .post_json(
            "/api/v1/staff",
            Some(&admin),
            json!({"username": "spj.climb", "name": "督查员", "department": "JN-SPJ", "roles": ["supervisor"], "password": "Spring-City-2026"}),
        )
        .await;
    assert_eq!(status, 201, "admin grants supervisor: {body}");
    let granted = sqlx::query(
        "SELECT actor, summary FROM audit_log WHERE action = 'identity.staff_created' AND summary LIKE '%spj.climb%'",
    )
    .fetch_optional(app.state.db.reader())
    .await
    .unwrap()
    .expect("the grant is in the audit log");
    let (actor, detail): (String, String) =
        (sqlx::Row::get(&granted, "actor"), sqlx::Row::get(&granted, "summary"));
    assert!(actor.starts_with("user:"), "{actor}");
    assert!(detail.contains("supervisor"), "{detail}");
}

/// A NUL (or any other control character) in a text field is refused with 422 naming the field,
/// on both databases, with or without login, in JSON, forms and query strings; nothing is stored.
async fn control_characters_are_refused_by_field(app: &TestApp) {
    let users_before = count_users(app).await;
    let (s, b) = app
        .post_json(
            "/api/v1/auth/register",
            None,
            json!({"name": "张\u{0}伟", "id_number": "110101199003070011", "phone": "13900001234", "password": "Spring-City-2026"}),
        )
        .await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("name")), "{b}");
    assert_eq!(b["errors"][0]["code"], "control_characters");
    assert_eq!(count_users(app).await, users_before, "nothing stored");

    let citizen = app.demo_token("13800138001").await;
    let (s, b) = app
        .post_json(
            "/api/v1/complaints",
            Some(&citizen),
            json!({"description": "井盖\u{0}丢了", "address": "历下区\u{7f}"}),
        )
        .await;
    let fields: Vec<&str> =
        b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!((s, fields), (422, vec!["description", "address"]), "{b}");
    let (_, mine) = app.get_json("/api/v1/complaints", Some(&citizen)).await;
    assert_eq!(mine.as_array().unwrap().len(), 0, "nothing stored");

    // A nested field is named by its path; tab and new lines stay allowed.
    let (s, b) = app
        .post_json(
            "/api/v1/cases",
            Some(&citizen),
            json!({"item_code": "JN-SPJ-0003", "form": {"contact_name": "张伟\u{1b}", "note": "第一行\n第二行\t"}}),
        )
        .await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("form.contact_name")), "{b}");

    // Open311 form posts and query strings too.
    let key = app.open311_key().await;
    let r = app
        .client
        .post(app.url("/open311/v2/requests.json"))
        .form(&[
            ("api_key", key.as_str()),
            ("service_code", "water.supply"),
            ("lat", "36.66"),
            ("long", "117.05"),
            ("description", "停水\u{0}"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let (s, b) = app.get_json("/api/v1/items?q=%00", None).await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (422, json!("q")), "{b}");
}

/// Password spraying from one address is throttled across accounts: after the burst, logins from
/// that address get 429 problem+json with Retry-After, whatever the account, while reading pages
/// goes on. Registration has its own budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_from_one_address_are_limited() {
    let app =
        TestApp::start_with(common::Backend::Sqlite, |c| c.rate_limits = true).await.expect("app starts");
    let (burst, register_burst) =
        (quanban::http::limits::Limit::Login.quota().1, quanban::http::limits::Limit::Register.quota().1);
    let mut statuses = Vec::new();
    for i in 0..burst + 2 {
        let (s, _) = app
            .post_json(
                "/api/v1/auth/token",
                None,
                json!({"username": format!("1380013{:04}", 8000 + i), "password": "Wrong-Guess-2026"}),
            )
            .await;
        statuses.push(s);
    }
    assert!(statuses[..burst as usize].iter().all(|s| *s == 401), "{statuses:?}");
    let r = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"username": "dsj.admin", "password": "Wrong-Guess-2026"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/problem+json"));
    // The web login shares the budget; other pages do not.
    let r = app
        .client
        .post(app.url("/login"))
        .form(&[("username", "x"), ("password", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let (s, _) = app.get_json("/api/v1/items", None).await;
    assert_eq!(s, 200);
    let r = app.client.get(app.url("/login")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "showing the login form is not a login attempt");
    // Registration: its own burst, then 429.
    let mut last = 0;
    for i in 0..register_burst + 1 {
        let (s, _) = app
            .post_json(
                "/api/v1/auth/register",
                None,
                json!({"name": "", "id_number": format!("{i}"), "phone": "1", "password": "x"}),
            )
            .await;
        last = s;
    }
    assert_eq!(last, 429);
    app.stop().await;
}

/// What a signed-in person receives may hold personal data: `Cache-Control: no-store`; public
/// answers are left to their handlers. `/metrics` answers the host itself.
async fn personal_answers_are_not_cached(app: &TestApp) {
    let citizen = app.demo_token("13800138001").await;
    let r = app.client.get(app.url("/api/v1/me")).bearer_auth(&citizen).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    let r = app.client.get(app.url("/api/v1/items")).send().await.unwrap();
    assert!(r.headers().get("cache-control").is_none_or(|v| v != "no-store"));
    assert!(r.headers().get("strict-transport-security").is_none(), "no HSTS over plain http");
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "the host itself reads the metrics");
}

/// With an https public address every answer carries HSTS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_deployments_send_hsts() {
    let app =
        TestApp::start_with(common::Backend::Sqlite, |c| c.public_url = "https://zwfw.jinan.gov.cn".into())
            .await
            .expect("app starts");
    let r = app.client.get(app.url("/api/v1/items")).send().await.unwrap();
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000; includeSubDomains");
    app.stop().await;
}

/// ID and mobile numbers are sealed at rest (SM4-GCM) with keyed digests for lookups: no row of
/// `users` holds them in clear, the person still signs in with the number, a second registration
/// with the same numbers is still refused, and a row stored in clear before sealing existed is
/// sealed by the start-up pass and keeps working.
async fn personal_data_is_sealed_at_rest(app: &TestApp) {
    use sqlx::Row;
    let (phone, password) = app.register_person("沈括", 61).await;
    let token = app.token(&phone, &password).await;
    let (_, me) = app.get_json("/api/v1/me", Some(&token)).await;
    assert_eq!(me["phone_masked"], format!("{}****{}", &phone[..3], &phone[7..]));
    assert_eq!(me["username"], me["phone_masked"], "a person sees their number, masked");
    let row = sqlx::query("SELECT * FROM users WHERE id = $1")
        .bind(me["id"].as_str().unwrap())
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    let body17 = format!("3701021990{:02}{:02}{:03}", 1 + 61 % 12, 1 + 61 % 28, 61);
    let clear_id = quanban::demo::id_number(&body17).unwrap();
    for column in ["username", "id_number", "phone", "id_number_digest", "phone_digest"] {
        let value: String = row.get(column);
        assert!(!value.contains(&phone) && !value.contains(&clear_id[6..14]), "{column} = {value}");
    }
    assert!(row.get::<String, _>("id_number").starts_with("sm4gcm:"));
    assert!(row.get::<String, _>("phone").starts_with("sm4gcm:"));
    // The same numbers again: refused by their digests.
    let (s, b) = app
        .post_json(
            "/api/v1/auth/register",
            None,
            json!({"name": "沈括", "id_number": quanban::demo::id_number(&body17).unwrap(), "phone": phone, "password": "Spring-City-2026"}),
        )
        .await;
    let fields: Vec<&str> =
        b["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!((s, fields), (422, vec!["id_number"]), "{b}");

    // A person stored in clear (as before this change) is sealed at start-up and signs in.
    let hash = quanban::identity::password::hash("Spring-City-2026".into()).await.unwrap();
    let legacy_id = quanban::demo::id_number("37010219800101222").unwrap();
    common::insert_clear_person(&app.state.db, "legacy", "13912345678", &legacy_id, &hash).await;
    let sealed =
        quanban::identity::store::seal_clear_personal_data(&app.state.db, &app.state.vault).await.unwrap();
    assert_eq!(sealed, 1);
    let row = sqlx::query("SELECT username, phone, id_number FROM users WHERE id = 'legacy'")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    for column in ["username", "phone", "id_number"] {
        let value: String = row.get(column);
        assert!(!value.contains("13912345678") && !value.contains("2222"), "{column} = {value}");
    }
    app.token("13912345678", "Spring-City-2026").await;
    assert_eq!(
        quanban::identity::store::seal_clear_personal_data(&app.state.db, &app.state.vault).await.unwrap(),
        0
    );

    // The demo accounts' passwords are kept for `quanban demo accounts`, sealed.
    let listed = app.demo_accounts().await;
    let stored: Vec<String> = sqlx::query_scalar("SELECT password FROM demo_accounts")
        .fetch_all(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(stored.len(), listed.len());
    for p in &stored {
        assert!(p.starts_with("sm4gcm:") && listed.iter().all(|a| !p.contains(&a.password)), "{p}");
    }
}

/// A page that needs a login sends there with the page to come back to; signing in returns to it
/// (query kept), staff without one land on their workbench, and nothing but a page of this site is
/// ever a destination (no open redirect).
async fn login_returns_to_the_page_asked_for_and_nowhere_else(app: &TestApp) {
    let browser = || {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    };
    let location = |r: &reqwest::Response| r.headers()["location"].to_str().unwrap().to_string();
    let csrf_of = |html: &str| {
        let at = html.find(r#"name="csrf" value=""#).expect("csrf field") + r#"name="csrf" value=""#.len();
        html[at..at + html[at..].find('"').unwrap()].to_string()
    };
    let log_in = |client: reqwest::Client, username: String, password: String, next: Option<String>| async move {
        let page = client.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
        let mut form = vec![("csrf", csrf_of(&page)), ("username", username), ("password", password)];
        if let Some(n) = next {
            form.push(("next", n));
        }
        client.post(app.url("/login")).form(&form).send().await.unwrap()
    };
    let citizen = app.demo("13800138001").await;

    // A deep link with a query, asked for before signing in.
    let client = browser();
    let r = client.get(app.url("/my/cases?tab=done")).send().await.unwrap();
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/login?next=%2Fmy%2Fcases%3Ftab%3Ddone".to_string())
    );
    let page = client.get(app.url(&location(&r))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"<input type="hidden" name="next" value="/my/cases?tab=done">"#), "{page}");
    assert!(page.contains("/register?next=%2Fmy%2Fcases%3Ftab%3Ddone"), "registering keeps it too");
    let r =
        log_in(client, citizen.username.clone(), citizen.password.clone(), Some("/my/cases?tab=done".into()))
            .await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/my/cases?tab=done".to_string()));

    // Never another site, nor the login page again: the default instead.
    for evil in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "/login?next=/x",
        " /wallet",
    ] {
        let r =
            log_in(browser(), citizen.username.clone(), citizen.password.clone(), Some(evil.into())).await;
        assert_eq!((r.status().as_u16(), location(&r)), (303, "/".to_string()), "{evil}");
        let r = browser()
            .get(app.url(&format!("/login?next={}", quanban::web::page::encode_query_value(evil))))
            .send()
            .await
            .unwrap();
        assert!(!r.text().await.unwrap().contains(r#"name="next""#), "{evil} is not carried");
    }
    // Staff without a page asked for land on their workbench; people at home.
    let clerk = app.demo("spj.clerk").await;
    let r = log_in(browser(), clerk.username.clone(), clerk.password.clone(), None).await;
    assert_eq!(location(&r), "/workbench");
    let r = log_in(browser(), citizen.username.clone(), citizen.password.clone(), None).await;
    assert_eq!(location(&r), "/");
    // A failed attempt keeps the page to return to.
    let client = browser();
    let r = log_in(client, citizen.username.clone(), "wrong-password".into(), Some("/wallet".into())).await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.text().await.unwrap().contains(r#"name="next" value="/wallet""#));
}
