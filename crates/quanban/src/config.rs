//! Configuration in layers: built-in defaults → a TOML file (`--config`, or `quanban.toml` in the
//! data directory when present) → `QUANBAN_*` environment variables → command-line flags.
//!
//! | setting | env | default | meaning |
//! |---|---|---|---|
//! | `data_dir` | `QUANBAN_DATA` | `./data` | where the SQLite database and local state live |
//! | `bind` | `QUANBAN_BIND` | `127.0.0.1:8080` | address the HTTP server listens on |
//! | `database_url` | `QUANBAN_DATABASE_URL` | `sqlite://<data_dir>/quanban.db` | `postgres://…` to run on PostgreSQL |
//! | `max_connections` | `QUANBAN_MAX_CONNECTIONS` | 16 | database pool size |
//! | `production` | `QUANBAN_PRODUCTION` | false | refuse demo accounts; require secure cookies |
//! | `session_hours` | `QUANBAN_SESSION_HOURS` | 8 | how long a login lasts |
//! | `secure_cookies` | `QUANBAN_SECURE_COOKIES` | true | mark cookies `Secure` (browsers accept them on localhost) |
//! | `max_body_bytes` | `QUANBAN_MAX_BODY_BYTES` | 1048576 | largest request body accepted |
//! | `checkpoint_seconds` | `QUANBAN_CHECKPOINT_SECONDS` | 60 | how often audit checkpoints are sealed |
//! | `log` | `QUANBAN_LOG` | `info` | tracing filter (`RUST_LOG` syntax) |
//! | `yellow_days` | `QUANBAN_YELLOW_DAYS` | 1 | a case's light turns yellow with at most this many working days left |
//! | `post_check_days` | `QUANBAN_POST_CHECK_DAYS` | 20 | working days the supervising department has for a post-approval check of a commitment |
//! | `figures_cache_seconds` | `QUANBAN_FIGURES_CACHE_SECONDS` | 60 | seconds computed scorecards and dashboards are reused before they are summed again (0: never) |
//! | `supplement_days` | `QUANBAN_SUPPLEMENT_DAYS` | 15 | working days an applicant has to answer a 补正 before monitoring raises it |
//! | `outbox_file` | `QUANBAN_OUTBOX_FILE` | `<data_dir>/outbox.jsonl` | where the local SMS/e-mail sender writes messages |
//! | `public_url` | `QUANBAN_PUBLIC_URL` | `http://127.0.0.1:8080` | the address people and verifiers reach the platform at; e-licence issuer ids, status lists and QR codes use it |
//! | `slot_minutes` | `QUANBAN_SLOT_MINUTES` | 30 | length of an appointment slot |
//! | `slot_capacity` | `QUANBAN_SLOT_CAPACITY` | 0 | people per slot; 0 means a quarter of the hall's windows (1 to 20) |
//! | `booking_days` | `QUANBAN_BOOKING_DAYS` | 10 | how many working days ahead one can book |
//! | `cancel_minutes` | `QUANBAN_CANCEL_MINUTES` | 60 | cancelling is possible until this long before the slot |
//! | `no_show_limit` | `QUANBAN_NO_SHOW_LIMIT` | 3 | no-shows within 90 days that pause booking |
//! | `no_show_pause_days` | `QUANBAN_NO_SHOW_PAUSE_DAYS` | 30 | how long booking is paused after that |
//! | `seal_key` | `QUANBAN_SEAL_KEY` | none | secret (≥ 32 characters) that wraps the seals' private keys; required with `production` |
//! | `rating_window_days` | `QUANBAN_RATING_WINDOW_DAYS` | 5 | working days after a service in which it can still be rated |
//! | `rectify_days` | `QUANBAN_RECTIFY_DAYS` | 5 | working days a department has to rectify a bad review and answer |
//! | `cluster_radius_m` | `QUANBAN_CLUSTER_RADIUS_M` | 500 | 未诉先办: complaints this close (metres, chained) form a cluster |
//! | `cluster_days` | `QUANBAN_CLUSTER_DAYS` | 7 | 未诉先办: the window of days a cluster is looked for in |
//! | `cluster_min` | `QUANBAN_CLUSTER_MIN` | 3 | 未诉先办: complaints needed to raise a proactive task |
//! | `metrics_token` | `QUANBAN_METRICS_TOKEN` | none | `/metrics` answers the host itself, or a caller sending `Authorization: Bearer <token>` |
//! | `rate_limits` | `QUANBAN_RATE_LIMITS` | true | per-client-address limits on login, registration, Open311 posts and the guide (off only for load tests on one machine) |
//! | `clock` | `QUANBAN_CLOCK` | the system clock | an RFC 3339 instant to run on a fixed clock (tests, demonstrations, rehearsing a date); refused with `production` |

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub data_dir: PathBuf,
    pub bind: String,
    pub database_url: Option<String>,
    pub max_connections: u32,
    pub production: bool,
    pub session_hours: i64,
    pub secure_cookies: bool,
    pub max_body_bytes: usize,
    pub checkpoint_seconds: u64,
    pub log: String,
    pub yellow_days: u32,
    pub post_check_days: u32,
    pub supplement_days: u32,
    pub figures_cache_seconds: u32,
    pub outbox_file: Option<PathBuf>,
    pub public_url: String,
    pub seal_key: Option<Secret>,
    pub slot_minutes: u32,
    pub slot_capacity: u32,
    pub booking_days: u32,
    pub cancel_minutes: u32,
    pub no_show_limit: u32,
    pub no_show_pause_days: u32,
    pub rating_window_days: u32,
    pub rectify_days: u32,
    pub cluster_radius_m: u32,
    pub cluster_days: u32,
    pub cluster_min: u32,
    /// Per-client-address request limits (see `http::limits`).
    pub rate_limits: bool,
    /// Lets a remote collector read `/metrics` (see `http::ops::metrics`).
    pub metrics_token: Option<Secret>,
    /// A fixed instant to run at instead of the system clock (RFC 3339).
    pub clock: Option<String>,
    /// The department assessment's weights and period (a file shaped like
    /// `reference/assessment.json`, which is the default).
    pub assessment: Option<PathBuf>,
}

/// A configured secret: never printed by `Debug`.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./data"),
            bind: "127.0.0.1:8080".into(),
            database_url: None,
            max_connections: 16,
            production: false,
            session_hours: 8,
            secure_cookies: true,
            max_body_bytes: 1024 * 1024,
            checkpoint_seconds: 60,
            log: "info".into(),
            yellow_days: 1,
            post_check_days: 20,
            supplement_days: 15,
            figures_cache_seconds: 60,
            outbox_file: None,
            public_url: "http://127.0.0.1:8080".into(),
            seal_key: None,
            slot_minutes: 30,
            slot_capacity: 0,
            booking_days: 10,
            cancel_minutes: 60,
            no_show_limit: 3,
            no_show_pause_days: 30,
            rating_window_days: 5,
            rectify_days: 5,
            cluster_radius_m: 500,
            cluster_days: 7,
            cluster_min: 3,
            rate_limits: true,
            metrics_token: None,
            clock: None,
            assessment: None,
        }
    }
}

impl Config {
    /// The assessment scheme: the configured file's, or the shipped one.
    pub fn assessment_scheme(&self) -> anyhow::Result<quanban_domain::assessment::Scheme> {
        match &self.assessment {
            None => Ok(quanban_domain::assessment::Scheme::shipped()),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading the assessment scheme {}", path.display()))?;
                quanban_domain::assessment::Scheme::parse(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
            }
        }
    }

    /// Defaults, then the file (explicit, or `quanban.toml` in the data directory), then the
    /// environment. Command-line flags are applied by the caller on top.
    pub fn load(file: Option<&Path>, data_dir: Option<&Path>) -> anyhow::Result<Config> {
        let mut cfg = Config::default();
        if let Some(dir) = data_dir {
            cfg.data_dir = dir.to_path_buf();
        }
        let file = match file {
            Some(f) => Some(f.to_path_buf()),
            None => {
                let candidate = cfg.data_dir.join("quanban.toml");
                candidate.exists().then_some(candidate)
            }
        };
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading config file {}", path.display()))?;
            cfg = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
            if let Some(dir) = data_dir {
                cfg.data_dir = dir.to_path_buf();
            }
        }
        cfg.apply_env(|k| std::env::var(k).ok())?;
        Ok(cfg)
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        fn parse<T: std::str::FromStr>(key: &str, v: String) -> anyhow::Result<T> {
            v.parse().map_err(|_| anyhow::anyhow!("{key}: cannot parse {v:?}"))
        }
        if let Some(v) = get("QUANBAN_DATA") {
            self.data_dir = v.into();
        }
        if let Some(v) = get("QUANBAN_BIND") {
            self.bind = v;
        }
        if let Some(v) = get("QUANBAN_DATABASE_URL").filter(|v| !v.is_empty()) {
            self.database_url = Some(v);
        }
        if let Some(v) = get("QUANBAN_MAX_CONNECTIONS") {
            self.max_connections = parse("QUANBAN_MAX_CONNECTIONS", v)?;
        }
        if let Some(v) = get("QUANBAN_PRODUCTION") {
            self.production = parse_bool("QUANBAN_PRODUCTION", &v)?;
        }
        if let Some(v) = get("QUANBAN_SESSION_HOURS") {
            self.session_hours = parse("QUANBAN_SESSION_HOURS", v)?;
        }
        if let Some(v) = get("QUANBAN_RATE_LIMITS") {
            self.rate_limits = parse_bool("QUANBAN_RATE_LIMITS", &v)?;
        }
        if let Some(v) = get("QUANBAN_SECURE_COOKIES") {
            self.secure_cookies = parse_bool("QUANBAN_SECURE_COOKIES", &v)?;
        }
        if let Some(v) = get("QUANBAN_MAX_BODY_BYTES") {
            self.max_body_bytes = parse("QUANBAN_MAX_BODY_BYTES", v)?;
        }
        if let Some(v) = get("QUANBAN_CHECKPOINT_SECONDS") {
            self.checkpoint_seconds = parse("QUANBAN_CHECKPOINT_SECONDS", v)?;
        }
        if let Some(v) = get("QUANBAN_ASSESSMENT").filter(|v| !v.is_empty()) {
            self.assessment = Some(v.into());
        }
        if let Some(v) = get("QUANBAN_LOG") {
            self.log = v;
        }
        if let Some(v) = get("QUANBAN_YELLOW_DAYS") {
            self.yellow_days = parse("QUANBAN_YELLOW_DAYS", v)?;
        }
        if let Some(v) = get("QUANBAN_POST_CHECK_DAYS") {
            self.post_check_days = parse("QUANBAN_POST_CHECK_DAYS", v)?;
        }
        if let Some(v) = get("QUANBAN_FIGURES_CACHE_SECONDS") {
            self.figures_cache_seconds = parse("QUANBAN_FIGURES_CACHE_SECONDS", v)?;
        }
        if let Some(v) = get("QUANBAN_SUPPLEMENT_DAYS") {
            self.supplement_days = parse("QUANBAN_SUPPLEMENT_DAYS", v)?;
        }
        if let Some(v) = get("QUANBAN_OUTBOX_FILE").filter(|v| !v.is_empty()) {
            self.outbox_file = Some(v.into());
        }
        if let Some(v) = get("QUANBAN_PUBLIC_URL").filter(|v| !v.is_empty()) {
            self.public_url = v;
        }
        for (key, field) in [
            ("QUANBAN_SLOT_MINUTES", &mut self.slot_minutes),
            ("QUANBAN_SLOT_CAPACITY", &mut self.slot_capacity),
            ("QUANBAN_BOOKING_DAYS", &mut self.booking_days),
            ("QUANBAN_CANCEL_MINUTES", &mut self.cancel_minutes),
            ("QUANBAN_NO_SHOW_LIMIT", &mut self.no_show_limit),
            ("QUANBAN_NO_SHOW_PAUSE_DAYS", &mut self.no_show_pause_days),
            ("QUANBAN_RATING_WINDOW_DAYS", &mut self.rating_window_days),
            ("QUANBAN_RECTIFY_DAYS", &mut self.rectify_days),
            ("QUANBAN_CLUSTER_RADIUS_M", &mut self.cluster_radius_m),
            ("QUANBAN_CLUSTER_DAYS", &mut self.cluster_days),
            ("QUANBAN_CLUSTER_MIN", &mut self.cluster_min),
        ] {
            if let Some(v) = get(key) {
                *field = parse(key, v)?;
            }
        }
        if let Some(v) = get("QUANBAN_CLOCK").filter(|v| !v.is_empty()) {
            self.clock = Some(v);
        }
        if let Some(v) = get("QUANBAN_SEAL_KEY").filter(|v| !v.is_empty()) {
            self.seal_key = Some(Secret(v));
        }
        if let Some(v) = get("QUANBAN_METRICS_TOKEN").filter(|v| !v.is_empty()) {
            self.metrics_token = Some(Secret(v));
        }
        Ok(())
    }

    /// Where the local message sender appends SMS and e-mail (one JSON object per line).
    pub fn outbox_path(&self) -> PathBuf {
        self.outbox_file.clone().unwrap_or_else(|| self.data_dir.join("outbox.jsonl"))
    }

    /// The clock to run on: the system's, or a fixed one at the configured instant. A production
    /// platform always follows the system clock.
    pub fn clock(&self) -> anyhow::Result<crate::platform::clock::Clock> {
        use crate::platform::clock::Clock;
        match &self.clock {
            None => Ok(Clock::system()),
            Some(_) if self.production => {
                anyhow::bail!("clock: a production platform runs on the system clock; remove QUANBAN_CLOCK")
            }
            Some(at) => Clock::fixed_at(at).with_context(|| {
                format!("clock: expected an RFC 3339 instant such as 2026-12-05T20:30:00+08:00, got {at:?}")
            }),
        }
    }

    /// The database URL in force: the configured one, or the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("quanban.db").display()),
        }
    }

    /// The URL with any password replaced, for logs and the start-up banner.
    pub fn database_url_redacted(&self) -> String {
        let url = self.database_url();
        match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if at > s => {
                let creds = &url[s + 3..at];
                match creds.split_once(':') {
                    Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                    None => url,
                }
            }
            _ => url,
        }
    }
}

fn parse_bool(key: &str, v: &str) -> anyhow::Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => anyhow::bail!("{key}: expected true or false, got {v:?}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_defaults() {
        let mut cfg = Config::default();
        cfg.apply_env(|k| match k {
            "QUANBAN_BIND" => Some("0.0.0.0:9000".into()),
            "QUANBAN_PRODUCTION" => Some("yes".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(cfg.bind, "0.0.0.0:9000");
        assert!(cfg.production);
        assert_eq!(cfg.session_hours, 8);
    }

    #[test]
    fn bad_env_value_names_the_variable() {
        let mut cfg = Config::default();
        let err =
            cfg.apply_env(|k| (k == "QUANBAN_MAX_CONNECTIONS").then(|| "many".to_string())).unwrap_err();
        assert!(err.to_string().contains("QUANBAN_MAX_CONNECTIONS"));
    }

    #[test]
    fn file_layer_is_read_and_unknown_keys_rejected() {
        let cfg: Config = toml::from_str("bind = \"127.0.0.1:1\"\nsession_hours = 2").unwrap();
        assert_eq!(cfg.bind, "127.0.0.1:1");
        assert_eq!(cfg.session_hours, 2);
        assert!(toml::from_str::<Config>("bnid = \"x\"").is_err());
    }

    #[test]
    fn a_fixed_clock_is_for_everything_but_production() {
        let mut cfg = Config::default();
        assert!(!cfg.clock().unwrap().is_fixed());
        cfg.apply_env(|k| (k == "QUANBAN_CLOCK").then(|| "2026-12-05T20:30:00+08:00".to_string())).unwrap();
        let clock = cfg.clock().unwrap();
        assert!(clock.is_fixed());
        assert_eq!(clock.today().to_string(), "2026-12-05");
        cfg.clock = Some("Saturday evening".into());
        assert!(cfg.clock().is_err());
        cfg.clock = Some("2026-12-05T20:30:00+08:00".into());
        cfg.production = true;
        assert!(cfg.clock().is_err());
    }

    #[test]
    fn password_is_redacted() {
        let cfg =
            Config { database_url: Some("postgres://u:secret@127.0.0.1/db".into()), ..Config::default() };
        assert_eq!(cfg.database_url_redacted(), "postgres://u:***@127.0.0.1/db");
    }
}
