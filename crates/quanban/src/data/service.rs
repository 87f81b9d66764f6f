//! The exchange and the requests for conditional data: who may ask, decide and read (the one
//! access decision), the grant check (`sharing::check_read`), and logging every read.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::domain::{DATASETS, Dataset, Field, Register, Sharing, Value, dataset, fen_text};
use super::sharing::{
    self, DataRequest, FieldDecision, NewRequest, Purpose, ReadAsk, RequestStatus, RequestedField, Side,
    Step, StepRefusal,
};
use super::store::{self, Access, Columns};
use crate::app::AppState;
use crate::calendar::deadline::Signal;
use crate::http::{ApiError, ApiResult, Caller, FieldError};
use crate::identity::authz::{Action, Actor, Area, Decision, Resource, decide};
use crate::identity::domain::{CreditCode, IdNumber};

/// Who reads: a department, through one of its staff or one of the platform's jobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reader {
    pub department: String,
    /// `user:<id>` or `job:<name>`.
    pub actor: String,
    pub actor_name: String,
}

/// The request with where its deadline stands (pending requests only).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RequestView {
    #[serde(flatten)]
    pub request: DataRequest,
    /// `green`, `yellow` or `red` while pending (red: past the 10 working days; shown to the
    /// supervisor as escalated).
    pub light: Option<String>,
    pub escalated: bool,
}

async fn view(state: &AppState, r: DataRequest) -> RequestView {
    let calendar = state.calendar().await;
    let light = (r.status == RequestStatus::Pending)
        .then(|| sharing::decision_signal(&calendar, r.due_on, state.clock().now()));
    RequestView {
        escalated: light == Some(Signal::Red),
        light: light.map(|l| l.as_str().to_string()),
        request: r,
    }
}

fn staff_department(caller: &Caller) -> ApiResult<String> {
    match &caller.actor {
        Actor::Staff { department, .. } => Ok(department.clone()),
        Actor::Anonymous => Err(ApiError::Unauthenticated),
        Actor::Person { .. } => Err(ApiError::Denied {
            code: "exchange_staff_only",
            zh: "数据共享交换仅供政府部门工作人员和平台任务使用".into(),
            en: "Data sharing is for government departments' staff and the platform's jobs".into(),
            errors: Vec::new(),
        }),
    }
}

fn request_resource(r: &DataRequest) -> Resource {
    Resource::DataRequest { requester: r.requester.clone(), owner: r.owner.clone() }
}

/// Asks a department for conditional fields of its dataset.
pub async fn create_request(state: &AppState, caller: &Caller, req: NewRequest) -> ApiResult<RequestView> {
    let user = caller.require_user()?.to_string();
    let requester = staff_department(caller)?;
    let owner = dataset(req.dataset.trim()).map(|d| d.owner.to_string()).unwrap_or_default();
    if decide(&caller.actor, Action::Create, &Resource::DataRequest { requester: requester.clone(), owner })
        != Decision::Allow
    {
        return Err(ApiError::Forbidden);
    }
    let mut departments = std::collections::HashMap::new();
    for code in &req.items {
        let code = code.trim().to_string();
        let dept = crate::catalog::store::get(&state.db, &code).await?.map(|s| s.item.department);
        departments.insert(code, dept);
    }
    let checked = sharing::check_new(&requester, &req, &|code| departments.get(code).cloned().flatten())
        .map_err(ApiError::Validation)?;
    let today = state.clock().today();
    let calendar = state.calendar().await;
    let r = DataRequest {
        id: crate::platform::tokens::uuid_v4(),
        requester,
        owner: checked.owner,
        dataset: checked.dataset,
        purpose: checked.purpose,
        purpose_detail: checked.purpose_detail,
        legal_basis: checked.legal_basis,
        items: checked.items,
        fields: checked.fields,
        months: checked.months,
        status: RequestStatus::Pending,
        requested_by: user,
        requested_at: state.db.now_text(),
        due_on: calendar.add_working_days(today, sharing::DECISION_WORKING_DAYS),
        decided_by: None,
        decided_at: None,
        expires_on: None,
        closed_by: None,
        closed_at: None,
        close_reason: None,
        version: 1,
    };
    let id = r.id.clone();
    store::insert_request(&state.db, r).await?;
    get_request(state, caller, &id).await
}

/// One request, if the caller works in its requesting or owning department (or supervises).
pub async fn get_request(state: &AppState, caller: &Caller, id: &str) -> ApiResult<RequestView> {
    caller.require_user()?;
    let r = store::get_request(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    match decide(&caller.actor, Action::Read, &request_resource(&r)) {
        Decision::Allow => Ok(view(state, r).await),
        Decision::Unauthenticated => Err(ApiError::Unauthenticated),
        _ => Err(ApiError::NotFound),
    }
}

/// Requests by and to the caller's department; every department's for the supervisor.
pub async fn list_requests(state: &AppState, caller: &Caller) -> ApiResult<Vec<RequestView>> {
    caller.require_user()?;
    let all = decide(&caller.actor, Action::Read, &Resource::CityWide(Area::DataSharing)) == Decision::Allow;
    let rows = if all {
        store::list_requests(&state.db, None).await?
    } else {
        let department = staff_department(caller)?;
        store::list_requests(&state.db, Some(&department)).await?
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if decide(&caller.actor, Action::Read, &request_resource(&r)) == Decision::Allow {
            out.push(view(state, r).await);
        }
    }
    Ok(out)
}

/// A step's body.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct StepBody {
    /// `decide`: a verdict for every requested field.
    pub verdicts: Vec<sharing::FieldVerdict>,
    /// `decide`: a grant shorter than asked (YYYY-MM-DD).
    pub expires_on: Option<String>,
    /// `withdraw` (optional) and `revoke` (required).
    pub reason: Option<String>,
    /// The version the caller saw; when given and stale, the answer is 409.
    pub version: Option<i64>,
}

/// `decide` and `revoke` (the owner), `withdraw` (the requester).
pub async fn step(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: &str,
    body: StepBody,
) -> ApiResult<RequestView> {
    let user = caller.require_user()?.to_string();
    let before = get_request(state, caller, id).await?.request;
    let (step, side, access) = match action {
        "decide" => {
            let expires_on = match body.expires_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => None,
                Some(s) => Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                    ApiError::invalid(
                        "expires_on",
                        "not_date",
                        "授权截止日期应为YYYY-MM-DD",
                        "expires_on must be YYYY-MM-DD",
                    )
                })?),
            };
            let verdicts = body
                .verdicts
                .into_iter()
                .map(|v| (v.field.trim().to_string(), v.approve, v.reason))
                .collect();
            (Step::Decide { verdicts, expires_on }, Side::Owner, Action::Approve)
        }
        "revoke" => (Step::Revoke { reason: body.reason.unwrap_or_default() }, Side::Owner, Action::Approve),
        "withdraw" => (Step::Withdraw { reason: body.reason }, Side::Requester, Action::Delete),
        _ => return Err(ApiError::NotFound),
    };
    if decide(&caller.actor, access, &request_resource(&before)) != Decision::Allow {
        return Err(ApiError::Forbidden);
    }
    if body.version.is_some_and(|v| v != before.version) {
        return Err(ApiError::conflict_stale());
    }
    let today = state.clock().today();
    let mut after = sharing::decide(&before, side, &step, today).map_err(|e| match e {
        StepRefusal::NotYours => ApiError::Forbidden,
        StepRefusal::State(s) => ApiError::StateConflict {
            code: "action_not_allowed_in_state",
            zh: format!("该申请当前状态为“{}”，不能执行此操作", s.label().0),
            en: format!("The request is {}; this is not possible now", s.label().1),
            state: s.as_str().to_string(),
        },
        StepRefusal::Invalid(errors) => ApiError::Validation(errors),
    })?;
    let now = state.db.now_text();
    let step_name = match step {
        Step::Decide { .. } => {
            after.decided_by = Some(user.clone());
            after.decided_at = Some(now);
            "decide"
        }
        Step::Withdraw { .. } | Step::Revoke { .. } => {
            after.closed_by = Some(user.clone());
            after.closed_at = Some(now);
            if matches!(step, Step::Revoke { .. }) { "revoke" } else { "withdraw" }
        }
    };
    store::save_request(&state.db, before.version, after, format!("user:{user}"), step_name).await?;
    get_request(state, caller, id).await
}

/// The query of a single read.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct ExchangeQuery {
    /// Comma-separated field names.
    pub fields: String,
    /// `case_handling`, `policy_benefit`, `supervision` or `statistics`.
    pub purpose: String,
    /// The case the read serves (its item must be covered by the grant).
    pub case: Option<String>,
    /// The policy the read serves.
    pub policy: Option<String>,
}

/// One record as the exchange returns it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ExchangeRecord {
    pub dataset: String,
    pub owner: String,
    pub owner_name: String,
    pub key: String,
    /// Field → value: money as yuan text with two decimals (exact), counts as numbers,
    /// booleans, dates as YYYY-MM-DD, null when the register has no value.
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The access log entry of this read.
    pub access_id: String,
    pub read_at: String,
}

/// A value as JSON (money exact, as text).
pub fn json_value(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Text(s) => s.clone().into(),
        Value::Bool(b) => (*b).into(),
        Value::Int(n) => (*n).into(),
        Value::Fen(n) => fen_text(*n).into(),
        Value::Date(d) => d.to_string().into(),
    }
}

/// A value as people read it.
pub fn display_value(f: &Field, v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::Text(s) => s.clone(),
        Value::Bool(true) => "是".into(),
        Value::Bool(false) => "否".into(),
        Value::Int(n) => n.to_string(),
        Value::Fen(n) => format!("{} 元", fen_text(*n)),
        Value::Date(d) => d.to_string(),
    }
    .replace('\n', " ")
    .chars()
    .take(if f.kind == super::domain::FieldType::Text { 200 } else { 64 })
    .collect()
}

/// Checks a record key by its dataset's key: a credit code (GB 32100) or an ID number
/// (GB 11643), both by their check characters (422 naming `key`).
pub fn check_key(d: &Dataset, key: &str, today: NaiveDate) -> ApiResult<String> {
    let key = key.trim();
    match d.register {
        Register::Enterprises => CreditCode::parse(key)
            .map(|c| c.as_str().to_string())
            .map_err(|e| ApiError::invalid("key", e.code(), e.message_zh(), e.message_en())),
        Register::People => IdNumber::parse_as_of(key, today)
            .map(|_| key.to_uppercase())
            .map_err(|e| ApiError::invalid("key", e.code(), e.message_zh(), e.message_en())),
    }
}

/// How an access names its subject: the credit code, or `p:` + the ID number's digest.
pub fn subject_of(state: &AppState, d: &Dataset, key: &str) -> String {
    match d.register {
        Register::Enterprises => key.to_string(),
        Register::People => format!("p:{}", state.vault.digest("id_number", key)),
    }
}

fn fields_of(d: &'static Dataset, list: &str) -> ApiResult<Vec<&'static Field>> {
    let mut out: Vec<&'static Field> = Vec::new();
    let mut errors = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match d.fields.iter().find(|f| f.name == name) {
            Some(f) if !out.iter().any(|x| x.name == f.name) => out.push(f),
            Some(_) => {}
            None => errors.push(FieldError::new(
                "fields",
                "unknown_field",
                format!("数据集“{}”没有字段“{name}”", d.name_zh),
                format!("{} has no field {name}", d.name_en),
            )),
        }
    }
    if out.is_empty() && errors.is_empty() {
        errors.push(FieldError::required("fields", "读取字段", "fields"));
    }
    if errors.is_empty() { Ok(out) } else { Err(ApiError::Validation(errors)) }
}

fn refused(d: &Dataset, refusal: &sharing::ReadRefusal) -> ApiError {
    let names: Vec<&str> = refusal.fields.iter().map(|(n, _)| *n).collect();
    ApiError::Denied {
        code: "data_not_granted",
        zh: format!("以下字段无权读取：{}", names.join("、")),
        en: format!("Not allowed to read: {}", names.join(", ")),
        errors: refusal.errors(d),
    }
}

/// Reads one record through the exchange: checks the key, the reader, the grant (and the case's
/// item and subject), then reads and logs the read before answering.
pub async fn read_one(
    state: &AppState,
    caller: &Caller,
    dataset_id: &str,
    key: &str,
    q: ExchangeQuery,
) -> ApiResult<ExchangeRecord> {
    let user = caller.require_user()?.to_string();
    let department = staff_department(caller)?;
    if decide(&caller.actor, Action::Read, &Resource::DataExchange { department: department.clone() })
        != Decision::Allow
    {
        return Err(ApiError::Forbidden);
    }
    let d = dataset(dataset_id).ok_or(ApiError::NotFound)?;
    let today = state.clock().today();
    let key = check_key(d, key, today)?;
    let fields = fields_of(d, &q.fields)?;
    let purpose = Purpose::parse(q.purpose.trim()).ok_or_else(|| {
        ApiError::invalid(
            "purpose",
            if q.purpose.trim().is_empty() { "required" } else { "unknown_purpose" },
            "请说明用途：case_handling、policy_benefit、supervision 或 statistics",
            "purpose must be case_handling, policy_benefit, supervision or statistics",
        )
    })?;
    // A read for a case: the caller's department handles it and it is about this record.
    let mut item = None;
    let case_number = q.case.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
    if let Some(number) = &case_number {
        let case = crate::cases::service::readable(state, caller, number).await.map_err(|_| {
            ApiError::invalid(
                "case",
                "unknown_case",
                "找不到该办件，或不由本部门办理",
                "No such case in your department",
            )
        })?;
        if case.department != department {
            return Err(ApiError::invalid(
                "case",
                "unknown_case",
                "该办件不由本部门办理",
                "The case is not your department's",
            ));
        }
        let subject_matches = match d.register {
            Register::Enterprises => case.enterprise.as_deref() == Some(key.as_str()),
            Register::People => {
                crate::identity::store::id_number_of(&state.db, &state.vault, &case.applicant_id)
                    .await?
                    .as_deref()
                    == Some(key.as_str())
            }
        };
        if !subject_matches {
            return Err(ApiError::Denied {
                code: "case_subject_mismatch",
                zh: "该记录不是此办件申请人（企业）的数据".into(),
                en: "The record is not the case applicant's".into(),
                errors: vec![FieldError::new(
                    "key",
                    "case_subject_mismatch",
                    "记录与办件申请人不符",
                    "Not the applicant's record",
                )],
            });
        }
        item = case.item_code.clone();
    }
    let grants = store::decided_requests(&state.db, &department, d.id).await?;
    let ask = ReadAsk {
        department: &department,
        dataset: d,
        fields: &fields,
        purpose,
        item: item.as_deref(),
        today,
    };
    let used = sharing::check_read(&ask, &grants).map_err(|r| refused(d, &r))?;
    let values = store::read_record(&state.db, d, &key, &fields).await?.ok_or(ApiError::NotFound)?;
    let access = Access {
        id: crate::platform::tokens::uuid_v4(),
        at: state.db.now_text(),
        department,
        actor: format!("user:{user}"),
        actor_name: caller.name.clone().unwrap_or_default(),
        dataset: d.id.to_string(),
        subject: Some(subject_of(state, d, &key)),
        fields: fields.iter().map(|f| f.name.to_string()).collect(),
        purpose: purpose.as_str().to_string(),
        case_number,
        policy: q.policy.map(|p| p.trim().chars().take(64).collect()).filter(|p: &String| !p.is_empty()),
        grants: used,
        criteria: None,
        records: 1,
    };
    let (id, at) = (access.id.clone(), access.at.clone());
    store::record_access(&state.db, access).await?;
    Ok(ExchangeRecord {
        dataset: d.id.to_string(),
        owner: d.owner.to_string(),
        owner_name: crate::platform::directory::department_name(&state.db, d.owner).await?,
        key,
        fields: fields.iter().zip(&values).map(|(f, v)| (f.name.to_string(), json_value(v))).collect(),
        access_id: id,
        read_at: crate::platform::clock::shown_time(&at),
    })
}

/// Each dataset of `wanted` checked against the reader's grants (all or nothing): the grants
/// each read rests on.
async fn check_grants(
    state: &AppState,
    reader: &Reader,
    wanted: &[(&'static Dataset, Vec<&'static Field>)],
    purpose: Purpose,
) -> ApiResult<Vec<Vec<String>>> {
    let today = state.clock().today();
    let mut used = Vec::with_capacity(wanted.len());
    for (d, fields) in wanted {
        let grants = store::decided_requests(&state.db, &reader.department, d.id).await?;
        let ask = ReadAsk { department: &reader.department, dataset: d, fields, purpose, item: None, today };
        used.push(sharing::check_read(&ask, &grants).map_err(|r| refused(d, &r))?);
    }
    Ok(used)
}

/// The log entry of a read of `d` by `reader` (a batch of no records until the caller says).
fn job_access(
    state: &AppState,
    reader: &Reader,
    d: &Dataset,
    fields: &[&Field],
    purpose: Purpose,
    policy: Option<&str>,
    grants: Vec<String>,
) -> Access {
    Access {
        id: crate::platform::tokens::uuid_v4(),
        at: state.db.now_text(),
        department: reader.department.clone(),
        actor: reader.actor.clone(),
        actor_name: reader.actor_name.clone(),
        dataset: d.id.to_string(),
        subject: None,
        fields: fields.iter().map(|f| f.name.to_string()).collect(),
        purpose: purpose.as_str().to_string(),
        case_number: None,
        policy: policy.map(str::to_string),
        grants,
        criteria: None,
        records: 0,
    }
}

/// A batch read: the `fields` of each dataset of `wanted`, for every record of the first, into
/// memory column by column. Each dataset is checked against the reader's grants like a single
/// read (all or nothing) and logged once with its criteria (every subject it covered sees it on
/// their page).
pub async fn read_batch(
    state: &AppState,
    reader: &Reader,
    wanted: &[(&'static Dataset, Vec<&'static Field>)],
    purpose: Purpose,
    policy: Option<&str>,
) -> ApiResult<Columns> {
    let used = check_grants(state, reader, wanted, purpose).await?;
    let columns = store::read_columns(&state.db, wanted).await?;
    for ((d, fields), grants) in wanted.iter().zip(used) {
        let mut access = job_access(state, reader, d, fields, purpose, policy, grants);
        access.criteria = Some("all records".into());
        access.records = columns.keys.len() as i64;
        store::record_access(&state.db, access).await?;
    }
    Ok(columns)
}

/// One enterprise's (or person's) record read by a platform job for `reader`: the `fields` of
/// each dataset of `wanted` for `key`, checked against the reader's grants like a batch read
/// and logged per dataset with the subject (who sees it on their page). `None` when the first
/// dataset has no record for the key.
pub async fn read_subject(
    state: &AppState,
    reader: &Reader,
    wanted: &[(&'static Dataset, Vec<&'static Field>)],
    key: &str,
    purpose: Purpose,
    policy: Option<&str>,
) -> ApiResult<Option<Vec<(&'static Field, Value)>>> {
    let used = check_grants(state, reader, wanted, purpose).await?;
    let mut out = Vec::new();
    for (n, ((d, fields), grants)) in wanted.iter().zip(used).enumerate() {
        let Some(values) = store::read_record(&state.db, d, key, fields).await? else {
            if n == 0 {
                return Ok(None);
            }
            out.extend(fields.iter().map(|f| (*f, Value::Null)));
            continue;
        };
        let mut access = job_access(state, reader, d, fields, purpose, policy, grants);
        access.subject = Some(subject_of(state, d, key));
        access.records = 1;
        store::record_access(&state.db, access).await?;
        out.extend(fields.iter().copied().zip(values));
    }
    Ok(Some(out))
}

/// A material filled from shared data at submission, before the case exists: what was read and
/// the access to log with the case (the log is written in the case's own transaction).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedMaterial {
    pub dataset: &'static str,
    pub owner: String,
    /// (field name, label, value shown) for the applicant and the clerk.
    pub values: Vec<(String, String, String)>,
    pub access: Access,
}

/// Why a shared-data material stays with the department (`data_pending`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotFilled {
    /// The registers do not hold this source.
    NotInRegisters,
    /// The applicant has no key for the dataset (no enterprise, no ID number).
    NoKey,
    /// No record for the applicant.
    NoRecord,
    /// The department has no grant for a field.
    NotGranted(Vec<String>),
}

/// Fills a `data:<source>` material for a case of `item` in `department`, for the applicant
/// (their ID number) or the enterprise applied for. Read only: the access is logged with the case.
pub async fn fill_material(
    state: &AppState,
    source: &str,
    department: &str,
    item: &str,
    enterprise: Option<&str>,
    id_number: Option<&str>,
    submitted_by: &str,
) -> ApiResult<Result<SharedMaterial, NotFilled>> {
    let Some(s) = sharing::material_source(source) else { return Ok(Err(NotFilled::NotInRegisters)) };
    let Some(d) = dataset(s.dataset) else { return Ok(Err(NotFilled::NotInRegisters)) };
    let key = match d.register {
        Register::Enterprises => enterprise,
        Register::People => id_number,
    };
    let Some(key) = key else { return Ok(Err(NotFilled::NoKey)) };
    let fields: Vec<&'static Field> =
        s.fields.iter().filter_map(|n| d.fields.iter().find(|f| f.name == *n)).collect();
    let grants = store::decided_requests(&state.db, department, d.id).await?;
    let ask = ReadAsk {
        department,
        dataset: d,
        fields: &fields,
        purpose: Purpose::CaseHandling,
        item: Some(item),
        today: state.clock().today(),
    };
    let used = match sharing::check_read(&ask, &grants) {
        Ok(used) => used,
        Err(r) => {
            return Ok(Err(NotFilled::NotGranted(r.fields.iter().map(|(n, _)| n.to_string()).collect())));
        }
    };
    let Some(values) = store::read_record(&state.db, d, key, &fields).await? else {
        return Ok(Err(NotFilled::NoRecord));
    };
    Ok(Ok(SharedMaterial {
        dataset: d.id,
        owner: d.owner.to_string(),
        values: fields
            .iter()
            .zip(&values)
            .map(|(f, v)| (f.name.to_string(), f.label_zh.to_string(), display_value(f, v)))
            .collect(),
        access: Access {
            id: crate::platform::tokens::uuid_v4(),
            at: state.db.now_text(),
            department: department.to_string(),
            actor: format!("user:{submitted_by}"),
            actor_name: "网上申请自动调取 / filled at submission".into(),
            dataset: d.id.to_string(),
            subject: Some(subject_of(state, d, key)),
            fields: fields.iter().map(|f| f.name.to_string()).collect(),
            purpose: Purpose::CaseHandling.as_str().to_string(),
            case_number: None,
            policy: None,
            grants: used,
            criteria: None,
            records: 1,
        },
    }))
}

/// One access as the subject sees it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AccessView {
    #[serde(flatten)]
    pub access: Access,
    pub department_name: String,
    pub dataset_name: String,
    /// The fields' labels (Chinese).
    pub field_labels: Vec<String>,
    /// The purpose's label (Chinese).
    pub purpose_label: String,
    /// Beijing time.
    pub at_shown: String,
    /// A batch read (a rule evaluated over a whole register) rather than a look at one record.
    pub batch: bool,
}

async fn views_of(state: &AppState, accesses: Vec<Access>) -> ApiResult<Vec<AccessView>> {
    let names = crate::platform::directory::department_names(&state.db).await?;
    Ok(accesses
        .into_iter()
        .map(|a| {
            let d = dataset(&a.dataset);
            AccessView {
                department_name: names.get(&a.department).cloned().unwrap_or_else(|| a.department.clone()),
                dataset_name: d.map(|d| d.name_zh.to_string()).unwrap_or_else(|| a.dataset.clone()),
                field_labels: a
                    .fields
                    .iter()
                    .map(|n| {
                        d.and_then(|d| d.fields.iter().find(|f| f.name == n))
                            .map(|f| f.label_zh.to_string())
                            .unwrap_or_else(|| n.clone())
                    })
                    .collect(),
                purpose_label: Purpose::parse(&a.purpose)
                    .map(|p| p.label().0.to_string())
                    .unwrap_or_else(|| a.purpose.clone()),
                at_shown: crate::platform::clock::shown_time(&a.at),
                batch: a.subject.is_none(),
                access: a,
            }
        })
        .collect())
}

/// Every read of a subject's records, single and batch (batch reads of the datasets that hold
/// a record of theirs).
async fn accesses_for(
    state: &AppState,
    register: Register,
    subject: &str,
    stored: &str,
) -> ApiResult<Vec<AccessView>> {
    let mut batch = Vec::new();
    for d in super::domain::datasets_of(register) {
        if store::has_record(&state.db, d, stored).await? {
            batch.push(d.id);
        }
    }
    let accesses = store::accesses_of(&state.db, subject, &batch).await?;
    views_of(state, accesses).await
}

/// The signed-in person's "who looked at my data".
pub async fn my_accesses(state: &AppState, caller: &Caller) -> ApiResult<Vec<AccessView>> {
    let user = caller.require_user()?.to_string();
    if decide(&caller.actor, Action::Read, &Resource::Person { user_id: user.clone() }) != Decision::Allow
        || !matches!(caller.actor, Actor::Person { .. })
    {
        return Err(ApiError::NotFound);
    }
    let Some(id_number) = crate::identity::store::id_number_of(&state.db, &state.vault, &user).await? else {
        return Ok(Vec::new());
    };
    let digest = state.vault.digest("id_number", &id_number);
    accesses_for(state, Register::People, &format!("p:{digest}"), &digest).await
}

/// An enterprise's "who looked at our data", for its representatives.
pub async fn enterprise_accesses(
    state: &AppState,
    caller: &Caller,
    code: &str,
) -> ApiResult<Vec<AccessView>> {
    caller.require_user()?;
    let code = code.trim().to_uppercase();
    if decide(&caller.actor, Action::Read, &Resource::Enterprise { credit_code: code.clone() })
        != Decision::Allow
    {
        return Err(ApiError::NotFound);
    }
    accesses_for(state, Register::Enterprises, &code, &code).await
}

/// The reads a department made (its own staff's view of its use of shared data); every
/// department's for the supervisor.
pub async fn department_accesses(state: &AppState, caller: &Caller) -> ApiResult<Vec<AccessView>> {
    caller.require_user()?;
    let all = decide(&caller.actor, Action::Read, &Resource::CityWide(Area::DataSharing)) == Decision::Allow;
    let department = if all { None } else { Some(staff_department(caller)?) };
    let accesses = store::accesses_by(&state.db, department.as_deref(), 200).await?;
    views_of(state, accesses).await
}

/// A granted request of `department` for every conditional field of `d`, for `purpose`.
fn grant_of(
    department: &str,
    d: &Dataset,
    purpose: Purpose,
    today: chrono::NaiveDate,
    by: &str,
    now: String,
) -> Option<DataRequest> {
    let fields: Vec<RequestedField> = d
        .fields
        .iter()
        .filter(|f| f.sharing == Sharing::Conditional)
        .map(|f| RequestedField {
            field: f.name.to_string(),
            decision: FieldDecision::Approved,
            reason: None,
        })
        .collect();
    (!fields.is_empty()).then(|| DataRequest {
        id: crate::platform::tokens::uuid_v4(),
        requester: department.to_string(),
        owner: d.owner.to_string(),
        dataset: d.id.to_string(),
        purpose,
        purpose_detail: format!("granted for {by}"),
        legal_basis: format!("granted for {by}"),
        items: Vec::new(),
        fields,
        months: 12,
        status: RequestStatus::Pending,
        requested_by: by.to_string(),
        requested_at: now,
        due_on: today,
        decided_by: None,
        decided_at: None,
        expires_on: None,
        closed_by: None,
        closed_at: None,
        close_reason: None,
        version: 1,
    })
}

/// Grants `department` every conditional field of every dataset it does not own, for `purpose`,
/// for twelve months from `today`, decided by `by` (the benchmarks and the demo, where nobody is
/// there to file and decide the requests one by one).
pub async fn grant_all_conditional(
    db: &crate::store::Db,
    department: &str,
    purpose: Purpose,
    today: chrono::NaiveDate,
    by: &str,
) -> anyhow::Result<()> {
    for d in DATASETS.iter().filter(|d| d.owner != department) {
        if let Some(r) = grant_of(department, d, purpose, today, by, db.now_text()) {
            crate::data::store::insert_request(db, r.clone()).await?;
            let mut after = r.clone();
            after.status = RequestStatus::Granted;
            after.expires_on = today.checked_add_months(chrono::Months::new(12));
            after.decided_by = Some(by.to_string());
            after.decided_at = Some(r.requested_at.clone());
            after.version = 2;
            crate::data::store::save_request(db, 1, after, by.to_string(), "decide").await?;
        }
    }
    Ok(())
}
