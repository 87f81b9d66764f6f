//! Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2): the service list and
//! definitions (our complaint categories), posting a request with an API key, and reading
//! requests, in JSON and XML, with the spec's field names and error format.

use crate::http::extract::Path;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::service::{self, IntakeRequest, Source};
use super::store::{self, Complaint, Filter};
use crate::app::AppState;
use crate::http::ApiError;

/// A new client key: 32 random bytes, hex.
pub fn new_key() -> String {
    crate::platform::tokens::random_hex(32)
}

/// What is stored of a key: its SM3 digest.
pub fn key_hash(key: &str) -> String {
    crate::platform::tokens::secret_digest(key)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

/// Splits `name.json` / `name.xml`.
fn split(file: &str) -> Option<(&str, Format)> {
    if let Some(name) = file.strip_suffix(".json") {
        Some((name, Format::Json))
    } else {
        file.strip_suffix(".xml").map(|name| (name, Format::Xml))
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON value as GeoReport XML: objects become elements named by their keys; an array
/// inside an object repeats `item` elements (`attributes` → `attribute`, `values` → `value`).
fn xml_value(name: &str, v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str(&format!("<{name}/>")),
        Value::Object(map) => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in map {
                xml_value(k, v, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Array(items) => {
            out.push_str(&format!("<{name}>"));
            let item = name.strip_suffix('s').unwrap_or("item");
            for i in items {
                xml_value(item, i, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", escape(s))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

fn respond(format: Format, status: StatusCode, root: &str, item: &str, body: Value) -> Response {
    match format {
        Format::Json => {
            let text = serde_json::to_string(&body).unwrap_or_else(|_| "[]".into());
            (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], text).into_response()
        }
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            match &body {
                Value::Array(items) => {
                    out.push_str(&format!("<{root}>"));
                    for i in items {
                        xml_value(item, i, &mut out);
                    }
                    out.push_str(&format!("</{root}>"));
                }
                other => xml_value(root, other, &mut out),
            }
            (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], out).into_response()
        }
    }
}

/// The spec's error list: `[{"code": 400, "description": "…"}]`.
fn error(format: Format, status: StatusCode, description: impl Into<String>) -> Response {
    let body = json!([{ "code": status.as_u16(), "description": description.into() }]);
    respond(format, status, "errors", "error", body)
}

fn from_api_error(format: Format, e: ApiError) -> Response {
    match e {
        ApiError::Validation(fields) => {
            let body: Vec<Value> = fields
                .iter()
                .map(|f| {
                    json!({"code": 400, "description": format!("{}: {} / {}", open311_field(&f.field), f.message_en, f.message_zh)})
                })
                .collect();
            respond(format, StatusCode::BAD_REQUEST, "errors", "error", Value::Array(body))
        }
        ApiError::NotFound => error(format, StatusCode::NOT_FOUND, "Not found / 未找到"),
        other => {
            tracing::warn!(error = %other, "open311 request failed");
            error(format, StatusCode::INTERNAL_SERVER_ERROR, "Internal error / 内部错误")
        }
    }
}

/// Our field names back in the spec's words.
fn open311_field(field: &str) -> &str {
    match field {
        "lon" => "long",
        "category" => "service_code",
        "address" => "address_string",
        "photos" => "media_url",
        other => other,
    }
}

fn service_json(c: &super::domain::Category) -> Value {
    json!({
        "service_code": c.code,
        "service_name": format!("{} {}", c.name, c.name_en),
        "description": format!("{}（{}）/ {}", c.name, c.group, c.name_en),
        "metadata": false,
        "type": "realtime",
        "keywords": c.keywords.join(","),
        "group": c.group,
    })
}

/// Reads a query string into `T`, answering in the spec's error format: a parameter given twice
/// is refused by name (the spec gives each one once; a comma-separated list is the way to give
/// several values).
fn parse_query<T: serde::de::DeserializeOwned + Default>(raw: Option<&str>) -> Result<T, Failure> {
    let raw = raw.unwrap_or("");
    let unreadable = |e: serde_urlencoded::de::Error| {
        Failure(StatusCode::BAD_REQUEST, format!("Unreadable query string: {e} / 查询参数无法解析"))
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).map_err(unreadable)?;
    let mut seen = std::collections::HashSet::new();
    for (name, _) in &pairs {
        if !seen.insert(name.as_str()) {
            return Err(Failure(
                StatusCode::BAD_REQUEST,
                format!(
                    "{name} is given more than once; give several values comma-separated / 参数 {name} 重复，多个值请用逗号分隔"
                ),
            ));
        }
    }
    serde_urlencoded::from_str(raw).map_err(unreadable)
}

/// Our jurisdiction's id: the host name of the public address (the GeoReport convention, e.g.
/// `sfgov.org`). Requests naming another jurisdiction are refused with 404.
fn jurisdiction_id(state: &AppState) -> String {
    let url = state.config.public_url.trim_end_matches('/');
    let host = url.split_once("://").map_or(url, |(_, rest)| rest);
    host.split(['/', ':']).next().unwrap_or(host).to_string()
}

fn check_jurisdiction(state: &AppState, given: Option<&str>) -> Result<(), Failure> {
    match given.map(str::trim).filter(|j| !j.is_empty()) {
        Some(j) if j != jurisdiction_id(state) => Err(Failure(
            StatusCode::NOT_FOUND,
            format!(
                "Unknown jurisdiction_id {j}; this endpoint serves {} / 管辖区不存在",
                jurisdiction_id(state)
            ),
        )),
        _ => Ok(()),
    }
}

/// `GET /open311/discovery.{json,xml}`: the GeoReport Service Discovery document.
pub async fn discovery(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(("discovery", format)) = split(&file) else {
        return error(
            Format::Json,
            StatusCode::NOT_FOUND,
            "Use discovery.json or discovery.xml / 请使用 discovery.json",
        );
    };
    let base = state.config.public_url.trim_end_matches('/');
    let body = json!({
        "changeset": "2026-12-05T00:00:00+08:00",
        "contact": "济南市12345政务服务便民热线 / Jinan 12345 government service hotline, tel. 12345",
        "key_service": format!("{base}/complaints (API keys are issued by the city's Big Data Bureau / API 密钥由市大数据局发放)"),
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": format!("{base}/open311/v2"),
            "changeset": "2026-12-05T00:00:00+08:00",
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    });
    // In XML each endpoint is an <endpoint> inside <endpoints>, each format a <format>.
    respond(format, StatusCode::OK, "discovery", "discovery", body)
}

/// `GET /open311/v2/services.{json,xml}` and `GET /open311/v2/requests.{json,xml}`.
pub async fn get_collection(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some((name, format)) = split(&file) else {
        return error(Format::Json, StatusCode::NOT_FOUND, "Use .json or .xml / 请使用 .json 或 .xml");
    };
    let q: RequestsQuery = match parse_query(raw.as_deref()) {
        Ok(q) => q,
        Err(f) => return f.into_response_in(format),
    };
    if let Err(f) = check_jurisdiction(&state, q.jurisdiction_id.as_deref()) {
        return f.into_response_in(format);
    }
    match name {
        "services" => {
            let t = state.complaints.taxonomy();
            let body = Value::Array(t.categories.iter().map(service_json).collect());
            respond(format, StatusCode::OK, "services", "service", body)
        }
        "requests" => match list_requests(&state, &q).await {
            Ok(items) => respond(format, StatusCode::OK, "service_requests", "request", Value::Array(items)),
            Err(r) => r.into_response_in(format),
        },
        _ => error(format, StatusCode::NOT_FOUND, format!("No such resource {name} / 没有该资源")),
    }
}

/// An Open311 failure before we know the format.
struct Failure(StatusCode, String);

impl Failure {
    fn into_response_in(self, format: Format) -> Response {
        error(format, self.0, self.1)
    }
}

/// `GET /open311/v2/services/{code}.{json,xml}`: the service definition.
pub async fn service_definition(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some((code, format)) = split(&file) else {
        return error(Format::Json, StatusCode::NOT_FOUND, "Use .json or .xml / 请使用 .json 或 .xml");
    };
    let q: RequestsQuery = match parse_query(raw.as_deref()) {
        Ok(q) => q,
        Err(f) => return f.into_response_in(format),
    };
    if let Err(f) = check_jurisdiction(&state, q.jurisdiction_id.as_deref()) {
        return f.into_response_in(format);
    }
    let t = state.complaints.taxonomy();
    match t.category(code) {
        Some(c) => respond(
            format,
            StatusCode::OK,
            "service_definition",
            "service_definition",
            json!({"service_code": c.code, "attributes": []}),
        ),
        None => error(format, StatusCode::NOT_FOUND, format!("Unknown service_code {code} / 服务代码不存在")),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RequestsQuery {
    pub service_request_id: Option<String>,
    pub service_code: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub status: Option<String>,
    pub jurisdiction_id: Option<String>,
}

fn iso(s: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|d| {
            d.with_timezone(&crate::calendar::domain::CHINA_STANDARD_TIME)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        })
        .unwrap_or_else(|_| s.to_string())
}

fn parse_iso(field: &str, s: &str) -> Result<String, Failure> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|d| crate::store::time_text(d.with_timezone(&chrono::Utc)))
        .or_else(|_| chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map(service::day_start_utc))
        .map_err(|_| {
            Failure(
                StatusCode::BAD_REQUEST,
                format!(
                    "{field} must be ISO 8601, e.g. 2026-11-01T00:00:00+08:00 / {field} 应为 ISO 8601 时间"
                ),
            )
        })
}

async fn list_requests(state: &AppState, q: &RequestsQuery) -> Result<Vec<Value>, Failure> {
    let internal = |e: ApiError| Failure(StatusCode::INTERNAL_SERVER_ERROR, format!("Internal error: {e}"));
    let mut f = Filter { public_only: true, limit: 1000, ..Filter::default() };
    let list = |s: &str| -> Vec<String> {
        s.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
    };
    if let Some(ids) = q.service_request_id.as_deref().filter(|s| !s.trim().is_empty()) {
        // The spec: with ids, other filters are ignored.
        f.ids = list(ids);
    } else {
        // The spec allows several codes, comma-separated.
        f.categories = list(q.service_code.as_deref().unwrap_or(""));
        for code in &f.categories {
            if state.complaints.taxonomy().category(code).is_none() {
                return Err(Failure(
                    StatusCode::BAD_REQUEST,
                    format!("Unknown service_code {code} / 服务代码不存在"),
                ));
            }
        }
        // Without end_date the window ends now: no upper bound (a bound at "now" would drop what
        // was filed in the same millisecond).
        let end =
            q.end_date.as_deref().filter(|s| !s.is_empty()).map(|s| parse_iso("end_date", s)).transpose()?;
        let start = match q.start_date.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => parse_iso("start_date", s)?,
            None => {
                let end_t =
                    end.as_deref().and_then(crate::store::parse_time).unwrap_or_else(|| state.clock().now());
                crate::store::time_text(end_t - chrono::Duration::days(90))
            }
        };
        f.since = Some(start);
        f.until = end;
        if let Some(status) = q.status.as_deref().filter(|s| !s.is_empty()) {
            for s in status.split(',').map(str::trim) {
                match s {
                    "open" => f.statuses.extend(
                        ["pending", "dispatched", "responded", "resolved", "returned"].map(String::from),
                    ),
                    "closed" => f.statuses.extend(["closed", "merged"].map(String::from)),
                    other => {
                        return Err(Failure(
                            StatusCode::BAD_REQUEST,
                            format!(
                                "status must be open or closed, not {other} / status 应为 open 或 closed"
                            ),
                        ));
                    }
                }
            }
        }
    }
    let rows = store::list(&state.db, &f).await.map_err(|e| internal(e.into()))?;
    let names = service::department_names(&state.db).await.map_err(internal)?;
    Ok(rows.iter().map(|c| request_json(state, &names, c)).collect())
}

fn request_json(state: &AppState, names: &std::collections::HashMap<String, String>, c: &Complaint) -> Value {
    let t = state.complaints.taxonomy();
    let category = c.category.as_deref().and_then(|code| t.category(code));
    let closed = matches!(c.status.as_str(), "closed" | "merged");
    let (zh, en) = service::status_label(&c.status);
    // The open feed is public: the complainant's name, numbers and addresses are taken out of
    // whatever they or the department wrote.
    let complainant: Vec<&str> = c.complainant_name.as_deref().into_iter().collect();
    let redact = |text: &str| super::domain::redact_personal(text, &complainant);
    let notes = match (&c.status[..], &c.answer) {
        ("merged", _) => "已与同类诉求合并办理 / merged with a report of the same problem".to_string(),
        (_, Some(answer)) => redact(answer),
        _ => format!("{zh} / {en}"),
    };
    // Only a client's own media URL: uploaded photos are not published (faces, plates, homes).
    let media = c.photos.first().filter(|p| p.starts_with("http")).cloned();
    json!({
        "service_request_id": c.public_id,
        "status": if closed { "closed" } else { "open" },
        "status_notes": notes,
        "service_name": category.map(|x| format!("{} {}", x.name, x.name_en)),
        "service_code": c.category,
        "description": redact(&c.description),
        "agency_responsible": c.department.as_ref().map(|d| names.get(d).cloned().unwrap_or_else(|| d.clone())),
        "service_notice": service_notice(c),
        "requested_datetime": iso(&c.created_at),
        "updated_datetime": iso(&c.updated_at),
        "expected_datetime": if closed { Value::Null } else { Value::String(iso(&c.resolve_due)) },
        "address": c.address.as_deref().map(redact),
        "address_id": Value::Null,
        "zipcode": Value::Null,
        "lat": c.lat,
        "long": c.lon,
        "media_url": media,
    })
}

fn service_notice(c: &Complaint) -> String {
    if c.category.is_some() && c.respond_due != c.resolve_due {
        "一般诉求1个工作日内响应、5个工作日内办结；水电气热等紧急诉求24小时内办结。 \
         Answered within 1 working day and resolved within 5; urgent (water, power, gas, heating) within 24 hours."
            .into()
    } else {
        String::new()
    }
}

/// `GET /open311/v2/requests/{id}.{json,xml}`.
pub async fn get_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some((id, format)) = split(&file) else {
        return error(Format::Json, StatusCode::NOT_FOUND, "Use .json or .xml / 请使用 .json 或 .xml");
    };
    let q: RequestsQuery = match parse_query(raw.as_deref()) {
        Ok(q) => q,
        Err(f) => return f.into_response_in(format),
    };
    if let Err(f) = check_jurisdiction(&state, q.jurisdiction_id.as_deref()) {
        return f.into_response_in(format);
    }
    match store::get_public(&state.db, id).await {
        Ok(Some(c)) => match service::department_names(&state.db).await {
            Ok(names) => respond(
                format,
                StatusCode::OK,
                "service_requests",
                "request",
                Value::Array(vec![request_json(&state, &names, &c)]),
            ),
            Err(e) => from_api_error(format, e),
        },
        Ok(None) => error(format, StatusCode::NOT_FOUND, format!("No service request {id} / 诉求不存在")),
        Err(e) => from_api_error(format, e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PostRequest {
    pub api_key: Option<String>,
    pub jurisdiction_id: Option<String>,
    pub service_code: Option<String>,
    pub lat: Option<String>,
    pub long: Option<String>,
    pub address_string: Option<String>,
    pub address_id: Option<String>,
    pub email: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub media_url: Option<String>,
}

/// `POST /open311/v2/requests.{json,xml}`: form-encoded (the spec) or JSON, with `api_key`.
pub async fn post_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((name, format)) = split(&file) else {
        return error(Format::Json, StatusCode::NOT_FOUND, "Use .json or .xml / 请使用 .json 或 .xml");
    };
    if name != "requests" {
        return error(format, StatusCode::NOT_FOUND, format!("No such resource {name} / 没有该资源"));
    }
    let query: PostRequest = match parse_query(raw.as_deref()) {
        Ok(q) => q,
        Err(f) => return f.into_response_in(format),
    };
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let parsed: Result<PostRequest, String> = if is_json {
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    } else {
        serde_urlencoded::from_bytes(&body).map_err(|e| e.to_string())
    };
    let mut req = match parsed {
        Ok(r) => r,
        Err(e) => {
            return error(
                format,
                StatusCode::BAD_REQUEST,
                format!("Unreadable request body: {e} / 请求体无法解析"),
            );
        }
    };
    if req.api_key.is_none() {
        req.api_key = query.api_key;
    }
    if let Err(f) =
        check_jurisdiction(&state, req.jurisdiction_id.as_deref().or(query.jurisdiction_id.as_deref()))
    {
        return f.into_response_in(format);
    }
    let Some(key) = req.api_key.as_deref().filter(|k| !k.trim().is_empty()) else {
        return error(format, StatusCode::FORBIDDEN, "api_key is required / 缺少 api_key");
    };
    let client = match store::client_name(&state.db, &key_hash(key)).await {
        Ok(Some(c)) => c,
        Ok(None) => return error(format, StatusCode::FORBIDDEN, "Invalid api_key / api_key 无效"),
        Err(e) => return from_api_error(format, e.into()),
    };
    let Some(code) = req.service_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) else {
        return error(format, StatusCode::BAD_REQUEST, "service_code is required / 缺少 service_code");
    };
    if state.complaints.taxonomy().category(code).is_none() {
        // The spec: an unknown service_code is "not found".
        return error(format, StatusCode::NOT_FOUND, format!("Unknown service_code {code} / 服务代码不存在"));
    }
    let number = |field: &str, v: &Option<String>| -> Result<Option<f64>, Box<Response>> {
        match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => s.parse::<f64>().map(Some).map_err(|_| {
                Box::new(error(
                    format,
                    StatusCode::BAD_REQUEST,
                    format!("{field} must be a number / {field} 应为数字"),
                ))
            }),
        }
    };
    let lat = match number("lat", &req.lat) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let lon = match number("long", &req.long) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let address = req.address_string.clone().filter(|a| !a.trim().is_empty());
    if (lat.is_none() || lon.is_none())
        && address.is_none()
        && req.address_id.as_deref().is_none_or(|a| a.trim().is_empty())
    {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "A location is required: lat and long, or address_string / 请提供位置：经纬度或地址",
        );
    }
    let media = req.media_url.as_deref().map(str::trim).filter(|m| !m.is_empty());
    if let Some(m) = media
        && !(m.starts_with("https://") || m.starts_with("http://"))
    {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "media_url must be an http(s) URL / media_url 应为网址",
        );
    }
    let name = [req.last_name.as_deref(), req.first_name.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("");
    let intake = IntakeRequest {
        description: req.description.clone().unwrap_or_default(),
        category: Some(code.to_string()),
        address: address.or_else(|| req.address_id.clone()),
        lat,
        lon,
        name: Some(name).filter(|n| !n.is_empty()),
        phone: req.phone.clone(),
        media_url: media.map(str::to_string),
        // A GeoReport client is a public reporting channel (as FixMyStreet's reports are).
        public: true,
        ..IntakeRequest::default()
    };
    match service::intake(&state, Source::Open311 { client }, intake).await {
        Ok(done) => {
            let c = &done.complaint.complaint;
            let body = json!([{
                "service_request_id": c.public_id,
                "service_notice": service_notice(c),
                "account_id": req.account_id,
            }]);
            respond(format, StatusCode::CREATED, "service_requests", "request", body)
        }
        Err(e) => from_api_error(format, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_is_escaped_and_lists_repeat_their_item() {
        let mut out = String::new();
        xml_value(
            "service_definition",
            &json!({"service_code": "a&b", "attributes": [{"code": "<x>"}]}),
            &mut out,
        );
        assert_eq!(
            out,
            "<service_definition><service_code>a&amp;b</service_code><attributes><attribute><code>&lt;x&gt;</code>\
             </attribute></attributes></service_definition>"
        );
        let r = respond(
            Format::Xml,
            StatusCode::BAD_REQUEST,
            "errors",
            "error",
            json!([{"code": 400, "description": "x"}]),
        );
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn keys_are_stored_as_digests() {
        let k = new_key();
        assert_eq!(k.len(), 64);
        assert_eq!(key_hash(&k), key_hash(&format!(" {k} ")));
        assert_ne!(key_hash(&k), key_hash(&new_key()));
    }

    #[test]
    fn formats() {
        assert!(matches!(split("services.json"), Some(("services", Format::Json))));
        assert!(matches!(split("12345-20261129-00001.xml"), Some(("12345-20261129-00001", Format::Xml))));
        assert!(split("services").is_none());
    }
}
