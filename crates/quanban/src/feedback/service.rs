//! Giving a rating (by account or by the one-tap link), the bad-review loop and the figures.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use subtle::ConstantTimeEq;

use super::domain::{self, Figures};
use super::store::{self, NewRating, Rating, Rectification};
use crate::app::AppState;
use crate::cases::domain::CaseState;
use crate::http::{ApiError, ApiResult, Caller, FieldError};
use crate::identity::authz::{Action, Actor, Area, Resource, decide};
use crate::store::StoreError;

/// The one-tap link for a case, valid for the rating window from today.
pub async fn rating_link(state: &AppState, case_number: &str) -> String {
    let cal = state.calendar().await;
    let until = cal.add_working_days(state.clock().today(), state.config.rating_window_days);
    format!(
        "{}/rate/{}",
        state.config.public_url.trim_end_matches('/'),
        domain::rating_token(&state.link_secret[..], case_number, until)
    )
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RateRequest {
    /// 一事一评: the finished case's number.
    pub case_number: Option<String>,
    /// 一次一评: the queue ticket of a hall visit.
    pub ticket_id: Option<String>,
    /// The ticket's rating code (`holder_secret`, given when the number was taken), unless the
    /// signed-in user took the number.
    pub ticket_secret: Option<String>,
    /// A closed complaint's number.
    pub complaint_id: Option<String>,
    /// 1 非常不满意 … 5 非常满意.
    #[schema(value_type = i64)]
    pub score: Value,
    /// Sub-indicators: `{"办事效率": 5, …}` or codes (`efficiency`, `guide_accuracy`,
    /// `convenience`, `usability`; in the hall `service_efficiency`, `service_level`,
    /// `service_attitude`), or a list of names.
    #[schema(value_type = Object)]
    pub indicators: Value,
    /// Required for a bad review (1–2): the reason.
    pub comment: Option<String>,
    /// `web`, `app`, `pad`, `kiosk`, `sms` or `hotline`.
    pub channel: Option<String>,
    /// Rate without your name (匿名): the department does not see who rated.
    pub anonymous: Option<bool>,
    /// The one-tap link's token (instead of signing in).
    pub token: Option<String>,
}

/// A rating as the rater sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RatingView {
    #[serde(flatten)]
    pub rating: Rating,
    pub level_zh: &'static str,
    pub level_en: &'static str,
    /// Bad reviews: where the rectification loop is.
    pub rectification: Option<Rectification>,
}

fn rating_view(rating: Rating, rectification: Option<Rectification>) -> RatingView {
    let (zh, en) = domain::level_label(rating.score);
    RatingView { rating, level_zh: zh, level_en: en, rectification }
}

/// What is being rated, resolved and checked.
struct Target {
    kind: &'static str,
    id: String,
    department: String,
    item_code: Option<String>,
    hall_code: Option<String>,
    officer_id: Option<String>,
    served_on: NaiveDate,
}

/// What rates nothing of one's own: the same answer whether the record exists or not, so that a
/// rating request cannot be used to find out which case numbers, tickets or complaints exist.
fn none_of_yours(field: &str, zh: &str, en: &str) -> ApiError {
    ApiError::invalid(
        field,
        "nothing_to_rate",
        format!("没有找到您可以评价的{zh}"),
        format!("No {en} of yours to rate"),
    )
}

fn date_of(text: &str, today: NaiveDate) -> NaiveDate {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|d| crate::platform::clock::beijing_date(d.with_timezone(&chrono::Utc)))
        .or_else(|_| NaiveDate::parse_from_str(text.get(..10).unwrap_or(text), "%Y-%m-%d"))
        .unwrap_or(today)
}

/// Gives a rating. By account (the case's applicant, the ticket's holder, the complainant) or
/// with the one-tap link's token for a case.
pub async fn rate(state: &AppState, caller: &Caller, req: RateRequest) -> ApiResult<RatingView> {
    let mut errors = Vec::new();
    let score = match req.score.as_i64() {
        Some(s) if (1..=5).contains(&s) => s,
        _ => {
            errors.push(FieldError::new(
                "score",
                "invalid_score",
                "评分应为1（非常不满意）至5（非常满意）的整数",
                "score must be a whole number from 1 (very dissatisfied) to 5 (very satisfied)",
            ));
            0
        }
    };
    let channel_default = if req.token.is_some() { "sms" } else { "web" };
    let channel =
        domain::parse_channel(req.channel.as_deref(), channel_default).map_err(|e| errors.push(e)).ok();
    let indicators = domain::parse_indicators(&req.indicators, score.max(1)).map_err(|e| errors.push(e)).ok();
    let comment = req
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| c.chars().take(1000).collect::<String>());
    if score > 0 && domain::is_bad(score) && comment.is_none() {
        errors.push(FieldError::new(
            "comment",
            "reason_required",
            "差评请写明原因，以便责任部门核实整改",
            "A bad review needs a reason so that the department can verify and put it right",
        ));
    }
    let objects = [req.case_number.is_some(), req.ticket_id.is_some(), req.complaint_id.is_some()]
        .iter()
        .filter(|x| **x)
        .count();
    if objects != 1 {
        errors.push(FieldError::new(
            "case_number",
            "required",
            "请指明评价对象：办件编号、排队号或诉求编号之一",
            "Say what you rate: one of case_number, ticket_id or complaint_id",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let today = state.clock().today();
    // Who rates: the signed-in user, or nobody (a token, a kiosk ticket).
    let mut rater = caller.user_id.clone();
    let target = if let Some(number) = req.case_number.as_deref().map(str::trim) {
        let not_found = || none_of_yours("case_number", "办件", "case");
        // Who asks is settled before looking the case up, so that the answer cannot tell.
        if req.token.is_none() {
            caller.require_user()?;
        }
        let case = crate::cases::store::get(&state.db, number).await?.ok_or_else(not_found)?;
        match req.token.as_deref() {
            Some(token) => match domain::check_token(&state.link_secret[..], token, today) {
                Ok(for_case) if for_case == case.number => rater = Some(case.applicant_id.clone()),
                Ok(_) | Err(domain::TokenError::Forged | domain::TokenError::Malformed) => {
                    return Err(ApiError::invalid(
                        "token",
                        "invalid_token",
                        "评价链接无效",
                        "The rating link is not valid",
                    ));
                }
                Err(domain::TokenError::Expired) => {
                    return Err(ApiError::invalid(
                        "token",
                        "rating_window_closed",
                        "评价链接已过期（办结后5个工作日内可评价）",
                        "The rating link has expired (ratings are possible for 5 working days)",
                    ));
                }
            },
            None => {
                let user = caller.require_user()?;
                if case.applicant_id != user {
                    return Err(not_found());
                }
            }
        }
        let finished = matches!(
            case.state,
            CaseState::Approved
                | CaseState::Rejected
                | CaseState::Closed
                | CaseState::Delivered
                | CaseState::NotAccepted
                | CaseState::Revoked
        );
        if !finished {
            return Err(ApiError::StateConflict {
                code: "case_not_finished",
                zh: format!("办件尚未办结（当前：{}），办结后才能评价", case.state.label_zh()),
                en: format!(
                    "The case is not finished yet ({}); rate it once it is",
                    case.state.label_en().to_lowercase()
                ),
                state: case.state.as_str().to_string(),
            });
        }
        Target {
            kind: "case",
            department: case.department.clone(),
            item_code: case.item_code.clone(),
            hall_code: None,
            officer_id: store::deciding_officer(&state.db, &case.number).await?,
            served_on: date_of(case.decided_at.as_deref().unwrap_or(&case.updated_at), state.clock().today()),
            id: case.number,
        }
    } else if let Some(ticket) = req.ticket_id.as_deref().map(str::trim) {
        let not_found = || none_of_yours("ticket_id", "排队号", "queue ticket");
        let t = store::ticket(&state.db, ticket).await?.ok_or_else(not_found)?;
        // The holder: signed in as whoever took the number, or with the slip's rating code.
        let signed_in_holder = t.user_id.is_some() && t.user_id == caller.user_id;
        let secret_matches = match (&t.holder_secret, req.ticket_secret.as_deref()) {
            (Some(digest), Some(given)) => {
                crate::platform::tokens::secret_digest(given).as_bytes().ct_eq(digest.as_bytes()).into()
            }
            _ => false,
        };
        if !(signed_in_holder || secret_matches) {
            return Err(not_found());
        }
        if t.status == "waiting" || t.called_by.is_none() {
            return Err(ApiError::StateConflict {
                code: "not_served_yet",
                zh: "尚未叫号办理，办理后才能评价".into(),
                en: "You have not been served yet; rate the visit afterwards".into(),
                state: t.status.clone(),
            });
        }
        Target {
            kind: "visit",
            id: ticket.to_string(),
            department: t.officer_department.clone().unwrap_or_default(),
            item_code: None,
            hall_code: Some(t.hall_code.clone()),
            officer_id: t.called_by.clone(),
            served_on: NaiveDate::parse_from_str(&t.day, "%Y-%m-%d").unwrap_or(today),
        }
    } else {
        let id = req.complaint_id.as_deref().map(str::trim).unwrap_or_default();
        let c = crate::complaints::store::get(&state.db, id)
            .await?
            .ok_or_else(|| none_of_yours("complaint_id", "诉求", "complaint"))?;
        let user = caller.require_user()?;
        if c.complainant_id.as_deref() != Some(user) {
            return Err(none_of_yours("complaint_id", "诉求", "complaint"));
        }
        if c.status != "closed" {
            return Err(ApiError::StateConflict {
                code: "complaint_not_closed",
                zh: "诉求尚未办结，办结后才能评价".into(),
                en: "The complaint is not closed yet".into(),
                state: c.status.clone(),
            });
        }
        Target {
            kind: "complaint",
            department: c.department.clone().unwrap_or_default(),
            item_code: None,
            hall_code: None,
            officer_id: None,
            served_on: date_of(c.resolved_at.as_deref().unwrap_or(&c.updated_at), state.clock().today()),
            id: c.id,
        }
    };
    let cal = state.calendar().await;
    let window = state.config.rating_window_days;
    if cal.working_days_between(target.served_on, today) > i64::from(window) {
        return Err(ApiError::invalid(
            "case_number",
            "rating_window_closed",
            format!("已超过评价期限（办结后{window}个工作日内可评价）"),
            format!("Too late to rate: ratings are possible for {window} working days after the service"),
        ));
    }
    if store::rating_of(&state.db, target.kind, &target.id).await?.is_some() {
        return Err(already_rated());
    }
    let channel = channel.unwrap_or("web");
    let anonymous = req.anonymous.unwrap_or(false) || rater.is_none();
    let id = crate::platform::tokens::uuid_v4();
    let rating = Rating {
        id: id.clone(),
        object_kind: target.kind.into(),
        object_id: target.id.clone(),
        department: target.department.clone(),
        item_code: target.item_code,
        hall_code: target.hall_code,
        officer_id: target.officer_id,
        rater_id: rater,
        real_name: !anonymous,
        score,
        indicators: serde_json::to_value(indicators.unwrap_or_default()).unwrap_or(Value::Null),
        comment,
        channel: channel.into(),
        served_on: target.served_on.to_string(),
        created_at: state.db.now_text(),
        excluded: false,
    };
    let loop_dues = domain::is_bad(score).then(|| {
        (
            cal.add_working_days(today, 1).to_string(),
            cal.add_working_days(today, state.config.rectify_days.max(1)).to_string(),
        )
    });
    match store::add(&state.db, NewRating { rating, loop_dues }).await {
        Ok(()) => {}
        Err(StoreError::Duplicate(_)) => return Err(already_rated()),
        Err(e) => return Err(e.into()),
    }
    let rating = store::rating(&state.db, &id).await?.ok_or(ApiError::NotFound)?;
    let rectification = store::rectification(&state.db, &id).await?;
    Ok(rating_view(rating, rectification))
}

fn already_rated() -> ApiError {
    ApiError::Conflict {
        code: "already_rated",
        zh: "已评价，无需重复评价（一事一评）".into(),
        en: "Already rated: each service is rated once".into(),
    }
}

/// The one-tap link's case, if the token is genuine and current.
pub fn case_of_token(state: &AppState, token: &str) -> Result<String, domain::TokenError> {
    domain::check_token(&state.link_secret[..], token, state.clock().today())
}

// ---------------------------------------------------------------------------------------------
// The bad-review loop
// ---------------------------------------------------------------------------------------------

fn bad_review(r: &Rectification, rating: &Rating) -> Resource {
    Resource::BadReview {
        department: r.department.clone(),
        // Anonymity hides the rater from the department, not the loop from the rater.
        rater: rating.rater_id.clone(),
    }
}

/// Whether the caller may do `action` to this loop, by the one access decision.
fn may(caller: &Caller, action: Action, resource: &Resource) -> ApiResult<()> {
    crate::identity::api::require(decide(&caller.actor, action, resource))
}

/// A bad review and its loop, with the light for the step now due.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoopView {
    pub rating: Rating,
    pub rectification: Rectification,
    pub status_zh: &'static str,
    pub status_en: &'static str,
    /// `green`, `yellow`, `red` or `none`.
    pub light: &'static str,
    pub due: Option<String>,
}

fn loop_view(
    cal: &crate::calendar::domain::Calendar,
    now: chrono::DateTime<chrono::Utc>,
    rating: Rating,
    r: Rectification,
) -> LoopView {
    let step = domain::running_step(
        r.status,
        &rating.created_at,
        r.revisited_at.as_deref(),
        r.verified_at.as_deref(),
        &r.verify_due,
        &r.rectify_due,
    );
    let due = step.map(|s| s.due.to_string());
    let light = step.and_then(|s| domain::step_signal(cal, &s, now)).map(|s| s.as_str()).unwrap_or("none");
    let (zh, en) = r.status.label();
    let mut rating = rating;
    if !rating.real_name {
        rating.rater_id = None;
    }
    LoopView { rating, rectification: r, status_zh: zh, status_en: en, light, due }
}

/// Bad reviews for the caller's department (supervisors: every department's).
pub async fn loops(state: &AppState, caller: &Caller) -> ApiResult<Vec<LoopView>> {
    caller.require_user()?;
    let every = Resource::CityWide(Area::BadReviews);
    let department = if may(caller, Action::Read, &every).is_ok() {
        None
    } else {
        let Actor::Staff { department, .. } = &caller.actor else { return Err(ApiError::Forbidden) };
        Some(department.clone())
    };
    let cal = state.calendar().await;
    let now = state.clock().now();
    Ok(store::rectifications(&state.db, department.as_deref())
        .await?
        .into_iter()
        .filter(|(rating, r)| may(caller, Action::Read, &bad_review(r, rating)).is_ok())
        .map(|(rating, r)| loop_view(&cal, now, rating, r))
        .collect())
}

pub async fn get_loop(state: &AppState, caller: &Caller, id: &str) -> ApiResult<LoopView> {
    caller.require_user()?;
    let rating = store::rating(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    let r = store::rectification(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    may(caller, Action::Read, &bad_review(&r, &rating))?;
    let cal = state.calendar().await;
    Ok(loop_view(&cal, state.clock().now(), rating, r))
}

/// Whether the caller may decide appeals (the desk shows the buttons).
pub fn decides_appeals(caller: &Caller) -> bool {
    may(caller, Action::Review, &Resource::CityWide(Area::BadReviews)).is_ok()
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct LoopRequest {
    /// `verify`: what was found (核实情况).
    pub note: Option<String>,
    /// `rectify`: the written answer to the rater (整改答复).
    pub answer: Option<String>,
    /// `revisit`: whether the rater is satisfied (回访).
    pub satisfied: Option<bool>,
    /// `appeal`: why the review is malicious or mistaken (申诉理由).
    pub reason: Option<String>,
    /// `decide_appeal`: uphold (excluded from statistics) or reject.
    pub uphold: Option<bool>,
    pub version: Option<i64>,
}

/// A step of the loop: `verify`, `rectify`, `revisit` (the department records the revisit, or
/// the rater answers it), `appeal` (the department), `decide_appeal` (a supervisor).
pub async fn step(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: &str,
    req: LoopRequest,
) -> ApiResult<LoopView> {
    let user = caller.require_user()?.to_string();
    let Some(action) = domain::LoopAction::parse(action) else { return Err(ApiError::NotFound) };
    let rating = store::rating(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    let r = store::rectification(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    let resource = bad_review(&r, &rating);
    may(caller, Action::Read, &resource)?;
    // Deciding an appeal is the supervisor's (a review); every other step is an update by the
    // department, and the revisit may also be answered by the rater.
    let needed = if action == domain::LoopAction::DecideAppeal { Action::Review } else { Action::Update };
    may(caller, needed, &resource)?;
    let by_rater = matches!(&caller.actor, Actor::Person { .. });
    if by_rater && action != domain::LoopAction::Revisit {
        return Err(ApiError::Forbidden);
    }
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(2000).collect::<String>())
    };
    let input = domain::LoopInput {
        note: text(&req.note),
        answer: text(&req.answer),
        satisfied: req.satisfied,
        reason: text(&req.reason),
        uphold: req.uphold,
    };
    let today = state.clock().today();
    let cal = state.calendar().await;
    let facts = domain::LoopFacts {
        real_name: rating.real_name,
        now: state.db.now_text(),
        today,
        reopen_verify_due: cal.add_working_days(today, 1),
        reopen_rectify_due: cal.add_working_days(today, state.config.rectify_days.max(1)),
    };
    let decided = domain::decide(&r, action, &input, &facts).map_err(|refusal| match refusal {
        domain::LoopRefusal::Missing(e) => ApiError::Validation(vec![e]),
        domain::LoopRefusal::WrongState(status) => {
            let (zh, en) = status.label();
            ApiError::StateConflict {
                code: "action_not_allowed_in_state",
                zh: format!("差评当前为“{zh}”，不能执行此操作"),
                en: format!("The bad review is {en}; this is not possible now"),
                state: status.as_str().to_string(),
            }
        }
    })?;
    let domain::LoopStep { rectification: r, note, tell_rater } = decided;
    let expected = req.version.unwrap_or(r.version);
    let actor_name = caller.name.clone().unwrap_or_else(|| user.clone());
    // The rater hears the answer (a real-name rater: anonymous ones cannot be reached).
    let notify = match (tell_rater, &rating.rater_id) {
        (true, Some(rater)) => Some((
            rater.clone(),
            (rating.object_kind != "visit").then(|| rating.object_id.clone()),
            crate::platform::notifications::Message {
                title_zh: "您的评价已整改答复".into(),
                title_en: "Your rating has been answered".into(),
                body_zh: format!("{}。相关部门将回访您是否满意。", r.answer.clone().unwrap_or_default()),
                body_en: format!(
                    "{}. The department will ask you whether you are satisfied.",
                    r.answer.clone().unwrap_or_default()
                ),
            },
        )),
        _ => None,
    };
    let change = store::LoopChange {
        rectification: r,
        expected,
        actor_id: user.clone(),
        actor_name,
        action: action.as_str().to_string(),
        note: Some(note),
        notify,
    };
    // A lost claim is a conflict (nothing was written), answered as 409 by the error mapping.
    store::save_loop(&state.db, change).await?;
    get_loop(state, caller, id).await
}

/// The caller's own ratings with their loops.
pub async fn mine(state: &AppState, caller: &Caller) -> ApiResult<Vec<RatingView>> {
    let user = caller.require_user()?;
    let mut out = Vec::new();
    for r in store::ratings_by(&state.db, user).await? {
        let loop_ = store::rectification(&state.db, &r.id).await?;
        out.push(rating_view(r, loop_));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct StatsQuery {
    /// `department` (default), `item`, `hall` or `officer` (staff only).
    pub by: Option<String>,
    /// First day, YYYY-MM-DD (default: 30 days ago).
    pub from: Option<String>,
    /// Last day, inclusive (default: today).
    pub to: Option<String>,
    /// `csv` for a spreadsheet.
    pub format: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatsRow {
    pub key: String,
    pub name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Stats {
    pub by: String,
    pub from: String,
    pub to: String,
    pub overall: Figures,
    pub rows: Vec<StatsRow>,
}

pub async fn stats(state: &AppState, caller: &Caller, q: &StatsQuery) -> ApiResult<Stats> {
    let by = q.by.as_deref().unwrap_or("department");
    if !matches!(by, "department" | "item" | "hall" | "officer") {
        return Err(ApiError::invalid(
            "by",
            "invalid_grouping",
            "by 应为 department、item、hall 或 officer",
            "by must be department, item, hall or officer",
        ));
    }
    if by == "officer" && !matches!(caller.actor, Actor::Staff { .. }) {
        return Err(if caller.user_id.is_some() { ApiError::Forbidden } else { ApiError::Unauthenticated });
    }
    let (from, to) = crate::complaints::service::period(
        &crate::complaints::service::PeriodQuery { from: q.from.clone(), to: q.to.clone(), month: None },
        state.clock().today(),
    )?;
    let facts = store::facts(
        &state.db,
        &crate::store::time_text(crate::platform::clock::start_of_beijing_day(from)),
        &crate::store::time_text(crate::platform::clock::start_of_beijing_day(
            to + chrono::Duration::days(1),
        )),
    )
    .await?;
    let mut groups: HashMap<String, Vec<domain::RatingFacts>> = HashMap::new();
    for f in &facts {
        let key = match by {
            "item" => f.item_code.clone(),
            "hall" => f.hall_code.clone(),
            "officer" => f.officer_id.clone(),
            _ => Some(f.department.clone()),
        };
        if let Some(k) = key.filter(|k| !k.is_empty()) {
            groups.entry(k).or_default().push(f.facts.clone());
        }
    }
    let departments = crate::platform::directory::department_names(&state.db).await?;
    let mut rows = Vec::new();
    for (key, items) in groups {
        let name = match by {
            "department" => departments.get(&key).cloned().unwrap_or_else(|| key.clone()),
            "hall" => {
                state.halls.directory.get(&key).map(|h| h.hall.name.clone()).unwrap_or_else(|| key.clone())
            }
            "item" => crate::catalog::store::get(&state.db, &key)
                .await?
                .map(|s| s.item.name)
                .unwrap_or_else(|| key.clone()),
            _ => crate::platform::directory::user_name(&state.db, &key).await.unwrap_or_else(|_| key.clone()),
        };
        rows.push(StatsRow { figures: domain::figures(&items), key, name });
    }
    rows.sort_by(|a, b| b.figures.ratings.cmp(&a.figures.ratings).then(a.key.cmp(&b.key)));
    let all: Vec<domain::RatingFacts> = facts.into_iter().map(|f| f.facts).collect();
    Ok(Stats {
        by: by.into(),
        from: from.to_string(),
        to: to.to_string(),
        overall: domain::figures(&all),
        rows,
    })
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.2}", x * 100.0)).unwrap_or_default()
}

/// The figures as CSV (UTF-8 with a byte-order mark so that spreadsheet programs read Chinese).
pub fn stats_csv(s: &Stats) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    w.write_record([
        "分组 key",
        "名称 name",
        "评价数 ratings",
        "好评 good",
        "差评 bad",
        "平均分 average",
        "好评率% good rate",
        "差评率% bad rate",
        "整改率% rectification rate",
        "回访率% revisit rate",
        "按期整改率% on-time rate",
    ])?;
    for r in &s.rows {
        let f = &r.figures;
        w.write_record([
            r.key.clone(),
            r.name.clone(),
            f.ratings.to_string(),
            f.good.to_string(),
            f.bad.to_string(),
            f.average.map(|a| format!("{a:.2}")).unwrap_or_default(),
            pct(f.good_rate),
            pct(f.bad_rate),
            pct(f.rectification_rate),
            pct(f.revisit_rate),
            pct(f.on_time_rate),
        ])?;
    }
    Ok(w.into_inner()?)
}
