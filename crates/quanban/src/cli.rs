//! The platform's commands: `serve`, `migrate`, `seed`, `demo accounts`, `audit verify`,
//! `calendar …`, `user create`, reports, imports and policy runs. The `quanban` binary parses them
//! beside `bench …` (the `quanban-bench` crate) and hands them to [`main`], which runs them on
//! this crate's runtime: the async code they await is compiled here, once, not in the binary.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, Subcommand};

use crate::app::{self, AppState};
use crate::calendar::domain::{Calendar, parse_holidays_file, parse_year};
use crate::config::Config;
use crate::identity::api::{StaffRequest, check_staff};
use crate::identity::{password, store as identity_store};
use crate::store::{Db, DbOptions};
use crate::{audit, calendar, demo, reference};

/// Where the data lives; shared by every command that opens the database.
#[derive(Args, Debug, Clone, Default)]
pub struct DataArgs {
    /// Data directory (SQLite database, local state) [env: QUANBAN_DATA]
    #[arg(long, global = true)]
    pub data: Option<PathBuf>,
    /// PostgreSQL URL (postgres://…); SQLite in the data directory when absent [env: QUANBAN_DATABASE_URL]
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// Configuration file (TOML); defaults to quanban.toml in the data directory if present
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
}

impl DataArgs {
    pub fn config(&self) -> anyhow::Result<Config> {
        let mut cfg = Config::load(self.config.as_deref(), self.data.as_deref())?;
        if let Some(url) = &self.database_url {
            cfg.database_url = Some(url.clone());
        }
        Ok(cfg)
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the platform (HTTP server)
    Serve {
        #[command(flatten)]
        data: DataArgs,
        /// Address to listen on [env: QUANBAN_BIND] [default: 127.0.0.1:8080]
        #[arg(long)]
        bind: Option<String>,
        /// Production mode: refuse demo accounts
        #[arg(long)]
        production: bool,
    },
    /// Create or upgrade the database schema
    Migrate {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Load the reference data (idempotent)
    Seed {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Demo accounts
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// Print the OpenAPI 3.1 document, as served at /api/v1/openapi.json
    Openapi,
    /// Print the data catalog as DCAT-AP 3 JSON-LD, as served at /api/v1/data/catalog.jsonld
    DataCatalog {
        /// The platform's public URL (the document's IRIs start with it)
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        public_url: String,
    },
    /// The audit log
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The working-day calendar
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Accounts
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Import data files
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Generate synthetic data files (deterministic), for development and benchmarks
    Generate {
        #[command(subcommand)]
        command: GenerateCommand,
    },
    /// Enterprise policies (惠企政策)
    Policies {
        #[command(subcommand)]
        command: PoliciesCommand,
    },
    /// Verify an e-licence (a Verifiable Credential JSON file) offline, from the issuers' published
    /// keys (`/credentials/issuers/<dept>`) and, optionally, their status lists
    /// (`/credentials/status/<dept>/<purpose>`). Exit code 0: valid; 1: not valid
    Verify {
        /// The credential (JSON)
        file: PathBuf,
        /// An issuer's published key document (repeatable)
        #[arg(long = "keys", required = true)]
        keys: Vec<PathBuf>,
        /// A status list credential (repeatable); without one, revocation is not checked
        #[arg(long = "status")]
        status: Vec<PathBuf>,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Reports (考评月报)
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum DemoCommand {
    /// Print the demo accounts as JSON lines {"role","department","username","password"}
    Accounts {
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Recompute every hash chain and checkpoint; exit 1 naming the first broken entry
    Verify {
        /// A file of the platform's audit public keys (Multikey, one per line, as printed by
        /// `quanban audit key`, kept outside the database): every checkpoint must be signed
        /// by one of them, which a log rewritten and re-hashed cannot be
        #[arg(long)]
        keys: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Print the platform's audit public key (keep a copy outside the database for `verify --keys`)
    Key {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Seal the current stream heads in a checkpoint now
    Checkpoint {
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum CalendarCommand {
    /// Print the date N working days after DATE
    Add {
        date: String,
        n: u32,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Print the number of working days d with FROM < d <= TO
    Count {
        from: String,
        to: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Add or replace a year from a JSON file {"off": [...], "work": [...]}
    ImportYear {
        year: i32,
        file: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Import a service catalog (JSON, CSV or .xlsx) as one adjustment proposal; a file with any
    /// bad row is rejected whole with every problem listed
    Catalog {
        file: PathBuf,
        /// Why the catalog changes (recorded with the proposal)
        #[arg(long)]
        reason: String,
        /// When the change takes effect (YYYY-MM-DD; default today)
        #[arg(long)]
        effective_date: Option<String>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Load a register from CSV (UTF-8, a header row of field names: the enterprise register's
    /// `enterprise_fields`, or the population register's with `id_number`; `true`/`false`,
    /// empty = null, dates YYYY-MM-DD) into each owning department's dataset; a file with any
    /// bad row is rejected whole with every problem listed
    Register {
        file: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// The monthly department assessment: the ranking, every department's figures with their
    /// formulas, the overdue cases and the supervision orders of the month. Written as .xlsx, or
    /// as PDF when the file name ends in .pdf
    Monthly {
        /// The month, YYYY-MM (e.g. 2026-11)
        #[arg(long)]
        month: String,
        /// The file to write (.xlsx, or .pdf)
        #[arg(long)]
        out: PathBuf,
        /// Also write the PDF here
        #[arg(long)]
        pdf: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum PoliciesCommand {
    /// Evaluate every active policy over the whole enterprise register in memory, writing nothing:
    /// enterprises evaluated, eligible, and the amount they are owed (capped, before the budget)
    Evaluate {
        /// Only this policy (its code, e.g. JN-ZC-2026-001)
        #[arg(long)]
        policy: Option<String>,
        /// One JSON line per policy {"policy", "evaluated", "eligible", "amount_fen", "faults"}, then
        /// {"seconds", "load_seconds", "peak_rss_mb"}
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// The recorded 免申即享 run of one policy: read the register through the data exchange (with
    /// its grant, logged), record each eligible enterprise's benefit and the values it was decided
    /// on, tell the representatives (inbox and SMS), and pay the confirmed ones within the budget
    /// (smallest amounts first). Running it again pays only what is newly owed. Ctrl-C stops it
    /// between batches; every batch is whole.
    Run {
        /// The policy's code, e.g. JN-ZC-2026-001
        #[arg(long)]
        policy: String,
        /// Print the summary as one JSON line
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum GenerateCommand {
    /// A synthetic enterprise register for Jinan as CSV (the columns of `enterprise_fields`):
    /// the same count and seed always give the same file
    Register {
        /// How many enterprises
        #[arg(long)]
        enterprises: u64,
        /// Random seed
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where to write the CSV
        #[arg(long)]
        out: PathBuf,
    },
    /// A synthetic population register for Jinan as CSV (id_number, name, household_district,
    /// birth_date, marital_status, children, disability, minimum_living): deterministic by seed
    People {
        /// How many residents
        #[arg(long)]
        people: u64,
        /// Random seed
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where to write the CSV
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a staff account; the password is read from standard input (one line)
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        department: String,
        /// Role (repeatable): window_clerk, general_window_clerk, reviewer, approver,
        /// department_head, supervisor, catalog_officer, system_admin
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Hall code (repeatable)
        #[arg(long = "hall")]
        halls: Vec<String>,
        #[command(flatten)]
        data: DataArgs,
    },
}

/// Runs one command to its end on a new multi-threaded runtime.
pub fn main(command: Command) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).try_init();
}

async fn open_db(cfg: &Config) -> anyhow::Result<Db> {
    Db::connect(&DbOptions {
        url: cfg.database_url(),
        max_connections: cfg.max_connections,
        max_group: 256,
        max_queue: crate::store::DEFAULT_WRITE_QUEUE,
        clock: cfg.clock()?,
    })
    .await
    .with_context(|| format!("opening database {}", cfg.database_url_redacted()))
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve { data, bind, production } => {
            let mut cfg = data.config()?;
            if let Some(b) = bind {
                cfg.bind = b;
            }
            cfg.production |= production;
            init_tracing(&cfg.log);
            app::serve(cfg).await?;
        }
        Command::Migrate { data } => {
            let cfg = data.config()?;
            open_db(&cfg).await?.close().await;
            println!("schema is up to date ({})", cfg.database_url_redacted());
        }
        Command::Seed { data } => {
            let db = open_db(&data.config()?).await?;
            let report = reference::seed::seed(&db).await?;
            println!("{}", serde_json::to_string(&report)?);
            db.close().await;
        }
        Command::Demo { command: DemoCommand::Accounts { data } } => {
            let cfg = data.config()?;
            let state = AppState::open(cfg).await?;
            for a in demo::list(&state.db, &state.vault).await? {
                println!("{}", serde_json::to_string(&a)?);
            }
            if let Some(key) = demo::open311_key(&state.db).await? {
                println!("{}", serde_json::json!({"role": "open311_client", "api_key": key}));
            }
            state.db.close().await;
        }
        Command::Audit { command: AuditCommand::Verify { keys, data } } => {
            let keys = match keys {
                Some(file) => {
                    let text = std::fs::read_to_string(&file)
                        .with_context(|| format!("reading the audit keys in {}", file.display()))?;
                    let parsed = text
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(|l| {
                            crate::licences::proof::PublicKey::from_multibase(l)
                                .map_err(|e| anyhow::anyhow!("{}: `{l}`: {e}", file.display()))
                        })
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    anyhow::ensure!(!parsed.is_empty(), "{} holds no key", file.display());
                    Some(parsed)
                }
                None => None,
            };
            let db = open_db(&data.config()?).await?;
            let outcome = audit::store::verify(&db).await?;
            let signed = match (&outcome, &keys) {
                (Ok(_), Some(keys)) => Some(audit::store::verify_signatures(&db, keys).await?),
                _ => None,
            };
            db.close().await;
            match (outcome, signed) {
                (Err(broken), _) | (Ok(_), Some(Err(broken))) => {
                    eprintln!("audit log BROKEN: {broken}");
                    return Ok(ExitCode::FAILURE);
                }
                (Ok(r), signed) => {
                    println!(
                        "audit log intact: {} entries in {} streams, {} checkpoints",
                        r.entries, r.streams, r.checkpoints
                    );
                    match signed {
                        Some(Ok(n)) => println!("all {n} checkpoints signed by the given audit key"),
                        _ => println!("checkpoint signatures not checked (give --keys FILE to check them)"),
                    }
                }
            }
        }
        Command::Audit { command: AuditCommand::Key { data } } => {
            let config = data.config()?;
            let db = open_db(&config).await?;
            let secret = crate::licences::service::seal_secret(&db, &config).await?;
            db.close().await;
            println!("{}", audit::domain::signing_key(&secret).public_key().to_multibase());
        }
        Command::Audit { command: AuditCommand::Checkpoint { data } } => {
            let config = data.config()?;
            let db = open_db(&config).await?;
            let secret = crate::licences::service::seal_secret(&db, &config).await?;
            match audit::store::checkpoint(&db, &audit::domain::signing_key(&secret)).await? {
                Some(id) => println!("checkpoint {id} sealed"),
                None => println!("nothing new to seal"),
            }
            db.close().await;
        }
        Command::Openapi => {
            println!("{}", serde_json::to_string_pretty(&crate::http::ops::document())?);
        }
        Command::DataCatalog { public_url } => {
            let reference = crate::reference::data::shipped()?;
            let names = reference.departments.iter().map(|d| (d.code.clone(), d.name.clone())).collect();
            println!("{}", serde_json::to_string_pretty(&crate::data::dcat::catalog(&public_url, &names))?);
        }
        Command::Calendar { command } => return calendar_command(command).await,
        Command::User { command: UserCommand::Create { username, name, department, roles, halls, data } } => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            let password = line.trim_end_matches(['\r', '\n']).to_string();
            let checked =
                match check_staff(StaffRequest { username, name, department, roles, halls, password }) {
                    Ok(c) => c,
                    Err(crate::http::ApiError::Validation(errors)) => {
                        for e in errors {
                            eprintln!("{}: {} / {}", e.field, e.message_zh, e.message_en);
                        }
                        return Ok(ExitCode::FAILURE);
                    }
                    Err(e) => return Err(e.into()),
                };
            let state = AppState::open(data.config()?).await?;
            let id = identity_store::create_staff(
                &state.db,
                "cli".into(),
                identity_store::NewStaff {
                    username: checked.0.clone(),
                    name: checked.1,
                    department: checked.2,
                    roles: checked.3,
                    halls: checked.5,
                    password_hash: password::hash(checked.4).await?,
                },
            )
            .await?;
            println!("{}", serde_json::json!({"id": id, "username": checked.0}));
            state.db.close().await;
        }
        Command::Import { command: ImportCommand::Catalog { file, reason, effective_date, data } } => {
            return import_catalog(file, reason, effective_date, data).await;
        }
        Command::Import { command: ImportCommand::Register { file, data } } => {
            return import_register(file, data).await;
        }
        Command::Policies { command: PoliciesCommand::Evaluate { policy, json, data } } => {
            return evaluate_policies(policy, json, data).await;
        }
        Command::Policies { command: PoliciesCommand::Run { policy, json, data } } => {
            return run_policy(policy, json, data).await;
        }
        Command::Generate { command: GenerateCommand::Register { enterprises, seed, out } } => {
            generate_register(enterprises, seed, &out)?;
        }
        Command::Generate { command: GenerateCommand::People { people, seed, out } } => {
            let file = std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?;
            let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
            let bar = progress_bar(people, "people");
            crate::data::generate::people(people, seed, &mut writer, &mut |n| bar.set_position(n))?;
            std::io::Write::flush(&mut writer)?;
            bar.finish();
            println!("{people} residents (seed {seed}) written to {}", out.display());
        }
        Command::Report { command: ReportCommand::Monthly { month, out, pdf, data } } => {
            return monthly_report(&month, &out, pdf.as_deref(), data).await;
        }
        Command::Verify { file, keys, status, json } => {
            // Verified as of now by the configured clock (the system's unless QUANBAN_CLOCK says).
            let now = Config::load(None, None)?.clock()?.now();
            return verify_offline(&file, &keys, &status, json, now);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_json(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

/// `quanban verify`: no database, no network; only the files given.
fn verify_offline(
    file: &Path,
    keys: &[PathBuf],
    status: &[PathBuf],
    json: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<ExitCode> {
    use crate::licences::domain;
    let credential = read_json(file)?;
    let issuer_docs = keys.iter().map(|k| read_json(k)).collect::<anyhow::Result<Vec<_>>>()?;
    let lists = status.iter().map(|k| read_json(k)).collect::<anyhow::Result<Vec<_>>>()?;
    let (ev, usable) = domain::published_evidence(&issuer_docs, &lists, now);
    let verdict = domain::verify(&credential, &ev);
    let unchecked: Vec<String> = domain::references(&credential)
        .statuses
        .into_iter()
        .map(|(_, url, _)| url)
        .filter(|url| !usable.contains(url))
        .collect();
    if json {
        let mut out = serde_json::to_value(&verdict)?;
        out["status_lists_not_checked"] = serde_json::json!(unchecked);
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "{} {} / {}",
            if verdict.valid { "VALID" } else { "INVALID" },
            verdict.message_zh,
            verdict.message_en
        );
        for c in &verdict.checks {
            println!("  {:<10} {:?}: {}", c.check.label_en(), c.outcome, c.message_en);
        }
        for url in &unchecked {
            println!("  note: status list {url} was not given (or did not verify); revocation not checked");
        }
    }
    Ok(if verdict.valid { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn progress_bar(len: u64, unit: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{msg}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{per_sec}})"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

fn generate_register(enterprises: u64, seed: u64, out: &Path) -> anyhow::Result<()> {
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
    let bar = progress_bar(enterprises, "enterprises");
    bar.set_message("generating");
    crate::data::generate::enterprises(enterprises, seed, &mut writer, &mut |n| bar.set_position(n))?;
    std::io::Write::flush(&mut writer)?;
    bar.finish();
    println!("{enterprises} enterprises (seed {seed}) written to {}", out.display());
    Ok(())
}

/// A progress bar over a run's phases.
struct RunBar(indicatif::ProgressBar);

impl crate::policies::service::Progress for RunBar {
    fn phase(&mut self, name: &str, total: u64) {
        self.0.set_message(name.to_string());
        self.0.set_length(total);
        self.0.set_position(0);
    }
    fn advance(&mut self, done: u64) {
        self.0.set_position(done);
    }
}

/// Writes the monthly report; a wrong month is said on stderr (exit code 2).
async fn monthly_report(
    month: &str,
    out: &std::path::Path,
    pdf: Option<&std::path::Path>,
    data: DataArgs,
) -> anyhow::Result<ExitCode> {
    use crate::assessment::{Period, report};
    let period = match Period::month(month) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}: {} / {}", e.field, e.zh, e.en);
            return Ok(ExitCode::from(2));
        }
    };
    let state = AppState::open(data.config()?).await?;
    let r = report::read(&state, period).await;
    state.db.close().await;
    let r = r?;
    let is_pdf = |p: &std::path::Path| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
    let body = if is_pdf(out) { report::pdf(&r) } else { report::xlsx(&r)? };
    std::fs::write(out, body).with_context(|| format!("writing {}", out.display()))?;
    if let Some(p) = pdf {
        std::fs::write(p, report::pdf(&r)).with_context(|| format!("writing {}", p.display()))?;
    }
    let ranked = r.assessment.scorecards.iter().filter(|c| c.rank.is_some()).count();
    println!(
        "{}: {ranked} departments ranked, {} overdue cases, {} supervision orders → {}{}",
        report::title(&period),
        r.overdue.len(),
        r.orders.len(),
        out.display(),
        pdf.map(|p| format!(", {}", p.display())).unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

async fn run_policy(code: String, json: bool, data: DataArgs) -> anyhow::Result<ExitCode> {
    use crate::policies::service;
    let state = AppState::open(data.config()?).await?;
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let mut bar = RunBar(progress_bar(0, "enterprises"));
    let result = service::run(&state, &code, "job:policy_run", &cancel, &mut bar).await;
    bar.0.finish_and_clear();
    state.db.close().await;
    let summary = match result {
        Ok(s) => s,
        Err(crate::http::ApiError::NotFound) => {
            eprintln!("没有该政策 / no such policy: {code}");
            return Ok(ExitCode::from(2));
        }
        Err(crate::http::ApiError::Conflict { zh, en, .. }) => {
            eprintln!("{zh} / {en}");
            return Ok(ExitCode::from(3));
        }
        Err(crate::http::ApiError::Denied { zh, en, .. }) => {
            eprintln!("{zh} / {en}");
            return Ok(ExitCode::from(3));
        }
        Err(e) => return Err(anyhow::anyhow!("{e:?}")),
    };
    let r = &summary.reconciliation;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "policy": summary.run.policy, "run": summary.run.id, "status": summary.run.status,
                "evaluated": summary.run.evaluated, "eligible": summary.run.eligible, "faults": summary.run.faults,
                "notified": summary.run.notified, "paid": summary.run.paid_count, "paid_fen": summary.run.paid_fen,
                "waiting_for_budget": summary.waiting_for_budget, "reconciliation": r, "adds_up": r.adds_up(),
                "seconds": summary.seconds,
            })
        );
    } else {
        let yuan = |fen: i64| crate::policies::decimal::Dec::new(i128::from(fen), 2).to_string();
        println!(
            "{} {}: {} evaluated, {} eligible, {} without a value; {} representatives told; paid {} enterprises {} yuan ({:.1} s)",
            summary.run.policy,
            summary.run.status,
            summary.run.evaluated,
            summary.run.eligible,
            summary.run.faults,
            summary.run.notified,
            summary.run.paid_count,
            yuan(summary.run.paid_fen),
            summary.seconds
        );
        println!(
            "books / 对账: entitled {} = paid {} + awaiting confirmation {} + confirmed, waiting for budget {} + declined {}; budget {} paid {} remaining {}: {}",
            yuan(r.entitled_fen),
            yuan(r.settled_fen),
            yuan(r.awaiting_confirmation_fen),
            yuan(r.confirmed_unpaid_fen),
            yuan(r.declined_fen),
            r.budget_fen.map_or("-".into(), yuan),
            yuan(r.paid_fen),
            r.remaining_fen.map_or("-".into(), yuan),
            if r.adds_up() { "adds up / 账实相符" } else { "DOES NOT ADD UP / 账目不符" }
        );
    }
    Ok(if r.adds_up() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn evaluate_policies(only: Option<String>, json: bool, data: DataArgs) -> anyhow::Result<ExitCode> {
    use crate::policies::{columnar::Register, evaluate, library};
    let mut policies = library::shipped()?;
    if let Some(code) = &only {
        policies.retain(|p| &p.code == code);
        if policies.is_empty() {
            eprintln!("no policy {code} / 没有编号为 {code} 的政策");
            return Ok(ExitCode::from(2));
        }
    }
    let db = open_db(&data.config()?).await?;
    let started = std::time::Instant::now();
    let columns = evaluate::load(&db, &policies).await?;
    let load = started.elapsed();
    db.close().await;
    let register = Register::from_columns(&columns);
    let (totals, compute) = evaluate::evaluate(&policies, &register);
    let (_, peak) = crate::platform::memory::resident_mb();
    for (p, t) in policies.iter().zip(&totals) {
        if json {
            println!(
                "{}",
                serde_json::json!({"policy": p.code, "evaluated": t.evaluated, "eligible": t.eligible,
                    "amount_fen": i64::try_from(t.amount_fen).unwrap_or(i64::MAX), "faults": t.faults})
            );
        } else {
            println!(
                "{}  {}  evaluated {}  eligible {}  owed {} yuan  no value {}",
                p.code,
                p.name,
                t.evaluated,
                t.eligible,
                crate::policies::decimal::Dec::new(t.amount_fen, 2),
                t.faults
            );
        }
    }
    if json {
        println!(
            "{}",
            serde_json::json!({"seconds": compute.as_secs_f64(), "load_seconds": load.as_secs_f64(), "peak_rss_mb": peak.round()})
        );
    } else {
        println!(
            "{} policies over {} enterprises in {:.3} s (register loaded in {:.2} s), peak resident {:.0} MB",
            policies.len(),
            register.len(),
            compute.as_secs_f64(),
            load.as_secs_f64(),
            peak
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn import_register(file: PathBuf, data: DataArgs) -> anyhow::Result<ExitCode> {
    use crate::data::import::{Phase, import};
    let state = AppState::open(data.config()?).await?;
    let started = std::time::Instant::now();
    let bar = progress_bar(0, "rows");
    bar.set_message("checking");
    let mut on_progress = |phase: Phase, n: u64| {
        match phase {
            Phase::Checking => bar.set_message("checking"),
            Phase::Loading => bar.set_message("loading"),
        }
        bar.set_length(bar.length().unwrap_or(0).max(n));
        bar.set_position(n);
    };
    let today = state.clock().today();
    let register = crate::data::import::register_of(&file)?;
    let report = import(&state.db, register, &file, "cli", today, &mut on_progress).await;
    bar.finish_and_clear();
    let report = report?;
    let code = if report.problem_count > 0 {
        eprintln!(
            "{}: rejected, nothing stored: {} problem(s) in {} rows / 已拒绝，未导入任何数据",
            file.display(),
            report.problem_count,
            report.rows
        );
        for p in &report.problems {
            eprintln!("  row {} column {}: {} / {}", p.row, p.column, p.message_zh, p.message_en);
        }
        if report.problem_count as usize > report.problems.len() {
            eprintln!("  … and {} more", report.problem_count as usize - report.problems.len());
        }
        ExitCode::from(1)
    } else {
        println!(
            "{}: {} rows loaded in {:.1} s (import {})",
            file.display(),
            report.rows,
            started.elapsed().as_secs_f64(),
            report.import_id.unwrap_or_default()
        );
        ExitCode::SUCCESS
    };
    state.db.close().await;
    Ok(code)
}

async fn import_catalog(
    file: PathBuf,
    reason: String,
    effective_date: Option<String>,
    data: DataArgs,
) -> anyhow::Result<ExitCode> {
    use crate::catalog::api::{ImportQuery, Importer, import};
    use crate::catalog::transfer::Format;
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let filename = file.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default();
    let format = Format::from_filename(&filename).or_else(|| Format::sniff(&bytes));
    let state = AppState::open(data.config()?).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} rows")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("checking");
    let q = ImportQuery {
        reason,
        effective_date: effective_date.unwrap_or_else(|| state.clock().today().to_string()),
        format: String::new(),
        filename,
    };
    let mut on_row = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let outcome = import(&state, Importer::Operator, format, &bytes, &q, "cli", &mut on_row).await;
    bar.finish_and_clear();
    state.db.close().await;
    match outcome {
        Ok(Ok(p)) => {
            println!(
                "proposal {} recorded: {} change(s) to {}, effective {}; an approver of {} decides it",
                p.id, p.change_count, p.department, p.effective_date, p.department
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(Err(rejected)) => {
            eprintln!("{} / {}", rejected.detail_zh, rejected.detail);
            for x in rejected.problems {
                eprintln!("  row {} · {}: {} / {}", x.row, x.column, x.reason_zh, x.reason_en);
            }
            Ok(ExitCode::FAILURE)
        }
        Err(crate::http::ApiError::Validation(errors)) => {
            for e in errors {
                eprintln!("{}: {} / {}", e.field, e.message_zh, e.message_en);
            }
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            let (_, zh, en) = e.describe();
            eprintln!("{zh} / {en}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn parse_date(s: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .with_context(|| format!("{s:?} is not a date (YYYY-MM-DD)"))
}

/// The calendar from the database when one exists, else from the shipped holidays.
async fn calendar_for(data: &DataArgs) -> anyhow::Result<Calendar> {
    let cfg = data.config()?;
    let has_db = cfg.database_url.is_some() || cfg.data_dir.join("quanban.db").exists();
    if has_db {
        let db = open_db(&cfg).await?;
        let cal = calendar::store::load(&db).await;
        db.close().await;
        let cal = cal?;
        if !cal.known_years().is_empty() {
            return Ok(cal);
        }
    }
    let data = reference::data::shipped()?;
    Ok(Calendar::new(parse_holidays_file(data.holidays_json)?)?)
}

async fn calendar_command(command: CalendarCommand) -> anyhow::Result<ExitCode> {
    match command {
        CalendarCommand::Add { date, n, data } => {
            let from = parse_date(&date)?;
            let cal = calendar_for(&data).await?;
            println!("{}", cal.add_working_days(from, n));
        }
        CalendarCommand::Count { from, to, data } => {
            let (from, to) = (parse_date(&from)?, parse_date(&to)?);
            let cal = calendar_for(&data).await?;
            println!("{}", cal.working_days_between(from, to));
        }
        CalendarCommand::ImportYear { year, file, data } => {
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let parsed = match parse_year(year, &text) {
                Ok(y) => y,
                Err(e) => {
                    eprintln!("{}: {} / {}", file.display(), e.message_zh(), e.message_en());
                    return Ok(ExitCode::FAILURE);
                }
            };
            let db = open_db(&data.config()?).await?;
            let (off, work) = (parsed.off.len(), parsed.work.len());
            calendar::store::put_year(&db, "cli".into(), parsed).await?;
            db.close().await;
            println!("{year}: {off} days off, {work} working weekend days loaded");
        }
    }
    Ok(ExitCode::SUCCESS)
}
