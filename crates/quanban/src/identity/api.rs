//! JSON endpoints of the identity area. Thin: parse, ask `service`/`authz`, answer.

use crate::http::extract::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::authz::{Action, Actor, Decision, Resource, Role, decide};
use super::service::{self, EnterpriseInput, RegisterInput};
use super::session::{self, SessionKind};
use super::store::{self, NewStaff, Profile};
use crate::app::AppState;
use crate::http::{ApiError, ApiJson, ApiResult, Caller, FieldError};

/// Maps an authorization decision to the answer the caller gets.
pub fn require(decision: Decision) -> ApiResult<()> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::Forbidden => Err(ApiError::Forbidden),
        Decision::Hidden => Err(ApiError::NotFound),
        Decision::Unauthenticated => Err(ApiError::Unauthenticated),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Registration {
    pub id: String,
    /// The login name: the mobile number.
    pub username: String,
}

/// Real-name registration of a person (实名注册).
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "identity", request_body = RegisterInput,
    responses((status = 201, body = Registration),
              (status = 422, description = "a field is invalid (named in `errors`)", body = crate::http::error::Problem)))]
pub async fn register(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<RegisterInput>,
) -> ApiResult<(StatusCode, Json<Registration>)> {
    let done = service::register(&state, input).await?;
    Ok((StatusCode::CREATED, Json(Registration { id: done.user_id, username: done.username })))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct TokenRequest {
    /// A person's mobile number or a staff login name.
    pub username: String,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub token_type: &'static str,
    pub expires_at: String,
}

/// API login: exchanges credentials for a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "identity", request_body = TokenRequest,
    responses((status = 200, body = TokenResponse),
              (status = 401, description = "wrong username or password", body = crate::http::error::Problem),
              (status = 429, description = "too many failed attempts", body = crate::http::error::Problem)))]
pub async fn create_token(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let s = service::login(&state, &req.username, &req.password, SessionKind::Api).await?;
    Ok(Json(TokenResponse { token: s.token, token_type: "Bearer", expires_at: s.expires_at }))
}

/// Ends the bearer token's session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "identity", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = crate::http::error::Problem)))]
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
) -> ApiResult<StatusCode> {
    caller.require_user()?;
    if let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        session::destroy(&state.db, token.trim()).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's own account, personal data masked.
#[utoipa::path(get, path = "/api/v1/me", tag = "identity", security(("bearer" = [])),
    responses((status = 200, body = Profile), (status = 401, body = crate::http::error::Problem)))]
pub async fn get_me(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Profile>> {
    let user_id = caller.require_user()?;
    Ok(Json(store::profile(&state.db, user_id).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct UpdateMe {
    pub name: String,
    /// The `version` from the profile you edited; a stale one gets 409.
    pub version: i64,
}

/// Changes the display name (optimistic concurrency on `version`).
#[utoipa::path(patch, path = "/api/v1/me", tag = "identity", security(("bearer" = [])), request_body = UpdateMe,
    responses((status = 200, body = Profile), (status = 409, description = "changed by someone else", body = crate::http::error::Problem)))]
pub async fn update_me(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<UpdateMe>,
) -> ApiResult<Json<Profile>> {
    let user_id = caller.require_user()?.to_string();
    require(decide(&caller.actor, Action::Update, &Resource::Person { user_id: user_id.clone() }))?;
    let name = service::parse_name_field(&req.name)?;
    store::rename(&state.db, &user_id, name.as_str().to_string(), req.version).await?;
    Ok(Json(store::profile(&state.db, &user_id).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Enterprise {
    pub credit_code: String,
    pub name: String,
    pub legal_representative: String,
    pub version: i64,
}

/// Registers an enterprise with the caller as its legal representative.
#[utoipa::path(post, path = "/api/v1/enterprises", tag = "identity", security(("bearer" = [])), request_body = EnterpriseInput,
    responses((status = 201, body = Enterprise), (status = 422, body = crate::http::error::Problem)))]
pub async fn create_enterprise(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<EnterpriseInput>,
) -> ApiResult<(StatusCode, Json<Enterprise>)> {
    let user_id = caller.require_user()?.to_string();
    let me = store::profile(&state.db, &user_id).await?;
    if me.kind != "person" {
        return Err(ApiError::Forbidden);
    }
    let code = service::register_enterprise(&state, &user_id, &me.name, input).await?;
    Ok((StatusCode::CREATED, Json(load_enterprise(&state, &code).await?)))
}

async fn load_enterprise(state: &AppState, code: &str) -> ApiResult<Enterprise> {
    let row = sqlx::query(
        "SELECT credit_code, name, legal_representative, version FROM enterprises WHERE credit_code = $1",
    )
    .bind(code)
    .fetch_optional(state.db.reader())
    .await
    .map_err(crate::store::StoreError::from)?
    .ok_or(ApiError::NotFound)?;
    let get = |c: &str| row.try_get::<String, _>(c).map_err(|e| ApiError::Internal(e.into()));
    Ok(Enterprise {
        credit_code: get("credit_code")?,
        name: get("name")?,
        legal_representative: get("legal_representative")?,
        version: row.try_get("version").map_err(|e| ApiError::Internal(e.into()))?,
    })
}

/// An enterprise record, for its legal representative and agents (others get 404).
#[utoipa::path(get, path = "/api/v1/enterprises/{code}", tag = "identity", security(("bearer" = [])),
    params(("code" = String, Path, description = "unified social credit code")),
    responses((status = 200, body = Enterprise), (status = 404, body = crate::http::error::Problem)))]
pub async fn get_enterprise(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<Enterprise>> {
    let code = code.trim().to_uppercase();
    require(decide(&caller.actor, Action::Read, &Resource::Enterprise { credit_code: code.clone() }))?;
    let enterprise = load_enterprise(&state, &code).await?;
    if matches!(caller.actor, Actor::Staff { .. }) {
        // Staff reading a record that is not theirs is itself on the record.
        store::record_read(
            &state.db,
            caller.actor.audit_name(),
            format!("enterprise:{code}"),
            "enterprise record",
        )
        .await?;
    }
    Ok(Json(enterprise))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AgentRequest {
    /// The registered mobile number of the person to authorise.
    pub phone: String,
}

/// Authorises another registered person to act for the enterprise (授权代理人).
#[utoipa::path(post, path = "/api/v1/enterprises/{code}/agents", tag = "identity", security(("bearer" = [])),
    params(("code" = String, Path, description = "unified social credit code")), request_body = AgentRequest,
    responses((status = 204), (status = 404, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn add_agent(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<AgentRequest>,
) -> ApiResult<StatusCode> {
    let code = code.trim().to_uppercase();
    let user_id = caller.require_user()?.to_string();
    require(decide(&caller.actor, Action::Update, &Resource::Enterprise { credit_code: code.clone() }))?;
    let phone = service::parse_phone_field(&req.phone)?;
    let agent = store::person_by_phone(&state.db, &state.vault, phone.as_str()).await?.ok_or_else(|| {
        ApiError::Validation(vec![FieldError::new(
            "phone",
            "person_not_registered",
            "该手机号码尚未实名注册",
            "No registered person has this mobile number",
        )])
    })?;
    store::add_agent(&state.db, &user_id, &code, &agent).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct StaffRequest {
    pub username: String,
    pub name: String,
    pub department: String,
    /// Role names, e.g. `window_clerk`, `reviewer`, `approver`.
    pub roles: Vec<String>,
    pub halls: Vec<String>,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StaffCreated {
    pub id: String,
    pub username: String,
}

/// Creates a staff account in a department (system administrator or head of that department).
#[utoipa::path(post, path = "/api/v1/staff", tag = "identity", security(("bearer" = [])), request_body = StaffRequest,
    responses((status = 201, body = StaffCreated), (status = 403, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn create_staff(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<StaffRequest>,
) -> ApiResult<(StatusCode, Json<StaffCreated>)> {
    caller.require_user()?;
    require(decide(
        &caller.actor,
        Action::Create,
        &Resource::StaffAccount { department: req.department.clone() },
    ))?;
    let staff = check_staff(req)?;
    for role in &staff.3 {
        require(decide(
            &caller.actor,
            Action::Grant(*role),
            &Resource::StaffAccount { department: staff.2.clone() },
        ))?;
    }
    let username = staff.0.clone();
    let password_hash = super::password::hash(staff.4).await?;
    let id = store::create_staff(
        &state.db,
        caller.actor.audit_name(),
        NewStaff {
            username: staff.0,
            name: staff.1,
            department: staff.2,
            roles: staff.3,
            halls: staff.5,
            password_hash,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(StaffCreated { id, username })))
}

type CheckedStaff = (String, String, String, Vec<Role>, String, Vec<String>);

/// Validates a staff request, collecting every field problem.
pub fn check_staff(req: StaffRequest) -> ApiResult<CheckedStaff> {
    let mut errors = Vec::new();
    let username = req.username.trim().to_lowercase();
    let valid_login = (3..=32).contains(&username.len())
        && username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && username.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if !valid_login {
        errors.push(FieldError::new(
            "username",
            "staff_username_format",
            "工作人员登录名须为3至32位字母、数字或 . _ -，以字母开头",
            "A staff login is 3-32 letters, digits or . _ - and starts with a letter",
        ));
    }
    let name = match service::parse_name_field(&req.name) {
        Ok(n) => Some(n.as_str().to_string()),
        Err(ApiError::Validation(mut e)) => {
            errors.append(&mut e);
            None
        }
        Err(_) => None,
    };
    let mut roles = Vec::new();
    for r in &req.roles {
        match Role::parse(r) {
            Some(role) if !roles.contains(&role) => roles.push(role),
            Some(_) => {}
            None => errors.push(FieldError::new(
                "roles",
                "unknown_role",
                format!("未知的角色：{r}"),
                format!("Unknown role: {r}"),
            )),
        }
    }
    if req.roles.is_empty() {
        errors.push(FieldError::required("roles", "角色", "At least one role"));
    }
    if req.department.trim().is_empty() {
        errors.push(FieldError::required("department", "所属部门", "Department"));
    }
    if let Err(ApiError::Validation(mut e)) = service::parse_password_field(&req.password) {
        errors.append(&mut e);
    }
    match name {
        Some(name) if errors.is_empty() => {
            Ok((username, name, req.department.trim().to_string(), roles, req.password, req.halls))
        }
        _ => Err(ApiError::Validation(errors)),
    }
}
