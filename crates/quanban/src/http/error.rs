//! The one error type of the HTTP layer and its mapping to responses: RFC 9457 problem details
//! for the JSON API, with a stable snake_case `code` and per-field errors in Chinese and English.
//! Pages render the same errors as HTML in the page's language (see `web::pages_error`).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::StoreError;

pub use quanban_domain::fields::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("bad request: {code}")]
    BadRequest { code: &'static str, zh: String, en: String },
    #[error("unauthenticated")]
    Unauthenticated,
    #[error("wrong credentials")]
    BadCredentials,
    #[error("forbidden")]
    Forbidden,
    /// Refused for a stated reason, with the fields it concerns (403).
    #[error("denied: {code}")]
    Denied { code: &'static str, zh: String, en: String, errors: Vec<FieldError> },
    #[error("not found")]
    NotFound,
    #[error("conflict: {code}")]
    Conflict { code: &'static str, zh: String, en: String },
    /// An action that the record's current state does not allow, or that lost a race; the
    /// answer carries the current state so that the client can show it.
    #[error("conflict with state {state}")]
    StateConflict { code: &'static str, zh: String, en: String, state: String },
    #[error("too many attempts")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("csrf token missing or wrong")]
    Csrf,
    #[error("service unavailable")]
    Unavailable,
    /// Too many writes are waiting; the client should retry after a moment.
    #[error("busy")]
    Busy,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The RFC 9457 body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type: `/problems/<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub title_zh: String,
    pub status: u16,
    pub code: String,
    pub detail: String,
    pub detail_zh: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The record's current state, on a 409 about state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

impl ApiError {
    /// A validation error on one field.
    pub fn invalid(field: &str, code: &str, zh: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![FieldError::new(field, code, zh, en)])
    }

    pub fn conflict_stale() -> ApiError {
        ApiError::Conflict {
            code: "version_conflict",
            zh: "该记录已被他人修改，请刷新后重试".into(),
            en: "The record was changed by someone else; reload and try again".into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated | ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::Csrf | ApiError::Denied { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } | ApiError::StateConflict { .. } => StatusCode::CONFLICT,
            ApiError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable | ApiError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable code plus the message in both languages.
    pub fn describe(&self) -> (&'static str, String, String) {
        match self {
            ApiError::Validation(errors) => {
                let zh = errors.iter().map(|e| e.message_zh.as_str()).collect::<Vec<_>>().join("；");
                let en = errors.iter().map(|e| e.message_en.as_str()).collect::<Vec<_>>().join("; ");
                (
                    "validation_failed",
                    format!("提交的内容有误：{zh}"),
                    format!("Some fields are invalid: {en}"),
                )
            }
            ApiError::BadRequest { code, zh, en }
            | ApiError::Denied { code, zh, en, .. }
            | ApiError::Conflict { code, zh, en }
            | ApiError::StateConflict { code, zh, en, .. } => (code, zh.clone(), en.clone()),
            ApiError::Unauthenticated => ("unauthenticated", "请先登录".into(), "Please log in first".into()),
            ApiError::BadCredentials => {
                ("bad_credentials", "用户名或密码错误".into(), "Wrong username or password".into())
            }
            ApiError::Forbidden => {
                ("forbidden", "您没有执行此操作的权限".into(), "You are not allowed to do this".into())
            }
            ApiError::NotFound => ("not_found", "找不到该页面或记录".into(), "No such page or record".into()),
            ApiError::TooManyAttempts { retry_after_secs } => (
                "too_many_attempts",
                format!("尝试次数过多，请在{}分钟后再试", retry_after_secs.div_ceil(60)),
                format!("Too many attempts; try again in {} minute(s)", retry_after_secs.div_ceil(60)),
            ),
            ApiError::UnsupportedMediaType => (
                "unsupported_media_type",
                "请求格式不受支持，请以 application/json 提交".into(),
                "Unsupported content type; send application/json".into(),
            ),
            ApiError::MethodNotAllowed => (
                "method_not_allowed",
                "该地址不支持此请求方法（见 Allow 响应头）".into(),
                "This address does not take this method (see the Allow header)".into(),
            ),
            ApiError::PayloadTooLarge => {
                ("payload_too_large", "提交的内容过大".into(), "The request body is too large".into())
            }
            ApiError::Csrf => (
                "csrf_failed",
                "页面已过期，请刷新后重新提交".into(),
                "The form has expired; reload the page and submit again".into(),
            ),
            ApiError::Unavailable => (
                "unavailable",
                "服务暂时不可用，请稍后再试".into(),
                "The service is temporarily unavailable; try again later".into(),
            ),
            ApiError::Busy => (
                "busy",
                "当前办理人数较多，请稍候几秒再提交".into(),
                "Many requests are being handled; please submit again in a few seconds".into(),
            ),
            ApiError::Internal(_) => (
                "internal_error",
                "系统内部错误，已记录，请稍后再试".into(),
                "Internal error; it has been logged, please try again later".into(),
            ),
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        let (code, zh, en) = self.describe();
        let title = status.canonical_reason().unwrap_or("Error").to_string();
        Problem {
            kind: format!("/problems/{code}"),
            title,
            title_zh: title_zh(status).into(),
            status: status.as_u16(),
            code: code.into(),
            detail: en,
            detail_zh: zh,
            errors: match self {
                ApiError::Validation(errors) | ApiError::Denied { errors, .. } => errors.clone(),
                _ => Vec::new(),
            },
            state: match self {
                ApiError::StateConflict { state, .. } => Some(state.clone()),
                _ => None,
            },
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        match err {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict => ApiError::conflict_stale(),
            StoreError::Duplicate(field) => ApiError::Validation(vec![duplicate_field(field)]),
            StoreError::Invalid(msg) => ApiError::BadRequest {
                code: "invalid",
                zh: format!("请求无效：{msg}"),
                en: format!("Invalid request: {msg}"),
            },
            StoreError::WriterGone => ApiError::Unavailable,
            StoreError::Busy => ApiError::Busy,
            StoreError::Database(e) => ApiError::Internal(e.into()),
        }
    }
}

/// What each general problem type means and what to do about it, for the `/problems/<code>`
/// pages that the `type` URIs lead to: (code, status, meaning and remedy in Chinese, in English).
/// Area-specific codes (`version_conflict`, `slot_not_started`, …) are explained by the answer's
/// `detail`; their page says so.
pub const PROBLEM_TYPES: &[(&str, u16, &str, &str)] = &[
    (
        "validation_failed",
        422,
        "提交的内容有误。答复的 errors 列出每个有问题的字段（field）、原因代码（code）和中英文说明；改正后重新提交。",
        "Some fields are invalid. The answer's `errors` lists each field, a reason code and a message in Chinese and English; correct them and submit again.",
    ),
    (
        "invalid_parameter",
        422,
        "查询参数缺失或格式不正确；errors 中的 field 指明是哪一个。",
        "A query parameter is missing or malformed; `errors[].field` names it.",
    ),
    (
        "control_characters",
        422,
        "文本中含有控制字符（如空字符），平台不接受；请删除后重新提交。",
        "A text contains control characters (such as NUL), which are not accepted; remove them and submit again.",
    ),
    (
        "unauthenticated",
        401,
        "需要先登录：网页请登录，接口请在 Authorization 头中携带 Bearer 令牌。",
        "Log in first: on the web, sign in; on the API, send a bearer token in the Authorization header.",
    ),
    (
        "bad_credentials",
        401,
        "用户名或密码错误。连续错误会暂时锁定该账户。",
        "Wrong username or password. Repeated failures lock the account for a while.",
    ),
    (
        "forbidden",
        403,
        "您能看到该记录，但您的角色不能执行此操作。",
        "You can see the record, but your role may not do this.",
    ),
    (
        "not_found",
        404,
        "没有该页面或记录，或者您无权查看它（为保护他人信息，两者的答复相同）。",
        "No such page or record, or you may not see it (the answer is the same, so that others' records do not leak).",
    ),
    (
        "method_not_allowed",
        405,
        "该地址不支持此请求方法；Allow 响应头列出支持的方法。",
        "This address does not take this method; the Allow header lists those it takes.",
    ),
    (
        "version_conflict",
        409,
        "记录在您读取之后已被他人修改；请重新读取后再操作。",
        "The record changed after you read it; read it again and retry.",
    ),
    (
        "payload_too_large",
        413,
        "提交的内容超过了该地址的大小上限。",
        "The request body is larger than this address accepts.",
    ),
    (
        "unsupported_media_type",
        415,
        "请求体格式不受支持；接口请以 application/json 提交。",
        "Unsupported body format; send application/json to the API.",
    ),
    (
        "too_many_attempts",
        429,
        "同一来源的请求过于频繁；请在 Retry-After 头给出的秒数之后再试。",
        "Too many requests from one source; try again after the seconds given in Retry-After.",
    ),
    (
        "csrf_failed",
        403,
        "网页表单已过期或不是从本站提交的；请刷新页面后重新提交。",
        "The form has expired or was not sent from this site; reload the page and submit again.",
    ),
    (
        "busy",
        503,
        "当前写入请求较多；请在 Retry-After 头给出的秒数之后重试，您的提交未被保存。",
        "Many writes are waiting; retry after the seconds in Retry-After. Nothing of yours was saved.",
    ),
    (
        "unavailable",
        503,
        "服务暂时不可用，请稍后再试。",
        "The service is temporarily unavailable; try again later.",
    ),
    (
        "internal_error",
        500,
        "系统内部错误，已记录；请稍后再试，若持续出现请联系12345。",
        "Internal error; it has been logged. Try again later, and call 12345 if it persists.",
    ),
    (
        "import_rejected",
        422,
        "导入的文件有问题，未导入任何内容；答复的 problems 列出每处问题的行、列和原因（最多200处）。",
        "The imported file has problems and nothing was imported; `problems` lists row, column and reason of each (at most 200).",
    ),
];

/// A short Chinese title per status, beside the standard English reason phrase.
fn title_zh(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "请求有误",
        401 => "未登录",
        403 => "无权操作",
        404 => "未找到",
        405 => "方法不允许",
        500 => "系统错误",
        409 => "数据冲突",
        413 => "内容过大",
        415 => "格式不支持",
        422 => "内容校验未通过",
        429 => "尝试过于频繁",
        503 => "服务暂不可用",
        _ => "系统错误",
    }
}

fn duplicate_field(field: &'static str) -> FieldError {
    let (zh, en) = match field {
        "id_number" => ("该身份证号码已注册", "This ID number is already registered"),
        "phone" => ("该手机号码已注册", "This mobile number is already registered"),
        "username" => ("该用户名已被使用", "This username is taken"),
        "credit_code" => ("该统一社会信用代码已登记", "This credit code is already registered"),
        _ => ("该记录已存在", "This record already exists"),
    };
    FieldError::new(field, "duplicate", zh, en)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(err) = &self {
            // Logged once, here; the client gets an opaque message.
            tracing::error!(error = ?err, "internal error");
        }
        let status = self.status();
        let mut resp = (status, Json(self.problem())).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        let retry_after = match self {
            ApiError::TooManyAttempts { retry_after_secs } => Some(retry_after_secs),
            ApiError::Busy => Some(1),
            _ => None,
        };
        if let Some(secs) = retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
