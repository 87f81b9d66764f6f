//! The identity use cases shared by the JSON API and the web pages: check input (all fields at
//! once, so a form shows every problem together), hash off the runtime, store, audit.

use super::domain::{CreditCode, IdNumber, Password, PersonName, Phone};
use super::password;
use super::session::{self, NewSession, SessionKind};
use super::store::{self, NewEnterprise, NewPerson};
use crate::app::AppState;
use crate::http::{ApiError, FieldError};

/// Raw registration input, as typed.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RegisterInput {
    /// Real name (实名), 2–30 characters.
    pub name: String,
    /// 18-character resident ID number (GB 11643).
    pub id_number: String,
    /// 11-digit mainland mobile number; it becomes the login name.
    pub phone: String,
    /// At least 8 characters with three of: lower case, upper case, digits, symbols.
    pub password: String,
}

/// Turns each domain error into a field error naming the field.
macro_rules! field_err {
    ($field:expr, $err:expr) => {
        FieldError::new($field, $err.code(), $err.message_zh(), $err.message_en())
    };
}

pub struct Registered {
    pub user_id: String,
    pub username: String,
}

pub async fn register(state: &AppState, input: RegisterInput) -> Result<Registered, ApiError> {
    let mut errors = Vec::new();
    let name = PersonName::parse(&input.name).map_err(|e| errors.push(field_err!("name", e))).ok();
    let id = IdNumber::parse_as_of(&input.id_number, state.clock().today())
        .map_err(|e| errors.push(field_err!("id_number", e)))
        .ok();
    let phone = Phone::parse(&input.phone).map_err(|e| errors.push(field_err!("phone", e))).ok();
    let pw = Password::parse(&input.password).map_err(|e| errors.push(field_err!("password", e))).ok();
    let (Some(name), Some(id), Some(phone), Some(pw)) = (name, id, phone, pw) else {
        return Err(ApiError::Validation(errors));
    };
    let password_hash = password::hash(pw.expose().to_string()).await?;
    let username = phone.as_str().to_string();
    let user_id = store::create_person(
        &state.db,
        NewPerson::sealed(
            &state.vault,
            name.as_str().to_string(),
            id.as_str(),
            id.masked(),
            phone.as_str(),
            phone.masked(),
            password_hash,
        ),
    )
    .await?;
    Ok(Registered { user_id, username })
}

/// Checks a login and opens a session. Unknown accounts and wrong passwords get the same answer
/// after the same work, and both count towards the name's lockout.
pub async fn login(
    state: &AppState,
    username: &str,
    pw: &str,
    kind: SessionKind,
) -> Result<NewSession, ApiError> {
    let username = normalise_username(username);
    let mut errors = Vec::new();
    if username.is_empty() {
        errors.push(FieldError::required("username", "用户名或手机号", "Username or mobile number"));
    }
    if pw.is_empty() {
        errors.push(FieldError::required("password", "密码", "Password"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let key = session::throttle_key(&username);
    if let Some(secs) = session::locked_for(&state.db, &key).await? {
        return Err(ApiError::TooManyAttempts { retry_after_secs: secs });
    }
    // A person's stored login name is the digest of their number.
    let stored_login = match Phone::parse(&username) {
        Ok(phone) => state.vault.person_login(phone.as_str()),
        Err(_) => username.clone(),
    };
    let account = store::find_login(&state.db, &stored_login).await?;
    let (stored, user) = match &account {
        Some(a) => (a.password_hash.clone(), Some(a)),
        None => (password::decoy_hash().to_string(), None),
    };
    let matches = password::verify(pw.to_string(), stored).await?;
    match user {
        Some(a) if matches && a.active => {
            session::clear_failures(&state.db, &key).await?;
            let session = session::create(&state.db, &a.id, kind, state.config.session_hours).await?;
            Ok(NewSession { staff: a.staff, ..session })
        }
        _ => match session::record_failure(&state.db, &key).await? {
            Some(secs) => Err(ApiError::TooManyAttempts { retry_after_secs: secs }),
            None => Err(ApiError::BadCredentials),
        },
    }
}

/// A person logs in with their mobile number in any accepted spelling (+86, spaces); staff with
/// their login name.
fn normalise_username(raw: &str) -> String {
    let trimmed = raw.trim();
    match Phone::parse(trimmed) {
        Ok(p) => p.as_str().to_string(),
        Err(_) => trimmed.to_string(),
    }
}

#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct EnterpriseInput {
    /// Unified social credit code (GB 32100).
    pub credit_code: String,
    pub name: String,
    /// Must be the registering person's own real name: they register as legal representative.
    pub legal_representative: String,
}

pub async fn register_enterprise(
    state: &AppState,
    user_id: &str,
    own_name: &str,
    input: EnterpriseInput,
) -> Result<String, ApiError> {
    let mut errors = Vec::new();
    let code =
        CreditCode::parse(&input.credit_code).map_err(|e| errors.push(field_err!("credit_code", e))).ok();
    let name = input.name.trim().to_string();
    if name.chars().count() < 2 || name.chars().count() > 100 {
        errors.push(FieldError::new(
            "name",
            "enterprise_name_length",
            "企业名称应为2至100个字符",
            "The enterprise name must be 2 to 100 characters",
        ));
    }
    let rep = input.legal_representative.trim().to_string();
    if rep != own_name {
        errors.push(FieldError::new(
            "legal_representative",
            "legal_representative_mismatch",
            "法定代表人须为本人（与实名信息一致）；代理人请由法定代表人授权",
            "The legal representative must be you (as in your real-name record); agents are authorised by the legal representative",
        ));
    }
    let Some(code) = code.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    store::create_enterprise(
        &state.db,
        user_id,
        NewEnterprise { credit_code: code.as_str().to_string(), name, legal_representative: rep },
    )
    .await?;
    Ok(code.as_str().to_string())
}

pub fn parse_phone_field(raw: &str) -> Result<Phone, ApiError> {
    Phone::parse(raw).map_err(|e| ApiError::Validation(vec![field_err!("phone", e)]))
}

pub fn parse_password_field(raw: &str) -> Result<Password, ApiError> {
    Password::parse(raw).map_err(|e| ApiError::Validation(vec![field_err!("password", e)]))
}

pub fn parse_name_field(raw: &str) -> Result<PersonName, ApiError> {
    PersonName::parse(raw).map_err(|e| ApiError::Validation(vec![field_err!("name", e)]))
}
