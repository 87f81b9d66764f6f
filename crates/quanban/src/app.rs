//! The application: shared state, the router (every route wired here, in one place), start-up
//! and the background tasks.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::routing::{get, post, put};
use cases::api as case_api;
use tokio::sync::RwLock;

use crate::calendar::domain::Calendar;
use crate::config::Config;
use crate::http::middleware::{self, Metrics};
use crate::store::{Db, DbOptions};
use crate::{audit, calendar, cases, catalog, demo, guide, http, identity, reference, web};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub calendar: Arc<RwLock<Arc<Calendar>>>,
    pub metrics: Arc<Metrics>,
    /// Woken when this process changes the catalog, so the search index follows at once (other
    /// processes are followed by polling the catalog revision).
    pub catalog_events: Arc<tokio::sync::Notify>,
    /// The guidance search index and the catalog revision it was built from.
    pub guide: Arc<RwLock<crate::guide::BuiltIndex>>,
    /// The seal key, the unlocked seals and the public URLs of e-licences.
    pub licensing: Arc<crate::licences::service::Licensing>,
    /// The halls with their spatial index (reference data: fixed while running).
    pub halls: Arc<crate::halls::service::HallsIndex>,
    /// The complaint taxonomy and the routing classifier.
    pub complaints: Arc<crate::complaints::service::Model>,
    /// Keys the one-tap rating links (HMAC-SM3); derived from the seal secret.
    pub link_secret: Arc<[u8; 32]>,
    /// Per-client-address request limits (login, registration, Open311, the guide).
    pub limiters: crate::http::limits::Limiters,
    /// Signs the audit checkpoints (derived from the platform secret, never stored).
    pub audit_key: Arc<crate::licences::proof::SigningKey>,
    /// Seals, opens and digests personal data at rest.
    pub vault: Arc<crate::platform::pii::Vault>,
    /// Computed scorecards and dashboards, reused for `figures_cache_seconds`.
    pub figures: Arc<crate::platform::figures_cache::FiguresCache>,
}

impl AppState {
    /// Connects, migrates, loads reference data and (unless in production) the demo accounts.
    pub async fn open(config: Config) -> anyhow::Result<AppState> {
        let mut phases = Phases::start();
        // A wrong assessment scheme stops the start, not the first scorecard.
        config.assessment_scheme()?;
        let db = Db::connect(&DbOptions {
            url: config.database_url(),
            max_connections: config.max_connections,
            max_group: 256,
            max_queue: crate::store::DEFAULT_WRITE_QUEUE,
            clock: config.clock()?,
        })
        .await
        .with_context(|| format!("opening database {}", config.database_url_redacted()))?;
        phases.lap("connect and migrate");
        reference::seed::seed(&db).await?;
        phases.lap("reference data");
        if config.production {
            demo::refuse_in_production(&db).await?;
            anyhow::ensure!(
                !crate::identity::password::CHEAP_FOR_TESTS,
                "this binary was built for tests (feature cheap-passwords) and must not run in production; build it with `cargo build --release`"
            );
        }
        let secret = crate::licences::service::seal_secret(&db, &config).await?;
        let vault = Arc::new(crate::platform::pii::Vault::from_secret(&secret));
        let db = db.with_vault(vault.clone());
        let sealed = crate::identity::store::seal_clear_personal_data(&db, &vault).await?;
        let forms = crate::cases::store::seal_clear_forms(&db).await?;
        let values = crate::platform::pii::seal_clear_columns(&db).await?;
        let callers = crate::complaints::service::digest_old_phones(&db).await?;
        if sealed + forms + values + callers > 0 {
            tracing::info!(people = sealed, forms, values, callers, "sealed personal data stored in clear");
        }
        phases.lap("personal data sealed");
        demo::ensure(&db, config.production, &vault).await?;
        if !config.production {
            demo::ensure_policy_grants(&db).await?;
        }
        phases.lap("demo accounts");
        let calendar = calendar::store::load(&db).await?;
        phases.lap("calendar");
        let mut licensing = crate::licences::service::Licensing::new(&secret, &config.public_url);
        let legacy = licensing.load_legacy_positions(&db).await?;
        if legacy > 0 {
            tracing::info!(credentials = legacy, "status list positions from before permutation are kept");
        }
        crate::licences::service::ensure_seals(&db, &licensing).await?;
        if !config.production {
            crate::licences::service::ensure_demo_cards(&db, &licensing, &vault).await?;
        }
        phases.lap("seals and cards");
        let halls = crate::halls::service::HallsIndex::load(&db).await?;
        phases.lap("halls");
        let complaints = crate::complaints::service::Model::load(&db).await?;
        phases.lap("complaint classifier");
        tracing::info!(phases = %phases, "state opened");
        let link_secret: [u8; 32] = {
            use sm3::Digest;
            let mut h = sm3::Sm3::new();
            h.update(b"quanban rating links\0");
            h.update(secret.as_bytes());
            h.finalize().into()
        };
        let config_rate_limits = config.rate_limits;
        Ok(AppState {
            db,
            config: Arc::new(config),
            calendar: Arc::new(RwLock::new(Arc::new(calendar))),
            metrics: Arc::new(Metrics::new()),
            catalog_events: Arc::new(tokio::sync::Notify::new()),
            guide: Arc::new(RwLock::new(None)),
            licensing: Arc::new(licensing),
            halls: Arc::new(halls),
            complaints: Arc::new(complaints),
            limiters: crate::http::limits::Limiters::new(config_rate_limits),
            audit_key: Arc::new(crate::audit::domain::signing_key(&secret)),
            vault,
            figures: Arc::default(),
            link_secret: Arc::new(link_secret),
        })
    }

    /// Tells this process's listeners (the guide index) that the catalog changed.
    pub fn catalog_changed(&self) {
        self.catalog_events.notify_waiters();
    }

    /// The application's one clock (see [`crate::platform::clock`]).
    pub fn clock(&self) -> &crate::platform::clock::Clock {
        self.db.clock()
    }

    /// The working-day calendar in force now (cheap: shares the loaded one).
    pub async fn calendar(&self) -> Arc<Calendar> {
        self.calendar.read().await.clone()
    }

    pub async fn reload_calendar(&self) -> anyhow::Result<()> {
        let fresh = calendar::store::load(&self.db).await?;
        *self.calendar.write().await = Arc::new(fresh);
        Ok(())
    }
}

/// A router that remembers the paths added to it, so that a test can walk every route (the
/// methods of each path it reads back from the router's own 405 answers, `Allow`).
struct Routes {
    router: Router<AppState>,
    prefix: &'static str,
    paths: Vec<String>,
}

impl Routes {
    fn new(prefix: &'static str) -> Routes {
        Routes { router: Router::new(), prefix, paths: Vec::new() }
    }

    fn route(mut self, path: &str, handlers: axum::routing::MethodRouter<AppState>) -> Routes {
        self.paths.push(format!("{}{path}", self.prefix));
        self.router = self.router.route(path, handlers);
        self
    }
}

pub fn router(state: AppState) -> Router {
    router_with_paths(state).0
}

/// The application's router and every path it routes (templates such as
/// `/api/v1/cases/{case_number}`), in the order they were added.
pub fn router_with_paths(state: AppState) -> (Router, Vec<String>) {
    use crate::http::limits::Limit;
    let limits = state.limiters.clone();
    let api = Routes::new("/api/v1")
        .route("/auth/register", post(identity::api::register).layer(limits.layer(Limit::Register)))
        .route("/auth/token", post(identity::api::create_token).layer(limits.layer(Limit::Login)))
        .route("/auth/logout", post(identity::api::logout))
        .route("/me", get(identity::api::get_me).patch(identity::api::update_me))
        .route("/enterprises", post(identity::api::create_enterprise))
        .route("/enterprises/{code}", get(identity::api::get_enterprise))
        .route("/enterprises/{code}/agents", post(identity::api::add_agent))
        .route("/enterprises/{code}/data-access", get(crate::data::api::enterprise_access))
        .route("/me/data-access", get(crate::data::api::my_access))
        .route("/data/catalog", get(crate::data::api::catalog))
        .route("/data/catalog.jsonld", get(crate::data::api::catalog_jsonld))
        .route("/data/requests", get(crate::data::api::list_requests).post(crate::data::api::create_request))
        .route("/data/requests/{id}", get(crate::data::api::get_request))
        .route("/data/requests/{id}/{action}", post(crate::data::api::step))
        .route("/data/exchange/{dataset}/{key}", get(crate::data::api::exchange))
        .route("/data/access", get(crate::data::api::department_access))
        .route("/enterprises/{code}/benefits", get(crate::policies::api::benefits))
        .route("/enterprises/{code}/benefits/{policy}/{action}", post(crate::policies::api::answer))
        .route("/policies/{code}/simulate", post(crate::policies::api::simulate))
        .route("/policies/{code}/runs", get(crate::policies::api::runs))
        .route(
            "/policies/{code}/versions",
            get(crate::policies::api::versions).post(crate::policies::api::propose),
        )
        .route("/policies/{code}/versions/{version}/{action}", post(crate::policies::api::decide_version))
        .route("/staff", post(identity::api::create_staff))
        .route("/calendar/add", get(calendar::api::add_days))
        .route("/calendar/count", get(calendar::api::count_days))
        .route("/calendar/days/{date}", get(calendar::api::get_day))
        .route("/calendar/years/{year}", put(calendar::api::put_year))
        .route("/audit/verify", get(audit_verify))
        .route("/audit/checkpoints", get(audit_checkpoints))
        .route("/items", get(catalog::api::list_items))
        .route("/items/{code}", get(catalog::api::get_item))
        .route("/items/{code}/history", get(catalog::api::get_item_history))
        .route("/catalog/proposals", get(catalog::api::list_proposals).post(catalog::api::create_proposal))
        .route("/catalog/proposals/{id}", get(catalog::api::get_proposal))
        .route("/catalog/proposals/{id}/approve", post(catalog::api::approve_proposal))
        .route("/catalog/proposals/{id}/reject", post(catalog::api::reject_proposal))
        .route("/catalog/export", get(catalog::api::export_catalog))
        .route("/catalog/import", post(catalog::api::import_catalog))
        .route("/bundles", get(catalog::api::list_bundles))
        .route("/bundles/{code}", get(catalog::api::get_bundle))
        .route("/bundles/{code}/resolve", post(catalog::api::resolve_bundle))
        .route("/boundaries/report", get(catalog::api::boundary_report))
        .route("/guide", get(guide::api::guide).layer(limits.layer(Limit::Guide)))
        .route("/guide/handoffs", post(guide::api::create_handoff).layer(limits.layer(Limit::Guide)))
        .route("/guide/handoffs/{id}", get(guide::api::get_handoff))
        .route("/guide/handoffs/{id}/answer", post(guide::api::answer_handoff))
        .route("/guide/inbox", get(guide::api::inbox))
        .route("/cases", get(case_api::list_cases).post(case_api::create_case))
        .route("/cases/{case_number}", get(case_api::get_case))
        .route("/cases/{case_number}/actions/{action}", post(case_api::act))
        .route("/cases/{case_number}/materials/{index}", get(case_api::material_file))
        .route("/uploads", post(case_api::upload))
        .route("/drafts", get(case_api::list_drafts).post(case_api::create_draft))
        .route(
            "/drafts/{id}",
            get(case_api::get_draft).put(case_api::put_draft).delete(case_api::delete_draft),
        )
        .route("/notifications", get(case_api::notifications))
        .route("/notifications/read", post(case_api::mark_read))
        .route("/post-checks", get(case_api::list_post_checks))
        .route("/post-checks/{id}/outcome", post(case_api::post_check_outcome))
        .route("/workbench", get(case_api::workbench))
        .route("/supervision/lights", get(case_api::lights))
        .route(
            "/supervision/orders",
            get(crate::monitoring::api::list_orders).post(crate::monitoring::api::issue_order),
        )
        .route("/supervision/orders/{id}/close", post(crate::monitoring::api::close_order))
        .route("/supervision/sweep", post(crate::monitoring::api::sweep))
        .route("/assessment/scorecards", get(crate::assessment::api::scorecards))
        .route("/assessment/scorecards/{department}/{indicator}", get(crate::assessment::api::drill))
        .route(
            "/assessment/scorecards/{department}/comments",
            get(crate::assessment::api::comments).post(crate::assessment::api::comment),
        )
        .route("/reform-tasks", get(crate::reform::api::list))
        .route("/reform-tasks/import", post(crate::reform::api::import))
        .route("/reform-tasks/{code}", get(crate::reform::api::get))
        .route("/reform-tasks/{code}/milestones/{seq}/report", post(crate::reform::api::report))
        .route("/reform-tasks/{code}/milestones/{seq}/review", post(crate::reform::api::review))
        .route(
            "/projects",
            get(crate::projects::api::list_projects).post(crate::projects::api::create_project),
        )
        .route("/projects/{code}", get(crate::projects::api::get_project))
        .route(
            "/cases/{case_number}/joint-review",
            get(crate::projects::api::joint_review).post(crate::projects::api::give_opinion),
        )
        .route("/wallet", get(crate::licences::api::wallet))
        .route("/halls", get(crate::halls::api::list_halls))
        .route("/halls.geojson", get(crate::halls::api::geojson))
        .route("/districts.geojson", get(crate::halls::api::districts_geojson))
        .route("/places", get(crate::halls::api::places))
        .route("/halls/nearest", get(crate::halls::api::nearest))
        .route("/halls/{code}", get(crate::halls::api::get_hall))
        .route("/halls/{code}/slots", get(crate::halls::api::slots))
        .route("/halls/{code}/items/{item}", put(crate::halls::api::set_coverage))
        .route("/halls/{code}/queue", get(crate::halls::api::queue).post(crate::halls::api::take_number))
        .route("/halls/{code}/queue/call", post(crate::halls::api::call_next))
        .route("/halls/{code}/queue/recall", post(crate::halls::api::recall))
        .route("/halls/{code}/queue/skip", post(crate::halls::api::skip))
        .route("/queue/tickets/{id}", get(crate::halls::api::ticket))
        .route("/queue/tickets/{id}/cancel", post(crate::halls::api::cancel_ticket))
        .route("/kiosks", get(crate::halls::api::kiosks).post(crate::halls::api::register_kiosk))
        .route("/kiosks/heartbeat", post(crate::halls::api::heartbeat))
        .route("/assistance", get(crate::assistance::api::list).post(crate::assistance::api::ask))
        .route("/assistance/{id}", get(crate::assistance::api::get))
        .route("/assistance/{id}/{action}", post(crate::assistance::api::step))
        .route("/appointments", get(crate::halls::api::my_appointments).post(crate::halls::api::book))
        .route("/appointments/{id}/cancel", post(crate::halls::api::cancel))
        .route("/appointments/{id}/visit", post(crate::halls::api::visit))
        .route("/appointments/{id}/ics", get(crate::halls::api::ics))
        .route(
            "/credentials",
            get(crate::licences::api::list_credentials).post(crate::licences::api::issue_credential),
        )
        .route("/credentials/verify", post(crate::licences::api::verify_credential))
        .route("/credentials/{id}", get(crate::licences::api::get_credential))
        .route("/credentials/{id}/qr.svg", get(crate::licences::api::credential_qr))
        .route("/credentials/{id}/{action}", post(crate::licences::api::change_status))
        .route("/seals", get(crate::licences::api::list_seals))
        .route("/seals/verify", post(crate::licences::api::verify_seal))
        .route("/seals/rotate/{department}", post(crate::licences::api::rotate_seal))
        .route("/seals/{id}/revoke", post(crate::licences::api::revoke_seal))
        .route("/ratings", post(crate::feedback::api::rate))
        .route("/ratings/mine", get(crate::feedback::api::mine))
        .route("/ratings/stats", get(crate::feedback::api::stats))
        .route("/bad-reviews", get(crate::feedback::api::loops))
        .route("/bad-reviews/{id}", get(crate::feedback::api::get_loop))
        .route("/bad-reviews/{id}/{action}", post(crate::feedback::api::step))
        .route("/complaints", get(crate::complaints::api::list).post(crate::complaints::api::create))
        .route(
            "/complaints/categories",
            get(crate::complaints::api::categories).put(crate::complaints::api::put_categories),
        )
        .route("/complaints/rates", get(crate::complaints::api::rates))
        .route("/complaints/proposals", post(crate::complaints::api::propose))
        .route("/complaints/by-caller", post(crate::complaints::api::by_caller))
        .route("/complaints/monthly-topics", get(crate::complaints::api::monthly_topics))
        .route("/complaints/{id}", get(crate::complaints::api::get))
        .route("/complaints/{id}/photos/{n}", get(crate::complaints::api::photo))
        .route("/complaints/{id}/{action}", post(crate::complaints::api::act))
        .route("/proactive-tasks", get(crate::complaints::api::tasks))
        .route("/proactive-tasks/scan", post(crate::complaints::api::scan))
        .route("/proactive-tasks/{id}/done", post(crate::complaints::api::finish_task))
        .route("/openapi.json", get(http::ops::openapi));

    let pages = Routes::new("")
        .route("/", get(web::pages::home))
        .route(
            "/login",
            post(identity::pages::login).layer(limits.layer(Limit::Login)).get(identity::pages::login_form),
        )
        .route(
            "/register",
            post(identity::pages::register)
                .layer(limits.layer(Limit::Register))
                .get(identity::pages::register_form),
        )
        .route("/logout", post(identity::pages::logout))
        .route("/profile", get(identity::pages::profile))
        .route("/staff", get(identity::pages::staff_home))
        .route("/items", get(catalog::pages::items))
        .route("/items/{code}", get(catalog::pages::item))
        .route("/items/{code}/application-form.pdf", get(catalog::pages::application_form))
        .route("/bundles", get(catalog::pages::bundles))
        .route("/life-events", get(catalog::pages::life_events))
        .route("/bundles/{code}", get(catalog::pages::bundle))
        .route("/guide", get(guide::pages::guide).layer(limits.layer(Limit::Guide)))
        .route("/guide/handoff", post(guide::pages::handoff).layer(limits.layer(Limit::Guide)))
        .route("/guide/handoffs/{id}", get(guide::pages::handoff_status))
        .route("/guide/inbox", get(guide::pages::inbox))
        .route("/guide/inbox/{id}", post(guide::pages::answer))
        .route("/catalog/admin", get(catalog::pages::admin))
        .route("/catalog/admin/import", post(catalog::pages::upload))
        .route("/catalog/admin/proposals/{id}", post(catalog::pages::decide))
        .route("/apply/{code}", post(cases::pages::start_item))
        .route("/apply/bundle/{code}", post(cases::pages::start_bundle))
        .route("/drafts/{id}/contact", get(cases::pages::contact_page).post(cases::pages::save_contact))
        .route("/drafts/{id}/materials", get(cases::pages::materials_page).post(cases::pages::save_materials))
        .route("/drafts/{id}/check", get(cases::pages::check_page))
        .route("/drafts/{id}/answers", get(cases::pages::answers_page).post(cases::pages::save_answers))
        .route("/drafts/{id}/submit", post(cases::pages::submit_draft))
        .route("/drafts/{id}/discard", post(cases::pages::discard_draft))
        .route("/my/cases", get(cases::pages::my_cases))
        .route("/inbox", get(cases::pages::inbox))
        .route("/inbox/read", post(cases::pages::inbox_read))
        .route("/cases/find", get(cases::pages::find_case))
        .route("/cases/{case_number}", get(cases::pages::case_page))
        .route("/cases/{case_number}/actions", post(cases::pages::act))
        .route("/cases/{case_number}/preview", post(cases::pages::preview_decision))
        .route("/cases/{case_number}/decision", get(cases::pages::decision))
        .route("/cases/{case_number}/materials/{index}", get(case_api::material_file))
        .route("/post-checks/{id}", post(cases::pages::conclude_check))
        .route("/workbench", get(cases::pages::workbench))
        .route("/workbench/walk-in", post(cases::pages::register_walk_in))
        .route("/supervision", get(cases::pages::supervision))
        .route("/supervision/trend.csv", get(cases::pages::supervision_csv))
        .route("/supervision/day", get(cases::pages::supervision_day))
        .route("/supervision/projects", get(crate::projects::pages::supervision))
        .route(
            "/supervision/orders",
            get(crate::monitoring::pages::orders).post(crate::monitoring::pages::issue),
        )
        .route("/supervision/orders/{id}/close", post(crate::monitoring::pages::close))
        .route("/supervision/sweep", post(crate::monitoring::pages::sweep))
        .route("/dashboard", get(crate::dashboard::pages::dashboard))
        .route("/open-data", get(crate::dashboard::pages::open_data))
        .route("/open-data.csv", get(crate::dashboard::pages::open_data_csv))
        .route("/assessment", get(crate::assessment::pages::ranking))
        .route("/reform-tasks", get(crate::reform::pages::list))
        .route("/reform-tasks/import", post(crate::reform::pages::import))
        .route("/reform-tasks.xlsx", get(crate::reform::pages::export))
        .route("/reform-tasks/{code}", get(crate::reform::pages::show))
        .route("/reform-tasks/{code}/evidence/{hash}", get(crate::reform::pages::evidence))
        .route("/reform-tasks/{code}/milestones/{seq}/report", post(crate::reform::pages::report))
        .route("/reform-tasks/{code}/milestones/{seq}/review", post(crate::reform::pages::review))
        .route("/assessment/report.xlsx", get(crate::assessment::pages::report_xlsx))
        .route("/assessment/report.pdf", get(crate::assessment::pages::report_pdf))
        .route("/assessment/{department}", get(crate::assessment::pages::department))
        .route("/assessment/{department}/{indicator}", get(crate::assessment::pages::drill))
        .route("/assessment/{department}/comments", post(crate::assessment::pages::comment))
        .route(
            "/projects",
            get(crate::projects::pages::my_projects).post(crate::projects::pages::create_project),
        )
        .route("/projects/new", get(crate::projects::pages::new_project))
        .route("/projects/{code}", get(crate::projects::pages::project))
        .route("/cases/{case_number}/joint-review", post(crate::projects::pages::give_opinion))
        .route("/joint-reviews", get(crate::projects::pages::joint_reviews))
        .route("/wallet", get(crate::licences::pages::wallet))
        .route("/halls", get(crate::halls::pages::map))
        .route("/halls/{code}", get(crate::halls::pages::hall))
        .route("/halls/{code}/book", post(crate::halls::pages::book))
        .route("/halls/{code}/queue", post(crate::halls::pages::take_number))
        .route("/halls/{code}/queue/call", post(crate::halls::pages::call_next))
        .route("/halls/{code}/display", get(crate::halls::pages::display))
        .route("/halls/{code}/take", get(crate::halls::pages::take_page))
        .route(
            "/halls/{code}/counter",
            get(crate::halls::pages::counter).post(crate::halls::pages::counter_act),
        )
        .route("/queue/{id}", get(crate::halls::pages::ticket))
        .route("/kiosk/qr-login", get(crate::identity::qr_login::kiosk_page))
        .route("/kiosk/qr-login/status", get(crate::identity::qr_login::kiosk_status))
        .route("/kiosk/qr-login/sign-in", post(crate::identity::qr_login::kiosk_sign_in))
        .route(
            "/qr-login/{id}",
            get(crate::identity::qr_login::phone_page).post(crate::identity::qr_login::phone_decide),
        )
        .route("/queue/{id}/cancel", post(crate::halls::pages::cancel_ticket))
        .route("/kiosk", get(crate::halls::pages::kiosk_home))
        .route("/kiosk/leave", post(crate::halls::pages::kiosk_leave))
        .route("/kiosk/heartbeat", post(crate::halls::pages::kiosk_heartbeat))
        .route("/kiosk/{id}", get(crate::halls::pages::kiosk))
        .route("/assistance", get(crate::assistance::pages::page).post(crate::assistance::pages::ask))
        .route("/data", get(crate::data::pages::catalog))
        .route("/data/requests", get(crate::data::pages::requests).post(crate::data::pages::ask))
        .route("/data/requests/{id}/{action}", post(crate::data::pages::step))
        .route("/my/data-access", get(crate::data::pages::my_access))
        .route("/my/benefits", get(crate::policies::pages::my_benefits))
        .route("/policies", get(crate::policies::pages::list))
        .route("/policies/{code}", get(crate::policies::pages::show))
        .route("/policies/{code}/simulate", post(crate::policies::pages::simulate))
        .route("/policies/{code}/versions", post(crate::policies::pages::propose))
        .route("/policies/{code}/versions/{version}/{action}", post(crate::policies::pages::decide_version))
        .route("/my/benefits/{code}/{policy}/{action}", post(crate::policies::pages::answer))
        .route("/assistance/{id}/{action}", post(crate::assistance::pages::step))
        .route("/complaints", get(crate::complaints::pages::citizen).post(crate::complaints::pages::file))
        .route("/complaints/desk", get(crate::complaints::pages::desk))
        .route("/complaints/desk/intake", post(crate::complaints::pages::hotline_intake))
        .route("/complaints/desk/propose", post(crate::complaints::pages::hotline_propose))
        .route("/complaints/desk/caller", post(crate::complaints::pages::caller_history))
        .route("/complaints/dashboard", get(crate::complaints::pages::dashboard))
        .route("/complaints/dashboard/scan", post(crate::complaints::pages::scan))
        .route("/complaints/{id}/act", post(crate::complaints::pages::act))
        .route("/complaints/{id}/rate", post(crate::complaints::pages::rate))
        .route("/proactive-tasks/{id}/done", post(crate::complaints::pages::finish_task))
        .route(
            "/rate/{token}",
            get(crate::feedback::pages::rate_form).post(crate::feedback::pages::rate_submit),
        )
        .route("/ratings", get(crate::feedback::pages::public))
        .route("/ratings/desk", get(crate::feedback::pages::desk))
        .route("/ratings/desk/{id}", post(crate::feedback::pages::step))
        .route("/my/appointments", get(crate::halls::pages::my_appointments))
        .route("/my/appointments/{id}/cancel", post(crate::halls::pages::cancel))
        .route("/wallet/{id}", get(crate::licences::pages::card))
        .route("/wallet/{id}/download", get(crate::licences::pages::download))
        .route("/wallet/{id}/print.pdf", get(crate::licences::pages::print_pdf))
        .route(
            "/verify",
            get(crate::licences::pages::verify_form).post(crate::licences::pages::verify_submit),
        )
        .route("/licences", get(crate::licences::pages::desk))
        .route("/licences/issue", post(crate::licences::pages::issue))
        .route("/licences/status", post(crate::licences::pages::change_status))
        .route("/seals", get(crate::licences::pages::seals).post(crate::licences::pages::rotate))
        .route("/seals/{file}", get(crate::licences::api::seal_image))
        .route("/credentials/context/v1", get(crate::licences::api::context_document))
        .route("/credentials/issuers/{department}", get(crate::licences::api::issuer_document))
        .route("/credentials/status/{department}/{purpose}", get(crate::licences::api::status_list))
        .route("/lang/{lang}", get(web::pages::set_language))
        .route("/problems/{code}", get(web::pages::problem_type))
        .route("/static/{*path}", get(web::assets::serve));

    let root = Routes::new("")
        .route(
            "/open311/v2/{file}",
            post(crate::complaints::open311::post_request)
                .layer(limits.layer(Limit::Open311))
                .get(crate::complaints::open311::get_collection),
        )
        .route("/open311/{file}", get(crate::complaints::open311::discovery))
        .route("/open311/v2/services/{file}", get(crate::complaints::open311::service_definition))
        .route("/open311/v2/requests/{file}", get(crate::complaints::open311::get_request))
        .route("/healthz", get(http::ops::healthz))
        .route("/readyz", get(http::ops::readyz))
        .route("/metrics", get(http::ops::metrics));
    let paths = [api.paths, pages.paths, root.paths].concat();
    let app = Router::new()
        .nest("/api/v1", api.router.fallback(http::ops::api_not_found))
        .merge(pages.router)
        .merge(root.router)
        .fallback(web::pages::not_found);
    (middleware::apply(app, &state).with_state(state), paths)
}

/// The audit key and the latest signed checkpoints, public (hashes only, no personal data), so
/// that others can keep copies and check later that the log still leads to them.
#[utoipa::path(get, path = "/api/v1/audit/checkpoints", tag = "audit",
    responses((status = 200, body = PublishedCheckpoints)))]
pub async fn audit_checkpoints(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> http::ApiResult<axum::Json<PublishedCheckpoints>> {
    Ok(axum::Json(PublishedCheckpoints {
        key: state.audit_key.public_key().to_multibase(),
        algorithm: "SM2 (GB/T 32918), user ID 1234567812345678, over SM3",
        checkpoints: audit::store::recent_checkpoints(&state.db, 100).await?,
    }))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PublishedCheckpoints {
    /// The platform's audit public key (Multikey `publicKeyMultibase`).
    pub key: String,
    pub algorithm: &'static str,
    /// Newest first, at most 100.
    pub checkpoints: Vec<audit::store::PublishedCheckpoint>,
}

/// Recomputes every hash chain and checkpoint (system administrators and supervisors).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, description = "`ok`, and what was checked or where the log breaks"),
        (status = 401, body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::http::error::Problem, content_type = "application/problem+json")))]
pub async fn audit_verify(
    axum::extract::State(state): axum::extract::State<AppState>,
    caller: http::Caller,
) -> http::ApiResult<axum::Json<serde_json::Value>> {
    use identity::authz::{Action, Decision, Resource, decide};
    match decide(&caller.actor, Action::Read, &Resource::AuditLog) {
        Decision::Allow => {}
        Decision::Unauthenticated => return Err(http::ApiError::Unauthenticated),
        _ => return Err(http::ApiError::NotFound),
    }
    let outcome = audit::store::verify(&state.db).await?;
    Ok(axum::Json(match outcome {
        Ok(report) => serde_json::json!({"ok": true, "report": report}),
        Err(broken) => serde_json::json!({"ok": false, "first_break": broken.to_string()}),
    }))
}

/// How long each part of opening the state took, for the start-up log line (a restart should be
/// quick; this says which part is not).
struct Phases {
    last: Instant,
    laps: Vec<(&'static str, Duration)>,
}

impl Phases {
    fn start() -> Phases {
        Phases { last: Instant::now(), laps: Vec::new() }
    }

    fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.laps.push((name, now - self.last));
        self.last = now;
    }
}

impl std::fmt::Display for Phases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (n, (name, took)) in self.laps.iter().enumerate() {
            let sep = if n == 0 { "" } else { ", " };
            write!(f, "{sep}{name} {:.1} ms", took.as_secs_f64() * 1000.0)?;
        }
        Ok(())
    }
}

/// Runs the server until Ctrl-C / SIGTERM; prints the URL once it is accepting connections.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let started = Instant::now();
    let bind = config.bind.clone();
    let state = AppState::open(config).await?;
    let listener = tokio::net::TcpListener::bind(&bind).await.with_context(|| format!("binding {bind}"))?;
    let addr: SocketAddr = listener.local_addr()?;
    spawn_background(state.clone());
    guide::spawn_refresher(state.clone(), Duration::from_secs(2));
    if !state.config.production {
        // The demonstration's register loads behind the ready server (it takes a second or two).
        let db = state.db.clone();
        tokio::spawn(async move {
            if let Err(e) = demo::ensure_register(&db).await {
                tracing::warn!(error = %e, "loading the demo register failed");
            }
        });
    }
    {
        // The classifier is trained right after the server is ready (not before: it is most of a
        // restart's time), then every ten minutes learns from routing that stood (complaints
        // answered where sent).
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(600));
            loop {
                tick.tick().await;
                if let Err(e) = state.complaints.retrain(&state.db).await {
                    tracing::warn!(error = %e, "retraining the complaint classifier failed");
                }
            }
        });
    }
    let db = state.db.clone();
    let app = router(state);
    tracing::info!(duration_ms = started.elapsed().as_millis() as u64, %addr, "ready");
    println!("Quanban 全办 is running at http://{addr}/  (ready in {} ms)", started.elapsed().as_millis());
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    if let Err(e) = crate::platform::jobs::release_all(&db, crate::platform::jobs::this_process()).await {
        tracing::warn!(error = %e, "releasing job leases failed");
    }
    db.close().await;
    Ok(())
}

/// The periodic work of a serving process (see [`platform::jobs`]): jobs on the database take
/// a lease per run, so that several processes on one database never do the same run; jobs on
/// this process's memory run in every process.
fn spawn_background(state: AppState) {
    use crate::platform::jobs::{self, Job};
    let every = Duration::from_secs(state.config.checkpoint_seconds.max(1));
    let db = state.db.clone();
    let sender: Arc<dyn cases::notify::Sender> =
        Arc::new(cases::notify::FileSender::new(state.config.outbox_path(), state.clock().clone()));
    for job in Job::ALL {
        let (state, sender) = (state.clone(), sender.clone());
        let period = if job == Job::OutboxDispatch { Duration::from_secs(1) } else { every };
        jobs::spawn(db.clone(), job, period, move || {
            let (state, sender) = (state.clone(), sender.clone());
            async move { run_job(&state, sender.as_ref(), job).await }
        });
    }
    // Other processes on the same PostgreSQL may have added a holiday year; the rate limiters
    // forget addresses whose budget is full again.
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            state.limiters.forget_idle();
            if let Err(e) = state.reload_calendar().await {
                tracing::warn!(error = %e, "calendar reload failed");
            }
        }
    });
}

/// One run of a database job.
async fn run_job(
    state: &AppState,
    sender: &dyn cases::notify::Sender,
    job: crate::platform::jobs::Job,
) -> anyhow::Result<()> {
    use crate::platform::jobs::Job;
    match job {
        Job::OutboxDispatch => {
            cases::notify::dispatch_once(&state.db, sender).await?;
        }
        Job::CatalogApply => {
            let n = catalog::store::apply_due(&state.db, state.clock().today()).await?;
            if n > 0 {
                tracing::info!(catalog.applied = n, "catalog changes took effect");
                state.catalog_changed();
            }
        }
        Job::AuditCheckpoint => {
            audit::store::checkpoint(&state.db, &state.audit_key).await?;
        }
        Job::SessionPurge => {
            identity::session::purge_expired(&state.db).await?;
        }
        Job::ProactiveScan => {
            crate::complaints::service::scan_clusters(state).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        Job::MonitoringSweep => {
            let r = crate::monitoring::service::sweep(state).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            if r.yellow + r.red > 0 {
                tracing::info!(
                    monitoring.yellow = r.yellow,
                    monitoring.red = r.red,
                    "electronic monitoring raised"
                );
            }
        }
        Job::FiguresRefresh => {
            crate::assessment::service::refresh_figures(state).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
