//! Typed access to the reference data shipped with the product.
//!
//! The JSON files under `reference/` (departments, service catalogue, "one thing" bundles,
//! e-licence types, service halls, statutory holidays, enterprise policies) describe a real city
//! (Jinan) well enough to seed a fresh installation and to test against. They are compiled into the
//! binary with `include_str!` because the product must not read that folder at run time.
//!
//! Loading happens in two steps, kept apart on purpose:
//!
//! 1. [`parse`] (or [`shipped`]) turns the texts into typed records. It fails with a
//!    [`ReferenceError`] naming the file, line and column when a file is not valid JSON or does not
//!    have the expected shape. The main record types use `deny_unknown_fields`, so a field added to
//!    a file upstream is noticed here instead of being silently dropped when the records are stored.
//! 2. [`ReferenceData::check`] looks across records and files: unique codes, references that
//!    resolve (item → department, material → e-licence type, bundle → item, hall → parent hall,
//!    policy → department), enum values and plausible numbers. It reports every problem at once, each
//!    naming the file and the record, so whoever edits the data can fix it in one pass.
//!
//! The holiday calendar is kept as raw text ([`ReferenceData::holidays_json`]) because the calendar
//! module owns its interpretation; this module only makes sure it parses ([`HolidaysFile`]) and that
//! its dates are well formed.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// File name of the department list, as used in errors and problems.
pub const DEPARTMENTS_FILE: &str = "departments.json";
/// File name of the service catalogue.
pub const CATALOG_FILE: &str = "catalog.json";
/// File name of the "one thing" bundles.
pub const BUNDLES_FILE: &str = "bundles.json";
/// File name of the e-licence types.
pub const ELICENCE_TYPES_FILE: &str = "elicence_types.json";
/// File name of the service halls.
pub const HALLS_FILE: &str = "halls.json";
/// File name of the statutory holiday calendar.
pub const HOLIDAYS_FILE: &str = "holidays_cn.json";
/// File name of the enterprise benefit policies.
pub const POLICIES_FILE: &str = "policies.json";

/// Administrative levels a department may sit at.
pub const DEPARTMENT_LEVELS: &[&str] = &["city", "district"];
/// Kinds of department (our own classification, used for routing).
pub const DEPARTMENT_KINDS: &[&str] = &["approval", "industry", "service", "data", "hotline"];
/// Levels at which a service item is handled; also the levels of service halls, top to bottom.
pub const LEVELS: &[&str] = &["city", "district", "street", "community"];
/// Who a service item or bundle is for.
pub const AUDIENCES: &[&str] = &["person", "enterprise", "both"];
/// Kinds of holder an e-licence can have.
pub const HOLDERS: &[&str] = &["person", "enterprise"];
/// Categories of 政务服务事项 (the national catalogue's power types plus public services).
///
/// Wider than what the shipped data uses so that adding, say, a 行政奖励 item does not need a code
/// change, while a typo still gets caught.
pub const ITEM_KINDS: &[&str] = &[
    "行政许可",
    "行政确认",
    "行政给付",
    "行政裁决",
    "行政奖励",
    "行政备案",
    "行政征收",
    "行政检查",
    "行政处罚",
    "行政强制",
    "其他行政权力",
    "公共服务",
];
/// Handling types: 即办件 is done on the spot (promised 0 days), 承诺件 within the promised days.
pub const HANDLING: &[&str] = &["即办件", "承诺件"];
/// The three official cross-region (跨省通办) modes.
pub const CROSS_REGION_MODES: &[&str] = &["全程网办", "异地代收代办", "多地联办"];
/// How a policy reaches the enterprise: automatically (免申即享) or on application (依申请).
pub const POLICY_MODES: &[&str] = &["免申即享", "依申请"];
/// Value types allowed in `policies.json` `enterprise_fields`.
pub const ENTERPRISE_FIELD_TYPES: &[&str] = &["string", "string|null", "int", "double", "bool"];
/// Every policy eligibility must begin with this guard (see `cel_conventions.exclusion`):
/// deregistered, revoked and dishonest enterprises never benefit.
pub const ELIGIBILITY_PREFIX: &str = "status == 'active' && credit_status != 'dishonest'";

/// Latitude range (WGS84) accepted for halls: Jinan's administrative area plus a margin.
///
/// The coordinates are approximate (see `halls.json` `note`), so this only catches gross errors
/// such as swapped latitude/longitude, a dropped digit or a hall in another city.
pub const HALL_LAT_RANGE: (f64, f64) = (35.8, 37.8);
/// Longitude range (WGS84) accepted for halls; see [`HALL_LAT_RANGE`].
pub const HALL_LON_RANGE: (f64, f64) = (116.0, 118.2);

// ---------------------------------------------------------------------------------------------
// Ordered map
// ---------------------------------------------------------------------------------------------

/// A JSON object kept as a list of entries in file order.
///
/// `serde_json`'s own map sorts keys and keeps the last of duplicate keys; the order of, for
/// example, `enterprise_fields` is how an administrator reads them, and a duplicate key is almost
/// certainly an editing mistake, so this type keeps the order and rejects duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderedMap<V> {
    /// The entries, in the order they appear in the file.
    pub entries: Vec<(String, V)>,
}

impl<V> OrderedMap<V> {
    /// The value for `key`, if present.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The entries in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The keys in file order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for OrderedVisitor<V> {
            type Value = OrderedMap<V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut entries: Vec<(String, V)> = Vec::with_capacity(access.size_hint().unwrap_or(0));
                while let Some(key) = access.next_key::<String>()? {
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format!("duplicate key `{key}`")));
                    }
                    let value = access.next_value()?;
                    entries.push((key, value));
                }
                Ok(OrderedMap { entries })
            }
        }

        deserializer.deserialize_map(OrderedVisitor(PhantomData))
    }
}

// ---------------------------------------------------------------------------------------------
// departments.json
// ---------------------------------------------------------------------------------------------

/// A government department (`departments.json`, a JSON array of these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    /// Our code, `JN-…` (not an official code).
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// One of [`DEPARTMENT_LEVELS`].
    pub level: String,
    /// The district, for district-level departments; `None` for city-level ones.
    pub district: Option<String>,
    /// One of [`DEPARTMENT_KINDS`].
    pub kind: String,
    /// Duty keywords, used to route complaints and questions.
    pub duties: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// catalog.json
// ---------------------------------------------------------------------------------------------

/// The service catalogue (`catalog.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    /// Catalogue edition, e.g. `2026-11`.
    pub version: String,
    /// The service items (政务服务事项).
    pub items: Vec<CatalogItem>,
}

/// One service item (政务服务事项).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogItem {
    /// Synthetic code `JN-<dept>-NNNN`; the prefix is the department code.
    pub code: String,
    /// Item name.
    pub name: String,
    /// Code of the responsible department (in `departments.json`).
    pub department: String,
    /// Level where it is handled, one of [`LEVELS`].
    pub level: String,
    /// Category, one of [`ITEM_KINDS`].
    pub kind: String,
    /// One of [`AUDIENCES`].
    pub audience: String,
    /// Life or business event it belongs to (开办, 出生, 养老…), free text.
    pub life_event: String,
    /// One of [`HANDLING`].
    pub handling: String,
    /// Time limit as the law states it (usually working days, a few calendar days: see
    /// `conditions`); `None` when the law sets none.
    pub legal_limit_days: Option<u32>,
    /// Time limit the city promises, in working days; 0 for 即办件.
    pub promised_limit_days: u32,
    /// Number of visits to a hall the applicant needs at most.
    pub visits: u32,
    /// Whether it can be applied for online.
    pub online: bool,
    /// Cross-region mode, one of [`CROSS_REGION_MODES`], if offered.
    pub cross_region: Option<String>,
    /// Whether 告知承诺 (a signed commitment replacing some proof) is accepted.
    pub commitment: bool,
    /// Whether a single official may approve it (独任审批).
    pub single_approver: bool,
    /// Fee, as text (most are 不收费).
    pub fee: String,
    /// Conditions, as text.
    pub conditions: String,
    /// Legal basis, as text.
    pub legal_basis: String,
    /// Materials the application needs.
    pub materials: Vec<Material>,
    /// Colloquial search keywords.
    pub keywords: Vec<String>,
}

/// A material an application needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Material {
    /// Material name.
    pub name: String,
    /// Where it comes from: `applicant`, `elicence:<type>` or `data:<dataset>`; see
    /// [`Material::parsed_source`].
    pub source: String,
    /// Whether a commitment (告知承诺) may replace it.
    pub commitment_ok: bool,
}

/// The decoded [`Material::source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaterialSource<'a> {
    /// The applicant uploads or brings it.
    Applicant,
    /// Fetched from the applicant's e-licence of this type (an [`ElicenceType::code`]).
    Elicence(&'a str),
    /// Looked up in this shared dataset.
    Data(&'a str),
}

impl Material {
    /// Decodes `source`; `None` if it has none of the three known forms.
    ///
    /// This only looks at the form: whether an e-licence type exists is for
    /// [`ReferenceData::check`].
    pub fn parsed_source(&self) -> Option<MaterialSource<'_>> {
        if self.source == "applicant" {
            Some(MaterialSource::Applicant)
        } else if let Some(t) = self.source.strip_prefix("elicence:") {
            is_identifier(t).then_some(MaterialSource::Elicence(t))
        } else if let Some(d) = self.source.strip_prefix("data:") {
            is_identifier(d).then_some(MaterialSource::Data(d))
        } else {
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// bundles.json
// ---------------------------------------------------------------------------------------------

/// A "one thing" bundle (一件事): several items applied for together (`bundles.json`, an array).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Code, `JN-YJS-NNN`.
    pub code: String,
    /// Name.
    pub name: String,
    /// One of [`AUDIENCES`].
    pub audience: String,
    /// Description.
    pub description: String,
    /// Codes of the items always included.
    pub items: Vec<String>,
    /// Situational questions that add or remove items.
    pub questions: Vec<BundleQuestion>,
    /// Promised working days for the bundle: its slowest item, or more when steps are sequential.
    pub promised_limit_days: u32,
}

/// A yes/no question in a bundle; answering yes applies its changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleQuestion {
    /// Id, unique within the bundle (`q1`, `q2`…).
    pub id: String,
    /// The question.
    pub text: String,
    /// Items added on "yes".
    pub adds_items: Vec<String>,
    /// Items removed on "yes".
    pub removes_items: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// elicence_types.json
// ---------------------------------------------------------------------------------------------

/// A type of e-licence or card (`elicence_types.json`, an array).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElicenceType {
    /// Code, e.g. `business_licence`; materials refer to it as `elicence:<code>`.
    pub code: String,
    /// Name.
    pub name: String,
    /// Code of the issuing department.
    pub issuer: String,
    /// One of [`HOLDERS`].
    pub holder: String,
    /// Validity in years; `None` when it does not expire.
    pub validity_years: Option<u32>,
    /// The fields it carries.
    pub fields: Vec<ElicenceField>,
}

/// A field of an e-licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElicenceField {
    /// Machine name, unique within the type.
    pub name: String,
    /// Chinese label.
    pub label: String,
}

// ---------------------------------------------------------------------------------------------
// halls.json
// ---------------------------------------------------------------------------------------------

/// The service halls (`halls.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HallsFile {
    /// Caveats on coordinates, addresses, hours and names.
    pub note: String,
    /// Chinese description of each level.
    pub levels: HallLevels,
    /// The halls.
    pub halls: Vec<Hall>,
}

/// Chinese description of each hall level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HallLevels {
    /// 市级政务服务中心.
    pub city: String,
    /// 区县政务服务中心.
    pub district: String,
    /// 街道/镇便民服务中心.
    pub street: String,
    /// 社区/村便民服务站.
    pub community: String,
}

/// A service hall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hall {
    /// Code, `JN-H-NNNN`.
    pub code: String,
    /// Name.
    pub name: String,
    /// One of [`LEVELS`].
    pub level: String,
    /// Code of the hall one level up; `None` only for the city hall.
    pub parent: Option<String>,
    /// District or county it lies in.
    pub district: String,
    /// Approximate address.
    pub address: String,
    /// WGS84 latitude (approximate).
    pub lat: f64,
    /// WGS84 longitude (approximate).
    pub lon: f64,
    /// Opening hours, as text.
    pub hours: String,
    /// Number of service windows.
    pub windows: u32,
    /// Phone, if any (only the 12345 hotline is filled in).
    pub phone: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// holidays_cn.json
// ---------------------------------------------------------------------------------------------

/// The statutory holiday calendar (`holidays_cn.json`).
///
/// [`ReferenceData`] keeps this file as raw text for the calendar module; this type exists so that
/// a malformed file is rejected at load time with the file named.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidaysFile {
    /// Where the arrangements come from.
    pub source: String,
    /// What `off`, `work` and unlisted days mean (prose, keyed `off`, `work`, `other_days`, `scope`).
    pub semantics: OrderedMap<String>,
    /// Which years are missing and why.
    pub years_note: String,
    /// Arrangements per year, keyed by the year (`"2024"`).
    pub years: OrderedMap<HolidayYear>,
}

/// One year's holiday arrangement, from the State Council notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayYear {
    /// Days off (`YYYY-MM-DD`, sorted), including weekends that are part of a holiday.
    pub off: Vec<String>,
    /// Weekend days that are working days (调休).
    pub work: Vec<String>,
    /// Title of the notice.
    pub notice: String,
    /// Document number, if found.
    pub notice_no: Option<String>,
    /// Date the notice was issued.
    pub issued: String,
    /// How the year was verified (free-form).
    pub confidence: Value,
    /// Per-holiday breakdown (free-form; the calendar module reads it).
    pub holidays: Value,
    /// Remarks.
    pub notes: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// policies.json
// ---------------------------------------------------------------------------------------------

/// The enterprise benefit policies (`policies.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoliciesFile {
    /// What the policies are (illustrative, not real figures).
    pub note: String,
    /// Conventions the CEL expressions follow (prose, keyed by topic).
    pub cel_conventions: OrderedMap<String>,
    /// Department code → name for the departments that own a policy.
    pub departments: OrderedMap<String>,
    /// The enterprise attributes the CEL expressions may use, in documentation order.
    pub enterprise_fields: OrderedMap<EnterpriseField>,
    /// The policies.
    pub policies: Vec<Policy>,
}

/// An enterprise attribute available to policy expressions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseField {
    /// Value type, one of [`ENTERPRISE_FIELD_TYPES`].
    #[serde(rename = "type")]
    pub field_type: String,
    /// Chinese label.
    pub label: String,
    /// Unit (`元`, `人`, `日期`), if any.
    pub unit: Option<String>,
    /// Allowed values, for enumerated string fields.
    #[serde(rename = "enum", default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
}

/// An enterprise benefit policy (惠企政策).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Code, `JN-ZC-YYYY-NNN`.
    pub code: String,
    /// Name.
    pub name: String,
    /// Code of the owning department (in `departments.json`).
    pub department: String,
    /// One of [`POLICY_MODES`].
    pub mode: String,
    /// Summary, as text.
    pub summary: String,
    /// CEL expression over `enterprise_fields`: whether an enterprise qualifies.
    pub eligibility: String,
    /// CEL expression over `enterprise_fields`: amount in yuan (double), evaluated only when
    /// eligible.
    pub amount: String,
    /// Cap per enterprise in yuan, if any.
    pub cap_yuan: Option<u64>,
    /// Total budget in yuan.
    pub budget_yuan: u64,
    /// Period in which it is paid out or applications are accepted.
    pub window: PolicyWindow,
}

/// A policy's window, both ends inclusive (`YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyWindow {
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/// The seven reference texts, before parsing.
///
/// `'static` because [`ReferenceData::holidays_json`] keeps the holiday text as is; tests that
/// build broken variants can use `String::leak`.
#[derive(Debug, Clone, Copy)]
pub struct RawFiles {
    /// `departments.json`.
    pub departments: &'static str,
    /// `catalog.json`.
    pub catalog: &'static str,
    /// `bundles.json`.
    pub bundles: &'static str,
    /// `elicence_types.json`.
    pub elicence_types: &'static str,
    /// `halls.json`.
    pub halls: &'static str,
    /// `holidays_cn.json`.
    pub holidays: &'static str,
    /// `policies.json`.
    pub policies: &'static str,
}

impl RawFiles {
    /// The files compiled into the binary.
    pub const SHIPPED: RawFiles = RawFiles {
        departments: include_str!("../../../../reference/departments.json"),
        catalog: include_str!("../../../../reference/catalog.json"),
        bundles: include_str!("../../../../reference/bundles.json"),
        elicence_types: include_str!("../../../../reference/elicence_types.json"),
        halls: include_str!("../../../../reference/halls.json"),
        holidays: include_str!("../../../../reference/holidays_cn.json"),
        policies: include_str!("../../../../reference/policies.json"),
    };
}

/// All reference data, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceData {
    /// `departments.json`.
    pub departments: Vec<Department>,
    /// `catalog.json`.
    pub catalog: CatalogFile,
    /// `bundles.json`.
    pub bundles: Vec<Bundle>,
    /// `elicence_types.json`.
    pub elicence_types: Vec<ElicenceType>,
    /// `halls.json`.
    pub halls: HallsFile,
    /// `holidays_cn.json` as raw text; the calendar module parses it. [`parse`] has checked that
    /// it parses as a [`HolidaysFile`].
    pub holidays_json: &'static str,
    /// `policies.json`.
    pub policies: PoliciesFile,
}

/// A reference file that could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// The text is not valid JSON or does not have the expected shape.
    #[error("{file}: cannot parse at line {line}, column {column}: {error}")]
    Parse {
        /// File name, e.g. `catalog.json`.
        file: &'static str,
        /// 1-based line serde stopped at.
        line: usize,
        /// 1-based column serde stopped at.
        column: usize,
        /// The underlying error (its message repeats the position).
        error: serde_json::Error,
    },
}

impl ReferenceError {
    /// The file that failed.
    pub fn file(&self) -> &'static str {
        match self {
            ReferenceError::Parse { file, .. } => file,
        }
    }
}

fn parse_file<'a, T: Deserialize<'a>>(file: &'static str, text: &'a str) -> Result<T, ReferenceError> {
    serde_json::from_str(text).map_err(|error| ReferenceError::Parse {
        file,
        line: error.line(),
        column: error.column(),
        error,
    })
}

/// Parses the seven texts. Cross-file consistency is not checked here: call
/// [`ReferenceData::check`].
pub fn parse(files: &RawFiles) -> Result<ReferenceData, ReferenceError> {
    // Parsed only to reject a malformed calendar now, with the file named, rather than later in
    // whichever module reads it first.
    parse_file::<HolidaysFile>(HOLIDAYS_FILE, files.holidays)?;
    Ok(ReferenceData {
        departments: parse_file(DEPARTMENTS_FILE, files.departments)?,
        catalog: parse_file(CATALOG_FILE, files.catalog)?,
        bundles: parse_file(BUNDLES_FILE, files.bundles)?,
        elicence_types: parse_file(ELICENCE_TYPES_FILE, files.elicence_types)?,
        halls: parse_file(HALLS_FILE, files.halls)?,
        holidays_json: files.holidays,
        policies: parse_file(POLICIES_FILE, files.policies)?,
    })
}

/// Parses the reference data compiled into the binary.
///
/// This does not run [`ReferenceData::check`]; the shipped data passes it (a unit test makes sure),
/// so callers seeding a database need not repeat it.
pub fn shipped() -> Result<ReferenceData, ReferenceError> {
    parse(&RawFiles::SHIPPED)
}

// ---------------------------------------------------------------------------------------------
// Checking
// ---------------------------------------------------------------------------------------------

/// Something wrong in the reference data, found by [`ReferenceData::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceProblem {
    /// File name, e.g. `catalog.json`.
    pub file: &'static str,
    /// The record, e.g. `item JN-SPJ-0001`, or `file` for file-level problems.
    pub record: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ReferenceProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.file, self.record, self.message)
    }
}

/// Collects problems; one per file/record pair per message.
struct Problems(Vec<ReferenceProblem>);

impl Problems {
    fn push(&mut self, file: &'static str, record: impl fmt::Display, message: impl Into<String>) {
        self.0.push(ReferenceProblem { file, record: record.to_string(), message: message.into() });
    }

    /// Reports `value` if it is not one of `allowed`.
    fn one_of(&mut self, file: &'static str, record: &str, field: &str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            self.push(file, record, format!("{field} `{value}` is not one of {}", allowed.join(", ")));
        }
    }

    /// Reports each code that occurs more than once (once per extra occurrence).
    fn unique<'a>(&mut self, file: &'static str, what: &str, codes: impl Iterator<Item = &'a str>) {
        let mut seen = HashSet::new();
        for code in codes {
            if !seen.insert(code) {
                self.push(file, format!("{what} {code}"), "code is not unique");
            }
        }
    }

    /// Reports each value that repeats within one record's list.
    fn unique_within<'a>(
        &mut self,
        file: &'static str,
        record: &str,
        what: &str,
        values: impl Iterator<Item = &'a str>,
    ) {
        let mut seen = HashSet::new();
        for v in values {
            if !seen.insert(v) {
                self.push(file, record, format!("{what} {v} is listed twice"));
            }
        }
    }
}

impl ReferenceData {
    /// Checks references across files and the shape of values that serde cannot check.
    ///
    /// Returns every problem found, each naming the file and the record. The shipped data passes.
    ///
    /// Rules considered and left out because the shipped data legitimately breaks them: an item
    /// that is not online may still need 0 visits (the funeral fee waiver is applied by the funeral
    /// home), and a cross-region mode does not imply online handling (异地代收代办 is at a hall).
    pub fn check(&self) -> Result<(), Vec<ReferenceProblem>> {
        let mut p = Problems(Vec::new());
        self.check_departments(&mut p);
        self.check_catalog(&mut p);
        self.check_bundles(&mut p);
        self.check_elicence_types(&mut p);
        self.check_halls(&mut p);
        self.check_holidays(&mut p);
        self.check_policies(&mut p);
        if p.0.is_empty() { Ok(()) } else { Err(p.0) }
    }

    fn department_codes(&self) -> HashSet<&str> {
        self.departments.iter().map(|d| d.code.as_str()).collect()
    }

    fn check_departments(&self, p: &mut Problems) {
        const F: &str = DEPARTMENTS_FILE;
        p.unique(F, "department", self.departments.iter().map(|d| d.code.as_str()));
        for d in &self.departments {
            let rec = format!("department {}", d.code);
            p.one_of(F, &rec, "level", &d.level, DEPARTMENT_LEVELS);
            p.one_of(F, &rec, "kind", &d.kind, DEPARTMENT_KINDS);
            // A district department without its district could not be routed to; a city one with
            // a district would be routed too narrowly.
            match (d.level.as_str(), &d.district) {
                ("district", None) => p.push(F, &rec, "district-level department has no district"),
                ("city", Some(x)) => p.push(F, &rec, format!("city-level department has district {x}")),
                _ => {}
            }
        }
    }

    fn check_catalog(&self, p: &mut Problems) {
        const F: &str = CATALOG_FILE;
        let departments = self.department_codes();
        let elicences: HashSet<&str> = self.elicence_types.iter().map(|e| e.code.as_str()).collect();
        p.unique(F, "item", self.catalog.items.iter().map(|i| i.code.as_str()));
        for item in &self.catalog.items {
            let rec = format!("item {}", item.code);
            if !departments.contains(item.department.as_str()) {
                p.push(F, &rec, format!("department {} is not in {DEPARTMENTS_FILE}", item.department));
            } else if !item.code.starts_with(&format!("{}-", item.department)) {
                // Codes are `JN-<dept>-NNNN`; a mismatch means the item was moved or mistyped.
                p.push(F, &rec, format!("code does not start with its department {}", item.department));
            }
            p.one_of(F, &rec, "level", &item.level, LEVELS);
            p.one_of(F, &rec, "kind", &item.kind, ITEM_KINDS);
            p.one_of(F, &rec, "audience", &item.audience, AUDIENCES);
            p.one_of(F, &rec, "handling", &item.handling, HANDLING);
            if let Some(mode) = &item.cross_region {
                p.one_of(F, &rec, "cross_region", mode, CROSS_REGION_MODES);
            }
            // 即办件 means done on the spot; anything promised later is a 承诺件.
            let instant = item.handling == "即办件";
            if instant != (item.promised_limit_days == 0) {
                p.push(
                    F,
                    &rec,
                    format!(
                        "handling {} does not match promised_limit_days {} (即办件 iff 0)",
                        item.handling, item.promised_limit_days
                    ),
                );
            }
            // The promise may only improve on the law. Compared as plain numbers although a few
            // legal limits are calendar days: a promise in working days that is numerically no
            // larger is then shorter still.
            if let Some(legal) = item.legal_limit_days
                && legal > 0
                && item.promised_limit_days > legal
            {
                p.push(
                    F,
                    &rec,
                    format!(
                        "promised_limit_days {} exceeds legal_limit_days {legal}",
                        item.promised_limit_days
                    ),
                );
            }
            // A material replaceable by a commitment only makes sense if the item accepts
            // commitments, and an item accepting them should say which material they replace.
            let any_commitment_material = item.materials.iter().any(|m| m.commitment_ok);
            if item.commitment && !any_commitment_material {
                p.push(F, &rec, "commitment is true but no material has commitment_ok");
            }
            if !item.commitment && any_commitment_material {
                p.push(F, &rec, "a material has commitment_ok but commitment is false");
            }
            for m in &item.materials {
                match m.parsed_source() {
                    None => p.push(
                        F,
                        &rec,
                        format!(
                            "material {}: source `{}` is not `applicant`, `elicence:<type>` or `data:<dataset>`",
                            m.name, m.source
                        ),
                    ),
                    Some(MaterialSource::Elicence(t)) if !elicences.contains(t) => p.push(
                        F,
                        &rec,
                        format!("material {}: e-licence type {t} is not in {ELICENCE_TYPES_FILE}", m.name),
                    ),
                    Some(_) => {}
                }
            }
        }
    }

    fn check_bundles(&self, p: &mut Problems) {
        const F: &str = BUNDLES_FILE;
        let items: HashMap<&str, &CatalogItem> =
            self.catalog.items.iter().map(|i| (i.code.as_str(), i)).collect();
        p.unique(F, "bundle", self.bundles.iter().map(|b| b.code.as_str()));
        for b in &self.bundles {
            let rec = format!("bundle {}", b.code);
            p.one_of(F, &rec, "audience", &b.audience, AUDIENCES);
            p.unique_within(F, &rec, "item", b.items.iter().map(String::as_str));
            p.unique_within(F, &rec, "question", b.questions.iter().map(|q| q.id.as_str()));
            let mut slowest = 0;
            for code in &b.items {
                let Some(item) = items.get(code.as_str()) else {
                    p.push(F, &rec, format!("item {code} is not in {CATALOG_FILE}"));
                    continue;
                };
                slowest = slowest.max(item.promised_limit_days);
                // A person cannot apply for an enterprise-only item and vice versa.
                let clash = matches!(
                    (b.audience.as_str(), item.audience.as_str()),
                    ("person", "enterprise") | ("enterprise", "person")
                );
                if clash {
                    p.push(
                        F,
                        &rec,
                        format!(
                            "item {code} is for audience {} but the bundle is for {}",
                            item.audience, b.audience
                        ),
                    );
                }
            }
            // The bundle cannot be quicker than its slowest mandatory item. Items added by
            // questions are left out: the promise is for the common case.
            if b.promised_limit_days < slowest {
                p.push(
                    F,
                    &rec,
                    format!(
                        "promised_limit_days {} is less than its slowest item's {slowest}",
                        b.promised_limit_days
                    ),
                );
            }
            for q in &b.questions {
                for code in &q.adds_items {
                    if !items.contains_key(code.as_str()) {
                        p.push(
                            F,
                            &rec,
                            format!("question {} adds item {code}, which is not in {CATALOG_FILE}", q.id),
                        );
                    } else if b.items.contains(code) {
                        p.push(
                            F,
                            &rec,
                            format!("question {} adds item {code}, which is already in the bundle", q.id),
                        );
                    }
                }
                for code in &q.removes_items {
                    if !items.contains_key(code.as_str()) {
                        p.push(
                            F,
                            &rec,
                            format!("question {} removes item {code}, which is not in {CATALOG_FILE}", q.id),
                        );
                    } else if !b.items.contains(code) {
                        p.push(
                            F,
                            &rec,
                            format!("question {} removes item {code}, which is not in the bundle", q.id),
                        );
                    }
                }
            }
        }
    }

    fn check_elicence_types(&self, p: &mut Problems) {
        const F: &str = ELICENCE_TYPES_FILE;
        let departments = self.department_codes();
        p.unique(F, "e-licence type", self.elicence_types.iter().map(|e| e.code.as_str()));
        for e in &self.elicence_types {
            let rec = format!("e-licence type {}", e.code);
            if !is_identifier(&e.code) {
                // Materials name it as `elicence:<code>`, which only accepts identifiers.
                p.push(F, &rec, "code is not a lower-case identifier");
            }
            if !departments.contains(e.issuer.as_str()) {
                p.push(F, &rec, format!("issuer {} is not in {DEPARTMENTS_FILE}", e.issuer));
            }
            p.one_of(F, &rec, "holder", &e.holder, HOLDERS);
            if e.validity_years == Some(0) {
                p.push(F, &rec, "validity_years is 0 (use null for no expiry)");
            }
            if e.fields.is_empty() {
                p.push(F, &rec, "has no fields");
            }
            p.unique_within(F, &rec, "field", e.fields.iter().map(|f| f.name.as_str()));
        }
    }

    fn check_halls(&self, p: &mut Problems) {
        const F: &str = HALLS_FILE;
        let halls: HashMap<&str, &Hall> = self.halls.halls.iter().map(|h| (h.code.as_str(), h)).collect();
        let depth = |level: &str| LEVELS.iter().position(|l| *l == level);
        p.unique(F, "hall", self.halls.halls.iter().map(|h| h.code.as_str()));
        for h in &self.halls.halls {
            let rec = format!("hall {}", h.code);
            p.one_of(F, &rec, "level", &h.level, LEVELS);
            match &h.parent {
                None if h.level != "city" => p.push(F, &rec, format!("{}-level hall has no parent", h.level)),
                None => {}
                Some(parent_code) => match halls.get(parent_code.as_str()) {
                    None => p.push(F, &rec, format!("parent {parent_code} is not in {HALLS_FILE}")),
                    Some(parent) => {
                        // Exactly one level up keeps the tree a tree (no cycles) and matches how
                        // cases escalate: community → street → district → city.
                        if let (Some(c), Some(pd)) = (depth(&h.level), depth(&parent.level))
                            && pd + 1 != c
                        {
                            p.push(
                                F,
                                &rec,
                                format!(
                                    "parent {parent_code} is {}-level, expected one level above {}",
                                    parent.level, h.level
                                ),
                            );
                        }
                        // Below district level a hall lies in its parent's district.
                        if parent.level != "city" && parent.district != h.district {
                            p.push(
                                F,
                                &rec,
                                format!(
                                    "district {} differs from parent {parent_code}'s {}",
                                    h.district, parent.district
                                ),
                            );
                        }
                    }
                },
            }
            let in_range = |v: f64, (lo, hi): (f64, f64)| v.is_finite() && (lo..=hi).contains(&v);
            if !in_range(h.lat, HALL_LAT_RANGE) || !in_range(h.lon, HALL_LON_RANGE) {
                p.push(
                    F,
                    &rec,
                    format!(
                        "coordinates ({}, {}) are outside lat {:?} / lon {:?}",
                        h.lat, h.lon, HALL_LAT_RANGE, HALL_LON_RANGE
                    ),
                );
            }
            if h.windows == 0 {
                p.push(F, &rec, "has no windows");
            }
        }
    }

    fn check_holidays(&self, p: &mut Problems) {
        const F: &str = HOLIDAYS_FILE;
        // `holidays_json` is public, so it may have been replaced since `parse`.
        let file: HolidaysFile = match serde_json::from_str(self.holidays_json) {
            Ok(file) => file,
            Err(e) => {
                p.push(F, "file", format!("does not parse: {e}"));
                return;
            }
        };
        for (year, y) in file.years.iter() {
            let rec = format!("year {year}");
            if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
                p.push(F, &rec, "year key is not a four-digit year");
            }
            if !is_iso_date(&y.issued) {
                p.push(F, &rec, format!("issued `{}` is not a YYYY-MM-DD date", y.issued));
            }
            for (list, dates) in [("off", &y.off), ("work", &y.work)] {
                for d in dates {
                    if !is_iso_date(d) {
                        p.push(F, &rec, format!("{list} date `{d}` is not a YYYY-MM-DD date"));
                    }
                }
                // Sorted and unique lets the calendar binary-search them.
                if dates.windows(2).any(|w| w[0] >= w[1]) {
                    p.push(F, &rec, format!("{list} dates are not sorted and unique"));
                }
            }
            // `semantics.off`: days off are filed under the calendar year they fall in.
            for d in y.off.iter().filter(|d| !d.starts_with(&format!("{year}-"))) {
                p.push(F, &rec, format!("off date {d} is not in {year}"));
            }
            for d in y.work.iter().filter(|d| y.off.contains(d)) {
                p.push(F, &rec, format!("{d} is both off and work"));
            }
        }
    }

    fn check_policies(&self, p: &mut Problems) {
        const F: &str = POLICIES_FILE;
        let departments: HashMap<&str, &Department> =
            self.departments.iter().map(|d| (d.code.as_str(), d)).collect();
        let pf = &self.policies;
        p.unique(F, "policy", pf.policies.iter().map(|x| x.code.as_str()));
        // The file repeats department names for readability; they must agree with the source.
        for (code, name) in pf.departments.iter() {
            match departments.get(code) {
                None => p.push(F, format!("department {code}"), format!("is not in {DEPARTMENTS_FILE}")),
                Some(d) if d.name != *name => p.push(
                    F,
                    format!("department {code}"),
                    format!("name {name} differs from {DEPARTMENTS_FILE}'s {}", d.name),
                ),
                Some(_) => {}
            }
        }
        for (name, field) in pf.enterprise_fields.iter() {
            let rec = format!("enterprise field {name}");
            p.one_of(F, &rec, "type", &field.field_type, ENTERPRISE_FIELD_TYPES);
            if field.allowed.is_some() && !field.field_type.starts_with("string") {
                p.push(F, &rec, "enum given for a non-string field");
            }
        }
        for x in &pf.policies {
            let rec = format!("policy {}", x.code);
            if !departments.contains_key(x.department.as_str()) {
                p.push(F, &rec, format!("department {} is not in {DEPARTMENTS_FILE}", x.department));
            } else if pf.departments.get(&x.department).is_none() {
                p.push(F, &rec, format!("department {} is not in the file's departments", x.department));
            }
            p.one_of(F, &rec, "mode", &x.mode, POLICY_MODES);
            if !x.eligibility.starts_with(ELIGIBILITY_PREFIX) {
                p.push(F, &rec, format!("eligibility does not start with `{ELIGIBILITY_PREFIX}`"));
            }
            if x.amount.trim().is_empty() {
                p.push(F, &rec, "amount is empty");
            }
            if let Some(cap) = x.cap_yuan
                && cap > x.budget_yuan
            {
                p.push(F, &rec, format!("cap_yuan {cap} exceeds budget_yuan {}", x.budget_yuan));
            }
            let (from, to) = (&x.window.from, &x.window.to);
            if !is_iso_date(from) || !is_iso_date(to) {
                p.push(F, &rec, format!("window {from}..{to} is not two YYYY-MM-DD dates"));
            } else if from > to {
                // ISO dates compare correctly as strings.
                p.push(F, &rec, format!("window starts {from} after it ends {to}"));
            }
        }
    }
}

/// Whether `s` is a lower-case identifier (`[a-z0-9_]+`), the form of e-licence and dataset names.
fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether `s` is a real calendar date written `YYYY-MM-DD`.
fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().ok() } else { None }
    };
    let (Some(year), Some(month), Some(day)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&day)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn data() -> ReferenceData {
        shipped().unwrap()
    }

    /// The problems `check` reports, as display strings.
    fn problems(d: &ReferenceData) -> Vec<String> {
        match d.check() {
            Ok(()) => Vec::new(),
            Err(ps) => ps.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn shipped_data_parses_with_expected_counts() {
        let d = data();
        assert_eq!(d.departments.len(), 34);
        assert_eq!(d.catalog.items.len(), 196);
        assert_eq!(d.bundles.len(), 20);
        assert_eq!(d.elicence_types.len(), 23);
        assert_eq!(d.halls.halls.len(), 51);
        assert_eq!(d.policies.policies.len(), 12);
        assert_eq!(d.policies.enterprise_fields.len(), 26);
        let holidays: HolidaysFile = serde_json::from_str(d.holidays_json).unwrap();
        assert_eq!(holidays.years.keys().collect::<Vec<_>>(), ["2024", "2025", "2026"]);
    }

    #[test]
    fn shipped_data_passes_check() {
        assert_eq!(problems(&data()), Vec::<String>::new());
    }

    #[test]
    fn nothing_is_lost_in_a_round_trip() {
        // Storing the records and reading them back must give the same JSON as the file, so a
        // field missed in a struct (or an object reordered) would show here.
        fn same<T: Serialize>(records: &T, text: &str) {
            let original: Value = serde_json::from_str(text).unwrap();
            let again = serde_json::to_value(records).unwrap();
            assert_eq!(again, original);
        }
        let d = data();
        let raw = RawFiles::SHIPPED;
        same(&d.departments, raw.departments);
        same(&d.catalog, raw.catalog);
        same(&d.bundles, raw.bundles);
        same(&d.elicence_types, raw.elicence_types);
        same(&d.halls, raw.halls);
        same(&d.policies, raw.policies);
        let holidays: HolidaysFile = serde_json::from_str(raw.holidays).unwrap();
        same(&holidays, raw.holidays);
        let fields: Vec<&str> = d.policies.enterprise_fields.keys().take(3).collect();
        assert_eq!(fields, ["uscc", "name", "district"], "file order is kept");
    }

    #[test]
    fn unknown_department_is_reported_naming_the_item() {
        let mut d = data();
        d.catalog.items[0].department = "JN-NOPE".to_owned();
        let code = d.catalog.items[0].code.clone();
        let ps = problems(&d);
        assert!(
            ps.contains(&format!("catalog.json item {code}: department JN-NOPE is not in departments.json")),
            "{ps:?}"
        );
    }

    #[test]
    fn missing_bundle_item_is_reported() {
        let mut d = data();
        d.bundles[0].items.push("JN-SPJ-9999".to_owned());
        d.bundles[1].questions[0].adds_items.push("JN-SPJ-9998".to_owned());
        let (b0, b1) = (d.bundles[0].code.clone(), d.bundles[1].code.clone());
        let q = d.bundles[1].questions[0].id.clone();
        let ps = problems(&d);
        assert!(
            ps.contains(&format!("bundles.json bundle {b0}: item JN-SPJ-9999 is not in catalog.json")),
            "{ps:?}"
        );
        assert!(
            ps.contains(&format!(
                "bundles.json bundle {b1}: question {q} adds item JN-SPJ-9998, which is not in catalog.json"
            )),
            "{ps:?}"
        );
    }

    #[test]
    fn duplicate_code_is_reported() {
        let mut d = data();
        let dup = d.halls.halls[5].clone();
        d.halls.halls.push(dup.clone());
        let item = d.catalog.items[3].clone();
        d.catalog.items.push(item.clone());
        let ps = problems(&d);
        assert!(ps.contains(&format!("halls.json hall {}: code is not unique", dup.code)), "{ps:?}");
        assert!(ps.contains(&format!("catalog.json item {}: code is not unique", item.code)), "{ps:?}");
    }

    #[test]
    fn unknown_elicence_and_bad_source_are_reported() {
        let mut d = data();
        let code = d.catalog.items[0].code.clone();
        d.catalog.items[0].materials[0].source = "elicence:nope".to_owned();
        d.catalog.items[0].materials[1].source = "data:".to_owned();
        let ps = problems(&d);
        assert!(
            ps.iter().any(|p| p.starts_with(&format!("catalog.json item {code}: material"))
                && p.contains("e-licence type nope is not in elicence_types.json")),
            "{ps:?}"
        );
        assert!(ps.iter().any(|p| p.contains("source `data:`")), "{ps:?}");
    }

    #[test]
    fn hall_hierarchy_and_coordinates_are_checked() {
        let mut d = data();
        let i = d.halls.halls.iter().position(|h| h.level == "community").unwrap();
        let code = d.halls.halls[i].code.clone();
        d.halls.halls[i].parent = Some("JN-H-0001".to_owned());
        let hall = &mut d.halls.halls[i];
        std::mem::swap(&mut hall.lat, &mut hall.lon);
        let ps = problems(&d);
        assert!(
            ps.iter()
                .any(|p| p.starts_with(&format!("halls.json hall {code}: parent JN-H-0001 is city-level"))),
            "{ps:?}"
        );
        assert!(ps.iter().any(|p| p.starts_with(&format!("halls.json hall {code}: coordinates"))), "{ps:?}");
    }

    #[test]
    fn limits_enums_and_policy_departments_are_checked() {
        let mut d = data();
        let i = d.catalog.items.iter().position(|i| i.legal_limit_days.is_some_and(|l| l > 0)).unwrap();
        let legal = d.catalog.items[i].legal_limit_days.unwrap();
        d.catalog.items[i].promised_limit_days = legal + 1;
        d.catalog.items[i].audience = "everyone".to_owned();
        d.policies.policies[0].department = "JN-NOPE".to_owned();
        let (item, policy) = (d.catalog.items[i].code.clone(), d.policies.policies[0].code.clone());
        let ps = problems(&d);
        let expected = [
            format!(
                "catalog.json item {item}: promised_limit_days {} exceeds legal_limit_days {legal}",
                legal + 1
            ),
            format!("catalog.json item {item}: audience `everyone` is not one of person, enterprise, both"),
            format!("policies.json policy {policy}: department JN-NOPE is not in departments.json"),
        ];
        for e in expected {
            assert!(ps.contains(&e), "missing {e} in {ps:?}");
        }
    }

    #[test]
    fn malformed_json_names_the_file() {
        let broken = RawFiles { bundles: r#"[{"code": "JN-YJS-001",}]"#, ..RawFiles::SHIPPED };
        let err = parse(&broken).unwrap_err();
        assert_eq!(err.file(), BUNDLES_FILE);
        let ReferenceError::Parse { line, column, .. } = &err;
        assert_eq!((*line, *column), (1, 24));
        assert!(err.to_string().starts_with("bundles.json: cannot parse at line 1, column 24"), "{err}");

        let broken = RawFiles { holidays: "{", ..RawFiles::SHIPPED };
        assert_eq!(parse(&broken).unwrap_err().file(), HOLIDAYS_FILE);
    }

    #[test]
    fn unknown_field_is_rejected() {
        let text = RawFiles::SHIPPED.departments.replacen("\"code\"", "\"extra\": 1, \"code\"", 1).leak();
        let err = parse(&RawFiles { departments: text, ..RawFiles::SHIPPED }).unwrap_err();
        assert_eq!(err.file(), DEPARTMENTS_FILE);
        assert!(err.to_string().contains("unknown field `extra`"), "{err}");
    }

    #[test]
    fn duplicate_object_key_is_rejected() {
        let err = serde_json::from_str::<OrderedMap<u32>>(r#"{"a": 1, "a": 2}"#).unwrap_err();
        assert!(err.to_string().contains("duplicate key `a`"), "{err}");
    }

    #[test]
    fn material_sources_decode() {
        let m = |s: &str| Material { name: "x".to_owned(), source: s.to_owned(), commitment_ok: false };
        assert_eq!(m("applicant").parsed_source(), Some(MaterialSource::Applicant));
        assert_eq!(m("elicence:id_card").parsed_source(), Some(MaterialSource::Elicence("id_card")));
        assert_eq!(m("data:hukou_info").parsed_source(), Some(MaterialSource::Data("hukou_info")));
        assert_eq!(m("data:").parsed_source(), None);
        assert_eq!(m("upload").parsed_source(), None);
    }

    #[test]
    fn iso_dates() {
        assert!(is_iso_date("2024-02-29"));
        assert!(!is_iso_date("2025-02-29"));
        assert!(!is_iso_date("2025-13-01"));
        assert!(!is_iso_date("2025-1-01"));
        assert!(!is_iso_date("2025-01-+1"));
    }
}
