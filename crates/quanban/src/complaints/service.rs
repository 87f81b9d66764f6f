//! Complaint intake, routing, the departments' and operators' actions, the callback, the three
//! rates, duplicates and 未诉先办 clusters.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::domain::{
    self, CallType, Card, Classifier, ClusterRules, DeadlineRules, DuplicateCandidate, ProposedRoute,
    Suggestion, Taxonomy, ThreeRates,
};
use super::store::{self, Complaint, Event, Filter, NewComplaint, ProactiveTask, Save};
use crate::app::AppState;
use crate::http::{ApiError, ApiResult, Caller, FieldError};
use crate::identity::authz::{Action, Actor, Decision, Resource, decide};
use crate::store::{Db, StoreError, time_text};

/// The taxonomy and the classifier trained on it, shared by the handlers and retrained as
/// routing history grows.
#[derive(Default)]
pub struct Model {
    taxonomy: RwLock<Arc<Taxonomy>>,
    /// `None` until first trained: training takes most of a restart's time (jieba's dictionary
    /// and every example segmented), so the server trains right after it is ready, and a
    /// complaint that arrives first trains it itself.
    classifier: RwLock<Option<Arc<Classifier>>>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "complaints::Model({} categories)", self.taxonomy().categories.len())
    }
}

/// The shipped taxonomy (loaded into the database on first start; edited there afterwards).
pub const DEFAULT_TAXONOMY: &str = include_str!("../../../../reference/complaint_categories.json");

pub fn default_taxonomy() -> anyhow::Result<Taxonomy> {
    Ok(serde_json::from_str(DEFAULT_TAXONOMY)?)
}

impl Model {
    /// Seeds the taxonomy on a fresh database and reads it; the classifier is trained by
    /// [`Model::retrain`] or on first use ([`Model::classifier`]).
    pub async fn load(db: &Db) -> anyhow::Result<Model> {
        store::seed_taxonomy(db, default_taxonomy()?).await?;
        let model = Model::default();
        *model.taxonomy.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(store::taxonomy(db).await?);
        Ok(model)
    }

    /// Reloads the taxonomy and retrains from it, the duties and up to 20,000 past routings.
    pub async fn retrain(&self, db: &Db) -> anyhow::Result<()> {
        let taxonomy = store::taxonomy(db).await?;
        let duties = store::duties(db).await?;
        // A taxonomy stored before categories had examples learns from the shipped ones (by code).
        let mut seeded = taxonomy.clone();
        let shipped = default_taxonomy()?;
        for c in seeded.categories.iter_mut().filter(|c| c.examples.is_empty()) {
            if let Some(s) = shipped.category(&c.code) {
                c.examples = s.examples.clone();
            }
        }
        let mut examples = domain::seed_examples(&seeded, &duties);
        examples.extend(store::routing_history(db, 20_000).await?);
        let codes: Vec<String> = taxonomy.categories.iter().map(|c| c.code.clone()).collect();
        // Segmenting every example is CPU work: off the async workers.
        let classifier = tokio::task::spawn_blocking(move || Classifier::train(&codes, &examples)).await?;
        *self.taxonomy.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(taxonomy);
        *self.classifier.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(classifier));
        Ok(())
    }

    pub fn taxonomy(&self) -> Arc<Taxonomy> {
        self.taxonomy.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The trained classifier, training it first if nothing has yet.
    pub async fn classifier(&self, db: &Db) -> anyhow::Result<Arc<Classifier>> {
        if let Some(c) = self.trained() {
            return Ok(c);
        }
        self.retrain(db).await?;
        self.trained().ok_or_else(|| anyhow::anyhow!("the complaint classifier is not trained"))
    }

    fn trained(&self) -> Option<Arc<Classifier>> {
        self.classifier.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Below this probability the classifier's choice is left for an operator to confirm.
pub const MIN_CONFIDENCE: f64 = 0.3;

/// Operators dispatch, approve extensions, merge and call back (decided in `authz`).
pub fn is_operator(actor: &Actor) -> bool {
    decide(actor, Action::Dispatch, &Resource::ComplaintDesk) == Decision::Allow
}

/// Who sees the whole desk: operators, and supervisors (who change nothing).
pub fn sees_desk(actor: &Actor) -> bool {
    decide(actor, Action::Read, &Resource::ComplaintDesk) == Decision::Allow
}

/// A complaint as `authz` sees it.
fn resource(c: &Complaint) -> Resource {
    Resource::Complaint {
        department: c.department.clone(),
        complainant: c.complainant_id.clone(),
        returned_by: c.returned_by.clone(),
    }
}

pub fn rules() -> DeadlineRules {
    DeadlineRules::default()
}

pub fn cluster_rules(state: &AppState) -> ClusterRules {
    ClusterRules {
        radius_m: f64::from(state.config.cluster_radius_m.max(10)),
        days: state.config.cluster_days.max(1),
        min_size: state.config.cluster_min.max(2) as usize,
    }
}

/// The district a point lies in: that of the nearest district, street or community hall.
pub fn district_at(state: &AppState, lat: f64, lon: f64) -> Option<String> {
    state
        .halls
        .directory
        .nearest(lat, lon, 1, |h| h.hall.level != "city")
        .first()
        .map(|(h, _)| h.hall.district.clone())
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

/// A complaint with what people need to read it: names, the card and the current deadline.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ComplaintView {
    #[serde(flatten)]
    pub complaint: Complaint,
    pub category_name: Option<String>,
    pub category_name_en: Option<String>,
    pub department_name: Option<String>,
    /// `none`, `yellow` or `red` (督办黄牌 / 红牌).
    pub card: Card,
    /// The deadline now running (response, then resolution), if any.
    pub due: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
}

impl ComplaintView {
    pub fn status_text(&self, t: &crate::web::i18n::Tr) -> &'static str {
        let (zh, en) = status_label(&self.complaint.status);
        t.pick(zh, en)
    }

    /// The hotline call's type (咨询, 投诉 …), when the operator recorded one.
    pub fn call_type_text(&self, t: &crate::web::i18n::Tr) -> Option<&'static str> {
        let c = CallType::parse(self.complaint.call_type.as_deref()?)?;
        Some(t.pick(c.label_zh(), c.label_en()))
    }

    /// The deadline now running, as Beijing time `MM-DD HH:MM`.
    pub fn due_text(&self) -> String {
        self.due
            .as_deref()
            .and_then(parse_time)
            .map(|d| crate::platform::clock::beijing_local(d).format("%m-%d %H:%M").to_string())
            .unwrap_or_default()
    }

    pub fn card_text(&self, t: &crate::web::i18n::Tr) -> &'static str {
        match self.card {
            Card::None => t.pick("正常", "On time"),
            Card::Yellow => t.pick("黄牌：临近时限", "Yellow card: due soon"),
            Card::Red => t.pick("红牌：已超时", "Red card: overdue"),
        }
    }

    pub fn card_class(&self) -> &'static str {
        match self.card {
            Card::None => "green",
            Card::Yellow => "yellow",
            Card::Red => "red",
        }
    }
}

pub async fn department_names(db: &Db) -> ApiResult<HashMap<String, String>> {
    Ok(crate::platform::directory::department_names(db).await?.into_iter().collect())
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.with_timezone(&Utc))
}

pub fn view(
    state: &AppState,
    cal: &crate::calendar::domain::Calendar,
    names: &HashMap<String, String>,
    mut c: Complaint,
    now: DateTime<Utc>,
) -> ComplaintView {
    c.complainant_phone =
        c.complainant_phone.as_deref().and_then(|p| state.vault.open(p, "complaints.complainant_phone").ok());
    let taxonomy = state.complaints.taxonomy();
    let category = c.category.as_deref().and_then(|code| taxonomy.category(code));
    let urgent = category.is_some_and(|x| x.resolve_hours.is_some());
    let card = domain::card_now(&c, urgent, cal, now);
    let running = domain::running_deadline(&c).map(|(_, due)| due.to_string());
    ComplaintView {
        category_name: category.map(|x| x.name.clone()),
        category_name_en: category.map(|x| x.name_en.clone()),
        department_name: c.department.as_ref().and_then(|d| names.get(d).cloned()),
        card,
        due: running,
        events: Vec::new(),
        complaint: c,
    }
}

// ---------------------------------------------------------------------------------------------
// Intake
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct IntakeRequest {
    /// What happened, in the complainant's words (required, at most 4000 characters).
    pub description: String,
    /// A category code; chosen by the classifier when left out.
    pub category: Option<String>,
    /// Operators only: send to this department (overrides the rules).
    pub department: Option<String>,
    /// A text address (地址).
    pub address: Option<String>,
    /// WGS84 coordinates, both or neither, inside the city.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Upload hashes from `POST /api/v1/uploads` (at most 6 photos).
    pub photos: Vec<String>,
    /// The complainant agrees to publish the complaint on the open feed (Open311), with their
    /// name, phone and ID numbers removed. Off unless asked for; hotline calls only when the
    /// caller agrees.
    pub public: bool,
    /// Hotline and Open311: the caller's name and phone.
    pub name: Option<String>,
    pub phone: Option<String>,
    /// `web` (default) or `app` for citizens.
    pub channel: Option<String>,
    /// Open311: a photo elsewhere (http or https).
    #[serde(skip)]
    pub media_url: Option<String>,
    /// Operators: the kind of call (`enquiry`, `complaint`, `help`, `suggestion`, `praise`).
    pub call_type: Option<String>,
    /// The district (区县) the problem is in, when the caller says so; otherwise found from the
    /// place or the address.
    pub district: Option<String>,
    /// Operators, enquiries only: answered on the call (with `answer`) and closed, not
    /// dispatched (a `department` given with it is not used).
    pub answered_directly: bool,
    /// The answer given on the call.
    pub answer: Option<String>,
    /// The same key files one complaint however often it is sent (a refreshed page, a second
    /// click, a retry after a timeout); at most 100 letters, digits, `-` or `_`.
    pub idempotency_key: Option<String>,
}

/// Who a complaint comes from.
pub enum Source<'a> {
    Caller(&'a Caller),
    Open311 { client: String },
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Intake {
    pub complaint: ComplaintView,
    /// The classifier's top suggestions (for the operator to override).
    pub suggestions: Vec<Suggestion>,
    /// Open complaints that look like the same problem (can be merged).
    pub possible_duplicates: Vec<DuplicateCandidate>,
    /// The idempotency key had filed this complaint already: nothing new was filed.
    pub replayed: bool,
}

/// What an intake request says once checked: every field valid, the place's district found and
/// the classifier's suggestions read. Nothing is stored yet.
struct Checked {
    source_name: &'static str,
    actor_id: String,
    actor_name: String,
    complainant_id: Option<String>,
    description: String,
    point: Option<(f64, f64)>,
    address: Option<String>,
    category: Option<String>,
    department: Option<String>,
    district: Option<String>,
    phone: Option<String>,
    call_type: Option<CallType>,
    /// The operator answered the enquiry on the call: the answer given.
    answered: Option<String>,
    suggestions: Vec<Suggestion>,
    names: HashMap<String, String>,
}

async fn check_intake(state: &AppState, source: &Source<'_>, req: &IntakeRequest) -> ApiResult<Checked> {
    let taxonomy = state.complaints.taxonomy();
    let (source_name, actor_id, actor_name, complainant_id, operator) = match source {
        Source::Caller(caller) => {
            let user = caller.require_user()?.to_string();
            let name = caller.name.clone().unwrap_or_default();
            match &caller.actor {
                Actor::Person { .. } => {
                    let channel = match req.channel.as_deref().unwrap_or("web") {
                        "app" => "app",
                        "web" | "" => "web",
                        other => {
                            return Err(ApiError::invalid(
                                "channel",
                                "unknown_channel",
                                format!("渠道“{other}”无效，应为 web 或 app"),
                                format!("Unknown channel {other}: use web or app"),
                            ));
                        }
                    };
                    (channel, user.clone(), name, Some(user), false)
                }
                a if is_operator(a) => ("hotline", user, name, None, true),
                _ => return Err(ApiError::Forbidden),
            }
        }
        Source::Open311 { client } => ("open311", format!("open311:{client}"), client.clone(), None, false),
    };
    let mut errors = Vec::new();
    let description = req.description.trim().to_string();
    if description.is_empty() {
        errors.push(FieldError::new(
            "description",
            "required",
            "请描述您反映的问题",
            "Describe the problem (description is required)",
        ));
    } else if description.chars().count() > 4000 {
        errors.push(FieldError::new(
            "description",
            "too_long",
            "问题描述不能超过4000字",
            "The description must be at most 4000 characters",
        ));
    }
    let point = match (req.lat, req.lon) {
        (None, None) => None,
        (Some(lat), Some(lon)) if domain::inside_city(lat, lon) => Some((lat, lon)),
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(
                "lat",
                "outside_city",
                "位置不在济南市范围内，请在地图上重新选择或填写地址",
                "The location is outside Jinan; pick it again on the map or give an address",
            ));
            None
        }
        (Some(_), None) | (None, Some(_)) => {
            let missing = if req.lat.is_none() { "lat" } else { "lon" };
            errors.push(FieldError::new(
                missing,
                "required",
                "经纬度须同时提供",
                "Give both latitude and longitude, or neither",
            ));
            None
        }
    };
    let address = req
        .address
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| a.chars().take(300).collect::<String>());
    let category = req.category.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
    if let Some(code) = &category
        && taxonomy.category(code).is_none()
    {
        errors.push(FieldError::new(
            "category",
            "unknown_category",
            format!("诉求分类“{code}”不存在"),
            format!("No complaint category {code}"),
        ));
    }
    let department = req.department.as_deref().map(str::trim).filter(|d| !d.is_empty()).map(str::to_string);
    let names = department_names(&state.db).await?;
    if let Some(d) = &department {
        if !operator {
            errors.push(FieldError::new(
                "department",
                "not_allowed",
                "只有12345话务员可以直接指定承办部门",
                "Only hotline operators choose the department directly",
            ));
        } else if !names.contains_key(d) {
            errors.push(FieldError::new(
                "department",
                "unknown_department",
                format!("部门“{d}”不存在"),
                format!("No department {d}"),
            ));
        }
    }
    if req.photos.len() > 6 {
        errors.push(FieldError::new("photos", "too_many", "最多上传6张照片", "At most 6 photos"));
    }
    for (i, p) in req.photos.iter().enumerate() {
        let known = crate::platform::uploads::upload_meta(&state.db, p).await?;
        if !known.is_some_and(|(_, t)| t.starts_with("image/")) {
            errors.push(FieldError::new(
                &format!("photos[{i}]"),
                "unknown_photo",
                "照片不存在或不是图片，请重新上传",
                "The photo was not uploaded or is not an image; upload it again",
            ));
        }
    }
    let phone = req.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_string);
    if let Some(p) = &phone
        && !(p.len() >= 7 && p.len() <= 20 && p.chars().all(|c| c.is_ascii_digit() || c == '-' || c == '+'))
    {
        errors.push(FieldError::new(
            "phone",
            "invalid_phone",
            "电话号码格式不正确",
            "The phone number is not valid",
        ));
    }
    let call_type = match req.call_type.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(_) if !operator => {
            errors.push(FieldError::new(
                "call_type",
                "not_allowed",
                "来电类型由12345话务员填写",
                "Only hotline operators record the call type",
            ));
            None
        }
        Some(c) => match CallType::parse(c) {
            Some(t) => Some(t),
            None => {
                errors.push(FieldError::new(
                    "call_type",
                    "unknown_call_type",
                    format!("来电类型“{c}”无效，应为咨询、投诉、求助、建议或表扬"),
                    format!("Unknown call type {c}: use enquiry, complaint, help, suggestion or praise"),
                ));
                None
            }
        },
    };
    let chosen_district = req.district.as_deref().map(str::trim).filter(|d| !d.is_empty());
    if let Some(d) = chosen_district
        && !domain::DISTRICTS.contains(&d)
    {
        errors.push(FieldError::new(
            "district",
            "unknown_district",
            format!("“{d}”不是济南市的区县"),
            format!("{d} is not a district of Jinan"),
        ));
    }
    let answer = req.answer.as_deref().map(str::trim).filter(|a| !a.is_empty()).map(str::to_string);
    let answered = if req.answered_directly {
        if !operator {
            errors.push(FieldError::new(
                "answered_directly",
                "not_allowed",
                "只有12345话务员可以直接答复办结",
                "Only hotline operators answer a call directly",
            ));
        } else if !call_type.is_some_and(CallType::may_be_answered_directly) {
            errors.push(FieldError::new(
                "answered_directly",
                "not_an_enquiry",
                "只有咨询类来电可以直接答复办结，其他来电须派单",
                "Only an enquiry can be answered on the call; other calls are dispatched",
            ));
        } else if answer.is_none() {
            errors.push(FieldError::new(
                "answer",
                "required",
                "请填写答复来电人的内容",
                "Write the answer given to the caller",
            ));
        }
        answer.filter(|a| a.chars().count() <= 2000).or_else(|| {
            if operator && call_type.is_some_and(CallType::may_be_answered_directly) && req.answer.is_some() {
                errors.push(FieldError::new(
                    "answer",
                    "too_long",
                    "答复不能超过2000字",
                    "The answer is at most 2000 characters",
                ));
            }
            None
        })
    } else {
        None
    };
    if let Some(key) = &req.idempotency_key
        && (key.is_empty()
            || key.len() > 100
            || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        errors.push(FieldError::new(
            "idempotency_key",
            "invalid",
            "幂等键须为1至100个字母、数字、连字符或下划线",
            "The idempotency key is 1 to 100 letters, digits, hyphens or underscores",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let district = chosen_district.map(str::to_string).or_else(|| {
        point
            .and_then(|(lat, lon)| district_at(state, lat, lon))
            .or_else(|| address.as_deref().and_then(domain::district_in_text).map(str::to_string))
    });
    let suggestions: Vec<Suggestion> =
        state.complaints.classifier(&state.db).await?.classify(&description).into_iter().take(3).collect();
    Ok(Checked {
        source_name,
        actor_id,
        actor_name,
        complainant_id,
        description,
        point,
        address,
        category,
        department,
        district,
        phone,
        call_type,
        answered,
        suggestions,
        names,
    })
}

/// What the desk proposes for a call before anything is filed: the classifier's categories
/// with their departments at the caller's district, for the operator to confirm or change.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Proposal {
    /// The district the routing used (chosen by the operator, or found from the place).
    pub district: Option<String>,
    /// Best first; the first is preselected on the desk.
    pub routes: Vec<ProposedRoute>,
}

/// Checks a call as [`intake`] would and proposes its routing; stores nothing. Operators only.
pub async fn propose(state: &AppState, caller: &Caller, req: &IntakeRequest) -> ApiResult<Proposal> {
    caller.require_user()?;
    if !is_operator(&caller.actor) {
        return Err(ApiError::Forbidden);
    }
    let checked = check_intake(state, &Source::Caller(caller), req).await?;
    let taxonomy = state.complaints.taxonomy();
    let routes =
        domain::propose_routes(&taxonomy, &checked.suggestions, checked.district.as_deref(), MIN_CONFIDENCE);
    Ok(Proposal { district: checked.district, routes })
}

pub async fn intake(state: &AppState, source: Source<'_>, req: IntakeRequest) -> ApiResult<Intake> {
    let key = req.idempotency_key.as_ref().map(|k| idempotency_scope(&source, k));
    // A key already used answers the complaint it filed, before anything else is checked.
    if let Some(key) = &key
        && let Some(filed) = store::by_idempotency_key(&state.db, key).await?
    {
        return replay(state, filed).await;
    }
    let Checked {
        source_name,
        actor_id,
        actor_name,
        complainant_id,
        description,
        point,
        address,
        category,
        department,
        district,
        phone,
        call_type,
        answered,
        suggestions,
        names,
    } = check_intake(state, &source, &req).await?;
    let taxonomy = state.complaints.taxonomy();
    let (category, routed_by, confidence) = match (category, department.is_some()) {
        (Some(c), true) => (Some(c), "operator", None),
        (Some(c), false) => (Some(c), "rule", None),
        (None, _) => match suggestions.first() {
            Some(s) => (
                Some(s.category.clone()),
                if department.is_some() { "operator" } else { "classifier" },
                Some(s.probability),
            ),
            None => (None, if department.is_some() { "operator" } else { "classifier" }, None),
        },
    };
    // An enquiry answered on the call goes to no department.
    let target = department.clone().filter(|_| answered.is_none()).or_else(|| {
        if answered.is_some() {
            return None;
        }
        let confident = routed_by == "rule" || confidence.is_some_and(|p| p >= MIN_CONFIDENCE);
        if confident {
            category.as_deref().and_then(|c| taxonomy.department_for(c, district.as_deref()))
        } else {
            None
        }
    });
    let now = state.clock().now();
    let cal = state.calendar().await;
    let (respond_due, resolve_due) =
        domain::deadlines(&rules(), &cal, category.as_deref().and_then(|c| taxonomy.category(c)), now);
    let status = match (&answered, &target) {
        (Some(_), _) => "closed",
        (None, Some(_)) => "dispatched",
        (None, None) => "pending",
    };
    let complainant_name = match &source {
        Source::Caller(c) if matches!(c.actor, Actor::Person { .. }) => c.name.clone(),
        _ => {
            req.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(|n| n.chars().take(50).collect())
        }
    };
    let complainant_phone = match &source {
        Source::Caller(c) if matches!(c.actor, Actor::Person { .. }) && phone.is_none() => {
            let user = c.require_user()?;
            crate::identity::store::phone_of(&state.db, &state.vault, user).await?
        }
        _ => phone,
    };
    let now_s = time_text(now);
    let caller_digest = complainant_phone.as_deref().map(|p| phone_digest(state, p));
    let mut events = vec![(
        actor_name.clone(),
        "received".to_string(),
        None,
        Some(format!("{}受理 / received by {source_name}", source_label(source_name))),
    )];
    match &target {
        _ if answered.is_some() => events.push((
            actor_name.clone(),
            "answered_directly".into(),
            None,
            Some("话务员当场答复，咨询办结 / answered on the call; the enquiry is closed".into()),
        )),
        Some(d) => events.push((
            "系统 System".into(),
            "dispatched".into(),
            Some(d.clone()),
            Some(match routed_by {
                "operator" => "话务员指定 / chosen by the operator".to_string(),
                "rule" => "按分类规则派单 / by the category rule".to_string(),
                _ => format!(
                    "智能分类派单（置信度 {:.0}%） / by the classifier ({:.0}% confident)",
                    confidence.unwrap_or(0.0) * 100.0,
                    confidence.unwrap_or(0.0) * 100.0
                ),
            }),
        )),
        None => events.push((
            "系统 System".into(),
            "awaiting_dispatch".into(),
            None,
            Some("待话务员确认分类后派单 / awaiting the operator's dispatch".into()),
        )),
    }
    let complaint = Complaint {
        id: String::new(),
        source: source_name.to_string(),
        category,
        department: target,
        district,
        description,
        address,
        lat: point.map(|p| p.0),
        lon: point.map(|p| p.1),
        photos: req.media_url.iter().cloned().chain(req.photos.iter().cloned()).collect(),
        complainant_id,
        complainant_name,
        // Sealed at rest like every phone number (see platform::pii); opened in `view`.
        complainant_phone: complainant_phone.map(|p| state.vault.seal(&p, "complaints.complainant_phone")),
        open311_client: match &source {
            Source::Open311 { client } => Some(client.clone()),
            _ => None,
        },
        status: status.into(),
        routed_by: routed_by.into(),
        confidence: confidence.map(|p| (p * 1000.0).round() / 1000.0),
        returned_by: Vec::new(),
        dispatched_at: now_s.clone(),
        respond_due: time_text(respond_due),
        resolve_due: time_text(resolve_due),
        extension_days: 0,
        extension_request: None,
        extension_reason: None,
        responded_at: answered.as_ref().map(|_| now_s.clone()),
        responded_on_time: answered.as_ref().map(|_| true),
        resolved_at: answered.as_ref().map(|_| now_s.clone()),
        answer: answered.clone(),
        callback_at: None,
        callback_resolved: None,
        callback_satisfied: None,
        reopened: false,
        merged_into: None,
        proactive_task: None,
        created_at: now_s.clone(),
        updated_at: now_s,
        version: 1,
        public: req.public,
        public_id: domain::new_public_id(),
        call_type: call_type.map(|c| c.as_str().to_string()),
    };
    let day = crate::platform::clock::beijing_date(now).to_string();
    let new = NewComplaint {
        complaint,
        events,
        actor: actor_id,
        day,
        phone_digest: caller_digest,
        idempotency_key: key.clone(),
    };
    let stored = match store::create(&state.db, new).await {
        Ok(c) => c,
        // The same key sent again at the same moment from another process: answer its complaint.
        Err(StoreError::Duplicate("idempotency_key")) if key.is_some() => {
            let filed = store::by_idempotency_key(&state.db, key.as_deref().unwrap_or_default())
                .await?
                .ok_or(StoreError::Conflict)?;
            return replay(state, filed).await;
        }
        Err(e) => return Err(e.into()),
    };
    let possible_duplicates = duplicates_of(state, &stored).await?;
    Ok(Intake {
        complaint: view(state, &cal, &names, stored, now),
        suggestions,
        possible_duplicates,
        replayed: false,
    })
}

/// An idempotency key is the filer's own: two operators (or a citizen and Open311) using the
/// same string file two complaints.
fn idempotency_scope(source: &Source<'_>, key: &str) -> String {
    match source {
        Source::Caller(c) => format!("user:{}:{key}", c.user_id.as_deref().unwrap_or_default()),
        Source::Open311 { client } => format!("open311:{client}:{key}"),
    }
}

/// The answer to a repeated sending: the complaint the key filed, as it stands now.
async fn replay(state: &AppState, filed: Complaint) -> ApiResult<Intake> {
    let cal = state.calendar().await;
    let names = department_names(&state.db).await?;
    let possible_duplicates = duplicates_of(state, &filed).await?;
    let complaint = view(state, &cal, &names, filed, state.clock().now());
    Ok(Intake { complaint, suggestions: Vec::new(), possible_duplicates, replayed: true })
}

/// A complaint just filed, as the desk shows it after the redirect: readable by the caller (or
/// 404), with the open complaints that look like the same problem.
pub async fn filed(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Intake> {
    let shown = readable(state, caller, id).await?;
    let possible_duplicates = duplicates_of(state, &shown.complaint).await?;
    Ok(Intake { complaint: shown, suggestions: Vec::new(), possible_duplicates, replayed: false })
}

/// The keyed digest under which a caller's number is found (the number itself is sealed).
pub fn phone_digest(state: &AppState, phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    state.vault.digest("complaint_phone", &digits)
}

/// A caller's complaints, newest first, by their number: operators and supervisors only (the
/// desk), the way one finds a caller who rings again.
pub async fn by_caller_phone(
    state: &AppState,
    caller: &Caller,
    phone: &str,
) -> ApiResult<Vec<ComplaintView>> {
    caller.require_user()?;
    if !sees_desk(&caller.actor) {
        return Err(ApiError::Forbidden);
    }
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 7 || digits.len() > 20 {
        return Err(ApiError::invalid(
            "phone",
            "invalid_phone",
            "请输入完整的来电号码（7至20位数字）",
            "Give the caller's whole number (7 to 20 digits)",
        ));
    }
    let found = store::by_phone_digest(&state.db, &phone_digest(state, &digits), 50).await?;
    let cal = state.calendar().await;
    let names = department_names(&state.db).await?;
    let now = state.clock().now();
    Ok(found.into_iter().map(|c| view(state, &cal, &names, c, now)).collect())
}

/// Digests the callers' numbers stored before digests existed (start-up; idempotent, and cheap
/// once done: a partial index holds exactly the rows left).
pub async fn digest_old_phones(db: &crate::store::Db) -> crate::store::StoreResult<u64> {
    let vault = db.vault()?.clone();
    let rows = store::phones_not_digested(db).await?;
    let mut digests = Vec::with_capacity(rows.len());
    for (id, stored) in rows {
        let clear = if crate::platform::pii::is_sealed(&stored) {
            match vault.open(&stored, "complaints.complainant_phone") {
                Ok(p) => p,
                Err(_) => continue,
            }
        } else {
            stored
        };
        let digits: String = clear.chars().filter(char::is_ascii_digit).collect();
        digests.push((id, vault.digest("complaint_phone", &digits)));
    }
    store::set_phone_digests(db, digests).await
}

fn source_label(source: &str) -> &'static str {
    match source {
        "hotline" => "12345热线",
        "app" => "手机App",
        "open311" => "Open311接口",
        _ => "网站",
    }
}

async fn duplicates_of(state: &AppState, c: &Complaint) -> ApiResult<Vec<DuplicateCandidate>> {
    let since = time_text(state.clock().now() - chrono::Duration::days(30));
    // Anything within the radius (a box of ±0.01° ≈ 1 km), or, without a location, the same
    // category.
    let around = match (c.lat, c.lon, c.category.as_deref()) {
        (Some(lat), Some(lon), category) => store::Around::Near { category, lat, lon, degrees: 0.01 },
        (_, _, Some(category)) => store::Around::Category(category),
        _ => return Ok(Vec::new()),
    };
    let open = store::located_open(&state.db, &since, false, around).await?;
    let me = domain::Located {
        id: c.id.clone(),
        category: c.category.clone(),
        description: c.description.clone(),
        lat: c.lat,
        lon: c.lon,
        created_at: state.clock().now(),
    };
    Ok(domain::duplicates(&me, &open, f64::from(state.config.cluster_radius_m.max(10))))
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// The complaint if the caller may see it: its complainant, the department it is with (or
/// that returned it), operators and supervisors.
pub async fn readable(state: &AppState, caller: &Caller, id: &str) -> ApiResult<ComplaintView> {
    caller.require_user()?;
    let c = store::get(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    if decide(&caller.actor, Action::Read, &resource(&c)) != Decision::Allow {
        return Err(ApiError::NotFound);
    }
    let cal = state.calendar().await;
    let names = department_names(&state.db).await?;
    let events = store::events(&state.db, id).await?;
    let mut v = view(state, &cal, &names, c, state.clock().now());
    v.events = events;
    Ok(v)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct ListQuery {
    /// Filter by status (comma-separated).
    pub status: Option<String>,
    pub category: Option<String>,
    /// Operators and supervisors: one department.
    pub department: Option<String>,
}

/// The caller's own complaints (people), the department's (staff), or all (operators).
pub async fn list(state: &AppState, caller: &Caller, q: &ListQuery) -> ApiResult<Vec<ComplaintView>> {
    let user = caller.require_user()?;
    let mut f = Filter {
        statuses: q
            .status
            .as_deref()
            .map(|s| s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect())
            .unwrap_or_default(),
        category: q.category.clone().filter(|c| !c.is_empty()),
        limit: 500,
        ..Filter::default()
    };
    match &caller.actor {
        Actor::Person { .. } => f.complainant = Some(user.to_string()),
        a if sees_desk(a) => f.department = q.department.clone().filter(|d| !d.is_empty()),
        Actor::Staff { department, .. } => f.department = Some(department.clone()),
        Actor::Anonymous => return Err(ApiError::Unauthenticated),
    }
    let rows = store::list(&state.db, &f).await?;
    let cal = state.calendar().await;
    let names = department_names(&state.db).await?;
    let now = state.clock().now();
    Ok(rows.into_iter().map(|c| view(state, &cal, &names, c, now)).collect())
}

// ---------------------------------------------------------------------------------------------
// Acting
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ActRequest {
    /// The version you saw (optional; a stale one answers 409).
    pub version: Option<i64>,
    /// `dispatch`: the department (and optionally a corrected category).
    pub department: Option<String>,
    pub category: Option<String>,
    /// `return`, `extend`, `dispatch`: why.
    pub reason: Option<String>,
    /// `respond`: an optional first note.
    pub note: Option<String>,
    /// `resolve`: the written answer to the complainant (办理结果).
    pub answer: Option<String>,
    /// `extend`: working days asked for (1–10 in all).
    pub days: Option<u32>,
    /// `decide_extension`: approve or not.
    pub approve: Option<bool>,
    /// `callback`: was it resolved, and is the complainant satisfied?
    pub resolved: Option<bool>,
    pub satisfied: Option<bool>,
    /// `merge`: the complaint this one duplicates.
    pub into: Option<String>,
}

fn text(v: &Option<String>, max: usize) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| s.chars().take(max).collect())
}

fn wrong_state(status: &str) -> ApiError {
    ApiError::StateConflict {
        code: "action_not_allowed_in_state",
        zh: format!("当前状态为“{}”，不能执行此操作", status_label(status).0),
        en: format!("It is {}; this is not possible now", status_label(status).1),
        state: status.to_string(),
    }
}

pub fn status_label(status: &str) -> (&'static str, &'static str) {
    domain::status_label(status)
}

/// One action on a complaint: `respond`, `resolve`, `return`, `extend` (the department);
/// `dispatch`, `decide_extension`, `merge` (operators); `callback` (operators, or the
/// complainant).
pub async fn act(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: &str,
    req: ActRequest,
) -> ApiResult<ComplaintView> {
    let user = caller.require_user()?.to_string();
    let before = readable(state, caller, id).await?.complaint;
    let Some(action) = domain::ComplaintAction::parse(action) else { return Err(ApiError::NotFound) };
    let actor_name = caller.name.clone().unwrap_or_else(|| user.clone());
    // Who may do what is decided once, in `authz`: the department handles (`Update` by staff),
    // the hotline coordinates (`Dispatch`), the complainant answers (`Update` by the person).
    let allows = |a| decide(&caller.actor, a, &resource(&before)) == Decision::Allow;
    let staff = matches!(caller.actor, Actor::Staff { .. });
    let who = domain::Capacities {
        department: staff && allows(Action::Update),
        operator: allows(Action::Dispatch),
        complainant: !staff && allows(Action::Update),
    };
    let input = domain::ActInput {
        department: text(&req.department, 50),
        category: text(&req.category, 100),
        reason: text(&req.reason, 1000),
        note: text(&req.note, 1000),
        answer: text(&req.answer, 4000),
        days: req.days,
        approve: req.approve,
        resolved: req.resolved,
        satisfied: req.satisfied,
        into: text(&req.into, 40),
    };
    // What the decision reads besides the complaint: names for a dispatch, the target of a merge.
    let names = match action {
        domain::ComplaintAction::Dispatch => department_names(&state.db).await?,
        _ => HashMap::new(),
    };
    let merge_target = match (&input.into, action) {
        (Some(into), domain::ComplaintAction::Merge) => store::get(&state.db, into).await?,
        _ => None,
    };
    let cal = state.calendar().await;
    let taxonomy = state.complaints.taxonomy();
    let ctx = domain::ActContext {
        now: state.clock().now(),
        cal: &cal,
        taxonomy: &taxonomy,
        rules: rules(),
        department_names: &names,
        merge_target: merge_target.as_ref(),
        actor_name: &actor_name,
    };
    let change = domain::decide(&before, action, who, &input, &ctx).map_err(|refusal| match refusal {
        domain::ActRefusal::Forbidden => ApiError::Forbidden,
        domain::ActRefusal::Invalid(e) => ApiError::Validation(vec![e]),
        domain::ActRefusal::State { code, zh, en, state } => ApiError::StateConflict { code, zh, en, state },
    })?;
    let domain::ActChange { complaint: c, note, event_department, also, tell_complainant } = change;
    // The complainant hears of the answer in the inbox.
    let notify = match (&c.complainant_id, tell_complainant) {
        (Some(user), true) => Some((
            user.clone(),
            crate::platform::notifications::Message {
                title_zh: format!("您的诉求 {} 已办理", c.id),
                title_en: format!("Your complaint {} has been answered", c.id),
                body_zh: format!(
                    "办理结果：{}。请在“我要反映”中确认是否解决、是否满意。",
                    c.answer.clone().unwrap_or_default()
                ),
                body_en: format!(
                    "Answer: {}. Please say under Report a problem whether it was resolved and whether you are satisfied.",
                    c.answer.clone().unwrap_or_default()
                ),
            },
        )),
        _ => None,
    };
    let saved = store::save(
        &state.db,
        Save {
            expected_version: req.version.unwrap_or(before.version),
            actor_id: user.clone(),
            event: (actor_name, action.as_str().to_string(), event_department, note),
            complaint: c,
            also,
            notify,
        },
    )
    .await;
    match saved {
        Ok(()) => {}
        // Someone else's change came first and ours was not written: 409 with the status they
        // left (one complaint dispatched twice, an answer racing a return).
        Err(StoreError::Conflict) => {
            let now = store::get(&state.db, id).await?.ok_or(ApiError::NotFound)?;
            return Err(ApiError::StateConflict {
                code: "version_conflict",
                zh: format!("诉求已被他人处理，当前状态为“{}”，请刷新后重试", now.status),
                en: format!(
                    "Someone else acted on the complaint first; it is now {}. Reload and try again",
                    now.status
                ),
                state: now.status,
            });
        }
        Err(e) => return Err(e.into()),
    }
    readable(state, caller, id).await
}

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DepartmentRates {
    pub department: String,
    pub department_name: String,
    #[serde(flatten)]
    pub rates: ThreeRates,
    pub open: usize,
    pub yellow_cards: usize,
    pub red_cards: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RatesReport {
    pub from: String,
    pub to: String,
    pub overall: ThreeRates,
    pub departments: Vec<DepartmentRates>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct PeriodQuery {
    /// First day (YYYY-MM-DD, Beijing time); default 30 days ago.
    pub from: Option<String>,
    /// Last day, inclusive; default today.
    pub to: Option<String>,
    /// `month` for 每月一题: YYYY-MM.
    pub month: Option<String>,
}

/// The period as UTC bounds of Beijing days.
pub fn period(
    q: &PeriodQuery,
    today: chrono::NaiveDate,
) -> ApiResult<(chrono::NaiveDate, chrono::NaiveDate)> {
    let from = match q.from.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => FieldError::parse_date("from", s).map_err(|e| ApiError::Validation(vec![e]))?,
        None => today - chrono::Duration::days(30),
    };
    let to = match q.to.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => FieldError::parse_date("to", s).map_err(|e| ApiError::Validation(vec![e]))?,
        None => today,
    };
    if to < from {
        return Err(ApiError::invalid(
            "to",
            "before_from",
            "结束日期不能早于开始日期",
            "to must not be before from",
        ));
    }
    Ok((from, to))
}

/// The stored time text of the start of a day in Beijing (periods of days are `[start, next start)`).
pub fn day_start_utc(d: chrono::NaiveDate) -> String {
    time_text(crate::platform::clock::start_of_beijing_day(d))
}

/// The three rates per department for complaints received in the period.
pub async fn rates(state: &AppState, q: &PeriodQuery) -> ApiResult<RatesReport> {
    let (from, to) = period(q, state.clock().today())?;
    let rows = store::list(
        &state.db,
        &Filter {
            since: Some(day_start_utc(from)),
            until: Some(day_start_utc(to + chrono::Duration::days(1))),
            limit: 5000,
            ..Filter::default()
        },
    )
    .await?;
    let names = department_names(&state.db).await?;
    let cal = state.calendar().await;
    let now = state.clock().now();
    let mut by: HashMap<String, Vec<Complaint>> = HashMap::new();
    for c in rows.iter().filter(|c| c.status != "merged") {
        if let Some(d) = &c.department {
            by.entry(d.clone()).or_default().push(c.clone());
        }
    }
    let input = |c: &Complaint| domain::RateInput {
        responded_on_time: c.responded_on_time == Some(true),
        called_back: c.callback_at.is_some(),
        resolved: c.callback_resolved == Some(true),
        satisfied: c.callback_satisfied == Some(true),
    };
    let overall = domain::three_rates(
        &rows
            .iter()
            .filter(|c| c.department.is_some() && c.status != "merged")
            .map(input)
            .collect::<Vec<_>>(),
    );
    let mut departments: Vec<DepartmentRates> = by
        .into_iter()
        .map(|(d, list)| {
            let cards: Vec<Card> =
                list.iter().map(|c| view(state, &cal, &names, c.clone(), now).card).collect();
            DepartmentRates {
                department_name: names.get(&d).cloned().unwrap_or_else(|| d.clone()),
                rates: domain::three_rates(&list.iter().map(input).collect::<Vec<_>>()),
                open: list.iter().filter(|c| matches!(c.status.as_str(), "dispatched" | "responded")).count(),
                yellow_cards: cards.iter().filter(|c| **c == Card::Yellow).count(),
                red_cards: cards.iter().filter(|c| **c == Card::Red).count(),
                department: d,
            }
        })
        .collect();
    departments
        .sort_by(|a, b| b.rates.complaints.cmp(&a.rates.complaints).then(a.department.cmp(&b.department)));
    Ok(RatesReport { from: from.to_string(), to: to.to_string(), overall, departments })
}

/// 每月一题: the month's most recurring problems (category and district), most frequent first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Topic {
    pub category: String,
    pub category_name: String,
    pub district: Option<String>,
    pub department: String,
    pub complaints: usize,
}

pub async fn monthly_topics(state: &AppState, month: Option<&str>) -> ApiResult<Vec<Topic>> {
    let first = match month.filter(|m| !m.is_empty()) {
        Some(m) => chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").map_err(|_| {
            ApiError::invalid("month", "invalid_month", "月份格式应为 YYYY-MM", "month must be YYYY-MM")
        })?,
        None => {
            let t = state.clock().today();
            chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&t), chrono::Datelike::month(&t), 1)
                .unwrap_or(t)
        }
    };
    let next = first.checked_add_months(chrono::Months::new(1)).unwrap_or(first);
    let rows = store::list(
        &state.db,
        &Filter {
            since: Some(day_start_utc(first)),
            until: Some(day_start_utc(next)),
            limit: 5000,
            ..Filter::default()
        },
    )
    .await?;
    let taxonomy = state.complaints.taxonomy();
    let mut counts: HashMap<(String, Option<String>), usize> = HashMap::new();
    for c in rows.iter().filter(|c| c.status != "merged") {
        if let Some(cat) = &c.category {
            *counts.entry((cat.clone(), c.district.clone())).or_default() += 1;
        }
    }
    let mut topics: Vec<Topic> = counts
        .into_iter()
        .map(|((cat, district), n)| Topic {
            category_name: taxonomy.category(&cat).map(|x| x.name.clone()).unwrap_or_else(|| cat.clone()),
            department: taxonomy.department_for(&cat, district.as_deref()).unwrap_or_default(),
            category: cat,
            district,
            complaints: n,
        })
        .collect();
    topics.sort_by(|a, b| b.complaints.cmp(&a.complaints).then(a.category.cmp(&b.category)));
    topics.truncate(10);
    Ok(topics)
}

/// 未诉先办: finds clusters and raises (or grows) a proactive task for each. Returns the tasks
/// raised or grown in this run.
pub async fn scan_clusters(state: &AppState) -> ApiResult<Vec<ProactiveTask>> {
    let rules = cluster_rules(state);
    let now = state.clock().now();
    let since = time_text(now - chrono::Duration::days(i64::from(rules.days)));
    let items = store::located_open(&state.db, &since, true, store::Around::Everywhere).await?;
    let found = domain::clusters(&items, &rules, now);
    let taxonomy = state.complaints.taxonomy();
    let found = found
        .into_iter()
        .map(|cluster| {
            let district = district_at(state, cluster.lat, cluster.lon);
            domain::FoundCluster {
                new_id: crate::platform::tokens::uuid_v4(),
                department: taxonomy
                    .department_for(&cluster.category, district.as_deref())
                    .unwrap_or_default(),
                district,
                cluster,
            }
        })
        .collect();
    let changed = store::apply_clusters(&state.db, found, rules.radius_m).await?;
    Ok(changed)
}

/// Proactive tasks the caller may see: a department's own, or all for operators and supervisors.
pub async fn tasks(state: &AppState, caller: &Caller) -> ApiResult<Vec<ProactiveTask>> {
    caller.require_user()?;
    match &caller.actor {
        a if sees_desk(a) => Ok(store::tasks(&state.db, None, false).await?),
        Actor::Staff { department, .. } => Ok(store::tasks(&state.db, Some(department), false).await?),
        _ => Err(ApiError::Forbidden),
    }
}

pub async fn finish_task(
    state: &AppState,
    caller: &Caller,
    id: &str,
    note: Option<String>,
    version: Option<i64>,
) -> ApiResult<ProactiveTask> {
    let user = caller.require_user()?.to_string();
    let t = store::task(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    crate::identity::api::require(decide(
        &caller.actor,
        Action::Update,
        &Resource::ProactiveTask { department: t.department.clone() },
    ))?;
    let Some(note) = text(&note, 2000) else {
        return Err(ApiError::invalid(
            "note",
            "required",
            "请说明主动治理的措施和结果",
            "Say what was done about it",
        ));
    };
    match store::finish_task(
        &state.db,
        id.to_string(),
        version.unwrap_or(t.version),
        note,
        format!("user:{user}"),
    )
    .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            let now = store::task(&state.db, id).await?.ok_or(ApiError::NotFound)?;
            return Err(wrong_state(&now.status));
        }
        Err(e) => return Err(e.into()),
    }
    store::task(&state.db, id).await?.ok_or(ApiError::NotFound)
}

/// Staff only (figures are internal until published).
pub fn require_staff(caller: &Caller) -> ApiResult<()> {
    match &caller.actor {
        Actor::Staff { .. } => Ok(()),
        Actor::Anonymous => Err(ApiError::Unauthenticated),
        Actor::Person { .. } => Err(ApiError::Forbidden),
    }
}

/// Replaces the taxonomy after checking it (system administrators).
pub async fn put_taxonomy(state: &AppState, caller: &Caller, t: Taxonomy) -> ApiResult<Taxonomy> {
    let user = caller.require_user()?.to_string();
    crate::identity::api::require(decide(&caller.actor, Action::Update, &Resource::System))?;
    let names = department_names(&state.db).await?;
    let mut errors = Vec::new();
    if t.categories.is_empty() {
        errors.push(FieldError::new(
            "categories",
            "required",
            "至少需要一个诉求分类",
            "At least one category is needed",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, c) in t.categories.iter().enumerate() {
        if c.code.trim().is_empty() || !seen.insert(c.code.clone()) {
            errors.push(FieldError::new(
                &format!("categories[{i}].code"),
                "invalid_code",
                "分类代码为空或重复",
                "The code is empty or repeated",
            ));
        }
        if c.name.trim().is_empty() {
            errors.push(FieldError::required(&format!("categories[{i}].name"), "分类名称", "name"));
        }
        if !names.contains_key(&c.department) {
            errors.push(FieldError::new(
                &format!("categories[{i}].department"),
                "unknown_department",
                format!("部门“{}”不存在", c.department),
                format!("No department {}", c.department),
            ));
        }
    }
    for (i, r) in t.district_rules.iter().enumerate() {
        if !seen.contains(&r.category) {
            errors.push(FieldError::new(
                &format!("district_rules[{i}].category"),
                "unknown_category",
                "规则引用的分类不存在",
                "The rule names an unknown category",
            ));
        }
        if !names.contains_key(&r.department) {
            errors.push(FieldError::new(
                &format!("district_rules[{i}].department"),
                "unknown_department",
                "规则引用的部门不存在",
                "The rule names an unknown department",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    store::put_taxonomy(&state.db, t, format!("user:{user}")).await?;
    state.complaints.retrain(&state.db).await?;
    Ok((*state.complaints.taxonomy()).clone())
}
