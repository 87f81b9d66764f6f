//! Signing in at a kiosk with the phone (扫码登录): the kiosk shows a QR code, the person opens it
//! on their phone (signed in there), confirms, and the kiosk is signed in as them without a
//! password typed on a shared screen. The rules are in `quanban_domain::identity::qr_login`;
//! here are the store, the service and the pages.
//!
//! The QR code carries the request's id (128 random bits). The kiosk keeps a second secret in a
//! cookie to poll and to sign in with; only its digest is stored. Only a registered kiosk (its
//! device cookie) can start a request.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::session::{self, SESSION_COOKIE, SessionKind};
use crate::app::AppState;
use crate::audit::{self, NewEntry};
use crate::http::extract::Path;
use crate::http::{ApiError, ApiResult, Caller};
use crate::identity::authz::Actor;
use crate::store::{Db, StoreError, StoreResult, query};
use crate::web::i18n::Tr;
use crate::web::page::{PageCtx, PageError, UserChip, private_cookie, see_other_with_cookie};
pub use quanban_domain::identity::qr_login::{LIFETIME, QrRefusal, QrStatus, QrStep, next};

/// The kiosk's cookie for its request: `{id}.{secret}`.
const QR_COOKIE: &str = "qb_qr";

// ---------------------------------------------------------------------------------------------
// Store
// ---------------------------------------------------------------------------------------------

/// A request as stored.
#[derive(Clone, Debug)]
pub struct QrLogin {
    pub id: String,
    pub poll_digest: String,
    pub kiosk_id: String,
    pub hall_code: String,
    pub status: QrStatus,
    pub user_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

async fn create(db: &Db, id: String, poll_digest: String, kiosk_id: String) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| {
        query(
            "INSERT INTO qr_logins (id, poll_digest, kiosk_id, status, created_at, version) \
             VALUES ($1, $2, $3, 'pending', $4, 1)",
        )
        .bind(&id)
        .bind(&poll_digest)
        .bind(&kiosk_id)
        .bind(&now)
        .execute(&mut *conn)?;
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                format!("kiosk:{kiosk_id}"),
                format!("kiosk:{kiosk_id}"),
                "qr_login.start",
                format!("qr_login:{id}"),
                "",
            ),
        )?;
        Ok(())
    })
    .await
}

async fn get(db: &Db, id: &str) -> StoreResult<Option<QrLogin>> {
    let row = query(
        "SELECT q.id, q.poll_digest, q.kiosk_id, k.hall_code, q.status, q.user_id, q.created_at, q.version \
         FROM qr_logins q JOIN kiosks k ON k.id = q.kiosk_id WHERE q.id = $1",
    )
    .bind(id)
    .read_optional(db)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let status: String = r.try_get("status")?;
    let created: String = r.try_get("created_at")?;
    Ok(Some(QrLogin {
        id: r.try_get("id")?,
        poll_digest: r.try_get("poll_digest")?,
        kiosk_id: r.try_get("kiosk_id")?,
        hall_code: r.try_get("hall_code")?,
        status: QrStatus::parse(&status)
            .ok_or_else(|| StoreError::Invalid(format!("qr_login status {status}")))?,
        user_id: r.try_get("user_id")?,
        created_at: crate::store::parse_time(&created)
            .ok_or_else(|| StoreError::Invalid(format!("qr_login created_at {created}")))?,
        version: r.try_get("version")?,
    }))
}

/// Writes a decided step: claims the request at the version read first (a lost race changes
/// nothing), and for a sign-in stores the session in the same transaction.
async fn write_step(
    db: &Db,
    q: &QrLogin,
    to: QrStatus,
    user_id: Option<String>,
    session: Option<session::SessionRow>,
) -> StoreResult<()> {
    let now = db.now_text();
    let (id, version, kiosk) = (q.id.clone(), q.version, q.kiosk_id.clone());
    db.write(move |conn| {
        let claimed = query(
            "UPDATE qr_logins SET status = $1, user_id = COALESCE($2, user_id), version = version + 1 \
             WHERE id = $3 AND version = $4",
        )
        .bind(to.as_str())
        .bind(&user_id)
        .bind(&id)
        .bind(version)
        .execute(&mut *conn)?;
        if claimed.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        if let Some(row) = &session {
            session::insert(conn, row)?;
        }
        let actor =
            user_id.as_deref().map(|u| format!("user:{u}")).unwrap_or_else(|| format!("kiosk:{kiosk}"));
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                format!("kiosk:{kiosk}"),
                actor,
                format!("qr_login.{}", to.as_str()),
                format!("qr_login:{id}"),
                "",
            ),
        )?;
        Ok(())
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------------------------

fn refused(r: QrRefusal) -> ApiError {
    match r {
        QrRefusal::Expired => ApiError::StateConflict {
            code: "qr_expired",
            zh: "二维码已过期，请在自助终端上重新获取".into(),
            en: "This QR code has expired; get a new one on the kiosk".into(),
            state: "expired".into(),
        },
        QrRefusal::NotNow(s) => ApiError::StateConflict {
            code: "qr_not_now",
            zh: match s {
                QrStatus::Pending => "尚未在手机上确认",
                QrStatus::Approved => "已在手机上确认过",
                QrStatus::Cancelled => "已在手机上取消",
                QrStatus::Used => "该二维码已用于登录",
            }
            .into(),
            en: format!("The request is {}", s.as_str()),
            state: s.as_str().into(),
        },
    }
}

/// Decides `step` on request `id` and writes it; a lost race answers with the state the winner
/// left.
async fn take_step(
    state: &AppState,
    q: &QrLogin,
    step: QrStep,
    user_id: Option<String>,
    session: Option<session::SessionRow>,
) -> ApiResult<QrStatus> {
    let to = next(q.status, q.created_at, state.clock().now(), step).map_err(refused)?;
    match write_step(&state.db, q, to, user_id, session).await {
        Ok(()) => Ok(to),
        Err(StoreError::Conflict) => {
            let now = get(&state.db, &q.id).await?.map(|q| q.status).unwrap_or(QrStatus::Used);
            Err(refused(QrRefusal::NotNow(now)))
        }
        Err(e) => Err(e.into()),
    }
}

/// The kiosk's own request, when the cookie's secret matches (404 otherwise: nothing leaks).
async fn kiosk_request(state: &AppState, jar: &CookieJar) -> ApiResult<QrLogin> {
    let cookie = jar.get(QR_COOKIE).ok_or(ApiError::NotFound)?;
    let (id, secret) = cookie.value().split_once('.').ok_or(ApiError::NotFound)?;
    let q = get(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    use subtle::ConstantTimeEq;
    let matches: bool = session::token_hash(secret).as_bytes().ct_eq(q.poll_digest.as_bytes()).into();
    if matches { Ok(q) } else { Err(ApiError::NotFound) }
}

// ---------------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "qr_login_kiosk.html")]
struct KioskQrPage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    qr: String,
    link: String,
    seconds: i64,
}

/// The kiosk shows a new QR code (only a registered kiosk in kiosk mode; 404 elsewhere).
pub async fn kiosk_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let jar = CookieJar::from_headers(&headers);
    let device = crate::halls::pages::kiosk_device(&jar);
    let Some((kiosk_id, token)) = device else { return Err(ctx.error(ApiError::NotFound)) };
    let known =
        crate::halls::service::kiosk_heartbeat(&state, &kiosk_id, &token).await.map_err(|e| ctx.error(e))?;
    if known.is_none() {
        return Err(ctx.error(ApiError::NotFound));
    }
    let id = crate::platform::tokens::uuid_v4();
    let secret = session::random_token();
    create(&state.db, id.clone(), session::token_hash(&secret), kiosk_id)
        .await
        .map_err(|e| ctx.error(e.into()))?;
    let link = format!("{}/qr-login/{id}", state.config.public_url.trim_end_matches('/'));
    let page = KioskQrPage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        qr: crate::licences::api::qr_svg(&link).unwrap_or_default(),
        link,
        seconds: LIFETIME.num_seconds(),
    };
    let cookie = private_cookie(QR_COOKIE, format!("{id}.{secret}"), "/kiosk", state.config.secure_cookies);
    Ok((CookieJar::new().add(cookie), ctx.render(StatusCode::OK, &page)).into_response())
}

/// The kiosk's poll: `{"status": "pending" | "approved" | "cancelled" | "used" | "expired"}`.
pub async fn kiosk_status(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    let q = kiosk_request(&state, &CookieJar::from_headers(&headers)).await?;
    let status = match next(q.status, q.created_at, state.clock().now(), QrStep::Cancel) {
        Err(QrRefusal::Expired) => "expired",
        _ => q.status.as_str(),
    };
    Ok(Json(json!({"status": status})))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CsrfForm {
    csrf: String,
}

/// The kiosk signs in with the confirmed request (once), as the person who confirmed it.
pub async fn kiosk_sign_in(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    axum::Form(f): axum::Form<CsrfForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let q = kiosk_request(&state, &CookieJar::from_headers(&headers)).await.map_err(|e| ctx.error(e))?;
    let user = q.user_id.clone().ok_or(ctx.error(refused(QrRefusal::NotNow(q.status))))?;
    let (new, row) = session::prepare(&state.db, &user, SessionKind::Web, state.config.session_hours);
    take_step(&state, &q, QrStep::SignIn, Some(user), Some(row)).await.map_err(|e| ctx.error(e))?;
    let cookie = private_cookie(SESSION_COOKIE, new.token, "/", state.config.secure_cookies);
    Ok(see_other_with_cookie("/my/cases", &cookie))
}

#[derive(Template)]
#[template(path = "qr_login_phone.html")]
struct PhonePage {
    t: Tr,
    user: Option<UserChip>,
    csrf: String,
    id: String,
    hall_name: String,
    /// What happened (confirmed, refused, expired…), once something has.
    outcome: Option<String>,
    can_decide: bool,
}

async fn render_phone(state: &AppState, ctx: &PageCtx, q: &QrLogin, outcome: Option<String>) -> Response {
    let can_decide = outcome.is_none()
        && q.status == QrStatus::Pending
        && next(q.status, q.created_at, state.clock().now(), QrStep::Approve).is_ok();
    let outcome = outcome.or_else(|| {
        (!can_decide).then(|| {
            ctx.t
                .pick(
                    "该二维码已失效，请在自助终端上重新获取。",
                    "This code no longer works: get a new one on the kiosk.",
                )
                .to_string()
        })
    });
    let page = PhonePage {
        t: ctx.t,
        user: ctx.user(),
        csrf: ctx.csrf.clone(),
        id: q.id.clone(),
        hall_name: state.halls.directory.get(&q.hall_code).map(|h| h.hall.name.clone()).unwrap_or_default(),
        outcome,
        can_decide,
    };
    ctx.render(StatusCode::OK, &page)
}

/// A person only: staff sign in to kiosks with their own accounts, never from a phone.
fn person(caller: &Caller) -> Option<String> {
    match caller.actor {
        Actor::Person { .. } => caller.user_id.clone(),
        _ => None,
    }
}

/// The phone, after scanning: which kiosk asks, and 确认登录 / 取消.
pub async fn phone_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    if ctx.caller.user_id.is_none() {
        return Ok(ctx.to_login().into_response());
    }
    if person(&ctx.caller).is_none() {
        return Err(ctx.error(ApiError::NotFound));
    }
    let q =
        get(&state.db, &id).await.map_err(|e| ctx.error(e.into()))?.ok_or(ctx.error(ApiError::NotFound))?;
    Ok(render_phone(&state, &ctx, &q, None).await)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DecideForm {
    csrf: String,
    decision: String,
}

/// The person confirms (or refuses) on the phone.
pub async fn phone_decide(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<DecideForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&f.csrf)?;
    let Some(user) = person(&ctx.caller) else { return Err(ctx.error(ApiError::NotFound)) };
    let q =
        get(&state.db, &id).await.map_err(|e| ctx.error(e.into()))?.ok_or(ctx.error(ApiError::NotFound))?;
    let step = if f.decision == "approve" { QrStep::Approve } else { QrStep::Cancel };
    let t = ctx.t;
    let outcome = match take_step(&state, &q, step, Some(user), None).await {
        Ok(QrStatus::Approved) => t
            .pick(
                "已确认。请回到自助终端继续办理，离开时点“结束服务”。",
                "Confirmed. Carry on at the kiosk, and touch “End” when you leave.",
            )
            .to_string(),
        Ok(_) => t.pick("已取消，自助终端不会登录。", "Cancelled: the kiosk is not signed in.").to_string(),
        Err(e @ ApiError::StateConflict { .. }) => {
            let (_, zh, en) = e.describe();
            t.pick(&zh, &en).to_string()
        }
        Err(e) => return Err(ctx.error(e)),
    };
    let q =
        get(&state.db, &id).await.map_err(|e| ctx.error(e.into()))?.ok_or(ctx.error(ApiError::NotFound))?;
    Ok(render_phone(&state, &ctx, &q, Some(outcome)).await)
}
