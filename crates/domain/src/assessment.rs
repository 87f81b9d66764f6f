//! Department assessment (部门考评): the indicators a department is scored on, each a ratio of
//! two sums over the platform's own records (never typed in), the weights that turn them into
//! one score, and the ranking.
//!
//! Every figure is `numerator / denominator`. The store sums both per department; the drill-down
//! lists the records behind them with what each adds to either side, so the figure can be
//! recomputed by hand from the records (a test does). The score of a figure is 0–100; a
//! department's score is the weighted mean of the scores it has data for, and the ranking sorts
//! by it, ties sharing a rank and listed by department code, so the same records always give
//! the same ranking.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The shipped weights and period (`reference/assessment.json`).
pub const ASSESSMENT_JSON: &str = include_str!("../../../reference/assessment.json");

/// Whether a higher value is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// What a figure's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A share of records (shown as a percentage).
    Share,
    /// A ratio of two sums of days (shown as a percentage).
    Ratio,
    /// Working days on average.
    Days,
}

/// One indicator (考评指标).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    OnTime,
    Overdue,
    AcceptanceBacklog,
    Online,
    ZeroTrip,
    AtMostOnce,
    DaysUsed,
    GoodRate,
    RectifiedOnTime,
    ComplaintResponse,
    ComplaintResolution,
    ComplaintSatisfaction,
    ProactiveClosed,
    DataOnTime,
    BenefitCoverage,
    BenefitDays,
    MilestonesOnTime,
}

/// What a page or a report says about an indicator, in both languages.
pub struct Wording {
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub numerator_zh: &'static str,
    pub numerator_en: &'static str,
    pub denominator_zh: &'static str,
    pub denominator_en: &'static str,
}

impl Indicator {
    pub const ALL: [Indicator; 17] = [
        Indicator::OnTime,
        Indicator::Overdue,
        Indicator::AcceptanceBacklog,
        Indicator::Online,
        Indicator::ZeroTrip,
        Indicator::AtMostOnce,
        Indicator::DaysUsed,
        Indicator::GoodRate,
        Indicator::RectifiedOnTime,
        Indicator::ComplaintResponse,
        Indicator::ComplaintResolution,
        Indicator::ComplaintSatisfaction,
        Indicator::ProactiveClosed,
        Indicator::DataOnTime,
        Indicator::BenefitCoverage,
        Indicator::BenefitDays,
        Indicator::MilestonesOnTime,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Indicator::OnTime => "on_time",
            Indicator::Overdue => "overdue",
            Indicator::AcceptanceBacklog => "acceptance_backlog",
            Indicator::Online => "online",
            Indicator::ZeroTrip => "zero_trip",
            Indicator::AtMostOnce => "at_most_once",
            Indicator::DaysUsed => "days_used",
            Indicator::GoodRate => "good_rate",
            Indicator::RectifiedOnTime => "rectified_on_time",
            Indicator::ComplaintResponse => "complaint_response",
            Indicator::ComplaintResolution => "complaint_resolution",
            Indicator::ComplaintSatisfaction => "complaint_satisfaction",
            Indicator::ProactiveClosed => "proactive_closed",
            Indicator::DataOnTime => "data_on_time",
            Indicator::BenefitCoverage => "benefit_coverage",
            Indicator::BenefitDays => "benefit_days",
            Indicator::MilestonesOnTime => "milestones_on_time",
        }
    }

    pub fn parse(code: &str) -> Option<Indicator> {
        Indicator::ALL.into_iter().find(|i| i.code() == code)
    }

    pub fn better(self) -> Better {
        match self {
            Indicator::Overdue
            | Indicator::AcceptanceBacklog
            | Indicator::DaysUsed
            | Indicator::BenefitDays => Better::Lower,
            _ => Better::Higher,
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Indicator::DaysUsed => Unit::Ratio,
            Indicator::BenefitDays => Unit::Days,
            _ => Unit::Share,
        }
    }

    /// The area whose records the figure is counted from.
    pub fn area(self) -> (&'static str, &'static str) {
        match self {
            Indicator::OnTime
            | Indicator::Overdue
            | Indicator::AcceptanceBacklog
            | Indicator::Online
            | Indicator::ZeroTrip
            | Indicator::AtMostOnce
            | Indicator::DaysUsed => ("办件", "Cases"),
            Indicator::GoodRate | Indicator::RectifiedOnTime => ("好差评", "Ratings"),
            Indicator::ComplaintResponse
            | Indicator::ComplaintResolution
            | Indicator::ComplaintSatisfaction => ("接诉即办", "Complaints"),
            Indicator::ProactiveClosed => ("未诉先办", "Proactive tasks"),
            Indicator::DataOnTime => ("数据共享", "Data sharing"),
            Indicator::BenefitCoverage | Indicator::BenefitDays => ("免申即享", "Benefits without applying"),
            Indicator::MilestonesOnTime => ("改革任务", "Reform tasks"),
        }
    }

    pub fn wording(self) -> Wording {
        let w = |name_zh, name_en, numerator_zh, numerator_en, denominator_zh, denominator_en| Wording {
            name_zh,
            name_en,
            numerator_zh,
            numerator_en,
            denominator_zh,
            denominator_en,
        };
        match self {
            Indicator::OnTime => w(
                "按时办结率",
                "Decided on time",
                "期内办结且不晚于法定（承诺）期限的办件",
                "cases decided in the period by their due date",
                "期内办结的办件",
                "cases decided in the period",
            ),
            Indicator::Overdue => w(
                "超期率",
                "Overdue",
                "期限已过而未按时办结的办件（含仍未办结的）",
                "cases not decided by their due date (including those still open)",
                "期限落在期内且已届满的办件",
                "cases whose due date fell in the period and has passed",
            ),
            Indicator::AcceptanceBacklog => w(
                "受理积压率",
                "Acceptance backlog",
                "期内收件中至今仍待受理的",
                "applications of the period still waiting to be accepted",
                "期内收件",
                "applications submitted in the period",
            ),
            Indicator::Online => w(
                "网上办理率",
                "Applied for online",
                "期内收件中网上提交的（非窗口收件、非到厅办理）",
                "applications of the period submitted online (not at a window or in a hall)",
                "期内收件",
                "applications submitted in the period",
            ),
            Indicator::ZeroTrip => w(
                "零跑腿率",
                "Zero trips",
                "期内收件中网上提交、且事项到现场次数为 0 的",
                "applications of the period made online for items needing no visit",
                "期内收件",
                "applications submitted in the period",
            ),
            Indicator::AtMostOnce => w(
                "最多跑一次率",
                "At most one trip",
                "期内收件中跑动不超过一次的（事项到现场次数不超过 1；窗口收件本身算一次）",
                "applications of the period needing at most one trip (the item's visits at most 1; a window application is itself one)",
                "期内收件",
                "applications submitted in the period",
            ),
            Indicator::DaysUsed => w(
                "用时占承诺时限比",
                "Working days used of those promised",
                "期内办结件自受理至办结实际用去的工作日（扣除补正等暂停的工作日）之和",
                "working days from acceptance to decision of the cases decided in the period, less paused days",
                "这些办件承诺时限（工作日）之和",
                "the working days promised for those cases",
            ),
            Indicator::GoodRate => w(
                "好评率",
                "Good reviews",
                "期内评价中 3–5 分的（申诉成立的不计）",
                "ratings of the period scoring 3–5 (upheld appeals left out)",
                "期内评价",
                "ratings given in the period",
            ),
            Indicator::RectifiedOnTime => w(
                "差评按时整改率",
                "Bad reviews put right on time",
                "期内差评中在整改期限内整改的",
                "bad reviews of the period put right within the deadline",
                "期内差评（1–2 分）",
                "bad reviews of the period (1–2)",
            ),
            Indicator::ComplaintResponse => w(
                "诉求响应率",
                "Complaints responded to on time",
                "期内派单的诉求中在响应时限内响应的",
                "complaints of the period responded to within the response deadline",
                "期内派至本部门的诉求（合并的不计）",
                "complaints of the period dispatched to the department (merged ones left out)",
            ),
            Indicator::ComplaintResolution => w(
                "诉求解决率",
                "Complaints resolved",
                "回访时表示已解决的",
                "those who said at the callback that it was resolved",
                "期内诉求中已回访的",
                "complaints of the period called back",
            ),
            Indicator::ComplaintSatisfaction => w(
                "诉求满意率",
                "Complainants satisfied",
                "回访时表示满意的",
                "those who said at the callback that they were satisfied",
                "期内诉求中已回访的",
                "complaints of the period called back",
            ),
            Indicator::ProactiveClosed => w(
                "主动治理办结率",
                "Proactive tasks done",
                "期内生成的主动治理任务中已办结的",
                "proactive tasks of the period that are done",
                "期内生成的主动治理任务",
                "proactive tasks raised in the period",
            ),
            Indicator::DataOnTime => w(
                "数据申请按时答复率",
                "Data requests answered on time",
                "在答复期限内作出决定的申请",
                "requests decided by their due date",
                "期内向本部门提出、已答复或已到期的数据申请",
                "requests of the period to the department, decided or past their due date",
            ),
            Indicator::BenefitCoverage => w(
                "免申即享兑现率",
                "Benefits paid without applying",
                "已兑付的",
                "those paid",
                "本部门政策下核定符合条件的企业（不含放弃的）",
                "enterprises found eligible under the department's policies (less those who declined)",
            ),
            Indicator::BenefitDays => w(
                "免申即享兑付用时",
                "Working days from notice to payment",
                "期内兑付的款项自告知符合条件至兑付的工作日之和",
                "working days from the eligibility notice to the payment, for payments of the period",
                "期内兑付笔数",
                "payments made in the period",
            ),
            Indicator::MilestonesOnTime => w(
                "改革任务节点按时完成率",
                "Reform milestones done on time",
                "不晚于完成时限通过审核的节点",
                "milestones accepted by their due date",
                "本部门牵头、完成时限落在期内且已届满的节点",
                "milestones of tasks the department leads, due in the period and past their date",
            ),
        }
    }

    /// The formula in words, as the pages and the report print it.
    pub fn formula_zh(self, scheme: &Scheme) -> String {
        let w = self.wording();
        let score = match (self.unit(), self.better()) {
            (Unit::Days, _) => {
                format!("得分 = 100 ×（1 − 平均用时 / {} 个工作日），不低于 0", scheme.benefit_days_limit)
            }
            (_, Better::Higher) => "得分 = 100 × 比率".to_string(),
            (_, Better::Lower) => "得分 = 100 ×（1 − 比率），不低于 0".to_string(),
        };
        format!("{} ÷ {}；{}", w.numerator_zh, w.denominator_zh, score)
    }

    pub fn formula_en(self, scheme: &Scheme) -> String {
        let w = self.wording();
        let score = match (self.unit(), self.better()) {
            (Unit::Days, _) => {
                format!(
                    "score = 100 × (1 − average / {} working days), at least 0",
                    scheme.benefit_days_limit
                )
            }
            (_, Better::Higher) => "score = 100 × the ratio".to_string(),
            (_, Better::Lower) => "score = 100 × (1 − the ratio), at least 0".to_string(),
        };
        format!("{} ÷ {}; {}", w.numerator_en, w.denominator_en, score)
    }
}

/// The two sums of a figure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Tally {
    pub numerator: i64,
    pub denominator: i64,
}

impl Tally {
    pub fn add(&mut self, numerator: i64, denominator: i64) {
        self.numerator += numerator;
        self.denominator += denominator;
    }

    /// `numerator / denominator` to four places; `None` with nothing to divide.
    pub fn value(&self) -> Option<f64> {
        (self.denominator > 0)
            .then(|| ((self.numerator as f64 / self.denominator as f64) * 10000.0).round() / 10000.0)
    }
}

/// Weights and the default period: configuration (`reference/assessment.json` by default).
#[derive(Clone, Debug, PartialEq)]
pub struct Scheme {
    pub period: PeriodKind,
    pub weights: BTreeMap<Indicator, f64>,
    /// Average payment time at which the payment-time score reaches 0 (working days).
    pub benefit_days_limit: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Month,
    Quarter,
    Year,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemeFile {
    #[serde(rename = "_comment", default)]
    _comment: Option<String>,
    period: PeriodKind,
    weights: BTreeMap<String, f64>,
    benefit_days_limit: u32,
}

impl Scheme {
    /// Parses and checks a scheme: every weight names a known indicator, none is negative or
    /// not a number, and at least one is above zero.
    pub fn parse(json: &str) -> Result<Scheme, String> {
        let file: SchemeFile = serde_json::from_str(json).map_err(|e| format!("assessment scheme: {e}"))?;
        let mut weights = BTreeMap::new();
        for (code, w) in file.weights {
            let indicator = Indicator::parse(&code)
                .ok_or_else(|| format!("assessment scheme: unknown indicator {code:?}"))?;
            if !w.is_finite() || w < 0.0 {
                return Err(format!("assessment scheme: the weight of {code} must be a number ≥ 0"));
            }
            weights.insert(indicator, w);
        }
        if !weights.values().any(|w| *w > 0.0) {
            return Err("assessment scheme: at least one weight must be above 0".into());
        }
        if file.benefit_days_limit == 0 {
            return Err("assessment scheme: benefit_days_limit must be at least 1".into());
        }
        Ok(Scheme { period: file.period, weights, benefit_days_limit: file.benefit_days_limit })
    }

    pub fn shipped() -> Scheme {
        #[allow(clippy::expect_used)]
        Scheme::parse(ASSESSMENT_JSON).expect("the shipped assessment scheme parses (a test holds it)")
    }

    pub fn weight(&self, i: Indicator) -> f64 {
        self.weights.get(&i).copied().unwrap_or(0.0)
    }

    /// A figure's score (0–100, two places), or `None` without data.
    pub fn score(&self, i: Indicator, t: &Tally) -> Option<f64> {
        let v = t.value()?;
        let s = match (i.unit(), i.better()) {
            (Unit::Days, _) => 1.0 - v / f64::from(self.benefit_days_limit),
            (_, Better::Higher) => v,
            (_, Better::Lower) => 1.0 - v,
        };
        Some((s.clamp(0.0, 1.0) * 10000.0).round() / 100.0)
    }
}

/// The assessment period: Beijing dates, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Period {
    #[schema(value_type = String)]
    pub from: NaiveDate,
    #[schema(value_type = String)]
    pub to: NaiveDate,
}

/// Why a period was refused (the field it names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeriodError {
    pub field: &'static str,
    pub code: &'static str,
    pub zh: String,
    pub en: String,
}

impl Period {
    /// A calendar month, `YYYY-MM`.
    pub fn month(text: &str) -> Result<Period, PeriodError> {
        let bad = || PeriodError {
            field: "month",
            code: "invalid_month",
            zh: format!("月份应为 YYYY-MM 格式（如 2026-11），收到 {text:?}"),
            en: format!("month must be YYYY-MM (e.g. 2026-11), got {text:?}"),
        };
        let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
        let (y, m): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if y.to_string().len() != 4 || !(1..=12).contains(&m) {
            return Err(bad());
        }
        let from = NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad)?;
        let next =
            if m == 12 { NaiveDate::from_ymd_opt(y + 1, 1, 1) } else { NaiveDate::from_ymd_opt(y, m + 1, 1) };
        Ok(Period { from, to: next.ok_or_else(bad)?.pred_opt().ok_or_else(bad)? })
    }

    /// An explicit range (at most a year and a day).
    pub fn range(from: NaiveDate, to: NaiveDate) -> Result<Period, PeriodError> {
        if to < from {
            return Err(PeriodError {
                field: "to",
                code: "invalid_period",
                zh: "截止日期不能早于起始日期".into(),
                en: "to must not be before from".into(),
            });
        }
        if (to - from).num_days() > 366 {
            return Err(PeriodError {
                field: "to",
                code: "period_too_long",
                zh: "考评期间最长一年".into(),
                en: "an assessment period is at most a year".into(),
            });
        }
        Ok(Period { from, to })
    }

    /// The configured kind of period holding `today`, from its first day to today.
    pub fn current(kind: PeriodKind, today: NaiveDate) -> Period {
        let from = match kind {
            PeriodKind::Month => today.with_day(1),
            PeriodKind::Quarter => NaiveDate::from_ymd_opt(today.year(), (today.month0() / 3) * 3 + 1, 1),
            PeriodKind::Year => NaiveDate::from_ymd_opt(today.year(), 1, 1),
        }
        .unwrap_or(today);
        Period { from, to: today }
    }

    pub fn label(&self) -> String {
        format!("{} 至 {}", self.from, self.to)
    }
}

/// One figure of a department's scorecard.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Figure {
    pub indicator: Indicator,
    pub numerator: i64,
    pub denominator: i64,
    /// `numerator / denominator` (four places), or none with nothing to count.
    pub value: Option<f64>,
    /// 0–100, or none without data.
    pub score: Option<f64>,
    pub weight: f64,
}

/// A department's scorecard.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Scorecard {
    pub department: String,
    pub department_name: String,
    /// The weighted mean of the figures' scores (two places); none when no figure has data.
    pub score: Option<f64>,
    /// 1 for the best; departments with equal scores share a rank.
    pub rank: Option<usize>,
    pub figures: Vec<Figure>,
}

impl Scorecard {
    pub fn figure(&self, i: Indicator) -> Option<&Figure> {
        self.figures.iter().find(|f| f.indicator == i)
    }
}

/// Scores each department's tallies and ranks the departments. Every department in `names` gets
/// a card (one with no records has no score and ranks last).
pub fn assess(
    scheme: &Scheme,
    names: &BTreeMap<String, String>,
    tallies: &BTreeMap<(String, Indicator), Tally>,
) -> Vec<Scorecard> {
    let mut cards: Vec<Scorecard> = names
        .iter()
        .map(|(code, name)| {
            let figures: Vec<Figure> = Indicator::ALL
                .into_iter()
                .map(|i| {
                    let t = tallies.get(&(code.clone(), i)).copied().unwrap_or_default();
                    Figure {
                        indicator: i,
                        numerator: t.numerator,
                        denominator: t.denominator,
                        value: t.value(),
                        score: scheme.score(i, &t),
                        weight: scheme.weight(i),
                    }
                })
                .collect();
            let (sum, weights) = figures
                .iter()
                .filter(|f| f.weight > 0.0)
                .filter_map(|f| f.score.map(|s| (s * f.weight, f.weight)))
                .fold((0.0, 0.0), |(a, b), (s, w)| (a + s, b + w));
            let score = (weights > 0.0).then(|| ((sum / weights) * 100.0).round() / 100.0);
            Scorecard { department: code.clone(), department_name: name.clone(), score, rank: None, figures }
        })
        .collect();
    cards.sort_by(|a, b| match (a.score, b.score) {
        (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| a.department.cmp(&b.department)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.department.cmp(&b.department),
    });
    let scores: Vec<Option<f64>> = cards.iter().map(|c| c.score).collect();
    for card in &mut cards {
        card.rank = card.score.map(|s| 1 + scores.iter().flatten().filter(|x| **x > s).count());
    }
    cards
}

/// One record behind a figure, with what it adds to each side.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DrillRow {
    /// The record's number or id (a case number, a complaint id …).
    pub record: String,
    /// Where the record is on the platform (a page), when it has one.
    pub href: Option<String>,
    pub title: String,
    /// The facts that decided the record's part, in words.
    pub detail: String,
    pub numerator: i64,
    pub denominator: i64,
}

/// The tally of drill-down rows (what the figure must equal).
pub fn tally_of(rows: &[DrillRow]) -> Tally {
    let mut t = Tally::default();
    for r in rows {
        t.add(r.numerator, r.denominator);
    }
    t
}

/// The trips an application needs, from the item's promised visits (到现场次数) and how it was
/// submitted: online applications need the item's visits; a window application is itself one.
pub fn trips(item_visits: u32, online: bool) -> u32 {
    if online { item_visits } else { item_visits.max(1) }
}

/// A supervisor's comment on a department's scorecard (督查意见): the only thing the supervision
/// office writes on one, since figures are computed, never typed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedComment {
    /// The figure it is about; none: the scorecard as a whole.
    pub indicator: Option<Indicator>,
    pub body: String,
}

/// The longest comment, in characters.
pub const COMMENT_MAX_CHARS: usize = 1000;

/// Checks a comment: some words, not too many, and an indicator the assessment has (blank: the
/// whole scorecard). Every wrong field is named.
pub fn check_comment(body: &str, indicator: &str) -> Result<CheckedComment, Vec<crate::fields::FieldError>> {
    use crate::fields::FieldError;
    let mut errors = Vec::new();
    let body = body.trim();
    if body.is_empty() {
        errors.push(FieldError::required("body", "督查意见", "The comment"));
    } else if body.chars().count() > COMMENT_MAX_CHARS {
        errors.push(FieldError::new(
            "body",
            "too_long",
            format!("督查意见最多 {COMMENT_MAX_CHARS} 字"),
            format!("a comment is at most {COMMENT_MAX_CHARS} characters"),
        ));
    }
    let indicator = indicator.trim();
    let parsed = if indicator.is_empty() { None } else { Indicator::parse(indicator) };
    if !indicator.is_empty() && parsed.is_none() {
        errors.push(FieldError::new(
            "indicator",
            "unknown_indicator",
            format!("没有代码为 {indicator} 的考评指标"),
            format!("there is no indicator {indicator}"),
        ));
    }
    if errors.is_empty() {
        Ok(CheckedComment { indicator: parsed, body: body.to_string() })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_needs_words_and_a_known_indicator() {
        let ok = check_comment("  按时办结率偏低，请分析原因  ", "on_time").expect("ok");
        assert_eq!((ok.indicator, ok.body.as_str()), (Some(Indicator::OnTime), "按时办结率偏低，请分析原因"));
        assert_eq!(check_comment("整体良好", " ").expect("whole").indicator, None);
        let fields = |r: Result<CheckedComment, Vec<crate::fields::FieldError>>| {
            r.expect_err("refused").into_iter().map(|e| (e.field, e.code)).collect::<Vec<_>>()
        };
        assert_eq!(
            fields(check_comment(" ", "speed")),
            [("body".into(), "required".into()), ("indicator".into(), "unknown_indicator".into())]
        );
        assert_eq!(
            fields(check_comment(&"意".repeat(COMMENT_MAX_CHARS + 1), "")),
            [("body".into(), "too_long".into())]
        );
        assert!(check_comment(&"意".repeat(COMMENT_MAX_CHARS), "").is_ok());
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn the_shipped_scheme_parses_and_weighs_every_indicator() {
        let s = Scheme::shipped();
        assert_eq!(s.period, PeriodKind::Month);
        for i in Indicator::ALL {
            assert!(s.weight(i) > 0.0, "{} has a weight", i.code());
            assert_eq!(Indicator::parse(i.code()), Some(i));
        }
    }

    #[test]
    fn schemes_with_unknown_or_negative_weights_are_refused() {
        let base = r#"{"period":"month","benefit_days_limit":20,"weights":"#;
        assert!(Scheme::parse(&format!("{base}{{\"speed\":1}}}}")).is_err_and(|e| e.contains("speed")));
        assert!(Scheme::parse(&format!("{base}{{\"on_time\":-1}}}}")).is_err_and(|e| e.contains("on_time")));
        assert!(Scheme::parse(&format!("{base}{{\"on_time\":0}}}}")).is_err());
        assert!(Scheme::parse(&format!("{base}{{\"on_time\":2}}}}")).is_ok());
    }

    #[test]
    fn scores_follow_the_direction_and_the_payment_limit() {
        let s = Scheme::shipped();
        let t = Tally { numerator: 3, denominator: 4 };
        assert_eq!(s.score(Indicator::OnTime, &t), Some(75.0));
        assert_eq!(s.score(Indicator::Overdue, &t), Some(25.0));
        // 10 working days on average against a 20-day limit.
        assert_eq!(s.score(Indicator::BenefitDays, &Tally { numerator: 30, denominator: 3 }), Some(50.0));
        assert_eq!(s.score(Indicator::BenefitDays, &Tally { numerator: 90, denominator: 3 }), Some(0.0));
        // Days used beyond the promise score 0, never below.
        assert_eq!(s.score(Indicator::DaysUsed, &Tally { numerator: 12, denominator: 10 }), Some(0.0));
        assert_eq!(s.score(Indicator::OnTime, &Tally::default()), None);
        assert_eq!(Tally { numerator: 2, denominator: 3 }.value(), Some(0.6667));
    }

    #[test]
    fn ranking_is_weighted_ties_share_a_rank_and_empty_departments_come_last() {
        let mut weights = BTreeMap::new();
        weights.insert(Indicator::OnTime, 3.0);
        weights.insert(Indicator::GoodRate, 1.0);
        let scheme = Scheme { period: PeriodKind::Month, weights, benefit_days_limit: 20 };
        let names: BTreeMap<String, String> =
            [("A", "甲"), ("B", "乙"), ("C", "丙"), ("D", "丁")].map(|(c, n)| (c.into(), n.into())).into();
        let mut t = BTreeMap::new();
        t.insert(("A".into(), Indicator::OnTime), Tally { numerator: 1, denominator: 2 });
        t.insert(("A".into(), Indicator::GoodRate), Tally { numerator: 1, denominator: 1 });
        t.insert(("B".into(), Indicator::OnTime), Tally { numerator: 1, denominator: 1 });
        // C: only a good rate (the on-time weight is left out, not counted as 0).
        t.insert(("C".into(), Indicator::GoodRate), Tally { numerator: 5, denominator: 5 });
        // Figures without a weight do not move the score.
        t.insert(("B".into(), Indicator::Overdue), Tally { numerator: 9, denominator: 9 });
        let cards = assess(&scheme, &names, &t);
        let order: Vec<(&str, Option<f64>, Option<usize>)> =
            cards.iter().map(|c| (c.department.as_str(), c.score, c.rank)).collect();
        // A: (50×3 + 100×1) / 4 = 62.5.
        assert_eq!(
            order,
            vec![
                ("B", Some(100.0), Some(1)),
                ("C", Some(100.0), Some(1)),
                ("A", Some(62.5), Some(3)),
                ("D", None, None)
            ]
        );
        assert_eq!(cards[2].figure(Indicator::OnTime).map(|f| f.value), Some(Some(0.5)));
    }

    #[test]
    fn periods() {
        let p = Period::month("2026-02").expect("month");
        assert_eq!((p.from, p.to), (date("2026-02-01"), date("2026-02-28")));
        assert_eq!(Period::month("2026-12").expect("december").to, date("2026-12-31"));
        for bad in ["2026-13", "2026/11", "26-11", "", "2026-1x"] {
            assert_eq!(Period::month(bad).expect_err(bad).field, "month");
        }
        assert_eq!(Period::range(date("2026-02-02"), date("2026-02-01")).expect_err("reversed").field, "to");
        assert_eq!(
            Period::range(date("2025-01-01"), date("2026-02-01")).expect_err("long").code,
            "period_too_long"
        );
        let today = date("2026-11-17");
        assert_eq!(Period::current(PeriodKind::Month, today).from, date("2026-11-01"));
        assert_eq!(Period::current(PeriodKind::Quarter, today).from, date("2026-10-01"));
        assert_eq!(Period::current(PeriodKind::Year, today).from, date("2026-01-01"));
    }

    #[test]
    fn trips_and_drill_tallies() {
        assert_eq!(trips(0, true), 0);
        assert_eq!(trips(0, false), 1);
        assert_eq!(trips(1, true), 1);
        assert_eq!(trips(2, false), 2);
        let row = |n, d| DrillRow {
            record: "r".into(),
            href: None,
            title: String::new(),
            detail: String::new(),
            numerator: n,
            denominator: d,
        };
        assert_eq!(tally_of(&[row(1, 1), row(0, 1), row(3, 5)]), Tally { numerator: 4, denominator: 7 });
    }
}
