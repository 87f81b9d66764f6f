//! On-demand sharing (数据按需共享), free of I/O: requests for conditional data and their
//! field-by-field decisions, whether a read is covered by a grant, and which catalog material
//! sources the registers can fill.
//!
//! A request is a grant once its owner has approved at least one of its fields; it covers reads
//! by the requesting department of the approved fields, for the request's purpose (and, for
//! case handling, for the items it names), until it expires or is revoked.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::domain::{Dataset, Field, Sharing, dataset};
use crate::http::FieldError;

/// Why a department reads shared data. A read states its purpose, and a grant covers one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// 政务服务办件审核: checking an application of the items the request names.
    CaseHandling,
    /// 惠企政策兑现: evaluating and paying enterprise policies (免申即享).
    PolicyBenefit,
    /// 事中事后监管: supervision of licensed activities.
    Supervision,
    /// 统计分析 (aggregates only are published).
    Statistics,
}

impl Purpose {
    pub const ALL: [Purpose; 4] =
        [Purpose::CaseHandling, Purpose::PolicyBenefit, Purpose::Supervision, Purpose::Statistics];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::CaseHandling => "case_handling",
            Purpose::PolicyBenefit => "policy_benefit",
            Purpose::Supervision => "supervision",
            Purpose::Statistics => "statistics",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Purpose::CaseHandling => ("政务服务办件审核", "Checking applications"),
            Purpose::PolicyBenefit => ("惠企政策兑现", "Paying enterprise policies"),
            Purpose::Supervision => ("事中事后监管", "Supervision"),
            Purpose::Statistics => ("统计分析", "Statistics"),
        }
    }
}

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Waiting for the owner's decision.
    Pending,
    /// At least one field approved: a grant (until it expires or is revoked).
    Granted,
    /// Every field refused.
    Refused,
    /// Withdrawn by the requester before the decision.
    Withdrawn,
    /// A grant ended by its owner.
    Revoked,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Granted => "granted",
            RequestStatus::Refused => "refused",
            RequestStatus::Withdrawn => "withdrawn",
            RequestStatus::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<RequestStatus> {
        [
            RequestStatus::Pending,
            RequestStatus::Granted,
            RequestStatus::Refused,
            RequestStatus::Withdrawn,
            RequestStatus::Revoked,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            RequestStatus::Pending => ("待审核", "Waiting for the owner"),
            RequestStatus::Granted => ("已授权", "Granted"),
            RequestStatus::Refused => ("未授权", "Refused"),
            RequestStatus::Withdrawn => ("已撤回", "Withdrawn"),
            RequestStatus::Revoked => ("已撤销授权", "Revoked"),
        }
    }
}

/// The owner's decision on one requested field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldDecision {
    Pending,
    Approved,
    Refused,
}

/// One field of a request and what the owner decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RequestedField {
    pub field: String,
    pub decision: FieldDecision,
    /// Why it was refused (required when refusing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A request for conditional data, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DataRequest {
    pub id: String,
    /// The requesting department's code.
    pub requester: String,
    /// The owning department's code (the dataset's owner).
    pub owner: String,
    pub dataset: String,
    pub purpose: Purpose,
    /// What the data is for, in the requester's words.
    pub purpose_detail: String,
    pub legal_basis: String,
    /// The items (事项编码) the data serves (case handling).
    pub items: Vec<String>,
    pub fields: Vec<RequestedField>,
    /// How long a grant lasts, in months from the decision.
    pub months: u32,
    pub status: RequestStatus,
    pub requested_by: String,
    pub requested_at: String,
    /// The owner decides by the end of this day (10 working days).
    #[schema(value_type = String, format = Date)]
    pub due_on: NaiveDate,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub expires_on: Option<NaiveDate>,
    /// Who withdrew or revoked it, when and why.
    pub closed_by: Option<String>,
    pub closed_at: Option<String>,
    pub close_reason: Option<String>,
    pub version: i64,
}

/// Working days the owner has to decide (有条件共享: 10 个工作日内答复).
pub const DECISION_WORKING_DAYS: u32 = 10;

/// A pending request's light: its 10 working days by the platform's deadline rule, warning with
/// two left (red: past the date, shown to the supervisor as escalated and raised by monitoring).
pub fn decision_signal(
    cal: &crate::calendar::domain::Calendar,
    due_on: chrono::NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::calendar::deadline::Signal {
    crate::calendar::deadline::Deadline::working_days(due_on, DECISION_WORKING_DAYS).signal(cal, now, 2)
}
/// The longest a grant may last, and the default.
pub const MAX_MONTHS: u32 = 36;
pub const DEFAULT_MONTHS: u32 = 12;

/// What a department asks for.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct NewRequest {
    pub dataset: String,
    pub fields: Vec<String>,
    /// `case_handling`, `policy_benefit`, `supervision` or `statistics`.
    pub purpose: String,
    pub purpose_detail: String,
    pub legal_basis: String,
    /// Item codes (required for case handling).
    pub items: Vec<String>,
    /// Months the grant should last (1–36; 12 when left out).
    pub months: Option<u32>,
}

/// A request checked and ready to store (the store adds id, people and times).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedRequest {
    pub owner: String,
    pub dataset: String,
    pub purpose: Purpose,
    pub purpose_detail: String,
    pub legal_basis: String,
    pub items: Vec<String>,
    pub fields: Vec<RequestedField>,
    pub months: u32,
}

/// Checks a new request by `requester`; `item_department` tells an item's department (None for
/// an unknown item). Every problem names its field.
pub fn check_new(
    requester: &str,
    req: &NewRequest,
    item_department: &dyn Fn(&str) -> Option<String>,
) -> Result<CheckedRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let d = dataset(req.dataset.trim());
    match d {
        None => errors.push(FieldError::new(
            "dataset",
            "unknown_dataset",
            format!("数据集“{}”不存在", req.dataset.trim()),
            format!("No dataset {}", req.dataset.trim()),
        )),
        Some(d) if d.owner == requester => errors.push(FieldError::new(
            "dataset",
            "own_dataset",
            "这是本部门的数据，无需申请",
            "This is your own department's dataset; no request is needed",
        )),
        Some(_) => {}
    }
    let mut fields: Vec<RequestedField> = Vec::new();
    if req.fields.is_empty() {
        errors.push(FieldError::required("fields", "申请字段", "Fields"));
    }
    if let Some(d) = d {
        for name in &req.fields {
            let name = name.trim();
            match d.fields.iter().find(|f| f.name == name) {
                None => errors.push(FieldError::new(
                    "fields",
                    "unknown_field",
                    format!("数据集“{}”没有字段“{name}”", d.name_zh),
                    format!("{} has no field {name}", d.name_en),
                )),
                Some(f) if f.sharing == Sharing::NotShared => errors.push(FieldError::new(
                    "fields",
                    "not_shared",
                    format!("字段“{}”属于不予共享数据，不能申请", f.label_zh),
                    format!("{} is not shared and cannot be requested", f.label_en),
                )),
                Some(f) if f.sharing == Sharing::Unconditional => errors.push(FieldError::new(
                    "fields",
                    "unconditional",
                    format!("字段“{}”为无条件共享，可直接通过交换接口读取，无需申请", f.label_zh),
                    format!("{} is shared without conditions: read it through the exchange", f.label_en),
                )),
                Some(f) if fields.iter().any(|x| x.field == f.name) => errors.push(FieldError::new(
                    "fields",
                    "duplicate_field",
                    format!("字段“{}”重复", f.label_zh),
                    format!("{} is listed twice", f.label_en),
                )),
                Some(f) => fields.push(RequestedField {
                    field: f.name.to_string(),
                    decision: FieldDecision::Pending,
                    reason: None,
                }),
            }
        }
    }
    let purpose = Purpose::parse(req.purpose.trim());
    if purpose.is_none() {
        errors.push(FieldError::new(
            "purpose",
            "unknown_purpose",
            "用途应为 case_handling（办件审核）、policy_benefit（惠企政策兑现）、supervision（监管）或 statistics（统计分析）",
            "purpose must be case_handling, policy_benefit, supervision or statistics",
        ));
    }
    let text = |field: &str, value: &str, zh: &str, en: &str, errors: &mut Vec<FieldError>| {
        let v = value.trim().to_string();
        let n = v.chars().count();
        if n == 0 {
            errors.push(FieldError::required(field, zh, en));
        } else if n > 500 {
            errors.push(FieldError::new(
                field,
                "too_long",
                format!("{zh}不能超过500个字"),
                format!("{en} is at most 500 characters"),
            ));
        }
        v
    };
    let purpose_detail =
        text("purpose_detail", &req.purpose_detail, "用途说明", "Purpose detail", &mut errors);
    let legal_basis = text("legal_basis", &req.legal_basis, "法律依据", "Legal basis", &mut errors);
    let mut items: Vec<String> = Vec::new();
    for code in &req.items {
        let code = code.trim().to_string();
        match item_department(&code) {
            None => errors.push(FieldError::new(
                "items",
                "unknown_item",
                format!("事项“{code}”不存在"),
                format!("No item {code}"),
            )),
            Some(dept) if dept != requester => errors.push(FieldError::new(
                "items",
                "not_your_item",
                format!("事项“{code}”不由本部门办理"),
                format!("Item {code} is not handled by your department"),
            )),
            Some(_) if items.contains(&code) => {}
            Some(_) => items.push(code),
        }
    }
    if purpose == Some(Purpose::CaseHandling) && req.items.is_empty() {
        errors.push(FieldError::new(
            "items",
            "required",
            "办件审核用途须列明所服务的事项",
            "Name the items the data serves (case handling)",
        ));
    }
    let months = req.months.unwrap_or(DEFAULT_MONTHS);
    if !(1..=MAX_MONTHS).contains(&months) {
        errors.push(FieldError::new(
            "months",
            "out_of_range",
            format!("授权期限应为1到{MAX_MONTHS}个月"),
            format!("months must be 1 to {MAX_MONTHS}"),
        ));
    }
    match (d, purpose, errors.is_empty()) {
        (Some(d), Some(purpose), true) => Ok(CheckedRequest {
            owner: d.owner.to_string(),
            dataset: d.id.to_string(),
            purpose,
            purpose_detail,
            legal_basis,
            items,
            fields,
            months,
        }),
        _ => Err(errors),
    }
}

/// The owner's decision on one field.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct FieldVerdict {
    pub field: String,
    pub approve: bool,
    pub reason: Option<String>,
}

/// A step on a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The owner decides every field (approve or refuse with a reason); a grant may be made
    /// shorter than asked (`expires_on`).
    Decide { verdicts: Vec<(String, bool, Option<String>)>, expires_on: Option<NaiveDate> },
    /// The requester withdraws a pending request.
    Withdraw { reason: Option<String> },
    /// The owner ends a grant (a reason is required).
    Revoke { reason: String },
}

/// Who takes a step, as the access decision said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Requester,
    Owner,
}

/// Why a step is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepRefusal {
    /// Not this side's step.
    NotYours,
    /// The request's status does not allow it.
    State(RequestStatus),
    Invalid(Vec<FieldError>),
}

/// The request as it becomes after `step` on `today`, or why not.
pub fn decide(
    before: &DataRequest,
    side: Side,
    step: &Step,
    today: NaiveDate,
) -> Result<DataRequest, StepRefusal> {
    let mut after = before.clone();
    match step {
        Step::Decide { verdicts, expires_on } => {
            if side != Side::Owner {
                return Err(StepRefusal::NotYours);
            }
            if before.status != RequestStatus::Pending {
                return Err(StepRefusal::State(before.status));
            }
            let mut errors = Vec::new();
            for f in &mut after.fields {
                match verdicts.iter().find(|(name, ..)| *name == f.field) {
                    None => errors.push(FieldError::new(
                        "verdicts",
                        "undecided_field",
                        format!("请对字段“{}”作出同意或不同意的决定", f.field),
                        format!("Decide on field {}", f.field),
                    )),
                    Some((_, true, _)) => {
                        f.decision = FieldDecision::Approved;
                        f.reason = None;
                    }
                    Some((_, false, reason)) => {
                        let reason = reason.as_deref().map(str::trim).unwrap_or("");
                        if reason.is_empty() {
                            errors.push(FieldError::new(
                                "verdicts",
                                "reason_required",
                                format!("不同意共享字段“{}”须说明理由", f.field),
                                format!("Give the reason for refusing {}", f.field),
                            ));
                        }
                        f.decision = FieldDecision::Refused;
                        f.reason = Some(reason.chars().take(500).collect());
                    }
                }
            }
            for (name, ..) in verdicts {
                if !before.fields.iter().any(|f| f.field == *name) {
                    errors.push(FieldError::new(
                        "verdicts",
                        "not_requested",
                        format!("字段“{name}”不在申请中"),
                        format!("Field {name} was not requested"),
                    ));
                }
            }
            let longest = today.checked_add_months(Months::new(before.months)).unwrap_or(today);
            let expires = expires_on.unwrap_or(longest);
            if expires <= today || expires > longest {
                errors.push(FieldError::new(
                    "expires_on",
                    "out_of_range",
                    format!("授权截止日期应在今天之后、{longest}之前（含）"),
                    format!("expires_on must be after today and on or before {longest}"),
                ));
            }
            if !errors.is_empty() {
                return Err(StepRefusal::Invalid(errors));
            }
            let any = after.fields.iter().any(|f| f.decision == FieldDecision::Approved);
            after.status = if any { RequestStatus::Granted } else { RequestStatus::Refused };
            after.expires_on = any.then_some(expires);
        }
        Step::Withdraw { reason } => {
            if side != Side::Requester {
                return Err(StepRefusal::NotYours);
            }
            if before.status != RequestStatus::Pending {
                return Err(StepRefusal::State(before.status));
            }
            after.status = RequestStatus::Withdrawn;
            after.close_reason = reason.clone();
        }
        Step::Revoke { reason } => {
            if side != Side::Owner {
                return Err(StepRefusal::NotYours);
            }
            if before.status != RequestStatus::Granted {
                return Err(StepRefusal::State(before.status));
            }
            if reason.trim().is_empty() {
                return Err(StepRefusal::Invalid(vec![FieldError::required("reason", "撤销理由", "Reason")]));
            }
            after.status = RequestStatus::Revoked;
            after.close_reason = Some(reason.trim().chars().take(500).collect());
        }
    }
    after.version += 1;
    Ok(after)
}

/// A read asked of the exchange.
#[derive(Clone, Copy, Debug)]
pub struct ReadAsk<'a> {
    /// The reading department.
    pub department: &'a str,
    pub dataset: &'static Dataset,
    pub fields: &'a [&'static Field],
    pub purpose: Purpose,
    /// The item of the case read for (case handling).
    pub item: Option<&'a str>,
    pub today: NaiveDate,
}

/// Why a read is refused, field by field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadRefusal {
    /// `(field, code)`: `not_shared`, `not_granted`, `grant_expired`, `grant_revoked`,
    /// `purpose_mismatch` or `item_not_covered`.
    pub fields: Vec<(&'static str, &'static str)>,
}

impl ReadRefusal {
    /// The refusal as field errors (for the 403's `errors`).
    pub fn errors(&self, d: &Dataset) -> Vec<FieldError> {
        self.fields
            .iter()
            .map(|(name, code)| {
                let label = d.fields.iter().find(|f| f.name == *name).map(|f| (f.label_zh, f.label_en));
                let (zh, en) = label.unwrap_or((name, name));
                let (why_zh, why_en) = match *code {
                    "not_shared" => ("属于不予共享数据", "is not shared"),
                    "grant_expired" => ("的授权已过期", "was granted, but the grant has expired"),
                    "grant_revoked" => ("的授权已被撤销", "was granted, but the grant was revoked"),
                    "purpose_mismatch" => ("的授权不包括此用途", "is granted for another purpose"),
                    "item_not_covered" => ("的授权不包括该事项", "is not granted for this item"),
                    _ => ("未获数据所有部门授权", "is not granted by the owner"),
                };
                FieldError::new(
                    &format!("fields.{name}"),
                    code,
                    format!("字段“{zh}”{why_zh}"),
                    format!("{en} {why_en}"),
                )
            })
            .collect()
    }
}

/// Whether `ask` is covered: unconditional fields always, the owner's own data always,
/// conditional fields by a live grant for the purpose (and item); never fields not shared.
/// Returns the ids of the grants used.
pub fn check_read(ask: &ReadAsk<'_>, requests: &[DataRequest]) -> Result<Vec<String>, ReadRefusal> {
    if ask.department == ask.dataset.owner {
        return Ok(Vec::new());
    }
    let mut used: Vec<String> = Vec::new();
    let mut refused = Vec::new();
    for f in ask.fields {
        match f.sharing {
            Sharing::Unconditional => continue,
            Sharing::NotShared => {
                refused.push((f.name, "not_shared"));
                continue;
            }
            Sharing::Conditional => {}
        }
        // Of the department's grants naming this field, the first that covers the read; else the
        // most telling reason why none does.
        let mut reason = "not_granted";
        let mut covered = None;
        for r in requests.iter().filter(|r| {
            r.requester == ask.department
                && r.dataset == ask.dataset.id
                && r.fields.iter().any(|x| x.field == f.name && x.decision == FieldDecision::Approved)
        }) {
            // A grant for another purpose is a further miss than one for this purpose that was
            // revoked or ran out.
            let why = if r.purpose != ask.purpose {
                Some("purpose_mismatch")
            } else if r.status == RequestStatus::Revoked {
                Some("grant_revoked")
            } else if r.status != RequestStatus::Granted {
                Some("not_granted")
            } else if r.expires_on.is_none_or(|e| e < ask.today) {
                Some("grant_expired")
            } else if r.purpose == Purpose::CaseHandling
                && ask.item.is_some_and(|item| !r.items.iter().any(|i| i == item))
            {
                Some("item_not_covered")
            } else {
                None
            };
            match why {
                None => {
                    covered = Some(r.id.clone());
                    break;
                }
                Some(w) if rank(w) > rank(reason) => reason = w,
                Some(_) => {}
            }
        }
        match covered {
            Some(id) => {
                if !used.contains(&id) {
                    used.push(id);
                }
            }
            None => refused.push((f.name, reason)),
        }
    }
    if refused.is_empty() { Ok(used) } else { Err(ReadRefusal { fields: refused }) }
}

/// Which refusal reason tells the reader most (the nearest miss wins).
fn rank(code: &str) -> u8 {
    match code {
        "item_not_covered" => 5,
        "grant_expired" => 4,
        "grant_revoked" => 3,
        "purpose_mismatch" => 2,
        _ => 1,
    }
}

/// Whose record a dataset is keyed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubjectKind {
    Enterprise,
    Person,
}

/// A catalog material source (`data:<name>`) the registers can fill: which dataset and fields.
#[derive(Clone, Copy, Debug)]
pub struct MaterialSource {
    pub name: &'static str,
    pub dataset: &'static str,
    pub fields: &'static [&'static str],
}

/// The catalog's `data:` sources that the city's registers hold. The others (death, education,
/// housing records …) are not yet in the registers: those materials are still retrieved by the
/// department by hand (`data_pending`).
pub const MATERIAL_SOURCES: &[MaterialSource] = &[
    MaterialSource {
        name: "enterprise_registry",
        dataset: "market_entities",
        fields: &["name", "district", "industry_section", "founded", "size", "status"],
    },
    MaterialSource { name: "credit_info", dataset: "market_entities", fields: &["name", "credit_status"] },
    MaterialSource {
        name: "tax_payment_record",
        dataset: "tax",
        fields: &["revenue_last_year", "tax_paid_last_year"],
    },
    MaterialSource { name: "tax_clearance", dataset: "tax", fields: &["tax_paid_last_year"] },
    MaterialSource {
        name: "social_insurance_record",
        dataset: "social_insurance",
        fields: &["employees", "unemployment_insurance_paid_last_year"],
    },
    MaterialSource {
        name: "hukou_info",
        dataset: "population",
        fields: &["name", "household_district", "birth_date"],
    },
    MaterialSource { name: "marriage_info", dataset: "population", fields: &["name", "marital_status"] },
    MaterialSource { name: "birth_info", dataset: "population", fields: &["name", "birth_date", "children"] },
];

pub fn material_source(name: &str) -> Option<&'static MaterialSource> {
    MATERIAL_SOURCES.iter().find(|s| s.name == name)
}

/// Whose records a dataset holds.
pub fn subject_kind(d: &Dataset) -> SubjectKind {
    match d.register {
        super::domain::Register::Enterprises => SubjectKind::Enterprise,
        super::domain::Register::People => SubjectKind::Person,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn items(code: &str) -> Option<String> {
        match code {
            "JN-SPJ-0003" => Some("JN-SPJ".into()),
            "JN-SCJ-0001" => Some("JN-SCJ".into()),
            _ => None,
        }
    }

    fn ask() -> NewRequest {
        NewRequest {
            dataset: "tax".into(),
            fields: vec![
                "revenue_last_year".into(),
                "tax_paid_last_year".into(),
                "rd_expense_last_year".into(),
            ],
            purpose: "case_handling".into(),
            purpose_detail: "核验申请人纳税情况".into(),
            legal_basis: "《优化营商环境条例》第三十五条".into(),
            items: vec!["JN-SPJ-0003".into()],
            months: None,
        }
    }

    fn request() -> DataRequest {
        let c = check_new("JN-SPJ", &ask(), &items).unwrap();
        DataRequest {
            id: "r1".into(),
            requester: "JN-SPJ".into(),
            owner: c.owner,
            dataset: c.dataset,
            purpose: c.purpose,
            purpose_detail: c.purpose_detail,
            legal_basis: c.legal_basis,
            items: c.items,
            fields: c.fields,
            months: c.months,
            status: RequestStatus::Pending,
            requested_by: "u1".into(),
            requested_at: "2026-12-01T00:00:00Z".into(),
            due_on: day("2026-12-15"),
            decided_by: None,
            decided_at: None,
            expires_on: None,
            closed_by: None,
            closed_at: None,
            close_reason: None,
            version: 1,
        }
    }

    fn two_of_three(today: NaiveDate) -> DataRequest {
        decide(
            &request(),
            Side::Owner,
            &Step::Decide {
                verdicts: vec![
                    ("revenue_last_year".into(), true, None),
                    ("tax_paid_last_year".into(), true, None),
                    ("rd_expense_last_year".into(), false, Some("研发费用涉及商业秘密".into())),
                ],
                expires_on: None,
            },
            today,
        )
        .unwrap()
    }

    #[test]
    fn a_new_request_names_each_bad_field() {
        let c = check_new("JN-SPJ", &ask(), &items).unwrap();
        assert_eq!(c.owner, "JN-SWJ");
        assert_eq!(c.fields.len(), 3);
        let bad = NewRequest {
            dataset: "tax".into(),
            fields: vec![
                "uscc".into(),
                "colour".into(),
                "revenue_last_year".into(),
                "revenue_last_year".into(),
            ],
            purpose: "curiosity".into(),
            purpose_detail: " ".into(),
            legal_basis: "x".repeat(501),
            items: vec!["JN-SCJ-0001".into(), "NOPE".into()],
            months: Some(40),
        };
        let errors = check_new("JN-SPJ", &bad, &items).unwrap_err();
        let codes: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(
            codes,
            [
                ("fields", "unconditional"),
                ("fields", "unknown_field"),
                ("fields", "duplicate_field"),
                ("purpose", "unknown_purpose"),
                ("purpose_detail", "required"),
                ("legal_basis", "too_long"),
                ("items", "not_your_item"),
                ("items", "unknown_item"),
                ("months", "out_of_range"),
            ]
        );
        let own = NewRequest { dataset: "tax".into(), ..ask() };
        assert_eq!(check_new("JN-SWJ", &own, &items).unwrap_err()[0].code, "own_dataset");
        let secret =
            NewRequest { dataset: "population".into(), fields: vec!["minimum_living".into()], ..ask() };
        assert!(check_new("JN-SPJ", &secret, &items).unwrap_err().iter().any(|e| e.code == "not_shared"));
        let no_items = NewRequest { items: vec![], ..ask() };
        assert_eq!(check_new("JN-SPJ", &no_items, &items).unwrap_err()[0].field, "items");
    }

    #[test]
    fn the_owner_decides_field_by_field() {
        let today = day("2026-12-09");
        let r = two_of_three(today);
        assert_eq!(r.status, RequestStatus::Granted);
        assert_eq!(r.expires_on, Some(day("2027-12-09")));
        assert_eq!(r.version, 2);
        assert_eq!(r.fields[2].decision, FieldDecision::Refused);
        // Refusing needs a reason; every field needs a verdict; only the owner decides.
        let step =
            Step::Decide { verdicts: vec![("revenue_last_year".into(), false, None)], expires_on: None };
        let Err(StepRefusal::Invalid(errors)) = decide(&request(), Side::Owner, &step, today) else {
            panic!()
        };
        let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, ["reason_required", "undecided_field", "undecided_field"]);
        assert_eq!(decide(&request(), Side::Requester, &step, today), Err(StepRefusal::NotYours));
        // A decided request is not decided again; a grant can be revoked, then not again.
        let again = decide(&r, Side::Owner, &step, today);
        assert_eq!(again, Err(StepRefusal::State(RequestStatus::Granted)));
        let revoked = decide(&r, Side::Owner, &Step::Revoke { reason: "用途已结束".into() }, today).unwrap();
        assert_eq!(revoked.status, RequestStatus::Revoked);
        let twice = decide(&revoked, Side::Owner, &Step::Revoke { reason: "x".into() }, today);
        assert_eq!(twice, Err(StepRefusal::State(RequestStatus::Revoked)));
        // A grant cannot be longer than asked.
        let long = Step::Decide {
            verdicts: vec![
                ("revenue_last_year".into(), true, None),
                ("tax_paid_last_year".into(), true, None),
                ("rd_expense_last_year".into(), true, None),
            ],
            expires_on: Some(day("2028-01-01")),
        };
        assert!(matches!(decide(&request(), Side::Owner, &long, today), Err(StepRefusal::Invalid(_))));
        let none = Step::Decide {
            verdicts: r.fields.iter().map(|f| (f.field.clone(), false, Some("不符合".into()))).collect(),
            expires_on: None,
        };
        let refused = decide(&request(), Side::Owner, &none, today).unwrap();
        assert_eq!((refused.status, refused.expires_on), (RequestStatus::Refused, None));
        let withdrawn = decide(&request(), Side::Requester, &Step::Withdraw { reason: None }, today).unwrap();
        assert_eq!(withdrawn.status, RequestStatus::Withdrawn);
    }

    fn read<'a>(
        department: &'a str,
        names: &[&str],
        purpose: Purpose,
        item: Option<&'a str>,
        today: NaiveDate,
    ) -> ReadAsk<'a> {
        let d = dataset("tax").unwrap();
        let fields: Vec<&'static Field> =
            names.iter().map(|n| d.fields.iter().find(|f| f.name == *n).unwrap()).collect();
        ReadAsk { department, dataset: d, fields: Box::leak(fields.into_boxed_slice()), purpose, item, today }
    }

    #[test]
    fn reads_are_covered_by_live_grants_only() {
        let today = day("2026-12-09");
        let grant = two_of_three(today);
        let grants = vec![grant.clone()];
        let both = ["revenue_last_year", "tax_paid_last_year"];
        let ok =
            check_read(&read("JN-SPJ", &both, Purpose::CaseHandling, Some("JN-SPJ-0003"), today), &grants);
        assert_eq!(ok, Ok(vec!["r1".to_string()]));
        // The third field was refused.
        let third = check_read(
            &read(
                "JN-SPJ",
                &["revenue_last_year", "rd_expense_last_year"],
                Purpose::CaseHandling,
                None,
                today,
            ),
            &grants,
        );
        assert_eq!(third.unwrap_err().fields, [("rd_expense_last_year", "not_granted")]);
        // Another purpose, another item, another department, after expiry, after revocation.
        let refusal = |ask: ReadAsk<'_>, g: &[DataRequest]| check_read(&ask, g).unwrap_err().fields[0].1;
        assert_eq!(
            refusal(read("JN-SPJ", &both, Purpose::Statistics, None, today), &grants),
            "purpose_mismatch"
        );
        assert_eq!(
            refusal(read("JN-SPJ", &both, Purpose::CaseHandling, Some("JN-SPJ-0009"), today), &grants),
            "item_not_covered"
        );
        assert_eq!(
            refusal(read("JN-GAJ", &both, Purpose::CaseHandling, None, today), &grants),
            "not_granted"
        );
        assert_eq!(
            refusal(read("JN-SPJ", &both, Purpose::CaseHandling, None, day("2027-12-10")), &grants),
            "grant_expired"
        );
        // Still good on its last day.
        assert!(
            check_read(&read("JN-SPJ", &both, Purpose::CaseHandling, None, day("2027-12-09")), &grants)
                .is_ok()
        );
        let revoked =
            decide(&grant, Side::Owner, &Step::Revoke { reason: "到期前收回".into() }, today).unwrap();
        assert_eq!(
            refusal(
                read("JN-SPJ", &both, Purpose::CaseHandling, None, today),
                std::slice::from_ref(&revoked)
            ),
            "grant_revoked"
        );
        // A live grant for another purpose does not hide that this purpose's grant was revoked.
        let other_purpose = DataRequest { id: "r2".into(), purpose: Purpose::PolicyBenefit, ..grant.clone() };
        assert_eq!(
            refusal(
                read("JN-SPJ", &both, Purpose::CaseHandling, None, today),
                &[other_purpose.clone(), revoked]
            ),
            "grant_revoked"
        );
        assert_eq!(
            refusal(read("JN-SPJ", &both, Purpose::CaseHandling, None, today), &[other_purpose]),
            "purpose_mismatch"
        );
        // The owner reads its own data; nobody reads what is not shared.
        assert!(check_read(&read("JN-SWJ", &both, Purpose::Statistics, None, today), &[]).is_ok());
        let pop = dataset("population").unwrap();
        let secret: Vec<&'static Field> = pop.fields.iter().filter(|f| f.name == "minimum_living").collect();
        let ask = ReadAsk {
            department: "JN-SPJ",
            dataset: pop,
            fields: &secret,
            purpose: Purpose::CaseHandling,
            item: None,
            today,
        };
        assert_eq!(check_read(&ask, &[]).unwrap_err().fields, [("minimum_living", "not_shared")]);
    }

    #[test]
    fn material_sources_name_real_fields() {
        for s in MATERIAL_SOURCES {
            let d = dataset(s.dataset).unwrap();
            for f in s.fields {
                let field = d.fields.iter().find(|x| x.name == *f);
                assert!(field.is_some_and(|x| x.sharing != Sharing::NotShared), "{} {f}", s.name);
            }
        }
    }
}
