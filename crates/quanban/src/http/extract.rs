//! Extractors shared by every area: JSON bodies with problem-details rejections, and the caller's
//! identity from a bearer token or the session cookie.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum_extra::extract::CookieJar;
use serde::de::DeserializeOwned;

use super::error::{ApiError, FieldError};
use crate::app::AppState;
use crate::identity::authz::Actor;
use crate::identity::session::{self, SESSION_COOKIE};

/// `axum::Json`, but every rejection becomes a problem-details answer naming what was wrong.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// Like [`ApiJson`], but an empty body means `T::default()` (for actions that need no input).
pub struct ApiJsonOrEmpty<T>(pub T);

impl<T, S> FromRequest<S> for ApiJsonOrEmpty<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest {
                    code: "bad_body", zh: "无法读取请求内容".into(), en: e.body_text()
                }
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(ApiJsonOrEmpty(T::default()));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(ApiJsonOrEmpty(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// `axum::extract::Query`, but a missing or malformed parameter is a 422 problem naming it (as
/// for bodies), never axum's plain-text 400.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or("");
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
        serde_path_to_error::deserialize(deserializer).map(Query).map_err(|e| {
            let field = match e.path().to_string() {
                p if p == "." || p.is_empty() => missing_field(&e.inner().to_string()),
                p => p,
            };
            ApiError::Validation(vec![FieldError::new(
                &field,
                "invalid_parameter",
                format!("查询参数 {field} 缺失或格式不正确"),
                format!("Query parameter {field} is missing or malformed: {}", e.inner()),
            )])
        })
    }
}

/// The field a "missing field `x`" message names, else `query`.
fn missing_field(text: &str) -> String {
    text.split_once("missing field `")
        .and_then(|(_, rest)| rest.split('`').next())
        .map_or_else(|| "query".to_string(), str::to_string)
}

/// `axum::extract::Path`, but a segment that does not fit (a word where a number belongs) is a
/// 404 problem: there is no such resource, and a path is not a form to correct.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(_) => Err(ApiError::NotFound),
        }
    }
}

/// Finds the offending field in axum's data-error text: "…target type: <path>: <message>", or
/// "…target type: missing field `<name>` …".
fn data_error_field(text: &str) -> String {
    let rest = text.split_once("target type: ").map(|(_, r)| r).unwrap_or(text);
    if let Some(after) = rest.strip_prefix("missing field `") {
        return after.split('`').next().unwrap_or("body").to_string();
    }
    match rest.split_once(": ") {
        Some((path, _)) if !path.is_empty() && !path.contains(' ') => path.to_string(),
        _ => "body".to_string(),
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
        JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest {
            code: "malformed_json",
            zh: format!("JSON 格式错误：{}", e.body_text()),
            en: format!("Malformed JSON: {}", e.body_text()),
        },
        JsonRejection::JsonDataError(e) => {
            let field = data_error_field(&e.body_text());
            ApiError::Validation(vec![FieldError::new(
                &field,
                "invalid_type",
                format!("字段 {field} 的类型或取值不正确"),
                format!("Field {field} has the wrong type or value"),
            )])
        }
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge
        }
        other => ApiError::BadRequest {
            code: "bad_body",
            zh: "无法读取请求内容".into(),
            en: format!("Cannot read the request body: {}", other.body_text()),
        },
    }
}

/// The caller: from `Authorization: Bearer …` or the web session cookie; anonymous otherwise.
#[derive(Clone, Debug)]
pub struct Caller {
    pub actor: Actor,
    pub user_id: Option<String>,
    /// The signed-in user's display name.
    pub name: Option<String>,
    /// The session's CSRF token (web sessions), to check forms against.
    pub csrf: Option<String>,
}

impl Caller {
    pub fn require_user(&self) -> Result<&str, ApiError> {
        self.user_id.as_deref().ok_or(ApiError::Unauthenticated)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(cached) = parts.extensions.get::<Caller>() {
            return Ok(cached.clone());
        }
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .map(str::to_string);
        let token = match bearer {
            Some(t) => Some(t),
            None => {
                CookieJar::from_headers(&parts.headers).get(SESSION_COOKIE).map(|c| c.value().to_string())
            }
        };
        let caller = match token {
            Some(token) => match session::lookup(&state.db, &token).await? {
                Some(found) => Caller {
                    actor: found.actor,
                    user_id: Some(found.user_id),
                    name: Some(found.name),
                    csrf: Some(found.csrf),
                },
                None => anonymous(),
            },
            None => anonymous(),
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// A caller who must be signed in: anonymous requests get 401 before the body is read, so
/// that an endpoint's input rules are not shown to whoever has not logged in.
pub struct SignedIn(pub Caller);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require_user()?;
        Ok(SignedIn(caller))
    }
}

fn anonymous() -> Caller {
    Caller { actor: Actor::Anonymous, user_id: None, name: None, csrf: None }
}

#[cfg(test)]
mod tests {
    use super::data_error_field;

    #[test]
    fn field_is_found_in_serde_messages() {
        let t = "Failed to deserialize the JSON body into the target type: name: invalid type: integer `5`, expected a string at line 1 column 10";
        assert_eq!(data_error_field(t), "name");
        let t = "Failed to deserialize the JSON body into the target type: missing field `phone` at line 1 column 2";
        assert_eq!(data_error_field(t), "phone");
        let t =
            "Failed to deserialize the JSON body into the target type: roles[1]: invalid type: integer `3`";
        assert_eq!(data_error_field(t), "roles[1]");
        assert_eq!(data_error_field("something else entirely"), "body");
    }
}
