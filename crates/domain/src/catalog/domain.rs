//! Catalog rules, pure: validating an item, field-level diffs between versions, what a proposal
//! may do, resolving a one-thing bundle, and the responsibility-boundary report.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::reference::data::{
    AUDIENCES, Bundle, CROSS_REGION_MODES, CatalogItem, HANDLING, ITEM_KINDS, LEVELS, MaterialSource,
};

/// Longest time limit we accept, in working days (ten years): anything beyond is a typo.
pub const MAX_LIMIT_DAYS: u32 = 3650;
/// Most visits to a hall an item may require.
pub const MAX_VISITS: u32 = 10;

/// One problem with one field of an item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemProblem {
    pub field: String,
    pub code: &'static str,
    pub message_zh: String,
    pub message_en: String,
}

impl ItemProblem {
    fn new(field: impl Into<String>, code: &'static str, zh: String, en: String) -> ItemProblem {
        ItemProblem { field: field.into(), code, message_zh: zh, message_en: en }
    }
}

/// What validation needs to know about the rest of the platform.
pub struct Known<'a> {
    pub departments: &'a HashSet<String>,
    pub elicence_types: &'a HashSet<String>,
}

fn one_of(field: &str, value: &str, allowed: &[&str], out: &mut Vec<ItemProblem>) {
    if !allowed.contains(&value) {
        out.push(ItemProblem::new(
            field,
            "invalid_value",
            format!("{field} 的取值“{value}”无效，可选：{}", allowed.join("、")),
            format!("{field}: {value:?} is not one of {}", allowed.join(", ")),
        ));
    }
}

/// Every problem with `item`, each naming its field. Empty means valid.
pub fn validate_item(item: &CatalogItem, known: &Known<'_>) -> Vec<ItemProblem> {
    let mut out = Vec::new();
    let code = item.code.trim();
    let code_ok = code.len() <= 40
        && code.starts_with("JN-")
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !code_ok {
        out.push(ItemProblem::new(
            "code",
            "invalid_code",
            "事项编码应形如 JN-部门-0001".into(),
            "The item code must look like JN-DEPT-0001".into(),
        ));
    }
    let name_len = item.name.trim().chars().count();
    if !(2..=100).contains(&name_len) {
        out.push(ItemProblem::new(
            "name",
            "invalid_name",
            "事项名称应为2至100个字".into(),
            "The item name must be 2 to 100 characters".into(),
        ));
    }
    if item.department.trim().is_empty() {
        out.push(ItemProblem::new(
            "department",
            "required",
            "必须指定实施部门".into(),
            "An owning department is required".into(),
        ));
    } else if !known.departments.contains(&item.department) {
        out.push(ItemProblem::new(
            "department",
            "unknown_department",
            format!("部门“{}”不存在", item.department),
            format!("Unknown department {}", item.department),
        ));
    }
    one_of("level", &item.level, LEVELS, &mut out);
    one_of("kind", &item.kind, ITEM_KINDS, &mut out);
    one_of("audience", &item.audience, AUDIENCES, &mut out);
    one_of("handling", &item.handling, HANDLING, &mut out);
    if let Some(mode) = &item.cross_region {
        one_of("cross_region", mode, CROSS_REGION_MODES, &mut out);
    }
    if let Some(legal) = item.legal_limit_days
        && legal > MAX_LIMIT_DAYS
    {
        out.push(limit_problem("legal_limit_days", legal));
    }
    if item.promised_limit_days > MAX_LIMIT_DAYS {
        out.push(limit_problem("promised_limit_days", item.promised_limit_days));
    } else if let Some(legal) = item.legal_limit_days.filter(|l| *l > 0)
        && item.promised_limit_days > legal
    {
        out.push(ItemProblem::new(
            "promised_limit_days",
            "promised_exceeds_legal",
            format!("承诺时限（{}个工作日）不能超过法定时限（{legal}个工作日）", item.promised_limit_days),
            format!(
                "The promised limit ({} working days) cannot exceed the legal limit ({legal})",
                item.promised_limit_days
            ),
        ));
    }
    match (item.handling.as_str(), item.promised_limit_days) {
        ("即办件", n) if n > 0 => out.push(ItemProblem::new(
            "promised_limit_days",
            "immediate_with_limit",
            "即办件的承诺时限应为0".into(),
            "An on-the-spot item (即办件) has a promised limit of 0".into(),
        )),
        ("承诺件", 0) => out.push(ItemProblem::new(
            "promised_limit_days",
            "promised_without_limit",
            "承诺件须填写大于0的承诺时限".into(),
            "A promised item (承诺件) needs a promised limit above 0".into(),
        )),
        _ => {}
    }
    if item.visits > MAX_VISITS {
        out.push(ItemProblem::new(
            "visits",
            "absurd_visits",
            format!("到现场次数不能超过{MAX_VISITS}次"),
            format!("Visits cannot exceed {MAX_VISITS}"),
        ));
    }
    for (i, m) in item.materials.iter().enumerate() {
        let field = format!("materials[{i}]");
        if m.name.trim().is_empty() {
            out.push(ItemProblem::new(
                format!("{field}.name"),
                "required",
                format!("第{}项材料缺少名称", i + 1),
                format!("Material {} has no name", i + 1),
            ));
        }
        match m.parsed_source() {
            Some(MaterialSource::Elicence(t)) if !known.elicence_types.contains(t) => {
                out.push(ItemProblem::new(
                    format!("{field}.source"),
                    "unknown_elicence_type",
                    format!("电子证照类型“{t}”不存在"),
                    format!("Unknown e-licence type {t}"),
                ))
            }
            Some(_) => {}
            None => out.push(ItemProblem::new(
                format!("{field}.source"),
                "invalid_source",
                "材料来源应为 applicant、elicence:证照类型 或 data:数据集".into(),
                "A material source is applicant, elicence:<type> or data:<dataset>".into(),
            )),
        }
    }
    out
}

fn limit_problem(field: &str, value: u32) -> ItemProblem {
    ItemProblem::new(
        field,
        "absurd_limit",
        format!("时限{value}个工作日不合理（上限{MAX_LIMIT_DAYS}）"),
        format!("A limit of {value} working days is not plausible (at most {MAX_LIMIT_DAYS})"),
    )
}

/// One changed field between two versions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

/// Field-level differences between two JSON objects (absent fields count as null).
pub fn diff(before: &Value, after: &Value) -> Vec<FieldChange> {
    let empty = serde_json::Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (x, y) = (b.get(k).unwrap_or(&Value::Null), a.get(k).unwrap_or(&Value::Null));
            (x != y).then(|| FieldChange { field: k.clone(), before: x.clone(), after: y.clone() })
        })
        .collect()
}

/// What a proposal does to one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    Add,
    Change,
    Suspend,
    Resume,
    Remove,
}

impl ChangeOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOp::Add => "add",
            ChangeOp::Change => "change",
            ChangeOp::Suspend => "suspend",
            ChangeOp::Resume => "resume",
            ChangeOp::Remove => "remove",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ChangeOp::Add => "新增",
            ChangeOp::Change => "变更",
            ChangeOp::Suspend => "暂停",
            ChangeOp::Resume => "恢复",
            ChangeOp::Remove => "取消",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ChangeOp::Add => "Add",
            ChangeOp::Change => "Change",
            ChangeOp::Suspend => "Suspend",
            ChangeOp::Resume => "Resume",
            ChangeOp::Remove => "Remove",
        }
    }

    /// The status an item has after this change.
    pub fn resulting_status(self) -> ItemStatus {
        match self {
            ChangeOp::Add | ChangeOp::Change | ChangeOp::Resume => ItemStatus::Active,
            ChangeOp::Suspend => ItemStatus::Suspended,
            ChangeOp::Remove => ItemStatus::Removed,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Active,
    Suspended,
    Removed,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Active => "active",
            ItemStatus::Suspended => "suspended",
            ItemStatus::Removed => "removed",
        }
    }

    pub fn parse(s: &str) -> Option<ItemStatus> {
        match s {
            "active" => Some(ItemStatus::Active),
            "suspended" => Some(ItemStatus::Suspended),
            "removed" => Some(ItemStatus::Removed),
            _ => None,
        }
    }
}

/// Whether `op` may be applied to an item currently in `current` (None: no such item).
pub fn op_allowed(op: ChangeOp, current: Option<ItemStatus>) -> Result<(), (&'static str, &'static str)> {
    match (op, current) {
        (ChangeOp::Add, None) => Ok(()),
        (ChangeOp::Add, Some(_)) => Err(("该事项编码已存在", "An item with this code already exists")),
        (_, None) => Err(("该事项不存在", "No such item")),
        (_, Some(ItemStatus::Removed)) => Err(("该事项已取消", "The item has been removed")),
        (ChangeOp::Suspend, Some(ItemStatus::Suspended)) => {
            Err(("该事项已暂停", "The item is already suspended"))
        }
        (ChangeOp::Resume, Some(ItemStatus::Active)) => Err(("该事项未暂停", "The item is not suspended")),
        _ => Ok(()),
    }
}

/// A bundle resolved against the applicant's answers.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ResolvedBundle {
    pub code: String,
    pub name: String,
    pub items: Vec<ResolvedItem>,
    /// Materials asked once, however many items need them.
    pub materials: Vec<MergedMaterial>,
    pub departments: Vec<String>,
    /// The bundle's promised working days (its slowest item, or more when steps are sequential).
    pub promised_limit_days: u32,
    /// The slowest item's promised working days.
    pub slowest_item_days: u32,
    pub visits: u32,
    pub all_online: bool,
    /// Items of the bundle that are suspended or removed from the catalog right now.
    pub unavailable: Vec<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ResolvedItem {
    pub code: String,
    pub name: String,
    pub department: String,
    pub promised_limit_days: u32,
    /// Why it is in the list: `base` or the id of the question that added it.
    pub because: String,
    /// Whether it can be applied for online. A part that cannot is still part of the bundle's
    /// one case: it waits for the applicant's visit to a hall (到厅办理), where its materials are
    /// handed in, while the online parts go ahead.
    pub online: bool,
    /// Visits to a hall it needs (跑动次数).
    pub visits: u32,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MergedMaterial {
    pub name: String,
    /// `applicant`, `elicence:<type>` or `data:<dataset>`: filled from e-licences or shared data
    /// when any item can take it from there.
    pub source: String,
    /// Whether a commitment can replace it for every item that asks for it.
    pub commitment_ok: bool,
    /// The items that need it.
    pub needed_by: Vec<String>,
    /// Only parts done at a hall need it: it is brought there, not uploaded.
    pub in_person: bool,
}

/// Problems with the answers given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolveError {
    UnknownQuestion(String),
}

/// Normalises a material name for de-duplication: full-width brackets and spaces do not make two
/// materials different.
fn material_key(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            _ => c,
        })
        .collect()
}

/// Resolves `bundle` with yes/no `answers` keyed by question id.
pub fn resolve_bundle(
    bundle: &Bundle,
    answers: &BTreeMap<String, bool>,
    items: &HashMap<String, CatalogItem>,
) -> Result<ResolvedBundle, ResolveError> {
    for id in answers.keys() {
        if !bundle.questions.iter().any(|q| &q.id == id) {
            return Err(ResolveError::UnknownQuestion(id.clone()));
        }
    }
    let mut chosen: Vec<(String, String)> =
        bundle.items.iter().map(|c| (c.clone(), "base".to_string())).collect();
    for q in &bundle.questions {
        if answers.get(&q.id).copied().unwrap_or(false) {
            chosen.retain(|(c, _)| !q.removes_items.contains(c));
            for add in &q.adds_items {
                if !chosen.iter().any(|(c, _)| c == add) {
                    chosen.push((add.clone(), q.id.clone()));
                }
            }
        }
    }
    let mut resolved = Vec::with_capacity(chosen.len());
    let mut materials: Vec<MergedMaterial> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut departments: Vec<String> = Vec::new();
    let mut unavailable = Vec::new();
    for (code, because) in chosen {
        let Some(item) = items.get(&code) else {
            unavailable.push(code);
            continue;
        };
        if !departments.contains(&item.department) {
            departments.push(item.department.clone());
        }
        for m in &item.materials {
            let key = material_key(&m.name);
            match index.get(&key) {
                Some(&i) => {
                    let merged = &mut materials[i];
                    merged.needed_by.push(item.code.clone());
                    merged.commitment_ok &= m.commitment_ok;
                    // A source other than the applicant means the platform can fill it in.
                    if merged.source == "applicant" && m.source != "applicant" {
                        merged.source = m.source.clone();
                    }
                }
                None => {
                    index.insert(key, materials.len());
                    materials.push(MergedMaterial {
                        name: m.name.clone(),
                        source: m.source.clone(),
                        commitment_ok: m.commitment_ok,
                        needed_by: vec![item.code.clone()],
                        in_person: false,
                    });
                }
            }
        }
        resolved.push(ResolvedItem {
            code: item.code.clone(),
            name: item.name.clone(),
            department: item.department.clone(),
            promised_limit_days: item.promised_limit_days,
            because,
            online: item.online,
            visits: item.visits,
        });
    }
    for m in &mut materials {
        m.in_person = m.needed_by.iter().all(|code| resolved.iter().any(|r| &r.code == code && !r.online));
    }
    let chosen_items: Vec<&CatalogItem> = resolved.iter().filter_map(|r| items.get(&r.code)).collect();
    let slowest = chosen_items.iter().map(|i| i.promised_limit_days).max().unwrap_or(0);
    Ok(ResolvedBundle {
        code: bundle.code.clone(),
        name: bundle.name.clone(),
        items: resolved,
        materials,
        departments,
        promised_limit_days: bundle.promised_limit_days.max(slowest),
        slowest_item_days: slowest,
        visits: chosen_items.iter().map(|i| i.visits).max().unwrap_or(0),
        all_online: chosen_items.iter().all(|i| i.online),
        unavailable,
    })
}

/// One finding of the responsibility-boundary report (部门职责边界清单).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BoundaryFinding {
    /// `no_approving_department`, `two_claimants` or `no_supervising_department`.
    pub kind: String,
    pub items: Vec<String>,
    pub detail_zh: String,
    pub detail_en: String,
}

/// The boundary facts of one active item.
pub struct BoundaryRow<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub level: &'a str,
    pub department: Option<&'a str>,
    pub supervising: Option<&'a str>,
}

/// Items with no approving department, items claimed by two departments (same name and level,
/// different owners), and items with no supervising industry department.
pub fn boundary_report(rows: &[BoundaryRow<'_>]) -> Vec<BoundaryFinding> {
    let mut out = Vec::new();
    for r in rows {
        if r.department.is_none_or(str::is_empty) {
            out.push(BoundaryFinding {
                kind: "no_approving_department".into(),
                items: vec![r.code.into()],
                detail_zh: format!("“{}”没有审批部门", r.name),
                detail_en: format!("{} has no approving department", r.code),
            });
        }
        if r.supervising.is_none_or(str::is_empty) {
            out.push(BoundaryFinding {
                kind: "no_supervising_department".into(),
                items: vec![r.code.into()],
                detail_zh: format!("“{}”没有明确行业监管部门（审管联动）", r.name),
                detail_en: format!("{} has no supervising industry department", r.code),
            });
        }
    }
    let mut by_name: BTreeMap<(String, &str), Vec<&BoundaryRow<'_>>> = BTreeMap::new();
    for r in rows {
        let name: String = r.name.chars().filter(|c| !c.is_whitespace()).collect();
        by_name.entry((name, r.level)).or_default().push(r);
    }
    for ((name, _), group) in by_name {
        let owners: BTreeSet<&str> = group.iter().filter_map(|r| r.department).collect();
        if owners.len() > 1 {
            out.push(BoundaryFinding {
                kind: "two_claimants".into(),
                items: group.iter().map(|r| r.code.to_string()).collect(),
                detail_zh: format!(
                    "“{name}”由多个部门认领：{}",
                    owners.iter().copied().collect::<Vec<_>>().join("、")
                ),
                detail_en: format!(
                    "{name} is claimed by {}",
                    owners.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    out
}

/// The industry department that supervises an item after approval (审管联动): the owner itself
/// when it is an industry department; otherwise (the approval bureaus, which approve on behalf of
/// others) the industry department whose duties best match the item's name and keywords.
pub fn infer_supervisor(
    item: &CatalogItem,
    departments: &[crate::reference::data::Department],
) -> Option<String> {
    let owner = departments.iter().find(|d| d.code == item.department)?;
    if owner.kind == "industry" {
        return Some(owner.code.clone());
    }
    let text = format!("{} {} {}", item.name, item.keywords.join(" "), item.conditions);
    departments
        .iter()
        .filter(|d| d.kind == "industry" && d.level == "city")
        .map(|d| {
            let score: usize = d
                .duties
                .iter()
                .filter(|duty| text.contains(duty.as_str()))
                .map(|duty| duty.chars().count())
                .sum();
            (score, d)
        })
        .filter(|(score, _)| *score > 0)
        .max_by_key(|(score, _)| *score)
        .map(|(_, d)| d.code.clone())
}

/// One step of an item's handling (办理流程), as the guide draws it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessStep {
    pub zh: &'static str,
    pub en: &'static str,
}

/// The handling steps of `item` (办理流程), from how it is handled: 即办件 are decided at the
/// window; a 告知承诺 application is approved on the commitment and checked afterwards; an
/// item with one approver (独任审批) reviews and decides in one step.
pub fn process_steps(item: &CatalogItem) -> Vec<ProcessStep> {
    let step = |zh, en| ProcessStep { zh, en };
    let apply = if item.online {
        step("网上申请或窗口申请", "Apply online or at a window")
    } else {
        step("到窗口申请", "Apply at a window")
    };
    if item.handling == "即办件" {
        return vec![
            apply,
            step("窗口受理并当场办结", "Accepted and decided on the spot"),
            step("领取结果", "Collect the result"),
        ];
    }
    let mut steps = vec![
        apply,
        step("受理（材料不全的一次性告知补正）", "Acceptance (anything missing is asked for at once)"),
    ];
    if item.commitment {
        steps.push(step(
            "可选告知承诺：承诺后当场准予",
            "Optionally sign a commitment: granted on acceptance",
        ));
    }
    if item.single_approver {
        steps.push(step("独任审批：审查与决定一并完成", "One approver reviews and decides"));
    } else {
        steps.push(step("审查", "Review"));
        steps.push(step("决定", "Decision"));
    }
    steps.push(step("送达结果（电子证照进卡包）", "The result is delivered (e-licences to the wallet)"));
    if item.commitment {
        steps.push(step("事后核查承诺内容", "The commitment is checked afterwards"));
    }
    steps
}

/// How a material is handed in (原件/复印件 and copies), by the national guide's usual rule:
/// what is fetched from e-licences or shared data is not handed in at all; forms the applicant
/// fills in and signs are originals; certificates are shown in original and left as a copy.
pub fn material_form(material: &crate::reference::data::Material) -> (&'static str, &'static str) {
    match material.parsed_source() {
        Some(MaterialSource::Elicence(_)) => {
            ("免提交（调取电子证照）", "Not handed in (taken from the e-licence)")
        }
        Some(MaterialSource::Data(_)) => ("免提交（部门共享数据）", "Not handed in (shared department data)"),
        _ if ["申请书", "申请表", "登记表", "承诺书", "声明", "委托书", "章程", "方案", "报告"]
            .iter()
            .any(|w| material.name.contains(w)) =>
        {
            ("原件 1 份", "1 original")
        }
        _ => ("原件核验，复印件 1 份", "Original shown, 1 copy left"),
    }
}

/// A stage of a life (双全双百: services for the whole life of a person and of an enterprise),
/// gathering the catalog's life events (`life_event`).
#[derive(Debug, PartialEq, Eq)]
pub struct LifeStage {
    /// For addresses (`/life-events#stage-birth`).
    pub code: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub events: &'static [&'static str],
}

/// A person's life: 出生、上学、就业、婚育、置业、退休、身后.
pub const PERSON_STAGES: [LifeStage; 7] = [
    LifeStage { code: "birth", zh: "出生", en: "Birth", events: &["出生", "户籍"] },
    LifeStage { code: "school", zh: "上学", en: "School", events: &["入学"] },
    LifeStage { code: "work", zh: "就业", en: "Work", events: &["就业", "社保医保", "公积金"] },
    LifeStage { code: "family", zh: "婚育", en: "Marriage and children", events: &["婚育"] },
    LifeStage { code: "home", zh: "置业", en: "A home", events: &["住房"] },
    LifeStage { code: "retirement", zh: "退休", en: "Retirement", events: &["养老"] },
    LifeStage { code: "after-death", zh: "身后", en: "After a death", events: &["身后"] },
];

/// An enterprise's life: 开办、准营、经营、变更、注销.
pub const ENTERPRISE_STAGES: [LifeStage; 5] = [
    LifeStage { code: "start", zh: "开办", en: "Starting up", events: &["开办"] },
    LifeStage {
        code: "permits", zh: "准营", en: "Permits to operate", events: &["准营", "工程建设"]
    },
    LifeStage {
        code: "operation",
        zh: "经营",
        en: "Running the business",
        events: &["经营", "纳税", "用工", "融资", "惠企政策"],
    },
    LifeStage { code: "changes", zh: "变更", en: "Changes", events: &["变更"] },
    LifeStage { code: "closing", zh: "注销", en: "Closing down", events: &["注销"] },
];

/// The stages of the life an audience lives: a person's for `person`, an enterprise's otherwise.
pub fn stages_for(audience: &str) -> &'static [LifeStage] {
    if audience == "person" { &PERSON_STAGES } else { &ENTERPRISE_STAGES }
}

/// The stage of `life_event` among `stages`, if it has one (出行, 生活服务 and the like do not).
pub fn stage_of(stages: &'static [LifeStage], life_event: &str) -> Option<&'static LifeStage> {
    stages.iter().find(|s| s.events.contains(&life_event))
}

/// Whether an item for `audience` belongs in the life of `track` (`person` or `enterprise`).
pub fn in_track(audience: &str, track: &str) -> bool {
    audience == track || audience == "both"
}

/// A bundle's stage: that of its first (leading) item, in the life of its audience.
pub fn bundle_stage(bundle: &Bundle, items: &HashMap<&str, &CatalogItem>) -> Option<&'static LifeStage> {
    let first = items.get(bundle.items.first()?.as_str())?;
    stage_of(stages_for(&bundle.audience), &first.life_event)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::reference::data;

    fn shipped() -> data::ReferenceData {
        data::shipped().unwrap()
    }

    fn known(d: &data::ReferenceData) -> (HashSet<String>, HashSet<String>) {
        (
            d.departments.iter().map(|x| x.code.clone()).collect(),
            d.elicence_types.iter().map(|x| x.code.clone()).collect(),
        )
    }

    #[test]
    fn every_shipped_bundle_has_its_stage_and_every_stage_has_services() {
        let d = shipped();
        let items: HashMap<&str, &CatalogItem> =
            d.catalog.items.iter().map(|i| (i.code.as_str(), i)).collect();
        let staged: Vec<(&str, &str)> = d
            .bundles
            .iter()
            .map(|b| (b.name.as_str(), bundle_stage(b, &items).map(|s| s.zh).unwrap_or("none")))
            .collect();
        assert!(staged.iter().all(|(_, s)| *s != "none"), "{staged:?}");
        assert!(staged.contains(&("开餐馆一件事", "开办")), "{staged:?}");
        assert!(staged.contains(&("婚育一件事", "婚育")), "{staged:?}");
        assert!(staged.contains(&("退休一件事", "退休")), "{staged:?}");
        for (track, stages) in [("person", &PERSON_STAGES[..]), ("enterprise", &ENTERPRISE_STAGES[..])] {
            for stage in stages {
                let n = d
                    .catalog
                    .items
                    .iter()
                    .filter(|i| in_track(&i.audience, track) && stage.events.contains(&i.life_event.as_str()))
                    .count();
                assert!(n > 0, "{track} {} has no items", stage.zh);
            }
        }
        // Stages do not overlap within a life.
        for stages in [&PERSON_STAGES[..], &ENTERPRISE_STAGES[..]] {
            let all: Vec<&str> = stages.iter().flat_map(|s| s.events.iter().copied()).collect();
            let unique: HashSet<&str> = all.iter().copied().collect();
            assert_eq!(all.len(), unique.len());
        }
    }

    #[test]
    fn process_steps_follow_how_an_item_is_handled() {
        let d = shipped();
        let by = |code: &str| d.catalog.items.iter().find(|i| i.code == code).unwrap().clone();
        let mut item = by("JN-SPJ-0001");
        let names = |i: &CatalogItem| process_steps(i).iter().map(|s| s.zh).collect::<Vec<_>>();
        assert!(item.commitment && item.single_approver);
        let steps = names(&item);
        assert!(
            steps.iter().any(|s| s.contains("告知承诺")) && steps.last().unwrap().contains("事后核查"),
            "{steps:?}"
        );
        assert!(steps.iter().any(|s| s.contains("独任审批")));
        item.handling = "即办件".into();
        assert_eq!(names(&item).len(), 3, "decided at the window");
        item.handling = "承诺件".into();
        item.commitment = false;
        item.single_approver = false;
        let steps = names(&item);
        assert!(steps.contains(&"审查") && steps.contains(&"决定"), "{steps:?}");
        item.online = false;
        assert_eq!(names(&item)[0], "到窗口申请");
    }

    #[test]
    fn materials_say_original_copy_or_nothing_to_hand_in() {
        let m = |name: &str, source: &str| crate::reference::data::Material {
            name: name.into(),
            source: source.into(),
            commitment_ok: false,
        };
        assert_eq!(material_form(&m("公司登记（备案）申请书", "applicant")).0, "原件 1 份");
        assert_eq!(material_form(&m("公司章程", "applicant")).0, "原件 1 份");
        assert_eq!(material_form(&m("房屋租赁合同", "applicant")).0, "原件核验，复印件 1 份");
        assert!(material_form(&m("居民身份证", "elicence:id_card")).0.starts_with("免提交"));
        assert!(material_form(&m("社保缴费记录", "data:social_insurance")).0.starts_with("免提交"));
    }

    #[test]
    fn shipped_items_are_valid() {
        let d = shipped();
        let (deps, lic) = known(&d);
        let k = Known { departments: &deps, elicence_types: &lic };
        for item in &d.catalog.items {
            assert_eq!(validate_item(item, &k), vec![], "{}", item.code);
        }
    }

    #[test]
    fn bad_items_name_their_fields() {
        let d = shipped();
        let (deps, lic) = known(&d);
        let k = Known { departments: &deps, elicence_types: &lic };
        let mut item = d.catalog.items[0].clone();
        item.department = "".into();
        item.legal_limit_days = Some(5000);
        item.promised_limit_days = 4000;
        item.materials[0].source = "elicence:unicorn_permit".into();
        item.level = "galaxy".into();
        let fields: Vec<String> = validate_item(&item, &k).into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            ["department", "level", "legal_limit_days", "promised_limit_days", "materials[0].source"]
        );
        let mut item = d.catalog.items[0].clone();
        item.department = "JN-NOPE".into();
        item.legal_limit_days = Some(3);
        item.promised_limit_days = 5;
        let problems = validate_item(&item, &k);
        assert_eq!(problems[0].code, "unknown_department");
        assert_eq!(problems[1].code, "promised_exceeds_legal");
    }

    #[test]
    fn diff_lists_changed_fields_only() {
        let a = serde_json::json!({"name": "甲", "fee": "不收费", "visits": 1});
        let b = serde_json::json!({"name": "乙", "fee": "不收费", "visits": 0, "new": true});
        let d = diff(&a, &b);
        let fields: Vec<&str> = d.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["name", "new", "visits"]);
        assert_eq!(d[0].before, "甲");
        assert_eq!(d[1].before, Value::Null);
    }

    #[test]
    fn op_rules() {
        assert!(op_allowed(ChangeOp::Add, None).is_ok());
        assert!(op_allowed(ChangeOp::Add, Some(ItemStatus::Active)).is_err());
        assert!(op_allowed(ChangeOp::Change, None).is_err());
        assert!(op_allowed(ChangeOp::Suspend, Some(ItemStatus::Active)).is_ok());
        assert!(op_allowed(ChangeOp::Suspend, Some(ItemStatus::Suspended)).is_err());
        assert!(op_allowed(ChangeOp::Resume, Some(ItemStatus::Suspended)).is_ok());
        assert!(op_allowed(ChangeOp::Change, Some(ItemStatus::Removed)).is_err());
    }

    #[test]
    fn bundle_resolution_merges_materials_and_follows_answers() {
        let d = shipped();
        let items: HashMap<String, CatalogItem> =
            d.catalog.items.iter().map(|i| (i.code.clone(), i.clone())).collect();
        let bundle = d.bundles.iter().find(|b| b.code == "JN-YJS-001").unwrap();
        let base = resolve_bundle(bundle, &BTreeMap::new(), &items).unwrap();
        assert_eq!(base.items.len(), bundle.items.len());
        // Materials are asked once: no two merged materials share a key, and a material that
        // several items need lists them all.
        let keys: HashSet<String> = base.materials.iter().map(|m| material_key(&m.name)).collect();
        assert_eq!(keys.len(), base.materials.len());
        let total: usize = base.items.iter().map(|i| items[&i.code].materials.len()).sum();
        let needed: usize = base.materials.iter().map(|m| m.needed_by.len()).sum();
        assert_eq!(total, needed);
        assert!(base.materials.len() < total, "some material is shared between items");
        let q2: BTreeMap<String, bool> = [("q2".to_string(), true)].into();
        let with_staff = resolve_bundle(bundle, &q2, &items).unwrap();
        assert_eq!(with_staff.items.len(), base.items.len() + 2);
        assert!(with_staff.items.iter().any(|i| i.because == "q2"));
        let bad: BTreeMap<String, bool> = [("q99".to_string(), true)].into();
        assert_eq!(
            resolve_bundle(bundle, &bad, &items).unwrap_err(),
            ResolveError::UnknownQuestion("q99".into())
        );
        assert!(base.promised_limit_days >= base.slowest_item_days);
    }

    #[test]
    fn a_bundle_names_its_parts_done_at_a_hall_and_what_only_they_need() {
        let d = shipped();
        let items: HashMap<String, CatalogItem> =
            d.catalog.items.iter().map(|i| (i.code.clone(), i.clone())).collect();
        // 开餐馆一件事: the staff health check (JN-WJW-0001) cannot be applied for online.
        let bundle = d.bundles.iter().find(|b| b.code == "JN-YJS-002").unwrap();
        let r = resolve_bundle(bundle, &BTreeMap::new(), &items).unwrap();
        assert!(!r.all_online);
        let offline: Vec<&str> = r.items.iter().filter(|i| !i.online).map(|i| i.code.as_str()).collect();
        assert_eq!(offline, ["JN-WJW-0001"]);
        assert_eq!(r.items.iter().find(|i| i.code == "JN-WJW-0001").unwrap().visits, 1);
        // A material is brought to the hall exactly when every item needing it is done there.
        for m in &r.materials {
            let only_offline = m.needed_by.iter().all(|c| !items[c].online);
            assert_eq!(m.in_person, only_offline, "{}", m.name);
        }
        let health: Vec<&str> = items["JN-WJW-0001"].materials.iter().map(|m| m.name.as_str()).collect();
        assert!(r.materials.iter().any(|m| m.in_person && health.contains(&m.name.as_str())));
        // A bundle done wholly online has nothing to bring.
        let online = d.bundles.iter().find(|b| b.code == "JN-YJS-001").unwrap();
        let r = resolve_bundle(online, &BTreeMap::new(), &items).unwrap();
        assert!(r.all_online && r.materials.iter().all(|m| !m.in_person));
    }

    #[test]
    fn boundary_report_finds_the_three_kinds() {
        let rows = [
            BoundaryRow {
                code: "A",
                name: "某许可",
                level: "city",
                department: Some("D1"),
                supervising: Some("D1"),
            },
            BoundaryRow {
                code: "B",
                name: "某许可",
                level: "city",
                department: Some("D2"),
                supervising: Some("D2"),
            },
            BoundaryRow {
                code: "C", name: "孤儿事项", level: "city", department: None, supervising: None
            },
            BoundaryRow {
                code: "D",
                name: "正常事项",
                level: "city",
                department: Some("D1"),
                supervising: Some("D1"),
            },
        ];
        let found = boundary_report(&rows);
        let kinds: Vec<(&str, Vec<String>)> =
            found.iter().map(|f| (f.kind.as_str(), f.items.clone())).collect();
        assert!(kinds.contains(&("two_claimants", vec!["A".into(), "B".into()])));
        assert!(kinds.contains(&("no_approving_department", vec!["C".into()])));
        assert!(kinds.contains(&("no_supervising_department", vec!["C".into()])));
        assert_eq!(found.len(), 3);
    }

    #[test]
    fn supervisor_is_inferred_for_approval_bureau_items() {
        let d = shipped();
        let food =
            d.catalog.items.iter().find(|i| i.department == "JN-SPJ" && i.name.contains("食品经营")).unwrap();
        assert_eq!(infer_supervisor(food, &d.departments).as_deref(), Some("JN-SCJ"));
        let industry = d.catalog.items.iter().find(|i| i.department == "JN-GAJ").unwrap();
        assert_eq!(infer_supervisor(industry, &d.departments).as_deref(), Some("JN-GAJ"));
    }
}
