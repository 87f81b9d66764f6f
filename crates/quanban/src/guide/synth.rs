//! A deterministic large catalogue for the latency bench: the shipped items plus generated
//! variants with plausible Chinese names and keywords across the shipped departments.
//!
//! Real cities list thousands of items (every district repeats the city's, with local variants),
//! so the bench measures the engine at that size rather than at the 196 shipped items.

use crate::reference::data::CatalogItem;

/// Districts and counties; a prefix makes a variant a local version of an item.
const PLACES: &[&str] = &[
    "历下区",
    "市中区",
    "槐荫区",
    "天桥区",
    "历城区",
    "长清区",
    "章丘区",
    "济阳区",
    "莱芜区",
    "钢城区",
    "平阴县",
    "商河县",
    "高新区",
    "南部山区",
    "起步区",
];
/// Subjects of generated items.
const SUBJECTS: &[&str] = &[
    "农产品",
    "危险废物",
    "户外广告",
    "文物",
    "林木采伐",
    "水土保持",
    "船舶",
    "道路挖掘",
    "桥梁",
    "采矿",
    "取水",
    "供热",
    "物业",
    "家政",
    "劳务派遣",
    "职业培训",
    "民办学校",
    "校外培训",
    "演出",
    "出版物",
    "广播电视",
    "种子",
    "兽药",
    "饲料",
    "肥料",
    "农药",
    "渔业捕捞",
    "野生动物",
    "测绘",
    "地质灾害",
    "人防工程",
    "气象",
    "无线电台",
    "计量器具",
    "商标",
    "专利",
    "房屋安全鉴定",
    "城市绿化",
    "占道施工",
    "临时建筑",
    "墓地",
    "宗教活动场所",
    "社会团体",
    "民办非企业单位",
    "基金会",
    "慈善组织",
    "志愿服务",
    "退役军人",
    "优抚对象",
    "军人家属",
];
/// Actions of generated items.
const ACTIONS: &[&str] =
    &["许可", "备案", "登记", "变更", "注销", "核准", "审批", "延续", "补办", "年检", "认定", "补贴申领"];
/// Colloquial keyword patterns; `{}` is the subject.
const KEYWORD_PATTERNS: &[&str] = &["办{}手续", "{}怎么办", "{}去哪办", "{}证", "{}申请", "申请{}", "{}流程"];
/// Life events used by generated items.
const EVENTS: &[&str] = &["准营", "经营", "变更", "注销", "生活服务", "惠农", "工程建设", "就业", "救助帮扶"];

/// A small deterministic generator (SplitMix64), so the bench needs no random-number crate.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> Option<&'a T> {
        if xs.is_empty() {
            return None;
        }
        xs.get((self.next() % xs.len() as u64) as usize)
    }
}

/// `n` items: the shipped catalogue (cut to `n` if shorter) followed by generated variants. The
/// same `(n, seed)` always gives the same catalogue.
pub fn synthetic_catalog(n: usize, seed: u64) -> Vec<CatalogItem> {
    let base: Vec<CatalogItem> =
        crate::reference::data::shipped().map(|d| d.catalog.items).unwrap_or_default();
    let mut out: Vec<CatalogItem> = base.iter().take(n).cloned().collect();
    if base.is_empty() {
        return out;
    }
    let mut rng = SplitMix(seed);
    let mut serial = 0usize;
    while out.len() < n {
        serial += 1;
        let Some(template) = rng.pick(&base) else { break };
        let mut item = template.clone();
        let place = rng.pick(PLACES).copied().unwrap_or("");
        let dept = template.department.clone();
        // Half the variants are local versions of a real item, half new subjects.
        if rng.next().is_multiple_of(2) {
            item.name = format!("{place}{}", template.name);
            item.keywords = template.keywords.iter().map(|k| format!("{place}{k}")).collect();
        } else {
            let subject = rng.pick(SUBJECTS).copied().unwrap_or("事项");
            let action = rng.pick(ACTIONS).copied().unwrap_or("办理");
            item.name = format!("{place}{subject}{action}");
            item.keywords =
                (0..3).filter_map(|_| rng.pick(KEYWORD_PATTERNS)).map(|p| p.replace("{}", subject)).collect();
            item.life_event = rng.pick(EVENTS).copied().unwrap_or("经营").to_owned();
            item.conditions =
                format!("申请{subject}{action}应当符合有关法律法规规定的条件，材料齐全、符合法定形式。");
        }
        item.code = format!("{dept}-S{serial:06}");
        out.push(item);
    }
    out
}
