#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Several processes, crashes: what happens outside a single in-process app.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::{Backend, TestApp, fresh_pg_database};
use quanban::app::AppState;
use quanban::config::Config;
use serde_json::json;

/// A database with people and queued messages stored in clear (from before sealing existed), two
/// apps starting on it together: each row is sealed once, the audit log says so once, the person
/// signs in and the messages open to their addresses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_apps_seal_clear_personal_data_once() {
    let Some((url, _name)) = fresh_pg_database().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = || Config {
        data_dir: dir.path().to_path_buf(),
        database_url: Some(url.clone()),
        max_connections: 4,
        secure_cookies: false,
        ..Config::default()
    };
    let first = AppState::open(config()).await.expect("first app starts");
    let hash = quanban::identity::password::hash("Spring-City-2026".into()).await.unwrap();
    let clear_id = quanban::demo::id_number("37010219800101333").unwrap();
    for (id, phone) in [("legacy-1", "13912340001"), ("legacy-2", "13912340002")] {
        let clear_id = clear_id.replace("333", &id[7..].repeat(3));
        common::insert_clear_person(&first.db, id, phone, &clear_id, &hash).await;
    }
    // Two queued messages to legacy-1, addressed in clear as the outbox used to keep them.
    first
        .db
        .write(|c| {

                quanban::store::query(
                    "INSERT INTO notifications (id, user_id, title_zh, title_en, body_zh, body_en, created_at) \
                     VALUES ('n-legacy', 'legacy-1', '旧消息', 'Old message', '正文', 'Body', '2026-01-01T00:00:00Z')",
                )
                .execute(&mut *c)?;
                for (id, channel, to) in [("o-sms", "sms", "13912340001"), ("o-mail", "email", "old@example.cn")] {
                    quanban::store::query(
                        "INSERT INTO outbox (id, notification_id, channel, recipient, body, status, attempts, created_at) \
                         VALUES ($1, 'n-legacy', $2, $3, '正文', 'pending', 0, '2026-01-01T00:00:00Z')",
                    )
                    .bind(id)
                    .bind(channel)
                    .bind(to)
                    .execute(&mut *c)?;
                }
                Ok(())

        })
        .await
        .unwrap();
    first.db.close().await;
    let (a, b) = tokio::join!(AppState::open(config()), AppState::open(config()));
    let (a, b) = (a.expect("app a starts"), b.expect("app b starts"));
    let count = |sql: &'static str| {
        let db = a.db.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(db.reader()).await.unwrap() }
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM users WHERE id LIKE 'legacy-%' AND phone LIKE 'sm4gcm:%'").await,
        2
    );
    let summaries: Vec<String> =
        sqlx::query_scalar("SELECT summary FROM audit_log WHERE action = 'identity.personal_data_sealed'")
            .fetch_all(a.db.reader())
            .await
            .unwrap();
    let people: u64 =
        summaries.iter().map(|s| s.split_whitespace().find_map(|w| w.parse::<u64>().ok()).unwrap_or(0)).sum();
    assert_eq!(people, 2, "each person sealed once in all: {summaries:?}");
    assert_eq!(count("SELECT COUNT(*) FROM outbox WHERE recipient LIKE 'sm4gcm:%'").await, 2);
    let summaries: Vec<String> =
        sqlx::query_scalar("SELECT summary FROM audit_log WHERE action = 'platform.personal_data_sealed'")
            .fetch_all(a.db.reader())
            .await
            .unwrap();
    let values: u64 =
        summaries.iter().map(|s| s.split_whitespace().find_map(|w| w.parse::<u64>().ok()).unwrap_or(0)).sum();
    assert_eq!(values, 2, "each address sealed once in all: {summaries:?}");
    let dir = tempfile::tempdir().unwrap();
    let sender = quanban::cases::notify::FileSender::new(dir.path().join("outbox.jsonl"), b.clock().clone());
    assert_eq!(quanban::cases::notify::dispatch_once(&b.db, &sender).await.unwrap(), (2, 0));
    let sent = std::fs::read_to_string(dir.path().join("outbox.jsonl")).unwrap();
    assert!(sent.contains(r#""to":"13912340001""#) && sent.contains(r#""to":"old@example.cn""#), "{sent}");
    assert!(quanban::audit::store::verify(&a.db).await.unwrap().is_ok());
    // The person signs in, through either app.
    for app in [&a, &b] {
        let s = quanban::identity::service::login(
            app,
            "13912340001",
            "Spring-City-2026",
            quanban::identity::session::SessionKind::Api,
        )
        .await;
        assert!(s.is_ok(), "{:?}", s.err());
    }
}

/// Two app processes starting together on one PostgreSQL database: both come up, the reference
/// data and demo accounts exist exactly once, and a user registered through one logs in through
/// the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_apps_share_one_postgres_database() {
    let Some((url, _name)) = fresh_pg_database().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = || Config {
        data_dir: dir.path().to_path_buf(),
        database_url: Some(url.clone()),
        max_connections: 4,
        secure_cookies: false,
        ..Config::default()
    };
    let (a, b) = tokio::join!(AppState::open(config()), AppState::open(config()));
    let (a, b) = (a.expect("first app starts"), b.expect("second app starts"));
    assert_eq!(quanban::demo::list(&a.db, &a.vault).await.unwrap().len(), 21);
    let counts = quanban::reference::seed::counts(&b.db).await.unwrap();
    assert!(counts.contains(&("departments".to_string(), 34)));

    let serve = |state: AppState| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = quanban::app::router(state);
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        format!("http://{addr}")
    };
    let (base_a, base_b) = (serve(a.clone()).await, serve(b.clone()).await);
    let client = reqwest::Client::new();
    let id = quanban::demo::id_number("37010219880808088").unwrap();
    let resp = client
        .post(format!("{base_a}/api/v1/auth/register"))
        .json(&json!({"name": "双节点", "id_number": id, "phone": "13512345678", "password": "Spring-City-2026"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let resp = client
        .post(format!("{base_b}/api/v1/auth/token"))
        .json(&json!({"username": "13512345678", "password": "Spring-City-2026"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let report = quanban::audit::store::verify(&a.db).await.unwrap().expect("audit intact");
    assert!(report.entries > 0);
}

/// Start-up cannot race: two `quanban serve` processes started together on one fresh PostgreSQL
/// database, `QUANBAN_STARTUP_RUNS` times (20 unless set). Every run both come up, and every
/// once-only piece of start-up work (reference data, complaint taxonomy, demo accounts, seals,
/// demo cards) exists exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_start_together_twenty_times() {
    let runs: usize = std::env::var("QUANBAN_STARTUP_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let mut failures = Vec::new();
    for run in 1..=runs {
        let Some((url, _name)) = fresh_pg_database().await else { return };
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let spawn = |dir: &std::path::Path| {
            Command::new(env!("CARGO_BIN_EXE_quanban"))
                .args(["serve", "--bind", "127.0.0.1:0", "--data"])
                .arg(dir)
                .env("QUANBAN_LOG", "warn")
                .env("QUANBAN_CLOCK", common::test_clock_instant())
                .env("QUANBAN_RATE_LIMITS", "false")
                .env("QUANBAN_DATABASE_URL", &url)
                .env("QUANBAN_MAX_CONNECTIONS", "4")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("binary starts")
        };
        let children = [spawn(dirs[0].path()), spawn(dirs[1].path())];
        let waits: Vec<_> = children
            .into_iter()
            .map(|mut child| {
                std::thread::spawn(move || {
                    let stdout = child.stdout.take().unwrap();
                    let up = BufReader::new(stdout)
                        .lines()
                        .map_while(Result::ok)
                        .any(|l| l.contains("running at "));
                    if !up {
                        let mut err = String::new();
                        let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err);
                        let _ = child.wait();
                        return Err(err);
                    }
                    Ok(Killed(child))
                })
            })
            .collect();
        let started: Vec<Result<Killed, String>> = waits.into_iter().map(|w| w.join().unwrap()).collect();
        for (i, r) in started.iter().enumerate() {
            if let Err(e) = r {
                failures.push(format!("run {run}, process {}: {}", i + 1, e.lines().last().unwrap_or("")));
            }
        }
        if started.iter().all(Result::is_ok) {
            let db = quanban::store::Db::connect(&quanban::store::DbOptions {
                url: url.clone(),
                max_connections: 2,
                max_group: 1,
                max_queue: quanban::store::DEFAULT_WRITE_QUEUE,
                clock: quanban::platform::clock::Clock::fixed(quanban::platform::clock::test_instant()),
            })
            .await
            .unwrap();
            let count = |sql: &'static str| {
                let db = db.clone();
                async move {
                    let row = sqlx::query(sql).fetch_one(db.reader()).await.unwrap();
                    sqlx::Row::try_get::<i64, _>(&row, 0).unwrap()
                }
            };
            assert_eq!(
                count("SELECT COUNT(*) FROM demo_accounts").await,
                21,
                "run {run}: demo accounts once"
            );
            assert_eq!(
                count("SELECT COUNT(*) FROM complaint_categories").await,
                quanban::complaints::service::default_taxonomy().unwrap().categories.len() as i64,
                "run {run}: the taxonomy once"
            );
            assert_eq!(
                count("SELECT COUNT(*) FROM seals WHERE status = 'active'").await,
                count("SELECT COUNT(*) FROM departments").await,
                "run {run}: one seal per department"
            );
            assert_eq!(
                count("SELECT COUNT(*) FROM audit_log WHERE action = 'demo.accounts_created'").await,
                1,
                "run {run}: demo accounts created by one process"
            );
            assert_eq!(
                count("SELECT COUNT(*) FROM audit_log WHERE action = 'complaint.taxonomy_changed'").await,
                1,
                "run {run}: taxonomy seeded by one process"
            );
            assert_eq!(
                count("SELECT COUNT(*) FROM audit_log WHERE action = 'reference.seeded'").await,
                1,
                "run {run}: reference data loaded by one process"
            );
            // The demo citizen's five cards, the representative's three and her business licence.
            assert_eq!(count("SELECT COUNT(*) FROM credentials").await, 9, "run {run}: demo cards once");
            db.close().await;
        }
        drop(started);
    }
    assert!(failures.is_empty(), "{} of {runs} start-ups failed: {failures:#?}", failures.len());
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends a request and reads its JSON answer.
async fn get_json(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.unwrap().json().await.unwrap()
}

fn start_binary(data: &std::path::Path) -> (Killed, String) {
    start_binary_on(data, None)
}

/// A `quanban serve` process on `data`, on SQLite there or on PostgreSQL database `url`.
fn start_binary_on(data: &std::path::Path, url: Option<&str>) -> (Killed, String) {
    start_binary_at(data, url, &common::test_clock_instant())
}

/// The same with the platform's clock fixed at `clock` (RFC 3339).
fn start_binary_at(data: &std::path::Path, url: Option<&str>, clock: &str) -> (Killed, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quanban"));
    command
        .args(["serve", "--bind", "127.0.0.1:0", "--data"])
        .arg(data)
        .env("QUANBAN_LOG", "warn")
        .env("QUANBAN_CLOCK", clock)
        .env("QUANBAN_RATE_LIMITS", "false")
        // Plain HTTP on the loopback: the tests' cookie jars send the page cookies back.
        .env("QUANBAN_SECURE_COOKIES", "false");
    match url {
        Some(url) => command.env("QUANBAN_DATABASE_URL", url),
        None => command.env_remove("QUANBAN_DATABASE_URL"),
    };
    let mut child = command.stdout(Stdio::piped()).spawn().expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines.next().expect("server printed its URL").unwrap();
        if let Some(rest) = line.split("running at ").nth(1) {
            break rest.split_whitespace().next().unwrap().trim_end_matches('/').to_string();
        }
    };
    (Killed(child), base)
}

/// An acknowledged registration survives the server being killed with SIGKILL right after the
/// answer (no graceful shutdown, no chance to flush anything later).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_write_survives_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let (server, base) = start_binary(dir.path());
    let client = reqwest::Client::new();
    let mut phones = Vec::new();
    for i in 0..5u32 {
        let id = quanban::demo::id_number(&format!("370102199101{:02}{:03}", 10 + i, i)).unwrap();
        let phone = format!("1351000{:04}", i);
        let resp = client
            .post(format!("{base}/api/v1/auth/register"))
            .json(
                &json!({"name": "崩溃测试", "id_number": id, "phone": phone, "password": "Spring-City-2026"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        phones.push(phone);
    }
    // A hotline call filed with an idempotency key: acknowledged, then the server is killed.
    let operator =
        login(&client, &base, "hotline.operator", &demo_password(dir.path(), "hotline.operator")).await;
    let call = json!({"description": "崩溃前登记的来电：路灯不亮", "call_type": "complaint", "idempotency_key": "before-crash"});
    let filed: serde_json::Value = client
        .post(format!("{base}/api/v1/complaints"))
        .bearer_auth(&operator)
        .json(&call)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(filed["replayed"], false, "{filed}");
    // A decision acknowledged with its number and the approver's opinion.
    let first_decision = decide_food_licence(&client, &base, dir.path(), "崩溃前的审批意见：同意").await;
    // A number taken and then cancelled by its holder (with the slip's code).
    let slip = get_json(client.post(format!("{base}/api/v1/halls/JN-H-0002/queue")).json(&json!({}))).await;
    let slip_id = slip["id"].as_str().unwrap().to_string();
    let resp = client
        .post(format!("{base}/api/v1/queue/tickets/{slip_id}/cancel"))
        .json(&json!({"secret": slip["holder_secret"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // A number called at a window, recalled (重呼) and passed over (过号), each acknowledged.
    let called = get_json(client.post(format!("{base}/api/v1/halls/JN-H-0002/queue")).json(&json!({}))).await;
    let called_id = called["id"].as_str().unwrap().to_string();
    let clerk = login(&client, &base, "spj.clerk", &demo_password(dir.path(), "spj.clerk")).await;
    for step in ["call", "recall", "skip"] {
        let resp = client
            .post(format!("{base}/api/v1/halls/JN-H-0002/queue/{step}"))
            .bearer_auth(&clerk)
            .json(&json!({"window": "7号窗口"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{step}: {}", resp.text().await.unwrap());
    }
    // A kiosk QR code confirmed on the phone, acknowledged, before the kill.
    let admin = login(&client, &base, "dsj.admin", &demo_password(dir.path(), "dsj.admin")).await;
    let (kiosk, kiosk_csrf) =
        confirmed_qr_code(&base, &base, &admin, &demo_password(dir.path(), "13800138001")).await;
    // A construction project registered, and a member department's joint-review opinion given.
    let (project, joint_case) = project_and_opinion(&client, &base, dir.path(), &admin).await;
    drop(server); // SIGKILL
    let (_server, base) = start_binary(dir.path());
    let rep = login(&client, &base, "13800138002", &demo_password(dir.path(), "13800138002")).await;
    let kept = get_json(client.get(format!("{base}/api/v1/projects/{project}")).bearer_auth(&rep)).await;
    assert_eq!(kept["name"], "崩溃前登记的项目", "the acknowledged project survives: {kept}");
    let member = login(&client, &base, "zrj.reviewer", &demo_password(dir.path(), "zrj.reviewer")).await;
    let review =
        get_json(client.get(format!("{base}/api/v1/cases/{joint_case}/joint-review")).bearer_auth(&member))
            .await;
    let planning =
        review["members"].as_array().unwrap().iter().find(|m| m["department"] == "JN-ZRJ").cloned();
    assert_eq!(planning.unwrap()["opinion"], "pass", "the acknowledged opinion survives: {review}");
    // The confirmation survives: the kiosk signs in with it, once.
    let sign_in =
        || kiosk.post(format!("{base}/kiosk/qr-login/sign-in")).form(&[("csrf", kiosk_csrf.clone())]).send();
    let first = sign_in().await.unwrap();
    assert_eq!((first.status().as_u16(), first.headers()["location"].to_str().unwrap()), (303, "/my/cases"));
    // Again (now with the session's own form token expected): refused, no second session.
    assert_ne!(sign_in().await.unwrap().status(), 303);
    // The number survives, and the sequence goes on after it (never used twice).
    let second_decision = decide_food_licence(&client, &base, dir.path(), "重启后的审批意见：同意").await;
    let year = &first_decision.1[..];
    assert!(year.starts_with("济政务许〔") && year.ends_with("〕1号"), "{first_decision:?}");
    assert_eq!(second_decision.1, first_decision.1.replace("〕1号", "〕2号"));
    let citizen = login(&client, &base, "13800138001", &demo_password(dir.path(), "13800138001")).await;
    let kept: serde_json::Value = client
        .get(format!("{base}/api/v1/cases/{}", first_decision.0))
        .bearer_auth(&citizen)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kept["decision_document"]["document_number"], first_decision.1.as_str());
    assert_eq!(kept["decision_document"]["opinion"], "崩溃前的审批意见：同意");
    let slip_now = get_json(client.get(format!("{base}/api/v1/queue/tickets/{slip_id}"))).await;
    assert_eq!(slip_now["status"], "cancelled", "the acknowledged cancellation survives");
    let passed = get_json(client.get(format!("{base}/api/v1/queue/tickets/{called_id}"))).await;
    assert_eq!(
        (passed["status"].as_str(), passed["recalls"].as_i64()),
        (Some("skipped"), Some(1)),
        "the acknowledged recall and pass survive: {passed}"
    );
    // Sent again after the restart (the operator's retry): the same complaint, nothing new.
    let operator =
        login(&client, &base, "hotline.operator", &demo_password(dir.path(), "hotline.operator")).await;
    let resp = client
        .post(format!("{base}/api/v1/complaints"))
        .bearer_auth(&operator)
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let again: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        (again["replayed"].clone(), again["complaint"]["id"].clone()),
        (json!(true), filed["complaint"]["id"].clone())
    );
    for phone in phones {
        let resp = client
            .post(format!("{base}/api/v1/auth/token"))
            .json(&json!({"username": phone, "password": "Spring-City-2026"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "registration of {phone} was lost");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_quanban"))
        .env("QUANBAN_CLOCK", common::test_clock_instant())
        .env("QUANBAN_RATE_LIMITS", "false")
        .args(["audit", "verify", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // With the platform's audit key, kept outside the database, the signatures are checked too.
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_quanban"))
            .env("QUANBAN_CLOCK", common::test_clock_instant())
            .args(args)
            .arg("--data")
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let out = cli(&["audit", "checkpoint"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = cli(&["audit", "key"]);
    assert!(key.status.success(), "{}", String::from_utf8_lossy(&key.stderr));
    let keys = dir.path().join("audit-keys.txt");
    std::fs::write(&keys, &key.stdout).unwrap();
    let out = cli(&["audit", "verify", "--keys", keys.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("signed by the given audit key"));
    let stranger = quanban::audit::domain::signing_key("another platform's secret of 32+ characters");
    std::fs::write(&keys, format!("# not ours\n{}\n", stranger.public_key().to_multibase())).unwrap();
    let out = cli(&["audit", "verify", "--keys", keys.to_str().unwrap()]);
    assert!(!out.status.success(), "another key must not pass");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not signed by the platform's audit key"));
}

/// Registers a project as the demo enterprise, and has the planning bureau agree on a joint
/// drawing review (accepted by a housing-bureau officer created here); answers the project code
/// and the case number, both acknowledged.
async fn project_and_opinion(
    client: &reqwest::Client,
    base: &str,
    data: &std::path::Path,
    admin: &str,
) -> (String, String) {
    let rep = login(client, base, "13800138002", &demo_password(data, "13800138002")).await;
    let me = get_json(client.get(format!("{base}/api/v1/me")).bearer_auth(&rep)).await;
    let enterprise = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let project = get_json(client.post(format!("{base}/api/v1/projects")).bearer_auth(&rep).json(&json!({
        "name": "崩溃前登记的项目", "district": "历下区", "location": "经十路1号", "floor_area_m2": 500,
        "investment_wan": 300, "enterprise": enterprise})))
    .await;
    let code = project["code"].as_str().unwrap_or_else(|| panic!("{project}")).to_string();
    let applied = get_json(client.post(format!("{base}/api/v1/cases")).bearer_auth(&rep).json(&json!({
        "item_code": "JN-ZJJ-0008", "enterprise": enterprise,
        "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}})))
    .await;
    let n = applied["case_number"].as_str().unwrap_or_else(|| panic!("{applied}")).to_string();
    let resp = client
        .post(format!("{base}/api/v1/staff"))
        .bearer_auth(admin)
        .json(&json!({"username": "zjj.crash", "name": "住建办事员", "department": "JN-ZJJ",
                      "roles": ["window_clerk", "reviewer"], "password": "Spring-City-2026"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let lead = login(client, base, "zjj.crash", "Spring-City-2026").await;
    for a in ["accept", "start_review"] {
        let resp = client
            .post(format!("{base}/api/v1/cases/{n}/actions/{a}"))
            .bearer_auth(&lead)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{a}");
    }
    let member = login(client, base, "zrj.reviewer", &demo_password(data, "zrj.reviewer")).await;
    let resp = client
        .post(format!("{base}/api/v1/cases/{n}/joint-review"))
        .bearer_auth(&member)
        .json(&json!({"opinion": "pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    (code, n)
}

/// Applies for 食品经营许可 as the demo citizen, accepts and approves it with `opinion`; answers
/// the case number and the decision's document number.
async fn decide_food_licence(
    client: &reqwest::Client,
    base: &str,
    data: &std::path::Path,
    opinion: &str,
) -> (String, String) {
    let citizen = login(client, base, "13800138001", &demo_password(data, "13800138001")).await;
    let clerk = login(client, base, "spj.clerk", &demo_password(data, "spj.clerk")).await;
    let approver = login(client, base, "spj.approver", &demo_password(data, "spj.approver")).await;
    let post = |path: String, token: String, body: serde_json::Value| {
        let request = client.post(format!("{base}{path}")).bearer_auth(token).json(&body);
        async move {
            let resp = request.send().await.unwrap();
            let status = resp.status().as_u16();
            let body: serde_json::Value = resp.json().await.unwrap();
            assert!(status == 200 || status == 201, "{path}: {status} {body}");
            body
        }
    };
    let pdf = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"%PDF-1.4\n% crash\n");
    let applied = post(
        "/api/v1/cases".into(),
        citizen,
        json!({"item_code": "JN-SPJ-0003", "form": {"contact_name": "张伟", "contact_phone": "13800138001"},
               "materials": [{"index": 0, "file_name": "申请书.pdf", "content_base64": pdf}]}),
    )
    .await;
    let n = applied["case_number"].as_str().unwrap().to_string();
    post(format!("/api/v1/cases/{n}/actions/accept"), clerk, json!({})).await;
    let decided =
        post(format!("/api/v1/cases/{n}/actions/approve"), approver, json!({"opinion": opinion})).await;
    (n, decided["document_number"].as_str().unwrap().to_string())
}

/// The demo citizen's password on `data`, from `quanban demo accounts` (as an operator reads it).
fn demo_password(data: &std::path::Path, username: &str) -> String {
    demo_password_on(data, None, username)
}

/// The same on PostgreSQL database `url` when given.
fn demo_password_on(data: &std::path::Path, url: Option<&str>, username: &str) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quanban"));
    command
        .env("QUANBAN_CLOCK", common::test_clock_instant())
        .env("QUANBAN_RATE_LIMITS", "false")
        .args(["demo", "accounts", "--data"])
        .arg(data);
    match url {
        Some(url) => command.env("QUANBAN_DATABASE_URL", url),
        None => command.env_remove("QUANBAN_DATABASE_URL"),
    };
    let out = command.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|a| a["username"] == username)
        .and_then(|a| a["password"].as_str().map(str::to_string))
        .expect("demo account listed")
}

async fn login(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let resp = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "login of {username}");
    resp.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_string()
}

/// Mixed writes acknowledged during a concurrent burst survive SIGKILL in the middle of it.
/// Sixteen clients run case lifecycles (submit → accept → approve → rate the service → close)
/// and file a complaint with each; `QUANBAN_CRASH_WRITES` writes in all (10,000 unless set),
/// and the server is killed once 40 % of them are acknowledged, with the rest in flight. After a
/// restart on the same data directory every acknowledged write is there (each case at least at
/// the step last acknowledged, each rating and complaint present), and the audit chains verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_a_kill_during_a_burst() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    const IN_FLIGHT: usize = 16;
    let total: usize =
        std::env::var("QUANBAN_CRASH_WRITES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let kill_after = total * 2 / 5;

    let dir = tempfile::tempdir().unwrap();
    let (server, base) = start_binary(dir.path());
    let client = reqwest::Client::new();
    let citizen = login(&client, &base, "13800138001", &demo_password(dir.path(), "13800138001")).await;
    let clerk = login(&client, &base, "spj.clerk", &demo_password(dir.path(), "spj.clerk")).await;
    let approver = login(&client, &base, "spj.approver", &demo_password(dir.path(), "spj.approver")).await;

    /// What an acknowledged write promised.
    #[derive(Debug)]
    enum Acked {
        /// The case reached this step (0 submitted … 3 closed).
        Case(String, usize),
        Rating(String),
        Complaint(String),
    }
    let sent = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::<Acked>::new()));
    let unexpected = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut workers = Vec::new();
    for w in 0..IN_FLIGHT {
        let (sent, killed, acked, unexpected) =
            (sent.clone(), killed.clone(), acked.clone(), unexpected.clone());
        let (client, base) = (reqwest::Client::new(), base.clone());
        let (citizen, clerk, approver) = (citizen.clone(), clerk.clone(), approver.clone());
        workers.push(tokio::spawn(async move {
            // One write: Some(answer) when acknowledged as expected, None when unanswered.
            let write = |path: String, token: String, body: serde_json::Value, expect: u16| {
                let (client, base, sent, unexpected) = (client.clone(), base.clone(), sent.clone(), unexpected.clone());
                async move {
                    if sent.fetch_add(1, Ordering::Relaxed) >= total {
                        return None;
                    }
                    let resp = client.post(format!("{base}{path}")).bearer_auth(token).json(&body).send().await.ok()?;
                    let status = resp.status().as_u16();
                    let body = resp.json::<serde_json::Value>().await.ok()?;
                    if status != expect {
                        unexpected.lock().unwrap().push(format!("{path}: {status} {body}"));
                        return None;
                    }
                    Some(body)
                }
            };
            let pdf = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"%PDF-1.4\n% crash\n");
            let mut round = 0usize;
            while sent.load(Ordering::Relaxed) < total && !killed.load(Ordering::Relaxed) {
                round += 1;
                let body = json!({"description": format!("路面有坑，骑车危险（客户端{w}第{round}次）"),
                                  "category": "city.road_damage", "lat": 36.66, "lon": 117.02});
                let Some(c) = write("/api/v1/complaints".into(), citizen.clone(), body, 201).await else { continue };
                acked.lock().unwrap().push(Acked::Complaint(c["complaint"]["id"].as_str().unwrap().to_string()));
                let body = json!({"item_code": "JN-SPJ-0003", "form": {"contact_name": "张伟", "contact_phone": "13800138001"},
                                  "materials": [{"index": 0, "file_name": "申请书.pdf", "content_base64": pdf}]});
                let Some(c) = write("/api/v1/cases".into(), citizen.clone(), body, 201).await else { continue };
                let n = c["case_number"].as_str().unwrap().to_string();
                acked.lock().unwrap().push(Acked::Case(n.clone(), 0));
                let act = |a: &str| format!("/api/v1/cases/{n}/actions/{a}");
                if write(act("accept"), clerk.clone(), json!({}), 200).await.is_none() {
                    continue;
                }
                acked.lock().unwrap().push(Acked::Case(n.clone(), 1));
                if write(act("approve"), approver.clone(), json!({}), 200).await.is_none() {
                    continue;
                }
                acked.lock().unwrap().push(Acked::Case(n.clone(), 2));
                let rating = json!({"case_number": n, "score": 5});
                if write("/api/v1/ratings".into(), citizen.clone(), rating, 201).await.is_none() {
                    continue;
                }
                acked.lock().unwrap().push(Acked::Rating(n.clone()));
                if write(act("close"), approver.clone(), json!({}), 200).await.is_none() {
                    continue;
                }
                acked.lock().unwrap().push(Acked::Case(n.clone(), 3));
            }
        }));
    }
    // SIGKILL once enough writes have been acknowledged, while the others are in flight.
    let started = std::time::Instant::now();
    while acked.lock().unwrap().len() < kill_after {
        assert!(started.elapsed() < std::time::Duration::from_secs(600), "burst too slow");
        assert!(
            unexpected.lock().unwrap().is_empty(),
            "unexpected answers: {:?}",
            unexpected.lock().unwrap()
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    drop(server);
    killed.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(unexpected.lock().unwrap().is_empty(), "unexpected answers: {:?}", unexpected.lock().unwrap());
    assert!(
        acked.len() >= kill_after && acked.len() < total,
        "killed mid-burst: {} acknowledged",
        acked.len()
    );
    eprintln!(
        "{} writes acknowledged before SIGKILL ({:.1} s)",
        acked.len(),
        started.elapsed().as_secs_f64()
    );

    let (server, base) = start_binary(dir.path());
    let citizen = login(&client, &base, "13800138001", &demo_password(dir.path(), "13800138001")).await;
    const ORDER: [&str; 4] = ["submitted", "accepted", "approved", "closed"];
    let mut step_of: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for a in &acked {
        if let Acked::Case(n, step) = a {
            let e = step_of.entry(n.as_str()).or_default();
            *e = (*e).max(*step);
        }
    }
    for (n, step) in &step_of {
        let resp = client.get(format!("{base}/api/v1/cases/{n}")).bearer_auth(&citizen).send().await.unwrap();
        assert_eq!(resp.status(), 200, "acknowledged case {n} was lost");
        let case: serde_json::Value = resp.json().await.unwrap();
        let now = ORDER.iter().position(|s| case["state"] == *s).unwrap_or_else(|| panic!("{n}: {case}"));
        assert!(now >= *step, "{n} acknowledged as {} but is {}", ORDER[*step], case["state"]);
    }
    for a in &acked {
        match a {
            Acked::Rating(_) => {}
            Acked::Complaint(id) => {
                let resp = client
                    .get(format!("{base}/api/v1/complaints/{id}"))
                    .bearer_auth(&citizen)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 200, "acknowledged complaint {id} was lost");
            }
            Acked::Case(..) => {}
        }
    }
    drop(server);
    // Ratings straight from the database file (the API lists a person's latest 200).
    sqlx::any::install_default_drivers();
    let db_url = format!("sqlite://{}", dir.path().join("quanban.db").display());
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&db_url).await.unwrap();
    let rated: std::collections::HashSet<String> =
        sqlx::query("SELECT object_id FROM ratings WHERE object_kind = 'case'")
            .fetch_all(&mut db)
            .await
            .unwrap()
            .iter()
            .map(|r| sqlx::Row::try_get::<String, _>(r, 0).unwrap())
            .collect();
    for a in &acked {
        if let Acked::Rating(n) = a {
            assert!(rated.contains(n), "acknowledged rating of {n} was lost");
        }
    }
    drop(db);
    let out = Command::new(env!("CARGO_BIN_EXE_quanban"))
        .env("QUANBAN_CLOCK", common::test_clock_instant())
        .env("QUANBAN_RATE_LIMITS", "false")
        .args(["audit", "verify", "--data"])
        .arg(dir.path())
        .env_remove("QUANBAN_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `quanban audit verify` exits non-zero naming the entry when a row is deleted behind the
/// platform's back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_command_names_the_broken_entry() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    app.register_person("审计", 77).await;
    app.state
        .db
        .write(|c| {
            quanban::store::query("DELETE FROM audit_log WHERE stream = 'system' AND seq = 1")
                .execute(&mut *c)?;
            Ok(())
        })
        .await
        .unwrap();
    let data = app.state.config.data_dir.clone();
    let out = Command::new(env!("CARGO_BIN_EXE_quanban"))
        .env("QUANBAN_CLOCK", common::test_clock_instant())
        .env("QUANBAN_RATE_LIMITS", "false")
        .args(["audit", "verify", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stream system"), "{err}");
    app.stop().await;
}

/// The CLI's calendar arithmetic and demo-account listing.
#[test]
fn calendar_and_demo_commands() {
    let out = Command::new(env!("CARGO_BIN_EXE_quanban"))
        .env("QUANBAN_CLOCK", common::test_clock_instant())
        .env("QUANBAN_RATE_LIMITS", "false")
        .args(["calendar", "add", "2026-09-30", "5"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2026-10-13");
    let out = Command::new(env!("CARGO_BIN_EXE_quanban"))
        .env("QUANBAN_CLOCK", common::test_clock_instant())
        .env("QUANBAN_RATE_LIMITS", "false")
        .args(["calendar", "count", "2026-09-30", "2026-10-13"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "5");
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_quanban"))
        .env("QUANBAN_CLOCK", common::test_clock_instant())
        .env("QUANBAN_RATE_LIMITS", "false")
        .args(["demo", "accounts", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // 21 accounts (19 staff, a citizen, an enterprise representative) and the demo Open311
    // client's key.
    assert_eq!(lines.len(), 22);
    let key_line = lines.iter().find(|l| l["role"] == "open311_client").expect("open311 client line");
    assert!(key_line["api_key"].as_str().is_some_and(|k| k.len() >= 32), "{key_line}");
    for l in lines.iter().filter(|l| l["role"] != "open311_client") {
        for key in ["role", "department", "username", "password"] {
            assert!(l.get(key).is_some(), "{key} missing in {l}");
        }
    }
    assert!(lines.iter().any(|l| l["role"] == "supervisor"));
    let out = Command::new(env!("CARGO_BIN_EXE_quanban"))
        .args(["serve", "--production", "--bind", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "production refuses a database with demo accounts");
    assert!(String::from_utf8_lossy(&out.stderr).contains("demo"));
    // The tests' binary hashes passwords at the minimum cost (feature cheap-passwords): it
    // refuses to run in production even on a clean data directory.
    const { assert!(quanban::identity::password::CHEAP_FOR_TESTS, "the tests build with cheap-passwords") };
    let clean = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_quanban"))
        .args(["serve", "--production", "--bind", "127.0.0.1:0", "--data"])
        .arg(clean.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "a test build refuses production");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cheap-passwords"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `quanban user create` reads the password from standard input, validates every field, and the
/// new account can log in to a running server on the same data directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_create_command() {
    use std::io::Write;
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let data = app.state.config.data_dir.clone();
    let create = |username: &str, password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_quanban"))
            .env("QUANBAN_CLOCK", common::test_clock_instant())
            .env("QUANBAN_RATE_LIMITS", "false")
            .args([
                "user",
                "create",
                "--username",
                username,
                "--name",
                "命令行员工",
                "--department",
                "JN-SCJ",
            ])
            .args(["--role", "reviewer", "--role", "approver", "--data"])
            .arg(&data)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    let out = create("scj.cli", "weak");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));
    let out = create("scj.cli", "Spring-City-2026");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = app.token("scj.cli", "Spring-City-2026").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&token)).await;
    let roles: Vec<&str> =
        me["roles"].as_array().unwrap().iter().map(|r| r["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["approver", "reviewer"]);
    app.stop().await;
}

/// With two app processes on one PostgreSQL database, a catalog change made through one shows in
/// the other's guidance search within seconds, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guide_index_follows_changes_made_by_another_process() {
    let Some((url, _name)) = fresh_pg_database().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = || Config {
        data_dir: dir.path().to_path_buf(),
        database_url: Some(url.clone()),
        max_connections: 4,
        ..Config::default()
    };
    let a = AppState::open(config()).await.unwrap();
    let b = AppState::open(config()).await.unwrap();
    quanban::guide::spawn_refresher(b.clone(), std::time::Duration::from_millis(500));
    let hits = |state: AppState| async move {
        let index = quanban::guide::api::index(&state).await.unwrap();
        index.search("飞无人机航拍要登记吗", 3).results.into_iter().map(|h| h.code).collect::<Vec<_>>()
    };
    assert!(!hits(b.clone()).await.contains(&"JN-SPJ-0998".to_string()));
    // Process A adds an item through the adjustment flow.
    let mut item = quanban::catalog::store::get(&a.db, "JN-SPJ-0001").await.unwrap().unwrap().item;
    item.code = "JN-SPJ-0998".into();
    item.name = "民用无人机飞行活动登记".into();
    item.keywords = vec!["无人机".into(), "航拍".into()];
    let today = a.clock().today();
    let p = quanban::catalog::store::propose(
        &a.db,
        "test:officer".into(),
        quanban::catalog::store::NewProposal {
            department: "JN-SPJ".into(),
            source: "api".into(),
            reason: "新增".into(),
            effective_date: today,
            changes: vec![quanban::catalog::store::Change {
                op: quanban::catalog::domain::ChangeOp::Add,
                code: "JN-SPJ-0998".into(),
                item: Some(item),
                supervising_department: None,
            }],
        },
    )
    .await
    .unwrap();
    quanban::catalog::store::decide(
        &a.db,
        "test:approver".into(),
        &p.id,
        true,
        String::new(),
        p.version,
        today,
    )
    .await
    .unwrap();
    let mut seen = false;
    for _ in 0..50 {
        if hits(b.clone()).await.contains(&"JN-SPJ-0998".to_string()) {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen, "process B's index followed process A's change");
}

/// `quanban import catalog FILE`: a good file becomes one proposal; a bad one is rejected whole
/// with every problem listed as row and column, and nothing is recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_catalog_command() {
    use quanban::catalog::transfer::{Format, export};
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let data = app.state.config.data_dir.clone();
    let mut items: Vec<_> = quanban::catalog::store::all_current(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.item)
        .filter(|i| i.department == "JN-YBJ")
        .collect();
    items[0].fee = "不收费（调整后）".into();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("ybj.xlsx");
    std::fs::write(&good, export(Format::Xlsx, &items).unwrap()).unwrap();
    let run = |file: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_quanban"))
            .env("QUANBAN_CLOCK", common::test_clock_instant())
            .env("QUANBAN_RATE_LIMITS", "false")
            .args(["import", "catalog"])
            .arg(file)
            .args(["--reason", "年度梳理", "--data"])
            .arg(&data)
            .output()
            .unwrap()
    };
    let out = run(&good);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 change(s) to JN-YBJ"));
    let proposals =
        quanban::catalog::store::list_proposals(&app.state.db, Some("JN-YBJ"), None).await.unwrap();
    assert_eq!(proposals.len(), 1);
    assert_eq!(proposals[0].source, "import:ybj.xlsx");

    let mut csv = String::from_utf8(export(Format::Csv, &items).unwrap()).unwrap();
    csv = csv.replacen("市级", "省部级", 1);
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, csv).unwrap();
    let out = run(&bad);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 2") && err.contains("层级"), "{err}");
    let proposals =
        quanban::catalog::store::list_proposals(&app.state.db, Some("JN-YBJ"), None).await.unwrap();
    assert_eq!(proposals.len(), 1, "nothing recorded for the bad file");
    app.stop().await;
}

/// The race stories across two `quanban serve` processes on one PostgreSQL database: 100 cases
/// withdrawn through one process while approved through the other (each ends in one final state;
/// a withdrawn one has no e-licence and no decision), and the proactive scan through both
/// processes' API at once with their own periodic scans running (one task per cluster).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn races_across_two_serve_processes_on_postgres() {
    const PAIRS: usize = 100;
    let Some(two) = TwoServers::start().await else { return };
    let (url, base_a, base_b) = (two.url.clone(), two.bases[0].clone(), two.bases[1].clone());
    let citizen = two.login(&base_a, "13800138001").await;
    let clerk = two.login(&base_a, "spj.clerk").await;
    let approver = two.login(&base_b, "spj.approver").await;
    let operator = two.login(&base_b, "hotline.operator").await;
    let post = |base: String, path: String, token: String, body: serde_json::Value| {
        two.post(base, path, token, body)
    };
    let pdf = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"%PDF-1.4\n% race\n");
    // A citizen's application for 食品经营许可 through `base`, accepted there: its number.
    let apply_and_accept = |base: String| {
        let (citizen, clerk, pdf, post) = (citizen.clone(), clerk.clone(), pdf.clone(), &post);
        async move {
            let (s, b) = post(
                base.clone(),
                "/api/v1/cases".into(),
                citizen,
                json!({"item_code": "JN-SPJ-0003", "form": {"contact_name": "张伟", "contact_phone": "13800138001"},
                       "materials": [{"index": 0, "file_name": "申请书.pdf", "content_base64": pdf}]}),
            )
            .await;
            assert_eq!(s, 201, "{b}");
            let n = b["case_number"].as_str().unwrap().to_string();
            let (s, b) = post(base, format!("/api/v1/cases/{n}/actions/accept"), clerk, json!({})).await;
            assert_eq!(s, 200, "{b}");
            n
        }
    };
    let mut numbers = Vec::new();
    for i in 0..PAIRS {
        let base = if i % 2 == 0 { &base_a } else { &base_b };
        numbers.push(apply_and_accept(base.clone()).await);
    }
    let races = numbers.iter().map(|n| {
        let w =
            post(base_a.clone(), format!("/api/v1/cases/{n}/actions/withdraw"), citizen.clone(), json!({}));
        let a =
            post(base_b.clone(), format!("/api/v1/cases/{n}/actions/approve"), approver.clone(), json!({}));
        async move { (n.clone(), tokio::join!(w, a)) }
    });
    let outcomes = futures::future::join_all(races).await;
    let mut document_numbers = Vec::new();
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.unwrap();
    use sqlx::Row;
    for (n, ((ws, wb), (as_, ab))) in outcomes {
        let mut statuses = [ws, as_];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{n}: withdraw {ws} {wb}, approve {as_} {ab}");
        let row = sqlx::query(
            "SELECT c.state, c.decision, c.decision_document, \
             (SELECT COUNT(*) FROM credentials l WHERE l.case_number = c.number) AS licences \
             FROM cases c WHERE c.number = $1",
        )
        .bind(&n)
        .fetch_one(&mut db)
        .await
        .unwrap();
        let state: String = row.try_get("state").unwrap();
        let licences: i64 = row.try_get("licences").unwrap();
        let decision: Option<String> = row.try_get("decision").unwrap();
        match state.as_str() {
            "withdrawn" => assert_eq!((licences, decision), (0, None), "{n}"),
            "approved" => {
                assert_eq!((licences, decision.as_deref()), (1, Some("approved")), "{n}");
                let doc: String = row.try_get("decision_document").unwrap();
                let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
                document_numbers.push(doc["document_number"].as_str().unwrap().to_string());
            }
            other => panic!("{n} ended {other}"),
        }
    }
    // Ten more approvals through both processes at once, with no withdrawal racing them: every
    // decision has its own number in the usual form (a lost race leaves a gap, never a number
    // used twice).
    let mut accepted = Vec::new();
    for i in 0..10 {
        let base = if i % 2 == 0 { &base_a } else { &base_b };
        accepted.push(apply_and_accept(base.clone()).await);
    }
    let approvals = accepted.iter().enumerate().map(|(i, n)| {
        let base = if i % 2 == 0 { base_a.clone() } else { base_b.clone() };
        post(base, format!("/api/v1/cases/{n}/actions/approve"), approver.clone(), json!({}))
    });
    for (s, b) in futures::future::join_all(approvals).await {
        assert_eq!(s, 200, "{b}");
        document_numbers.push(b["document_number"].as_str().unwrap().to_string());
    }
    let approved = document_numbers.len();
    document_numbers.sort();
    document_numbers.dedup();
    assert_eq!(document_numbers.len(), approved, "a decision number was used twice");
    assert!(
        document_numbers.iter().all(|d| d.starts_with("济政务许〔") && d.ends_with("号")),
        "{document_numbers:?}"
    );

    // A holder leaving the queue through one process while a window calls through the other:
    // each number ends cancelled or called, never both, and no window gets a cancelled one.
    let mut tickets = Vec::new();
    for _ in 0..20 {
        let (s, t) =
            post(base_a.clone(), "/api/v1/halls/JN-H-0002/queue".into(), citizen.clone(), json!({})).await;
        assert_eq!(s, 201, "{t}");
        tickets.push(t["id"].as_str().unwrap().to_string());
    }
    let leaves = tickets.iter().map(|id| {
        post(base_a.clone(), format!("/api/v1/queue/tickets/{id}/cancel"), citizen.clone(), json!({}))
    });
    let calls = (0..20).map(|i| {
        post(
            base_b.clone(),
            "/api/v1/halls/JN-H-0002/queue/call".into(),
            clerk.clone(),
            json!({"window": format!("{i}号窗口")}),
        )
    });
    let (left, called) = tokio::join!(futures::future::join_all(leaves), futures::future::join_all(calls));
    let called_ids: Vec<String> =
        called.iter().filter_map(|(_, b)| b["ticket"]["id"].as_str().map(str::to_string)).collect();
    for (id, (s, b)) in tickets.iter().zip(&left) {
        let was_called = called_ids.contains(id);
        match (*s, was_called) {
            (200, false) => assert_eq!(b["status"], "cancelled"),
            (409, true) => {}
            other => panic!("{id}: cancel {other:?} {b}"),
        }
    }

    // Two clusters, then scans through both processes at once (their periodic scans run too).
    for (k, (lat, lon)) in [(36.6500, 117.1000), (36.6800, 117.0200)].iter().enumerate() {
        for i in 0..4 {
            let (s, b) = post(
                base_a.clone(),
                "/api/v1/complaints".into(),
                citizen.clone(),
                json!({"description": format!("路面有个大坑，坑洼很深，第{k}处第{i}次反映"),
                       "category": "city.road_damage", "lat": lat + i as f64 * 0.0003, "lon": lon}),
            )
            .await;
            assert_eq!(s, 201, "{b}");
        }
    }
    let scans = (0..6).map(|i| {
        let base = if i % 2 == 0 { base_a.clone() } else { base_b.clone() };
        post(base, "/api/v1/proactive-tasks/scan".into(), operator.clone(), json!({}))
    });
    for (s, b) in futures::future::join_all(scans).await {
        assert_eq!(s, 200, "{b}");
    }
    let tasks: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM proactive_tasks WHERE category = 'city.road_damage'")
            .fetch_one(&mut db)
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
    assert_eq!(tasks, 2, "one task per cluster");
}

/// `quanban generate register` writes the same file for the same count and seed;
/// `quanban import register` loads it (exit 0) and rejects a file with a bad row (exit 1, the row
/// and column named, nothing stored).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_and_import_register_commands() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let data = app.state.config.data_dir.clone();
    let dir = tempfile::tempdir().unwrap();
    let generate = |out: &std::path::Path, seed: &str| {
        let status = Command::new(env!("CARGO_BIN_EXE_quanban"))
            .args(["generate", "register", "--enterprises", "500", "--seed", seed, "--out"])
            .arg(out)
            .output()
            .unwrap();
        assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
        std::fs::read(out).unwrap()
    };
    let (a, b, c) = (dir.path().join("a.csv"), dir.path().join("b.csv"), dir.path().join("c.csv"));
    assert_eq!(generate(&a, "9"), generate(&b, "9"));
    assert_ne!(generate(&a, "9"), generate(&c, "10"));
    let import = |file: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_quanban"))
            .env("QUANBAN_CLOCK", common::test_clock_instant())
            .args(["import", "register"])
            .arg(file)
            .arg("--data")
            .arg(&data)
            .output()
            .unwrap()
    };
    let text = String::from_utf8(std::fs::read(&a).unwrap()).unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, text.replacen(",small,", ",tiny,", 1)).unwrap();
    let out = import(&bad);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("column size") && err.contains("企业规模"), "{err}");
    let out = import(&a);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("500 rows loaded"));
    let n: i64 = quanban::store::query("SELECT COUNT(*) AS n FROM data_tax")
        .read_one(&app.state.db)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(n, 500);
    app.stop().await;
}

/// Two `quanban import register` processes load the same file into one database at once (the
/// SQLite file, and PostgreSQL): both finish, every dataset holds each enterprise once with the
/// file's values, both imports are recorded as finished, and the audit chain verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_import_one_register_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("register.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_quanban"))
        .args(["generate", "register", "--enterprises", "12000", "--seed", "5", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pg = fresh_pg_database().await.map(|(url, _)| url);
    let sqlite = tempfile::tempdir().unwrap();
    for url in [None, pg] {
        let data = tempfile::tempdir().unwrap();
        let data = if url.is_none() { sqlite.path() } else { data.path() };
        let cli = |args: &[&str]| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_quanban"));
            command.env("QUANBAN_CLOCK", common::test_clock_instant()).args(args).arg("--data").arg(data);
            if let Some(url) = &url {
                command.arg("--database-url").arg(url);
            }
            command
        };
        assert!(cli(&["migrate"]).output().unwrap().status.success());
        let mut imports: Vec<Child> = (0..2)
            .map(|_| {
                let mut c = cli(&["import", "register", file.to_str().unwrap()]);
                c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
            })
            .collect();
        for child in imports.iter_mut() {
            let status = child.wait().unwrap();
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            assert!(status.success(), "{url:?}: {err}");
        }
        sqlx::any::install_default_drivers();
        let db_url = url.clone().unwrap_or_else(|| format!("sqlite://{}", data.join("quanban.db").display()));
        let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&db_url).await.unwrap();
        use sqlx::Row;
        for table in ["market_entities", "tax", "social_insurance", "industry", "science", "finance"] {
            for sql in [
                format!("SELECT COUNT(*) AS n FROM data_{table}"),
                format!("SELECT COUNT(DISTINCT uscc) AS n FROM data_{table}"),
            ] {
                let n: i64 = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .fetch_one(&mut db)
                    .await
                    .unwrap()
                    .try_get("n")
                    .unwrap();
                assert_eq!(n, 12_000, "{url:?} {sql}");
            }
        }
        let finished: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM data_imports WHERE finished_at IS NOT NULL AND rows_loaded = 12000",
        )
        .fetch_one(&mut db)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
        assert_eq!(finished, 2, "{url:?}");
        // The file's values, as stored: its second row.
        let text = std::fs::read_to_string(&file).unwrap();
        let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
        let stored = sqlx::query("SELECT name, district FROM data_market_entities WHERE uscc = $1")
            .bind(row[0])
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert_eq!(stored.try_get::<String, _>("name").unwrap(), row[1]);
        assert_eq!(stored.try_get::<String, _>("district").unwrap(), row[2]);
        drop(db);
        let out = cli(&["audit", "verify"]).output().unwrap();
        assert!(out.status.success(), "{url:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Two `quanban serve` processes on one fresh PostgreSQL database, and a client for both.
struct TwoServers {
    url: String,
    bases: [String; 2],
    client: reqwest::Client,
    // Killed before their data directories are removed (fields drop in order).
    _processes: [Killed; 2],
    dirs: [tempfile::TempDir; 2],
}

impl TwoServers {
    async fn start() -> Option<TwoServers> {
        let (url, _name) = fresh_pg_database().await?;
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let (a, base_a) = start_binary_on(dirs[0].path(), Some(&url));
        let (b, base_b) = start_binary_on(dirs[1].path(), Some(&url));
        let client = reqwest::Client::new();
        Some(TwoServers { url, bases: [base_a, base_b], client, _processes: [a, b], dirs })
    }

    /// Signs a demo account in on the server at `base`.
    async fn login(&self, base: &str, username: &str) -> String {
        let password = demo_password_on(self.dirs[0].path(), Some(&self.url), username);
        login(&self.client, base, username, &password).await
    }

    /// Posts `body` as `token`: the status and the JSON answer.
    fn post(
        &self,
        base: String,
        path: String,
        token: String,
        body: serde_json::Value,
    ) -> impl std::future::Future<Output = (u16, serde_json::Value)> + use<> {
        let client = self.client.clone();
        async move {
            let resp =
                client.post(format!("{base}{path}")).bearer_auth(token).json(&body).send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<serde_json::Value>().await.unwrap_or_default())
        }
    }
}

/// Data requests decided by the owner on one `quanban serve` process while the requester
/// withdraws them on another, both on one PostgreSQL database: each request ends in exactly one
/// state, the loser hears 409, and the audit log holds the winner's step only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_requests_race_across_two_serve_processes_on_postgres() {
    let Some(two) = TwoServers::start().await else { return };
    let (url, base_a, base_b) = (two.url.clone(), two.bases[0].clone(), two.bases[1].clone());
    let requester = two.login(&base_a, "spj.data").await;
    let owner = two.login(&base_b, "swj.data").await;
    let post = |base: String, path: String, token: String, body: serde_json::Value| {
        two.post(base, path, token, body)
    };
    let mut ids = Vec::new();
    for _ in 0..30 {
        let (s, b) = post(
            base_a.clone(),
            "/api/v1/data/requests".into(),
            requester.clone(),
            json!({"dataset": "tax", "fields": ["revenue_last_year"], "purpose": "statistics",
                   "purpose_detail": "统计分析", "legal_basis": "《统计法》第七条"}),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        ids.push(b["id"].as_str().unwrap().to_string());
    }
    let races = ids.iter().map(|id| {
        let decide = post(
            base_b.clone(),
            format!("/api/v1/data/requests/{id}/decide"),
            owner.clone(),
            json!({"verdicts": [{"field": "revenue_last_year", "approve": true}]}),
        );
        let withdraw = post(
            base_a.clone(),
            format!("/api/v1/data/requests/{id}/withdraw"),
            requester.clone(),
            json!({"reason": "不再需要"}),
        );
        async move { (id.clone(), tokio::join!(decide, withdraw)) }
    });
    let outcomes = futures::future::join_all(races).await;
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.unwrap();
    use sqlx::Row;
    for (id, ((ds, db_), (ws, wb))) in outcomes {
        let mut statuses = [ds, ws];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{id}: decide {ds} {db_}, withdraw {ws} {wb}");
        let status: String = sqlx::query("SELECT status FROM data_requests WHERE id = $1")
            .bind(&id)
            .fetch_one(&mut db)
            .await
            .unwrap()
            .try_get("status")
            .unwrap();
        assert_eq!(status, if ds == 200 { "granted" } else { "withdrawn" }, "{id}");
        let steps: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM audit_log WHERE stream = $1 AND action IN ('data.request.decide', 'data.request.withdraw')",
        )
        .bind(format!("data_request:{id}"))
        .fetch_one(&mut db)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
        assert_eq!(steps, 1, "{id}: one step in the audit log");
    }
}

/// A hotline call confirmed twice at once, through two serve processes on one PostgreSQL
/// database (an operator's double click reaching two servers behind a balancer): the same
/// idempotency key files one complaint, with one number, one history and one audit entry, and
/// both answers name it. Twenty keys, each sent to both servers at the same moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_hotline_call_sent_to_two_serve_processes_is_filed_once() {
    let Some(two) = TwoServers::start().await else { return };
    let (url, base_a, base_b) = (two.url.clone(), two.bases[0].clone(), two.bases[1].clone());
    let operator_a = two.login(&base_a, "hotline.operator").await;
    let operator_b = two.login(&base_b, "hotline.operator").await;
    let races = (0..20).map(|i| {
        let body = json!({"description": format!("第{i}次来电：小区门口的路灯不亮"), "call_type": "complaint",
                          "district": "历下区", "idempotency_key": format!("double-click-{i}")});
        let a = two.post(base_a.clone(), "/api/v1/complaints".into(), operator_a.clone(), body.clone());
        let b = two.post(base_b.clone(), "/api/v1/complaints".into(), operator_b.clone(), body);
        async move { (i, tokio::join!(a, b)) }
    });
    let outcomes = futures::future::join_all(races).await;
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.unwrap();
    use sqlx::Row;
    for (i, ((sa, ba), (sb, bb))) in outcomes {
        let mut statuses = [sa, sb];
        statuses.sort();
        assert_eq!(statuses, [200, 201], "call {i}: {sa} {ba} / {sb} {bb}");
        assert_eq!(ba["complaint"]["id"], bb["complaint"]["id"], "call {i}: both answers name one complaint");
        let rows: i64 = sqlx::query("SELECT COUNT(*) AS n FROM complaints WHERE description = $1")
            .bind(format!("第{i}次来电：小区门口的路灯不亮"))
            .fetch_one(&mut db)
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        assert_eq!(rows, 1, "call {i}");
        let id = ba["complaint"]["id"].as_str().unwrap();
        let audited: i64 = sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE stream = $1")
            .bind(format!("complaint:{id}"))
            .fetch_one(&mut db)
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        assert_eq!(audited, 1, "call {i}: one audit entry");
    }
}

/// One hand-off answered through two `quanban serve` processes at once, with different items, 10
/// times: one answer wins, the other gets 409, and the stored items are the winner's alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_hand_off_answered_through_two_serve_processes_keeps_one_answer() {
    let Some(two) = TwoServers::start().await else { return };
    let (url, base_a, base_b) = (two.url.clone(), two.bases[0].clone(), two.bases[1].clone());
    let officer_a = two.login(&base_a, "spj.guide").await;
    let officer_b = two.login(&base_b, "spj.guide").await;
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.unwrap();
    use sqlx::Row;
    for i in 0..10 {
        let (s, h) = two
            .post(
                base_a.clone(),
                "/api/v1/guide/handoffs".into(),
                officer_a.clone(),
                json!({"query": format!("第{i}个：翻修老房子")}),
            )
            .await;
        assert_eq!(s, 201, "{h}");
        let path = format!("/api/v1/guide/handoffs/{}/answer", h["id"].as_str().unwrap());
        let ((sa, ba), (sb, bb)) = tokio::join!(
            two.post(
                base_a.clone(),
                path.clone(),
                officer_a.clone(),
                json!({"answer": "甲", "items": ["JN-ZRJ-0002"], "version": 1})
            ),
            two.post(
                base_b.clone(),
                path.clone(),
                officer_b.clone(),
                json!({"answer": "乙", "items": ["JN-SPJ-0018"], "version": 1})
            ),
        );
        let mut statuses = [sa, sb];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{i}: {ba} / {bb}");
        let winner = if sa == 200 { ba } else { bb };
        let items: String = sqlx::query("SELECT answer_items FROM guide_handoffs WHERE id = $1")
            .bind(h["id"].as_str().unwrap())
            .fetch_one(&mut db)
            .await
            .unwrap()
            .try_get("answer_items")
            .unwrap();
        assert_eq!(serde_json::from_str::<serde_json::Value>(&items).unwrap(), winner["answer_items"], "{i}");
    }
}

/// A project's first stage applied for through two `quanban serve` processes at once, 5 times
/// (one stage case each time), and joint-review opinions sent through both processes at once on
/// 5 cases (each acknowledged opinion stored once with its timeline event).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_stages_and_joint_opinions_race_across_two_serve_processes() {
    let Some(two) = TwoServers::start().await else { return };
    let (url, base_a, base_b) = (two.url.clone(), two.bases[0].clone(), two.bases[1].clone());
    let rep_a = two.login(&base_a, "13800138002").await;
    let rep_b = two.login(&base_b, "13800138002").await;
    let admin = two.login(&base_a, "dsj.admin").await;
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.unwrap();
    use sqlx::Row;
    let me = get_json(reqwest::Client::new().get(format!("{base_a}/api/v1/me")).bearer_auth(&rep_a)).await;
    let enterprise = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    for i in 0..5 {
        let (s, p) = two
            .post(
                base_a.clone(),
                "/api/v1/projects".into(),
                rep_a.clone(),
                json!({"name": format!("两进程项目{i}"), "district": "历城区", "location": "港源七路",
                       "floor_area_m2": 1000, "investment_wan": 800, "enterprise": enterprise}),
            )
            .await;
        assert_eq!(s, 201, "{p}");
        let code = p["code"].as_str().unwrap().to_string();
        let body = json!({"bundle_code": "JN-GCXM-1", "enterprise": enterprise, "project": code,
                          "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}});
        let ((sa, ba), (sb, bb)) = tokio::join!(
            two.post(base_a.clone(), "/api/v1/cases".into(), rep_a.clone(), body.clone()),
            two.post(base_b.clone(), "/api/v1/cases".into(), rep_b.clone(), body.clone()),
        );
        let mut statuses = [sa, sb];
        statuses.sort();
        assert!(statuses == [201, 409] || statuses == [201, 422], "{i}: {ba} / {bb}");
        let stages: i64 = sqlx::query("SELECT COUNT(*) AS n FROM cases WHERE project_code = $1")
            .bind(&code)
            .fetch_one(&mut db)
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        assert_eq!(stages, 1, "{i}");
    }
    let (s, b) = two
        .post(
            base_a.clone(),
            "/api/v1/staff".into(),
            admin.clone(),
            json!({"username": "zjj.two", "name": "住建办事员", "department": "JN-ZJJ",
                   "roles": ["window_clerk", "reviewer"], "password": "Spring-City-2026"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let lead = login(&two.client, &base_a, "zjj.two", "Spring-City-2026").await;
    let member_a = two.login(&base_a, "zrj.reviewer").await;
    let member_b = two.login(&base_b, "zrj.reviewer").await;
    for i in 0..5 {
        let (s, c) = two
            .post(
                base_a.clone(),
                "/api/v1/cases".into(),
                rep_a.clone(),
                json!({"item_code": "JN-ZJJ-0008", "enterprise": enterprise,
                       "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}}),
            )
            .await;
        assert_eq!(s, 201, "{c}");
        let n = c["case_number"].as_str().unwrap().to_string();
        for a in ["accept", "start_review"] {
            let (s, b) = two
                .post(base_a.clone(), format!("/api/v1/cases/{n}/actions/{a}"), lead.clone(), json!({}))
                .await;
            assert_eq!(s, 200, "{a}: {b}");
        }
        let path = format!("/api/v1/cases/{n}/joint-review");
        let ((sa, ba), (sb, bb)) = tokio::join!(
            two.post(base_a.clone(), path.clone(), member_a.clone(), json!({"opinion": "pass"})),
            two.post(base_b.clone(), path.clone(), member_b.clone(), json!({"opinion": "pass"})),
        );
        let mut statuses = [sa, sb];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{i}: {ba} / {bb}");
        let events: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM case_events WHERE case_number = $1 AND action = 'joint_opinion'",
        )
        .bind(&n)
        .fetch_one(&mut db)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
        assert_eq!(events, 1, "{i}");
    }
}

/// Electronic monitoring across two `quanban serve` processes on one PostgreSQL database, a month
/// after six cases were accepted and two hall visits booked: sweeps through both processes at once
/// (with their own leased sweeps running) raise each case once with one order and mark each
/// missed visit no-show once; each order closed twice at once through both processes is closed
/// once (the other 409); four orders issued by hand at once get four numbers; and the closes and
/// issues acknowledged just before both processes are killed are there after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitoring_races_across_two_serve_processes_and_survives_a_kill() {
    let Some((url, _name)) = fresh_pg_database().await else { return };
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let client = reqwest::Client::new();
    let password = |username: &str| demo_password_on(dirs[0].path(), Some(&url), username);
    let post = |base: &str, path: &str, token: &str, body: serde_json::Value| {
        let request = client.post(format!("{base}{path}")).bearer_auth(token).json(&body);
        async move {
            let resp = request.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };
    // Six cases accepted at the test's instant.
    let (first, base) = start_binary_on(dirs[0].path(), Some(&url));
    let citizen = login(&client, &base, "13800138001", &password("13800138001")).await;
    let clerk = login(&client, &base, "spj.clerk", &password("spj.clerk")).await;
    let pdf = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"%PDF-1.4\n% late\n");
    let mut numbers = Vec::new();
    for _ in 0..6 {
        let (s, b) = post(
            &base,
            "/api/v1/cases",
            &citizen,
            json!({"item_code": "JN-SPJ-0003",
            "form": {"contact_name": "张伟", "contact_phone": "13800138001"},
            "materials": [{"index": 0, "file_name": "申请书.pdf", "content_base64": pdf}]}),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let n = b["case_number"].as_str().unwrap().to_string();
        let (s, b) = post(&base, &format!("/api/v1/cases/{n}/actions/accept"), &clerk, json!({})).await;
        assert_eq!(s, 200, "{b}");
        numbers.push(n);
    }
    // Two hall visits booked on the next open day, which nobody will come to.
    let today = chrono::DateTime::parse_from_rfc3339(&common::test_clock_instant()).unwrap().date_naive();
    let mut appointments = Vec::new();
    for ahead in 1..15 {
        let date = today + chrono::Duration::days(ahead);
        let slots =
            get_json(client.get(format!("{base}/api/v1/halls/JN-H-0002/slots?date={date}&item=JN-SPJ-0003")))
                .await;
        if slots["open"] != true {
            continue;
        }
        for slot in slots["slots"].as_array().unwrap().iter().take(2) {
            let body =
                json!({"hall_code": "JN-H-0002", "item_code": "JN-SPJ-0003", "slot_start": slot["start"]});
            let (s, b) = post(&base, "/api/v1/appointments", &citizen, body).await;
            assert_eq!(s, 201, "{b}");
            appointments.push(b["id"].as_str().unwrap().to_string());
        }
        break;
    }
    assert_eq!(appointments.len(), 2);
    drop(first);
    // A month later, two processes on the same database.
    let late = (chrono::DateTime::parse_from_rfc3339(&common::test_clock_instant()).unwrap()
        + chrono::Duration::days(30))
    .to_rfc3339();
    let (a, base_a) = start_binary_at(dirs[0].path(), Some(&url), &late);
    let (b, base_b) = start_binary_at(dirs[1].path(), Some(&url), &late);
    let supervisor = login(&client, &base_a, "dsj.supervisor", &password("dsj.supervisor")).await;
    let sweeps = futures::future::join_all((0..4).map(|i| {
        post(if i % 2 == 0 { &base_a } else { &base_b }, "/api/v1/supervision/sweep", &supervisor, json!({}))
    }))
    .await;
    assert!(sweeps.iter().all(|(s, _)| *s == 200), "{sweeps:?}");
    let no_shows: u64 = sweeps.iter().map(|(_, b)| b["no_shows"].as_u64().unwrap()).sum();
    // The processes' own leased sweeps may have got there first: never more than once each.
    assert!(no_shows <= 2, "{sweeps:?}");
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.unwrap();
    use sqlx::Row;
    for id in &appointments {
        let k: i64 = sqlx::query(
            "SELECT COUNT(*) AS k FROM audit_log WHERE resource = $1 AND action = 'appointment.no_show'",
        )
        .bind(format!("appointment:{id}"))
        .fetch_one(&mut db)
        .await
        .unwrap()
        .try_get("k")
        .unwrap();
        assert_eq!(k, 1, "{id} marked once");
    }
    for n in &numbers {
        for sql in [
            "SELECT COUNT(*) AS k FROM monitoring_alerts WHERE subject = $1",
            "SELECT COUNT(*) AS k FROM supervision_orders WHERE subject = $1",
        ] {
            let k: i64 = sqlx::query(sql)
                .bind(format!("case:{n}"))
                .fetch_one(&mut db)
                .await
                .unwrap()
                .try_get("k")
                .unwrap();
            assert_eq!(k, 1, "{sql} for {n}");
        }
    }
    // Each order closed twice at once, through both processes.
    let head = login(&client, &base_a, "spj.head", &password("spj.head")).await;
    let orders = get_json(client.get(format!("{base_a}/api/v1/supervision/orders")).bearer_auth(&head)).await;
    let orders = orders.as_array().unwrap().clone();
    assert_eq!(orders.len(), 6);
    let mut last = String::new();
    for order in &orders {
        let path = format!("/api/v1/supervision/orders/{}/close", order["id"].as_str().unwrap());
        let body = |r: &str| json!({"rectification": r, "version": order["version"]});
        let ((sa, ba), (sb, bb)) = tokio::join!(
            post(&base_a, &path, &head, body("甲处整改")),
            post(&base_b, &path, &head, body("乙处整改"))
        );
        let mut statuses = [sa, sb];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{ba} / {bb}");
        last = order["id"].as_str().unwrap().to_string();
    }
    // The office issues four orders by hand at once through both processes: four numbers.
    let rectify_by = (today + chrono::Duration::days(45)).to_string();
    let issued = futures::future::join_all((0..4).map(|i| {
        post(
            if i % 2 == 0 { &base_a } else { &base_b },
            "/api/v1/supervision/orders",
            &supervisor,
            json!({"department": "JN-SPJ", "title": format!("第{i}项交办事项"), "rectify_by": rectify_by}),
        )
    }))
    .await;
    let mut issued_numbers: Vec<String> = issued
        .iter()
        .map(|(s, b)| {
            assert_eq!(*s, 201, "{b}");
            b["number"].as_str().unwrap().to_string()
        })
        .collect();
    issued_numbers.sort();
    issued_numbers.dedup();
    assert_eq!(issued_numbers.len(), 4, "{issued:?}");
    // Killed right after the last acknowledged close and issue; a restart finds every order
    // closed and the four issued ones open.
    drop((a, b));
    let (_again, base) = start_binary_at(dirs[0].path(), Some(&url), &late);
    let head = login(&client, &base, "spj.head", &password("spj.head")).await;
    let after = get_json(client.get(format!("{base}/api/v1/supervision/orders")).bearer_auth(&head)).await;
    let after = after.as_array().unwrap();
    let by_hand: Vec<&serde_json::Value> = after.iter().filter(|o| !o["issued_by"].is_null()).collect();
    assert_eq!(by_hand.len(), 4, "{after:?}");
    assert!(by_hand.iter().all(
        |o| o["status"] == "open" && issued_numbers.contains(&o["number"].as_str().unwrap().to_string())
    ));
    assert!(after.iter().filter(|o| o["issued_by"].is_null()).all(|o| o["status"] == "closed"), "{after:?}");
    let kept = after.iter().find(|o| o["id"] == last.as_str()).unwrap();
    assert!(kept["rectification"] == "甲处整改" || kept["rectification"] == "乙处整改", "{kept}");
}

/// `quanban policies evaluate --json` over an imported register: one line per shipped policy
/// with the interface's keys, counts equal to the reference evaluator's (one enterprise at a
/// time, over the same stored register), then the timing line; `--policy` picks one, and an
/// unknown code exits 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_evaluate_command_prints_one_line_per_policy() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("register.csv");
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_quanban"))
            .env("QUANBAN_CLOCK", common::test_clock_instant())
            .args(args)
            .arg("--data")
            .arg(data.path())
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string())
    };
    let out = Command::new(env!("CARGO_BIN_EXE_quanban"))
        .args(["generate", "register", "--enterprises", "3000", "--seed", "17", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(cli(&["import", "register", file.to_str().unwrap()]).0, Some(0));

    let (code, out) = cli(&["policies", "evaluate", "--json"]);
    assert_eq!(code, Some(0), "{out}");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 13, "{out}");
    let timing = lines.last().unwrap();
    assert!(timing["seconds"].as_f64().unwrap() >= 0.0 && timing["load_seconds"].as_f64().unwrap() >= 0.0);
    assert!(timing["peak_rss_mb"].as_f64().unwrap() > 0.0);

    // The reference, from the same stored register.
    let db = quanban::store::Db::connect(&quanban::store::DbOptions {
        url: format!("sqlite://{}", data.path().join("quanban.db").display()),
        max_connections: 2,
        max_group: 16,
        max_queue: 64,
        clock: quanban::platform::clock::Clock::fixed(quanban::platform::clock::test_instant()),
    })
    .await
    .unwrap();
    let policies = quanban::policies::library::shipped().unwrap();
    let columns = quanban::policies::evaluate::load(&db, &policies).await.unwrap();
    let register = quanban::policies::columnar::Register::from_columns(&columns);
    let mut anyone_eligible = false;
    for (p, line) in policies.iter().zip(&lines) {
        let outcomes: Vec<_> = (0..register.len())
            .map(|i| {
                quanban::policies::eval::outcome(&p.eligibility, &p.amount, p.cap_fen, &register.record(i))
            })
            .collect();
        let t = quanban::policies::library::totals(&outcomes);
        assert_eq!(line["policy"], p.code.as_str());
        assert_eq!(line["evaluated"], 3000);
        assert_eq!(line["eligible"].as_u64().unwrap(), t.eligible, "{}", p.code);
        assert_eq!(i128::from(line["amount_fen"].as_i64().unwrap()), t.amount_fen, "{}", p.code);
        anyone_eligible |= t.eligible > 0;
    }
    assert!(anyone_eligible, "the generated register has enterprises some policy pays");
    db.close().await;

    let (code, out) = cli(&["policies", "evaluate", "--json", "--policy", "JN-ZC-2026-008"]);
    assert_eq!(code, Some(0));
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.lines().next().unwrap().contains("\"JN-ZC-2026-008\""));
    assert_eq!(cli(&["policies", "evaluate", "--policy", "JN-ZC-1999-001"]).0, Some(2));
}

/// 免申即享 runs of one policy as separate processes (SQLite, and PostgreSQL): two started at
/// once never record or pay twice (one holds the policy's lease); a run
/// killed with SIGKILL half-way through recording, and one killed half-way through paying,
/// leave whole batches only, and the next run completes the work: every eligible enterprise has
/// one benefit, every confirmed one is paid exactly what it is owed, and the books add up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_runs_in_two_processes_and_after_a_crash_pay_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("register.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_quanban"))
        .args(["generate", "register", "--enterprises", "30000", "--seed", "9", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pg = fresh_pg_database().await.map(|(url, _)| url);
    let sqlite = tempfile::tempdir().unwrap();
    for url in [None, pg] {
        let data = tempfile::tempdir().unwrap();
        let data = if url.is_none() { sqlite.path().to_path_buf() } else { data.path().to_path_buf() };
        // Each step runs two minutes after the one before (each process's clock stands still at
        // its instant), so that a killed run's lease (a minute) has run out by the next step.
        let start = chrono::DateTime::parse_from_rfc3339(&common::test_clock_instant()).unwrap();
        let step = std::cell::Cell::new(0i64);
        let cli = |args: &[&str]| {
            let at = start + chrono::Duration::minutes(2 * step.get());
            let mut command = Command::new(env!("CARGO_BIN_EXE_quanban"));
            command.env("QUANBAN_CLOCK", at.to_rfc3339()).args(args).arg("--data").arg(&data);
            if let Some(url) = &url {
                command.arg("--database-url").arg(url);
            }
            command
        };
        let out = cli(&["import", "register", file.to_str().unwrap()]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        sqlx::any::install_default_drivers();
        let db_url = url.clone().unwrap_or_else(|| format!("sqlite://{}", data.join("quanban.db").display()));
        let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&db_url).await.unwrap();
        let count = async |db: &mut sqlx::AnyConnection, sql: &'static str| -> i64 {
            sqlx::Row::try_get(&sqlx::query(sql).fetch_one(db).await.unwrap(), 0).unwrap()
        };
        let run = |json: bool| {
            let mut c = cli(&["policies", "run", "--policy", "JN-ZC-2026-001"]);
            if json {
                c.arg("--json");
            }
            c.stdout(Stdio::piped()).stderr(Stdio::piped());
            c
        };

        // SIGKILL while recording.
        step.set(1);
        let mut victim = run(false).spawn().unwrap();
        let started = std::time::Instant::now();
        loop {
            let n = count(&mut db, "SELECT COUNT(*) FROM policy_benefits").await;
            if n > 0 || started.elapsed().as_secs() > 60 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        victim.kill().unwrap();
        victim.wait().unwrap();
        let recorded = count(&mut db, "SELECT COUNT(*) FROM policy_benefits").await;
        assert!(recorded > 0 && recorded % 5_000 == 0, "{url:?}: whole batches only, {recorded}");
        // Two runs at once: one holds the policy's lease, the other refuses (or runs after it).
        step.set(2);
        let children: Vec<Child> = (0..2).map(|_| run(true).spawn().unwrap()).collect();
        let mut finished = Vec::new();
        for child in children {
            let out = child.wait_with_output().unwrap();
            match out.status.code() {
                Some(0) => finished.push(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()),
                Some(3) => assert!(
                    String::from_utf8_lossy(&out.stderr).contains("run_in_progress")
                        || String::from_utf8_lossy(&out.stderr).contains("正在兑现"),
                    "{url:?}"
                ),
                other => panic!("{url:?}: {other:?} {}", String::from_utf8_lossy(&out.stderr)),
            }
        }
        assert!(!finished.is_empty(), "{url:?}: one of the two runs");
        let eligible = finished[0]["eligible"].as_i64().unwrap();
        assert!(eligible > 5_000 * 2, "{url:?}: several batches, {eligible}");
        assert_eq!(count(&mut db, "SELECT COUNT(*) FROM policy_benefits").await, eligible, "{url:?}");
        assert_eq!(
            count(&mut db, "SELECT COUNT(*) FROM policy_runs WHERE status = 'interrupted'").await,
            1,
            "{url:?}"
        );
        assert_eq!(
            count(&mut db, "SELECT COUNT(*) FROM policy_runs WHERE status = 'running'").await,
            0,
            "{url:?}"
        );

        // The representatives confirm (as the platform would record it), then SIGKILL while paying.
        sqlx::query(
            "UPDATE policy_benefits SET status = 'confirmed', account = 'sealed', version = version + 1",
        )
        .execute(&mut db)
        .await
        .unwrap();
        step.set(3);
        let mut victim = run(false).spawn().unwrap();
        let started = std::time::Instant::now();
        loop {
            let n = count(&mut db, "SELECT COUNT(*) FROM policy_payments").await;
            if n > 0 || started.elapsed().as_secs() > 60 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        victim.kill().unwrap();
        victim.wait().unwrap();
        let paid = count(&mut db, "SELECT COUNT(*) FROM policy_payments").await;
        assert!(
            paid > 0 && paid < eligible && paid % 500 == 0,
            "{url:?}: killed half-way, whole batches: {paid}"
        );
        let half = count(&mut db, "SELECT COUNT(*) FROM policy_benefits WHERE status = 'paid'").await;
        assert_eq!(half, paid, "{url:?}: a benefit is paid with its payment record or not at all");
        step.set(4);
        let out = run(true).output().unwrap();
        assert!(out.status.success(), "{url:?}: {}", String::from_utf8_lossy(&out.stderr));
        let last: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let waiting = last["waiting_for_budget"].as_i64().unwrap();
        assert_eq!(last["paid"].as_i64().unwrap() + paid + waiting, eligible, "{url:?}: {last}");
        assert_eq!(last["adds_up"], true, "{url:?}: {last}");
        assert_eq!(
            count(&mut db, "SELECT COUNT(*) FROM policy_payments").await,
            eligible - waiting,
            "{url:?}"
        );
        let wrong = count(
            &mut db,
            "SELECT COUNT(*) FROM policy_benefits b WHERE (b.status = 'paid' AND (b.paid_fen <> b.amount_fen OR b.paid_fen <> \
             (SELECT SUM(p.amount_fen) FROM policy_payments p WHERE p.policy = b.policy AND p.credit_code = b.credit_code))) \
             OR (b.status <> 'paid' AND b.paid_fen <> 0)",
        )
        .await;
        assert_eq!(wrong, 0, "{url:?}: each paid exactly what it is owed, once, or not at all");
        // Nothing more on another run.
        step.set(5);
        let out = run(true).output().unwrap();
        let again: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!((again["paid"].as_i64(), again["notified"].as_i64()), (Some(0), Some(0)), "{url:?}");
    }
}

/// A kiosk in kiosk mode at `base` shows a QR code, and the demo citizen confirms it on a phone
/// signed in at `phone_base`: the kiosk's jar (with its request cookie) and its form token.
async fn confirmed_qr_code(
    base: &str,
    phone_base: &str,
    admin_token: &str,
    password: &str,
) -> (reqwest::Client, String) {
    let api = reqwest::Client::new();
    let k: serde_json::Value = api
        .post(format!("{base}/api/v1/kiosks"))
        .bearer_auth(admin_token)
        .json(&json!({"hall_code": "JN-H-0002", "name": "进程测试机"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (id, token) = (k["kiosk"]["id"].as_str().unwrap(), k["token"].as_str().unwrap());
    let kiosk = common::page_client();
    kiosk.get(format!("{base}/kiosk/{id}?token={token}")).send().await.unwrap();
    let page = kiosk.get(format!("{base}/kiosk/qr-login")).send().await.unwrap().text().await.unwrap();
    // The link the QR code carries (the page shows it for assistive technology too).
    let at = page.find(r#"id="qr-link">"#).unwrap() + r#"id="qr-link">"#.len();
    let link = &page[at..at + page[at..].find('<').unwrap()];
    let path = link[link.find("/qr-login/").unwrap()..].to_string();
    let phone = common::page_client();
    common::web_login(&phone, phone_base, "13800138001", password).await;
    let confirm = phone.get(format!("{phone_base}{path}")).send().await.unwrap().text().await.unwrap();
    let form = [("csrf", common::csrf_of(&confirm)), ("decision", "approve".to_string())];
    let done =
        phone.post(format!("{phone_base}{path}")).form(&form).send().await.unwrap().text().await.unwrap();
    assert!(done.contains("已确认"), "{done}");
    (kiosk, common::csrf_of(&page))
}

/// A confirmed QR code signed in through both processes at once: one session, never two.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kiosk_qr_code_signs_in_once_across_two_processes() {
    let Some(two) = TwoServers::start().await else { return };
    let (base_a, base_b) = (two.bases[0].clone(), two.bases[1].clone());
    let admin = two.login(&base_a, "dsj.admin").await;
    let password = demo_password_on(two.dirs[0].path(), Some(&two.url), "13800138001");
    for _ in 0..5 {
        let (kiosk, csrf) = confirmed_qr_code(&base_a, &base_b, &admin, &password).await;
        let sign_in = |base: String| {
            let (kiosk, csrf) = (kiosk.clone(), csrf.clone());
            async move {
                kiosk
                    .post(format!("{base}/kiosk/qr-login/sign-in"))
                    .form(&[("csrf", csrf)])
                    .send()
                    .await
                    .unwrap()
            }
        };
        let (a, b) = tokio::join!(sign_in(base_a.clone()), sign_in(base_b.clone()));
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [303, 409]);
    }
}

/// Reform milestones across two `serve` processes on PostgreSQL: the supervision office accepts
/// and returns one report at once through the two processes (one wins, the other changes
/// nothing), then the lead's head reports twice at once on a returned milestone; both processes
/// are killed right after the acknowledged answers, and a restart finds what was acknowledged
/// and only it, one event per step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reform_reviews_race_across_two_serve_processes_and_survive_a_kill() {
    let Some((url, _name)) = fresh_pg_database().await else { return };
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let client = reqwest::Client::new();
    let password = |username: &str| demo_password_on(dirs[0].path(), Some(&url), username);
    let post = |base: &str, path: &str, token: &str, body: serde_json::Value| {
        let request = client.post(format!("{base}{path}")).bearer_auth(token).json(&body);
        async move {
            let resp = request.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };
    let clock = common::test_clock_instant();
    let (a, base_a) = start_binary_at(dirs[0].path(), Some(&url), &clock);
    let (b, base_b) = start_binary_at(dirs[1].path(), Some(&url), &clock);
    let supervisor = login(&client, &base_a, "dsj.supervisor", &password("dsj.supervisor")).await;
    let head = login(&client, &base_b, "spj.head", &password("spj.head")).await;
    let cells = |c: &[&str]| c.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let sheet = crate::reform::sheet(&[
        cells(&["RT-01", "一件事一次办", "process", "", "JN-SPJ", "", "节点一", "2027-06-30", "否"]),
        cells(&["", "", "", "", "", "", "节点二", "2027-09-30", "否"]),
    ]);
    let resp = client
        .post(format!("{base_a}/api/v1/reform-tasks/import"))
        .bearer_auth(&supervisor)
        .body(sheet)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let path = |seq: u32, step: &str| format!("/api/v1/reform-tasks/RT-01/milestones/{seq}/{step}");
    let mut winners = Vec::new();
    for seq in [1, 2] {
        let (s, t) = post(&base_b, &path(seq, "report"), &head, json!({"report": "进展"})).await;
        assert_eq!(s, 200, "{t}");
        let version = t["milestones"][seq as usize - 1]["version"].clone();
        let ((sa, ba), (sb, bb)) = tokio::join!(
            post(
                &base_a,
                &path(seq, "review"),
                &supervisor,
                json!({"decision": "accept", "version": version})
            ),
            post(
                &base_b,
                &path(seq, "review"),
                &supervisor,
                json!({"decision": "return", "comment": "请补充", "version": version})
            )
        );
        let mut statuses = [sa, sb];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{ba} / {bb}");
        winners.push(if sa == 200 { "accepted" } else { "returned" });
    }
    // A returned milestone (if any) reported twice at once through the two processes.
    let mut reported = None;
    if let Some(i) = winners.iter().position(|w| *w == "returned") {
        let seq = i as u32 + 1;
        let t = get_json(client.get(format!("{base_a}/api/v1/reform-tasks/RT-01")).bearer_auth(&head)).await;
        let version = t["milestones"][i]["version"].clone();
        let ((sa, _), (sb, _)) = tokio::join!(
            post(&base_a, &path(seq, "report"), &head, json!({"report": "甲", "version": version})),
            post(&base_b, &path(seq, "report"), &head, json!({"report": "乙", "version": version}))
        );
        let mut statuses = [sa, sb];
        statuses.sort();
        assert_eq!(statuses, [200, 409]);
        reported = Some((i, if sa == 200 { "甲" } else { "乙" }));
        winners[i] = "reported";
    }
    // Killed right after the acknowledged answers; a restart finds each as acknowledged.
    drop((a, b));
    let (_again, base) = start_binary_at(dirs[0].path(), Some(&url), &clock);
    let head = login(&client, &base, "spj.head", &password("spj.head")).await;
    let t = get_json(client.get(format!("{base}/api/v1/reform-tasks/RT-01")).bearer_auth(&head)).await;
    for (i, want) in winners.iter().enumerate() {
        let m = &t["milestones"][i];
        assert_eq!(m["status"], *want, "{t}");
        // Report and review; a re-reported milestone has its second report too.
        let expected_events = if *want == "reported" { 3 } else { 2 };
        assert_eq!(m["events"].as_array().unwrap().len(), expected_events, "{m}");
    }
    if let Some((i, text)) = reported {
        assert_eq!(t["milestones"][i]["report"], text);
    }
}
