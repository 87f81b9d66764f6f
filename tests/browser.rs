//! Browser tests: the real pages driven in headless Chromium through chromedriver, the way a
//! resident or a clerk uses them — typing, tabbing, clicking, switching language.
//!
//! Needs `/usr/bin/chromedriver` and `/usr/bin/chromium`. Without them the tests print a SKIPPED
//! line and pass, unless `QUANBAN_REQUIRE_BROWSER=1` (set by CI), in which case they fail.
//! `QUANBAN_SCREENSHOTS=<dir>` makes the `screenshots` test save PNGs of the main pages at 1280
//! and 375 px width.
//!
//! The app runs with `Secure` cookies, as in production: Chromium treats http://127.0.0.1 as a
//! secure context and keeps them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::future::Future;
use std::net::TcpListener;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Backend, TestApp};
use futures::FutureExt;
use serde_json::Value;
use thirtyfour::prelude::*;
use thirtyfour::{ChromeCapabilities, ChromiumLikeCapabilities};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// Kills chromedriver (and whatever it left in its process group) when dropped, also on panic.
struct ChromeDriverProcess {
    child: Child,
}

impl Drop for ChromeDriverProcess {
    fn drop(&mut self) {
        // chromedriver was started as the leader of its own process group; a browser it failed to
        // close goes with it.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start_chromedriver() -> (ChromeDriverProcess, String) {
    use std::os::unix::process::CommandExt;
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let guard = ChromeDriverProcess { child };
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(resp) = client.get(format!("{url}/status")).send().await
            && resp.status().is_success()
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not answer on {url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (guard, url)
}

fn browser_required() -> bool {
    std::env::var("QUANBAN_REQUIRE_BROWSER").is_ok_and(|v| v == "1" || v == "true")
}

fn shots_dir() -> Option<PathBuf> {
    std::env::var_os("QUANBAN_SCREENSHOTS").filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// One test's world: the app (on SQLite, Secure cookies on) and a browser pointed at it.
struct Session {
    app: TestApp,
    driver: WebDriver,
}

type Journey = for<'a> fn(&'a Session) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Starts chromedriver, Chromium and the app, runs `journey`, and tears everything down even
/// when the journey panics (the panic is then re-raised, after a failure screenshot if asked).
async fn run(name: &str, journey: Journey) {
    if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
        assert!(
            !browser_required(),
            "QUANBAN_REQUIRE_BROWSER=1 but {CHROMEDRIVER} or {CHROMIUM} is not installed"
        );
        println!("SKIPPED: chromedriver not installed; browser tests skipped");
        return;
    }
    let app =
        TestApp::start_with(Backend::Sqlite, |cfg| cfg.secure_cookies = true).await.expect("app starts");
    let (chromedriver, url) = start_chromedriver().await;
    let profile = tempfile::tempdir().unwrap();

    let mut caps = ChromeCapabilities::new();
    caps.set_binary(CHROMIUM).unwrap();
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        // A browser set up for Simplified Chinese, as most of the platform's users have.
        "--lang=zh-CN",
    ] {
        caps.add_arg(arg).unwrap();
    }
    caps.add_arg(&format!("--user-data-dir={}", profile.path().display())).unwrap();
    caps.add_experimental_option("prefs", serde_json::json!({"intl.accept_languages": "zh-CN,zh"})).unwrap();
    let driver = WebDriver::new(url, caps).await.expect("a Chromium session");

    let session = Session { app, driver };
    let outcome = AssertUnwindSafe(journey(&session)).catch_unwind().await;
    if outcome.is_err()
        && let Some(dir) = shots_dir()
    {
        let _ = std::fs::create_dir_all(&dir);
        let _ = session.driver.screenshot(&dir.join(format!("FAILED-{name}.png"))).await;
        if let Ok(u) = session.driver.current_url().await {
            eprintln!("{name} failed on {u}");
        }
    }
    let Session { app, driver } = session;
    let _ = driver.quit().await;
    drop(chromedriver);
    drop(profile);
    app.stop().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

impl Session {
    fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    async fn goto(&self, path: &str) {
        self.driver.goto(self.url(path)).await.unwrap_or_else(|e| panic!("opening {path}: {e}"));
    }

    async fn find(&self, css: &str) -> WebElement {
        self.driver.find(By::Css(css)).await.unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    async fn exists(&self, css: &str) -> bool {
        !self.driver.find_all(By::Css(css)).await.unwrap().is_empty()
    }

    async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css).await.attr(name).await.unwrap()
    }

    async fn value(&self, css: &str) -> String {
        self.find(css).await.prop("value").await.unwrap().unwrap_or_default()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Marks the current document, so that [`Session::wait_for_path`] waits for a new one.
    async fn mark_page(&self) {
        self.script("window.__qbOld = true; return null").await;
    }

    /// Clicks; a page load the click starts is waited for by [`Session::wait_for_path`].
    async fn click(&self, css: &str) {
        self.mark_page().await;
        self.find(css).await.click().await.unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    async fn script(&self, js: &str) -> Value {
        self.driver.execute(js, Vec::new()).await.unwrap().json().clone()
    }

    async fn html_lang(&self) -> String {
        self.attr("html", "lang").await.unwrap_or_default()
    }

    async fn path(&self) -> String {
        let u = self.driver.current_url().await.unwrap();
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        }
    }

    async fn body_text(&self) -> String {
        self.text("body").await
    }

    /// Waits until the browser shows `path` (path and query) in a document loaded after the last
    /// [`Session::mark_page`], fully loaded.
    async fn wait_for_path(&self, path: &str) {
        let started = Instant::now();
        loop {
            let fresh = self.script("return document.readyState === 'complete' && !window.__qbOld").await;
            if fresh == true && self.path().await == path {
                return;
            }
            assert!(started.elapsed() < WAIT, "expected to reach {path}, still on {}", self.path().await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn cookie(&self, name: &str) -> Option<thirtyfour::Cookie> {
        self.driver.get_all_cookies().await.unwrap().into_iter().find(|c| c.name == name)
    }

    async fn log_in(&self, username: &str, password: &str) {
        self.goto("/login").await;
        self.type_into("#username", username).await;
        self.type_into("#password", password).await;
        self.click("form[action='/login'] button[type=submit]").await;
        self.wait_for_path("/").await;
    }

    async fn log_out(&self) {
        self.click("header form[action='/logout'] button[type=submit]").await;
        self.wait_for_path("/").await;
    }

    async fn set_width(&self, width: u32, height: u32) {
        self.driver.set_window_rect(0, 0, width, height).await.unwrap();
        let inner = self.script("return window.innerWidth").await;
        assert_eq!(inner.as_u64(), Some(u64::from(width)), "viewport width after resizing to {width}");
    }
}

// ---------------------------------------------------------------------------------------------
// Journeys
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_login_profile_logout() {
    run("registration", |s| Box::pin(registration(s))).await;
}

async fn registration(s: &Session) {
    s.goto("/register").await;
    assert_eq!(s.html_lang().await, "zh-CN");
    assert_eq!(s.text("main h1").await, "实名注册");
    // Every input has a visible label tied to it.
    for id in ["name", "id_number", "phone", "password"] {
        let label = s.find(&format!("label[for='{id}']")).await;
        assert!(label.is_displayed().await.unwrap(), "label for {id} is visible");
        assert!(!label.text().await.unwrap().trim().is_empty());
    }

    // First attempt: the ID number's check digit is wrong.
    s.type_into("#name", "王小明").await;
    s.type_into("#id_number", "110105194912310021").await;
    s.type_into("#phone", "13700001111").await;
    s.type_into("#password", "Spring-City-2026").await;
    s.click("form[action='/register'] button[type=submit]").await;
    s.wait_for_path("/register").await;
    assert!(s.exists("#form-errors").await, "error summary shown");
    assert_eq!(s.attr("#id_number", "aria-invalid").await.as_deref(), Some("true"));
    let message = s.text("#id_number-error").await;
    assert!(message.contains("校验位"), "check-digit message next to the field: {message}");
    let described = s.attr("#id_number", "aria-describedby").await.unwrap_or_default();
    assert!(described.split_whitespace().any(|d| d == "id_number-error"), "{described}");
    // The summary links to the field.
    assert!(s.exists("#form-errors a[href='#id_number']").await);
    // The other fields are fine and keep what was typed; the password is not echoed back.
    for id in ["name", "phone", "password"] {
        assert_eq!(s.attr(&format!("#{id}"), "aria-invalid").await, None, "{id} is not marked invalid");
    }
    assert_eq!(s.value("#name").await, "王小明");
    assert_eq!(s.value("#phone").await, "13700001111");
    assert_eq!(s.value("#id_number").await, "110105194912310021");
    assert_eq!(s.value("#password").await, "");
    assert!(!s.driver.source().await.unwrap().contains("Spring-City-2026"), "password not in the page");

    // Corrected: registration succeeds and leads to the login page.
    s.type_into("#id_number", "11010519491231002X").await;
    s.type_into("#password", "Spring-City-2026").await;
    s.click("form[action='/register'] button[type=submit]").await;
    s.wait_for_path("/login?registered=1").await;
    assert_eq!(s.text(".notice[role=status]").await, "注册成功，请登录。");

    s.type_into("#username", "13700001111").await;
    s.type_into("#password", "Spring-City-2026").await;
    s.click("form[action='/login'] button[type=submit]").await;
    s.wait_for_path("/").await;
    assert_eq!(s.text("main .card h2").await, "您好，王小明");
    // The session cookie is Secure, HttpOnly and Lax, and the browser kept it on http://127.0.0.1.
    let session = s.cookie("qb_session").await.expect("session cookie kept by the browser");
    assert_eq!(session.secure, Some(true));
    assert_eq!(session.http_only, Some(true));
    assert!(s.cookie("qb_csrf").await.is_some_and(|c| c.secure == Some(true)));

    s.click("header a[href='/profile']").await;
    s.wait_for_path("/profile").await;
    assert_eq!(s.text("#profile-name").await, "王小明");
    assert_eq!(s.text("#profile-id").await, "1101**********002X");
    let source = s.driver.source().await.unwrap();
    assert!(!source.contains("11010519491231002X"), "raw ID number in the profile page");
    assert!(!source.contains("19491231"), "birth date part of the ID number in the profile page");
    assert!(source.contains("137****1111"), "masked phone shown");

    s.log_out().await;
    assert!(s.exists("header a[href='/login']").await, "login link back after logout");
    assert!(!s.exists("header form[action='/logout']").await, "logout button gone");
    assert!(s.cookie("qb_session").await.is_none_or(|c| c.value.is_empty()), "session cookie removed");
    s.goto("/profile").await;
    s.wait_for_path("/login").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_login_shows_department_and_role() {
    run("staff", |s| Box::pin(staff(s))).await;
}

async fn staff(s: &Session) {
    let clerk = s.app.demo("spj.clerk").await;
    s.log_in(&clerk.username, &clerk.password).await;
    assert!(s.exists("header a[href='/staff']").await, "staff desk in the navigation");
    s.click("header a[href='/staff']").await;
    s.wait_for_path("/staff").await;
    assert_eq!(s.text("main h1").await, "工作台");
    assert_eq!(s.text("#staff-department").await, "济南市行政审批服务局");
    let roles = s.text("#staff-roles").await;
    assert!(roles.contains("窗口受理"), "roles: {roles}");
    assert!(s.body_text().await.contains("王晓雯"), "the clerk's name is shown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn language_switch_persists() {
    run("language", |s| Box::pin(language(s))).await;
}

async fn language(s: &Session) {
    s.goto("/").await;
    assert_eq!(s.html_lang().await, "zh-CN");
    assert_eq!(s.text("#lang-switch").await, "English");
    assert_eq!(s.attr("#lang-switch", "lang").await.as_deref(), Some("en"));

    s.click("#lang-switch").await;
    s.wait_for_path("/").await;
    assert_eq!(s.html_lang().await, "en");
    assert_eq!(s.text("header a[href='/login']").await, "Log in");
    assert_eq!(s.text("main h1").await, "One platform, done in one go");
    assert_eq!(s.text("#lang-switch").await, "中文");

    // The choice is remembered by the cookie on the next page.
    s.goto("/login").await;
    assert_eq!(s.html_lang().await, "en");
    assert_eq!(s.text("main h1").await, "Log in");
    assert_eq!(s.text("label[for='username']").await, "Mobile number or staff login");

    // Switching back returns to the same page, in Chinese.
    s.click("#lang-switch").await;
    s.wait_for_path("/login").await;
    assert_eq!(s.html_lang().await, "zh-CN");
    assert_eq!(s.text("main h1").await, "登录");
    s.goto("/register").await;
    assert_eq!(s.text("main h1").await, "实名注册");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_only_login() {
    run("keyboard", |s| Box::pin(keyboard(s))).await;
}

async fn active(s: &Session) -> WebElement {
    s.driver.active_element().await.unwrap()
}

/// Waits until the focused element has `id`.
async fn wait_focus(s: &Session, id: &str) {
    let started = Instant::now();
    loop {
        let now = active(s).await.attr("id").await.unwrap();
        if now.as_deref() == Some(id) {
            return;
        }
        assert!(started.elapsed() < WAIT, "expected focus on #{id}, it is on {now:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn press(s: &Session, keys: impl Into<TypingData>) {
    s.driver.action_chain().send_keys(keys).perform().await.unwrap();
}

async fn keyboard(s: &Session) {
    s.goto("/login").await;
    // First Tab from the top of the page: the skip link, now visible.
    press(s, Key::Tab).await;
    let first = active(s).await;
    assert_eq!(first.text().await.unwrap(), "跳到主要内容");
    assert_eq!(first.attr("href").await.unwrap().as_deref(), Some("#main"));
    assert!(first.is_displayed().await.unwrap());
    let r = first.rect().await.unwrap();
    assert!(r.x >= 0.0 && r.y >= 0.0, "focused skip link is on screen: {r:?}");

    // Enter follows it to the main content; the next Tab lands in the first field.
    press(s, Key::Enter).await;
    wait_focus(s, "main").await;
    press(s, Key::Tab).await;
    wait_focus(s, "username").await;
    press(s, "13700009999").await;
    press(s, Key::Tab).await;
    wait_focus(s, "password").await;
    press(s, "Wrong-Password-1").await;
    s.mark_page().await;
    press(s, Key::Enter).await;

    s.wait_for_path("/login").await;
    let summary = s.text("#form-errors").await;
    assert!(summary.contains("用户名或密码错误"), "error summary: {summary}");
    // The typed name is kept, the password is not.
    assert_eq!(s.value("#username").await, "13700009999");
    assert_eq!(s.value("#password").await, "");
    assert!(s.cookie("qb_session").await.is_none(), "not signed in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_csrf_is_refused_in_chinese() {
    run("csrf", |s| Box::pin(bad_csrf(s))).await;
}

async fn bad_csrf(s: &Session) {
    let clerk = s.app.demo("spj.clerk").await;
    s.goto("/login").await;
    let original = s.value("form[action='/login'] input[name=csrf]").await;
    assert_eq!(original.len(), 64, "the form carries a CSRF token");
    s.script("document.querySelector(\"form[action='/login'] input[name=csrf]\").value = '0'.repeat(64);")
        .await;
    s.type_into("#username", &clerk.username).await;
    s.type_into("#password", &clerk.password).await;
    s.click("form[action='/login'] button[type=submit]").await;
    s.wait_for_path("/login").await;
    assert_eq!(s.html_lang().await, "zh-CN");
    assert_eq!(s.text("main h1").await, "出错了");
    let body = s.body_text().await;
    assert!(body.contains("页面已过期"), "{body}");
    assert!(body.contains("403"), "status shown: {body}");
    assert!(s.cookie("qb_session").await.is_none(), "correct password but no session without the token");

    // The untouched form still works.
    s.log_in(&clerk.username, &clerk.password).await;
    assert!(s.exists("header form[action='/logout']").await);
}

// ---------------------------------------------------------------------------------------------
// Screenshots and narrow screens
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots() {
    run("screenshots", |s| Box::pin(shoot_all(s))).await;
}

async fn shoot(s: &Session, name: &str, width: u32, height: u32) {
    // No sideways scrolling, at any width.
    let scroll_width = s.script("return document.documentElement.scrollWidth").await.as_u64().unwrap();
    assert!(scroll_width <= u64::from(width), "{name} overflows at {width}px: scrollWidth {scroll_width}");
    let Some(dir) = shots_dir() else { return };
    std::fs::create_dir_all(&dir).unwrap();
    // The whole page: make the window as tall as the document, then restore it.
    let sizes = s
        .script("return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]")
        .await;
    let px = |i: usize| u32::try_from(sizes[i].as_u64().unwrap()).unwrap();
    let full = (px(0) + px(1)).max(height);
    s.driver.set_window_rect(0, 0, width, full).await.unwrap();
    s.driver.screenshot(&dir.join(format!("{name}-{width}.png"))).await.unwrap();
    s.driver.set_window_rect(0, 0, width, height).await.unwrap();
}

async fn shoot_all(s: &Session) {
    let (phone, password) = s.app.register_person("王小明", 42).await;
    let clerk = s.app.demo("spj.clerk").await;
    for (width, height) in [(1280, 900), (375, 812)] {
        s.set_width(width, height).await;
        s.driver.delete_all_cookies().await.unwrap();

        s.goto("/").await;
        assert_eq!(s.text("main h1").await, "一网通办，一次办好");
        shoot(s, "home", width, height).await;

        s.goto("/register").await;
        s.type_into("#name", "王").await;
        s.type_into("#id_number", "110105194912310021").await;
        s.type_into("#phone", "1234").await;
        s.type_into("#password", "password").await;
        s.click("form[action='/register'] button[type=submit]").await;
        s.wait_for_path("/register").await;
        assert_eq!(s.driver.find_all(By::Css("input[aria-invalid=true]")).await.unwrap().len(), 4);
        shoot(s, "register-errors", width, height).await;

        s.goto("/login").await;
        shoot(s, "login", width, height).await;

        s.log_in(&phone, &password).await;
        s.goto("/profile").await;
        assert_eq!(s.text("#profile-name").await, "王小明");
        shoot(s, "profile", width, height).await;
        s.log_out().await;

        s.log_in(&clerk.username, &clerk.password).await;
        s.goto("/staff").await;
        assert_eq!(s.text("#staff-department").await, "济南市行政审批服务局");
        shoot(s, "staff", width, height).await;
        s.log_out().await;

        // English texts are longer; they must fit too.
        s.goto("/lang/en").await;
        assert_eq!(s.html_lang().await, "en");
        shoot(s, "home-en", width, height).await;
        s.goto("/register").await;
        shoot(s, "register-en", width, height).await;
        s.goto("/lang/zh").await;
    }
}
