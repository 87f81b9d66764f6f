//! Web pages: the wallet (一部手机走泉城), verification (/verify, also what a licence's QR code
//! opens), the issuing desk and the department's seals.

use crate::http::extract::{Path, Query};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Multipart;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::api::{self as licence_api, IssueRequest, StatusRequest};
use super::domain::{self, Outcome, Verdict};
use super::service;
use super::store::{self, CredentialRecord};
use crate::app::AppState;
use crate::http::{ApiError, FieldError};
use crate::identity::authz::Actor;
use crate::web::i18n::Tr;
use crate::web::page::{PageCtx, PageError, UserChip};

fn require_login(ctx: &PageCtx) -> Result<String, Redirect> {
    ctx.caller.user_id.clone().ok_or_else(|| ctx.to_login())
}

/// One card as the wallet and the desk list it.
pub struct CardLine {
    pub id: String,
    pub href: String,
    pub type_name: String,
    pub type_code: String,
    pub holder: String,
    pub holder_kind: String,
    pub issuer: String,
    pub identifier: String,
    pub status: String,
    pub status_label: String,
    pub valid: String,
    /// The number printed on the licence (许可证编号), when its type has one.
    pub number: Option<String>,
    pub case_number: Option<String>,
    pub version: i64,
}

/// A credential as people name it: its type, its holder and how long it is valid
/// (营业执照：济南泉城小馆餐饮有限公司（有效期至长期）), never its identifier.
pub fn plain_name(t: Tr, c: &CredentialRecord, now: chrono::DateTime<chrono::Utc>) -> String {
    let card = card_line(t, c, now);
    let until = card.valid.split(" — ").nth(1).unwrap_or(&card.valid).to_string();
    if t.is_en() {
        format!("{}: {} (valid until {until})", card.type_name, card.holder)
    } else {
        format!("{}：{}（有效期至{until}）", card.type_name, card.holder)
    }
}

fn card_line(t: Tr, c: &CredentialRecord, now: chrono::DateTime<chrono::Utc>) -> CardLine {
    let status = service::shown_status(c, now).to_string();
    let day = |s: &str| s.chars().take(10).collect::<String>();
    let until = c
        .valid_until
        .as_deref()
        .map(|u| {
            // Stored as the first instant after the last valid day (Beijing midnight, in UTC).
            chrono::DateTime::parse_from_rfc3339(u)
                .map(|d| {
                    (d + chrono::Duration::hours(8) - chrono::Duration::days(1))
                        .format("%Y-%m-%d")
                        .to_string()
                })
                .unwrap_or_else(|_| day(u))
        })
        .unwrap_or_else(|| t.pick("长期", "no expiry").to_string());
    let from = chrono::DateTime::parse_from_rfc3339(&c.valid_from)
        .map(|d| (d + chrono::Duration::hours(8)).format("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| day(&c.valid_from));
    CardLine {
        href: format!("/wallet/{}", c.id),
        id: c.id.clone(),
        type_name: domain::find_type(&c.type_code)
            .map(|ty| t.pick(&ty.name, &domain::type_name_en(&c.type_code)).to_string())
            .unwrap_or_else(|| c.type_code.clone()),
        type_code: c.type_code.clone(),
        holder: c.holder_name.clone(),
        holder_kind: c.holder_kind.clone(),
        issuer: c.issuer_name.clone(),
        identifier: c.identifier.clone(),
        status_label: t
            .pick(service::status_label_zh(&status), service::status_label_en(&status))
            .to_string(),
        status,
        valid: format!("{from} — {until}"),
        number: service::licence_number(c),
        case_number: c.case_number.clone(),
        version: c.version,
    }
}

#[derive(Template)]
#[template(path = "wallet.html")]
struct WalletPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    personal: Vec<CardLine>,
    enterprise: Vec<CardLine>,
}

pub async fn wallet(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let user = match require_login(&ctx) {
        Ok(u) => u,
        Err(r) => return Ok(r.into_response()),
    };
    let creds = service::wallet(&state.db, &user).await.map_err(|e| ctx.error(e.into()))?;
    let (personal, enterprise): (Vec<_>, Vec<_>) = creds.iter().partition(|c| c.holder_kind == "person");
    let page = WalletPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        personal: personal.into_iter().map(|c| card_line(ctx.t, c, state.clock().now())).collect(),
        enterprise: enterprise.into_iter().map(|c| card_line(ctx.t, c, state.clock().now())).collect(),
    };
    Ok(ctx.render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "credential.html")]
struct CardPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    card: CardLine,
    fields: Vec<(String, String)>,
    qr: String,
    verify_url: String,
    status_reason: Option<String>,
    /// The issuing seal's image (the printed licence shows it).
    seal_image: String,
}

async fn readable(state: &AppState, ctx: &PageCtx, id: &str) -> Result<CredentialRecord, PageError> {
    let c = store::credential(&state.db, id).await.map_err(|e| ctx.error(e.into()))?;
    match c {
        Some(c) if service::may_read(&ctx.caller.actor, &c) => Ok(c),
        _ => Err(ctx.error(ApiError::NotFound)),
    }
}

/// The labelled fields of a credential's subject, in the type's order.
fn subject_fields(t: Tr, c: &CredentialRecord) -> Vec<(String, String)> {
    let subject = c.document.get("credentialSubject").cloned().unwrap_or(Value::Null);
    let mut out = Vec::new();
    if let Some(ty) = domain::find_type(&c.type_code) {
        // The number and the validity have their own lines on the card.
        let own_line =
            |name: &str| service::NUMBER_FIELDS.contains(&name) || matches!(name, "valid_from" | "valid_to");
        for f in ty.fields.iter().filter(|f| !own_line(&f.name)) {
            if let Some(v) = subject.get(&f.name).and_then(Value::as_str) {
                let label = if t.is_en() { f.name.replace('_', " ") } else { f.label.clone() };
                out.push((label, v.to_string()));
            }
        }
    }
    out
}

pub async fn card(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    if let Err(r) = require_login(&ctx) {
        return Ok(r.into_response());
    }
    let c = readable(&state, &ctx, &id).await?;
    let verify_url = state.licensing.urls.verify_page(&c.id);
    let page = CardPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        fields: subject_fields(ctx.t, &c),
        qr: licence_api::qr_svg(&verify_url).unwrap_or_default(),
        verify_url,
        status_reason: c.status_reason.clone(),
        seal_image: format!("/seals/{}.svg", c.seal_id),
        card: card_line(ctx.t, &c, state.clock().now()),
    };
    Ok(ctx.render(StatusCode::OK, &page))
}

pub async fn download(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    if let Err(r) = require_login(&ctx) {
        return Ok(r.into_response());
    }
    let c = readable(&state, &ctx, &id).await?;
    let name = format!("{}-{}.json", c.type_code, c.identifier.rsplit('.').nth(2).unwrap_or("credential"));
    let body = serde_json::to_string_pretty(&c.document).unwrap_or_default();
    Ok((
        [
            (header::CONTENT_TYPE, "application/vc".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response())
}

/// The licence as a printable PDF: the card's lines, the issuer and the verification QR code.
pub async fn print_pdf(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    if let Err(r) = require_login(&ctx) {
        return Ok(r.into_response());
    }
    let c = readable(&state, &ctx, &id).await?;
    // Printed in Chinese, as the paper licence is, whatever the page's language.
    let zh = Tr { lang: crate::web::i18n::Lang::Zh, kiosk: false };
    let card = card_line(zh, &c, state.clock().now());
    let mut lines = Vec::new();
    if let Some(n) = &card.number {
        lines.push(("许可证编号".to_string(), n.clone()));
    }
    lines.push(("持证主体".to_string(), card.holder.clone()));
    lines.extend(subject_fields(zh, &c));
    lines.push(("有效期".to_string(), card.valid.clone()));
    lines.push(("状态".to_string(), card.status_label.clone()));
    let verify_url = state.licensing.urls.verify_page(&c.id);
    let printed_at = crate::platform::clock::shown_time(&state.db.now_text());
    let bytes = super::pdf::licence_pdf(&super::pdf::PrintedLicence {
        title: &card.type_name,
        lines: &lines,
        issuer: &card.issuer,
        verify_url: &verify_url,
        printed_at: &printed_at,
    });
    let name = format!("{}-{}.pdf", c.type_code, card.number.as_deref().unwrap_or("licence"));
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

pub struct VerdictView {
    pub valid: bool,
    pub heading: String,
    pub message: String,
    pub checks: Vec<(String, String, String)>,
    pub type_name: String,
    pub issuer: String,
    pub holder: String,
    pub identifier: String,
    pub suites: String,
}

fn verdict_view(t: Tr, v: &Verdict, doc: &Value) -> VerdictView {
    let holder = doc
        .get("credentialSubject")
        .and_then(|s| s.get("holderName"))
        .and_then(Value::as_str)
        .map(mask_name)
        .unwrap_or_default();
    VerdictView {
        valid: v.valid,
        heading: if v.valid {
            t.pick("核验通过", "Verified")
        } else {
            t.pick("核验未通过", "Not valid")
        }
        .into(),
        message: t.pick(&v.message_zh, &v.message_en).to_string(),
        checks: v
            .checks
            .iter()
            .map(|c| {
                let (cls, mark) = match c.outcome {
                    Outcome::Passed => ("ok", t.pick("通过", "passed")),
                    Outcome::Failed => ("bad", t.pick("未通过", "failed")),
                    Outcome::Skipped => ("skip", t.pick("未检查", "not checked")),
                };
                (
                    format!("{} · {mark}", t.pick(c.check.label_zh(), c.check.label_en())),
                    t.pick(&c.message_zh, &c.message_en).to_string(),
                    cls.to_string(),
                )
            })
            .collect(),
        type_name: v
            .licence_type
            .as_deref()
            .and_then(domain::find_type)
            .map(|ty| t.pick(&ty.name, &domain::type_name_en(&ty.code)).to_string())
            .or_else(|| doc.get("name").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default(),
        issuer: doc
            .get("issuer")
            .and_then(|i| i.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        holder,
        identifier: v.identifier.clone().unwrap_or_default(),
        suites: v.suites.join(" + "),
    }
}

/// Shows only the first character of a person's name to an anonymous verifier (张伟 → 张*).
fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) if name.chars().count() <= 4 => format!("{first}{}", "*".repeat(chars.count())),
        _ => name.to_string(),
    }
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    pasted: String,
    result: Option<VerdictView>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct VerifyQuery {
    credential: Option<String>,
}

/// The verification page; `?credential=<id>` (what a licence's QR code opens) checks the issued
/// copy at once.
pub async fn verify_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<VerifyQuery>,
) -> Result<Response, PageError> {
    let mut result = None;
    let mut error = None;
    if let Some(id) = q.credential.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        match store::credential(&state.db, id).await.map_err(|e| ctx.error(e.into()))? {
            Some(c) => {
                let v = service::verify(&state.db, &state.licensing, &c.document)
                    .await
                    .map_err(|e| ctx.error(e.into()))?;
                result = Some(verdict_view(ctx.t, &v, &c.document));
            }
            None => {
                error = Some(
                    ctx.t.pick("平台上没有这个证照编号", "No credential with this id on the platform").into(),
                )
            }
        }
    }
    let page = VerifyPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        pasted: String::new(),
        result,
        error,
    };
    let status = if page.error.is_some() { StatusCode::NOT_FOUND } else { StatusCode::OK };
    Ok(ctx.render(status, &page))
}

/// Checks a pasted or uploaded credential (multipart: `credential` text or `file`).
pub async fn verify_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let mut csrf = String::new();
    let mut pasted = String::new();
    let mut file: Option<Vec<u8>> = None;
    while let Some(field) =
        form.next_field().await.map_err(|e| ctx.error(crate::cases::api::multipart_error(e)))?
    {
        match field.name().unwrap_or_default() {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "credential" => pasted = field.text().await.unwrap_or_default(),
            "file" => {
                let bytes =
                    field.bytes().await.map_err(|e| ctx.error(crate::cases::api::multipart_error(e)))?;
                if !bytes.is_empty() {
                    file = Some(bytes.to_vec());
                }
            }
            _ => {}
        }
    }
    ctx.check_csrf(&csrf)?;
    let text = match file {
        Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        None => pasted.clone(),
    };
    let (result, error) = if text.trim().is_empty() {
        (
            None,
            Some(
                ctx.t
                    .pick("请粘贴凭证 JSON 或选择文件", "Paste the credential JSON or choose a file")
                    .to_string(),
            ),
        )
    } else {
        match serde_json::from_str::<Value>(&text) {
            Ok(doc) => {
                let v = service::verify(&state.db, &state.licensing, &doc)
                    .await
                    .map_err(|e| ctx.error(e.into()))?;
                (Some(verdict_view(ctx.t, &v, &doc)), None)
            }
            Err(e) => (
                None,
                Some(format!(
                    "{}（{} {}:{}）",
                    ctx.t.pick("凭证不是有效的 JSON", "The credential is not valid JSON"),
                    ctx.t.pick("行:列", "line:column"),
                    e.line(),
                    e.column()
                )),
            ),
        }
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = VerifyPage { t: ctx.t, user: ctx.user(), csrf: ctx.csrf.clone(), pasted, result, error };
    Ok(ctx.render(status, &page))
}

// ---------------------------------------------------------------------------------------------
// Issuing desk and seals
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "licence_desk.html")]
struct DeskPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    department: String,
    types: Vec<(String, String)>,
    cards: Vec<CardLine>,
    q: String,
    errors: Vec<FieldError>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct DeskQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    done: Option<String>,
}

fn staff_department(ctx: &PageCtx) -> Option<String> {
    match &ctx.caller.actor {
        Actor::Staff { department, .. } => Some(department.clone()),
        _ => None,
    }
}

async fn render_desk(
    state: &AppState,
    ctx: &PageCtx,
    q: &str,
    errors: Vec<FieldError>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let department = staff_department(ctx).ok_or(ctx.error(ApiError::Forbidden))?;
    if !service::manages_licences(&ctx.caller.actor, &department) {
        return Err(ctx.error(ApiError::Forbidden));
    }
    let query = Some(q.trim()).filter(|s| !s.is_empty());
    let cards =
        store::for_issuer(&state.db, Some(&department), query, 100).await.map_err(|e| ctx.error(e.into()))?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = DeskPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        department,
        types: domain::types()
            .iter()
            .map(|ty| (ty.code.clone(), ctx.t.pick(&ty.name, &domain::type_name_en(&ty.code)).to_string()))
            .collect(),
        cards: cards.iter().map(|c| card_line(ctx.t, c, state.clock().now())).collect(),
        q: q.to_string(),
        errors,
        notice,
    };
    Ok(ctx.render(status, &page))
}

pub async fn desk(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<DeskQuery>,
) -> Result<Response, PageError> {
    if let Err(r) = require_login(&ctx) {
        return Ok(r.into_response());
    }
    let notice = q.done.map(|d| format!("{} {d}", ctx.t.pick("已完成：", "Done:")));
    render_desk(&state, &ctx, &q.q, Vec::new(), notice).await
}

#[derive(Deserialize)]
pub struct IssueForm {
    csrf: String,
    #[serde(rename = "type")]
    type_code: String,
    #[serde(default)]
    holder_phone: String,
    #[serde(default)]
    holder_credit_code: String,
    #[serde(default)]
    valid_until: String,
    /// `name=value` per line.
    #[serde(default)]
    fields: String,
}

pub async fn issue(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<IssueForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let mut fields = Map::new();
    for line in f.fields.lines() {
        if let Some((k, v)) = line.split_once(['=', '：', ':']) {
            fields.insert(k.trim().to_string(), Value::String(v.trim().to_string()));
        }
    }
    let req = IssueRequest {
        type_code: f.type_code,
        holder_phone: Some(f.holder_phone),
        holder_credit_code: Some(f.holder_credit_code),
        fields,
        valid_from: None,
        valid_until: Some(f.valid_until),
        department: None,
    };
    match service::issue_by_officer(&state, &ctx.caller, req).await {
        Ok(c) => Ok(Redirect::to(&format!("/licences?done={}", c.identifier)).into_response()),
        Err(ApiError::Validation(errors)) => render_desk(&state, &ctx, "", errors, None).await,
        Err(e) => Err(ctx.error(e)),
    }
}

#[derive(Deserialize)]
pub struct StatusForm {
    csrf: String,
    id: String,
    action: String,
    #[serde(default)]
    reason: String,
    version: Option<i64>,
}

pub async fn change_status(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<StatusForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let req = StatusRequest { reason: Some(f.reason), version: f.version };
    match service::change_status(&state, &ctx.caller, &f.id, &f.action, req).await {
        Ok(c) => Ok(Redirect::to(&format!("/licences?done={}", c.identifier)).into_response()),
        Err(ApiError::Validation(errors)) => render_desk(&state, &ctx, "", errors, None).await,
        Err(e) => Err(ctx.error(e)),
    }
}

pub struct SealLine {
    pub id: String,
    pub name: String,
    pub serial: String,
    pub status: String,
    pub status_label: String,
    pub valid: String,
    pub ed25519: String,
    pub sm2: String,
}

#[derive(Template)]
#[template(path = "seals.html")]
struct SealsPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    department: String,
    department_name: String,
    may_rotate: bool,
    seals: Vec<SealLine>,
}

pub async fn seals(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    if let Err(r) = require_login(&ctx) {
        return Ok(r.into_response());
    }
    let department = staff_department(&ctx).ok_or(ctx.error(ApiError::Forbidden))?;
    let rows = store::seals(&state.db, Some(&department)).await.map_err(|e| ctx.error(e.into()))?;
    let t = ctx.t;
    let page = SealsPage {
        t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        may_rotate: service::keeps_seals(&ctx.caller.actor, &department),
        department_name: rows.first().map(|s| s.department_name.clone()).unwrap_or_default(),
        department,
        seals: rows
            .iter()
            .map(|s| SealLine {
                id: s.id.clone(),
                name: s.name.clone(),
                serial: s.serial.clone(),
                status_label: match s.status.as_str() {
                    "active" => t.pick("使用中", "In use"),
                    "retired" => {
                        t.pick("已停用（历史签章仍可验证）", "Retired (past signatures still verify)")
                    }
                    _ => t.pick("已吊销", "Revoked"),
                }
                .to_string(),
                status: s.status.clone(),
                valid: format!(
                    "{} — {}",
                    &s.valid_from[..10.min(s.valid_from.len())],
                    s.valid_until.as_deref().map(|u| &u[..10.min(u.len())]).unwrap_or("")
                ),
                ed25519: s.ed25519_public.clone(),
                sm2: s.sm2_public.clone(),
            })
            .collect(),
    };
    Ok(ctx.render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct RotateForm {
    csrf: String,
}

pub async fn rotate(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<RotateForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let actor = ctx.caller.user_id.clone().ok_or(ctx.error(ApiError::Unauthenticated))?;
    let department = staff_department(&ctx).ok_or(ctx.error(ApiError::Forbidden))?;
    if !service::keeps_seals(&ctx.caller.actor, &department) {
        return Err(ctx.error(ApiError::Forbidden));
    }
    service::rotate_seal(&state.db, &state.licensing, &department, &actor)
        .await
        .map_err(|e| ctx.error(ApiError::Internal(e)))?;
    Ok(Redirect::to("/seals").into_response())
}
