//! Test harness: each test gets its own app and its own database, and talks to it over real HTTP
//! on a loopback port (the same way a browser or another system would).
//!
//! Time: every app runs on a fixed clock (`quanban::platform::clock`), at `QUANBAN_TEST_CLOCK`
//! when set (an RFC 3339 instant; `scripts/test` runs the story tests again at several hard ones:
//! Friday 23:59 Beijing, Saturday evening, the eve of National Day, a 调休 Saturday, New Year's
//! Eve), else at [`quanban::platform::clock::TEST_INSTANT`] (Wednesday 2026-12-09 09:00 Beijing).
//! Processes the tests start get the same instant through `QUANBAN_CLOCK`.
//!
//! PostgreSQL: a fresh database is created per test on the server named by
//! `QUANBAN_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`). When that
//! server does not answer, PostgreSQL tests are skipped with a message, unless
//! `QUANBAN_REQUIRE_POSTGRES=1` (set by CI), in which case they fail.
//!
//! Templates: opening a fresh data directory migrates the schema, loads the reference data and
//! seeds the demo accounts, licences and seals, which in a debug build takes most of a second.
//! Every test that takes the default configuration ([`TestApp::start`]) gets a copy of one
//! template made once per test process instead: the files of a SQLite data directory, or
//! `CREATE DATABASE … TEMPLATE` on PostgreSQL. Opening the copy is a restart, and every step of
//! opening a fresh directory runs again on it (each is idempotent), so the test sees what a
//! fresh start would have left. A test that changes the configuration gets a fresh directory.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use quanban::app::{self, AppState};
use quanban::config::Config;
use quanban::demo::DemoAccount;
use serde_json::Value;
use sqlx::Connection;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub addr: SocketAddr,
    pub state: AppState,
    pub client: reqwest::Client,
    pub backend: Backend,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
    pg_db: Option<String>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn pg_admin_url() -> String {
    std::env::var("QUANBAN_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

fn pg_required() -> bool {
    std::env::var("QUANBAN_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

/// Creates a fresh PostgreSQL database and returns its URL, or `None` when PostgreSQL is not
/// available and not required.
pub async fn fresh_pg_database() -> Option<(String, String)> {
    pg_database_from(None).await
}

/// A connection to the PostgreSQL server the tests use; `None` (with a message) when it does not
/// answer and is not required, a panic when it is.
async fn admin_connection_or_skip() -> Option<sqlx::AnyConnection> {
    sqlx::any::install_default_drivers();
    let admin = pg_admin_url();
    match sqlx::AnyConnection::connect(&admin).await {
        Ok(conn) => Some(conn),
        Err(e) => {
            if pg_required() {
                panic!(
                    "PostgreSQL is required (QUANBAN_REQUIRE_POSTGRES=1) but {admin} does not answer: {e}"
                );
            }
            eprintln!("SKIPPED: PostgreSQL not reachable at {admin} ({e}); PostgreSQL story test skipped");
            None
        }
    }
}

/// A new PostgreSQL database, empty or a copy of `template`; its URL and name.
async fn pg_database_from(template: Option<&str>) -> Option<(String, String)> {
    let mut conn = admin_connection_or_skip().await?;
    let name = format!(
        "qb_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand_suffix()
    );
    let create = match template {
        Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
        None => format!("CREATE DATABASE {name}"),
    };
    // Copies of one template made at the same moment can find it briefly held by each other.
    let mut attempt = 0;
    while let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(create.clone())).execute(&mut conn).await {
        attempt += 1;
        assert!(attempt < 50 && e.to_string().contains("being accessed"), "{create}: {e}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let base = pg_admin_url().rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
    Some((format!("{base}/{name}"), name))
}

fn rand_suffix() -> u32 {
    rand::random()
}

/// The configuration every test starts from, on the data directory `dir`.
fn test_config(dir: &Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        secure_cookies: false,
        clock: Some(test_clock_instant()),
        // Every test client comes from 127.0.0.1; the limits have their own test.
        rate_limits: false,
        // Every view must see the write before it.
        figures_cache_seconds: 0,
        ..Config::default()
    }
}

/// A data directory (and on PostgreSQL a database) as a fresh start leaves it.
struct Template {
    dir: PathBuf,
    pg_db: Option<String>,
}

static SQLITE_TEMPLATE: tokio::sync::OnceCell<Template> = tokio::sync::OnceCell::const_new();
static POSTGRES_TEMPLATE: tokio::sync::OnceCell<Option<Template>> = tokio::sync::OnceCell::const_new();

/// This process's template for `backend`, made on first use; `None` when PostgreSQL is skipped.
async fn template(backend: Backend) -> Option<&'static Template> {
    match backend {
        Backend::Sqlite => Some(SQLITE_TEMPLATE.get_or_init(|| make_template(backend)).await),
        Backend::Postgres => POSTGRES_TEMPLATE
            .get_or_init(|| async {
                // Skipped (or failed when required) exactly as a fresh database would be.
                admin_connection_or_skip().await?;
                Some(make_template(backend).await)
            })
            .await
            .as_ref(),
    }
}

async fn make_template(backend: Backend) -> Template {
    remove_stale_templates().await;
    let pid = std::process::id();
    let dir = std::env::temp_dir().join(format!("quanban-test-template-{pid}-{backend:?}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut config = test_config(&dir);
    let mut pg_db = None;
    if backend == Backend::Postgres {
        let name = format!("qb_template_{pid}");
        let mut conn = admin_connection_or_skip().await.expect("PostgreSQL answered a moment ago");
        // One statement per query: PostgreSQL runs neither inside a transaction block.
        for sql in [format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"), format!("CREATE DATABASE {name}")]
        {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.unwrap();
        }
        let base = pg_admin_url().rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
        config.database_url = Some(format!("{base}/{name}"));
        config.max_connections = 2;
        pg_db = Some(name);
    }
    let state = AppState::open(config).await.expect("the template opens");
    // Every connection closed and the writer stopped, so the files (or the database) can be copied.
    state.db.close().await;
    drop(state);
    Template { dir, pg_db }
}

/// Templates and databases left by test processes that have ended (a process cannot clean up its
/// statics, and a failed test does not stop its app).
async fn remove_stale_templates() {
    // Whether a process lives is read from /proc; elsewhere nothing is removed.
    if !Path::new("/proc/self").exists() {
        return;
    }
    let alive = |pid: &str| Path::new("/proc").join(pid).exists();
    if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(rest) = name.strip_prefix("quanban-test-template-")
                && let Some((pid, _)) = rest.split_once('-')
                && !alive(pid)
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    sqlx::any::install_default_drivers();
    let Ok(mut conn) = sqlx::AnyConnection::connect(&pg_admin_url()).await else { return };
    // Test databases too: a test that fails (or never stops its app) leaves its database.
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'qb\\_template\\_%' OR datname LIKE 'qb\\_test\\_%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap_or_default();
    for name in names {
        let owner = name.strip_prefix("qb_template_").or_else(|| name.strip_prefix("qb_test_"));
        if let Some(pid) = owner.and_then(|rest| rest.split('_').next())
            && !alive(pid)
        {
            let _ =
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                    .execute(&mut conn)
                    .await;
        }
    }
}

/// Copies the files of the directory `from` (a data directory: files and folders) into `to`.
fn copy_files(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_files(&entry.path(), &target);
        } else if let Err(e) = std::fs::copy(entry.path(), &target) {
            // SQLite's sidecar files (-wal, -shm, -journal) come and go with connections; one
            // listed a moment ago and gone now held nothing the database file lacks.
            let sidecar =
                ["-wal", "-shm", "-journal"].iter().any(|s| entry.file_name().to_string_lossy().ends_with(s));
            assert!(e.kind() == std::io::ErrorKind::NotFound && sidecar, "copying {:?}: {e}", entry.path());
        }
    }
}

/// The instant tests run at: `QUANBAN_TEST_CLOCK`, else the documented default.
pub fn test_clock_instant() -> String {
    std::env::var("QUANBAN_TEST_CLOCK")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| quanban::platform::clock::TEST_INSTANT.to_string())
}

impl TestApp {
    /// Starts an app on `backend`; `None` when the backend is unavailable (PostgreSQL skipped).
    pub async fn start(backend: Backend) -> Option<TestApp> {
        let template = template(backend).await?;
        let dir = tempfile::tempdir().unwrap();
        copy_files(&template.dir, dir.path());
        let mut config = test_config(dir.path());
        let mut pg_db = None;
        if let Some(template_db) = &template.pg_db {
            let (url, name) = pg_database_from(Some(template_db)).await?;
            config.database_url = Some(url);
            config.max_connections = 8;
            pg_db = Some(name);
        }
        Some(Self::serve(backend, dir, config, pg_db).await)
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        let mut pg_db = None;
        if backend == Backend::Postgres {
            let (url, name) = fresh_pg_database().await?;
            config.database_url = Some(url);
            config.max_connections = 8;
            pg_db = Some(name);
        }
        tweak(&mut config);
        Some(Self::serve(backend, dir, config, pg_db).await)
    }

    async fn serve(
        backend: Backend,
        dir: tempfile::TempDir,
        config: Config,
        pg_db: Option<String>,
    ) -> TestApp {
        // Server-side errors (a 500's cause) appear in the failing test's output.
        let _ = tracing_subscriber::fmt().with_env_filter("warn").with_test_writer().try_init();
        let state = AppState::open(config).await.expect("app starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        quanban::guide::spawn_refresher(state.clone(), std::time::Duration::from_millis(200));
        let router = app::router(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
        });
        let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
        TestApp { base: format!("http://{addr}"), addr, state, client, backend, _dir: dir, server, pg_db }
    }

    /// The app's clock (fixed: tests move it with `set` and `advance`).
    pub fn clock(&self) -> &quanban::platform::clock::Clock {
        self.state.clock()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// How many audit entries record `action`.
    #[allow(dead_code)]
    /// Moves the clock to when hall `code` next opens, if it is closed now (queue numbers are
    /// given only while a hall is open; the story tests run at night and on holidays too).
    pub async fn open_hall(&self, code: &str) {
        let hall = self.state.halls.directory.get(code).unwrap().clone();
        let cal = self.state.calendar().await;
        let now = self.clock().beijing_now();
        let next = quanban::halls::domain::next_opening(&hall.hours, &cal, now).unwrap();
        if next != now {
            self.clock().set(quanban::platform::clock::from_beijing(next)).unwrap();
        }
    }

    pub async fn audit_count(&self, action: &str) -> usize {
        let n: i64 = quanban::store::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = $1")
            .bind(action)
            .read_one(&self.state.db)
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        usize::try_from(n).unwrap()
    }

    pub async fn demo_accounts(&self) -> Vec<DemoAccount> {
        quanban::demo::list(&self.state.db, &self.state.vault).await.unwrap()
    }

    pub async fn demo(&self, username: &str) -> DemoAccount {
        self.demo_accounts().await.into_iter().find(|a| a.username == username).expect("demo account exists")
    }

    /// Sends a request (JSON body if given) and returns the status and the parsed JSON answer (or
    /// the text as a JSON string when it is not JSON).
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(body) = body {
            req = req.json(&body);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.request(reqwest::Method::POST, path, token, Some(body)).await
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (u16, Value) {
        self.request(method, path, token, Some(body)).await
    }

    pub async fn get_json(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.request(reqwest::Method::GET, path, token, None).await
    }

    /// Logs in through the API and returns the bearer token.
    pub async fn token(&self, username: &str, password: &str) -> String {
        let (status, body) = self
            .post_json(
                "/api/v1/auth/token",
                None,
                serde_json::json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(status, 200, "login of {username} failed: {body}");
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn demo_token(&self, username: &str) -> String {
        let a = self.demo(username).await;
        self.token(&a.username, &a.password).await
    }

    /// Registers a person with a valid generated ID number; returns (phone, password).
    pub async fn register_person(&self, name: &str, seq: u32) -> (String, String) {
        let body17 = format!("3701021990{:02}{:02}{:03}", 1 + seq % 12, 1 + seq % 28, seq % 1000);
        let id = quanban::demo::id_number(&body17).unwrap();
        let phone = format!("139{:08}", seq);
        let password = "Spring-City-2026".to_string();
        let (status, body) = self
            .post_json(
                "/api/v1/auth/register",
                None,
                serde_json::json!({"name": name, "id_number": id, "phone": phone, "password": password}),
            )
            .await;
        assert_eq!(status, 201, "registration failed: {body}");
        (phone, password)
    }

    /// The demo Open311 client's key.
    #[allow(dead_code)]
    pub async fn open311_key(&self) -> String {
        quanban::demo::open311_key(&self.state.db).await.unwrap().expect("demo open311 key")
    }

    /// Creates a window clerk in `department` (by the system administrator) and signs in.
    #[allow(dead_code)]
    pub async fn token_for_new_staff(&self, username: &str, department: &str) -> String {
        let admin = self.demo_token("dsj.admin").await;
        let (status, body) = self
            .post_json(
                "/api/v1/staff",
                Some(&admin),
                serde_json::json!({"username": username, "name": "测试员", "department": department,
                                   "roles": ["window_clerk"], "password": "Spring-City-2026"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        self.token(username, "Spring-City-2026").await
    }

    /// Creates a staff member of `department` with `roles` (by the system administrator) and signs in.
    #[allow(dead_code)]
    pub async fn token_for_staff_with(&self, username: &str, department: &str, roles: &[&str]) -> String {
        let admin = self.demo_token("dsj.admin").await;
        let (status, body) = self
            .post_json(
                "/api/v1/staff",
                Some(&admin),
                serde_json::json!({"username": username, "name": "测试员", "department": department,
                                   "roles": roles, "password": "Spring-City-2026"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        self.token(username, "Spring-City-2026").await
    }

    /// The staff who can decide every part of 开药店一件事 (JN-YJS-004), by department: the
    /// demo staff of 审批局 and 市场监管, and an urban-management officer created here (the demo
    /// has none) with the three roles.
    pub async fn pharmacy_bundle_staff(&self) -> std::collections::HashMap<&'static str, Vec<String>> {
        let hash = quanban::identity::password::hash("Cgj-Officer-2026".into()).await.unwrap();
        quanban::identity::store::create_staff(
            &self.state.db,
            "test".into(),
            quanban::identity::store::NewStaff {
                username: "cgj.officer".into(),
                name: "城管办事员".into(),
                department: "JN-CGJ".into(),
                roles: vec![
                    quanban::identity::authz::Role::WindowClerk,
                    quanban::identity::authz::Role::Reviewer,
                    quanban::identity::authz::Role::Approver,
                ],
                halls: vec![],
                password_hash: hash,
            },
        )
        .await
        .unwrap();
        let mut by_dept = std::collections::HashMap::new();
        by_dept.insert(
            "JN-SPJ",
            vec![
                self.demo_token("spj.clerk").await,
                self.demo_token("spj.reviewer").await,
                self.demo_token("spj.approver").await,
            ],
        );
        by_dept.insert(
            "JN-SCJ",
            vec![self.demo_token("scj.clerk").await, self.demo_token("scj.approver").await],
        );
        by_dept.insert("JN-CGJ", vec![self.token("cgj.officer", "Cgj-Officer-2026").await]);
        by_dept
    }

    /// The demo citizen's application for 食品经营许可（新办） (JN-SPJ-0003) with its one
    /// material: the case number.
    pub async fn apply_for_food_licence(&self) -> String {
        use base64::Engine;
        let citizen = self.demo_token("13800138001").await;
        let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4\n% a test application\n");
        let (s, b) = self
            .post_json(
                "/api/v1/cases",
                Some(&citizen),
                serde_json::json!({"item_code": "JN-SPJ-0003",
                    "form": {"contact_name": "张伟", "contact_phone": "13800138001"},
                    "materials": [{"index": 0, "file_name": "申请书.pdf", "content_base64": pdf}]}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        b["case_number"].as_str().unwrap().to_string()
    }

    /// Moves case `number` on with whichever of `tokens` can (accept, review, approve, close,
    /// deliver) until it is delivered.
    pub async fn drive_to_delivery(&self, tokens: &[String], number: &str) {
        const PREFERENCE: [&str; 5] = ["accept", "start_review", "approve", "close", "deliver"];
        for _ in 0..10 {
            let mut acted = false;
            for t in tokens {
                let (s, c) = self.get_json(&format!("/api/v1/cases/{number}"), Some(t)).await;
                assert_eq!(s, 200, "{number}: {c}");
                if c["state"] == "delivered" {
                    return;
                }
                let available: Vec<&str> =
                    c["available_actions"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
                if let Some(a) = PREFERENCE.iter().find(|p| available.contains(p)) {
                    let (s, b) = self
                        .post_json(
                            &format!("/api/v1/cases/{number}/actions/{a}"),
                            Some(t),
                            serde_json::json!({}),
                        )
                        .await;
                    assert_eq!(s, 200, "{a} on {number}: {b}");
                    acted = true;
                }
            }
            assert!(acted, "nobody can move {number} on");
        }
        panic!("{number} not delivered after 10 rounds");
    }

    pub async fn stop(self) {
        self.server.abort();
        self.state.db.close().await;
        if let Some(name) = &self.pg_db
            && let Ok(mut conn) = sqlx::AnyConnection::connect(&pg_admin_url()).await
        {
            let _ =
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                    .execute(&mut conn)
                    .await;
        }
    }
}

/// Stores a person the way the platform did before personal data was sealed: ID and mobile
/// number in clear, the number as the login name, no digests.
pub async fn insert_clear_person(
    db: &quanban::store::Db,
    id: &str,
    phone: &str,
    id_number: &str,
    password_hash: &str,
) {
    let (id, phone, id_number, hash) =
        (id.to_string(), phone.to_string(), id_number.to_string(), password_hash.to_string());
    db.write(move |c| {
        quanban::store::query(
            "INSERT INTO users (id, kind, username, name, id_number, id_number_masked, phone, password_hash, \
                 status, created_at, updated_at, version) VALUES ($1, 'person', $2, '旧用户', $3, \
                 '3701**********', $2, $4, 'active', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 1)",
        )
        .bind(&id)
        .bind(&phone)
        .bind(&id_number)
        .bind(&hash)
        .execute(&mut *c)?;
        Ok(())
    })
    .await
    .unwrap();
}

/// Generates one test per backend for each story: `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! stories {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::common::TestApp::start($crate::common::Backend::Sqlite).await.expect("sqlite app");
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(app) = $crate::common::TestApp::start($crate::common::Backend::Postgres).await else { return };
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
    };
}

/// A browser's cookie jar for page flows, not following redirects. Cookies belong to the host,
/// not the port, so one jar serves several processes on the loopback.
pub fn page_client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The form token of a page.
pub fn csrf_of(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).unwrap_or_else(|| panic!("no csrf field in {html}"))
        + r#"name="csrf" value=""#.len();
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

/// Signs `client` in on the web at `base` (the login page's form, as a browser sends it).
pub async fn web_login(client: &reqwest::Client, base: &str, username: &str, password: &str) {
    let page = client.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let form =
        [("csrf", csrf_of(&page)), ("username", username.to_string()), ("password", password.to_string())];
    let r = client.post(format!("{base}/login")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303, "web login of {username}");
}
