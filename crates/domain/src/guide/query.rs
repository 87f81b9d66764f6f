//! Query understanding: from what a person typed to the pieces the engine matches.
//!
//! The steps, in order, and why in that order:
//! 1. normalise (full-width → half-width, lower case, punctuation → space, collapse spaces) so
//!    that "ＳＣ证" and "sc证" are the same query;
//! 2. fix pinyin-input slips ([`TYPOS`]) before anything looks at words;
//! 3. read the hints (wants a human, broad life-event question, person or business) from the
//!    whole text, because stripping fillers would remove some of them ("要办哪些");
//! 4. take out colloquial phrases with known meanings ([`SYNONYMS`]) as *units* that carry their
//!    expansions, longest first, before filler stripping (fillers like "了" would break "走了");
//! 5. strip fillers ([`FILLERS`]) and segment the rest with jieba; every word left becomes a unit.
//!
//! A unit is one thing the person said; the engine scores a candidate by how much of the query's
//! units it covers, which is also how sure it is that it understood.

use super::synonyms::{
    BROAD_INTENT, ENTERPRISE_HINTS, FILLERS, HUMAN_WORDS, PERSON_HINTS, STOP_CHARS, SYNONYMS, TYPOS,
};

/// Longest query we look at, in characters; longer input is cut (and flagged) so that a pasted
/// document cannot make a search slow.
pub const MAX_QUERY_CHARS: usize = 200;

/// Who the query sounds like it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudienceHint {
    /// A business (公司, 个体, 单位 …).
    Enterprise,
    /// A private person (孩子, 老人, 我 …).
    Person,
}

/// One thing the person said, with the strings that count as matching it.
#[derive(Debug, Clone)]
pub struct Unit {
    /// The text as it appeared in the (normalised) query.
    pub text: String,
    /// Strings that match this unit, each with the share of the unit it accounts for (1.0 for the
    /// unit itself and its synonyms, less for a part of a longer word).
    pub alts: Vec<(String, f32)>,
    /// Weight in coverage: its length in characters, so "公积金" counts more than "证".
    pub weight: f32,
    /// Whether the unit came from the synonym map (its expansions are searched at lower weight).
    pub from_synonym: bool,
}

/// A query after understanding.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// The normalised, typo-corrected text.
    pub cleaned: String,
    /// The text with fillers and synonym triggers removed, segmented words joined by spaces.
    pub core: String,
    /// Whether the input was longer than [`MAX_QUERY_CHARS`] and was cut.
    pub truncated: bool,
    /// Whether the person asks for a human.
    pub human: bool,
    /// Whether it is a broad life-event question.
    pub broad: bool,
    /// Who it sounds like.
    pub audience: Option<AudienceHint>,
    /// What was said, piece by piece.
    pub units: Vec<Unit>,
}

/// Synonym triggers sorted longest first, each with its group index in [`SYNONYMS`].
pub fn sorted_triggers() -> Vec<(&'static str, usize)> {
    let mut triggers: Vec<(&'static str, usize)> =
        SYNONYMS.iter().enumerate().flat_map(|(g, (ts, _))| ts.iter().map(move |t| (*t, g))).collect();
    triggers.sort_by_key(|(t, _)| std::cmp::Reverse(t.chars().count()));
    triggers
}

/// Fillers sorted longest first.
pub fn sorted_fillers() -> Vec<&'static str> {
    let mut fillers = FILLERS.to_vec();
    fillers.sort_by_key(|f| std::cmp::Reverse(f.chars().count()));
    fillers
}

/// Normalises text for matching: full-width → half-width, lower case, punctuation and control
/// characters → space, runs of spaces collapsed, trimmed.
pub fn normalize(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut last_space = true;
    for c in input.chars() {
        let c = match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(' '),
            _ => c,
        };
        let keep = c.is_alphanumeric();
        if keep {
            out.extend(c.to_lowercase());
            last_space = false;
        } else if !last_space {
            out.push(' ');
            last_space = true;
        }
    }
    out.trim_end().to_owned()
}

pub use crate::platform::words::segment;

/// Understands a query; see the module docs for the steps. Never fails: the worst case is a
/// query with no units.
pub fn parse(input: &str, triggers: &[(&'static str, usize)], fillers: &[&'static str]) -> Parsed {
    let truncated = input.chars().count() > MAX_QUERY_CHARS;
    let input: String = input.chars().take(MAX_QUERY_CHARS).collect();
    let mut cleaned = normalize(&input);
    for (wrong, right) in TYPOS {
        if cleaned.contains(wrong) {
            cleaned = cleaned.replace(wrong, right);
        }
    }

    let human = HUMAN_WORDS.iter().any(|w| cleaned.contains(w));
    let broad = BROAD_INTENT.iter().any(|w| cleaned.contains(w));
    let enterprise = ENTERPRISE_HINTS.iter().any(|w| cleaned.contains(w));
    let person = PERSON_HINTS.iter().any(|w| cleaned.contains(w));
    // A business word wins over "我": "我想注册公司" is a business question.
    let audience = match (enterprise, person) {
        (true, _) => Some(AudienceHint::Enterprise),
        (false, true) => Some(AudienceHint::Person),
        (false, false) => None,
    };

    let mut units = Vec::new();
    let mut rest = cleaned.clone();
    let mut groups_seen = Vec::new();
    for (trigger, group) in triggers {
        if !rest.contains(trigger) {
            continue;
        }
        rest = rest.replace(trigger, " ");
        if groups_seen.contains(group) {
            continue;
        }
        groups_seen.push(*group);
        let mut alts = vec![((*trigger).to_owned(), 1.0)];
        if let Some((_, expansions)) = SYNONYMS.get(*group) {
            alts.extend(expansions.iter().map(|e| ((*e).to_owned(), 1.0)));
        }
        units.push(Unit {
            text: (*trigger).to_owned(),
            alts,
            weight: trigger.chars().count() as f32,
            from_synonym: true,
        });
    }
    for filler in fillers {
        if rest.contains(filler) {
            rest = rest.replace(filler, " ");
        }
    }
    let mut core_words = Vec::new();
    for word in segment(&rest, false) {
        let n = word.chars().count();
        if n == 1 && word.chars().all(|c| STOP_CHARS.contains(&c) || !c.is_alphanumeric()) {
            continue;
        }
        if units.iter().any(|u: &Unit| u.text == word) {
            continue;
        }
        let mut alts = vec![(word.clone(), 1.0)];
        if n > 2 {
            for sub in segment(&word, true) {
                let m = sub.chars().count();
                if m >= 2 && m < n && !alts.iter().any(|(a, _)| *a == sub) {
                    alts.push((sub, m as f32 / n as f32));
                }
            }
        }
        core_words.push(word.clone());
        units.push(Unit { text: word, alts, weight: n as f32, from_synonym: false });
    }
    let mut core = core_words.join(" ");
    for u in units.iter().filter(|u| u.from_synonym) {
        core.push(' ');
        core.push_str(&u.text);
    }

    Parsed { cleaned, core: core.trim().to_owned(), truncated, human, broad, audience, units }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn normalises_width_case_and_punctuation() {
        assert_eq!(normalize("  ＳＣ证，怎么办？ "), "sc证 怎么办");
        assert_eq!(normalize("开ＫＴＶ\u{3000}\u{3000}许可"), "开ktv 许可");
        assert_eq!(normalize("！！！"), "");
    }

    #[test]
    fn strips_fillers_and_expands_synonyms() {
        let p = parse("请问开个小饭馆要办什么？", &sorted_triggers(), &sorted_fillers());
        assert!(p.broad);
        let texts: Vec<&str> = p.units.iter().map(|u| u.text.as_str()).collect();
        assert!(texts.contains(&"小饭馆"), "{texts:?}");
        assert!(!texts.iter().any(|t| t.contains("请问") || t.contains("什么")), "{texts:?}");
        let u = p.units.iter().find(|u| u.text == "小饭馆").unwrap();
        assert!(u.alts.iter().any(|(a, _)| a == "餐饮"));
    }

    #[test]
    fn reads_hints_and_fixes_typos() {
        let p = parse("公司的公积斤怎么开户，转人工", &sorted_triggers(), &sorted_fillers());
        assert!(p.cleaned.contains("公积金"));
        assert!(p.human);
        assert_eq!(p.audience, Some(AudienceHint::Enterprise));
        let long = "办".repeat(500);
        let p = parse(&long, &sorted_triggers(), &sorted_fillers());
        assert!(p.truncated);
    }
}
