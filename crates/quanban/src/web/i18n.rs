//! Page language: Simplified Chinese first, English available. The choice comes from the `lang`
//! cookie (set by `/lang/{lang}`), else the browser's Accept-Language, else Chinese.

use axum::http::HeaderMap;
use axum::http::header;
use axum_extra::extract::CookieJar;

pub const LANG_COOKIE: &str = "lang";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        if let Some(c) = CookieJar::from_headers(headers).get(LANG_COOKIE)
            && let Some(l) = Lang::parse(c.value())
        {
            return l;
        }
        let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        // Only the first preference counts: a Chinese browser lists zh first.
        if accept.trim_start().to_ascii_lowercase().starts_with("en") { Lang::En } else { Lang::Zh }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" | "zh-CN" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The value for `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

/// Translator handed to templates: `{{ t.s("nav.home") }}`. It also carries the display mode
/// (self-service kiosk or not), because every template already receives it.
#[derive(Clone, Copy, Debug)]
pub struct Tr {
    pub lang: Lang,
    /// Large type and touch targets, an idle timeout (see `halls::pages::kiosk`).
    pub kiosk: bool,
}

impl Tr {
    pub fn s(&self, key: &str) -> &'static str {
        match lookup(key) {
            Some((zh, en)) => match self.lang {
                Lang::Zh => zh,
                Lang::En => en,
            },
            None => {
                tracing::warn!(i18n.key = key, "missing translation");
                "?"
            }
        }
    }

    /// Picks between two texts that come from data (e.g. a department's name and English name).
    pub fn pick<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }
}

/// Every user-facing text of the pages, Chinese and English side by side.
pub static TEXTS: &[(&str, &str, &str)] = &[
    ("site.name", "全办", "Quanban"),
    ("site.slogan", "在泉城·全办成", "In Spring City, everything gets done"),
    ("site.full", "全办 · 济南市一体化政务服务平台", "Quanban · Jinan Integrated Government Services"),
    ("nav.skip", "跳到主要内容", "Skip to main content"),
    ("nav.main", "主导航", "Main navigation"),
    ("nav.home", "首页", "Home"),
    ("nav.login", "登录", "Log in"),
    ("nav.register", "注册", "Register"),
    ("nav.logout", "退出登录", "Log out"),
    ("nav.profile", "个人中心", "My account"),
    ("nav.staff", "岗位与权限", "My roles"),
    ("nav.switch_lang", "English", "中文"),
    ("nav.switch_lang_label", "Switch to English", "切换到中文"),
    ("home.title", "一网通办，一次办好", "One platform, done in one go"),
    (
        "home.lead",
        "在这里查找、申请、跟踪并评价济南市的政务服务。",
        "Find, apply for, track and rate Jinan's public services here.",
    ),
    ("home.start", "开始办事", "Get started"),
    (
        "home.start_text",
        "实名注册后即可在线申请和查询办件。",
        "Register with your real name to apply online and track your applications.",
    ),
    ("home.have_account", "已有账号？", "Already registered?"),
    ("home.hotline", "政务服务便民热线", "Government service hotline"),
    (
        "home.hotline_text",
        "拨打 12345 咨询、求助、投诉建议。",
        "Call 12345 for questions, help, complaints and suggestions.",
    ),
    ("home.halls", "政务服务大厅", "Service halls"),
    (
        "home.halls_text",
        "全市设有市、区县、街道、社区四级政务服务场所。",
        "The city has service halls on four levels: city, district, street and community.",
    ),
    ("home.welcome", "您好，", "Hello, "),
    ("home.figures", "平台概况", "At a glance"),
    ("home.departments", "个部门", "departments"),
    ("home.items", "项政务服务事项", "service items"),
    ("home.halls_count", "个服务场所", "service halls"),
    ("login.title", "登录", "Log in"),
    ("login.username", "手机号或工作人员账号", "Mobile number or staff login"),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Log in"),
    ("login.no_account", "还没有账号？立即注册", "No account yet? Register"),
    ("register.title", "实名注册", "Register with your real name"),
    (
        "register.lead",
        "请填写与居民身份证一致的信息。身份证号码仅以脱敏形式显示。",
        "Enter the details exactly as on your resident ID card. Your ID number is only ever shown masked.",
    ),
    ("register.name", "姓名", "Full name"),
    ("register.id_number", "居民身份证号码", "Resident ID number"),
    ("register.id_hint", "18位，最后一位可能是X", "18 characters; the last may be X"),
    ("register.phone", "手机号码", "Mobile number"),
    ("register.phone_hint", "11位手机号，将作为登录账号", "11 digits; it becomes your login"),
    ("register.password", "设置密码", "Choose a password"),
    (
        "register.password_hint",
        "至少8位，包含大写字母、小写字母、数字、符号中的三类",
        "At least 8 characters, with three of: upper case, lower case, digits, symbols",
    ),
    ("register.submit", "注册", "Register"),
    ("register.done", "注册成功，请登录。", "You are registered. Please log in."),
    ("form.errors", "请修改以下问题后再提交：", "Please correct the following and submit again:"),
    ("profile.title", "个人中心", "My account"),
    ("profile.name", "姓名", "Name"),
    ("profile.id_number", "身份证号码", "ID number"),
    ("profile.phone", "手机号码", "Mobile number"),
    ("profile.kind", "账号类型", "Account type"),
    ("profile.kind_person", "个人（实名）", "Person (real-name)"),
    ("profile.kind_staff", "工作人员", "Staff"),
    ("profile.enterprises", "可代办的企业", "Enterprises I act for"),
    ("profile.no_enterprises", "暂无。", "None yet."),
    ("profile.relation_legal_representative", "法定代表人", "Legal representative"),
    ("profile.relation_agent", "授权代理人", "Authorised agent"),
    ("staff.title", "岗位与权限", "My roles"),
    ("staff.department", "所属部门", "Department"),
    ("staff.roles", "角色", "Roles"),
    ("staff.halls", "所在大厅", "Halls"),
    ("staff.no_halls", "未分配大厅", "No hall assigned"),
    (
        "staff.note",
        "办件、审批等功能上线后将显示在这里。",
        "Cases, approvals and other work will appear here as they go live.",
    ),
    ("nav.items", "办事指南", "Services"),
    ("nav.bundles", "一件事", "Life events"),
    ("nav.catalog_admin", "事项管理", "Catalog desk"),
    ("catalog.title", "政务服务事项", "Government services"),
    (
        "catalog.lead",
        "按服务对象、生活事件、部门和层级查找要办的事。",
        "Find a service by who it is for, life event, department and level.",
    ),
    ("catalog.see_bundles", "查看“一件事”套餐", "See the one-thing bundles"),
    ("catalog.search", "搜索事项", "Search services"),
    ("catalog.search_hint", "例如：营业执照、公积金提取", "e.g. business licence, housing fund"),
    ("catalog.audience", "服务对象", "For"),
    ("catalog.life_event", "生活事件", "Life event"),
    ("catalog.department", "实施部门", "Department"),
    ("catalog.supervisor", "行业监管部门", "Supervising department"),
    ("catalog.level", "层级", "Level"),
    ("catalog.online_only", "只看可网办", "Online only"),
    ("catalog.as_of", "历史日期", "As of date"),
    ("catalog.filter", "筛选", "Filter"),
    ("catalog.all", "全部", "All"),
    ("catalog.found", "共找到事项：", "Services found:"),
    ("catalog.promised", "承诺", "Promised"),
    ("catalog.working_days", "个工作日", "working days"),
    ("catalog.online", "可网办", "Online"),
    ("catalog.zero_visits", "零跑动", "No visit needed"),
    ("catalog.visits", "到现场次数", "Visits"),
    ("catalog.pages", "分页", "Pages"),
    ("catalog.prev", "上一页", "Previous"),
    ("catalog.next", "下一页", "Next"),
    ("catalog.back", "← 返回事项列表", "← Back to services"),
    ("catalog.guide", "办事指南", "Service guide"),
    ("catalog.suspended", "暂停办理", "Suspended"),
    ("catalog.kind", "事项类型", "Type"),
    ("catalog.handling", "办件类型", "Handling"),
    ("catalog.legal_limit", "法定时限", "Legal time limit"),
    ("catalog.promised_limit", "承诺时限", "Promised time limit"),
    ("catalog.on_the_spot", "即办", "On the spot"),
    ("catalog.visits_label", "到现场次数", "Visits to a hall"),
    ("catalog.online_label", "全程网办", "Fully online"),
    ("catalog.cross_region", "跨域通办", "Cross-region"),
    ("catalog.commitment", "告知承诺", "Commitment accepted"),
    ("catalog.single_approver", "独任审批", "Single approver"),
    ("catalog.fee", "收费", "Fee"),
    ("catalog.none", "无", "None"),
    ("catalog.yes", "是", "Yes"),
    ("catalog.no", "否", "No"),
    ("catalog.conditions", "受理条件", "Conditions"),
    ("catalog.materials", "申请材料", "Materials"),
    ("catalog.material", "材料名称", "Material"),
    ("catalog.source", "来源", "Source"),
    ("catalog.commitment_ok", "可承诺替代", "Commitment may replace"),
    ("catalog.source_applicant", "申请人提供", "You provide it"),
    ("catalog.legal_basis", "设定依据", "Legal basis"),
    ("catalog.history", "调整记录", "Change history"),
    ("catalog.version", "版本", "Version"),
    ("catalog.fields_changed", "处字段变更", "field(s) changed"),
    ("catalog.current_version", "现行版本", "Current version"),
    ("catalog.effective", "生效日期", "in force since"),
    ("catalog.level_city", "市级", "City"),
    ("catalog.level_district", "区县级", "District"),
    ("catalog.level_street", "街道（镇）级", "Street/town"),
    ("catalog.level_community", "社区（村）级", "Community/village"),
    ("catalog.audience_person", "个人", "Individuals"),
    ("catalog.audience_enterprise", "法人", "Businesses"),
    ("catalog.audience_both", "个人和法人", "Individuals and businesses"),
    ("catalog.approved_notice", "已批准，将于以下日期自动生效：", "Approved; it takes effect on "),
    ("catalog.applied_notice", "已批准并已生效。", "Approved and in force now."),
    ("catalog.rejected_notice", "已驳回。", "Rejected."),
    ("bundles.title", "“一件事”集成服务", "One-thing bundles"),
    (
        "bundles.lead",
        "一件事一次办：多个部门的事项一张表申请，材料只交一次。",
        "One life event, one application: items of several departments, materials given once.",
    ),
    ("bundles.items", "个事项", "items"),
    ("bundles.departments", "个部门", "departments"),
    ("bundles.back", "← 返回一件事列表", "← Back to bundles"),
    ("bundles.questions", "请根据您的情况勾选", "Tick what applies to you"),
    ("bundles.show_needs", "查看需要办理的事项和材料", "Show what I need"),
    ("bundles.you_need", "您需要办理", "What you will need"),
    ("bundles.items_title", "办理事项", "Items"),
    ("bundles.added", "根据您的情况增加", "added for your situation"),
    ("bundles.unavailable", "以下事项暂停办理：", "These items are suspended:"),
    ("bundles.materials_title", "所需材料", "Materials"),
    (
        "bundles.materials_once",
        "多个事项共用的材料只需提交一次；标注“免提交”的将自动调取。",
        "A material several items need is given once; those marked as filled are fetched for you.",
    ),
    ("bundles.used_by", "共用事项数", "Used by items"),
    ("bundles.departments_title", "涉及部门", "Departments involved"),
    ("admin.title", "事项管理（动态调整）", "Catalog desk (dynamic adjustment)"),
    ("admin.import", "导入事项清单", "Import a catalog file"),
    (
        "admin.import_hint",
        "支持 Excel（.xlsx）、CSV、JSON。文件中任何一行有误则整体不导入，并列出全部问题。导入将生成一份调整申请，审批后生效。",
        "Excel (.xlsx), CSV or JSON. If any row is wrong nothing is imported and every problem is listed. An import becomes one proposal that takes effect once approved.",
    ),
    ("admin.file", "清单文件", "Catalog file"),
    ("admin.reason_label", "调整理由", "Reason"),
    ("admin.effective_date", "生效日期", "Effective date"),
    ("admin.submit_import", "提交导入", "Import"),
    ("admin.export", "导出现行清单", "Export the current catalog"),
    ("admin.boundaries", "部门职责边界报告", "Responsibility boundary report"),
    ("admin.proposals", "调整申请", "Proposals"),
    ("admin.no_proposals", "暂无调整申请。", "No proposals yet."),
    ("admin.changes", "项变更", "change(s)"),
    ("admin.note", "审核意见", "Note"),
    ("admin.approve", "批准", "Approve"),
    ("admin.reject", "驳回", "Reject"),
    ("admin.row", "行", "Row"),
    ("admin.column", "列", "Column"),
    ("admin.reason", "问题", "Problem"),
    ("nav.guide", "智能导办", "Ask"),
    ("nav.guide_inbox", "导办工单", "Guidance inbox"),
    ("guide.title", "智能导办", "Ask what you need to do"),
    (
        "guide.lead",
        "用您自己的话说说要办什么事，我们帮您找到对应的事项和“一件事”。",
        "Say in your own words what you need; we find the services and bundles for you.",
    ),
    ("guide.ask", "您想办什么事？", "What do you need to do?"),
    ("guide.placeholder", "例如：开个小饭馆要办什么", "e.g. what do I need to open a small restaurant"),
    ("guide.submit", "查找", "Search"),
    ("guide.results", "为您找到", "Suggestions"),
    ("guide.popular", "热门事项", "Popular services"),
    ("guide.match", "匹配度", "match"),
    ("guide.unsure", "没找到想要的？转人工帮您", "Not what you need? Ask a person"),
    ("guide.human", "人工导办", "Ask a person"),
    (
        "guide.human_text",
        "导办员会在工作时间内答复，您可在本页查看答复。",
        "A guidance officer answers during working hours; the answer appears on this page.",
    ),
    ("guide.your_question", "您的问题", "Your question"),
    ("guide.note", "补充说明（选填）", "Anything to add (optional)"),
    ("guide.handoff", "转人工", "Send to a person"),
    ("guide.mine", "我的人工咨询", "My questions to staff"),
    ("guide.status", "状态", "Status"),
    ("guide.status_open", "待答复", "Waiting for an answer"),
    ("guide.status_answered", "已答复", "Answered"),
    ("guide.handoff_title", "人工导办", "Your question to staff"),
    ("guide.back", "← 返回智能导办", "← Back to Ask"),
    ("guide.answer", "答复", "Answer"),
    (
        "guide.wait",
        "已转给导办员，请稍后回来查看。",
        "Passed to a guidance officer; please check back later.",
    ),
    ("guide.inbox", "导办工单", "Guidance inbox"),
    ("guide.inbox_empty", "暂无待答复的问题。", "No questions waiting."),
    ("guide.send_answer", "发送答复", "Send answer"),
    ("guide.answered_notice", "已答复。", "Answered."),
    ("error.title", "出错了", "Something went wrong"),
    ("error.not_found", "找不到该页面", "Page not found"),
    ("error.back_home", "返回首页", "Back to home"),
    (
        "footer.text",
        "济南市人民政府 主办 · 政务服务热线 12345",
        "Run by the Jinan Municipal People's Government · Hotline 12345",
    ),
    ("nav.inbox", "消息", "Messages"),
    ("nav.my_cases", "我的办件", "My cases"),
    ("nav.workbench", "办件工作台", "Case workbench"),
    ("nav.supervision", "督查督办", "Supervision"),
    ("nav.wallet", "我的卡包", "My wallet"),
    ("nav.halls", "服务地图", "Service map"),
    ("nav.assistance", "帮办代办", "Assisted service"),
    ("nav.appointments", "我的预约", "My appointments"),
    ("nav.complaints", "我要反映", "Report a problem"),
    ("nav.complaint_desk", "接诉即办", "Complaints desk"),
    ("nav.complaint_dashboard", "诉求督办看板", "Complaints dashboard"),
    ("nav.ratings", "好差评公开", "Service ratings"),
    ("nav.bad_reviews", "差评整改", "Bad reviews to put right"),
    (
        "apply.use_wallet",
        "同意从我的卡包调取电子证照，免交此材料",
        "Use the e-licence in my wallet instead (I consent)",
    ),
    ("apply.from_wallet", "从卡包调取电子证照（已同意）", "From your wallet's e-licence (consented)"),
    ("nav.verify", "证照核验", "Verify a licence"),
    ("nav.licences", "证照管理", "Licence desk"),
    ("nav.seals", "电子印章", "E-seals"),
    ("decision.sealed", "已加盖电子印章", "Sealed with the electronic seal"),
    ("decision.seal_valid", "印章核验通过：文书自盖章后未被改动", "Seal verified: unchanged since sealing"),
    ("decision.seal_invalid", "印章核验未通过", "Seal verification failed"),
    ("decision.licence", "电子证照", "E-licence"),
    ("apply.title", "在线申请", "Apply online"),
    ("apply.back_to_guide", "返回办事指南", "Back to the service guide"),
    ("apply.step", "第", "Step"),
    ("apply.contact_title", "申请人与联系方式", "Applicant and contact details"),
    ("apply.applicant", "申请主体", "Applying as"),
    ("apply.as_myself", "以个人名义申请", "Myself (as a person)"),
    (
        "apply.no_enterprise",
        "该事项须以企业名义申请，请先在个人中心绑定企业。",
        "This item is applied for by an enterprise; link your enterprise in My account first.",
    ),
    ("apply.contact_name", "联系人", "Contact name"),
    ("apply.contact_phone", "联系电话", "Contact phone"),
    (
        "apply.contact_phone_hint",
        "11位手机号码，用于接收办理进度短信。",
        "An 11-digit mobile number; progress messages are sent to it.",
    ),
    ("apply.email", "电子邮箱（选填，用于接收办理进度）", "E-mail (optional, for progress messages)"),
    ("apply.address", "联系地址（选填）", "Address (optional)"),
    ("apply.description", "申请说明（选填）", "Notes for the department (optional)"),
    ("apply.save_continue", "保存并继续", "Save and continue"),
    ("apply.materials_title", "申请材料", "Materials"),
    (
        "apply.materials_hint",
        "请逐项上传材料；标注“免提交”的由部门调取，无需上传。",
        "Upload each material; those marked as filled from e-licences or shared data are retrieved by the department.",
    ),
    (
        "apply.commitment",
        "我选择告知承诺：以签署承诺书替代可承诺的证明材料",
        "I choose the commitment route: my signed commitment replaces the proofs that allow it",
    ),
    ("apply.commitment_ok", "可用承诺替代", "A commitment may replace it"),
    ("apply.commitment_short", "告知承诺", "Commitment"),
    ("apply.uploaded", "已上传", "Uploaded"),
    (
        "apply.file_rules",
        "支持 PDF、OFD、JPEG、PNG，每个文件不超过10MB。",
        "PDF, OFD, JPEG or PNG, up to 10 MB per file.",
    ),
    ("apply.previous", "返回上一步", "Previous step"),
    ("apply.check_title", "核对您的申请", "Check your answers"),
    ("apply.change", "修改", "Change"),
    ("apply.how", "提供方式", "Provided as"),
    ("apply.by_commitment", "以告知承诺替代", "Replaced by the commitment"),
    (
        "apply.missing_ok",
        "未提供的材料可在受理后按部门要求补正（容缺受理）。",
        "Missing materials can be supplied later if the department asks (acceptance with deficiencies).",
    ),
    ("apply.submit", "确认提交申请", "Submit the application"),
    (
        "apply.saved_note",
        "您的填写已自动保存为草稿，可随时在“我的办件”中继续。",
        "Your answers are saved as a draft; continue any time from My cases.",
    ),
    ("apply.discard", "放弃此申请", "Discard this application"),
    ("apply.start", "在线申请", "Apply online"),
    ("apply.start_bundle", "申请办理这件事", "Apply for this bundle"),
    ("apply.login_first", "登录后即可在线申请", "Log in to apply online"),
    ("case.submitted_title", "申请已提交", "Application submitted"),
    ("case.your_number", "您的办件编号：", "Your case number:"),
    ("case.next_title", "接下来会怎样", "What happens next"),
    (
        "case.next_text",
        "部门受理后，将按承诺时限办理。每一步进展都会通知您（站内消息和短信），您也可以随时在“我的办件”中查看。",
        "Once the department accepts your case it is handled within the promised time. You will be told of every step (inbox and SMS), and can check My cases any time.",
    ),
    ("case.lead_department", "牵头部门", "Lead department"),
    ("case.bundle", "一件事", "Bundle"),
    ("case.item", "办件", "Case"),
    ("case.number", "办件编号", "Case number"),
    ("case.title_col", "事项", "Service"),
    ("case.applicant", "申请人", "Applicant"),
    ("case.state", "办理状态", "Status"),
    ("case.due", "办结期限", "Due"),
    ("case.due_after_accept", "受理后开始计时", "The clock starts at acceptance"),
    ("case.submitted_at", "提交时间", "Submitted"),
    ("case.accepted_on", "受理日期", "Accepted on"),
    ("case.promised", "承诺", "promised"),
    ("case.paused", "补正暂停", "paused"),
    ("case.completeness", "材料", "Materials"),
    ("case.incomplete", "材料不全（容缺受理）", "Incomplete (may be accepted with deficiencies)"),
    ("case.decision", "决定书", "Decision"),
    ("case.view_decision", "查看决定书", "View the decision"),
    ("case.actions", "办理操作", "Actions"),
    ("case.transfer_to", "转至部门", "Transfer to"),
    ("case.return_sender", "退回转来部门", "Return to the sending department"),
    ("case.reason_required", "原因（必填）", "Reason (required)"),
    ("case.reason_optional", "说明（选填）", "Note (optional)"),
    ("case.parts", "各部门办理情况", "Parts by department"),
    ("case.file", "文件", "File"),
    ("case.commitment_text", "告知承诺书", "Signed commitment"),
    ("case.post_checks", "事后核查", "Post-approval checks"),
    ("case.check_open", "待核查", "Open"),
    ("case.check_confirmed", "承诺属实", "Commitment confirmed"),
    ("case.check_false", "虚假承诺", "False commitment"),
    ("case.check_outcome", "核查结论", "Finding"),
    ("case.check_note", "核查意见", "Findings"),
    ("case.check_submit", "提交核查结论", "Record the finding"),
    ("case.timeline", "办理过程", "Timeline"),
    ("case.ev_submit", "提交申请", "Submitted"),
    ("case.ev_revoke", "撤销审批决定", "Approval revoked"),
    ("case.ev_parts", "子项进展", "Parts progressed"),
    ("case.submitted_by", "代为提交：", "Submitted on their behalf by"),
    ("case.light_green", "正常", "On time"),
    ("case.light_yellow", "预警", "Due soon"),
    ("case.light_red", "超期", "Overdue"),
    ("case.light_none", "未计时", "Clock stopped"),
    ("case.back", "返回办件", "Back to the case"),
    ("decision.approved", "准予许可", "Granted"),
    ("decision.rejected", "不予许可", "Refused"),
    ("decision.result", "办理结果", "Result"),
    (
        "decision.bundle_text",
        "：您申请的“一件事”已全部办结，各事项办理结果如下。事项名称：",
        ": every part of your bundle application is finished; the results are below. Bundle: ",
    ),
    ("decision.decided_by", "承办人", "Decided by"),
    ("decision.seal_pending", "此文书未加盖电子印章", "This document carries no electronic seal"),
    ("inbox.empty", "暂无消息", "No messages"),
    ("inbox.mark_read", "全部标为已读", "Mark all as read"),
    ("inbox.new", "新", "New"),
    ("my.title", "我的办件", "My cases"),
    ("my.unread", "条未读", "unread"),
    ("my.drafts", "未提交的草稿", "Unsubmitted drafts"),
    ("my.saved_at", "保存于", "saved"),
    ("my.cases", "办件", "Cases"),
    (
        "my.none",
        "您还没有办件。可从事项清单开始申请：",
        "You have no cases yet. Start from the service list:",
    ),
    (
        "wb.walk_in",
        "窗口收件：为来窗口的申请人登记申请",
        "Window intake: register a walk-in applicant's application",
    ),
    ("wb.walk_in_phone", "申请人手机号码（已实名注册）", "Applicant's mobile number (registered)"),
    ("wb.walk_in_item", "事项编码", "Item code"),
    ("wb.walk_in_start", "开始登记", "Start"),
    ("apply.walk_in_for", "窗口代为登记，申请人：", "Registered at the window for"),
    ("wb.find", "按办件编号查找", "Find a case by number"),
    ("wb.find_go", "查找", "Find"),
    ("wb.open", "在办", "Open"),
    ("wb.nearing", "临近期限", "Nearing deadline"),
    ("wb.intake", "综合受理", "Intake (all items)"),
    ("wb.delivery", "统一出件", "Results to hand out"),
    ("wb.empty", "暂无办件", "No cases"),
    ("wb.lights", "红黄绿灯", "Lights"),
    ("wb.queues", "办件队列", "Queues"),
    ("sup.as_of", "统计日期", "As of"),
    ("sup.by_department", "按部门", "By department"),
    ("sup.by_item", "按事项", "By item"),
    ("sup.overdue", "超期办件", "Overdue cases"),
    ("sup.none_overdue", "没有超期办件", "No overdue cases"),
];

fn lookup(key: &str) -> Option<(&'static str, &'static str)> {
    TEXTS.iter().find(|(k, _, _)| *k == key).map(|(_, zh, en)| (*zh, *en))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Every key the templates use exists, and no key is defined twice.
    #[test]
    fn templates_use_only_known_keys() {
        let mut seen = std::collections::HashSet::new();
        for (k, zh, en) in TEXTS {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!zh.is_empty() && !en.is_empty(), "empty text for {k}");
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for part in text.split("t.s(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                assert!(lookup(key).is_some(), "template uses unknown key {key}");
                checked += 1;
            }
        }
        assert!(checked > 20, "expected the templates to use translations, found {checked}");
    }

    #[test]
    fn language_choice() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::from_headers(&h), Lang::Zh);
        h.insert(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::En);
        h.insert(header::COOKIE, "lang=zh".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::Zh);
    }
}
