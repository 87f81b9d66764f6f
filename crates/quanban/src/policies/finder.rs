//! Finding policies from a person's own words, for the guide (企业找政策): "招了应届毕业生有补贴吗",
//! "首贷贴息怎么申请". The policies are few (a city has dozens, not thousands), so every policy is
//! scored directly: a query word found in the name counts three times what one found in the
//! summary, and a question about support in general ("有什么惠企政策") lists every policy.

use super::library::{Mode, Policy};
use crate::platform::words::search_words;

/// Words that ask about business support in general: they match every policy a little.
const SUPPORT_WORDS: &[&str] =
    &["政策", "惠企", "补贴", "奖励", "补助", "扶持", "奖补", "贴息", "兑现", "免申即享", "资金", "优惠"];

/// Words that carry no meaning on their own in a question.
const FILLERS: &[&str] = &[
    "怎么",
    "怎样",
    "如何",
    "什么",
    "哪些",
    "可以",
    "能否",
    "能不能",
    "是否",
    "有没有",
    "申请",
    "办理",
    "企业",
    "公司",
    "我们",
    "我",
    "的",
    "了",
    "吗",
    "呢",
    "有",
    "要",
    "去",
    "哪里",
    "多少",
    "给",
    "领",
    "拿",
];

/// One policy found for a query.
#[derive(Clone, Debug)]
pub struct Found<'a> {
    pub policy: &'a Policy,
    pub score: f32,
    /// The query's words that matched, for the reason shown.
    pub matched: Vec<String>,
}

/// The policies that answer `query`, best first (at most `limit`); none for a query that is
/// not about them.
pub fn find<'a>(policies: &'a [Policy], query: &str, limit: usize) -> Vec<Found<'a>> {
    let mut words: Vec<String> = search_words(query)
        .into_iter()
        .filter(|w| w.chars().count() >= 2 || !FILLERS.contains(&w.as_str()))
        .filter(|w| !FILLERS.contains(&w.as_str()))
        .collect();
    words.sort();
    words.dedup();
    let general = SUPPORT_WORDS.iter().any(|w| query.contains(w));
    let mut found: Vec<Found<'a>> = policies
        .iter()
        .filter_map(|p| {
            let (name, summary) = (p.name.to_lowercase(), p.summary.to_lowercase());
            let mut score = 0.0f32;
            let mut matched = Vec::new();
            for w in &words {
                // Single characters match too much on their own.
                if w.chars().count() < 2 {
                    continue;
                }
                let weight = if name.contains(w.as_str()) {
                    3.0
                } else if summary.contains(w.as_str()) {
                    1.0
                } else {
                    continue;
                };
                // A support word in general says little about which policy.
                let weight = if SUPPORT_WORDS.contains(&w.as_str()) { weight / 3.0 } else { weight };
                score += weight;
                matched.push(w.clone());
            }
            if general {
                score += 0.5;
            }
            if p.mode == Mode::Automatic && query.contains("免申") {
                score += 1.0;
            }
            (score > 0.0).then_some(Found { policy: p, score, matched })
        })
        .collect();
    // A question that names something matches those policies; the general lean lists every
    // policy only when nothing more specific matched.
    if found.iter().any(|f| !f.matched.is_empty()) {
        found.retain(|f| !f.matched.is_empty());
    }
    for f in &mut found {
        // The reason shows whole words ("毕业生"), not their search-mode parts ("毕业", "业生").
        let all = f.matched.clone();
        f.matched.retain(|w| !all.iter().any(|o| o != w && o.contains(w.as_str())));
    }
    found.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.policy.code.cmp(&b.policy.code)));
    found.truncate(limit);
    found
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::policies::library::shipped;

    fn top(query: &str) -> Vec<String> {
        let all = shipped().unwrap();
        find(&all, query, 3).into_iter().map(|f| f.policy.code.clone()).collect()
    }

    #[test]
    fn a_question_in_plain_words_finds_its_policy_first() {
        // Written as an enterprise would ask, apart from the policies' own wording.
        for (query, want) in [
            ("招了几个应届毕业生，有补贴吗", "JN-ZC-2026-008"),
            ("第一次从银行贷款，利息能补一点吗", "JN-ZC-2026-009"),
            ("我们出口做得不错，有奖励吗", "JN-ZC-2026-010"),
            ("评上高新技术企业有什么奖励", "JN-ZC-2026-005"),
            ("技术改造买设备有补助吗", "JN-ZC-2026-007"),
        ] {
            let got = top(query);
            assert_eq!(got.first().map(String::as_str), Some(want), "{query}: {got:?}");
        }
    }

    #[test]
    fn a_specific_question_lists_only_what_it_names_in_whole_words() {
        let all = shipped().unwrap();
        let found = find(&all, "招了应届毕业生有补贴吗", 20);
        assert!(found.iter().all(|f| !f.matched.is_empty()), "no policy listed for the general lean alone");
        assert_eq!(found[0].matched, ["毕业生", "补贴"], "parts of a matched word are not repeated");
    }

    #[test]
    fn a_general_question_lists_policies_and_an_unrelated_one_none() {
        let all = shipped().unwrap();
        assert_eq!(find(&all, "有哪些惠企政策", 20).len(), all.len());
        assert!(find(&all, "身份证丢了怎么补办", 20).is_empty());
        assert!(find(&all, "", 20).is_empty());
    }
}
