//! Where a question belongs when it is not an application: a complaint about something wrong
//! (noise, fumes, a broken street light) belongs with 12345; a person who cannot manage alone
//! (an elderly parent without a smartphone, someone who cannot get to a hall) belongs with
//! 帮办代办. The guide puts that service first and says so, instead of offering licences.
//!
//! Both are read from short word lists written by hand, not learned: a model trained on the
//! complaint taxonomy's examples against the catalogue's names (tried first) learnt "a long
//! everyday sentence" rather than "something is wrong" and sent one service question in five
//! to 12345. The lists name what is wrong (noise, fumes, a fault, a charge, a danger) and what
//! a person says when they cannot manage alone; the figures they reach, on sets they were not
//! written from, are in the guide's evaluation tests.

use serde::Serialize;

/// The catalogue's 12345 service (诉求受理).
pub const COMPLAINT_ITEM: &str = "JN-12345-0001";
/// The catalogue's assisted service (帮办代办服务).
pub const HELP_ITEM: &str = "JN-HYZWZX-0001";

/// Where a question is sent besides the catalogue's results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Something is wrong and someone should put it right: 12345.
    Complaint,
    /// The person needs someone to help them in person: 帮办代办.
    Help,
}

/// Saying one wants to complain: enough on its own.
const COMPLAINING: &[&str] =
    &["投诉", "举报", "反映问题", "找谁反映", "向谁反映", "没人管", "管一管", "管管"];

/// Something wrong that a department should put right: noise, smells and fumes, faults and
/// outages, charges and cheating, obstructions and dangers. Only when the catalogue has no
/// confident answer (路灯坏了 is a complaint; 路灯安装许可 is not).
const WRONG: &[&str] = &[
    "太吵",
    "吵得",
    "吵到",
    "噪音",
    "噪声",
    "扰民",
    "油烟",
    "熏得",
    "臭",
    "异味",
    "呛",
    "坏了",
    "不亮",
    "没人修",
    "没人清",
    "不热",
    "停水",
    "停电",
    "停气",
    "没水",
    "没电",
    "漏水",
    "漏气",
    "跑水",
    "乱收费",
    "多收",
    "绕路",
    "乱停",
    "乱堆",
    "乱扔",
    "乱搭",
    "占道",
    "堵着",
    "堵路",
    "违建",
    "私搭",
    "过期",
    "变质",
    "危险",
    "脏乱",
    "扬尘",
    "被骗",
    "不给退",
    "欠薪",
    "拖欠",
    "刁难",
    "态度差",
    "推诿",
    "破损",
    "塌陷",
    "塌了",
    "堵塞",
    "冒水",
    "积水",
    "断电",
    "跳闸",
    "违规",
    "违法",
    "无证",
    "拒载",
    "宰客",
    "跑路",
    "不退",
    "乱贴",
    "咬人",
    "不拴绳",
    "安全隐患",
    "隐患",
    "掉下来",
    "甩站",
    "扣钱",
    "不文明",
    "困在电梯",
    "电梯坏",
];

/// Where `text` belongs: help first (a person who cannot manage alone may also describe a
/// problem), then a complaint. `confident`: whether the catalogue has a confident answer.
pub fn route(text: &str, confident: bool) -> Option<Route> {
    if asks_for_help(text) {
        Some(Route::Help)
    } else if COMPLAINING.iter().any(|w| text.contains(w))
        || (!confident && WRONG.iter().any(|w| text.contains(w)))
    {
        Some(Route::Complaint)
    } else {
        None
    }
}

/// Saying one cannot manage alone.
const DIFFICULTY: &[&str] = &[
    "不会",
    "不懂",
    "看不懂",
    "弄不明白",
    "搞不明白",
    "不明白",
    "不识字",
    "不方便",
    "行动不便",
    "腿脚",
    "年纪大",
    "老人",
    "老年",
    "残疾",
    "没时间",
    "太复杂",
    "不熟悉",
    "眼神不好",
    "听不清",
];
/// Asking for a person to do it with or for one.
const ASK_FOR_PERSON: &[&str] = &[
    "有人帮",
    "帮我",
    "帮着",
    "帮忙",
    "陪着",
    "陪同",
    "上门",
    "替我",
    "跑腿",
    "教教",
    "教我",
    "专人",
    "全程",
    "工作人员",
];

/// Whether `text` asks for someone to help in person: 帮办 or 代办 by name, or a difficulty
/// together with asking for a person.
pub fn asks_for_help(text: &str) -> bool {
    text.contains("帮办")
        || (text.contains("代办") && !text.contains("代收代办"))
        || (DIFFICULTY.iter().any(|w| text.contains(w)) && ASK_FOR_PERSON.iter().any(|w| text.contains(w)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complaints_are_what_is_wrong_unless_the_catalogue_knows_better() {
        assert_eq!(route("晚上施工噪音太大", false), Some(Route::Complaint));
        assert_eq!(route("路灯坏了", false), Some(Route::Complaint));
        assert_eq!(route("路灯坏了", true), None, "a confident catalogue answer stands");
        assert_eq!(route("买到过期食品想投诉", true), Some(Route::Complaint), "saying so is enough");
        assert_eq!(route("施工许可证怎么办", false), None);
    }

    #[test]
    fn help_in_person_is_asked_for_by_name_or_by_need() {
        assert!(asks_for_help("有没有帮办服务"));
        assert!(asks_for_help("老人不会用手机，能不能有人帮着办"));
        assert!(!asks_for_help("不会填表"), "a difficulty alone is not asking for a person");
        assert!(!asks_for_help("跨省通办异地代收代办"), "that is its own service");
        assert_eq!(route("腿脚不方便，能上门办吗，太吵了", false), Some(Route::Help), "help first");
    }
}
