//! Authorization, decided in one place: [`decide`] (actor × action × resource).
//!
//! Rules, from the SPEC: a staff role applies within its own department only; a person sees only
//! their own records (and those of enterprises they act for); the supervisor (督查) reads
//! everything city-wide and changes nothing; a record one may not see answers "not found", so that
//! its existence does not leak.

use serde::{Deserialize, Serialize};

/// Staff roles. The snake_case names are stable: they are stored and appear in the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 窗口受理: accepts applications for the department's items.
    WindowClerk,
    /// 综合窗口: accepts any item and dispatches it to the back office.
    GeneralWindowClerk,
    /// 审查
    Reviewer,
    /// 审批
    Approver,
    /// 部门负责人
    DepartmentHead,
    /// 督查: reads everything city-wide, changes nothing.
    Supervisor,
    /// 事项管理: proposes catalog changes.
    CatalogOfficer,
    /// 系统管理
    SystemAdmin,
    /// 导办员: answers the guidance hand-off queue.
    GuideOfficer,
    /// 证照管理: issues, suspends and revokes the department's e-licences and keeps its seals.
    LicenceOfficer,
    /// 12345 热线话务员: takes complaints by phone, dispatches, re-dispatches returned ones,
    /// approves extensions and makes the callbacks.
    HotlineOperator,
    /// 数据管理员: asks other departments for conditional data and decides the requests made
    /// for the department's own datasets.
    DataOfficer,
    /// 政策专员: works the department's enterprise policies (simulations, 免申即享 runs).
    PolicyOfficer,
}

impl Role {
    pub const ALL: [Role; 13] = [
        Role::WindowClerk,
        Role::GeneralWindowClerk,
        Role::Reviewer,
        Role::Approver,
        Role::DepartmentHead,
        Role::Supervisor,
        Role::CatalogOfficer,
        Role::SystemAdmin,
        Role::GuideOfficer,
        Role::LicenceOfficer,
        Role::HotlineOperator,
        Role::DataOfficer,
        Role::PolicyOfficer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::WindowClerk => "window_clerk",
            Role::GeneralWindowClerk => "general_window_clerk",
            Role::Reviewer => "reviewer",
            Role::Approver => "approver",
            Role::DepartmentHead => "department_head",
            Role::Supervisor => "supervisor",
            Role::CatalogOfficer => "catalog_officer",
            Role::SystemAdmin => "system_admin",
            Role::GuideOfficer => "guide_officer",
            Role::LicenceOfficer => "licence_officer",
            Role::HotlineOperator => "hotline_operator",
            Role::DataOfficer => "data_officer",
            Role::PolicyOfficer => "policy_officer",
        }
    }

    /// Roles that act across the whole city rather than inside one department. Only a system
    /// administrator grants them: a department head granting one would reach beyond their department.
    pub fn is_city_wide(self) -> bool {
        matches!(
            self,
            Role::GeneralWindowClerk
                | Role::Supervisor
                | Role::SystemAdmin
                | Role::GuideOfficer
                | Role::HotlineOperator
        )
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::WindowClerk => "窗口受理",
            Role::GeneralWindowClerk => "综合窗口",
            Role::Reviewer => "审查",
            Role::Approver => "审批",
            Role::DepartmentHead => "部门负责人",
            Role::Supervisor => "督查",
            Role::CatalogOfficer => "事项管理",
            Role::SystemAdmin => "系统管理员",
            Role::GuideOfficer => "导办员",
            Role::LicenceOfficer => "证照管理",
            Role::HotlineOperator => "12345话务员",
            Role::DataOfficer => "数据管理员",
            Role::PolicyOfficer => "政策专员",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::WindowClerk => "Window clerk",
            Role::GeneralWindowClerk => "General window clerk",
            Role::Reviewer => "Reviewer",
            Role::Approver => "Approver",
            Role::DepartmentHead => "Department head",
            Role::Supervisor => "Supervisor",
            Role::CatalogOfficer => "Catalog officer",
            Role::SystemAdmin => "System administrator",
            Role::GuideOfficer => "Guidance officer",
            Role::LicenceOfficer => "Licence officer",
            Role::HotlineOperator => "12345 hotline operator",
            Role::DataOfficer => "Data officer",
            Role::PolicyOfficer => "Policy officer",
        }
    }
}

/// A role held within one department.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub role: Role,
    pub department: String,
}

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    Person {
        user_id: String,
        enterprises: Vec<String>,
    },
    /// `halls`: the service halls (政务服务大厅) the person works in.
    Staff {
        user_id: String,
        department: String,
        grants: Vec<Grant>,
        halls: Vec<String>,
    },
}

impl Actor {
    fn has(&self, role: Role, department: &str) -> bool {
        matches!(self, Actor::Staff { grants, .. }
            if grants.iter().any(|g| g.role == role && g.department == department))
    }

    fn has_anywhere(&self, role: Role) -> bool {
        matches!(self, Actor::Staff { grants, .. } if grants.iter().any(|g| g.role == role))
    }

    fn any_role_in(&self, department: &str) -> bool {
        matches!(self, Actor::Staff { grants, .. } if grants.iter().any(|g| g.department == department))
    }

    /// Staff of `department` (their own, or one they hold a role in).
    pub fn works_in(&self, department: &str) -> bool {
        matches!(self, Actor::Staff { department: own, .. } if own == department)
            || self.any_role_in(department)
    }

    /// Staff working at the service hall `hall`.
    pub fn works_at(&self, hall: &str) -> bool {
        matches!(self, Actor::Staff { halls, .. } if halls.iter().any(|h| h == hall))
    }

    fn serves_windows(&self) -> bool {
        self.has_anywhere(Role::WindowClerk) || self.has_anywhere(Role::GeneralWindowClerk)
    }

    /// Staff holding any of `roles`, in any department.
    pub fn has_any_role(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has_anywhere(*r))
    }

    /// The audit log's name for this actor.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Anonymous => "anonymous".into(),
            Actor::Person { user_id, .. } | Actor::Staff { user_id, .. } => format!("user:{user_id}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Read,
    /// Reading personal data (full record) — audited when staff do it.
    ReadPersonal,
    Create,
    Update,
    Delete,
    Accept,
    Review,
    Approve,
    /// Coordinating the city's complaints (12345): dispatching, merging, deciding extensions,
    /// calling back, scanning for clusters.
    Dispatch,
    /// Giving a staff account a role (on [`Resource::StaffAccount`] of the account's department).
    Grant(Role),
}

impl Action {
    fn changes(self) -> bool {
        !matches!(self, Action::Read | Action::ReadPersonal)
    }
}

/// What is acted on, with the facts the rules need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resource {
    /// A citizen's own account and personal record.
    Person { user_id: String },
    /// An enterprise's record.
    Enterprise { credit_code: String },
    /// A case (办件) handled by `department`, applied for by `applicant` (user id), for
    /// `enterprise` when applied for as one (its legal representative and agents see it too).
    Case { department: String, applicant: String, enterprise: Option<String> },
    /// A staff account in `department`.
    StaffAccount { department: String },
    /// Department-owned configuration (catalog items, windows…).
    DepartmentData { department: String },
    /// The audit log.
    AuditLog,
    /// City-wide settings: the calendar, reference data.
    System,
    /// The guidance hand-off queue (city-wide).
    GuidanceQueue,
    /// An appointment at service hall `hall`, booked by `booker` (user id).
    Appointment { hall: String, booker: String },
    /// The number queue of service hall `hall` (calling the next number to a window).
    HallQueue { hall: String },
    /// A complaint (诉求), with `department` now, from `complainant` (user id; none for hotline
    /// calls and Open311), earlier returned as not theirs by `returned_by`.
    Complaint { department: Option<String>, complainant: Option<String>, returned_by: Vec<String> },
    /// The city's complaint desk: every complaint, the dispatch queue, clusters and proactive tasks.
    ComplaintDesk,
    /// A proactive-governance task (主动治理) given to `department`.
    ProactiveTask { department: String },
    /// A bad review's rectification loop (差评整改) with `department`, given by `rater` (who
    /// follows it, named or anonymous).
    BadReview { department: String, rater: Option<String> },
    /// A post-check (事后核查) of a commitment, done by `department`.
    PostCheck { department: String },
    /// A department's e-licences: issuing, suspending, revoking.
    Licences { department: String },
    /// One e-licence (credential) issued by `issuer` to a person `holder` or an `enterprise`.
    Credential { issuer: String, holder: Option<String>, enterprise: Option<String> },
    /// A department's e-seals: rotating, revoking.
    Seals { department: String },
    /// An assistance request (帮办代办) from `requester`, with `officer` once assigned.
    AssistanceRequest { requester: String, officer: Option<String> },
    /// A request for conditional data by `requester` for a dataset of `owner`.
    DataRequest { requester: String, owner: String },
    /// The data exchange, read by `department` (the reader's own).
    DataExchange { department: String },
    /// An enterprise's benefits under the city's policies (what it is owed and why), which the
    /// policies of `issuers` give.
    PolicyBenefits { credit_code: String, issuers: Vec<String> },
    /// A policy's rules, simulations and runs, worked by its issuing `department`.
    PolicyWork { department: String },
    /// A construction project (工程建设项目) built by `enterprise`, whose stage applications have
    /// parts in `departments`.
    Project { enterprise: String, departments: Vec<String> },
    /// A joint review (联合审图、联合验收) as seen by its member `department`: its reviewers,
    /// approvers and head read the case and give the department's opinion.
    JointReview { department: String },
    /// A supervision order (督办单) to `department` about something overdue: its head answers it.
    SupervisionOrder { department: String },
    /// A department's scorecard (部门考评) and the records behind its figures: its head's (and
    /// the supervision office's). Nobody edits figures: they are computed from the records.
    Scorecard { department: String },
    /// A reform task (改革任务) led by `lead` with `supporting` units: their staff read it, the
    /// lead's head reports progress, the supervision office reviews.
    ReformTask { lead: String, supporting: Vec<String> },
    /// Every record of an area, across departments (see [`Area`]).
    CityWide(Area),
}

/// What [`Resource::CityWide`] covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    /// Every open case and the supervision figures (the supervisor's).
    Cases,
    /// Every department's post-checks.
    PostChecks,
    /// Every department's bad reviews; reviewing one decides an appeal.
    BadReviews,
    /// Every department's catalog proposals.
    CatalogProposals,
    /// The general windows' city-wide intake and delivery queues; creating takes in a bundle.
    GeneralWindow,
    /// A window's tools: walk-in registration for a person, the hall display's controls.
    Windows,
    /// The assistance desk: every request; dispatching assigns an officer.
    Assistance,
    /// Every department's data requests and exchange reads (the supervisor's).
    DataSharing,
    /// The departments' scorecards and ranking (部门考评), read by the supervision office and
    /// the departments' heads (who are ranked against each other); no drill-down beyond their own.
    Assessment,
    /// Every reform task: the supervision office imports them (and reviews their reports).
    ReformTasks,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// May see the record but not do this to it (403).
    Forbidden,
    /// May not see the record at all (404: its existence does not leak).
    Hidden,
    /// Must log in first (401).
    Unauthenticated,
}

/// The one place where access is decided.
pub fn decide(actor: &Actor, action: Action, resource: &Resource) -> Decision {
    if *actor == Actor::Anonymous {
        return Decision::Unauthenticated;
    }
    let can_see = can_read(actor, resource);
    if !action.changes() {
        return if can_see { Decision::Allow } else { Decision::Hidden };
    }
    if !can_see {
        return Decision::Hidden;
    }
    if can_change(actor, action, resource) { Decision::Allow } else { Decision::Forbidden }
}

fn can_read(actor: &Actor, resource: &Resource) -> bool {
    if actor.has_anywhere(Role::Supervisor) {
        return true;
    }
    match (actor, resource) {
        (Actor::Person { user_id, .. }, Resource::Person { user_id: owner }) => user_id == owner,
        (Actor::Person { enterprises, .. }, Resource::Enterprise { credit_code }) => {
            enterprises.contains(credit_code)
        }
        (Actor::Person { user_id, enterprises }, Resource::Case { applicant, enterprise, .. }) => {
            user_id == applicant || enterprise.as_ref().is_some_and(|e| enterprises.contains(e))
        }
        (Actor::Person { user_id, .. }, Resource::Appointment { booker, .. }) => user_id == booker,
        // A hall's queue is shown on its public display.
        (_, Resource::HallQueue { .. }) => true,
        (Actor::Person { user_id, .. }, Resource::Complaint { complainant, .. }) => {
            complainant.as_ref() == Some(user_id)
        }
        (Actor::Person { user_id, .. }, Resource::BadReview { rater, .. }) => rater.as_ref() == Some(user_id),
        (Actor::Person { user_id, .. }, Resource::AssistanceRequest { requester, .. }) => {
            user_id == requester
        }
        (Actor::Person { user_id, enterprises }, Resource::Credential { holder, enterprise, .. }) => {
            holder.as_ref() == Some(user_id) || enterprise.as_ref().is_some_and(|e| enterprises.contains(e))
        }
        (Actor::Person { enterprises, .. }, Resource::PolicyBenefits { credit_code, .. }) => {
            enterprises.contains(credit_code)
        }
        (Actor::Person { enterprises, .. }, Resource::Project { enterprise, .. }) => {
            enterprises.contains(enterprise)
        }
        (Actor::Person { .. }, _) => false,
        (Actor::Staff { .. }, Resource::Project { departments, .. }) => {
            departments.iter().any(|d| actor.works_in(d))
        }
        (Actor::Staff { .. }, Resource::JointReview { department }) => joint_reviewer(actor, department),
        (Actor::Staff { .. }, Resource::SupervisionOrder { department }) => {
            actor.has(Role::DepartmentHead, department) || actor.has(Role::Approver, department)
        }
        // The issuing departments' policy officers and heads.
        (Actor::Staff { .. }, Resource::PolicyBenefits { issuers, .. }) => {
            issuers.iter().any(|d| actor.has(Role::PolicyOfficer, d) || actor.has(Role::DepartmentHead, d))
        }
        (Actor::Staff { .. }, Resource::PolicyWork { department }) => {
            actor.has(Role::PolicyOfficer, department) || actor.has(Role::DepartmentHead, department)
        }
        // The issuing department's licence, approval and window staff.
        (Actor::Staff { .. }, Resource::Credential { issuer, .. }) => {
            [Role::LicenceOfficer, Role::Approver, Role::DepartmentHead, Role::WindowClerk, Role::Reviewer]
                .into_iter()
                .any(|role| actor.has(role, issuer))
        }
        (Actor::Staff { .. }, Resource::BadReview { department, .. }) => actor.works_in(department),
        (Actor::Staff { .. }, Resource::DataRequest { requester, owner }) => {
            actor.works_in(requester) || actor.works_in(owner)
        }
        (Actor::Staff { .. }, Resource::DataExchange { department }) => actor.works_in(department),
        (Actor::Staff { .. }, Resource::PostCheck { department } | Resource::Licences { department }) => {
            actor.any_role_in(department)
        }
        (Actor::Staff { .. }, Resource::Seals { department }) => {
            actor.any_role_in(department) || actor.has_anywhere(Role::SystemAdmin)
        }
        (Actor::Staff { user_id, .. }, Resource::AssistanceRequest { officer, .. }) => {
            officer.as_ref() == Some(user_id) || coordinates_assistance(actor)
        }
        (Actor::Staff { .. }, Resource::CityWide(area)) => match area {
            // Supervisors read everything (above).
            Area::Cases | Area::PostChecks | Area::BadReviews | Area::DataSharing => false,
            Area::CatalogProposals => actor.has_anywhere(Role::SystemAdmin),
            Area::GeneralWindow => actor.has_anywhere(Role::GeneralWindowClerk),
            Area::Windows => actor.serves_windows(),
            Area::Assistance => coordinates_assistance(actor),
            Area::Assessment => actor.has_anywhere(Role::DepartmentHead),
            Area::ReformTasks => false,
        },
        (Actor::Staff { .. }, Resource::ReformTask { lead, supporting }) => {
            actor.works_in(lead) || supporting.iter().any(|d| actor.works_in(d))
        }
        (Actor::Staff { .. }, Resource::Scorecard { department }) => {
            actor.has(Role::DepartmentHead, department)
        }
        (Actor::Staff { .. }, Resource::Complaint { department, returned_by, .. }) => {
            actor.has_anywhere(Role::HotlineOperator)
                || department.as_deref().is_some_and(|d| actor.works_in(d))
                || returned_by.iter().any(|d| actor.works_in(d))
        }
        (Actor::Staff { .. }, Resource::ComplaintDesk) => actor.has_anywhere(Role::HotlineOperator),
        (Actor::Staff { .. }, Resource::ProactiveTask { department }) => {
            actor.works_in(department) || actor.has_anywhere(Role::HotlineOperator)
        }
        (Actor::Staff { .. }, Resource::Appointment { hall, .. }) => actor.works_at(hall),
        (Actor::Staff { .. }, Resource::Case { department, .. }) => {
            // A general window accepts any item, so it sees every case in intake.
            actor.any_role_in(department) || actor.has_anywhere(Role::GeneralWindowClerk)
        }
        (Actor::Staff { .. }, Resource::StaffAccount { department })
        | (Actor::Staff { .. }, Resource::DepartmentData { department }) => {
            actor.any_role_in(department) || actor.has_anywhere(Role::SystemAdmin)
        }
        (Actor::Staff { .. }, Resource::AuditLog) => actor.has_anywhere(Role::SystemAdmin),
        (Actor::Staff { .. }, Resource::GuidanceQueue) => {
            actor.has_anywhere(Role::GuideOfficer) || actor.has_anywhere(Role::GeneralWindowClerk)
        }
        // Reference data is public; people's and enterprises' records are seen by staff only
        // through a case, which the case rule governs.
        (Actor::Staff { .. }, Resource::System) => true,
        (Actor::Staff { .. }, Resource::Person { .. } | Resource::Enterprise { .. }) => {
            actor.has_anywhere(Role::SystemAdmin)
        }
        (Actor::Anonymous, _) => false,
    }
}

/// The assistance desk is coordinated by department heads, supervisors and general windows.
fn coordinates_assistance(actor: &Actor) -> bool {
    actor.has_anywhere(Role::DepartmentHead)
        || actor.has_anywhere(Role::Supervisor)
        || actor.has_anywhere(Role::GeneralWindowClerk)
}

/// Who speaks for a member department in a joint review: its reviewers, approvers and head.
fn joint_reviewer(actor: &Actor, department: &str) -> bool {
    [Role::Reviewer, Role::Approver, Role::DepartmentHead].into_iter().any(|r| actor.has(r, department))
}

fn can_change(actor: &Actor, action: Action, resource: &Resource) -> bool {
    match (actor, resource) {
        (Actor::Person { user_id, .. }, Resource::Person { user_id: owner }) => {
            user_id == owner && matches!(action, Action::Update | Action::Delete)
        }
        (Actor::Person { enterprises, .. }, Resource::Enterprise { credit_code }) => {
            enterprises.contains(credit_code) && action == Action::Update
        }
        (Actor::Person { user_id, enterprises }, Resource::Case { applicant, enterprise, .. }) => {
            (user_id == applicant || enterprise.as_ref().is_some_and(|e| enterprises.contains(e)))
                && matches!(action, Action::Create | Action::Update | Action::Delete)
        }
        // Cancelling is the holder's; recording the visit is the hall's.
        (Actor::Person { user_id, .. }, Resource::Appointment { booker, .. }) => {
            user_id == booker && action == Action::Delete
        }
        // The complainant answers the callback, rates and reopens.
        (Actor::Person { user_id, .. }, Resource::Complaint { complainant, .. }) => {
            complainant.as_ref() == Some(user_id) && action == Action::Update
        }
        // The rater answers the revisit.
        (Actor::Person { user_id, .. }, Resource::BadReview { rater, .. }) => {
            rater.as_ref() == Some(user_id) && action == Action::Update
        }
        // The requester authorizes, rates and withdraws; the officer works it.
        (Actor::Person { user_id, .. }, Resource::AssistanceRequest { requester, .. }) => {
            user_id == requester && action == Action::Update
        }
        // The representative confirms the receiving account or declines.
        (Actor::Person { enterprises, .. }, Resource::PolicyBenefits { credit_code, .. }) => {
            enterprises.contains(credit_code) && action == Action::Update
        }
        // The builder's representatives register the project and apply for its stages.
        (Actor::Person { enterprises, .. }, Resource::Project { enterprise, .. }) => {
            enterprises.contains(enterprise) && matches!(action, Action::Create | Action::Update)
        }
        (Actor::Person { .. }, _) => false,
        (Actor::Staff { .. }, Resource::JointReview { department }) => {
            action == Action::Review && joint_reviewer(actor, department)
        }
        // Figures are computed, never typed in: the supervision office only comments on a
        // scorecard (督查意见); nobody changes one.
        (Actor::Staff { .. }, Resource::Scorecard { .. }) => {
            action == Action::Review && actor.has_anywhere(Role::Supervisor)
        }
        // The head puts it right and closes it; the supervision office issues orders by hand
        // (besides the sweep's) and reads, but never closes one.
        (Actor::Staff { .. }, Resource::SupervisionOrder { department }) => match action {
            Action::Update => actor.has(Role::DepartmentHead, department),
            Action::Create => actor.has_anywhere(Role::Supervisor),
            _ => false,
        },
        // Simulating and running are the policy officers' work.
        // Proposing is the policy officers' work; simulating and deciding a proposal are also the
        // head's (the service refuses the proposer's own decision).
        (Actor::Staff { .. }, Resource::PolicyWork { department }) => match action {
            Action::Create => actor.has(Role::PolicyOfficer, department),
            Action::Review | Action::Approve => {
                actor.has(Role::PolicyOfficer, department) || actor.has(Role::DepartmentHead, department)
            }
            _ => false,
        },
        // The department verifies, rectifies, revisits and appeals; a supervisor decides appeals.
        (Actor::Staff { .. }, Resource::BadReview { department, .. }) => match action {
            Action::Update => actor.works_in(department),
            Action::Review => actor.has_anywhere(Role::Supervisor),
            _ => false,
        },
        // The requester's data officer or head asks and withdraws; the owner's decides and revokes.
        (Actor::Staff { .. }, Resource::DataRequest { requester, owner }) => {
            let officer = |d: &str| actor.has(Role::DataOfficer, d) || actor.has(Role::DepartmentHead, d);
            match action {
                Action::Create | Action::Delete => officer(requester),
                Action::Approve => officer(owner),
                _ => false,
            }
        }
        // Post-checks are concluded by the department's reviewers, approvers or head.
        (Actor::Staff { .. }, Resource::PostCheck { department }) => {
            action == Action::Review
                && (actor.has(Role::Reviewer, department)
                    || actor.has(Role::Approver, department)
                    || actor.has(Role::DepartmentHead, department))
        }
        (Actor::Staff { .. }, Resource::Licences { department }) => {
            action == Action::Update
                && (actor.has(Role::LicenceOfficer, department)
                    || actor.has(Role::Approver, department)
                    || actor.has(Role::DepartmentHead, department))
        }
        (Actor::Staff { .. }, Resource::Seals { department }) => {
            action == Action::Update
                && (actor.has_anywhere(Role::SystemAdmin)
                    || actor.has(Role::LicenceOfficer, department)
                    || actor.has(Role::DepartmentHead, department))
        }
        (Actor::Staff { user_id, .. }, Resource::AssistanceRequest { officer, .. }) => match action {
            Action::Update => officer.as_ref() == Some(user_id),
            Action::Dispatch => coordinates_assistance(actor),
            _ => false,
        },
        (Actor::Staff { .. }, Resource::CityWide(area)) => match (area, action) {
            (Area::BadReviews, Action::Review) => actor.has_anywhere(Role::Supervisor),
            (Area::GeneralWindow, Action::Create) => actor.has_anywhere(Role::GeneralWindowClerk),
            (Area::Windows, Action::Create) => actor.serves_windows(),
            (Area::Assistance, Action::Dispatch) => coordinates_assistance(actor),
            // The supervision office keeps the plan's tasks; it reviews, never reports.
            (Area::ReformTasks, Action::Create) => actor.has_anywhere(Role::Supervisor),
            _ => false,
        },
        (Actor::Staff { .. }, Resource::ReformTask { lead, .. }) => match action {
            Action::Update => actor.has(Role::DepartmentHead, lead),
            Action::Review => actor.has_anywhere(Role::Supervisor),
            _ => false,
        },
        (Actor::Staff { .. }, Resource::Appointment { hall, .. } | Resource::HallQueue { hall }) => {
            action == Action::Update && actor.works_at(hall) && actor.serves_windows()
        }
        // The department it is with handles it; the hotline coordinates.
        (Actor::Staff { .. }, Resource::Complaint { department, .. }) => match action {
            Action::Update => department.as_deref().is_some_and(|d| actor.works_in(d)),
            Action::Dispatch => actor.has_anywhere(Role::HotlineOperator),
            _ => false,
        },
        (Actor::Staff { .. }, Resource::ComplaintDesk) => {
            action == Action::Dispatch && actor.has_anywhere(Role::HotlineOperator)
        }
        (Actor::Staff { .. }, Resource::ProactiveTask { department }) => {
            action == Action::Update
                && (actor.works_in(department) || actor.has_anywhere(Role::HotlineOperator))
        }
        (Actor::Staff { .. }, Resource::Case { department, .. }) => match action {
            Action::Accept => {
                actor.has(Role::WindowClerk, department) || actor.has_anywhere(Role::GeneralWindowClerk)
            }
            Action::Review => actor.has(Role::Reviewer, department),
            Action::Approve => actor.has(Role::Approver, department),
            Action::Update => {
                actor.has(Role::WindowClerk, department)
                    || actor.has(Role::Reviewer, department)
                    || actor.has(Role::Approver, department)
                    || actor.has(Role::DepartmentHead, department)
            }
            _ => false,
        },
        (Actor::Staff { .. }, Resource::StaffAccount { department }) => match action {
            // A head grants department roles (their own included) in their own department;
            // city-wide roles, and any role anywhere, only a system administrator.
            Action::Grant(role) => {
                actor.has_anywhere(Role::SystemAdmin)
                    || (!role.is_city_wide() && actor.has(Role::DepartmentHead, department))
            }
            _ => actor.has_anywhere(Role::SystemAdmin) || actor.has(Role::DepartmentHead, department),
        },
        (Actor::Staff { .. }, Resource::DepartmentData { department }) => match action {
            Action::Approve => actor.has(Role::Approver, department),
            _ => actor.has(Role::CatalogOfficer, department) || actor.has(Role::DepartmentHead, department),
        },
        (Actor::Staff { .. }, Resource::System) => actor.has_anywhere(Role::SystemAdmin),
        (Actor::Staff { .. }, Resource::GuidanceQueue) => {
            action == Action::Update
                && (actor.has_anywhere(Role::GuideOfficer) || actor.has_anywhere(Role::GeneralWindowClerk))
        }
        (Actor::Staff { .. }, _) => false,
        (Actor::Anonymous, _) => false,
    }
}

/// A desk a member of staff works at: the staff navigation shows the desks one works at, and
/// no other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Desk {
    /// 办件工作台: accepting, reviewing and deciding the department's cases.
    Workbench,
    /// 督查: the city's lights and overdue cases.
    Supervision,
    /// 接诉即办: the hotline's intake and dispatch, or the department's complaints.
    Complaints,
    /// 差评整改: the department's bad reviews.
    BadReviews,
    /// 导办: the guidance hand-off queue.
    Guidance,
    /// 帮办代办: assigning officers to assistance requests.
    Assistance,
    /// 证照管理: the department's e-licences and seals.
    Licences,
    /// 事项管理: catalog proposals.
    Catalog,
    /// 数据共享: data requests.
    DataSharing,
    /// 惠企政策: the department's policies.
    Policies,
    /// 联合审查: joint reviews (联合审图、联合验收) waiting for the department's opinion.
    JointReviews,
    /// 督办整改: the supervision orders to the department (its head closes them).
    Orders,
    /// 考评: the departments' scorecards and ranking.
    Assessment,
    /// 改革任务: the reform's tasks and milestones.
    ReformTasks,
    /// 数据驾驶舱: the city's figures for the supervision office, a department's for its head.
    Dashboard,
}

impl Desk {
    pub const ALL: [Desk; 15] = [
        Desk::Workbench,
        Desk::Supervision,
        Desk::Complaints,
        Desk::BadReviews,
        Desk::Guidance,
        Desk::Assistance,
        Desk::Licences,
        Desk::Catalog,
        Desk::DataSharing,
        Desk::Policies,
        Desk::JointReviews,
        Desk::Orders,
        Desk::Assessment,
        Desk::ReformTasks,
        Desk::Dashboard,
    ];

    pub fn href(self) -> &'static str {
        match self {
            Desk::Workbench => "/workbench",
            Desk::Supervision => "/supervision",
            Desk::Complaints => "/complaints/desk",
            Desk::BadReviews => "/ratings/desk",
            Desk::Guidance => "/guide/inbox",
            Desk::Assistance => "/assistance",
            Desk::Licences => "/licences",
            Desk::Catalog => "/catalog/admin",
            Desk::DataSharing => "/data/requests",
            Desk::Policies => "/policies",
            Desk::JointReviews => "/joint-reviews",
            Desk::Orders => "/supervision/orders",
            Desk::Assessment => "/assessment",
            Desk::ReformTasks => "/reform-tasks",
            Desk::Dashboard => "/dashboard",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Desk::Workbench => "办件工作台",
            Desk::Supervision => "督查督办",
            Desk::Complaints => "接诉即办",
            Desk::BadReviews => "差评整改",
            Desk::Guidance => "导办咨询",
            Desk::Assistance => "帮办代办",
            Desk::Licences => "证照管理",
            Desk::Catalog => "事项管理",
            Desk::DataSharing => "数据共享",
            Desk::Policies => "惠企政策",
            Desk::JointReviews => "联合审查",
            Desk::Orders => "督办整改",
            Desk::Assessment => "部门考评",
            Desk::ReformTasks => "改革任务",
            Desk::Dashboard => "数据驾驶舱",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Desk::Workbench => "Case workbench",
            Desk::Supervision => "Supervision",
            Desk::Complaints => "Complaints",
            Desk::BadReviews => "Bad reviews",
            Desk::Guidance => "Guidance",
            Desk::Assistance => "Assisted service",
            Desk::Licences => "E-licences",
            Desk::Catalog => "Service catalog",
            Desk::DataSharing => "Data sharing",
            Desk::Policies => "Business support",
            Desk::JointReviews => "Joint reviews",
            Desk::Orders => "Supervision orders",
            Desk::Assessment => "Department assessment",
            Desk::ReformTasks => "Reform tasks",
            Desk::Dashboard => "Dashboard",
        }
    }
}

/// The desks `actor` works at, in the navigation's order. Each is what [`decide`] allows at
/// that desk, in one of the actor's departments or city-wide: the navigation asks the same
/// rules as the desks themselves.
pub fn desks(actor: &Actor) -> Vec<Desk> {
    let Actor::Staff { grants, .. } = actor else { return Vec::new() };
    let allows = |action: Action, resource: Resource| decide(actor, action, &resource) == Decision::Allow;
    let in_a_department = |check: &dyn Fn(String) -> bool| grants.iter().any(|g| check(g.department.clone()));
    let case = |department: String| Resource::Case { department, applicant: String::new(), enterprise: None };
    Desk::ALL
        .into_iter()
        .filter(|desk| match desk {
            Desk::Workbench => {
                in_a_department(&|d| {
                    [Action::Accept, Action::Review, Action::Approve]
                        .into_iter()
                        .any(|a| allows(a, case(d.clone())))
                }) || allows(Action::Create, Resource::CityWide(Area::GeneralWindow))
            }
            Desk::Supervision => allows(Action::Read, Resource::CityWide(Area::Cases)),
            Desk::Complaints => {
                allows(Action::Read, Resource::ComplaintDesk)
                    || in_a_department(&|d| {
                        allows(
                            Action::Update,
                            Resource::Complaint {
                                department: Some(d),
                                complainant: None,
                                returned_by: Vec::new(),
                            },
                        )
                    })
            }
            Desk::BadReviews => {
                allows(Action::Review, Resource::BadReview { department: String::new(), rater: None })
                    || in_a_department(&|d| {
                        allows(Action::Update, Resource::BadReview { department: d, rater: None })
                    })
            }
            Desk::Guidance => allows(Action::Update, Resource::GuidanceQueue),
            Desk::Assistance => allows(Action::Update, Resource::CityWide(Area::Assistance)),
            Desk::Licences => {
                in_a_department(&|d| allows(Action::Update, Resource::Licences { department: d }))
            }
            Desk::Catalog => {
                allows(Action::Read, Resource::CityWide(Area::CatalogProposals))
                    || in_a_department(&|d| {
                        allows(Action::Update, Resource::DepartmentData { department: d })
                    })
            }
            Desk::DataSharing => in_a_department(&|d| {
                allows(Action::Create, Resource::DataRequest { requester: d.clone(), owner: String::new() })
                    || allows(Action::Approve, Resource::DataRequest { requester: String::new(), owner: d })
            }),
            Desk::Policies => {
                in_a_department(&|d| allows(Action::Update, Resource::PolicyWork { department: d }))
            }
            Desk::Orders => {
                in_a_department(&|d| allows(Action::Update, Resource::SupervisionOrder { department: d }))
            }
            Desk::Assessment => allows(Action::Read, Resource::CityWide(Area::Assessment)),
            Desk::ReformTasks => {
                allows(Action::Create, Resource::CityWide(Area::ReformTasks))
                    || in_a_department(&|d| {
                        allows(Action::Update, Resource::ReformTask { lead: d, supporting: Vec::new() })
                    })
            }
            Desk::Dashboard => {
                allows(Action::Read, Resource::CityWide(Area::Cases))
                    || in_a_department(&|d| allows(Action::Read, Resource::Scorecard { department: d }))
            }
            Desk::JointReviews => crate::projects::flows().joint_reviews.iter().any(|r| {
                r.members.iter().any(|m| {
                    allows(Action::Review, Resource::JointReview { department: m.department.clone() })
                })
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str) -> Actor {
        Actor::Person { user_id: id.into(), enterprises: vec!["E1".into()] }
    }

    fn staff(dept: &str, roles: &[Role]) -> Actor {
        Actor::Staff {
            user_id: format!("s-{dept}"),
            department: dept.into(),
            grants: roles.iter().map(|r| Grant { role: *r, department: dept.into() }).collect(),
            halls: vec![format!("H-{dept}")],
        }
    }

    fn case(dept: &str, applicant: &str) -> Resource {
        Resource::Case { department: dept.into(), applicant: applicant.into(), enterprise: None }
    }

    fn complaint(department: Option<&str>, complainant: Option<&str>) -> Resource {
        Resource::Complaint {
            department: department.map(Into::into),
            complainant: complainant.map(Into::into),
            returned_by: Vec::new(),
        }
    }

    fn bad_review(department: &str, rater: Option<&str>) -> Resource {
        Resource::BadReview { department: department.into(), rater: rater.map(Into::into) }
    }

    #[test]
    fn only_the_supervision_office_comments_on_a_scorecard_and_nobody_changes_one() {
        let card = Resource::Scorecard { department: "SPJ".into() };
        let office = staff("DSJ", &[Role::Supervisor]);
        let head = staff("SPJ", &[Role::DepartmentHead]);
        let clerk = staff("SPJ", &[Role::WindowClerk]);
        let other_head = staff("RSJ", &[Role::DepartmentHead]);
        assert_eq!(decide(&office, Action::Review, &card), Decision::Allow);
        assert_eq!(decide(&head, Action::Read, &card), Decision::Allow);
        assert_eq!(decide(&head, Action::Review, &card), Decision::Forbidden);
        for a in [Action::Create, Action::Update, Action::Delete] {
            assert_eq!(decide(&office, a, &card), Decision::Forbidden, "{a:?}");
            assert_eq!(decide(&head, a, &card), Decision::Forbidden, "{a:?}");
        }
        assert_eq!(decide(&clerk, Action::Read, &card), Decision::Hidden);
        assert_eq!(decide(&other_head, Action::Review, &card), Decision::Hidden);
    }

    #[test]
    fn data_requests_are_asked_by_the_requester_and_decided_by_the_owner() {
        use Action::*;
        use Decision::*;
        let request = Resource::DataRequest { requester: "FGW".into(), owner: "SWJ".into() };
        let fgw_data = staff("FGW", &[Role::DataOfficer]);
        let fgw_clerk = staff("FGW", &[Role::WindowClerk]);
        let swj_data = staff("SWJ", &[Role::DataOfficer]);
        let swj_head = staff("SWJ", &[Role::DepartmentHead]);
        let other = staff("GAJ", &[Role::DataOfficer]);
        let supervisor = staff("DC", &[Role::Supervisor]);
        let table = [
            (&fgw_data, Create, Allow),
            (&fgw_data, Delete, Allow),
            (&fgw_data, Approve, Forbidden),
            (&fgw_clerk, Read, Allow),
            (&fgw_clerk, Create, Forbidden),
            (&swj_data, Approve, Allow),
            (&swj_head, Approve, Allow),
            (&swj_data, Create, Forbidden),
            (&other, Read, Hidden),
            (&other, Approve, Hidden),
            (&supervisor, Read, Allow),
            (&supervisor, Approve, Forbidden),
        ];
        for (actor, action, expected) in table {
            assert_eq!(decide(actor, action, &request), expected, "{actor:?} {action:?}");
        }
        let exchange = Resource::DataExchange { department: "FGW".into() };
        assert_eq!(decide(&fgw_clerk, Read, &exchange), Allow);
        assert_eq!(decide(&other, Read, &exchange), Hidden, "a department reads as itself only");
        assert_eq!(decide(&person("p1"), Read, &exchange), Hidden, "people never use the exchange");
    }

    #[test]
    fn decision_table() {
        use Action::*;
        use Decision::*;
        let clerk_a = staff("A", &[Role::WindowClerk]);
        let reviewer_a = staff("A", &[Role::Reviewer]);
        let approver_a = staff("A", &[Role::Approver]);
        let general = staff("H", &[Role::GeneralWindowClerk]);
        let supervisor = staff("DC", &[Role::Supervisor]);
        let admin = staff("A", &[Role::SystemAdmin]);
        let catalog_a = staff("A", &[Role::CatalogOfficer]);
        let head_a = staff("A", &[Role::DepartmentHead]);
        let operator = staff("HL", &[Role::HotlineOperator]);
        let me = person("p1");
        let cases: Vec<(&str, &Actor, Action, Resource, Decision)> = vec![
            ("anonymous must log in", &Actor::Anonymous, Read, case("A", "p1"), Unauthenticated),
            ("clerk reads own dept case", &clerk_a, Read, case("A", "p1"), Allow),
            (
                "an enterprise's agent reads its case",
                &me,
                Read,
                Resource::Case {
                    department: "A".into(),
                    applicant: "p9".into(),
                    enterprise: Some("E1".into()),
                },
                Allow,
            ),
            (
                "another enterprise's case stays hidden",
                &me,
                Read,
                Resource::Case {
                    department: "A".into(),
                    applicant: "p9".into(),
                    enterprise: Some("E2".into()),
                },
                Hidden,
            ),
            ("clerk of A cannot see B's case", &clerk_a, Read, case("B", "p1"), Hidden),
            ("clerk of A cannot accept B's case", &clerk_a, Accept, case("B", "p1"), Hidden),
            ("clerk accepts in own dept", &clerk_a, Accept, case("A", "p1"), Allow),
            ("clerk cannot approve", &clerk_a, Approve, case("A", "p1"), Forbidden),
            ("reviewer reviews", &reviewer_a, Review, case("A", "p1"), Allow),
            ("reviewer cannot approve", &reviewer_a, Approve, case("A", "p1"), Forbidden),
            ("approver approves own dept", &approver_a, Approve, case("A", "p1"), Allow),
            ("approver of A cannot see B", &approver_a, Approve, case("B", "p1"), Hidden),
            ("general window sees any case", &general, Read, case("B", "p1"), Allow),
            ("general window accepts any case", &general, Accept, case("B", "p1"), Allow),
            ("general window cannot approve", &general, Approve, case("B", "p1"), Forbidden),
            ("supervisor reads any case", &supervisor, Read, case("B", "p1"), Allow),
            (
                "supervisor reads people",
                &supervisor,
                ReadPersonal,
                Resource::Person { user_id: "p1".into() },
                Allow,
            ),
            ("supervisor cannot approve", &supervisor, Approve, case("B", "p1"), Forbidden),
            ("supervisor cannot update", &supervisor, Update, case("B", "p1"), Forbidden),
            ("supervisor cannot change system", &supervisor, Update, Resource::System, Forbidden),
            ("supervisor reads audit", &supervisor, Read, Resource::AuditLog, Allow),
            ("person reads own case", &me, Read, case("A", "p1"), Allow),
            ("person cannot see others' case", &me, Read, case("A", "p2"), Hidden),
            ("person cannot approve own case", &me, Approve, case("A", "p1"), Forbidden),
            ("person reads own record", &me, Read, Resource::Person { user_id: "p1".into() }, Allow),
            (
                "person cannot see another person",
                &me,
                Read,
                Resource::Person { user_id: "p2".into() },
                Hidden,
            ),
            (
                "person reads enterprise they act for",
                &me,
                Read,
                Resource::Enterprise { credit_code: "E1".into() },
                Allow,
            ),
            (
                "person cannot see other enterprise",
                &me,
                Read,
                Resource::Enterprise { credit_code: "E2".into() },
                Hidden,
            ),
            ("person cannot read audit log", &me, Read, Resource::AuditLog, Hidden),
            ("clerk cannot read audit log", &clerk_a, Read, Resource::AuditLog, Hidden),
            ("admin reads audit log", &admin, Read, Resource::AuditLog, Allow),
            ("admin changes system", &admin, Update, Resource::System, Allow),
            ("clerk cannot change system", &clerk_a, Update, Resource::System, Forbidden),
            (
                "admin creates staff in own dept",
                &admin,
                Create,
                Resource::StaffAccount { department: "A".into() },
                Allow,
            ),
            (
                "admin manages staff in any department",
                &admin,
                Create,
                Resource::StaffAccount { department: "B".into() },
                Allow,
            ),
            (
                "admin grants a city-wide role",
                &admin,
                Grant(Role::Supervisor),
                Resource::StaffAccount { department: "B".into() },
                Allow,
            ),
            (
                "head grants a department role at home",
                &head_a,
                Grant(Role::Approver),
                Resource::StaffAccount { department: "A".into() },
                Allow,
            ),
            (
                "head grants their own role at home",
                &head_a,
                Grant(Role::DepartmentHead),
                Resource::StaffAccount { department: "A".into() },
                Allow,
            ),
            (
                "head cannot grant supervisor",
                &head_a,
                Grant(Role::Supervisor),
                Resource::StaffAccount { department: "A".into() },
                Forbidden,
            ),
            (
                "head cannot grant system admin",
                &head_a,
                Grant(Role::SystemAdmin),
                Resource::StaffAccount { department: "A".into() },
                Forbidden,
            ),
            (
                "head cannot grant the general window",
                &head_a,
                Grant(Role::GeneralWindowClerk),
                Resource::StaffAccount { department: "A".into() },
                Forbidden,
            ),
            (
                "head of A cannot see B's staff",
                &head_a,
                Grant(Role::WindowClerk),
                Resource::StaffAccount { department: "B".into() },
                Hidden,
            ),
            (
                "approver cannot grant",
                &approver_a,
                Grant(Role::WindowClerk),
                Resource::StaffAccount { department: "A".into() },
                Forbidden,
            ),
            (
                "clerk cannot create staff",
                &clerk_a,
                Create,
                Resource::StaffAccount { department: "A".into() },
                Forbidden,
            ),
            (
                "catalog officer edits own dept data",
                &catalog_a,
                Update,
                Resource::DepartmentData { department: "A".into() },
                Allow,
            ),
            (
                "catalog officer cannot approve own proposal",
                &catalog_a,
                Approve,
                Resource::DepartmentData { department: "A".into() },
                Forbidden,
            ),
            (
                "approver approves dept data",
                &approver_a,
                Approve,
                Resource::DepartmentData { department: "A".into() },
                Allow,
            ),
            (
                "catalog officer of A cannot touch B",
                &catalog_a,
                Update,
                Resource::DepartmentData { department: "B".into() },
                Hidden,
            ),
            (
                "a hall's clerk records a visit there",
                &clerk_a,
                Update,
                Resource::Appointment { hall: "H-A".into(), booker: "p1".into() },
                Allow,
            ),
            (
                "another hall's appointments stay hidden",
                &clerk_a,
                Update,
                Resource::Appointment { hall: "H-B".into(), booker: "p1".into() },
                Hidden,
            ),
            (
                "a hall's reviewer does not record visits",
                &reviewer_a,
                Update,
                Resource::Appointment { hall: "H-A".into(), booker: "p1".into() },
                Forbidden,
            ),
            (
                "the holder cancels",
                &me,
                Delete,
                Resource::Appointment { hall: "H-A".into(), booker: "p1".into() },
                Allow,
            ),
            (
                "the holder does not record their own visit",
                &me,
                Update,
                Resource::Appointment { hall: "H-A".into(), booker: "p1".into() },
                Forbidden,
            ),
            (
                "someone else's appointment is not found",
                &me,
                Delete,
                Resource::Appointment { hall: "H-A".into(), booker: "p2".into() },
                Hidden,
            ),
            (
                "a clerk calls numbers only in their hall",
                &clerk_a,
                Update,
                Resource::HallQueue { hall: "H-B".into() },
                Forbidden,
            ),
            (
                "the supervisor sees a hall's appointments but records nothing",
                &supervisor,
                Update,
                Resource::Appointment { hall: "H-A".into(), booker: "p1".into() },
                Forbidden,
            ),
            ("the supervisor reads every complaint", &supervisor, Read, complaint(Some("B"), None), Allow),
            (
                "the supervisor does not dispatch",
                &supervisor,
                Dispatch,
                complaint(Some("B"), None),
                Forbidden,
            ),
            ("the supervisor does not handle", &supervisor, Update, complaint(Some("B"), None), Forbidden),
            (
                "the supervisor does not scan or merge",
                &supervisor,
                Dispatch,
                Resource::ComplaintDesk,
                Forbidden,
            ),
            ("the supervisor watches the desk", &supervisor, Read, Resource::ComplaintDesk, Allow),
            ("the hotline dispatches", &operator, Dispatch, complaint(None, None), Allow),
            (
                "the hotline does not answer for a department",
                &operator,
                Update,
                complaint(Some("A"), None),
                Forbidden,
            ),
            ("the department handles its complaint", &clerk_a, Update, complaint(Some("A"), None), Allow),
            ("the department does not dispatch", &clerk_a, Dispatch, complaint(Some("A"), None), Forbidden),
            ("another department does not see it", &clerk_a, Read, complaint(Some("B"), None), Hidden),
            (
                "a department that returned it still sees it",
                &clerk_a,
                Read,
                Resource::Complaint {
                    department: Some("B".into()),
                    complainant: None,
                    returned_by: vec!["A".into()],
                },
                Allow,
            ),
            ("the complainant answers the callback", &me, Update, complaint(Some("A"), Some("p1")), Allow),
            ("the complainant does not dispatch", &me, Dispatch, complaint(Some("A"), Some("p1")), Forbidden),
            ("another person's complaint is hidden", &me, Read, complaint(Some("A"), Some("p2")), Hidden),
            ("a person has no desk", &me, Read, Resource::ComplaintDesk, Hidden),
            (
                "a department finishes its proactive task",
                &clerk_a,
                Update,
                Resource::ProactiveTask { department: "A".into() },
                Allow,
            ),
            (
                "the supervisor reads but does not finish a task",
                &supervisor,
                Update,
                Resource::ProactiveTask { department: "A".into() },
                Forbidden,
            ),
            ("a department works its bad review", &clerk_a, Update, bad_review("A", Some("p1")), Allow),
            (
                "another department's bad review is hidden",
                &clerk_a,
                Read,
                bad_review("B", Some("p1")),
                Hidden,
            ),
            ("a department cannot decide its own appeal", &clerk_a, Review, bad_review("A", None), Forbidden),
            ("the supervisor decides appeals", &supervisor, Review, bad_review("A", None), Allow),
            ("the supervisor does not rectify", &supervisor, Update, bad_review("A", None), Forbidden),
            ("the rater answers the revisit", &me, Update, bad_review("A", Some("p1")), Allow),
            ("the rater cannot decide the appeal", &me, Review, bad_review("A", Some("p1")), Forbidden),
            ("another person's review is hidden", &me, Read, bad_review("A", Some("p2")), Hidden),
            ("a review without a rater is hidden from people", &me, Read, bad_review("A", None), Hidden),
            (
                "the supervisor sees every bad review",
                &supervisor,
                Read,
                Resource::CityWide(Area::BadReviews),
                Allow,
            ),
            ("a clerk sees only their own", &clerk_a, Read, Resource::CityWide(Area::BadReviews), Hidden),
            ("the desk decides appeals", &supervisor, Review, Resource::CityWide(Area::BadReviews), Allow),
            (
                "a reviewer concludes a post-check",
                &reviewer_a,
                Review,
                Resource::PostCheck { department: "A".into() },
                Allow,
            ),
            (
                "a clerk reads but does not conclude one",
                &clerk_a,
                Review,
                Resource::PostCheck { department: "A".into() },
                Forbidden,
            ),
            (
                "another department's post-check is hidden",
                &reviewer_a,
                Review,
                Resource::PostCheck { department: "B".into() },
                Hidden,
            ),
            (
                "an approver issues licences",
                &approver_a,
                Update,
                Resource::Licences { department: "A".into() },
                Allow,
            ),
            ("a clerk does not", &clerk_a, Update, Resource::Licences { department: "A".into() }, Forbidden),
            (
                "an approver does not rotate seals",
                &approver_a,
                Update,
                Resource::Seals { department: "A".into() },
                Forbidden,
            ),
            ("a head rotates seals", &head_a, Update, Resource::Seals { department: "A".into() }, Allow),
            (
                "an administrator rotates any seal",
                &admin,
                Update,
                Resource::Seals { department: "B".into() },
                Allow,
            ),
            (
                "a general window takes bundles",
                &general,
                Create,
                Resource::CityWide(Area::GeneralWindow),
                Allow,
            ),
            (
                "a department window does not",
                &clerk_a,
                Create,
                Resource::CityWide(Area::GeneralWindow),
                Hidden,
            ),
            ("a window registers walk-ins", &clerk_a, Create, Resource::CityWide(Area::Windows), Allow),
            ("a reviewer has no window", &reviewer_a, Create, Resource::CityWide(Area::Windows), Hidden),
            (
                "an administrator sees every proposal",
                &admin,
                Read,
                Resource::CityWide(Area::CatalogProposals),
                Allow,
            ),
            (
                "a catalog officer sees their own",
                &catalog_a,
                Read,
                Resource::CityWide(Area::CatalogProposals),
                Hidden,
            ),
            ("a head assigns helpers", &head_a, Dispatch, Resource::CityWide(Area::Assistance), Allow),
            ("a clerk does not", &clerk_a, Dispatch, Resource::CityWide(Area::Assistance), Hidden),
            (
                "a holder reads their licence",
                &me,
                Read,
                Resource::Credential { issuer: "A".into(), holder: Some("p1".into()), enterprise: None },
                Allow,
            ),
            (
                "their enterprise's too",
                &me,
                Read,
                Resource::Credential { issuer: "A".into(), holder: None, enterprise: Some("E1".into()) },
                Allow,
            ),
            (
                "someone else's licence is hidden",
                &me,
                Read,
                Resource::Credential { issuer: "A".into(), holder: Some("p2".into()), enterprise: None },
                Hidden,
            ),
            (
                "the issuer's clerk reads it",
                &clerk_a,
                Read,
                Resource::Credential { issuer: "A".into(), holder: Some("p2".into()), enterprise: None },
                Allow,
            ),
            (
                "a catalog officer does not",
                &catalog_a,
                Read,
                Resource::Credential { issuer: "A".into(), holder: Some("p2".into()), enterprise: None },
                Hidden,
            ),
            (
                "the requester authorizes",
                &me,
                Update,
                Resource::AssistanceRequest { requester: "p1".into(), officer: None },
                Allow,
            ),
            (
                "another person's request is hidden",
                &me,
                Read,
                Resource::AssistanceRequest { requester: "p2".into(), officer: None },
                Hidden,
            ),
            (
                "the assigned officer works it",
                &clerk_a,
                Update,
                Resource::AssistanceRequest { requester: "p1".into(), officer: Some("s-A".into()) },
                Allow,
            ),
            (
                "another officer's request is hidden",
                &clerk_a,
                Read,
                Resource::AssistanceRequest { requester: "p1".into(), officer: Some("s-B".into()) },
                Hidden,
            ),
            (
                "clerk cannot read a person directly",
                &clerk_a,
                ReadPersonal,
                Resource::Person { user_id: "p1".into() },
                Hidden,
            ),
        ];
        for (name, actor, action, resource, expected) in cases {
            assert_eq!(decide(actor, action, &resource), expected, "{name}");
        }
    }

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn each_role_sees_the_desks_it_works_at() {
        // Every department answers for its bad reviews, the hotline's own included.
        let operator = staff("JN-12345", &[Role::HotlineOperator]);
        assert_eq!(desks(&operator), [Desk::Complaints, Desk::BadReviews]);
        let clerk = staff("SPJ", &[Role::WindowClerk]);
        assert!(desks(&clerk).contains(&Desk::Workbench));
        assert!(!desks(&clerk).contains(&Desk::Supervision) && !desks(&clerk).contains(&Desk::Policies));
        let supervisor = staff("DSJ", &[Role::Supervisor]);
        assert!(desks(&supervisor).contains(&Desk::Supervision));
        let licences = staff("SPJ", &[Role::LicenceOfficer]);
        assert!(desks(&licences).contains(&Desk::Licences));
        let data = staff("FGW", &[Role::DataOfficer]);
        assert!(desks(&data).contains(&Desk::DataSharing));
        let person = Actor::Person { user_id: "p".into(), enterprises: vec![] };
        assert!(desks(&person).is_empty() && desks(&Actor::Anonymous).is_empty());
    }
}
