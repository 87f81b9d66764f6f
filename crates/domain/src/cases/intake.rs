//! What an application must contain, as pure rules: the form's fields, the materials an item asks
//! for and how each one is provided (an upload, the signed commitment, or retrieved from an
//! e-licence or shared data). Which files are acceptable is `platform::uploads`.

use serde::{Deserialize, Serialize};

use crate::fields::FieldError;
use crate::identity::domain::Phone;
use crate::reference::data::{Material, MaterialSource};

/// The application form (申请表) every item shares; the item-specific part is its materials.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ApplicationForm {
    /// 联系人
    pub contact_name: String,
    /// 联系电话 (mainland mobile number)
    pub contact_phone: String,
    /// 联系地址 (optional)
    pub address: String,
    /// 申请事由 / 补充说明 (optional)
    pub description: String,
    /// 电子邮箱 (optional): progress is also sent there.
    pub email: String,
}

impl ApplicationForm {
    /// Where progress messages go besides the inbox (the contact phone and e-mail).
    pub fn reach(&self) -> crate::platform::messages::Reach {
        crate::platform::messages::Reach { phone: self.contact_phone.clone(), email: self.email.clone() }
    }

    /// Trims the fields and reports every problem, each naming its field as `form.<name>`.
    pub fn validate(&mut self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for f in [
            &mut self.contact_name,
            &mut self.contact_phone,
            &mut self.address,
            &mut self.description,
            &mut self.email,
        ] {
            *f = f.trim().to_string();
        }
        let name_len = self.contact_name.chars().count();
        if name_len == 0 {
            errors.push(FieldError::required("form.contact_name", "联系人", "Contact name"));
        } else if name_len > 50 {
            errors.push(FieldError::new(
                "form.contact_name",
                "too_long",
                "联系人姓名不能超过50个字",
                "The contact name is at most 50 characters",
            ));
        }
        if self.contact_phone.is_empty() {
            errors.push(FieldError::required("form.contact_phone", "联系电话", "Contact phone"));
        } else {
            match Phone::parse(&self.contact_phone) {
                Ok(p) => self.contact_phone = p.as_str().to_string(),
                Err(e) => errors.push(FieldError::new(
                    "form.contact_phone",
                    e.code(),
                    e.message_zh(),
                    e.message_en(),
                )),
            }
        }
        if self.address.chars().count() > 200 {
            errors.push(FieldError::new(
                "form.address",
                "too_long",
                "联系地址不能超过200个字",
                "The address is at most 200 characters",
            ));
        }
        if !self.email.is_empty() && !plausible_email(&self.email) {
            errors.push(FieldError::new(
                "form.email",
                "invalid_email",
                "电子邮箱格式不正确，例如 name@example.com",
                "The e-mail address is not valid, e.g. name@example.com",
            ));
        }
        if self.description.chars().count() > 2000 {
            errors.push(FieldError::new(
                "form.description",
                "too_long",
                "申请说明不能超过2000个字",
                "The description is at most 2000 characters",
            ));
        }
        errors
    }
}

/// A deliberately modest check: one `@`, a dot in the domain, no spaces, at most 100 characters
/// (delivery is what really proves an address).
fn plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    s.len() <= 100
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// How one material of a case is provided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProvidedAs {
    /// A file the applicant uploaded.
    Upload,
    /// Replaced by the applicant's signed commitment (告知承诺).
    Commitment,
    /// Proven by a credential from the applicant's wallet, with their consent (免提交).
    Credential,
    /// To be taken from the applicant's e-licence by the department (免提交) when the wallet
    /// offered none.
    ElicencePending,
    /// To be taken from shared government data by the department (the registers do not hold
    /// it, or the department has no grant for it yet).
    DataPending,
    /// Taken from shared government data through the exchange at submission (免提交).
    DataShared,
    /// Not provided: the case may still be accepted with deficiencies (容缺受理) or sent back
    /// for a supplement.
    Missing,
    /// Handed in at the hall window: the item cannot be applied for online, so its part of a
    /// bundle waits for the applicant's visit (到厅办理) and is accepted there.
    InPerson,
}

impl ProvidedAs {
    pub fn as_str(self) -> &'static str {
        match self {
            ProvidedAs::Upload => "upload",
            ProvidedAs::Commitment => "commitment",
            ProvidedAs::Credential => "credential",
            ProvidedAs::ElicencePending => "elicence_pending",
            ProvidedAs::DataPending => "data_pending",
            ProvidedAs::DataShared => "data_shared",
            ProvidedAs::Missing => "missing",
            ProvidedAs::InPerson => "in_person",
        }
    }

    pub fn parse(s: &str) -> Option<ProvidedAs> {
        [
            ProvidedAs::Upload,
            ProvidedAs::Commitment,
            ProvidedAs::Credential,
            ProvidedAs::ElicencePending,
            ProvidedAs::DataPending,
            ProvidedAs::DataShared,
            ProvidedAs::Missing,
            ProvidedAs::InPerson,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ProvidedAs::Upload => "已上传",
            ProvidedAs::Commitment => "以告知承诺替代",
            ProvidedAs::Credential => "已从卡包调取电子证照（经本人同意）",
            ProvidedAs::ElicencePending => "由部门调取电子证照",
            ProvidedAs::DataPending => "由部门调取共享数据",
            ProvidedAs::DataShared => "已通过数据共享自动调取（免提交）",
            ProvidedAs::Missing => "未提供",
            ProvidedAs::InPerson => "到厅办理时提交",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ProvidedAs::Upload => "Uploaded",
            ProvidedAs::Commitment => "Replaced by the commitment",
            ProvidedAs::Credential => "Taken from your wallet's e-licence (with your consent)",
            ProvidedAs::ElicencePending => "Retrieved from the e-licence by the department",
            ProvidedAs::DataPending => "Retrieved from shared data by the department",
            ProvidedAs::DataShared => "Taken from shared government data (nothing to upload)",
            ProvidedAs::Missing => "Not provided",
            ProvidedAs::InPerson => "Handed in at the hall",
        }
    }
}

/// An uploaded file offered for material `index` of the item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OfferedFile {
    pub index: usize,
    pub hash: String,
    pub file_name: String,
    pub size: i64,
    pub content_type: String,
}

/// A wallet credential the applicant offered for material `index`, with what verification
/// said at submission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OfferedCredential {
    pub index: usize,
    pub credential_id: String,
    pub identifier: String,
    /// The verification result (JSON) recorded with the case.
    pub check: String,
}

/// One material as the case records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlannedMaterial {
    pub index: usize,
    pub name: String,
    pub source: String,
    pub provided_as: ProvidedAs,
    pub file: Option<OfferedFile>,
    pub credential: Option<OfferedCredential>,
    /// Filled from a register through the exchange (set after planning, see
    /// `cases::service::fill_shared`).
    pub shared: Option<SharedData>,
}

/// A material filled from shared data: what was read, from whom, and the read to log with the case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SharedData {
    pub dataset: String,
    pub owner: String,
    /// (field, label, value as shown).
    pub values: Vec<(String, String, String)>,
    #[serde(skip)]
    pub access: crate::data::domain::Access,
}

/// Decides how each of the item's materials is provided: an upload wins; then a wallet
/// credential the applicant consented to; otherwise the commitment replaces a material that
/// allows it; otherwise e-licence and shared-data materials are retrieved by the department;
/// anything else is missing.
pub fn plan_materials(
    materials: &[Material],
    files: &[OfferedFile],
    credentials: &[OfferedCredential],
    with_commitment: bool,
) -> Vec<PlannedMaterial> {
    materials
        .iter()
        .enumerate()
        .map(|(index, m)| {
            let file = files.iter().find(|f| f.index == index).cloned();
            let credential =
                if file.is_none() { credentials.iter().find(|c| c.index == index).cloned() } else { None };
            let provided_as = if file.is_some() {
                ProvidedAs::Upload
            } else if credential.is_some() {
                ProvidedAs::Credential
            } else if with_commitment && m.commitment_ok {
                ProvidedAs::Commitment
            } else {
                match m.parsed_source() {
                    Some(MaterialSource::Elicence(_)) => ProvidedAs::ElicencePending,
                    Some(MaterialSource::Data(_)) => ProvidedAs::DataPending,
                    _ => ProvidedAs::Missing,
                }
            };
            PlannedMaterial {
                index,
                name: m.name.clone(),
                source: m.source.clone(),
                provided_as,
                file,
                credential,
                shared: None,
            }
        })
        .collect()
}

/// The same plan for a part done at a hall (到厅办理): what the applicant did not give online is
/// handed in at the window rather than missing.
pub fn plan_in_person(mut plan: Vec<PlannedMaterial>) -> Vec<PlannedMaterial> {
    for m in &mut plan {
        if m.provided_as == ProvidedAs::Missing {
            m.provided_as = ProvidedAs::InPerson;
        }
    }
    plan
}

/// The commitment text the applicant signs (告知承诺书), naming the proofs it replaces.
pub fn commitment_text(item_name: &str, replaced: &[&str]) -> String {
    format!(
        "本人（本单位）申请办理“{item_name}”，已知晓告知的全部内容，承诺符合办理条件，\
         以承诺替代提交以下材料：{}。本人（本单位）所填写的信息和承诺内容真实有效，\
         愿意接受事后核查；如有虚假承诺，愿意承担撤销审批决定、记入信用记录等法律责任。",
        if replaced.is_empty() { "无".to_string() } else { replaced.join("、") }
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn material(name: &str, source: &str, commitment_ok: bool) -> Material {
        Material { name: name.into(), source: source.into(), commitment_ok }
    }

    #[test]
    fn form_names_each_bad_field() {
        let mut f = ApplicationForm {
            contact_name: "  ".into(),
            contact_phone: "12345".into(),
            address: "x".repeat(201),
            ..Default::default()
        };
        let fields: Vec<String> = f.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["form.contact_name", "form.contact_phone", "form.address"]);
        let mut mail = ApplicationForm {
            contact_name: "张三".into(),
            contact_phone: "13800138000".into(),
            email: "not an address".into(),
            ..Default::default()
        };
        assert_eq!(mail.validate()[0].field, "form.email");
        mail.email = "zhang@example.cn".into();
        assert!(mail.validate().is_empty());
        let mut ok = ApplicationForm {
            contact_name: " 张三 ".into(),
            contact_phone: "13800138000".into(),
            ..Default::default()
        };
        assert!(ok.validate().is_empty());
        assert_eq!(ok.contact_name, "张三");
    }

    #[test]
    fn materials_are_planned_by_upload_commitment_and_source() {
        let ms = [
            material("申请书", "applicant", false),
            material("场所证明", "applicant", true),
            material("身份证", "elicence:id_card", false),
            material("社保记录", "data:social_insurance", false),
            material("章程", "applicant", false),
        ];
        let file = OfferedFile {
            index: 0,
            hash: "h".into(),
            file_name: "a.pdf".into(),
            size: 3,
            content_type: "application/pdf".into(),
        };
        let plan = plan_materials(&ms, std::slice::from_ref(&file), &[], true);
        let got: Vec<ProvidedAs> = plan.iter().map(|p| p.provided_as).collect();
        assert_eq!(
            got,
            [
                ProvidedAs::Upload,
                ProvidedAs::Commitment,
                ProvidedAs::ElicencePending,
                ProvidedAs::DataPending,
                ProvidedAs::Missing
            ]
        );
        // Without the commitment the place proof is missing.
        let plan = plan_materials(&ms, std::slice::from_ref(&file), &[], false);
        assert_eq!(plan[1].provided_as, ProvidedAs::Missing);
        // At a hall, what was not given online is handed in there; the rest is unchanged.
        let at_hall: Vec<ProvidedAs> = plan_in_person(plan.clone()).iter().map(|p| p.provided_as).collect();
        assert_eq!(
            at_hall,
            [
                ProvidedAs::Upload,
                ProvidedAs::InPerson,
                ProvidedAs::ElicencePending,
                ProvidedAs::DataPending,
                ProvidedAs::InPerson
            ]
        );
        for p in [ProvidedAs::InPerson, ProvidedAs::Missing, ProvidedAs::Upload] {
            assert_eq!(ProvidedAs::parse(p.as_str()), Some(p));
        }
        // A wallet credential proves the ID card; an upload still wins over one.
        let id_card = OfferedCredential {
            index: 2,
            credential_id: "urn:uuid:x".into(),
            identifier: "1.2.156.3005.2.x".into(),
            check: "{}".into(),
        };
        let plan = plan_materials(&ms, std::slice::from_ref(&file), std::slice::from_ref(&id_card), false);
        assert_eq!(plan[2].provided_as, ProvidedAs::Credential);
        assert_eq!(plan[2].credential.as_ref().map(|c| c.credential_id.as_str()), Some("urn:uuid:x"));
        let on_upload = OfferedCredential { index: 0, ..id_card };
        let plan = plan_materials(&ms, &[file], &[on_upload], false);
        assert_eq!(plan[0].provided_as, ProvidedAs::Upload);
        assert!(plan[0].credential.is_none());
        assert!(commitment_text("食品经营许可", &["场所证明"]).contains("场所证明"));
    }
}
