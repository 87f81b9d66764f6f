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

use crate::common;

use std::future::Future;
use std::net::TcpListener;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use common::{Backend, TestApp};
use futures::FutureExt;
use serde_json::{Value, json};
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

    /// Waits for a document loaded after the last [`Session::mark_page`] (wherever it is) and
    /// returns its path and query.
    async fn wait_loaded(&self) -> String {
        let started = Instant::now();
        loop {
            let fresh = self.script("return document.readyState === 'complete' && !window.__qbOld").await;
            if fresh == true {
                return self.path().await;
            }
            assert!(started.elapsed() < WAIT, "no new page loaded, still on {}", self.path().await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn find_all(&self, css: &str) -> Vec<WebElement> {
        self.driver.find_all(By::Css(css)).await.unwrap()
    }

    async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.find_all(css).await {
            out.push(e.text().await.unwrap());
        }
        out
    }

    /// The `<dd>` next to the `<dt>` reading `term`.
    async fn fact(&self, term: &str) -> String {
        let xpath = format!("//dt[normalize-space(.)='{term}']/following-sibling::dd[1]");
        let dd = self.driver.find(By::XPath(xpath)).await.unwrap_or_else(|e| panic!("no fact {term}: {e}"));
        dd.text().await.unwrap()
    }

    /// The list card (`li.card`) whose heading contains `text`.
    async fn card(&self, text: &str) -> WebElement {
        let xpath =
            format!("//li[contains(@class,'card')][.//*[self::h2 or self::h3][contains(., '{text}')]]");
        self.driver.find(By::XPath(xpath)).await.unwrap_or_else(|e| panic!("no card with {text}: {e}"))
    }

    async fn cookie(&self, name: &str) -> Option<thirtyfour::Cookie> {
        self.driver.get_all_cookies().await.unwrap().into_iter().find(|c| c.name == name)
    }

    async fn log_in(&self, username: &str, password: &str) {
        self.goto("/login").await;
        self.type_into("#username", username).await;
        self.type_into("#password", password).await;
        self.click("form[action='/login'] button[type=submit]").await;
        // People land on the home page, staff (a login name, not a number) on their workbench.
        let staff = !username.chars().all(|c| c.is_ascii_digit());
        self.wait_for_path(if staff { "/workbench" } else { "/" }).await;
    }

    async fn log_out(&self) {
        // On a phone the header's links are behind the menu button: open it first, as people do.
        self.script(
            "const b = document.getElementById('menu-button'); \
             if (b && b.getClientRects().length > 0 && b.getAttribute('aria-expanded') !== 'true') b.click(); \
             document.querySelector(\"header form[action='/logout'] button\").scrollIntoView({block: 'center'}); \
             return null",
        )
        .await;
        self.click("header form[action='/logout'] button[type=submit]").await;
        self.wait_for_path("/").await;
    }

    async fn set_width(&self, width: u32, height: u32) {
        self.driver.set_window_rect(0, 0, width, height).await.unwrap();
        // The page sees the new size a moment later on a busy machine.
        let started = Instant::now();
        loop {
            let inner = self.script("return window.innerWidth").await;
            if inner.as_u64() == Some(u64::from(width)) {
                return;
            }
            assert!(started.elapsed() < WAIT, "viewport width {inner} after resizing to {width}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
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
    // A page that needs a login sends there and, once signed in, back to itself.
    s.goto("/profile").await;
    s.wait_for_path("/login?next=%2Fprofile").await;
    s.type_into("#username", "13700001111").await;
    s.type_into("#password", "Spring-City-2026").await;
    s.click("form[action='/login'] button[type=submit]").await;
    s.wait_for_path("/profile").await;
    assert_eq!(s.text("#profile-name").await, "王小明");
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
    assert_eq!(s.text("main h1").await, "岗位与权限");
    // The navigation lists the desks this role works at, and not the others.
    let nav: Vec<String> = s.texts("header nav a").await;
    assert!(nav.iter().any(|l| l == "办件工作台"), "{nav:?}");
    assert!(nav.iter().any(|l| l == "接诉即办"), "the department's complaints: {nav:?}");
    for other in ["督查督办", "惠企政策", "事项管理", "数据共享", "证照管理"] {
        assert!(!nav.iter().any(|l| l == other), "{other}: {nav:?}");
    }
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
// Service guides, bundles, catalog desk, guidance
// ---------------------------------------------------------------------------------------------

/// The number in 共找到事项：N.
async fn result_count(s: &Session) -> u64 {
    let text = s.text("#result-count").await;
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("no count in {text:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browse_filter_and_open_a_guide() {
    run("browse", |s| Box::pin(browse(s))).await;
}

async fn browse(s: &Session) {
    s.goto("/items").await;
    assert_eq!(s.text("main h1").await, "政务服务事项");
    let everything = result_count(s).await;
    assert!(everything > 100, "the whole catalog is listed: {everything}");
    for id in ["q", "audience", "life_event", "department", "level"] {
        assert!(!s.text(&format!("label[for='{id}']")).await.trim().is_empty(), "label for {id}");
    }
    // The catalog's internal view (an "as of" date, the change log) is for staff only.
    assert!(!s.exists("#as_of").await);

    // 个人 + 出生: the two selects, then the filter button.
    s.find("#audience option[value='person']").await.click().await.unwrap();
    s.find("#life_event option[value='出生']").await.click().await.unwrap();
    s.click("form[action='/items'] button[type=submit]").await;
    let path = s.wait_loaded().await;
    assert!(path.starts_with("/items?") && path.contains("audience=person"), "{path}");
    assert!(path.contains("life_event=%E5%87%BA%E7%94%9F"), "{path}");
    // The choices stay selected, and the count follows the filter.
    assert_eq!(s.value("#audience").await, "person");
    assert_eq!(s.value("#life_event").await, "出生");
    let filtered = result_count(s).await;
    assert!(filtered > 0 && filtered < everything, "filtered {filtered} of {everything}");
    assert!(s.text("#result-count").await.starts_with("共找到事项"));
    let links = s.find_all("main ul.list li h2 a").await;
    assert_eq!(links.len() as u64, filtered.min(20), "one card per item found");

    // Every listed item has a guide page.
    let mut hrefs = Vec::new();
    for a in &links {
        let href = a.attr("href").await.unwrap().unwrap();
        assert!(href.starts_with("/items/JN-"), "{href}");
        hrefs.push(href);
    }
    for href in &hrefs {
        let resp = s.app.client.get(s.url(href)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{href}");
        let page = resp.text().await.unwrap();
        assert!(page.contains("办事指南 · JN-") && page.contains("申请材料"), "{href} is a guide page");
    }
    // Open the first one the way a resident does.
    let first_name = links[0].text().await.unwrap();
    s.click("main ul.list li:first-child h2 a").await;
    s.wait_for_path(&hrefs[0]).await;
    assert_eq!(s.text("main h1").await, first_name);
    assert!(s.text("main section.panel > p.muted").await.starts_with("办事指南 · JN-"));
    assert_eq!(s.fact("服务对象").await, "个人");

    // An item with materials taken from e-licences instead of the applicant.
    s.goto("/items/JN-SPJ-0001").await;
    assert_eq!(s.text("main h1").await, "企业设立登记（有限责任公司）");
    let headings = s.texts("main h2").await;
    assert!(headings.iter().any(|h| h == "申请材料"), "{headings:?}");
    assert!(!s.exists("#item-history").await, "no change log for the public");
    let rows = s.find_all("main table tbody tr").await;
    assert_eq!(rows.len(), 5, "the five materials");
    let mut exempt = Vec::new();
    for row in &rows {
        let text = row.text().await.unwrap();
        if let Ok(tag) = row.find(By::Css("td:nth-child(2) .tag.ok")).await {
            assert!(tag.text().await.unwrap().starts_with("免提交"), "{text}");
            exempt.push(text);
        }
    }
    assert_eq!(exempt.len(), 2, "ID card and property certificate are 免提交: {exempt:?}");
    assert!(exempt.iter().any(|t| t.contains("股东、法定代表人居民身份证") && t.contains("电子证照")));
    let table = s.text("main table").await;
    assert!(table.contains("申请人提供"), "the others are the applicant's: {table}");
    // The guide's sections as the national platform has them: the flow, original or copy, the
    // result and its delivery, where and when, and the telephones.
    let flow = s.texts("#process-flow li").await;
    assert!(flow.len() >= 4 && flow.last().unwrap().contains("事后核查"), "{flow:?}");
    assert!(table.contains("原件 1 份") && table.contains("免提交（调取电子证照）"), "{table}");
    assert!(
        s.text("#guide-result + dl").await.contains("营业执照"),
        "{}",
        s.text("#guide-result + dl").await
    );
    let halls = s.find_all("#guide-halls li").await;
    assert!(!halls.is_empty());
    for hall in &halls {
        let book = hall.find(By::Css("a.button")).await.unwrap().attr("href").await.unwrap().unwrap();
        assert!(book.ends_with("?item=JN-SPJ-0001"), "预约到厅 for this item: {book}");
        assert!(hall.text().await.unwrap().contains("办理时间"));
    }
    assert!(s.text("#guide-phones + dl").await.contains("12345"));
    shoot_both(s, "item-guide").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_questionnaire_by_plain_form() {
    run("bundle", |s| Box::pin(bundle(s))).await;
}

/// Items listed under 您需要办理, and the material names (without their tags).
async fn needs(s: &Session) -> (Vec<String>, Vec<String>) {
    assert_eq!(s.text("#needs-title").await, "您需要办理");
    let items = s.texts("#needs ol li > a:first-of-type").await;
    let materials = s
        .script(
            "return Array.from(document.querySelectorAll('#needs table tbody tr td:first-child'))\
             .map(td => td.firstChild.textContent.trim())",
        )
        .await;
    let materials = materials.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    (items, materials)
}

async fn bundle(s: &Session) {
    s.goto("/bundles").await;
    s.click("a[href='/bundles/JN-YJS-001']").await;
    s.wait_for_path("/bundles/JN-YJS-001").await;
    assert_eq!(s.text("main h1").await, "企业开办一件事");
    assert!(!s.exists("#needs").await, "nothing resolved before the form is sent");
    assert_eq!(s.text("label[for='q-q2']").await, "开办后是否马上招用员工？");

    // Without ticks: the base items.
    s.click("#main form button[type=submit]").await;
    s.wait_for_path("/bundles/JN-YJS-001?answered=1").await;
    let (base_items, base_materials) = needs(s).await;
    assert_eq!(base_items.len(), 7, "{base_items:?}");
    assert!(!base_materials.is_empty());

    // Hiring staff straight away adds the employment items.
    s.click("#q-q2").await;
    assert!(s.find("#q-q2").await.is_selected().await.unwrap());
    s.click("#main form button[type=submit]").await;
    s.wait_for_path("/bundles/JN-YJS-001?answered=1&q=q2").await;
    assert!(s.find("#q-q2").await.is_selected().await.unwrap(), "the answer is kept");
    assert!(!s.find("#q-q1").await.is_selected().await.unwrap());
    let (items, materials) = needs(s).await;
    assert!(items.len() > base_items.len(), "{items:?} vs {base_items:?}");
    assert!(s.exists("#needs ol a[href='/items/JN-RSJ-0003']").await);
    assert!(s.exists("#needs ol a[href='/items/JN-RSJ-0004']").await);
    for b in &base_items {
        assert!(items.contains(b), "{b} still needed");
    }
    let added = s.find_all("#needs ol li .tag.added").await.len();
    assert_eq!(added, items.len() - base_items.len(), "the added items are tagged");
    // Each material is asked for once, however many items need it.
    for list in [&base_materials, &materials] {
        let mut unique = list.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), list.len(), "duplicate materials: {list:?}");
    }
    assert!(materials.len() >= base_materials.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_adjustment_proposed_and_approved() {
    run("catalog", |s| Box::pin(catalog_adjustment(s))).await;
}

/// JN-SPJ's current items as a CSV file, after `edit`.
async fn spj_csv(s: &Session, edit: impl FnOnce(&mut [quanban::reference::data::CatalogItem])) -> Vec<u8> {
    use quanban::catalog::transfer::{Format, export};
    let mut items: Vec<_> = quanban::catalog::store::all_current(&s.app.state.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|x| x.item.department == "JN-SPJ" && x.status != "removed")
        .map(|x| x.item)
        .collect();
    assert!(items.len() > 3, "JN-SPJ has items");
    edit(&mut items);
    export(Format::Csv, &items).unwrap()
}

async fn upload(s: &Session, file: &Path, reason: &str) {
    s.find("#file").await.send_keys(file.display().to_string()).await.unwrap();
    s.type_into("#reason", reason).await;
    s.click("form[action='/catalog/admin/import'] button[type=submit]").await;
    s.wait_for_path("/catalog/admin/import").await;
}

async fn catalog_adjustment(s: &Session) {
    const NEW_FEE: &str = "工本费10元（浏览器测试）";
    const REASON: &str = "调整收费标准（浏览器测试）";
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("spj-fee.csv");
    std::fs::write(
        &good,
        spj_csv(s, |items| {
            let x = items.iter_mut().find(|i| i.code == "JN-SPJ-0001").unwrap();
            assert_ne!(x.fee, NEW_FEE);
            x.fee = NEW_FEE.into();
        })
        .await,
    )
    .unwrap();
    let mut bad_row = 0;
    let bad = dir.path().join("spj-bad-level.csv");
    std::fs::write(
        &bad,
        spj_csv(s, |items| {
            bad_row = 2 + 2; // the header is row 1, the third item row 4
            items[2].level = "省级".into();
        })
        .await,
    )
    .unwrap();
    let today = s.app.clock().today().to_string();

    let officer = s.app.demo("spj.catalog").await;
    s.log_in(&officer.username, &officer.password).await;
    // Staff see the catalog as of a date and each item's change log.
    s.goto("/items/JN-SPJ-0001").await;
    assert!(s.exists("#item-history").await);
    s.goto("/items").await;
    assert!(s.exists("#as_of").await);
    s.goto("/catalog/admin").await;
    assert_eq!(s.text("main h1").await, "事项管理（动态调整）");
    assert_eq!(s.value("#effective_date").await, today, "the date starts at today");
    for id in ["file", "reason", "effective_date"] {
        assert!(!s.text(&format!("label[for='{id}']")).await.trim().is_empty(), "label for {id}");
    }
    upload(s, &good, REASON).await;
    let notice = s.text(".notice[role=status]").await;
    assert!(notice.starts_with("已生成调整申请"), "{notice}");
    assert!(notice.contains("1项变更"), "one item changed: {notice}");
    let card = s.card(REASON).await;
    let card_text = card.text().await.unwrap();
    assert_eq!(card.find(By::Css(".proposal-status")).await.unwrap().text().await.unwrap(), "待审核");
    assert!(card_text.contains("变更 JN-SPJ-0001"), "{card_text}");
    assert!(card_text.contains(&today), "{card_text}");
    // The officer cannot decide their own proposal.
    assert!(card.find_all(By::Css("button[value=approve]")).await.unwrap().is_empty());

    // A file with a level nobody uses: refused, with the row and the column.
    upload(s, &bad, "层级写错的文件").await;
    assert!(!s.exists(".notice[role=status]").await, "no proposal for a broken file");
    let problems = s.find("#import-problems").await;
    assert_eq!(problems.attr("role").await.unwrap().as_deref(), Some("alert"));
    let mut found = false;
    for row in problems.find_all(By::Css("tbody tr")).await.unwrap() {
        let cells = row.find_all(By::Css("td")).await.unwrap();
        let row_no = cells[0].text().await.unwrap();
        let column = cells[1].text().await.unwrap();
        if row_no == bad_row.to_string() && column == "层级" {
            found = true;
            assert!(!cells[2].text().await.unwrap().is_empty(), "a reason is given");
        }
    }
    assert!(found, "row {bad_row}, 层级 listed: {}", problems.text().await.unwrap());
    assert_eq!(s.find_all("main ul.list > li.card").await.len(), 1, "still one proposal");
    shoot_both(s, "catalog-admin-problems").await;
    s.log_out().await;

    // The approver approves it.
    let approver = s.app.demo("spj.approver").await;
    s.log_in(&approver.username, &approver.password).await;
    s.goto("/catalog/admin").await;
    assert!(!s.exists("#file").await, "an approver does not upload");
    let card = s.card(REASON).await;
    let note = card.find(By::Css("input[name=note]")).await.unwrap();
    let note_id = note.attr("id").await.unwrap().unwrap();
    assert!(s.exists(&format!("label[for='{note_id}']")).await, "the note has a label");
    note.send_keys("收费依据已核实").await.unwrap();
    s.mark_page().await;
    card.find(By::Css("button[value=approve]")).await.unwrap().click().await.unwrap();
    let path = s.wait_loaded().await;
    assert!(path.starts_with("/catalog/admin/proposals/"), "{path}");
    let notice = s.text(".notice[role=status]").await;
    assert!(notice.starts_with("已批准"), "{notice}");
    // Approved for today: applied at once.
    let status = s.card(REASON).await.find(By::Css(".proposal-status")).await.unwrap().text().await.unwrap();
    assert_eq!(status, "已生效");
    shoot_both(s, "catalog-admin-approved").await;

    // Effective today: the guide shows the new fee at once.
    s.goto("/items/JN-SPJ-0001").await;
    assert_eq!(s.fact("收费").await, NEW_FEE);
    assert!(s.body_text().await.contains(&format!("生效 {today}")) || s.body_text().await.contains(&today));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guide_search_and_human_hand_off() {
    run("guide", |s| Box::pin(guide(s))).await;
}

async fn guide(s: &Session) {
    const QUESTION: &str = "小饭馆门口能不能摆两张桌子？";
    const ANSWER: &str = "门前外摆需先向城市管理局申请，请勿占用盲道。";
    s.goto("/guide").await;
    // The index is built in the background; the first search may come before it.
    let started = Instant::now();
    loop {
        s.type_into("#q", "开个小饭馆要办什么").await;
        s.click("form[action='/guide'] button[type=submit]").await;
        let path = s.wait_loaded().await;
        assert!(path.starts_with("/guide?q="), "{path}");
        if s.exists("#guide-results").await || started.elapsed() > WAIT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(s.value("#q").await, "开个小饭馆要办什么", "the question stays in the box");
    let first = s.find("#guide-results > li:first-child").await;
    assert_eq!(first.find(By::Css("h3 a")).await.unwrap().text().await.unwrap(), "开餐馆一件事");
    assert_eq!(
        first.find(By::Css("h3 a")).await.unwrap().attr("href").await.unwrap().as_deref(),
        Some("/bundles/JN-YJS-002")
    );
    let reason = first.find(By::Css("p.muted")).await.unwrap().text().await.unwrap();
    let why = reason.split(" · ").next().unwrap_or_default();
    assert!(!why.trim().is_empty() && reason.contains('%'), "a reason and a match: {reason}");

    // A follow-up question, when the guide asks one, refines the search.
    let options = s.find_all("section[aria-labelledby='follow-up'] .choices a").await;
    if let Some(option) = options.first() {
        let href = option.attr("href").await.unwrap().unwrap();
        assert!(href.starts_with("/guide?q="), "{href}");
        s.mark_page().await;
        option.click().await.unwrap();
        let path = s.wait_loaded().await;
        assert!(path.starts_with("/guide?q="), "{path}");
        assert!(s.exists("#guide-results > li").await, "results after the follow-up");
    }

    // A complaint asked as a question leads to 12345, with the way to report it.
    s.goto("/guide?q=%E5%8D%8A%E5%A4%9C%E5%B7%A5%E5%9C%B0%E8%BF%98%E5%9C%A8%E6%96%BD%E5%B7%A5%E5%90%B5%E5%BE%97%E7%9D%A1%E4%B8%8D%E7%9D%80").await;
    assert!(s.text("#guide-route").await.contains("12345"));
    assert_eq!(s.attr("#route-action", "href").await.as_deref(), Some("/complaints"));
    shoot_both(s, "guide-complaint").await;
    s.goto("/guide").await;

    // Ask a person.
    assert_eq!(s.text("#handoff button[type=submit]").await, "转人工");
    s.type_into("#query", QUESTION).await;
    s.type_into("#note", "店在经十路").await;
    s.click("#handoff button[type=submit]").await;
    let handoff = s.wait_loaded().await;
    assert!(handoff.starts_with("/guide/handoffs/"), "{handoff}");
    assert_eq!(s.fact("您的问题").await, QUESTION);
    assert_eq!(s.text("#handoff-status").await, "待答复");
    assert!(!s.exists("#handoff-answer").await);
    let cookie = s.cookie("qb_handoff").await.expect("the asker's hand-off cookie");
    assert_eq!(cookie.path.as_deref(), Some("/guide"));
    assert_eq!(cookie.http_only, Some(true));
    // The guide page lists it under the asker's questions.
    s.goto("/guide").await;
    assert!(s.text("section[aria-labelledby='mine-title']").await.contains(QUESTION));

    // A guidance officer answers it from the inbox (same browser: the asker's cookie stays).
    let officer = s.app.demo("spj.guide").await;
    s.log_in(&officer.username, &officer.password).await;
    s.goto("/guide/inbox").await;
    let card = s.card(QUESTION).await;
    assert!(card.text().await.unwrap().contains("待答复"));
    let field = card.find(By::Css("input[name=answer]")).await.unwrap();
    let field_id = field.attr("id").await.unwrap().unwrap();
    assert!(s.exists(&format!("label[for='{field_id}']")).await, "the answer field has a label");
    field.send_keys(ANSWER).await.unwrap();
    // The officer names the item that answers it, picked from the catalogue list by name.
    card.find(By::Css("input[name=items]"))
        .await
        .unwrap()
        .send_keys("JN-CGJ-0001 户外广告及门头招牌设置审批")
        .await
        .unwrap();
    shoot_both(s, "guide-inbox").await;
    s.mark_page().await;
    card.find(By::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    let path = s.wait_loaded().await;
    assert!(path.starts_with("/guide/inbox/"), "{path}");
    assert_eq!(s.text(".notice[role=status]").await, "已答复。");
    let card = s.card(QUESTION).await;
    assert!(card.text().await.unwrap().contains(ANSWER));
    assert!(card.text().await.unwrap().contains("户外广告及门头招牌设置审批"), "the item the guide learnt");
    assert!(card.find_all(By::Css("form")).await.unwrap().is_empty(), "no second answer");
    s.log_out().await;

    // Back as the anonymous asker.
    s.goto(&handoff).await;
    assert_eq!(s.text("#handoff-status").await, "已答复");
    assert_eq!(s.text("#handoff-answer").await, ANSWER);
    // Without the cookie, nobody else reads it.
    s.driver.delete_all_cookies().await.unwrap();
    s.goto(&handoff).await;
    assert!(!s.exists("#handoff-answer").await, "the answer is private to the asker");
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
    if scroll_width > u64::from(width) {
        // Say which elements stick out, so that the fix is not a hunt.
        let wide = s
            .script(&format!(
                "return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > {width} + 1).slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
            ))
            .await;
        panic!("{name} overflows at {width}px: scrollWidth {scroll_width}; sticking out: {wide}");
    }
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

/// [`shoot`] at 1280 and 375 px, back to 1280 afterwards.
async fn shoot_both(s: &Session, name: &str) {
    for (width, height) in [(375, 812), (1280, 900)] {
        s.set_width(width, height).await;
        shoot(s, name, width, height).await;
    }
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

        // Where an error answer's `type` leads.
        s.goto("/problems/validation_failed").await;
        assert_eq!(s.text("main h1").await, "validation_failed");
        assert!(s.text("#meaning").await.contains("errors"));
        shoot(s, "problem-type", width, height).await;

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

        s.goto("/items").await;
        assert!(s.exists("main ul.list li").await);
        shoot(s, "items", width, height).await;
        s.goto("/items/JN-SPJ-0001").await;
        assert!(s.exists("main table tbody tr").await);
        shoot(s, "item", width, height).await;
        s.goto("/bundles").await;
        assert!(s.exists("a[href='/bundles/JN-YJS-002']").await);
        shoot(s, "bundles", width, height).await;
        s.goto("/bundles/JN-YJS-002?answered=1&q=q1").await;
        assert!(s.exists("#needs table tbody tr").await);
        shoot(s, "bundle", width, height).await;
        s.goto("/guide?q=开个小饭馆要办什么").await;
        shoot(s, "guide", width, height).await;

        let officer = s.app.demo("spj.catalog").await;
        s.log_in(&officer.username, &officer.password).await;
        s.goto("/catalog/admin").await;
        assert!(s.exists("#file").await);
        shoot(s, "catalog-admin", width, height).await;
        s.log_out().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Cases: apply one topic per screen, then the window, the approver, the applicant's inbox
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_accept_approve_and_read_the_decision() {
    run("case_journey", |s| Box::pin(case_journey(s))).await;
}

async fn case_journey(s: &Session) {
    let citizen = s.app.demo("13800138001").await;
    let clerk = s.app.demo("spj.clerk").await;
    let approver = s.app.demo("spj.approver").await;
    let supervisor = s.app.demo("dsj.supervisor").await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("申请书.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n% browser journey\n").unwrap();
    let exe = dir.path().join("virus.pdf");
    std::fs::write(&exe, b"MZ\x90\x00 not a pdf").unwrap();

    // Not signed in yet: the apply button leads to the login page, which comes back to the item.
    s.goto("/items/JN-SPJ-0003").await;
    assert_eq!(s.text("#apply-online").await, "登录后即可在线申请");
    s.click("#apply-online").await;
    s.wait_for_path("/login?next=%2Fitems%2FJN-SPJ-0003").await;
    s.type_into("#username", &citizen.username).await;
    s.type_into("#password", &citizen.password).await;
    s.click("form[action='/login'] button[type=submit]").await;
    s.wait_for_path("/items/JN-SPJ-0003").await;

    // Step 1: contact details, with a wrong phone number first.
    s.click("#apply-online").await;
    let contact = s.wait_loaded().await;
    assert!(contact.starts_with("/drafts/") && contact.ends_with("/contact"), "{contact}");
    assert_eq!(s.text("#step-indicator").await, "第 1 / 3");
    assert_eq!(s.value("[name=contact_name]").await, "张伟", "prefilled from the account");
    s.type_into("[name=contact_phone]", "12345").await;
    s.click("#next").await;
    s.wait_for_path(&contact).await;
    assert!(s.text("#form-errors").await.contains("手机"), "the phone error is named");
    shoot_both(s, "apply-errors").await;
    s.type_into("[name=contact_phone]", "13800138001").await;
    s.click("#next").await;
    let materials = contact.replace("/contact", "/materials");
    s.wait_for_path(&materials).await;

    // Step 2: a forbidden file is refused naming the material; then a real PDF and the commitment.
    s.find("#file_0").await.send_keys(exe.display().to_string()).await.unwrap();
    s.click("#next").await;
    s.wait_for_path(&materials).await;
    assert!(s.text("#form-errors").await.contains("只接受"), "{}", s.text("#form-errors").await);
    s.find("#file_0").await.send_keys(pdf.display().to_string()).await.unwrap();
    if !s.find("#commitment").await.is_selected().await.unwrap() {
        s.find("#commitment").await.click().await.unwrap();
    }
    shoot_both(s, "apply-materials").await;
    s.click("#next").await;
    let check = contact.replace("/contact", "/check");
    s.wait_for_path(&check).await;
    let answers = s.text("#check-answers").await;
    assert!(answers.contains("13800138001") && answers.contains("张伟"), "{answers}");
    assert!(s.body_text().await.contains("申请书.pdf"));
    shoot_both(s, "apply-check").await;

    // Leave and come back: the draft is listed under My cases.
    s.goto("/my/cases").await;
    assert!(s.body_text().await.contains("未提交的草稿"));
    s.goto(&check).await;
    s.click("#submit-application").await;
    let confirmation = s.wait_loaded().await;
    assert!(
        confirmation.starts_with("/cases/JN") && confirmation.ends_with("?submitted=1"),
        "{confirmation}"
    );
    let number = s.text("#case-number").await;
    assert!(s.text("#confirmation").await.contains(&number));
    assert_eq!(s.text("#case-state").await, "已提交，待受理");
    shoot_both(s, "case-submitted").await;
    s.log_out().await;

    // The window clerk finds it on the workbench and accepts it.
    s.log_in(&clerk.username, &clerk.password).await;
    s.goto("/workbench").await;
    assert!(s.text("#case-table").await.contains(&number));
    shoot_both(s, "workbench").await;
    s.goto(&format!("/cases/{number}")).await;
    s.click("#do-accept").await;
    s.wait_for_path(&format!("/cases/{number}?done=accept")).await;
    assert_eq!(s.text("#case-state").await, "已受理");
    assert!(s.text("#case-due").await.contains("正常"), "green light: {}", s.text("#case-due").await);
    s.log_out().await;

    // The approver decides (commitment: straight from acceptance) and the decision is written.
    s.log_in(&approver.username, &approver.password).await;
    s.goto(&format!("/cases/{number}")).await;
    s.type_into("#opinion-approve", "材料齐全，符合法定条件，同意许可。").await;
    s.click("#do-approve").await;
    s.wait_for_path(&format!("/cases/{number}/preview")).await;
    assert!(s.text("#preview-document").await.contains("准予行政许可决定书"));
    s.click("#confirm-decision").await;
    s.wait_for_path(&format!("/cases/{number}?done=approve")).await;
    assert_eq!(s.text("#case-state").await, "已准予许可");
    shoot_both(s, "case-staff").await;
    s.click("#decision-link").await;
    s.wait_for_path(&format!("/cases/{number}/decision")).await;
    assert!(s.text("#decision-document").await.contains("准予行政许可决定书"));
    assert!(s.text("#decision-document").await.contains("济政务许〔"), "numbered in the usual form");
    assert!(s.exists("img#decision-seal").await, "the decision carries the seal image");
    assert!(s.text("#seal-check").await.contains("印章核验通过"), "{}", s.text("#seal-check").await);
    shoot_both(s, "decision").await;
    s.log_out().await;

    // The applicant sees the news in the inbox and the timeline.
    s.log_in(&citizen.username, &citizen.password).await;
    s.goto("/inbox").await;
    assert!(s.body_text().await.contains("已准予许可"));
    shoot_both(s, "inbox").await;
    s.goto(&format!("/cases/{number}")).await;
    let timeline = s.texts("#timeline li").await;
    assert_eq!(timeline.len(), 3, "{timeline:?}");
    assert!(timeline[1].contains("王晓雯"), "who accepted: {timeline:?}");
    s.log_out().await;

    // The supervisor sees the lights.
    s.log_in(&supervisor.username, &supervisor.password).await;
    s.goto("/supervision").await;
    assert!(s.exists("#by-department").await);
    // The period's trend: today's decision is counted, drawn by the chart library the
    // platform serves, and exportable.
    let decided: i64 = s.text("#sum-decided").await.parse().unwrap();
    assert!(decided >= 1, "the decision made today is in the trend");
    assert!(s.exists("#trend-chart canvas").await, "uPlot drew the chart");
    let export = s.attr("#trend-export", "href").await.unwrap();
    assert!(export.starts_with("/supervision/trend.csv?from="), "{export}");
    shoot_both(s, "supervision").await;
    // A period ending before it starts is refused naming the field; the page keeps the input.
    s.goto("/supervision?from=2026-12-31&to=2026-01-01").await;
    assert!(s.text("#form-errors").await.contains("开始日期不能晚于结束日期"));
    assert_eq!(s.value("#from").await, "2026-12-31");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_application_through_the_questionnaire() {
    run("bundle_application", |s| Box::pin(bundle_application(s))).await;
}

async fn bundle_application(s: &Session) {
    let rep = s.app.demo("13800138002").await;
    s.log_in(&rep.username, &rep.password).await;
    // 开便利店一件事 asks three questions; a "yes" changes which items are applied for.
    s.goto("/bundles/JN-YJS-003").await;
    let boxes = s.find_all("fieldset input[type=checkbox]").await;
    assert!(!boxes.is_empty(), "the bundle asks questions");
    boxes[0].click().await.unwrap();
    s.click("form[action='/bundles/JN-YJS-003'] button[type=submit]").await;
    s.wait_loaded().await;
    s.click("#apply-bundle").await;
    let contact = s.wait_loaded().await;
    assert!(contact.ends_with("/contact"), "{contact}");
    // An enterprise is offered as the applicant.
    assert!(s.text("#enterprise").await.contains("济南泉城小馆餐饮有限公司"));
    // The shop is opened by the enterprise (a changed answer below adds a part only an
    // enterprise applies for).
    s.script("const e = document.getElementById('enterprise'); e.value = e.options[e.options.length - 1].value; return null").await;
    s.type_into("[name=contact_phone]", "13800138002").await;
    s.click("#next").await;
    s.wait_for_path(&contact.replace("/contact", "/materials")).await;
    s.click("#next").await;
    s.wait_for_path(&contact.replace("/contact", "/check")).await;
    let answers = s.text("#check-answers").await;
    assert!(answers.contains('？') || answers.contains('?'), "questions shown as text, not ids: {answers}");
    shoot_both(s, "bundle-check").await;
    // Each answer has a 修改 link back to the questionnaire; a changed answer is kept, and the
    // materials step is shown again because the parts follow the answers.
    let before = s.texts("#check-answers dd").await;
    s.click("#check-answers a.change-answer").await;
    s.wait_for_path(&contact.replace("/contact", "/answers")).await;
    let first = s.find("fieldset input[type=checkbox]").await;
    assert!(first.is_selected().await.unwrap(), "the answer given is shown");
    first.click().await.unwrap();
    s.click("#next").await;
    s.wait_for_path(&contact.replace("/contact", "/materials")).await;
    s.click("#next").await;
    s.wait_for_path(&contact.replace("/contact", "/check")).await;
    let after = s.texts("#check-answers dd").await;
    assert_ne!(before, after, "the changed answer shows on the check page");
    s.click("#submit-application").await;
    let page = s.wait_loaded().await;
    assert!(page.ends_with("?submitted=1"), "{page}: {}", s.body_text().await);
    let parts = s.find_all("#case-table tbody tr").await;
    assert!(parts.len() >= 3, "one sub-case per item: {}", parts.len());
    shoot_both(s, "bundle-case").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restaurant_bundle_submits_with_its_hall_part() {
    run("restaurant_bundle", |s| Box::pin(restaurant_bundle(s))).await;
}

/// 开餐馆一件事 has one part that cannot be applied for online (从业人员健康体检). It used to be
/// refused at 确认提交; now the page says so from the start and the bundle goes through whole.
async fn restaurant_bundle(s: &Session) {
    let rep = s.app.demo("13800138002").await;
    s.log_in(&rep.username, &rep.password).await;
    s.goto("/bundles/JN-YJS-002").await;
    // Who applies comes first: herself or her enterprise; she opens the restaurant as the
    // enterprise, so its licences go there.
    let holders = s.texts("#holder-choice label").await;
    assert_eq!(holders, ["本人（刘芳）", "济南泉城小馆餐饮有限公司"]);
    s.click("#as-2").await;
    s.click("form[action='/bundles/JN-YJS-002'] button[type=submit]").await;
    s.wait_loaded().await;
    assert!(s.text("#applying-as").await.contains("济南泉城小馆餐饮有限公司"));
    // Which parts are online is said on the bundle page already.
    assert!(s.exists("#in-person-note").await);
    let items = s.texts("#bundle-items li").await;
    let health = items.iter().find(|i| i.contains("从业人员健康体检")).expect("the health check is listed");
    assert!(health.contains("需到厅办理") && health.contains("预约到厅"), "{health}");
    assert_eq!(items.iter().filter(|i| i.contains("网上办理")).count(), items.len() - 1, "{items:?}");
    shoot_both(s, "bundle-restaurant").await;
    s.click("#apply-bundle").await;
    let contact = s.wait_loaded().await;
    assert!(contact.ends_with("/contact"), "{contact}");
    assert!(
        s.text("#enterprise option:checked").await.contains("济南泉城小馆餐饮有限公司"),
        "the choice is kept"
    );
    s.type_into("[name=contact_phone]", "13800138002").await;
    s.click("#next").await;
    s.wait_for_path(&contact.replace("/contact", "/materials")).await;
    // What is handed in at the hall has no upload box.
    assert!(s.text("#in-person-materials").await.contains("申请人居民身份证"));
    let labels = s.texts("form .material-line > label").await;
    assert!(!labels.iter().any(|l| l == "申请人居民身份证"), "{labels:?}");
    // What is asked of her is counted before the check page; the materials are grouped by part.
    let to_upload: usize = s.text("#to-upload").await.parse().unwrap();
    assert!(to_upload > 0);
    assert!(s.find_all(".part-title").await.len() >= 2, "grouped by part");
    // One tick for her ID card covers every material it stands in for.
    let consents = s.texts("#wallet-consents label").await;
    let id_card = consents.iter().position(|l| l.contains("居民身份证")).expect("the ID card is offered");
    assert_eq!(consents.iter().filter(|l| l.contains("居民身份证")).count(), 1, "{consents:?}");
    let used_for = s.text(&format!("#used-for-{}", id_card + 1)).await;
    let lines = used_for.matches("居民身份证").count();
    assert!(lines >= 2, "{used_for}");
    let tick = s.find(&format!("#use-credential-{}", id_card + 1)).await;
    if !tick.is_selected().await.unwrap() {
        tick.click().await.unwrap();
    }
    shoot_both(s, "bundle-restaurant-materials").await;
    s.click("#next").await;
    s.wait_for_path(&contact.replace("/contact", "/check")).await;
    assert_eq!(s.body_text().await.matches("从卡包调取电子证照（已同意）").count(), lines);
    assert!(s.text("#check-applicant").await.contains("济南泉城小馆餐饮有限公司"));
    let hall = s.text("#in-person-parts").await;
    assert!(hall.contains("从业人员健康体检"), "{hall}");
    assert_eq!(s.attr("#in-person-parts a", "href").await.as_deref(), Some("/halls?item=JN-WJW-0001"));
    shoot_both(s, "bundle-restaurant-check").await;
    s.click("#submit-application").await;
    let page = s.wait_loaded().await;
    assert!(page.ends_with("?submitted=1"), "submitted, not refused: {page}");
    let waiting: Vec<String> =
        s.texts("#case-table tbody tr").await.into_iter().filter(|r| r.contains("待到厅办理")).collect();
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert!(waiting[0].contains("从业人员健康体检"));
    shoot_both(s, "bundle-restaurant-case").await;
    // The part's own page sends the applicant to book a visit, for this item.
    let rows = s.find_all("#case-table tbody tr").await;
    for row in rows {
        if row.text().await.unwrap().contains("待到厅办理") {
            row.find(By::Css("a")).await.unwrap().click().await.unwrap();
            break;
        }
    }
    s.wait_loaded().await;
    assert!(s.text("#in-person").await.contains("大厅"));
    s.click("#book-visit").await;
    let halls = s.wait_loaded().await;
    assert!(halls.contains("/halls?item=JN-WJW-0001"), "{halls}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supplement_names_the_materials_and_irreversible_steps_ask_first() {
    run("supplement", |s| Box::pin(supplement_journey(s))).await;
}

/// The reviewer ticks the materials wanted; the applicant sees them at the top of the case with
/// the paused clock and uploads only those; withdrawing asks for confirmation first (refused
/// by the server too when the box is not ticked).
async fn supplement_journey(s: &Session) {
    let rep = s.app.demo_token("13800138002").await;
    let (_, me) = s.app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let (status, b) = s
        .app
        .post_json(
            "/api/v1/cases",
            Some(&rep),
            json!({"item_code": "JN-SPJ-0006", "enterprise": code, "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}}),
        )
        .await;
    assert_eq!(status, 201, "{b}");
    let number = b["case_number"].as_str().unwrap().to_string();
    for (who, action) in [("spj.clerk", "accept"), ("spj.reviewer", "start_review")] {
        let token = s.app.demo_token(who).await;
        let (status, b) = s
            .app
            .post_json(&format!("/api/v1/cases/{number}/actions/{action}"), Some(&token), json!({}))
            .await;
        assert_eq!(status, 200, "{action}: {b}");
    }
    let reviewer = s.app.demo("spj.reviewer").await;
    s.log_in(&reviewer.username, &reviewer.password).await;
    s.goto(&format!("/cases/{number}")).await;
    let wanted = s.find_all("#wanted-request_supplement input[type=checkbox]").await;
    assert!(wanted.len() >= 2, "one box per material");
    wanted[1].click().await.unwrap();
    let name = s.text("label[for='wanted-1']").await;
    let name = name.split('（').next().unwrap().to_string();
    s.type_into("#reason-request_supplement", "平面布局图不清晰，请重新上传").await;
    s.click("#do-request_supplement").await;
    s.wait_for_path(&format!("/cases/{number}?done=request_supplement")).await;
    s.log_out().await;

    let person = s.app.demo("13800138002").await;
    s.log_in(&person.username, &person.password).await;
    s.goto(&format!("/cases/{number}")).await;
    let notice = s.text("#supplement").await;
    assert!(notice.contains(&name) && notice.contains("平面布局图不清晰"), "{notice}");
    assert!(s.text("#supplement-paused").await.contains("暂停"));
    // Only the material wanted has an upload box.
    assert_eq!(s.find_all("form:has(#do-resubmit) input[type=file]").await.len(), 1);
    shoot_both(s, "case-supplement").await;
    // Withdrawing cannot be undone: without the tick the server refuses it, naming the box.
    s.script("document.getElementById('confirm-withdraw').removeAttribute('required'); return null").await;
    s.click("#do-withdraw").await;
    s.wait_loaded().await;
    assert!(s.text("#form-errors").await.contains("不能撤销"), "{}", s.text("#form-errors").await);
    assert_eq!(s.text("#case-state").await, "待补正材料", "nothing changed");
    s.find("#confirm-withdraw").await.click().await.unwrap();
    s.type_into("#reason-withdraw", "暂不开办").await;
    s.click("#do-withdraw").await;
    s.wait_for_path(&format!("/cases/{number}?done=withdraw")).await;
    assert_eq!(s.text("#case-state").await, "已撤回");
}

/// The demo citizen's application for 食品经营许可（新办） through the API, with its first
/// material uploaded: its case number.
async fn food_licence_by_api(s: &Session, token: &str) -> String {
    let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4\n");
    let (status, b) = s
        .app
        .post_json(
            "/api/v1/cases",
            Some(token),
            json!({"item_code": "JN-SPJ-0003", "form": {"contact_name": "张伟", "contact_phone": "13800138001", "address": "济南市历下区泉城路1号"},
                   "materials": [{"index": 0, "file_name": "申请书.pdf", "content_base64": pdf}]}),
        )
        .await;
    assert_eq!(status, 201, "{b}");
    b["case_number"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn life_stages_lead_to_their_bundles_and_services() {
    run("life_stages", |s| Box::pin(life_stages(s))).await;
}

/// 双全双百: from the home page, a stage of a person's life leads to its one-thing bundle and
/// its services; an enterprise's stages likewise.
async fn life_stages(s: &Session) {
    s.goto("/").await;
    let person: Vec<String> = s.texts("#life-stages ol:first-of-type li").await;
    assert_eq!(person.len(), 7, "{person:?}");
    assert!(person[0].contains("出生") && person[6].contains("身后"), "{person:?}");
    s.click("#life-stages a[href='/life-events#stage-family']").await;
    s.wait_loaded().await;
    let family = s.text("#stage-family").await;
    assert!(family.contains("婚育一件事") && family.contains("内地居民结婚登记"), "{family}");
    shoot_both(s, "life-events").await;
    let start = s.text("#stage-start").await;
    assert!(start.contains("开餐馆一件事") && start.contains("企业开办一件事"), "{start}");
    assert!(!s.text("#stage-closing").await.is_empty());
    s.click("#stage-family a[href='/bundles/JN-YJS-013']").await;
    s.wait_for_path("/bundles/JN-YJS-013").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_checklist_then_decision_preview_then_printable_licence() {
    run("checklist_preview", |s| Box::pin(checklist_preview_journey(s))).await;
}

/// The window checks each material and tells the applicant, once, what to supply (the clock has
/// not started); the applicant uploads it and the window accepts; the approver writes an opinion,
/// reads the decision and the licence before confirming; the applicant finds how to collect the
/// result, the licence number and a printable copy.
async fn checklist_preview_journey(s: &Session) {
    let citizen = s.app.demo_token("13800138001").await;
    let number = food_licence_by_api(s, &citizen).await;

    let clerk = s.app.demo("spj.clerk").await;
    s.log_in(&clerk.username, &clerk.password).await;
    s.goto(&format!("/cases/{number}")).await;
    assert!(s.exists("#review-checklist").await, "the acceptance check lists the materials");
    assert!(s.text("#acceptance-due").await.contains("前受理"), "the window's own deadline is shown");
    let first = s.text("#review-0 td").await;
    s.find("#verdict-0-fix").await.click().await.unwrap();
    s.type_into("#note-0", "申请书缺少签字，请签字后重新上传").await;
    shoot_both(s, "case-review").await;
    // Accepting while a line is marked is refused, naming it, and nothing changes.
    s.click("#do-accept").await;
    s.wait_loaded().await;
    assert!(s.text("#form-errors").await.contains("需补正"), "{}", s.text("#form-errors").await);
    assert_eq!(s.text("#case-state").await, "已提交，待受理");
    s.find("#verdict-0-fix").await.click().await.unwrap();
    s.type_into("#note-0", "申请书缺少签字，请签字后重新上传").await;
    s.click("#do-request_supplement").await;
    s.wait_for_path(&format!("/cases/{number}?done=request_supplement")).await;
    s.log_out().await;

    let person = s.app.demo("13800138001").await;
    s.log_in(&person.username, &person.password).await;
    s.goto(&format!("/cases/{number}")).await;
    let wanted = s.text("#supplement-wanted").await;
    assert!(wanted.contains(&first) && wanted.contains("缺少签字"), "{wanted}");
    assert!(
        s.text("#supplement-paused").await.contains("尚未受理"),
        "{}",
        s.text("#supplement-paused").await
    );
    shoot_both(s, "case-supplement-before-acceptance").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("申请书（已签字）.pdf");
    std::fs::write(&file, b"%PDF-1.4\n% signed\n").unwrap();
    s.find("#file_0").await.send_keys(file.display().to_string()).await.unwrap();
    s.click("#do-resubmit").await;
    s.wait_for_path(&format!("/cases/{number}?done=resubmit")).await;
    assert_eq!(s.text("#case-state").await, "已提交，待受理", "back to the window");
    s.log_out().await;

    s.log_in(&clerk.username, &clerk.password).await;
    s.goto(&format!("/cases/{number}")).await;
    s.click("#do-accept").await;
    s.wait_for_path(&format!("/cases/{number}?done=accept")).await;
    s.log_out().await;

    let approver = s.app.demo("spj.approver").await;
    s.log_in(&approver.username, &approver.password).await;
    s.goto(&format!("/cases/{number}")).await;
    // Without an opinion the server refuses the preview, naming the field.
    s.script("document.getElementById('opinion-approve').removeAttribute('required'); return null").await;
    s.click("#do-approve").await;
    s.wait_loaded().await;
    assert!(s.text("#form-errors").await.contains("审批意见"), "{}", s.text("#form-errors").await);
    s.type_into("#opinion-approve", "经审查，申请材料齐全，符合法定条件，同意许可。").await;
    s.click("#do-approve").await;
    s.wait_for_path(&format!("/cases/{number}/preview")).await;
    assert!(s.text("#preview-opinion").await.contains("同意许可"));
    let licence = s.text("#preview-licence").await;
    assert!(licence.contains("食品经营许可证") && licence.contains("张伟"), "{licence}");
    assert!(!s.exists("#case-state").await, "the preview is not the case page");
    shoot_both(s, "decision-preview").await;
    // Back to change it: nothing was decided.
    s.click("#back-to-case").await;
    s.wait_loaded().await;
    assert_eq!(s.text("#case-state").await, "已受理");
    s.type_into("#opinion-approve", "经审查，申请材料齐全，符合法定条件，同意许可。").await;
    s.click("#do-approve").await;
    s.wait_for_path(&format!("/cases/{number}/preview")).await;
    s.click("#confirm-decision").await;
    s.wait_for_path(&format!("/cases/{number}?done=approve")).await;
    assert_eq!(s.text("#case-state").await, "已准予许可");
    assert!(s.body_text().await.contains("审批意见：经审查"), "the opinion is on the timeline");
    s.log_out().await;

    s.log_in(&person.username, &person.password).await;
    s.goto(&format!("/cases/{number}")).await;
    let result = s.text("#result-collection").await;
    assert!(result.contains("食品经营许可证") && result.contains("卡包"), "{result}");
    shoot_both(s, "case-result").await;
    s.click("#result-licence a").await;
    let card = s.wait_loaded().await;
    assert!(card.starts_with("/wallet/urn:uuid:"), "{card}");
    assert!(result.contains(&s.text("#licence-number").await), "the same number on the case and the card");
    assert!(s.text("#licence-validity").await.contains(" — "));
    assert_eq!(
        s.find_all("dt").await.len(),
        s.texts("dt").await.iter().collect::<std::collections::HashSet<_>>().len(),
        "no line twice"
    );
    let href = s.attr("#print-pdf", "href").await.unwrap();
    assert!(href.ends_with("/print.pdf"), "{href}");
    shoot_both(s, "licence-card-numbered").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_get_a_menu_button_and_a_tab_bar_with_the_unread_count() {
    run("phone_navigation", |s| Box::pin(phone_navigation(s))).await;
}

async fn phone_navigation(s: &Session) {
    let citizen = s.app.demo_token("13800138001").await;
    food_licence_by_api(s, &citizen).await;
    let (_, inbox) = s.app.get_json("/api/v1/notifications", Some(&citizen)).await;
    let unread = inbox["unread"].as_i64().unwrap();
    assert!(unread >= 1, "{inbox}");
    let person = s.app.demo("13800138001").await;
    s.log_in(&person.username, &person.password).await;
    s.set_width(375, 812).await;
    s.goto("/items").await;
    let shown = |css: &'static str| async move {
        // Rendered at all (a fixed tab bar has no offsetParent, so its box is asked).
        s.script(&format!(
            "const e = document.querySelector(\"{css}\"); return !!e && e.getClientRects().length > 0"
        ))
        .await
        .as_bool()
        .unwrap()
    };
    // The links fold behind the menu button; the tab bar carries the unread count.
    assert!(shown("#menu-button").await && !shown("#main-nav").await);
    assert!(shown(".tabbar").await);
    assert_eq!(s.text("#unread-badge").await, unread.to_string());
    s.click("#menu-button").await;
    assert!(shown("#main-nav").await);
    assert_eq!(s.attr("#menu-button", "aria-expanded").await.as_deref(), Some("true"));
    shoot(s, "phone-menu", 375, 812).await;
    s.click("#menu-button").await;
    s.click("#tab-inbox").await;
    s.wait_for_path("/inbox").await;
    shoot(s, "phone-inbox", 375, 812).await;
    // On a wide screen: the links in the header, no menu button, no tab bar.
    s.set_width(1280, 900).await;
    s.goto("/items").await;
    assert!(shown("#main-nav").await && !shown("#menu-button").await && !shown(".tabbar").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn general_window_registers_a_walk_in() {
    run("walk_in", |s| Box::pin(walk_in(s))).await;
}

async fn walk_in(s: &Session) {
    let general = s.app.demo("spj.general").await;
    s.log_in(&general.username, &general.password).await;
    s.goto("/workbench").await;
    s.find("#walk-in-panel summary").await.click().await.unwrap();
    // A name that is no item: the form comes back open, the typing kept, the error by the field.
    s.type_into("#walk-in-phone", "13800138001").await;
    s.type_into("#walk-in-item", "开饭店许可").await;
    s.click("#walk-in-start").await;
    s.wait_loaded().await;
    assert!(s.text("#form-errors").await.contains("开饭店许可"));
    assert_eq!(s.attr("#walk-in-item", "aria-invalid").await.as_deref(), Some("true"));
    assert_eq!(s.value("#walk-in-phone").await, "13800138001");
    // Picked by name from the list (its option reads "code name").
    s.type_into("#walk-in-item", "JN-SPJ-0003 食品经营许可（新办）").await;
    s.click("#walk-in-start").await;
    let contact = s.wait_loaded().await;
    assert!(contact.ends_with("/contact"), "{contact}");
    assert!(s.text("#walk-in").await.contains("张伟"), "the applicant is named");
    assert_eq!(s.value("[name=contact_name]").await, "张伟");
    s.type_into("[name=contact_phone]", "13800138001").await;
    s.click("#next").await;
    s.wait_for_path(&contact.replace("/contact", "/materials")).await;
    s.click("#next").await;
    s.wait_for_path(&contact.replace("/contact", "/check")).await;
    s.click("#submit-application").await;
    let page = s.wait_loaded().await;
    assert!(page.ends_with("?submitted=1"), "{page}");
    let timeline = s.texts("#timeline li").await;
    assert!(timeline[0].contains("李建国"), "submitted by the clerk for the applicant: {timeline:?}");
    // The clerk accepts it on the spot.
    s.click("#do-accept").await;
    s.wait_loaded().await;
    assert_eq!(s.text("#case-state").await, "已受理");
}

// ---------------------------------------------------------------------------------------------
// E-licences: reuse from the wallet, the licence card with its QR code, verification, the desk
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallet_reuse_licence_card_and_verification() {
    run("wallet_journey", |s| Box::pin(wallet_journey(s))).await;
}

async fn wallet_journey(s: &Session) {
    let rep = s.app.demo("13800138002").await;
    let officer = s.app.demo("spj.licence").await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("申请书.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n% wallet journey\n").unwrap();

    // The enterprise representative applies; the business licence and her ID card come from the
    // wallet with a tick each (consent), instead of uploads.
    s.log_in(&rep.username, &rep.password).await;
    s.goto("/wallet").await;
    assert!(s.card("营业执照").await.text().await.unwrap().contains("济南泉城小馆餐饮有限公司"));
    shoot_both(s, "wallet").await;
    s.goto("/items/JN-SPJ-0003").await;
    s.click("#apply-online").await;
    let contact = s.wait_loaded().await;
    // Apply as the enterprise (the first option is "as myself").
    s.script("document.getElementById('enterprise').selectedIndex = 1; return null").await;
    s.type_into("[name=contact_phone]", "13800138002").await;
    s.click("#next").await;
    let materials = contact.replace("/contact", "/materials");
    s.wait_for_path(&materials).await;
    s.find("#file_0").await.send_keys(pdf.display().to_string()).await.unwrap();
    for id in ["#use-credential-1", "#use-credential-2"] {
        let tick = s.find(id).await;
        if !tick.is_selected().await.unwrap() {
            tick.click().await.unwrap();
        }
    }
    // Plain names, never identifiers; no upload box in the way unless asked for.
    let offer = s.text("label[for='use-credential-1']").await;
    assert!(
        offer.contains("营业执照：济南泉城小馆餐饮有限公司（有效期至") && !offer.contains("1.2.156"),
        "{offer}"
    );
    assert!(!s.find("#file_1").await.is_displayed().await.unwrap(), "the upload is folded away");
    shoot_both(s, "apply-wallet").await;
    s.click("#next").await;
    s.wait_for_path(&contact.replace("/contact", "/check")).await;
    assert_eq!(s.body_text().await.matches("从卡包调取电子证照（已同意）").count(), 2);
    s.click("#submit-application").await;
    s.wait_loaded().await;
    let number = s.text("#case-number").await;

    // Accepted and approved (through the API, as the staff journeys cover the pages).
    for (who, action) in [("spj.clerk", "accept"), ("spj.approver", "approve")] {
        let token = s.app.demo_token(who).await;
        let (status, b) = s
            .app
            .post_json(&format!("/api/v1/cases/{number}/actions/{action}"), Some(&token), json!({}))
            .await;
        assert_eq!(status, 200, "{b}");
    }

    // The new licence is in the wallet; its card has the fields and a QR code.
    s.goto("/wallet").await;
    s.mark_page().await;
    s.card("食品经营许可证").await.find(By::Css("a")).await.unwrap().click().await.unwrap();
    let card_path = s.wait_loaded().await;
    assert!(card_path.starts_with("/wallet/urn:uuid:"), "{card_path}");
    assert_eq!(s.fact("经营者名称").await, "济南泉城小馆餐饮有限公司");
    assert!(s.exists(".qr svg").await, "a QR code to scan");
    assert_eq!(s.text("#credential-status").await, "有效");
    shoot_both(s, "licence-card").await;
    let id = card_path.trim_start_matches("/wallet/").to_string();
    s.log_out().await;

    // A window clerk (anyone) opens the QR link: genuine.
    s.goto(&format!("/verify?credential={id}")).await;
    assert!(s.text("#verdict").await.contains("核验通过"), "{}", s.text("#verdict").await);
    shoot_both(s, "verify-ok").await;
    // A pasted copy with the operator's name changed: the page says it was altered.
    let token = s.app.demo_token(&rep.username).await;
    let (_, record) = s.app.get_json(&format!("/api/v1/credentials/{id}"), Some(&token)).await;
    let mut forged = record["credential"].clone();
    forged["credentialSubject"]["operator_name"] = json!("别人家的餐馆");
    s.goto("/verify").await;
    s.driver
        .execute(
            "document.getElementById('credential').value = arguments[0]; return null",
            vec![json!(forged.to_string())],
        )
        .await
        .unwrap();
    s.click("#verify-submit").await;
    s.wait_for_path("/verify").await;
    let verdict = s.text("#verdict").await;
    assert!(verdict.contains("核验未通过") && verdict.contains("篡改"), "{verdict}");
    shoot_both(s, "verify-altered").await;

    // The licence officer suspends it at the desk; verification then says so.
    s.log_in(&officer.username, &officer.password).await;
    s.goto(&format!("/licences?q={number}")).await;
    s.type_into("#reason-1", "现场核查期间暂停").await;
    s.click("button[name=action][value=suspend]").await;
    s.wait_loaded().await;
    assert!(s.body_text().await.contains("已暂停"));
    shoot_both(s, "licence-desk").await;
    s.goto("/seals").await;
    assert!(s.exists(".seal-card img").await);
    shoot_both(s, "seals").await;
    s.log_out().await;
    s.goto(&format!("/verify?credential={id}")).await;
    assert!(s.text("#verdict").await.contains("暂停"), "{}", s.text("#verdict").await);
}

// ---------------------------------------------------------------------------------------------
// Halls: the map and its list, nearest halls, a hall's slots, booking and cancelling
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_a_hall_and_book_a_slot() {
    run("halls_journey", |s| Box::pin(halls_journey(s))).await;
}

async fn halls_journey(s: &Session) {
    let citizen = s.app.demo("13800138001").await;
    s.goto("/halls").await;
    assert_eq!(s.find_all("svg.hall-map circle.dot").await.len(), 51, "every hall on the map");
    assert_eq!(s.find_all("#hall-list tbody tr").await.len(), 51, "and in the list");
    assert_eq!(s.find_all("svg.hall-map path.district").await.len(), 12, "the districts drawn");
    assert!(!s.exists("input#lat[type=text]").await, "nobody types coordinates");
    shoot_both(s, "halls-map").await;
    // Zoom in with the button; the whole-city button goes back.
    let home = s.attr("#hall-map", "viewBox").await.unwrap();
    s.click(".map-zoom[data-zoom='1.6']").await;
    let zoomed = s.attr("#hall-map", "viewBox").await.unwrap();
    let width = |v: &str| v.split(' ').nth(2).unwrap().parse::<f64>().unwrap();
    assert!(width(&zoomed) < width(&home) / 1.5, "{home} → {zoomed}");
    s.click(".map-home").await;
    assert_eq!(width(&s.attr("#hall-map", "viewBox").await.unwrap()), width(&home));
    // A named place, not coordinates: the nearest halls to 趵突泉 first, with a pin.
    s.type_into("#place", "趵突泉").await;
    s.click("#halls-search").await;
    s.wait_loaded().await;
    assert!(s.text("#place-hint").await.contains("趵突泉（历下区）"), "{}", s.text("#place-hint").await);
    assert!(s.texts("#hall-list tbody tr").await[0].contains(" m"), "metres away, nearest first");
    assert_ne!(s.attr("#pin", "cx").await.as_deref(), Some("-50"), "the place is pinned");
    shoot_both(s, "halls-place").await;
    // A district: its halls only, the map opened on it.
    s.goto("/halls?district=章丘区").await;
    let rows = s.texts("#hall-list tbody tr").await;
    assert!(!rows.is_empty() && rows.iter().all(|r| r.contains("章丘区")), "{rows:?}");
    assert!(width(&s.attr("#hall-map", "viewBox").await.unwrap()) < width(&home) / 2.0);
    shoot_both(s, "halls-district").await;
    // Tapping the map sorts from the point tapped.
    s.goto("/halls").await;
    s.mark_page().await;
    s.find("#hall-map").await.click().await.unwrap();
    s.wait_loaded().await;
    let lat: f64 = s.value("#lat").await.parse().expect("the tap gives a position");
    assert!((35.9..37.7).contains(&lat), "{lat}");
    assert!(
        s.texts("#hall-list tbody tr").await[0].contains("km")
            || s.texts("#hall-list tbody tr").await[0].contains(" m")
    );
    // Nearest district centres handling 食品经营许可 from 泉城广场.
    s.goto("/halls?item=JN-SPJ-0003&lat=36.6611&lon=117.0216").await;
    let rows = s.texts("#hall-list tbody tr").await;
    assert_eq!(rows.len(), 12, "the twelve district centres: {rows:?}");
    assert!(rows[0].contains("km") || rows[0].contains(" m"), "{}", rows[0]);
    shoot_both(s, "halls-nearest").await;

    // Book the first slot of the next working weekday at the 历下区 centre.
    s.log_in(&citizen.username, &citizen.password).await;
    let cal = s.app.state.calendar().await;
    let mut day = s.app.clock().today() + chrono::Duration::days(1);
    while !cal.is_working_day(day) || chrono::Datelike::weekday(&day).number_from_monday() > 5 {
        day += chrono::Duration::days(1);
    }
    let date = day.format("%Y-%m-%d").to_string();
    s.goto(&format!("/halls/JN-H-0002?item=JN-SPJ-0003&date={date}")).await;
    assert!(s.exists("#slots button").await, "slots are offered");
    shoot_both(s, "hall-slots").await;
    s.click("#slots li:first-child button").await;
    let landed = s.wait_loaded().await;
    assert!(landed.starts_with("/my/appointments?booked="), "{landed}");
    assert!(s.text("#booked").await.contains("预约成功"));
    assert!(s.body_text().await.contains(&format!("{date} 09:00")));
    shoot_both(s, "appointments").await;
    // Cancel it.
    s.click("form[action$='/cancel'] button").await;
    s.wait_for_path("/my/appointments").await;
    assert!(s.body_text().await.contains("已取消"));
    s.log_out().await;

    // A walk-in takes a number at the hall for the service they came for; a window clerk calls
    // it from the window's console, apart from the public display.
    s.goto("/halls/JN-H-0002").await;
    s.find("#item_code option[value='JN-SPJ-0003']").await.click().await.unwrap();
    s.click("#take-number").await;
    let ticket = s.wait_loaded().await;
    assert!(ticket.starts_with("/queue/"), "{ticket}");
    assert_eq!(s.text("#ticket-number").await, "A001");
    assert!(s.text("#ticket-ahead").await.contains('0'));
    assert!(s.text("#ticket-item").await.contains("食品经营许可"), "the chosen service is on the slip");
    // The slip shows its rating code once (16 hex digits).
    let code = s.text("#rating-code strong").await;
    assert!(code.len() == 16 && code.chars().all(|c| c.is_ascii_hexdigit()), "{code}");
    shoot_both(s, "queue-ticket").await;
    // Printed, only the slip remains (print media, as the printer sees it).
    let devtools = s.driver.cdp();
    devtools.send_raw("Emulation.setEmulatedMedia", json!({"media": "print"})).await.unwrap();
    let visible = |css: &str| {
        format!(
            "return getComputedStyle(document.querySelector('{css}')).visibility !== 'hidden' && getComputedStyle(document.querySelector('{css}')).display !== 'none'"
        )
    };
    assert_eq!(s.script(&visible("#ticket-number")).await, json!(true));
    assert_eq!(s.script(&visible("#print-ticket")).await, json!(false));
    assert_eq!(s.script(&visible("#cancel-ticket")).await, json!(false));
    devtools.send_raw("Emulation.setEmulatedMedia", json!({"media": ""})).await.unwrap();
    let clerk = s.app.demo("spj.clerk").await;
    s.log_in(&clerk.username, &clerk.password).await;
    s.goto("/halls/JN-H-0002/display").await;
    assert!(!s.exists("#call-next").await, "the public display has no calling controls");
    s.click("#to-counter").await;
    s.wait_for_path("/halls/JN-H-0002/counter").await;
    s.type_into("#window", "3号窗口").await;
    s.click("#call-next").await;
    s.wait_loaded().await;
    assert_eq!(s.text("#current-number").await, "A001");
    assert!(s.text("#current-item").await.contains("食品经营许可"));
    s.click("#recall").await;
    s.wait_loaded().await;
    assert!(s.text("#notice").await.contains("已重呼 A001"), "{}", s.text("#notice").await);
    shoot_both(s, "queue-counter").await;
    // The window is remembered on this computer.
    s.goto("/halls/JN-H-0002/counter").await;
    assert_eq!(s.value("#window").await, "3号窗口");
    s.goto("/halls/JN-H-0002/display").await;
    let called = s.text("#called").await;
    assert!(called.contains("A001") && called.contains("3号窗口") && called.contains("重呼"), "{called}");
    shoot_both(s, "queue-display").await;
    s.goto("/halls/JN-H-0002/counter").await;
    s.click("#skip").await;
    s.wait_loaded().await;
    assert!(s.exists("#current-none").await, "passed over: nothing called at this window");
    s.log_out().await;

    // A kiosk in the hall: large touch targets; a number from its tile.
    let admin = s.app.demo_token("dsj.admin").await;
    let (_, k) = s
        .app
        .post_json("/api/v1/kiosks", Some(&admin), json!({"hall_code": "JN-H-0002", "name": "一楼1号机"}))
        .await;
    let (id, token) = (k["kiosk"]["id"].as_str().unwrap(), k["token"].as_str().unwrap());
    s.goto(&format!("/kiosk/{id}?token={token}")).await;
    assert_eq!(s.attr("body", "class").await.as_deref(), Some("kiosk"));
    let height =
        s.script("return document.getElementById('kiosk-take-number').getBoundingClientRect().height").await;
    assert!(height.as_f64().unwrap() >= 64.0, "touch target {height}");
    shoot_both(s, "kiosk").await;
    // Nothing leads out of the kiosk: no header links, only 返回首页 and 结束服务.
    assert!(
        !s.script("return document.getElementById('main-nav').getClientRects().length > 0")
            .await
            .as_bool()
            .unwrap()
    );
    s.click("#kiosk-take-number").await;
    s.wait_for_path("/halls/JN-H-0002/take").await;
    shoot_both(s, "kiosk-take").await;
    s.click("#take-with-item").await;
    s.wait_loaded().await;
    assert_eq!(s.text("#ticket-number").await, "A002");
    // The holder leaves the queue: it asks first, then the number is void.
    s.click("#do-cancel-ticket").await;
    assert!(s.exists("#ticket-ahead").await, "the unticked box stops the form");
    s.find("#confirm-cancel").await.click().await.unwrap();
    s.click("#do-cancel-ticket").await;
    s.wait_loaded().await;
    assert!(s.exists("#ticket-cancelled").await, "{}", s.body_text().await);
    // Every page has the way home.
    s.click("#kiosk-home").await;
    s.wait_for_path(&format!("/kiosk/{id}")).await;
    // 结束服务 ends a signed-in session at once and comes back to the kiosk's home.
    s.click("a.tile[href='/my/cases']").await;
    s.wait_loaded().await;
    let citizen = s.app.demo("13800138001").await;
    s.type_into("#username", &citizen.username).await;
    s.type_into("#password", &citizen.password).await;
    s.click("main form button[type=submit]").await;
    s.wait_for_path("/my/cases").await;
    s.click("#kiosk-end").await;
    s.wait_for_path(&format!("/kiosk/{id}")).await;
    s.goto("/my/cases").await;
    assert!(s.path().await.starts_with("/login"), "signed out: {}", s.path().await);

    // 扫码登录: the kiosk shows a code; the phone (signed in there) confirms; the kiosk's page
    // notices by itself and signs in, no password typed on the shared screen.
    s.goto(&format!("/kiosk/{id}")).await;
    s.click("#kiosk-qr-login").await;
    s.wait_for_path("/kiosk/qr-login").await;
    assert!(s.exists("#qr-login svg").await, "a QR code to scan");
    shoot_both(s, "kiosk-qr-login").await;
    let link = s.script("return document.getElementById('qr-link').textContent").await;
    let path = link.as_str().unwrap().split("/qr-login/").nth(1).map(|id| format!("/qr-login/{id}")).unwrap();
    let phone = crate::common::page_client();
    crate::common::web_login(&phone, &s.url(""), &citizen.username, &citizen.password).await;
    let confirm = phone.get(s.url(&path)).send().await.unwrap().text().await.unwrap();
    let form = [("csrf", crate::common::csrf_of(&confirm)), ("decision", "approve".to_string())];
    let done = phone.post(s.url(&path)).form(&form).send().await.unwrap().text().await.unwrap();
    assert!(done.contains("已确认"), "{done}");
    s.wait_for_path("/my/cases").await;
    assert!(s.exists("#kiosk-end").await);
    s.click("#kiosk-end").await;
    s.wait_for_path(&format!("/kiosk/{id}")).await;
}

// ---------------------------------------------------------------------------------------------
// Assisted service: ask, assign, sign the power of attorney
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_for_assisted_service() {
    run("assistance_journey", |s| Box::pin(assistance_journey(s))).await;
}

async fn assistance_journey(s: &Session) {
    let citizen = s.app.demo("13800138001").await;
    let head = s.app.demo("spj.head").await;
    s.log_in(&citizen.username, &citizen.password).await;
    s.goto("/assistance").await;
    s.type_into("#item_code", "JN-SPJ-0003").await;
    s.type_into("#description", "第一次开饭馆，请帮我代办食品经营许可").await;
    s.type_into("#contact_phone", "13800138001").await;
    s.click("#ask-submit").await;
    s.wait_for_path("/assistance").await;
    assert!(s.text("#request-1").await.contains("待分派"));
    s.log_out().await;

    s.log_in(&head.username, &head.password).await;
    s.goto("/assistance").await;
    s.type_into("#officer-1", "spj.general").await;
    s.click("form[action$='/assign'] button").await;
    s.wait_for_path("/assistance").await;
    assert!(s.text("#request-1").await.contains("李建国"));
    s.log_out().await;

    s.log_in(&citizen.username, &citizen.password).await;
    s.goto("/assistance").await;
    s.find("#accept-1").await.click().await.unwrap();
    s.click("form[action$='/authorize'] button").await;
    s.wait_for_path("/assistance").await;
    let card = s.text("#request-1").await;
    assert!(card.contains("代办中") && card.contains("委托书"), "{card}");
    shoot_both(s, "assistance").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_a_problem_and_follow_it() {
    run("complaint_journey", |s| Box::pin(complaint_journey(s))).await;
}

/// A citizen reports a food-safety problem with a place tapped on the map; 市场监管 accepts and
/// answers it; the citizen confirms at the callback; the hotline operator takes a call and the
/// dashboard shows the three rates.
async fn complaint_journey(s: &Session) {
    let citizen = s.app.demo("13800138001").await;
    let clerk = s.app.demo("scj.clerk").await;
    let operator = s.app.demo("hotline.operator").await;
    s.log_in(&citizen.username, &citizen.password).await;
    s.goto("/complaints").await;
    assert_eq!(s.text("main h1").await, "我要反映");
    // An empty report names the field and keeps the page.
    s.script("document.getElementById('description').removeAttribute('required'); return null").await;
    s.click("#complaint-submit").await;
    s.wait_loaded().await;
    assert!(s.text("#form-errors").await.contains("请描述您反映的问题"));
    s.type_into("#description", "在泉城路一家饭店吃饭，菜里吃出苍蝇，店家不认账").await;
    s.find("#category option[value='market.food_safety']").await.click().await.unwrap();
    s.type_into("#address", "历下区泉城路").await;
    // No coordinates to type: a tap on the map (or a place name) gives the position.
    assert!(!s.exists("input#lat[type=text]").await);
    assert_eq!(s.find_all("#pick-map path.district").await.len(), 12);
    s.find("#pick-map").await.click().await.unwrap();
    let lat: f64 = s.value("#lat").await.parse().expect("latitude filled by the map");
    let lon: f64 = s.value("#lon").await.parse().expect("longitude filled by the map");
    assert!((35.9..37.7).contains(&lat) && (116.1..118.1).contains(&lon), "{lat},{lon}");
    // Publishing is the citizen's choice, off unless ticked, and says what is removed.
    assert_eq!(s.attr("#public", "checked").await, None);
    assert!(s.text("label[for=public]").await.contains("同意公开"));
    s.click("label[for=public]").await;
    shoot_both(s, "complaint-form").await;
    s.click("#complaint-submit").await;
    s.wait_loaded().await;
    assert!(s.text("#filed").await.contains("已收到您的诉求"));
    let (_, feed) = s.app.get_json("/open311/v2/requests.json", None).await;
    let published = feed.as_array().unwrap().iter().find(|r| r["service_code"] == "market.food_safety");
    assert!(published.is_some_and(|r| r["description"].as_str().unwrap().contains("苍蝇")), "{feed}");
    let card = s.text("ul.list li.card").await;
    assert!(
        card.contains("已派单") && card.contains("济南市市场监督管理局") && card.contains("食品安全"),
        "{card}"
    );
    shoot_both(s, "complaints").await;
    s.log_out().await;

    s.log_in(&clerk.username, &clerk.password).await;
    s.goto("/complaints/desk").await;
    shoot_both(s, "complaint-desk").await;
    s.click("#respond-1").await;
    s.wait_loaded().await;
    assert!(s.text("ul.list li.card").await.contains("办理中"));
    s.type_into("#answer-1", "已到店核查，责令整改并对店家立案调查").await;
    s.click("form:has(#answer-1) button[type=submit]").await;
    s.wait_loaded().await;
    s.log_out().await;

    s.log_in(&citizen.username, &citizen.password).await;
    s.goto("/complaints").await;
    assert!(s.text("ul.list li.card").await.contains("已到店核查"));
    s.find("form.callback input[name=resolved][value=yes]").await.click().await.unwrap();
    s.find("form.callback input[name=satisfied][value=yes]").await.click().await.unwrap();
    s.click("form.callback button[type=submit]").await;
    s.wait_loaded().await;
    assert!(s.text("ul.list li.card").await.contains("已办结"));
    // Then rates how it was handled (once: the form goes away).
    s.click("form.rate-complaint button[type=submit]").await;
    s.wait_loaded().await;
    assert!(!s.exists("form.rate-complaint").await);
    s.log_out().await;

    s.log_in(&operator.username, &operator.password).await;
    s.goto("/complaints/desk").await;
    s.find("#intake-panel summary").await.click().await.unwrap();
    s.type_into("#name", "李女士").await;
    s.type_into("#phone", "13912345678").await;
    s.type_into("#description", "小区从昨晚开始停水，到现在还没来水，家里有老人").await;
    s.type_into("#address", "槐荫区经十路").await;
    s.find("#call_type option[value=help]").await.click().await.unwrap();
    // An empty description is refused next to the field, and what was typed stays.
    s.script("document.getElementById('description').value = ''; return null").await;
    s.click("#intake-submit").await;
    s.wait_loaded().await;
    assert_eq!(s.attr("#description", "aria-invalid").await.as_deref(), Some("true"));
    assert!(s.text(".field.invalid").await.contains("请描述"));
    assert_eq!(s.value("#phone").await, "13912345678");
    s.type_into("#description", "小区从昨晚开始停水，到现在还没来水，家里有老人").await;
    s.click("#intake-submit").await;
    s.wait_loaded().await;
    // Nothing is filed yet: the desk proposes the category, department and confidence.
    let proposal = s.text("#proposal").await;
    assert!(proposal.contains("求助") && proposal.contains("槐荫区"), "{proposal}");
    let routes = s.texts("#proposal-routes tbody tr").await;
    assert!(routes[0].contains("济南市水务局") && routes[0].contains('%'), "{routes:?}");
    assert!(!s.exists("#filed").await);
    shoot_both(s, "complaint-desk-proposal").await;
    // The operator keeps the proposed category but sends it to another department.
    s.find("#confirm-department option[value='JN-ZJJ']").await.click().await.unwrap();
    s.click("#confirm-dispatch").await;
    let after = s.wait_loaded().await;
    assert!(after.starts_with("/complaints/desk?filed=12345-"), "post/redirect/get: {after}");
    let filed = s.text("#filed").await;
    assert!(filed.contains("已登记求助") && filed.contains("济南市住房和城乡建设局"), "{filed}");
    let number = s.text("#filed-number").await;
    // Refreshing the result page files nothing more.
    s.driver.refresh().await.unwrap();
    s.wait_loaded().await;
    assert_eq!(s.text("#filed-number").await, number);
    // The caller rings again: found by their number.
    s.find("#caller-panel summary").await.click().await.unwrap();
    s.type_into("#caller_phone", "139 1234 5678").await;
    s.click("#caller-search").await;
    s.wait_loaded().await;
    assert!(s.text("#caller-history-title").await.contains("139****5678"));
    let history = s.texts("#caller-history li.card").await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert!(history[0].contains(&number) && history[0].contains("求助"), "{history:?}");
    shoot_both(s, "complaint-desk-caller").await;
    // An enquiry answered on the call is closed there.
    s.find("#intake-panel summary").await.click().await.unwrap();
    s.find("#call_type option[value=enquiry]").await.click().await.unwrap();
    s.type_into("#description", "请问居住证在哪里办理？").await;
    s.click("#intake-submit").await;
    s.wait_loaded().await;
    s.find("#answered_directly").await.click().await.unwrap();
    s.type_into("#answer", "到居住地派出所或政务服务大厅公安窗口办理").await;
    s.click("#confirm-dispatch").await;
    s.wait_loaded().await;
    assert!(s.text("#filed").await.contains("已当场答复办结"));
    s.goto("/complaints/dashboard").await;
    let table = s.text("#rates-table").await;
    assert!(table.contains("济南市市场监督管理局") && table.contains("100.0%"), "{table}");
    shoot_both(s, "complaint-dashboard").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_a_case_from_the_link_and_put_it_right() {
    run("rating_journey", |s| Box::pin(rating_journey(s))).await;
}

/// The one-tap link from the closing message rates the case without logging in (a bad review
/// needs a reason); the department verifies and answers it on the bad-review desk; the public
/// page shows the figures.
async fn rating_journey(s: &Session) {
    let citizen = s.app.demo_token("13800138001").await;
    let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4\n");
    let (status, b) = s
        .app
        .post_json(
            "/api/v1/cases",
            Some(&citizen),
            json!({"item_code": "JN-SPJ-0003", "form": {"contact_name": "张伟", "contact_phone": "13800138001"},
                   "materials": [{"index": 0, "file_name": "a.pdf", "content_base64": pdf}]}),
        )
        .await;
    assert_eq!(status, 201, "{b}");
    let number = b["case_number"].as_str().unwrap().to_string();
    for (who, action) in [("spj.clerk", "accept"), ("spj.approver", "approve"), ("spj.approver", "close")] {
        let token = s.app.demo_token(who).await;
        let (status, b) = s
            .app
            .post_json(&format!("/api/v1/cases/{number}/actions/{action}"), Some(&token), json!({}))
            .await;
        assert_eq!(status, 200, "{action}: {b}");
    }
    // The closing message in the inbox carries the one-tap link.
    let person = s.app.demo("13800138001").await;
    s.log_in(&person.username, &person.password).await;
    s.goto("/inbox").await;
    s.click("a.button[href^='/rate/']").await;
    let link = s.wait_loaded().await;
    assert!(link.starts_with(&format!("/rate/{number}.")), "{link}");
    s.log_out().await;

    s.goto(&link).await;
    assert!(s.text("main").await.contains(&number));
    s.find("input[name=score][value='2']").await.click().await.unwrap();
    s.find("#ind_guide_accuracy option[value='1']").await.click().await.unwrap();
    s.click("#rate-submit").await;
    s.wait_loaded().await;
    assert!(s.text("#form-errors").await.contains("差评请写明原因"));
    // The stars and the detail chosen stay chosen next to the error.
    assert!(s.find("input[name=score][value='2']").await.is_selected().await.unwrap());
    assert_eq!(s.value("#ind_guide_accuracy").await, "1");
    shoot_both(s, "rate").await;
    s.type_into("#comment", "办事指南上的材料和窗口要求不一致，多跑了一趟").await;
    s.click("#rate-submit").await;
    s.wait_loaded().await;
    assert!(s.text("#rated").await.contains("感谢您的评价"));
    // The link rates once.
    s.goto(&link).await;
    assert!(s.exists("#rated").await && !s.exists("#rate-form").await);

    let head = s.app.demo("spj.head").await;
    s.log_in(&head.username, &head.password).await;
    s.goto("/ratings/desk").await;
    let card = s.text("ul.list li.card").await;
    assert!(card.contains("待核实") && card.contains("多跑了一趟"), "{card}");
    s.type_into("#note-1", "经核实，指南材料清单未及时更新").await;
    s.click("form:has(#note-1) button[type=submit]").await;
    s.wait_loaded().await;
    s.type_into("#answer-1", "已更新办事指南，并向您致歉").await;
    s.click("form:has(#answer-1) button[type=submit]").await;
    s.wait_loaded().await;
    assert!(s.text("ul.list li.card").await.contains("待回访"));
    shoot_both(s, "bad-reviews").await;

    s.goto("/ratings").await;
    let table = s.text("#ratings-table").await;
    assert!(table.contains("济南市行政审批服务局") && table.contains("100.0%"), "{table}");
    shoot_both(s, "ratings-public").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_owner_decides_field_by_field_and_the_enterprise_sees_the_reads() {
    run("data-sharing", |s| Box::pin(data_sharing(s))).await;
}

/// 发改委 asks 税务局 for three tax fields; 税务局's data officer decides on the page (two
/// approved, one refused with a reason); the enterprise applies and sees, on "who looked at my
/// data", which department read its tax record and for which case.
async fn data_sharing(s: &Session) {
    let app = &s.app;
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    // A register holding the demo enterprise.
    load_register(app, &[("uscc", code.as_str())]).await;
    let fgw = app.token_for_staff_with("fgw.data", "JN-FGW", &["data_officer"]).await;
    let (status, request) = app
        .post_json(
            "/api/v1/data/requests",
            Some(&fgw),
            serde_json::json!({"dataset": "tax", "fields": ["revenue_last_year", "tax_paid_last_year", "rd_expense_last_year"],
                "purpose": "case_handling", "purpose_detail": "核验惠企政策兑现申请人的纳税情况",
                "legal_basis": "《优化营商环境条例》第三十五条", "items": ["JN-FGW-0003"]}),
        )
        .await;
    assert_eq!(status, 201, "{request}");
    let id = request["id"].as_str().unwrap().to_string();

    // The public catalog.
    s.goto("/data").await;
    assert_eq!(s.text("main h1").await, "政务数据资源目录");
    assert!(s.body_text().await.contains("有条件共享"));
    shoot_both(s, "data-catalog").await;

    // The owner decides on the page.
    let owner = app.demo("swj.data").await;
    s.log_in(&owner.username, &owner.password).await;
    s.click("header a[href='/data/requests']").await;
    s.wait_for_path("/data/requests").await;
    let card = format!("#request-{id}");
    assert!(s.text(&card).await.contains("待审核"));
    shoot_both(s, "data-requests").await;
    // Refusing without a reason is refused, naming the field; nothing changes.
    s.click(&format!("{card} input[name='approve_revenue_last_year'][value='yes']")).await;
    s.click(&format!("{card} input[name='approve_tax_paid_last_year'][value='yes']")).await;
    s.click(&format!("{card} input[name='approve_rd_expense_last_year'][value='no']")).await;
    s.click(&format!("{card} form.decide-form button[type=submit]")).await;
    s.wait_loaded().await;
    assert!(
        s.body_text().await.contains("不同意共享字段“rd_expense_last_year”须说明理由"),
        "{}",
        s.body_text().await
    );
    let (_, still) = app.get_json(&format!("/api/v1/data/requests/{id}"), Some(&fgw)).await;
    assert_eq!(still["status"], "pending");
    s.click(&format!("{card} input[name='approve_revenue_last_year'][value='yes']")).await;
    s.click(&format!("{card} input[name='approve_tax_paid_last_year'][value='yes']")).await;
    s.click(&format!("{card} input[name='approve_rd_expense_last_year'][value='no']")).await;
    s.type_into(&format!("#reason-{id}-rd_expense_last_year"), "研发费用属于商业秘密").await;
    s.click(&format!("{card} form.decide-form button[type=submit]")).await;
    s.wait_for_path("/data/requests").await;
    let text = s.text(&card).await;
    assert!(text.contains("已授权") && text.contains("研发费用属于商业秘密"), "{text}");
    s.log_out().await;

    // The enterprise applies; its tax record is taken from the register; it sees the read.
    let (status, case) = app
        .post_json(
            "/api/v1/cases",
            Some(&rep),
            serde_json::json!({"item_code": "JN-FGW-0003", "enterprise": code, "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}}),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    let number = case["case_number"].as_str().unwrap().to_string();
    let person = app.demo("13800138002").await;
    s.log_in(&person.username, &person.password).await;
    s.goto(&format!("/cases/{number}")).await;
    assert!(s.body_text().await.contains("已通过数据共享自动调取"), "the case shows the shared material");
    s.click("header a[href='/my/data-access']").await;
    s.wait_for_path("/my/data-access").await;
    let page = s.body_text().await;
    assert!(page.contains("企业纳税信息") && page.contains(&number), "{page}");
    assert!(page.contains("上年营业收入"), "{page}");
    shoot_both(s, "my-data-access").await;
}

/// Loads a generated register of 50 enterprises whose first row has these fields.
async fn load_register(app: &TestApp, fields: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.csv");
    let mut bytes = Vec::new();
    quanban::data::generate::enterprises(50, 6, &mut bytes, &mut |_| {}).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let header: Vec<String> = lines[0].split(',').map(String::from).collect();
    let mut cells: Vec<String> = lines[1].split(',').map(String::from).collect();
    for (name, value) in fields {
        let at = header.iter().position(|h| h == name).unwrap();
        cells[at] = value.to_string();
    }
    lines[1] = cells.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let today = app.state.clock().today();
    let report = quanban::data::import::import(
        &app.state.db,
        quanban::data::domain::Register::Enterprises,
        &path,
        "test",
        today,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(report.problem_count, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enterprise_confirms_its_account_and_sees_the_benefit_paid() {
    run("benefits", |s| Box::pin(benefits(s))).await;
}

/// The 免申即享 journey of an enterprise's representative: told by a run that the enterprise
/// qualifies, they open 惠企政策, see why (each condition with the data used), type a bad account
/// (refused next to the field, nothing changes), confirm a good one, and after the next run see
/// the benefit paid; the inbox message leads back to the page.
async fn benefits(s: &Session) {
    let app = &s.app;
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    load_register(
        app,
        &[
            ("uscc", code.as_str()),
            ("status", "active"),
            ("credit_status", "good"),
            ("size", "small"),
            ("employees_last_year", "20"),
            ("layoffs_last_year", "0"),
            ("unemployment_insurance_paid_last_year", "12345.67"),
        ],
    )
    .await;
    struct Quiet;
    impl quanban::policies::service::Progress for Quiet {
        fn phase(&mut self, _: &str, _: u64) {}
        fn advance(&mut self, _: u64) {}
    }
    let run = || async {
        let cancel = std::sync::atomic::AtomicBool::new(false);
        quanban::policies::service::run(&app.state, "JN-ZC-2026-001", "job:test", &cancel, &mut Quiet)
            .await
            .unwrap()
    };
    run().await;

    let person = app.demo("13800138002").await;
    s.log_in(&person.username, &person.password).await;
    s.click("header a[href='/my/benefits']").await;
    s.wait_for_path("/my/benefits").await;
    let card = "#policy-JN-ZC-2026-001";
    let text = s.text(card).await;
    assert!(text.contains("待确认收款账户") && text.contains("¥7,407.40"), "{text}");
    // Why: every condition with the data it was decided on.
    s.click(&format!("{card} details summary")).await;
    let why = s.text(&format!("{card} details table")).await;
    assert!(why.contains("登记状态为“存续”") && why.contains("存续") && why.contains("满足"), "{why}");
    // A policy it does not get says which condition failed.
    let other = s.text("#policy-JN-ZC-2026-002").await;
    assert!(other.contains("不符合条件") && other.contains("未满足"), "{other}");
    shoot_both(s, "benefits-waiting").await;
    s.set_width(1280, 900).await;

    // A bad account is refused next to the field; nothing changes.
    s.type_into(&format!("{card} input[name=account]"), "12ab").await;
    s.click(&format!("{card} form.stack button[type=submit]")).await;
    s.wait_loaded().await;
    assert_eq!(s.attr("#account", "aria-invalid").await.as_deref(), Some("true"));
    assert!(s.text("#account-error").await.contains("10至30位数字"));
    assert_eq!(s.value("#account").await, "12ab", "what was typed is kept");
    let (_, still) = app.get_json(&format!("/api/v1/enterprises/{code}/benefits"), Some(&rep)).await;
    let first = still.as_array().unwrap().iter().find(|b| b["policy"] == "JN-ZC-2026-001").unwrap().clone();
    assert_eq!(first["status"], "awaiting_confirmation");

    s.type_into("#account", "6222 0202 0011 2345 678").await;
    s.type_into(&format!("{card} input[name=bank]"), "工商银行").await;
    s.click(&format!("{card} form.stack button[type=submit]")).await;
    s.wait_for_path("/my/benefits").await;
    let text = s.text(card).await;
    assert!(text.contains("已确认，待拨付") && text.contains("工商银行 **** 5678"), "{text}");
    assert!(!s.body_text().await.contains("6222020200112345678"), "the account is masked");

    // The next run pays; the page and the inbox say so.
    let paid = run().await;
    assert_eq!(paid.run.paid_fen, 740_740);
    s.goto("/inbox").await;
    let inbox = s.body_text().await;
    assert!(inbox.contains("资金已拨付") && inbox.contains("7407.40元"), "{inbox}");
    s.click("main a[href='/my/benefits#policy-JN-ZC-2026-001']").await;
    s.wait_for_path("/my/benefits").await;
    let text = s.text(card).await;
    assert!(text.contains("已拨付") && text.contains("¥7,407.40"), "{text}");
    shoot_both(s, "benefits-paid").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enterprise_applies_for_a_policy_at_the_one_window_and_rates_it() {
    run("policy_application", |s| Box::pin(policy_application(s))).await;
}

/// 申请兑现 as the representative walks it: the benefits page says the enterprise may apply and
/// how the window decides; 申请兑现 opens the application with the policy and the enterprise
/// chosen; the check page names the policy; the window decides at acceptance; the page asks for
/// the account, pays, and then asks how it helped (a missing rating is refused next to it).
async fn policy_application(s: &Session) {
    let app = &s.app;
    // 2026-06-03 10:00 in Beijing: the graduate-hiring subsidy takes applications.
    app.clock().set("2026-06-03T02:00:00Z".parse().unwrap()).unwrap();
    let rep = app.demo_token("13800138002").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&rep)).await;
    let code = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    load_register(
        app,
        &[
            ("uscc", code.as_str()),
            ("status", "active"),
            ("credit_status", "good"),
            ("new_graduate_hires_last_year", "4"),
        ],
    )
    .await;

    let person = app.demo("13800138002").await;
    s.log_in(&person.username, &person.password).await;
    s.goto("/my/benefits").await;
    let card = "#policy-JN-ZC-2026-008";
    let text = s.text(card).await;
    assert!(
        text.contains("符合条件，可申请兑现") && text.contains("窗口直办") && text.contains("¥6,000.00"),
        "{text}"
    );
    s.click(&format!("{card} form.inline button[type=submit]")).await;
    let contact = s.wait_loaded().await;
    assert!(contact.starts_with("/drafts/") && contact.ends_with("/contact"), "{contact}");
    assert_eq!(s.value("#policy").await, "JN-ZC-2026-008", "the policy is chosen already");
    assert_eq!(s.value("#enterprise").await, code, "so is the enterprise");
    s.type_into("[name=contact_phone]", "13800138002").await;
    s.click("#next").await;
    s.wait_for_path(&contact.replace("/contact", "/materials")).await;
    s.click("#next").await;
    s.wait_for_path(&contact.replace("/contact", "/check")).await;
    let answers = s.text("#check-answers").await;
    assert!(answers.contains("吸纳高校毕业生就业补贴"), "{answers}");
    shoot_both(s, "policy-application-check").await;
    s.set_width(1280, 900).await;
    s.click("#submit-application").await;
    let page = s.wait_loaded().await;
    assert!(page.ends_with("?submitted=1"), "{page}");
    let number = page.trim_start_matches("/cases/").trim_end_matches("?submitted=1").to_string();
    assert!(s.body_text().await.contains("惠企政策兑现申请：吸纳高校毕业生就业补贴"));

    // The window decides it at acceptance (直办).
    let window = app.token_for_staff_with("fgw.window", "JN-FGW", &["window_clerk"]).await;
    let (status, decided) = app
        .post_json(&format!("/api/v1/cases/{number}/actions/accept"), Some(&window), serde_json::json!({}))
        .await;
    assert_eq!((status, decided["state"].as_str()), (200, Some("approved")), "{decided}");

    s.goto("/my/benefits").await;
    let text = s.text(card).await;
    assert!(text.contains("待确认收款账户") && text.contains(&number), "{text}");
    s.type_into(&format!("{card} input[name=account]"), "6222020200112345678").await;
    s.click(&format!("{card} form.stack button[type=submit]")).await;
    s.wait_for_path("/my/benefits").await;
    let text = s.text(card).await;
    assert!(text.contains("已拨付") && text.contains("¥6,000.00"), "paid on confirmation: {text}");

    // 跟踪问效: a follow-up without stars is refused next to them; what was typed stays.
    s.type_into(&format!("{card} textarea[name=effect]"), "补贴用于4名毕业生岗前培训").await;
    s.click(&format!("{card} form.stack button[type=submit]")).await;
    s.wait_loaded().await;
    let text = s.text(card).await;
    assert!(text.contains("请填写评价"), "{text}");
    assert_eq!(s.value(&format!("{card} textarea[name=effect]")).await, "补贴用于4名毕业生岗前培训");
    s.click(&format!("{card} input[name=rating][value='5']")).await;
    s.click(&format!("{card} form.stack button[type=submit]")).await;
    s.wait_for_path("/my/benefits").await;
    let text = s.text(card).await;
    assert!(text.contains("★★★★★") && text.contains("岗前培训"), "{text}");
    shoot_both(s, "policy-application-followed-up").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn construction_project_stage_by_stage_with_a_joint_review() {
    run("construction_project", |s| Box::pin(construction_project(s))).await;
}

/// A builder registers a construction project (a mistake first), applies for its first stage
/// from the project, sees the next stage stay closed; a member department gives its opinion on
/// a joint drawing review; the supervision office finds the project by stage and light.
async fn construction_project(s: &Session) {
    let rep = s.app.demo("13800138002").await;
    s.log_in(&rep.username, &rep.password).await;
    s.goto("/bundles").await;
    s.click("#projects-card h2 a").await;
    s.wait_for_path("/projects").await;
    assert!(s.exists("#no-projects").await);
    s.click("#register-project").await;
    s.wait_for_path("/projects/new").await;
    // A mistake: no name, words for the floor area. Each field says what is wrong, the input stays.
    s.type_into("#floor_area_m2", "三万").await;
    s.click("#register-submit").await;
    s.wait_loaded().await;
    assert!(s.exists("#form-errors").await);
    assert_eq!(s.attr("#name", "aria-invalid").await.as_deref(), Some("true"));
    assert_eq!(s.attr("#floor_area_m2", "aria-invalid").await.as_deref(), Some("true"));
    assert_eq!(s.value("#floor_area_m2").await, "三万");
    assert!(s.text("#form-errors").await.contains("建筑面积须填写数字"));
    shoot_both(s, "project-new-errors").await;
    s.type_into("#name", "泉城智能制造产业园一期").await;
    s.script("document.getElementById('district').value = '历城区'; return null").await;
    s.type_into("#location", "港源七路以东").await;
    s.find("#floor_area_m2").await.clear().await.unwrap();
    s.type_into("#floor_area_m2", "32000").await;
    s.type_into("#investment_wan", "18500").await;
    s.click("#register-submit").await;
    let page = s.wait_loaded().await;
    assert!(page.contains("/projects/") && page.ends_with("?registered=1"), "{page}");
    let code = s.text("#project-code").await;
    let statuses: Vec<String> = {
        let mut v = Vec::new();
        for li in s.find_all("#project-stages > li").await {
            v.push(li.attr("data-status").await.unwrap().unwrap_or_default());
        }
        v
    };
    assert_eq!(statuses, ["open", "locked", "locked", "locked"]);
    assert!(!s.exists("#apply-stage-2").await, "a later stage cannot be applied for yet");
    shoot_both(s, "project").await;

    // Stage 1 from the project: the bundle page says which project and whose name it is in.
    s.click("#apply-stage-1").await;
    s.wait_loaded().await;
    assert!(s.text("#stage-of-project").await.contains(&code));
    s.click("form[action='/bundles/JN-GCXM-1'] button[type=submit]").await;
    s.wait_loaded().await;
    assert!(s.text("#applying-as").await.contains("济南泉城小馆餐饮有限公司"));
    shoot_both(s, "project-stage-bundle").await;
    s.click("#apply-bundle").await;
    let contact = s.wait_loaded().await;
    assert!(contact.ends_with("/contact"), "{contact}: {}", s.body_text().await);
    s.type_into("[name=contact_phone]", "13800138002").await;
    s.click("#next").await;
    s.wait_for_path(&contact.replace("/contact", "/materials")).await;
    s.click("#next").await;
    s.wait_for_path(&contact.replace("/contact", "/check")).await;
    s.click("#submit-application").await;
    let page = s.wait_loaded().await;
    assert!(page.ends_with("?submitted=1"), "{page}: {}", s.body_text().await);
    assert!(s.text("#case-project").await.contains(&code));
    s.click("#case-project a").await;
    s.wait_loaded().await;
    assert_eq!(s.attr("#stage-1", "data-status").await.as_deref(), Some("in_progress"));
    assert!(s.text("#stage-1").await.contains("已用 0"), "{}", s.text("#stage-1").await);
    assert!(s.text("#project-clock").await.contains("0 / 120"));
    // Opened by hand, stage 2 says why it cannot be applied for, and offers no way to.
    s.goto(&format!("/bundles/JN-GCXM-2?project={code}")).await;
    assert!(s.text("#stage-refusal").await.contains("立项用地规划许可"));
    s.click("form[action='/bundles/JN-GCXM-2'] button[type=submit]").await;
    s.wait_loaded().await;
    assert!(!s.exists("#apply-bundle").await);

    // A joint drawing review under review, waiting for the planning bureau's opinion.
    let token = s.app.demo_token("13800138002").await;
    let (_, me) = s.app.get_json("/api/v1/me", Some(&token)).await;
    let enterprise = me["enterprises"][0]["credit_code"].as_str().unwrap().to_string();
    let (st, b) = s
        .app
        .post_json(
            "/api/v1/cases",
            Some(&token),
            json!({"item_code": "JN-ZJJ-0008", "enterprise": enterprise,
                   "form": {"contact_name": "刘芳", "contact_phone": "13800138002"}}),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    let n = b["case_number"].as_str().unwrap().to_string();
    let lead =
        s.app.token_for_staff_with("zjj.lead", "JN-ZJJ", &["window_clerk", "reviewer", "approver"]).await;
    for a in ["accept", "start_review"] {
        let (st, b) =
            s.app.post_json(&format!("/api/v1/cases/{n}/actions/{a}"), Some(&lead), json!({})).await;
        assert_eq!(st, 200, "{b}");
    }
    s.log_out().await;
    let member = s.app.demo("zrj.reviewer").await;
    s.log_in(&member.username, &member.password).await;
    s.goto("/joint-reviews").await;
    assert!(s.text("#joint-list").await.contains(&n));
    s.click(&format!("#joint-list a[href='/cases/{n}#joint-review']")).await;
    s.wait_loaded().await;
    assert!(s.exists("#joint-waiting").await);
    // 不同意 without saying what to put right: refused next to the field.
    s.click("#opinion-fail").await;
    s.click("#give-opinion").await;
    s.wait_loaded().await;
    assert_eq!(s.attr("#comment", "aria-invalid").await.as_deref(), Some("true"));
    assert!(s.text("#form-errors").await.contains("不同意时须写明需要整改的内容"));
    s.click("#opinion-pass").await;
    s.click("#give-opinion").await;
    s.wait_loaded().await;
    let planning = s.text("#joint-members tr[data-department='JN-ZRJ']").await;
    assert!(planning.contains("同意") && planning.contains("黄振宇"), "{planning}");
    assert!(!s.exists("#joint-opinion-form").await, "an agreement is given once");
    shoot_both(s, "joint-review").await;
    s.goto("/joint-reviews").await;
    assert!(s.exists("#no-joint").await, "nothing left for the planning bureau");
    s.log_out().await;

    // The supervision office: projects by stage and light, down to the project.
    let supervisor = s.app.demo("dsj.supervisor").await;
    s.log_in(&supervisor.username, &supervisor.password).await;
    s.goto("/supervision/projects").await;
    assert_eq!(s.text("#projects-total").await, "1");
    let first = s.text("#stage-lights tr[data-stage='1']").await;
    assert!(first.contains("立项用地规划许可") && first.contains('1'), "{first}");
    shoot_both(s, "supervision-projects").await;
    s.click("#stage-lights tr[data-stage='1'] td:nth-child(2) a").await;
    s.wait_loaded().await;
    assert!(s.text("#project-list").await.contains("泉城智能制造产业园一期"));
    s.goto("/supervision/projects?stage=2").await;
    assert!(s.exists("#no-projects").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_case_gets_a_supervision_order_and_the_head_closes_it() {
    run("supervision_order", |s| Box::pin(supervision_order(s))).await;
}

/// 电子监察: a case is left past its due date; the supervision office runs the sweep and sees the
/// order; the bureau's head finds it at 督办整改 and closes it with what was done.
async fn supervision_order(s: &Session) {
    let citizen = s.app.demo_token("13800138001").await;
    let clerk = s.app.demo_token("spj.clerk").await;
    let number = food_licence_by_api(s, &citizen).await;
    let (st, b) =
        s.app.post_json(&format!("/api/v1/cases/{number}/actions/accept"), Some(&clerk), json!({})).await;
    assert_eq!(st, 200, "{b}");
    s.app.clock().advance(chrono::Duration::days(30)).unwrap();
    let supervisor = s.app.demo("dsj.supervisor").await;
    s.log_in(&supervisor.username, &supervisor.password).await;
    s.goto("/supervision").await;
    s.click("#to-orders").await;
    s.wait_for_path("/supervision/orders").await;
    assert!(s.exists("#no-orders").await);
    s.click("#run-sweep").await;
    s.wait_loaded().await;
    assert!(s.text("#notice").await.contains("新超期 1 件"), "{}", s.text("#notice").await);
    let order = s.text("#orders li").await;
    assert!(order.contains("济政务督〔") && order.contains(&number) && order.contains("待整改"), "{order}");
    assert!(!s.exists("#orders form").await, "the supervision office does not close orders");
    // The form to issue one by hand, opened.
    s.click("#issue-panel summary").await;
    assert!(s.exists("#issue-department").await);
    shoot_both(s, "supervision-orders").await;
    s.log_out().await;
    let head = s.app.demo("spj.head").await;
    s.log_in(&head.username, &head.password).await;
    s.click("header a[href='/supervision/orders']").await;
    s.wait_for_path("/supervision/orders").await;
    s.type_into("#rectification-1", "已督促承办人当日办结，并调整受理排班").await;
    s.click("#close-1").await;
    s.wait_loaded().await;
    assert!(s.text("#notice").await.contains("督办单已办结"));
    assert_eq!(s.attr("#orders li", "data-status").await.as_deref(), Some("closed"));
    assert!(s.text("#orders li").await.contains("已督促承办人当日办结"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_supervisor_and_a_head_read_the_scorecards_down_to_the_cases() {
    run("assessment", |s| Box::pin(assessment_journey(s))).await;
}

/// 部门考评: a case decided on time; the supervision office opens the ranking, the bureau's
/// scorecard and the on-time figure's records, down to the case; the bureau's head reads the
/// ranking and their own records, and another bureau's scorecard is not there for them.
async fn assessment_journey(s: &Session) {
    let citizen = s.app.demo_token("13800138001").await;
    let number = food_licence_by_api(s, &citizen).await;
    let tokens = [
        s.app.demo_token("spj.clerk").await,
        s.app.demo_token("spj.reviewer").await,
        s.app.demo_token("spj.approver").await,
    ];
    s.app.drive_to_delivery(&tokens, &number).await;
    let supervisor = s.app.demo("dsj.supervisor").await;
    s.log_in(&supervisor.username, &supervisor.password).await;
    s.goto("/supervision").await;
    s.click("#to-assessment").await;
    s.wait_for_path("/assessment").await;
    let row = s.text("#rank-JN-SPJ").await;
    assert!(row.contains("行政审批服务局"), "{row}");
    assert!(s.text("#formulas").await.contains("按时办结率"));
    shoot_both(s, "assessment").await;
    s.click("#rank-JN-SPJ a").await;
    assert!(s.wait_loaded().await.starts_with("/assessment/JN-SPJ?from="));
    let decided = s.attr("#figure-on_time", "data-denominator").await.unwrap();
    assert!(decided.parse::<u32>().unwrap() >= 1, "{decided}");
    // The office cannot change a figure; it comments. A blank comment is named, then one is kept.
    s.click("#comment-submit").await;
    assert!(s.wait_loaded().await.starts_with("/assessment/JN-SPJ/comments"));
    assert!(s.text("#form-errors").await.contains("督查意见"), "{}", s.text("#form-errors").await);
    s.type_into("#body", "按时办结情况良好，请保持并关注即将到期的办件").await;
    s.click("#comment-submit").await;
    assert!(s.wait_loaded().await.starts_with("/assessment/JN-SPJ?from="));
    assert!(s.text("#comment-list").await.contains("按时办结情况良好"));
    shoot_both(s, "assessment-comment").await;
    s.click("#figure-on_time a").await;
    assert!(s.wait_loaded().await.starts_with("/assessment/JN-SPJ/on_time?from="));
    assert_eq!(s.text("#denominator").await, decided);
    assert!(s.text("#records").await.contains(&number));
    shoot_both(s, "assessment-records").await;
    s.click(&format!("#records a[href='/cases/{number}']")).await;
    s.wait_for_path(&format!("/cases/{number}")).await;
    s.log_out().await;

    let head = s.app.demo("spj.head").await;
    s.log_in(&head.username, &head.password).await;
    s.click("header a[href='/assessment']").await;
    s.wait_for_path("/assessment").await;
    assert!(s.exists("#rank-JN-SPJ a").await, "their own bureau opens");
    s.click("#rank-JN-SPJ a").await;
    assert!(s.wait_loaded().await.starts_with("/assessment/JN-SPJ?from="));
    assert!(s.text("#comment-list").await.contains("按时办结情况良好"), "the head reads the comment");
    assert!(!s.exists("#comment-form").await, "and cannot write one");
    s.goto("/assessment").await;
    assert!(!s.exists("#rank-JN-SCJ a").await, "another bureau's records are not theirs");
    s.goto("/assessment/JN-SCJ/on_time").await;
    assert!(s.text("main").await.contains("找不到该页面"), "{}", s.text("main").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_supervisor_and_a_head_read_the_dashboard_and_open_its_numbers() {
    run("dashboard", |s| Box::pin(dashboard_journey(s))).await;
}

/// 数据驾驶舱: an application accepted and left past its due date; the supervision office opens
/// the dashboard from the header, sees the city's figures, switches to the bureau, and follows the
/// overdue tile down to the case; the bureau's head opens their own dashboard (no switch), and
/// anyone reads the published figures.
async fn dashboard_journey(s: &Session) {
    let citizen = s.app.demo_token("13800138001").await;
    let number = food_licence_by_api(s, &citizen).await;
    let clerk = s.app.demo_token("spj.clerk").await;
    let (status, c) = s
        .app
        .post_json(&format!("/api/v1/cases/{number}/actions/accept"), Some(&clerk), serde_json::json!({}))
        .await;
    assert_eq!(status, 200, "{c}");
    let due: chrono::NaiveDate = c["due_date"].as_str().unwrap().parse().unwrap();
    let cal = s.app.state.calendar().await;
    let after = cal.add_working_days(due, 1);
    s.app.clock().set(quanban::platform::clock::from_beijing(after.and_hms_opt(10, 0, 0).unwrap())).unwrap();
    let supervisor = s.app.demo("dsj.supervisor").await;
    s.log_in(&supervisor.username, &supervisor.password).await;
    s.click("header a[href='/dashboard']").await;
    s.wait_for_path("/dashboard").await;
    assert!(s.text("#scope-name").await.contains("全市"));
    assert!(s.exists("#dashboard-chart .uplot").await, "the chart is drawn");
    shoot_both(s, "dashboard").await;
    // To the bureau, by the scope switch.
    s.find("#department option[value='JN-SPJ']").await.click().await.unwrap();
    s.click("#dashboard-submit").await;
    assert!(s.wait_loaded().await.starts_with("/dashboard?department=JN-SPJ"));
    assert_eq!(s.text("#tile-red .tile-value").await, "1");
    // The tile leads to the overdue list on the same page.
    assert!(s.attr("#tile-red", "href").await.unwrap().ends_with("#overdue"));
    s.click("#tile-red").await;
    s.click(&format!("#dashboard-overdue a[href='/cases/{number}']")).await;
    s.wait_for_path(&format!("/cases/{number}")).await;
    s.log_out().await;

    let head = s.app.demo("spj.head").await;
    s.log_in(&head.username, &head.password).await;
    s.click("header a[href='/dashboard']").await;
    s.wait_for_path("/dashboard").await;
    assert!(!s.exists("#department").await, "a head sees their own bureau only");
    assert_eq!(s.text("#tile-red .tile-value").await, "1");
    s.click("#tile-on-time").await;
    assert!(s.wait_loaded().await.starts_with("/assessment/JN-SPJ/on_time?from="));
    s.log_out().await;
    s.goto("/open-data").await;
    assert!(s.exists("#city-figures").await);
    shoot_both(s, "open-data").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reform_task_is_imported_reported_returned_and_accepted() {
    run("reform_task", |s| Box::pin(reform_journey(s))).await;
}

/// 改革任务: the supervision office uploads the plan's sheet; the bureau's head reports the
/// first milestone (refused without its evidence, the text kept), the office returns it with a
/// comment, the head reports again with a link, the office accepts it.
async fn reform_journey(s: &Session) {
    let cal = s.app.state.calendar().await;
    let due = cal.add_working_days(s.app.clock().today(), 5).to_string();
    let cells = |c: &[&str]| c.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let bytes = crate::reform::sheet(&[cells(&[
        "RT-07",
        "政务服务一网通办",
        "服务方式集成",
        "",
        "济南市行政审批服务局",
        "济南市大数据局",
        "上线移动端",
        &due,
        "是",
    ])]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tasks.xlsx");
    std::fs::write(&file, bytes).unwrap();
    let supervisor = s.app.demo("dsj.supervisor").await;
    s.log_in(&supervisor.username, &supervisor.password).await;
    s.click("header a[href='/reform-tasks']").await;
    s.wait_for_path("/reform-tasks").await;
    s.find("#file").await.send_keys(file.display().to_string()).await.unwrap();
    s.click("#import-submit").await;
    s.wait_for_path("/reform-tasks?imported=1").await;
    assert!(s.text("#task-RT-07").await.contains("上线移动端"));
    s.log_out().await;

    let head = s.app.demo("spj.head").await;
    s.log_in(&head.username, &head.password).await;
    s.click("header a[href='/reform-tasks']").await;
    s.wait_for_path("/reform-tasks").await;
    s.click("#task-RT-07 h2 a").await;
    s.wait_for_path("/reform-tasks/RT-07").await;
    s.type_into("#report-1", "移动端已上线试运行").await;
    s.click("#report-submit-1").await;
    s.wait_loaded().await;
    assert!(s.text("#form-errors").await.contains("佐证"), "{}", s.body_text().await);
    let kept = s.script("return document.getElementById('report-1').value").await;
    assert_eq!(kept, "移动端已上线试运行", "the text is kept");
    s.type_into("#links-1", "/catalog").await;
    s.click("#report-submit-1").await;
    s.wait_for_path("/reform-tasks/RT-07?done=report").await;
    assert_eq!(s.attr("#m1", "data-status").await.as_deref(), Some("reported"));
    s.log_out().await;

    s.log_in(&supervisor.username, &supervisor.password).await;
    s.goto("/reform-tasks/RT-07").await;
    s.type_into("#comment-1", "请附上线公告").await;
    s.click("#return-1").await;
    s.wait_for_path("/reform-tasks/RT-07?done=return").await;
    assert!(s.text("#m1 .comment").await.contains("请附上线公告"));
    s.log_out().await;

    s.log_in(&head.username, &head.password).await;
    s.goto("/reform-tasks/RT-07").await;
    s.type_into("#report-1", "已发布上线公告").await;
    s.type_into("#links-1", "/catalog").await;
    s.click("#report-submit-1").await;
    s.wait_for_path("/reform-tasks/RT-07?done=report").await;
    s.log_out().await;

    s.log_in(&supervisor.username, &supervisor.password).await;
    s.goto("/reform-tasks/RT-07").await;
    s.click("#accept-1").await;
    s.wait_for_path("/reform-tasks/RT-07?done=accept").await;
    assert_eq!(s.attr("#m1", "data-status").await.as_deref(), Some("accepted"));
    shoot_both(s, "reform-task").await;
}
