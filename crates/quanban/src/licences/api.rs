//! JSON API of e-licences, seals and the wallet, plus the public key documents and status lists
//! at their stable URLs.

use crate::http::extract::{Path, Query};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::domain::{self, Verdict};
use super::service::{self, SealVerdict};
use super::store::{self, CredentialRecord};
use crate::app::AppState;
use crate::http::extract::ApiJsonOrEmpty;
use crate::http::{ApiError, ApiJson, ApiResult, Caller, FieldError};
use crate::identity::authz::Actor;

/// Accepts a credential as the body, or wrapped as `{"verifiableCredential": …}` (VC API style).
fn unwrap_envelope(v: Value) -> Value {
    match v {
        Value::Object(mut o) if o.contains_key("verifiableCredential") && !o.contains_key("proof") => {
            o.remove("verifiableCredential").unwrap_or(Value::Null)
        }
        other => other,
    }
}

fn malformed_json(e: &serde_json::Error) -> Response {
    // A Problem (422) that also reads as a failed verification, so both kinds of client see why.
    let body = json!({
        "type": "about:blank",
        "title": "请求体不是有效的 JSON / The body is not valid JSON",
        "status": 422,
        "code": "malformed",
        "detail": format!("第 {} 行第 {} 列：{e}", e.line(), e.column()),
        "errors": [FieldError::new("body", "malformed_json",
            format!("凭证不是有效的 JSON（第 {} 行第 {} 列）", e.line(), e.column()),
            format!("The credential is not valid JSON (line {}, column {})", e.line(), e.column()))],
        "valid": false,
        "reason": "malformed",
        "message_zh": "凭证不是有效的 JSON",
        "message_en": "The credential is not valid JSON",
    });
    (StatusCode::UNPROCESSABLE_ENTITY, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string())
        .into_response()
}

/// Verifies a credential (the body): format, issuer, every proof, revocation and suspension,
/// validity. Always answers 200 with `valid` and the `checks`; only a body that is not JSON at
/// all is a 422.
#[utoipa::path(post, path = "/api/v1/credentials/verify", tag = "licences",
    request_body(content = Object, description = "A Verifiable Credential (or {\"verifiableCredential\": …})"),
    responses((status = 200, description = "{valid, reason, message_zh, message_en, checks[]}"),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn verify_credential(State(state): State<AppState>, body: Bytes) -> ApiResult<Response> {
    let doc: Value = match serde_json::from_slice(&body) {
        Ok(v) => unwrap_envelope(v),
        Err(e) => return Ok(malformed_json(&e)),
    };
    let verdict: Verdict = service::verify(&state.db, &state.licensing, &doc).await?;
    Ok(Json(verdict).into_response())
}

/// Checks a sealed document (a decision letter): the seal is ours and not revoked, and both of
/// its signatures match the document.
#[utoipa::path(post, path = "/api/v1/seals/verify", tag = "licences",
    request_body(content = Object, description = "A sealed document"),
    responses((status = 200, description = "{valid, reason, message_zh, message_en, seal_id}"),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn verify_seal(State(state): State<AppState>, body: Bytes) -> ApiResult<Response> {
    let doc: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return Ok(malformed_json(&e)),
    };
    let verdict: SealVerdict = service::verify_sealed(&state.db, &doc).await?;
    Ok(Json(verdict).into_response())
}

/// The signed-in holder's credentials (their own, then their enterprises'), as full VC JSON.
#[utoipa::path(get, path = "/api/v1/wallet", tag = "licences", security(("bearer" = [])),
    responses((status = 200, description = "An array of Verifiable Credentials"),
        (status = 401, body = crate::http::error::Problem)))]
pub async fn wallet(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Value>>> {
    let user = caller.require_user()?;
    let creds = service::wallet(&state.db, user).await?;
    Ok(Json(creds.into_iter().map(|c| c.document).collect()))
}

async fn readable(state: &AppState, caller: &Caller, id: &str) -> ApiResult<CredentialRecord> {
    caller.require_user()?;
    let c = store::credential(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    if !service::may_read(&caller.actor, &c) {
        // Do not reveal that someone else's credential exists.
        return Err(ApiError::NotFound);
    }
    Ok(c)
}

/// One credential with its record: status as shown, reason, case.
#[utoipa::path(get, path = "/api/v1/credentials/{id}", tag = "licences", security(("bearer" = [])),
    params(("id" = String, Path, description = "The credential id (urn:uuid:…)")),
    responses((status = 200, description = "{credential, status, status_reason, identifier, case_number, version}"),
        (status = 404, body = crate::http::error::Problem)))]
pub async fn get_credential(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let c = readable(&state, &caller, &id).await?;
    Ok(Json(record_view(&c, state.clock().now())))
}

pub fn record_view(c: &CredentialRecord, now: chrono::DateTime<chrono::Utc>) -> Value {
    json!({
        "id": c.id,
        "identifier": c.identifier,
        "type": c.type_code,
        "type_name": domain::find_type(&c.type_code).map(|t| t.name.clone()),
        "issuer": c.issuer,
        "issuer_name": c.issuer_name,
        "holder_kind": c.holder_kind,
        "holder_name": c.holder_name,
        "status": service::shown_status(c, now),
        "status_reason": c.status_reason,
        "valid_from": c.valid_from,
        "valid_until": c.valid_until,
        "case_number": c.case_number,
        "seal_id": c.seal_id,
        "version": c.version,
        "credential": c.document,
    })
}

/// A QR code (SVG) that opens the verification page for this credential.
#[utoipa::path(get, path = "/api/v1/credentials/{id}/qr.svg", tag = "licences", security(("bearer" = [])),
    params(("id" = String, Path, description = "The credential id")),
    responses((status = 200, content_type = "image/svg+xml"), (status = 404, body = crate::http::error::Problem)))]
pub async fn credential_qr(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = readable(&state, &caller, &id).await?;
    let svg = qr_svg(&state.licensing.urls.verify_page(&c.id)).ok_or(ApiError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "private, max-age=300")], svg)
        .into_response())
}

/// An SVG QR code (error correction M) of `text`, without the XML declaration so that it can be
/// inlined in a page.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    Some(match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct IssueRequest {
    /// The e-licence type code, e.g. `food_business_licence`.
    #[serde(rename = "type")]
    pub type_code: String,
    /// The holder: a registered person's mobile number …
    #[serde(default)]
    pub holder_phone: Option<String>,
    /// … or an enterprise's unified social credit code.
    #[serde(default)]
    pub holder_credit_code: Option<String>,
    /// Values of the type's fields (others are filled from the holder's record).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// `YYYY-MM-DD`; today when absent.
    #[serde(default)]
    pub valid_from: Option<String>,
    /// `YYYY-MM-DD`; from the type's validity when absent.
    #[serde(default)]
    pub valid_until: Option<String>,
    /// Issue as this department (staff with roles in several departments).
    #[serde(default)]
    pub department: Option<String>,
}

/// Issues a credential by an issuing officer (证照管理, approver or head of the department).
#[utoipa::path(post, path = "/api/v1/credentials", tag = "licences", request_body = IssueRequest,
    security(("bearer" = [])),
    responses((status = 201, description = "The record with the signed credential"),
        (status = 403, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn issue_credential(
    State(state): State<AppState>,
    crate::http::SignedIn(caller): crate::http::SignedIn,
    ApiJson(req): ApiJson<IssueRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let c = service::issue_by_officer(&state, &caller, req).await?;
    Ok((StatusCode::CREATED, Json(record_view(&c, state.clock().now()))))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Holder name, identifier, case number or credit code (part of).
    pub q: Option<String>,
    /// Department (defaults to the caller's).
    pub department: Option<String>,
}

/// The department's issued credentials, newest first (at most 200).
#[utoipa::path(get, path = "/api/v1/credentials", tag = "licences", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "Records"), (status = 403, body = crate::http::error::Problem)))]
pub async fn list_credentials(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<Value>>> {
    let department = staff_department(&caller, q.department.as_deref())?;
    if !service::manages_licences(&caller.actor, &department) {
        return Err(ApiError::Forbidden);
    }
    let q = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let list = store::for_issuer(&state.db, Some(&department), q, 200).await?;
    let now = state.clock().now();
    Ok(Json(list.iter().map(|c| record_view(c, now)).collect()))
}

pub fn staff_department(caller: &Caller, asked: Option<&str>) -> ApiResult<String> {
    match &caller.actor {
        Actor::Staff { department, .. } => Ok(asked.unwrap_or(department).to_string()),
        Actor::Anonymous => Err(ApiError::Unauthenticated),
        Actor::Person { .. } => Err(ApiError::Forbidden),
    }
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct StatusRequest {
    /// Required for suspend and revoke.
    #[serde(default)]
    pub reason: Option<String>,
    /// The version you saw (optional; guards against two officers at once).
    #[serde(default)]
    pub version: Option<i64>,
}

/// Suspends (`suspend`), reinstates (`reinstate`) or revokes (`revoke`, final) a credential. The
/// issuer's status lists change at once.
#[utoipa::path(post, path = "/api/v1/credentials/{id}/{action}", tag = "licences", request_body = StatusRequest,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The credential id"),
        ("action" = String, Path, description = "suspend | reinstate | revoke")),
    responses((status = 200, description = "The record"), (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn change_status(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
    ApiJsonOrEmpty(req): ApiJsonOrEmpty<StatusRequest>,
) -> ApiResult<Json<Value>> {
    let c = service::change_status(&state, &caller, &id, &action, req).await?;
    Ok(Json(record_view(&c, state.clock().now())))
}

/// Every seal's public side (no private keys), newest first per department.
#[utoipa::path(get, path = "/api/v1/seals", tag = "licences",
    responses((status = 200, description = "Seals")))]
pub async fn list_seals(State(state): State<AppState>) -> ApiResult<Json<Vec<Value>>> {
    let seals = store::seals(&state.db, None).await?;
    Ok(Json(
        seals
            .iter()
            .map(|s| {
                json!({
                    "id": s.id, "department": s.department, "department_name": s.department_name,
                    "name": s.name, "serial": s.serial, "status": s.status, "status_reason": s.status_reason,
                    "valid_from": s.valid_from, "valid_until": s.valid_until,
                    "ed25519_public": s.ed25519_public, "sm2_public": s.sm2_public,
                    "image": format!("/seals/{}.svg", s.id),
                })
            })
            .collect(),
    ))
}

/// Retires the department's seal and makes a new key pair; old signatures stay verifiable.
#[utoipa::path(post, path = "/api/v1/seals/rotate/{department}", tag = "licences", security(("bearer" = [])),
    params(("department" = String, Path, description = "Department code")),
    responses((status = 200, description = "{seal_id}"), (status = 403, body = crate::http::error::Problem)))]
pub async fn rotate_seal(
    State(state): State<AppState>,
    caller: Caller,
    Path(department): Path<String>,
) -> ApiResult<Json<Value>> {
    let actor = caller.require_user()?.to_string();
    if !service::keeps_seals(&caller.actor, &department) {
        return Err(ApiError::Forbidden);
    }
    let id =
        service::rotate_seal(&state.db, &state.licensing, &department, &actor).await.map_err(|e| {
            match e.downcast::<crate::store::StoreError>() {
                Ok(s) => ApiError::from(s),
                Err(e) => ApiError::Internal(e),
            }
        })?;
    Ok(Json(json!({"seal_id": id})))
}

/// Revokes a seal (key compromise): what it signed no longer verifies.
#[utoipa::path(post, path = "/api/v1/seals/{id}/revoke", tag = "licences", request_body = StatusRequest,
    security(("bearer" = [])), params(("id" = String, Path, description = "Seal id")),
    responses((status = 200, description = "{seal_id, status}"), (status = 403, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn revoke_seal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJsonOrEmpty(req): ApiJsonOrEmpty<StatusRequest>,
) -> ApiResult<Json<Value>> {
    let actor = caller.require_user()?.to_string();
    let seal = store::seal(&state.db, &id).await?.ok_or(ApiError::NotFound)?;
    if !service::keeps_seals(&caller.actor, &seal.department) {
        return Err(ApiError::Forbidden);
    }
    let reason = req.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).ok_or_else(|| {
        ApiError::Validation(vec![FieldError::required("reason", "吊销原因", "A reason for revoking")])
    })?;
    service::revoke_seal(&state.db, &state.licensing, &id, reason, &actor).await?;
    Ok(Json(json!({"seal_id": id, "status": "revoked"})))
}

/// The issuer's published keys (a controller document of Multikey verification methods).
pub async fn issuer_document(
    State(state): State<AppState>,
    Path(department): Path<String>,
) -> ApiResult<Response> {
    let doc = service::issuer_document(&state.db, &state.licensing, &department)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((
        [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "public, max-age=300")],
        doc.to_string(),
    )
        .into_response())
}

/// The platform's JSON-LD context: every term of our credentials and issuer documents that the
/// W3C contexts do not define.
pub async fn context_document(State(state): State<AppState>) -> Response {
    let doc = domain::context_document(&state.licensing.urls.base);
    (
        [(header::CONTENT_TYPE, "application/ld+json"), (header::CACHE_CONTROL, "public, max-age=86400")],
        doc.to_string(),
    )
        .into_response()
}

/// The issuer's Bitstring Status List credential for `revocation` or `suspension`.
pub async fn status_list(
    State(state): State<AppState>,
    Path((department, purpose)): Path<(String, String)>,
) -> ApiResult<Response> {
    let list = service::status_list(&state.db, &state.licensing, &department, &purpose)
        .await
        .map_err(ApiError::Internal)?
        .ok_or(ApiError::NotFound)?;
    Ok((
        [(header::CONTENT_TYPE, "application/vc"), (header::CACHE_CONTROL, "public, max-age=60")],
        list.to_string(),
    )
        .into_response())
}

/// A seal's image (`/seals/<id>.svg`).
pub async fn seal_image(State(state): State<AppState>, Path(file): Path<String>) -> ApiResult<Response> {
    let id = file.strip_suffix(".svg").ok_or(ApiError::NotFound)?;
    let seal = store::seal(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    let svg = super::seal_image::seal_svg(&seal.department_name, &seal.name, &seal.serial);
    Ok(([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], svg)
        .into_response())
}
