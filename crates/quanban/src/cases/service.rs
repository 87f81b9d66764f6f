//! Applying and acting on cases: validation, authorization and the calls into the store, shared
//! by the JSON API and the web pages so that both answer the same way.

use std::collections::BTreeMap;

use base64::Engine;
use chrono::Datelike;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::domain::{self, CaseAction, CaseFlags, CaseState, Performer};
use super::intake::{self, ApplicationForm, OfferedFile, ProvidedAs};
use super::store::{self, CaseRecord, NewBundleCase, NewItemCase, Submission};
use crate::app::AppState;
use crate::catalog;
use crate::http::{ApiError, ApiResult, Caller, FieldError};
use crate::identity::authz::{Action, Actor, Area, Decision, Resource, Role, decide};
use crate::reference::data::CatalogItem;
use crate::store::StoreError;

/// The commitment (告知承诺): `true`, or `{"accepted": true}` / `{"signed": true}`.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum CommitmentInput {
    Flag(bool),
    Signed {
        #[serde(default)]
        accepted: bool,
        #[serde(default)]
        signed: bool,
    },
}

impl CommitmentInput {
    pub fn given(&self) -> bool {
        match self {
            CommitmentInput::Flag(b) => *b,
            CommitmentInput::Signed { accepted, signed } => *accepted || *signed,
        }
    }
}

/// One material offered with an application: which one (`index` into the item's — or the
/// bundle's merged — materials, or its `name`) and the file, either already uploaded (`upload`,
/// the hash from `POST /api/v1/uploads`) or inline (`content_base64` with `file_name`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct MaterialInput {
    pub index: Option<usize>,
    pub name: Option<String>,
    pub upload: Option<String>,
    pub file_name: Option<String>,
    pub content_base64: Option<String>,
    /// The id of a credential in the applicant's wallet that proves this material (免提交);
    /// naming it is the holder's consent to its use for this case.
    pub credential: Option<String>,
}

/// An application for one item (`item_code`) or a bundle (`bundle_code` with `answers`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ApplyRequest {
    pub item_code: Option<String>,
    pub bundle_code: Option<String>,
    /// Bundle question id → yes/no.
    pub answers: BTreeMap<String, bool>,
    /// Credit code of the enterprise applied for (the caller must represent it).
    pub enterprise: Option<String>,
    pub form: ApplicationForm,
    pub materials: Vec<MaterialInput>,
    pub commitment: Option<CommitmentInput>,
    /// Window registration only (a window clerk submitting a walk-in's application): the
    /// registered applicant's mobile number.
    pub applicant_phone: Option<String>,
    /// Assisted service (帮办代办): the request under which the assigned officer, holding the
    /// applicant's power of attorney, submits for them.
    pub assistance_id: Option<String>,
    /// The policy applied for, when the item is the policy window (惠企政策兑现申请,
    /// `JN-FGW-0003`): its code, e.g. `JN-ZC-2026-008`.
    pub policy: Option<String>,
    /// A construction project's stage (the bundle is one of the project's stages): the
    /// project's code, e.g. `2026-370100-48-03-000001`.
    pub project: Option<String>,
}

/// Material names a request's files are matched against, with the error field prefix.
struct MaterialSlot<'a> {
    name: &'a str,
    /// `applicant`, `elicence:<type>` or `data:<dataset>`.
    source: &'a str,
}

/// Which material slot an offered material names (by index or name); an error naming
/// `materials[i]` when none.
fn material_slot(
    i: usize,
    m: &MaterialInput,
    slots: &[MaterialSlot<'_>],
    errors: &mut Vec<FieldError>,
) -> Option<usize> {
    let slot = match (&m.index, &m.name) {
        (Some(ix), _) => slots.get(*ix).map(|_| *ix),
        (None, Some(n)) => slots.iter().position(|s| s.name == n.trim()),
        (None, None) => None,
    };
    if slot.is_none() {
        errors.push(FieldError::new(
            &format!("materials[{i}]"),
            "unknown_material",
            format!("第{}项材料不是本事项要求的材料", i + 1),
            format!("Material {} is not one this application asks for", i + 1),
        ));
    }
    slot
}

/// Resolves the offered files: stores inline ones, checks uploaded ones exist, and matches each
/// to a material slot. Problems name `materials[i]` and the material.
async fn offered_files(
    state: &AppState,
    user_id: &str,
    slots: &[MaterialSlot<'_>],
    inputs: &[MaterialInput],
    errors: &mut Vec<FieldError>,
) -> ApiResult<Vec<OfferedFile>> {
    let mut out = Vec::new();
    for (i, m) in inputs.iter().enumerate() {
        if m.credential.is_some() {
            // Handled by `offered_credentials`.
            continue;
        }
        let field = format!("materials[{i}]");
        let Some(index) = material_slot(i, m, slots, errors) else { continue };
        let material_name = slots[index].name;
        let file_name = m.file_name.clone().unwrap_or_else(|| format!("{material_name}.pdf"));
        if let Some(b64) = &m.content_base64 {
            let bytes = match base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
                Ok(b) => b,
                Err(_) => {
                    errors.push(FieldError::new(
                        &field,
                        "bad_base64",
                        format!("材料“{material_name}”的文件内容不是有效的 Base64"),
                        format!("The file for material \"{material_name}\" is not valid Base64"),
                    ));
                    continue;
                }
            };
            let size = bytes.len() as i64;
            match store_file(state, user_id, &file_name, bytes).await? {
                Ok((hash, kind)) => out.push(OfferedFile {
                    index,
                    hash,
                    file_name,
                    size,
                    content_type: kind.content_type().into(),
                }),
                Err(p) => errors.push(crate::platform::uploads::file_error(&field, material_name, p)),
            }
        } else if let Some(hash) = &m.upload {
            match crate::platform::uploads::upload_meta(&state.db, hash.trim()).await? {
                Some((size, content_type)) => out.push(OfferedFile {
                    index,
                    hash: hash.trim().to_string(),
                    file_name,
                    size,
                    content_type,
                }),
                None => errors.push(FieldError::new(
                    &field,
                    "unknown_upload",
                    format!("材料“{material_name}”引用的文件不存在，请重新上传"),
                    format!(
                        "The file referenced for material \"{material_name}\" does not exist; upload it again"
                    ),
                )),
            }
        } else {
            errors.push(FieldError::new(
                &field,
                "no_file",
                format!("材料“{material_name}”没有附上文件"),
                format!("Material \"{material_name}\" has no file attached"),
            ));
        }
    }
    Ok(out)
}

/// Resolves wallet credentials offered for materials: each must be the applicant's (or the
/// enterprise's applied for), of the e-licence type the material asks for, and verify now. The
/// verification result is recorded with the case.
async fn offered_credentials(
    state: &AppState,
    applicant_id: &str,
    enterprise: Option<&str>,
    slots: &[MaterialSlot<'_>],
    inputs: &[MaterialInput],
    errors: &mut Vec<FieldError>,
) -> ApiResult<Vec<intake::OfferedCredential>> {
    use crate::licences::{service as lservice, store as lstore};
    let mut out = Vec::new();
    for (i, m) in inputs.iter().enumerate() {
        let Some(id) = m.credential.as_deref().map(str::trim) else { continue };
        let field = format!("materials[{i}]");
        let Some(index) = material_slot(i, m, slots, errors) else { continue };
        let material = slots[index].name;
        let wanted = slots[index].source.strip_prefix("elicence:");
        let found = lstore::credential(&state.db, id).await?;
        // The applicant's own cards (a legal representative's ID card, say) and the licences of
        // the enterprise applied for.
        let owned = found.as_ref().is_some_and(|c| {
            c.holder_user_id.as_deref() == Some(applicant_id)
                || (c.holder_credit_code.is_some() && c.holder_credit_code.as_deref() == enterprise)
        });
        let Some(c) = found.filter(|_| owned) else {
            errors.push(FieldError::new(
                &field,
                "unknown_credential",
                format!("材料“{material}”引用的电子证照不在申请人的卡包中"),
                format!("The e-licence offered for \"{material}\" is not in the applicant's wallet"),
            ));
            continue;
        };
        if wanted != Some(c.type_code.as_str()) {
            errors.push(FieldError::new(
                &field,
                "wrong_credential_type",
                format!("材料“{material}”不能用该类电子证照代替"),
                format!("This kind of e-licence cannot stand in for \"{material}\""),
            ));
            continue;
        }
        let verdict = lservice::verify(&state.db, &state.licensing, &c.document).await?;
        if !verdict.valid {
            errors.push(FieldError::new(
                &field,
                "credential_invalid",
                format!("材料“{material}”的电子证照未通过核验：{}", verdict.message_zh),
                format!("The e-licence for \"{material}\" did not verify: {}", verdict.message_en),
            ));
            continue;
        }
        out.push(intake::OfferedCredential {
            index,
            credential_id: c.id.clone(),
            identifier: c.identifier.clone(),
            check: json!({
                "valid": verdict.valid,
                "reason": verdict.reason,
                "suites": verdict.suites,
                "checked_at": state.db.now_text(),
            })
            .to_string(),
        });
    }
    Ok(out)
}

fn flags_of(item: &CatalogItem, with_commitment: bool) -> CaseFlags {
    CaseFlags {
        single_approver: item.single_approver,
        immediate: item.handling == "即办件",
        commitment: with_commitment && item.commitment,
        in_person: false,
        accepted: false,
    }
}

/// Submits an application; answers the new case's number and state.
pub async fn apply(
    state: &AppState,
    caller: &Caller,
    mut req: ApplyRequest,
) -> ApiResult<(String, CaseState)> {
    let submitter_id = caller.require_user()?.to_string();
    let submitter_name = match &caller.name {
        Some(n) => n.clone(),
        None => crate::platform::directory::user_name(&state.db, &submitter_id).await?,
    };
    let mut errors = req.form.validate();
    let assisted = matches!(caller.actor, Actor::Staff { .. })
        && req.assistance_id.as_deref().is_some_and(|s| !s.trim().is_empty());
    // The timeline says who submitted for whom.
    let submitter_name = if assisted {
        format!("{submitter_name}（帮办代办 / assisted service）")
    } else {
        submitter_name
    };
    // Online, the applicant is the caller. At a window (一窗受理) a clerk registers a walk-in
    // applicant's paper application for the registered person with that mobile number.
    let (user_id, person_name, enterprises) = match &caller.actor {
        Actor::Person { enterprises, .. } => {
            (submitter_id.clone(), submitter_name.clone(), enterprises.clone())
        }
        Actor::Staff { .. } if req.assistance_id.as_deref().is_some_and(|s| !s.trim().is_empty()) => {
            let id = req.assistance_id.as_deref().unwrap_or_default().trim().to_string();
            let code = req.item_code.as_deref().or(req.bundle_code.as_deref());
            let r = crate::assistance::service::principal_for(state, &submitter_id, &id, code).await?;
            if req.enterprise.is_none() {
                req.enterprise = r.enterprise.clone();
            }
            let actor =
                crate::identity::session::load_actor(&state.db, &r.requester_id, "person", None).await?;
            let enterprises = match actor {
                Actor::Person { enterprises, .. } => enterprises,
                _ => Vec::new(),
            };
            (r.requester_id.clone(), r.requester_name.clone(), enterprises)
        }
        Actor::Staff { grants, .. } if is_window_clerk(&caller.actor) => {
            let phone = req.applicant_phone.as_deref().map(str::trim).unwrap_or("");
            let found = match crate::identity::domain::Phone::parse(phone) {
                Ok(p) => crate::identity::store::person_by_phone(&state.db, &state.vault, p.as_str()).await?,
                Err(_) => None,
            };
            let Some(person) = found else {
                errors.push(FieldError::new(
                    "applicant_phone",
                    "unknown_applicant",
                    "请填写已实名注册的申请人手机号码",
                    "Give the mobile number of a registered applicant",
                ));
                return Err(ApiError::Validation(errors));
            };
            let actor = crate::identity::session::load_actor(&state.db, &person, "person", None).await?;
            let enterprises = match actor {
                Actor::Person { enterprises, .. } => enterprises,
                _ => Vec::new(),
            };
            (person.clone(), crate::platform::directory::user_name(&state.db, &person).await?, enterprises)
        }
        _ => return Err(ApiError::Forbidden),
    };
    let enterprise = req.enterprise.as_ref().map(|e| e.trim().to_uppercase()).filter(|e| !e.is_empty());
    let mut applicant_name = person_name.clone();
    if let Some(code) = &enterprise {
        match store::enterprise_name(&state.db, code).await? {
            Some(name) if enterprises.contains(code) => applicant_name = name,
            _ => errors.push(FieldError::new(
                "enterprise",
                "not_your_enterprise",
                "您不是该企业的法定代表人或授权代理人",
                "You are not the legal representative or an authorised agent of this enterprise",
            )),
        }
    }
    let wants_commitment = req.commitment.as_ref().is_some_and(CommitmentInput::given);
    if wants_commitment && store::has_credit_mark(&state.db, &user_id, enterprise.as_deref()).await? {
        errors.push(FieldError::new(
            "commitment",
            "credit_mark",
            "因存在虚假承诺的失信记录，不能适用告知承诺，请提交全部材料",
            "A credit mark for a false commitment bars the commitment route; submit every material",
        ));
    }
    // Applying online (a person on the site) needs items that can be applied for online; at a
    // window or through an assisted-service officer the paper materials are in hand.
    let online = matches!(caller.actor, Actor::Person { .. });
    let day = state.clock().today();
    let mut submission = match (req.item_code.take(), req.bundle_code.take()) {
        (Some(code), None) => {
            let stored = catalog::store::get(&state.db, code.trim()).await?;
            let Some(stored) = stored.filter(|s| s.status == "active") else {
                errors.push(FieldError::new(
                    "item_code",
                    "unknown_item",
                    format!("事项“{code}”不存在或已暂停办理"),
                    format!("Item {code} does not exist or is suspended"),
                ));
                return Err(ApiError::Validation(errors));
            };
            let item = stored.item;
            check_item_for(&item, enterprise.is_some(), "item_code", online, &mut errors);
            refuse_enterprise_for_person(&item.name, &item.audience, enterprise.is_some(), &mut errors);
            // The policy window: the policy applied for is checked against the register now.
            let mut application = None;
            if item.code == crate::policies::window::WINDOW_ITEM
                && let Some(policy) = req.policy.as_deref().map(str::trim).filter(|p| !p.is_empty())
                && let Some(code) = &enterprise
                && !errors.iter().any(|e| e.field == "enterprise")
            {
                let actor = format!("user:{submitter_id}");
                match crate::policies::service::application_for(state, &actor, &submitter_name, code, policy)
                    .await?
                {
                    Ok(a) => application = Some(a),
                    Err(e) => errors.push(e),
                }
            }
            if let Actor::Staff { .. } = &caller.actor
                && !assisted
            {
                // A department's own window registers its own items; a general window any item.
                let takes_in = Resource::Case {
                    department: item.department.clone(),
                    applicant: String::new(),
                    enterprise: None,
                };
                let may = decide(&caller.actor, Action::Accept, &takes_in) == Decision::Allow;
                if !may {
                    errors.push(FieldError::new(
                        "item_code",
                        "not_this_window",
                        "本窗口不受理该事项，请到综合窗口或该部门窗口办理",
                        "This window does not take this item; use a general window or the department's own",
                    ));
                }
            }
            if wants_commitment && !item.commitment {
                errors.push(FieldError::new(
                    "commitment",
                    "commitment_not_allowed",
                    "该事项不适用告知承诺",
                    "This item does not offer the commitment route",
                ));
            }
            let slots: Vec<MaterialSlot> =
                item.materials.iter().map(|m| MaterialSlot { name: &m.name, source: &m.source }).collect();
            let files = offered_files(state, &submitter_id, &slots, &req.materials, &mut errors).await?;
            let credentials = offered_credentials(
                state,
                &user_id,
                enterprise.as_deref(),
                &slots,
                &req.materials,
                &mut errors,
            )
            .await?;
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            let with_commitment = wants_commitment && item.commitment;
            let replaced: Vec<&str> = item
                .materials
                .iter()
                .enumerate()
                .filter(|(i, m)| m.commitment_ok && !files.iter().any(|f| f.index == *i))
                .map(|(_, m)| m.name.as_str())
                .collect();
            Submission {
                day,
                applicant_id: user_id.clone(),
                applicant_name,
                person_name: person_name.clone(),
                enterprise,
                submitted_by: submitter_id.clone(),
                submitted_by_name: submitter_name.clone(),
                commitment_text: with_commitment.then(|| intake::commitment_text(&item.name, &replaced)),
                form: req.form,
                bundle: None,
                items: vec![NewItemCase {
                    personal: false,
                    item_code: item.code.clone(),
                    title: application.as_ref().map_or_else(|| item.name.clone(), |a| a.title.clone()),
                    answers: application.as_ref().map(|a| a.answers.clone()),
                    department: item.department.clone(),
                    promised_days: item.promised_limit_days,
                    flags: CaseFlags {
                        immediate: flags_of(&item, with_commitment).immediate
                            || application.as_ref().is_some_and(|a| a.direct),
                        ..flags_of(&item, with_commitment)
                    },
                    materials: intake::plan_materials(&item.materials, &files, &credentials, with_commitment),
                }],
            }
        }
        (None, Some(code)) => {
            if matches!(&caller.actor, Actor::Staff { .. }) && !assisted && !is_general_window(&caller.actor)
            {
                errors.push(FieldError::new(
                    "bundle_code",
                    "not_this_window",
                    "“一件事”由综合窗口统一收件",
                    "Bundles are taken in at a general window",
                ));
                return Err(ApiError::Validation(errors));
            }
            let resolved = match catalog::api::resolve(state, code.trim(), &req.answers).await {
                Ok(r) => r,
                Err(ApiError::NotFound) => {
                    errors.push(FieldError::new(
                        "bundle_code",
                        "unknown_bundle",
                        format!("“一件事”“{code}”不存在"),
                        format!("Bundle {code} does not exist"),
                    ));
                    return Err(ApiError::Validation(errors));
                }
                Err(e) => return Err(e),
            };
            let audience = catalog::api::load_bundles(state)
                .await?
                .into_iter()
                .find(|b| b.code == resolved.code)
                .map(|b| b.audience)
                .unwrap_or_default();
            refuse_enterprise_for_person(&resolved.name, &audience, enterprise.is_some(), &mut errors);
            if !resolved.unavailable.is_empty() {
                errors.push(FieldError::new(
                    "bundle_code",
                    "items_unavailable",
                    format!("以下事项暂停办理：{}", resolved.unavailable.join("、")),
                    format!("These items are suspended: {}", resolved.unavailable.join(", ")),
                ));
            }
            let slots: Vec<MaterialSlot> = resolved
                .materials
                .iter()
                .map(|m| MaterialSlot { name: &m.name, source: &m.source })
                .collect();
            let files = offered_files(state, &submitter_id, &slots, &req.materials, &mut errors).await?;
            let credentials = offered_credentials(
                state,
                &user_id,
                enterprise.as_deref(),
                &slots,
                &req.materials,
                &mut errors,
            )
            .await?;
            let mut items = Vec::new();
            for part in &resolved.items {
                let Some(stored) = catalog::store::get(&state.db, &part.code).await? else { continue };
                let item = stored.item;
                // A part that cannot be applied for online does not hold up the rest: it waits in
                // the bundle's case for the applicant's visit to a hall.
                let in_person = online && !item.online;
                check_item_for(&item, enterprise.is_some(), "bundle_code", false, &mut errors);
                let with_commitment = wants_commitment && item.commitment && !in_person;
                // A file given for a merged material serves every item that asks for it.
                let item_files: Vec<OfferedFile> = item
                    .materials
                    .iter()
                    .enumerate()
                    .filter_map(|(i, m)| {
                        let merged = resolved.materials.iter().position(|x| x.name == m.name)?;
                        files
                            .iter()
                            .find(|f| f.index == merged)
                            .map(|f| OfferedFile { index: i, ..f.clone() })
                    })
                    .collect();
                let item_credentials: Vec<intake::OfferedCredential> = item
                    .materials
                    .iter()
                    .enumerate()
                    .filter_map(|(i, m)| {
                        let merged = resolved.materials.iter().position(|x| x.name == m.name)?;
                        credentials
                            .iter()
                            .find(|c| c.index == merged)
                            .map(|c| intake::OfferedCredential { index: i, ..c.clone() })
                    })
                    .collect();
                let materials =
                    intake::plan_materials(&item.materials, &item_files, &item_credentials, with_commitment);
                items.push(NewItemCase {
                    // A personal part of an enterprise's bundle (a staff health certificate) is the
                    // representative's own: its case and its certificate are theirs.
                    personal: enterprise.is_some() && item.audience == "person",
                    item_code: item.code.clone(),
                    answers: None,
                    title: item.name.clone(),
                    department: item.department.clone(),
                    promised_days: item.promised_limit_days,
                    flags: CaseFlags { in_person, ..flags_of(&item, with_commitment) },
                    materials: if in_person { intake::plan_in_person(materials) } else { materials },
                });
            }
            errors.dedup_by(|a, b| a.field == b.field && a.code == b.code);
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            if items.is_empty() {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "bundle_code",
                    "empty_bundle",
                    "按您的回答，该“一件事”没有需要办理的事项",
                    "With these answers the bundle has nothing to apply for",
                )]));
            }
            let with_commitment = items.iter().any(|i| i.flags.commitment);
            // A project's stage is applied for from its project, which it claims when stored.
            let project_code = req.project.as_deref().map(str::trim).filter(|p| !p.is_empty());
            let project = match project_code {
                Some(p) => {
                    match crate::projects::service::stage_claim(
                        state,
                        caller,
                        p,
                        &resolved.code,
                        enterprise.as_deref(),
                    )
                    .await?
                    {
                        Ok(claim) => Some(claim),
                        Err(e) => return Err(ApiError::Validation(vec![e])),
                    }
                }
                None if crate::projects::flows().is_stage(&resolved.code) => {
                    return Err(ApiError::Validation(vec![FieldError::new(
                        "project",
                        "project_required",
                        "工程建设项目的审批阶段须在项目中申报，请先登记项目或从“我的项目”进入",
                        "A construction project's stage is applied for from its project: register the project first, or start from My projects",
                    )]));
                }
                None => None,
            };
            Submission {
                day,
                applicant_id: user_id.clone(),
                applicant_name,
                person_name: person_name.clone(),
                enterprise,
                submitted_by: submitter_id.clone(),
                submitted_by_name: submitter_name.clone(),
                commitment_text: with_commitment.then(|| intake::commitment_text(&resolved.name, &[])),
                form: req.form,
                bundle: Some(NewBundleCase {
                    bundle_code: resolved.code.clone(),
                    title: resolved.name.clone(),
                    lead_department: items[0].department.clone(),
                    promised_days: resolved.promised_limit_days,
                    answers: json!(req.answers),
                    project,
                }),
                items,
            }
        }
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(
                "item_code",
                "item_or_bundle",
                "请只填写事项编码或“一件事”编码之一",
                "Give either item_code or bundle_code, not both",
            ));
            return Err(ApiError::Validation(errors));
        }
        (None, None) => {
            errors.push(FieldError::required("item_code", "事项编码", "item_code (or bundle_code)"));
            return Err(ApiError::Validation(errors));
        }
    };
    fill_shared(state, &mut submission).await?;
    let number = store::submit(&state.db, submission).await?;
    Ok((number, CaseState::Submitted))
}

/// Fills the materials sourced from shared data (`data:<source>`) through the exchange, as the
/// case's department reading for case handling: a material the registers hold and the
/// department's grants cover is taken from them (the applicant uploads nothing); the rest stays
/// with the department (`data_pending`). The reads are logged with the case when it is stored.
async fn fill_shared(state: &AppState, s: &mut store::Submission) -> ApiResult<()> {
    let wants = s.items.iter().flat_map(|i| &i.materials).any(|m| m.provided_as == ProvidedAs::DataPending);
    if !wants {
        return Ok(());
    }
    let id_number = crate::identity::store::id_number_of(&state.db, &state.vault, &s.applicant_id).await?;
    for item in &mut s.items {
        for m in &mut item.materials {
            if m.provided_as != ProvidedAs::DataPending {
                continue;
            }
            let Some(source) = m.source.strip_prefix("data:") else { continue };
            let filled = crate::data::service::fill_material(
                state,
                source,
                &item.department,
                &item.item_code,
                s.enterprise.as_deref(),
                id_number.as_deref(),
                &s.submitted_by,
            )
            .await?;
            if let Ok(shared) = filled {
                m.provided_as = ProvidedAs::DataShared;
                m.shared = Some(intake::SharedData {
                    dataset: shared.dataset.to_string(),
                    owner: shared.owner,
                    values: shared.values,
                    access: shared.access,
                });
            }
        }
    }
    Ok(())
}

fn check_item_for(
    item: &CatalogItem,
    as_enterprise: bool,
    field: &str,
    online: bool,
    errors: &mut Vec<FieldError>,
) {
    if online && !item.online {
        errors.push(FieldError::new(
            field,
            "not_online",
            format!("“{}”暂不支持网上申请，请到政务服务大厅窗口办理", item.name),
            format!("\"{}\" cannot be applied for online yet; please visit a service hall", item.name),
        ));
    }
    if item.audience == "enterprise" && !as_enterprise {
        errors.push(FieldError::new(
            "enterprise",
            "enterprise_required",
            format!("“{}”须以企业名义申请，请选择企业", item.name),
            format!("\"{}\" is applied for by an enterprise; choose the enterprise", item.name),
        ));
    }
}

/// A personal item (a marriage, a health certificate) applied for alone in an enterprise's name
/// would put a person's certificate in the enterprise's wallet: refused, naming the field.
fn refuse_enterprise_for_person(
    name: &str,
    audience: &str,
    as_enterprise: bool,
    errors: &mut Vec<FieldError>,
) {
    if audience == "person" && as_enterprise {
        errors.push(FieldError::new(
            "enterprise",
            "enterprise_not_allowed",
            format!("“{name}”由个人本人申请，不能以企业名义办理，请选择“本人”"),
            format!("\"{name}\" is applied for by a person in their own name, not by an enterprise; choose yourself"),
        ));
    }
}

/// The resource the authorization rules see for a case.
pub fn resource(case: &CaseRecord) -> Resource {
    Resource::Case {
        department: case.department.clone(),
        applicant: case.applicant_id.clone(),
        enterprise: case.enterprise.clone(),
    }
}

/// The case if the caller may read it; 404 otherwise (its existence does not leak).
pub async fn readable(state: &AppState, caller: &Caller, number: &str) -> ApiResult<CaseRecord> {
    let case = store::get(&state.db, number).await?.ok_or(ApiError::NotFound)?;
    match decide(&caller.actor, Action::Read, &resource(&case)) {
        Decision::Allow => Ok(case),
        Decision::Unauthenticated => Err(ApiError::Unauthenticated),
        _ => {
            // Staff of a department that handles a part of a bundle may read the bundle.
            if case.is_bundle() && matches!(caller.actor, Actor::Staff { .. }) {
                for part in store::children(&state.db, number).await? {
                    if decide(&caller.actor, Action::Read, &resource(&part)) == Decision::Allow {
                        return Ok(case);
                    }
                }
            }
            // A member department of the case's joint review (联合审图、联合验收).
            if crate::projects::service::reads_as_member(&caller.actor, &case) {
                return Ok(case);
            }
            // An assisted-service officer holding the applicant's power of attorney.
            if assisting(state, caller, &case).await? {
                return Ok(case);
            }
            Err(ApiError::NotFound)
        }
    }
}

/// Whether the caller is an assisted-service officer with the case applicant's power of attorney.
async fn assisting(state: &AppState, caller: &Caller, case: &CaseRecord) -> ApiResult<bool> {
    match (&caller.actor, &caller.user_id) {
        (Actor::Staff { .. }, Some(officer)) => {
            let code = case.item_code.as_deref().or(case.bundle_code.as_deref()).unwrap_or_default();
            Ok(crate::assistance::store::holds_attorney(
                &state.db,
                officer,
                &case.applicant_id,
                code,
                case.enterprise.as_deref(),
            )
            .await?)
        }
        _ => Ok(false),
    }
}

/// The ways `actor` may act on `case`: as its applicant, or with each staff role that applies to
/// the case's department (a general window's role applies everywhere).
pub fn performers(actor: &Actor, case: &CaseRecord) -> (Vec<(Performer, Option<&'static str>)>, bool) {
    match actor {
        Actor::Person { .. } => {
            let own = decide(actor, Action::Update, &resource(case)) == Decision::Allow;
            (if own { vec![(Performer::Applicant, None)] } else { vec![] }, false)
        }
        Actor::Staff { grants, .. } => {
            let mut out = Vec::new();
            let mut general = false;
            for g in grants {
                if g.department == case.department || g.role == Role::GeneralWindowClerk {
                    out.push((Performer::Staff(g.role), Some(g.role.as_str())));
                    general |= g.role == Role::GeneralWindowClerk;
                }
            }
            (out, general)
        }
        Actor::Anonymous => (vec![], false),
    }
}

/// The actions the caller can take on the case now (the page's buttons).
pub fn available(actor: &Actor, case: &CaseRecord) -> Vec<CaseAction> {
    if case.is_bundle() {
        let own = matches!(actor, Actor::Person { .. })
            && decide(actor, Action::Update, &resource(case)) == Decision::Allow;
        let can_withdraw = matches!(case.state, CaseState::Submitted | CaseState::UnderReview);
        return if own && can_withdraw { vec![CaseAction::Withdraw] } else { vec![] };
    }
    let (ps, _) = performers(actor, case);
    let mut out: Vec<CaseAction> = Vec::new();
    for (p, _) in ps {
        for a in super::domain::available_actions(case.state, case.flags(), p) {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out.sort_by_key(|a| CaseAction::ALL.iter().position(|x| x == a));
    out
}

/// The body of an action.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ActionRequest {
    /// Why (required for not_accept, request_supplement, reject and transfer).
    pub reason: Option<String>,
    /// For `transfer`: the receiving department's code; leave out to return the case to the
    /// department it came from.
    pub to_department: Option<String>,
    /// The case version the caller saw; when given and stale, the answer is 409.
    pub version: Option<i64>,
    /// For `resubmit`: the supplied files.
    pub materials: Vec<MaterialInput>,
    /// For `request_supplement`: the indexes of the case's materials wanted (一次性告知: every
    /// one at once, so the applicant supplies them in one go).
    pub wanted: Vec<usize>,
    /// For `accept` and `request_supplement` at the window: the verdict on each material (受理
    ///审查). Acceptance is refused while any line needs a supplement; a supplement request
    /// asks for every such line, with its note, at once.
    pub checklist: Vec<MaterialCheckInput>,
    /// For `approve` and `reject`: the approver's opinion (审批意见), kept with the decision.
    pub opinion: Option<String>,
}

/// One line of the window's acceptance checklist.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct MaterialCheckInput {
    /// The material's index on the case.
    pub index: usize,
    /// `acceptable` (齐全、符合法定形式) or `supplement` (需补正).
    pub verdict: String,
    /// What is wrong and what to bring instead (shown to the applicant).
    pub note: Option<String>,
}

/// Takes `action` on case `number` for the caller.
pub async fn act(
    state: &AppState,
    caller: &Caller,
    number: &str,
    action: CaseAction,
    req: ActionRequest,
) -> ApiResult<CaseRecord> {
    let actor_id = caller.require_user()?.to_string();
    let case = readable(state, caller, number).await?;
    let (mut performers, at_general_window) = performers(&caller.actor, &case);
    // An assisted-service officer acts as the applicant (withdraw, resubmit) under their power of
    // attorney; only those actions look it up, so staff actions cost no extra query.
    if matches!(action, CaseAction::Withdraw | CaseAction::Resubmit)
        && assisting(state, caller, &case).await?
    {
        performers.push((Performer::Applicant, Some("assistance_officer")));
    }
    if performers.is_empty() && !(case.is_bundle() && action == CaseAction::Withdraw) {
        return Err(ApiError::Forbidden);
    }
    let reason = req.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
    let mut errors = Vec::new();
    let checklist = if req.checklist.is_empty() {
        Vec::new()
    } else if matches!(action, CaseAction::Accept | CaseAction::RequestSupplement) {
        let mats = store::materials(&state.db, number).await?;
        material_checklist(&req.checklist, &mats, &mut errors)
    } else {
        errors.push(FieldError::new(
            "checklist",
            "checklist_not_expected",
            "只有受理或要求补正时填写材料审查清单",
            "A material checklist goes with acceptance or a supplement request only",
        ));
        Vec::new()
    };
    // A supplement request says why through its reason, or through the notes on what it asks for.
    let noted =
        checklist.iter().any(|m| m.verdict == domain::MaterialVerdict::Supplement && m.note.is_some());
    if action.needs_reason()
        && reason.is_none()
        && !(action == CaseAction::Transfer && req.to_department.is_none())
        && !(action == CaseAction::RequestSupplement && noted)
    {
        errors.push(FieldError::required("reason", "原因", "A reason"));
    }
    if reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
        errors.push(FieldError::new(
            "reason",
            "too_long",
            "原因不能超过1000个字",
            "The reason is at most 1000 characters",
        ));
    }
    let to_department =
        req.to_department.as_deref().map(str::trim).filter(|d| !d.is_empty()).map(str::to_string);
    if let Some(d) = &to_department
        && !catalog::store::department_codes(&state.db).await?.contains(d)
    {
        errors.push(FieldError::new(
            "to_department",
            "unknown_department",
            format!("部门“{d}”不存在"),
            format!("Unknown department {d}"),
        ));
    }
    let mut wanted = Vec::new();
    if action == CaseAction::RequestSupplement && !req.wanted.is_empty() {
        let mats = store::materials(&state.db, number).await?;
        for (i, index) in req.wanted.iter().enumerate() {
            match mats.iter().find(|m| usize::try_from(m.index).ok() == Some(*index)) {
                Some(m) if !wanted.contains(&m.name) => wanted.push(m.name.clone()),
                Some(_) => {}
                None => errors.push(FieldError::new(
                    &format!("wanted[{i}]"),
                    "unknown_material",
                    format!("本办件没有第{index}项材料"),
                    format!("This case has no material {index}"),
                )),
            }
        }
    }
    for m in checklist.iter().filter(|m| m.verdict == domain::MaterialVerdict::Supplement) {
        if !wanted.contains(&m.material) {
            wanted.push(m.material.clone());
        }
    }
    let opinion = req.opinion.as_deref().map(str::trim).filter(|o| !o.is_empty()).map(str::to_string);
    if opinion.as_ref().is_some_and(|o| o.chars().count() > 1000) {
        errors.push(FieldError::new(
            "opinion",
            "too_long",
            "审批意见不能超过1000个字",
            "The opinion is at most 1000 characters",
        ));
    }
    let mut new_files = Vec::new();
    let mut missing_materials = Vec::new();
    if action == CaseAction::Resubmit && !req.materials.is_empty() {
        let mats = store::materials(&state.db, number).await?;
        missing_materials = mats
            .iter()
            .filter(|m| m.provided_as == ProvidedAs::Missing)
            .map(|m| usize::try_from(m.index).unwrap_or(usize::MAX))
            .collect();
        let slots: Vec<MaterialSlot> =
            mats.iter().map(|m| MaterialSlot { name: &m.name, source: &m.source }).collect();
        new_files = offered_files(state, &actor_id, &slots, &req.materials, &mut errors).await?;
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    // Only a commitment case's approval needs it (for the post-check task).
    let needs_supervisor = case.with_commitment && matches!(action, CaseAction::Approve | CaseAction::Accept);
    let supervising_department = match &case.item_code {
        Some(code) if needs_supervisor => catalog::store::get(&state.db, code)
            .await?
            .and_then(|s| s.supervising_department)
            .unwrap_or_else(|| case.owner_department.clone()),
        _ => case.owner_department.clone(),
    };
    let actor_name = match &caller.name {
        Some(n) => n.clone(),
        None => crate::platform::directory::user_name(&state.db, &actor_id).await?,
    };
    let department_name = if matches!(action, CaseAction::Approve | CaseAction::Reject | CaseAction::Accept) {
        crate::platform::directory::department_name(&state.db, &case.department).await?
    } else {
        case.department.clone()
    };
    // A decision is sealed, and an approval of a licence-producing item issues the licence in the
    // same transaction. Both are signed here, before the write, so the writer never signs.
    let today = state.clock().today();
    if req.version.is_some_and(|v| v != case.version) {
        return Err(version_conflict(case.state));
    }
    // A joint review is approved only once every member department has agreed.
    if action == CaseAction::Approve
        && let Some(refusal) = crate::projects::service::approval_blockers(state, &case).await?
    {
        return Err(refusal);
    }
    let decision = decision_of(action, &case, &performers);
    // The document's number is reserved before it is sealed, and only when the rules allow the
    // decision now (a refused action takes no number).
    let allowed = performers
        .iter()
        .any(|(p, _)| super::domain::next_state(case.state, action, case.flags(), *p).is_ok());
    let sequence = match decision {
        Some(d) if allowed && !case.is_bundle() => {
            Some(store::reserve_decision_number(&state.db, today.year(), domain::decision_kind(d)).await?)
        }
        _ => None,
    };
    let seal = match decision {
        Some(_) => state.licensing.active(&state.db, &case.department).await.map_err(ApiError::Internal)?,
        None => None,
    };
    let licence = match (&seal, &case.item_code, decision) {
        (Some(seal), Some(item), Some("approved")) => {
            licence_for_case(state, seal, item, &case, &actor_id).await?
        }
        _ => None,
    };
    // An approved policy application awards its benefit in the same transaction, at the amount
    // the register bears out now (refused when it does not).
    let award = match decision {
        Some("approved") => {
            crate::policies::service::award_for_case(state, &format!("user:{actor_id}"), &actor_name, &case)
                .await?
        }
        _ => None,
    };
    let now = state.db.now_text();
    let prepared_decision = decision.map(|d| {
        let facts = store::DecisionFacts {
            decision: d,
            reason: reason.as_deref(),
            actor_name: &actor_name,
            department_name: &department_name,
            today,
            now: &now,
            licence_identifier: licence.as_ref().map(|l| l.identifier.as_str()),
            sequence,
            opinion: opinion.as_deref(),
        };
        let mut doc = store::decision_document(&case, &facts);
        if let Some(seal) = &seal {
            doc["seal"] = seal.seal(&doc, state.clock().now());
        }
        doc
    });
    let number = case.number.clone();
    let written = if case.is_bundle()
        && action == CaseAction::Withdraw
        && performers.iter().any(|(p, _)| *p == Performer::Applicant)
    {
        let parts = store::children(&state.db, &number).await?;
        let withdrawals =
            domain::decide_bundle_withdrawal(&case, &parts, &actor_id, &actor_name, reason.as_deref())
                .map_err(|r| refusal(r, action))?;
        store::withdraw_bundle(&state.db, case, withdrawals).await
    } else {
        let returns_to = match (action, &to_department) {
            (CaseAction::Transfer, None) => store::last_transfer_source(&state.db, &number).await?,
            _ => None,
        };
        let calendar = state.calendar().await;
        let rating_link = crate::feedback::service::rating_link(state, &number).await;
        let change = domain::decide_action(&domain::ActionInput {
            case: &case,
            action,
            performers: &performers,
            actor_id: &actor_id,
            actor_name: &actor_name,
            reason: reason.as_deref(),
            to_department: to_department.as_deref(),
            returns_to: returns_to.as_deref(),
            at_general_window,
            new_files: &new_files,
            missing_materials: &missing_materials,
            wanted: &wanted,
            checklist: &checklist,
            opinion: opinion.as_deref(),
            supervising_department: &supervising_department,
            department_name: &department_name,
            prepared_decision: prepared_decision.as_ref(),
            rating_link: Some(&rating_link),
            now: &now,
            today,
            calendar: &calendar,
            post_check_days: state.config.post_check_days,
        })
        .map_err(|r| refusal(r, action))?;
        store::act(&state.db, change, licence, award).await
    };
    match written {
        Ok(c) => Ok(c),
        // Someone else's write came first and ours was rolled back whole: answer with the state
        // they left.
        Err(StoreError::Conflict) => {
            let now_state =
                store::get(&state.db, &number).await?.map(|c| c.state).unwrap_or(CaseState::Submitted);
            Err(version_conflict(now_state))
        }
        Err(e) => Err(e.into()),
    }
}

/// What an approver reads before confirming a decision: the document as it will read (its
/// number and seal are added when it is issued) and the licence an approval issues.
pub struct DecisionPreview {
    pub case: CaseRecord,
    pub action: CaseAction,
    pub document: serde_json::Value,
    pub licence: Option<LicencePreview>,
}

/// The e-licence an approval would issue, as its card will show it.
pub struct LicencePreview {
    pub type_name: String,
    pub holder_name: String,
    pub valid_from: chrono::NaiveDate,
    /// `None`: no expiry (长期).
    pub valid_until: Option<chrono::NaiveDate>,
}

/// The decision `action` (approve or reject) would make on case `number`, for the caller to
/// confirm; nothing is reserved, signed or written. The same checks as [`act`] come first.
pub async fn preview_decision(
    state: &AppState,
    caller: &Caller,
    number: &str,
    action: CaseAction,
    opinion: Option<&str>,
    reason: Option<&str>,
) -> ApiResult<DecisionPreview> {
    let actor_id = caller.require_user()?.to_string();
    let case = readable(state, caller, number).await?;
    let (performers, _) = performers(&caller.actor, &case);
    if performers.is_empty() {
        return Err(ApiError::Forbidden);
    }
    let decision = match action {
        CaseAction::Approve => "approved",
        CaseAction::Reject => "rejected",
        _ => return Err(ApiError::NotFound),
    };
    let outcomes: Vec<_> = performers
        .iter()
        .map(|(p, _)| super::domain::next_state(case.state, action, case.flags(), *p))
        .collect();
    if !outcomes.iter().any(Result::is_ok) {
        let wrong_state = outcomes.iter().find_map(|r| match r {
            Err(domain::Refusal::WrongState(s)) => Some(*s),
            _ => None,
        });
        return Err(match wrong_state {
            Some(s) => refusal(domain::ActRefusal::WrongState(s), action),
            None => ApiError::Forbidden,
        });
    }
    let mut errors = Vec::new();
    if opinion.is_none_or(|o| o.trim().is_empty()) {
        errors.push(FieldError::required("opinion", "审批意见", "The opinion"));
    }
    if action == CaseAction::Reject && reason.is_none_or(|r| r.trim().is_empty()) {
        errors.push(FieldError::required("reason", "原因", "A reason"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let actor_name = match &caller.name {
        Some(n) => n.clone(),
        None => crate::platform::directory::user_name(&state.db, &actor_id).await?,
    };
    let department_name = crate::platform::directory::department_name(&state.db, &case.department).await?;
    let today = state.clock().today();
    let now = state.db.now_text();
    let document = store::decision_document(
        &case,
        &store::DecisionFacts {
            decision,
            reason: reason.map(str::trim),
            actor_name: &actor_name,
            department_name: &department_name,
            today,
            now: &now,
            licence_identifier: None,
            sequence: None,
            opinion: opinion.map(str::trim),
        },
    );
    let licence = match (&case.item_code, action) {
        (Some(item), CaseAction::Approve) => {
            match crate::licences::domain::output_for_item(item).and_then(crate::licences::domain::find_type)
            {
                Some(ty) => {
                    let holder_name = match &case.enterprise {
                        Some(code) => crate::licences::service::enterprise_holder(&state.db, code)
                            .await?
                            .name()
                            .to_string(),
                        None => case.applicant_name.clone(),
                    };
                    let valid_until = ty.validity_years.and_then(|y| {
                        today.checked_add_months(chrono::Months::new(12 * y)).and_then(|d| d.pred_opt())
                    });
                    Some(LicencePreview {
                        type_name: ty.name.clone(),
                        holder_name,
                        valid_from: today,
                        valid_until,
                    })
                }
                None => None,
            }
        }
        _ => None,
    };
    Ok(DecisionPreview { case, action, document, licence })
}

/// The answer when someone else acted on the case first.
fn version_conflict(s: CaseState) -> ApiError {
    state_conflict(
        "version_conflict",
        format!("办件已被他人处理，当前状态为“{}”，请刷新后重试", s.label_zh()),
        format!(
            "Someone else acted on the case first; it is now {}. Reload and try again",
            s.label_en().to_lowercase()
        ),
        s,
    )
}

/// The window's checklist, read against the case's materials; each bad line is an error named
/// by its position (`checklist[i].index`, `.verdict`, `.note`).
fn material_checklist(
    lines: &[MaterialCheckInput],
    materials: &[store::CaseMaterial],
    errors: &mut Vec<FieldError>,
) -> Vec<domain::MaterialCheck> {
    let mut out: Vec<domain::MaterialCheck> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(m) = materials.iter().find(|m| usize::try_from(m.index).ok() == Some(line.index)) else {
            errors.push(FieldError::new(
                &format!("checklist[{i}].index"),
                "unknown_material",
                format!("本办件没有第{}项材料", line.index),
                format!("This case has no material {}", line.index),
            ));
            continue;
        };
        let verdict = match line.verdict.as_str() {
            "acceptable" => domain::MaterialVerdict::Acceptable,
            "supplement" => domain::MaterialVerdict::Supplement,
            _ => {
                errors.push(FieldError::new(
                    &format!("checklist[{i}].verdict"),
                    "invalid_verdict",
                    format!("请选择“{}”是否合格", m.name),
                    format!("Choose whether “{}” is acceptable or needs supplying", m.name),
                ));
                continue;
            }
        };
        let note = line.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
        if note.as_ref().is_some_and(|n| n.chars().count() > 200) {
            errors.push(FieldError::new(
                &format!("checklist[{i}].note"),
                "too_long",
                "补正说明不能超过200个字",
                "A note is at most 200 characters",
            ));
        }
        if out.iter().any(|o| o.material == m.name) {
            errors.push(FieldError::new(
                &format!("checklist[{i}].index"),
                "duplicate",
                format!("“{}”重复出现在清单中", m.name),
                format!("“{}” is on the checklist twice", m.name),
            ));
            continue;
        }
        out.push(domain::MaterialCheck {
            material: m.name.clone(),
            present: !matches!(m.provided_as, ProvidedAs::Missing),
            verdict,
            note,
        });
    }
    out
}

/// The answer to an action the rules refuse.
fn refusal(r: domain::ActRefusal, action: CaseAction) -> ApiError {
    use domain::ActRefusal as R;
    match r {
        R::NotAllowed => ApiError::Forbidden,
        R::WrongState(s) => state_conflict(
            "action_not_allowed_in_state",
            format!("办件当前状态为“{}”，不能执行“{}”", s.label_zh(), action.label_zh()),
            format!(
                "The case is {}; \"{}\" is not possible now",
                s.label_en().to_lowercase(),
                action.label_en()
            ),
            s,
        ),
        R::BundleParent(s) => state_conflict(
            "bundle_parent",
            "“一件事”的各事项分别办理，请在各子办件上操作".into(),
            "A bundle is processed through its parts; act on the sub-cases".into(),
            s,
        ),
        R::NoReturnTarget => ApiError::Validation(vec![FieldError::new(
            "to_department",
            "nowhere_to_return",
            "该办件未经转办，请指定接收部门",
            "This case was never transferred; name the receiving department",
        )]),
        R::MarkedForSupplement(i) => ApiError::Validation(vec![FieldError::new(
            &format!("checklist[{i}].verdict"),
            "marked_for_supplement",
            "清单中有材料标记为“需补正”，不能受理；请一次性告知补正",
            "A material on the checklist needs supplying: request a supplement instead of accepting",
        )]),
        R::SameDepartment => ApiError::Validation(vec![FieldError::new(
            "to_department",
            "same_department",
            "接收部门与当前办理部门相同",
            "The receiving department already handles this case",
        )]),
    }
}

/// The decision `action` would take on `case` for these performers, if any: approving and
/// refusing do; accepting does for items approved at acceptance (即办件, commitments).
fn decision_of(
    action: CaseAction,
    case: &CaseRecord,
    performers: &[(Performer, Option<&'static str>)],
) -> Option<&'static str> {
    match action {
        CaseAction::Approve => Some("approved"),
        CaseAction::Reject => Some("rejected"),
        CaseAction::Accept if !case.is_bundle() => performers
            .iter()
            .any(|(p, _)| {
                super::domain::next_state(case.state, action, case.flags(), *p) == Ok(CaseState::Approved)
            })
            .then_some("approved"),
        _ => None,
    }
}

/// The e-licence an approval of `item` would issue to the case's applicant (the enterprise when
/// applied for as one), signed now.
async fn licence_for_case(
    state: &AppState,
    seal: &crate::licences::sealing::ActiveSeal,
    item: &str,
    case: &CaseRecord,
    actor_id: &str,
) -> ApiResult<Option<crate::licences::store::NewCredential>> {
    use crate::licences::{domain as ldomain, service as lservice};
    let Some(type_code) = ldomain::output_for_item(item) else { return Ok(None) };
    let holder = match &case.enterprise {
        Some(code) => lservice::enterprise_holder(&state.db, code).await?,
        None => lservice::person_holder(&state.db, &state.vault, &case.applicant_id).await?,
    };
    let mut fields = serde_json::Map::new();
    if !case.form.address.is_empty() {
        for key in ["address", "business_address", "premises_address", "residence_address", "location"] {
            fields.insert(key.into(), serde_json::Value::String(case.form.address.clone()));
        }
    }
    Ok(lservice::prepare_issue(
        &state.db,
        &state.licensing,
        seal,
        type_code,
        &holder,
        &fields,
        state.clock().today(),
        None,
        Some(case.number.clone()),
        Some(actor_id.to_string()),
    )
    .await?)
}

fn state_conflict(code: &'static str, zh: String, en: String, s: CaseState) -> ApiError {
    ApiError::StateConflict { code, zh, en, state: s.as_str().to_string() }
}

/// The department whose queue the staff member works (their first grant's department).
pub fn staff_department(actor: &Actor) -> Option<String> {
    match actor {
        Actor::Staff { department, .. } => Some(department.clone()),
        _ => None,
    }
}

/// Whether the caller works at a general window (takes in bundles and any item; the city-wide
/// intake and delivery queues).
pub fn is_general_window(actor: &Actor) -> bool {
    decide(actor, Action::Create, &Resource::CityWide(Area::GeneralWindow)) == Decision::Allow
}

/// Whether the caller works at a window (a department's own or a general one).
pub fn is_window_clerk(actor: &Actor) -> bool {
    decide(actor, Action::Create, &Resource::CityWide(Area::Windows)) == Decision::Allow
}

/// Checks an uploaded file and stores it under its hash: the one path every upload takes
/// (API, inline Base64, the application pages, resubmissions).
pub async fn store_file(
    state: &AppState,
    user_id: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> ApiResult<Result<(String, crate::platform::uploads::FileKind), crate::platform::uploads::FileProblem>> {
    let kind = match crate::platform::uploads::check_file(file_name, &bytes) {
        Ok(kind) => kind,
        Err(p) => return Ok(Err(p)),
    };
    let hash = crate::platform::uploads::put_upload(&state.db, bytes, kind.content_type(), user_id).await?;
    Ok(Ok((hash, kind)))
}

/// Whether the caller sees every department's open cases (a supervisor).
pub fn is_supervisor(actor: &Actor) -> bool {
    decide(actor, Action::Read, &Resource::CityWide(Area::Cases)) == Decision::Allow
}

/// Whether the caller may conclude a post-check of `department`.
pub fn concludes_post_checks(actor: &Actor, department: &str) -> bool {
    decide(actor, Action::Review, &Resource::PostCheck { department: department.to_string() })
        == Decision::Allow
}

/// Records a post-check outcome: staff of the supervising department (reviewer, approver or
/// head) decide.
pub async fn conclude_post_check(
    state: &AppState,
    caller: &Caller,
    id: &str,
    false_commitment: bool,
    note: String,
    version: Option<i64>,
) -> ApiResult<store::PostCheck> {
    let actor_id = caller.require_user()?.to_string();
    let check = store::post_check(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    crate::identity::api::require(decide(
        &caller.actor,
        Action::Review,
        &Resource::PostCheck { department: check.department.clone() },
    ))?;
    let note = note.trim().to_string();
    if note.is_empty() {
        return Err(ApiError::Validation(vec![FieldError::required(
            "note",
            "核查意见",
            "The check's findings",
        )]));
    }
    if check.status != "open" {
        return Err(ApiError::StateConflict {
            code: "post_check_concluded",
            zh: "该核查任务已办结".into(),
            en: "This post-check is already concluded".into(),
            state: check.status,
        });
    }
    let actor_name = crate::platform::directory::user_name(&state.db, &actor_id).await?;
    Ok(store::conclude_post_check(
        &state.db,
        id,
        false_commitment,
        note,
        actor_id,
        actor_name,
        version.unwrap_or(check.version),
    )
    .await?)
}
