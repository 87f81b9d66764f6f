//! Operational endpoints: liveness, readiness, metrics, the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use utoipa::OpenApi;

use super::error::ApiError;
use crate::app::AppState;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "ok", body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses(
    (status = 200, description = "database reachable"),
    (status = 503, description = "database unreachable", body = super::error::Problem)))]
pub async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.db.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        ApiError::Unavailable
    })?;
    Ok("ready")
}

/// Prometheus text exposition.
/// Prometheus text. Answered to the host itself (a collector on the machine) or to a caller with
/// `Authorization: Bearer <metrics_token>`; anyone else gets 404, as if there were nothing here.
pub async fn metrics(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    headers: axum::http::HeaderMap,
) -> impl IntoResponse {
    let peer = extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
    let local = peer.is_some_and(|p| p.0.ip().is_loopback());
    let token_ok = state.config.metrics_token.as_ref().is_some_and(|token| {
        use subtle::ConstantTimeEq;
        headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| given.trim().as_bytes().ct_eq(token.as_str().as_bytes()).into())
    });
    if !(local || token_ok) {
        return ApiError::NotFound.into_response();
    }
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &state.metrics.registry) {
        return ApiError::Internal(anyhow::anyhow!("encoding metrics: {e}")).into_response();
    }
    // The SQLite writer's counters, before the closing `# EOF`.
    if let Some(w) = state.db.writer_stats()
        && let Some(body) = out.strip_suffix("# EOF\n")
    {
        let mut with = body.to_string();
        for (name, help, value) in [
            ("writer_groups", "SQLite group commits", w.groups),
            ("writer_bodies", "write bodies committed or rolled back in groups", w.bodies),
            ("writer_queue_wait_microseconds", "time write bodies waited for their group", w.queue_wait_us),
            ("writer_group_microseconds", "time groups took from BEGIN to the end of COMMIT", w.group_us),
            ("writer_refused", "writes refused because the queue was full", w.refused),
        ] {
            with.push_str(&format!(
                "# HELP quanban_{name} {help}.\n# TYPE quanban_{name} counter\nquanban_{name}_total {value}\n"
            ));
        }
        with.push_str("# EOF\n");
        out = with;
    }
    // The supervision figures (open cases by light, orders, what the sweep raised).
    match crate::monitoring::service::gauges(&state).await {
        Ok(gauges) => {
            if let Some(body) = out.strip_suffix("# EOF\n") {
                out = format!("{body}{gauges}# EOF\n");
            }
        }
        Err(e) => tracing::warn!(error = %e, "reading the supervision figures for /metrics failed"),
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        out,
    )
        .into_response()
}

/// Unknown API paths answer with problem details, not the HTML 404 page.
pub async fn api_not_found() -> ApiError {
    ApiError::NotFound
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Quanban (全办) API",
        description = "Integrated government-services platform. Errors are RFC 9457 problem details \
                       with a stable `code` and per-field messages in Chinese and English.",
        version = env!("CARGO_PKG_VERSION")
    ),
    paths(
        healthz,
        readyz,
        crate::identity::api::register,
        crate::identity::api::create_token,
        crate::identity::api::logout,
        crate::identity::api::get_me,
        crate::identity::api::update_me,
        crate::identity::api::create_enterprise,
        crate::identity::api::get_enterprise,
        crate::identity::api::add_agent,
        crate::identity::api::create_staff,
        crate::calendar::api::add_days,
        crate::calendar::api::count_days,
        crate::calendar::api::get_day,
        crate::calendar::api::put_year,
        crate::catalog::api::list_items,
        crate::catalog::api::get_item,
        crate::catalog::api::get_item_history,
        crate::catalog::api::create_proposal,
        crate::catalog::api::list_proposals,
        crate::catalog::api::get_proposal,
        crate::catalog::api::approve_proposal,
        crate::catalog::api::reject_proposal,
        crate::catalog::api::export_catalog,
        crate::catalog::api::import_catalog,
        crate::catalog::api::list_bundles,
        crate::catalog::api::get_bundle,
        crate::catalog::api::resolve_bundle,
        crate::catalog::api::boundary_report,
        crate::guide::api::guide,
        crate::guide::api::create_handoff,
        crate::guide::api::get_handoff,
        crate::guide::api::inbox,
        crate::guide::api::answer_handoff,
        crate::cases::api::create_case,
        crate::cases::api::list_cases,
        crate::cases::api::get_case,
        crate::cases::api::act,
        crate::cases::api::material_file,
        crate::cases::api::upload,
        crate::cases::api::create_draft,
        crate::cases::api::list_drafts,
        crate::cases::api::get_draft,
        crate::cases::api::put_draft,
        crate::cases::api::delete_draft,
        crate::cases::api::notifications,
        crate::cases::api::mark_read,
        crate::cases::api::list_post_checks,
        crate::cases::api::post_check_outcome,
        crate::cases::api::workbench,
        crate::cases::api::lights,
        crate::monitoring::api::list_orders,
        crate::monitoring::api::issue_order,
        crate::monitoring::api::close_order,
        crate::monitoring::api::sweep,
        crate::assessment::api::scorecards,
        crate::assessment::api::drill,
        crate::assessment::api::comments,
        crate::assessment::api::comment,
        crate::reform::api::list,
        crate::reform::api::get,
        crate::reform::api::import,
        crate::reform::api::report,
        crate::reform::api::review,
        crate::projects::api::create_project,
        crate::projects::api::list_projects,
        crate::projects::api::get_project,
        crate::projects::api::joint_review,
        crate::projects::api::give_opinion,
        crate::licences::api::verify_credential,
        crate::licences::api::verify_seal,
        crate::licences::api::wallet,
        crate::licences::api::get_credential,
        crate::licences::api::credential_qr,
        crate::licences::api::issue_credential,
        crate::licences::api::list_credentials,
        crate::licences::api::change_status,
        crate::licences::api::list_seals,
        crate::licences::api::rotate_seal,
        crate::licences::api::revoke_seal,
        crate::halls::api::list_halls,
        crate::halls::api::geojson,
        crate::halls::api::districts_geojson,
        crate::halls::api::places,
        crate::halls::api::nearest,
        crate::halls::api::get_hall,
        crate::halls::api::slots,
        crate::halls::api::set_coverage,
        crate::halls::api::book,
        crate::halls::api::my_appointments,
        crate::halls::api::cancel,
        crate::halls::api::visit,
        crate::halls::api::ics,
        crate::halls::api::take_number,
        crate::halls::api::queue,
        crate::halls::api::call_next,
        crate::halls::api::recall,
        crate::halls::api::skip,
        crate::halls::api::cancel_ticket,
        crate::halls::api::ticket,
        crate::halls::api::register_kiosk,
        crate::halls::api::kiosks,
        crate::halls::api::heartbeat,
        crate::assistance::api::ask,
        crate::assistance::api::list,
        crate::assistance::api::get,
        crate::assistance::api::step,
        crate::data::api::catalog,
        crate::data::api::catalog_jsonld,
        crate::data::api::create_request,
        crate::data::api::list_requests,
        crate::data::api::get_request,
        crate::data::api::step,
        crate::data::api::exchange,
        crate::data::api::department_access,
        crate::data::api::my_access,
        crate::data::api::enterprise_access,
        crate::policies::api::benefits,
        crate::policies::api::answer,
        crate::policies::api::simulate,
        crate::policies::api::runs,
        crate::policies::api::propose,
        crate::policies::api::versions,
        crate::policies::api::decide_version,
        crate::feedback::api::rate,
        crate::feedback::api::mine,
        crate::feedback::api::stats,
        crate::feedback::api::loops,
        crate::feedback::api::get_loop,
        crate::feedback::api::step,
        crate::complaints::api::create,
        crate::complaints::api::propose,
        crate::complaints::api::by_caller,
        crate::complaints::api::list,
        crate::complaints::api::get,
        crate::complaints::api::act,
        crate::complaints::api::categories,
        crate::complaints::api::put_categories,
        crate::complaints::api::rates,
        crate::complaints::api::monthly_topics,
        crate::complaints::api::tasks,
        crate::complaints::api::scan,
        crate::complaints::api::finish_task,
        crate::complaints::api::photo,
        crate::app::audit_verify,
        crate::app::audit_checkpoints,
    ),
    components(schemas(super::error::Problem, super::error::FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "identity", description = "Registration, login, accounts (身份认证)"),
        (name = "calendar", description = "Working-day calendar (工作日历)"),
        (name = "projects", description = "Construction projects in four stages, joint reviews (工程建设项目、联合审图、联合验收)"),
        (name = "catalog", description = "Service catalog, bundles, responsibility boundaries (事项清单、一件事、职责边界)"),
        (name = "guide", description = "Guidance assistant and human hand-off (人工+智能导引)"),
        (name = "cases", description = "Cases: applying, processing, deadlines, notifications (办件)"),
        (name = "licences", description = "E-licences, e-seals and the wallet (电子证照、电子印章、一部手机走泉城)"),
        (name = "halls", description = "Halls, the service map, nearest halls and appointments (四级政务服务网上地图、预约服务)"),
        (name = "assistance", description = "Assisted service, free of charge (帮办代办)"),
        (name = "data", description = "Data sharing: the catalog, requests for conditional data, the exchange and who looked at my data (数据按需共享)"),
        (name = "policies", description = "Enterprise policies: what each enterprise is owed and why, confirming the account, what-if simulation and 免申即享 runs (惠企政策)"),
        (name = "ratings", description = "Good/bad reviews and the rectification loop (好差评)"),
        (name = "complaints", description = "Complaints, routing, the three rates, proactive tasks (接诉即办、未诉先办); Open311 GeoReport v2 at /open311/v2"),
        (name = "supervision", description = "Department assessment: scorecards computed from the records, the ranking and the records behind each figure (部门考评)"),
        (name = "audit", description = "The audit log's integrity and its signed checkpoints (审计日志)"),
        (name = "ops", description = "Health and operations")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI 3.1 document, generated from the handlers' annotations.
pub async fn openapi() -> Json<serde_json::Value> {
    Json(document())
}

/// The OpenAPI document as served: the annotations' output, with what the annotations cannot
/// say made uniform (checked by an independent validator in `scripts/test`):
/// - every response has a description (the status's meaning when the annotation gave none);
/// - error answers are documented as `application/problem+json`, as they are sent;
/// - operation ids are unique (`<tag>_<handler>`: several areas have a `list` or `get`);
/// - a `default: null` is dropped where the type does not admit null.
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    normalise(&mut doc);
    doc
}

fn status_description(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "204" => "Done; nothing to return",
        "303" => "See the page in Location",
        "400" => "The request cannot be read (problem details)",
        "401" => "Not signed in (problem details)",
        "403" => "Signed in, but not allowed to do this (problem details)",
        "404" => "No such record, or not yours to see (problem details)",
        "405" => "Method not allowed; see Allow (problem details)",
        "409" => "Conflicts with the record's current state or version (problem details, with `state`)",
        "413" => "The body is too large (problem details)",
        "415" => "Unsupported body format (problem details)",
        "422" => "Invalid input; `errors` names each field (problem details)",
        "429" => "Too many requests; see Retry-After (problem details)",
        "503" => "Busy or unavailable; see Retry-After (problem details)",
        _ => "See the body",
    }
}

fn normalise(doc: &mut serde_json::Value) {
    use serde_json::Value;
    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for (method, op) in item.iter_mut() {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                let tag = op["tags"][0].as_str().unwrap_or("api").to_string();
                if let Some(id) = op.get("operationId").and_then(Value::as_str).map(str::to_string)
                    && !id.starts_with(&format!("{tag}_"))
                {
                    op["operationId"] = Value::String(format!("{tag}_{id}"));
                }
                // The answers every operation of this shape can get from the shared layers
                // (sign-in, extractors, body limits, the write queue), documented once here.
                let secured = op.get("security").is_some();
                let has_body = op.get("requestBody").is_some();
                let params: Vec<String> = op["parameters"]
                    .as_array()
                    .map(|ps| ps.iter().filter_map(|p| p["in"].as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                let writes = method != "get";
                let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                    continue;
                };
                let mut add = |status: &str| {
                    responses.entry(status.to_string()).or_insert_with(|| {
                        serde_json::json!({
                            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
                        })
                    });
                };
                if secured {
                    add("401");
                    add("403");
                }
                if has_body {
                    add("400");
                    add("413");
                    add("415");
                    add("422");
                }
                if params.iter().any(|p| p == "query") {
                    add("422");
                }
                if params.iter().any(|p| p == "path") {
                    add("404");
                }
                if writes {
                    add("400");
                    add("503");
                }
                for (status, response) in responses.iter_mut() {
                    let Some(response) = response.as_object_mut() else { continue };
                    if response.get("description").and_then(Value::as_str).is_none_or(str::is_empty) {
                        response
                            .insert("description".into(), Value::String(status_description(status).into()));
                    }
                    let error = status.starts_with('4') || status.starts_with('5');
                    if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut)
                        && error
                        && let Some(body) = content.remove("application/json")
                    {
                        content.insert("application/problem+json".into(), body);
                    }
                }
            }
        }
    }
    fn drop_null_defaults(v: &mut serde_json::Value) {
        match v {
            Value::Object(map) => {
                let nullable = match map.get("type") {
                    Some(Value::String(t)) => t == "null",
                    Some(Value::Array(ts)) => ts.iter().any(|t| t == "null"),
                    _ => true,
                };
                if map.get("default").is_some_and(Value::is_null) && !nullable {
                    map.remove("default");
                }
                map.values_mut().for_each(drop_null_defaults);
            }
            Value::Array(items) => items.iter_mut().for_each(drop_null_defaults),
            _ => {}
        }
    }
    drop_null_defaults(doc);
}
