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

/// Translator handed to templates: `{{ t.s("nav.home") }}`.
#[derive(Clone, Copy, Debug)]
pub struct Tr {
    pub lang: Lang,
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
    ("nav.staff", "工作台", "Staff desk"),
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
    ("staff.title", "工作台", "Staff desk"),
    ("staff.department", "所属部门", "Department"),
    ("staff.roles", "角色", "Roles"),
    ("staff.halls", "所在大厅", "Halls"),
    ("staff.no_halls", "未分配大厅", "No hall assigned"),
    (
        "staff.note",
        "办件、审批等功能上线后将显示在这里。",
        "Cases, approvals and other work will appear here as they go live.",
    ),
    ("error.title", "出错了", "Something went wrong"),
    ("error.not_found", "找不到该页面", "Page not found"),
    ("error.back_home", "返回首页", "Back to home"),
    (
        "footer.text",
        "济南市人民政府 主办 · 政务服务热线 12345",
        "Run by the Jinan Municipal People's Government · Hotline 12345",
    ),
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
