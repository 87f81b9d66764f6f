//! The search engine: an in-memory tantivy index over items and bundles, and a re-ranking step
//! that turns BM25 into a score a person (and a hand-off rule) can trust.
//!
//! BM25 is good at finding candidates but its scores are unbounded and relative to the query, so
//! the final score is mostly *coverage*: how much of what the person said the candidate's name
//! and keywords account for (with synonyms). That makes 0.8 mean roughly the same for every
//! query, which is what the confidence threshold needs.

use std::collections::HashMap;

use crate::platform::words::JiebaTokenizer;
use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{LowerCaser, NgramTokenizer, TextAnalyzer};
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

use super::intent::{COMPLAINT_ITEM, HELP_ITEM, Route};
use super::query::{AudienceHint, Parsed, parse, segment, sorted_fillers, sorted_triggers};
use super::synonyms::POPULAR;
use crate::reference::data::{Bundle, CatalogItem, Department};

/// Score below which the assistant is not sure and suggests a human (tuned on the eval set's
/// tuning part: right answers rarely score below it, nonsense rarely above).
pub const CONFIDENCE_THRESHOLD: f32 = 0.5;

/// A result scoring at least this share of the best one is "close" for the ambiguity check.
const CLOSE_RATIO: f32 = 0.75;

/// How many candidates BM25 hands to re-ranking at least.
const MIN_CANDIDATES: usize = 40;

/// Field weights: the name says what an item *is*, keywords how people ask for it, life event and
/// department where it belongs, conditions and materials only mention things in passing.
const W_NAME: f32 = 3.0;
const W_KEYWORDS: f32 = 2.0;
const W_LIFE_EVENT: f32 = 1.2;
const W_DEPARTMENT: f32 = 1.0;
const W_BODY: f32 = 0.3;
const W_GRAMS: f32 = 0.6;
/// Synonym expansions are searched, but count less than the words the person used.
const W_EXPANSION: f32 = 0.6;

const JIEBA: &str = "guide_jieba";
const BIGRAM: &str = "guide_bigram";

/// Errors building the guidance index.
#[derive(Debug, thiserror::Error)]
pub enum GuideError {
    /// tantivy failed (creating, writing or opening the in-memory index).
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// Two items or bundles share a code, so a hit could not be named unambiguously.
    #[error("duplicate code {0} in the guidance data")]
    DuplicateCode(String),
}

/// Whether a hit is a single item or a "one thing" bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HitKind {
    /// A service item (政务服务事项).
    Item,
    /// A "one thing" bundle (一件事).
    Bundle,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// Item or bundle.
    pub kind: HitKind,
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Relevance, 0..1; comparable across queries (see [`CONFIDENCE_THRESHOLD`]).
    pub score: f32,
    /// Why it matched, in Chinese.
    pub reason_zh: String,
    /// Why it matched, in English.
    pub reason_en: String,
}

/// A choice offered by a [`FollowUp`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUpOption {
    /// Label in Chinese.
    pub label_zh: String,
    /// Label in English.
    pub label_en: String,
    /// The query to search when this option is chosen.
    pub refined_query: String,
}

/// A clarifying question (情景式导办) for an ambiguous query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    /// The question in Chinese.
    pub question_zh: String,
    /// The question in English.
    pub question_en: String,
    /// The choices.
    pub options: Vec<FollowUpOption>,
}

/// The answer to a query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuideAnswer {
    /// The query as received (cut to 200 characters when longer).
    pub query: String,
    /// Ranked results, best first.
    pub results: Vec<Hit>,
    /// A question to ask when the top results point different ways.
    pub follow_up: Option<FollowUp>,
    /// Whether the best result is likely what the person wants.
    pub confident: bool,
    /// Whether to offer a human agent (low confidence, unusable query, or asked for).
    pub hand_off_suggested: bool,
    /// Where the question belongs besides the catalogue: `complaint` (12345) or `help`
    /// (帮办代办); that service is then the first result.
    pub route: Option<Route>,
    /// A note for the person in Chinese (e.g. why popular items are shown).
    pub note_zh: Option<String>,
    /// The note in English.
    pub note_en: Option<String>,
}

/// What the engine knows about one document besides the index.
#[derive(Debug, Clone)]
struct Entry {
    kind: HitKind,
    code: String,
    name: String,
    audience: String,
    life_event: String,
    /// Lower-cased name, for name matching.
    name_lc: String,
    /// Lower-cased name, keywords and life event (bundles: also their items'), for coverage.
    hay: String,
    /// Lower-cased keywords (empty for bundles: their items' keywords are not theirs).
    keywords: Vec<String>,
    /// Item entries: the bundles that include it. Bundle entries: their items.
    related: Vec<usize>,
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    name: Field,
    keywords: Field,
    life_event: Field,
    department: Field,
    body: Field,
    grams: Field,
}

/// The guidance search index over a catalogue and its bundles.
///
/// Cheap to rebuild (see the `guide` bench), so the product rebuilds it whenever the catalogue
/// changes instead of updating it in place.
pub struct GuideIndex {
    reader: IndexReader,
    fields: Fields,
    entries: Vec<Entry>,
    triggers: Vec<(&'static str, usize)>,
    fillers: Vec<&'static str>,
    popular: Vec<usize>,
    /// The entries of the 12345 service and of 帮办代办, when the catalogue has them.
    complaint_entry: Option<usize>,
    help_entry: Option<usize>,
    /// Questions guidance officers answered with catalogue entries (newest first).
    learned: Vec<LearnedQuestion>,
}

/// A question an officer answered, as the guide compares it with new questions.
#[derive(Debug, Clone)]
struct LearnedQuestion {
    words: std::collections::HashSet<String>,
    entries: Vec<usize>,
}

/// How alike two questions must be for an officer's answer to one to answer the other: the
/// share of their words in common (Jaccard). 0.6 is "the same question in other words", not
/// "a question on the same subject".
const LEARNED_SIMILARITY: f64 = 0.6;

fn content_words(text: &str) -> std::collections::HashSet<String> {
    crate::platform::words::search_words(text)
        .into_iter()
        .filter(|w| w.chars().count() > 1 || !is_filler(w))
        .collect()
}

/// Single characters that carry no meaning on their own in a question.
fn is_filler(w: &str) -> bool {
    matches!(
        w,
        "的" | "了"
            | "吗"
            | "呢"
            | "啊"
            | "吧"
            | "我"
            | "要"
            | "去"
            | "在"
            | "是"
            | "有"
            | "和"
            | "把"
            | "个"
            | "能"
    )
}

impl std::fmt::Debug for GuideIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuideIndex").field("entries", &self.entries.len()).finish_non_exhaustive()
    }
}

/// Short name for display in options: the part before a parenthesis.
fn short_name(name: &str) -> &str {
    name.split(['（', '(']).next().unwrap_or(name)
}

impl GuideIndex {
    /// Builds the index: one document per item and per bundle.
    pub fn build(
        items: &[CatalogItem],
        bundles: &[Bundle],
        departments: &[Department],
    ) -> Result<GuideIndex, GuideError> {
        let mut sb = Schema::builder();
        let jieba_opts = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(JIEBA).set_index_option(IndexRecordOption::WithFreqs),
        );
        let gram_opts = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(BIGRAM).set_index_option(IndexRecordOption::WithFreqs),
        );
        let fields = Fields {
            name: sb.add_text_field("name", jieba_opts.clone()),
            keywords: sb.add_text_field("keywords", jieba_opts.clone()),
            life_event: sb.add_text_field("life_event", jieba_opts.clone()),
            department: sb.add_text_field("department", jieba_opts.clone()),
            body: sb.add_text_field("body", jieba_opts),
            grams: sb.add_text_field("grams", gram_opts),
        };
        let ord = sb.add_u64_field("ord", NumericOptions::default().set_fast());
        let index = Index::create_in_ram(sb.build());
        index.tokenizers().register(JIEBA, TextAnalyzer::builder(JiebaTokenizer).filter(LowerCaser).build());
        index.tokenizers().register(
            BIGRAM,
            TextAnalyzer::builder(NgramTokenizer::new(2, 2, false)?).filter(LowerCaser).build(),
        );

        let dept_names: HashMap<&str, &str> =
            departments.iter().map(|d| (d.code.as_str(), d.name.as_str())).collect();
        let mut by_code: HashMap<&str, usize> = HashMap::with_capacity(items.len() + bundles.len());
        let mut entries = Vec::with_capacity(items.len() + bundles.len());
        for item in items {
            if by_code.insert(item.code.as_str(), entries.len()).is_some() {
                return Err(GuideError::DuplicateCode(item.code.clone()));
            }
            let keywords: Vec<String> = item.keywords.iter().map(|k| k.to_lowercase()).collect();
            let hay = format!("{} {} {}", item.name, keywords.join(" "), item.life_event).to_lowercase();
            entries.push(Entry {
                kind: HitKind::Item,
                code: item.code.clone(),
                name: item.name.clone(),
                audience: item.audience.clone(),
                life_event: item.life_event.clone(),
                name_lc: item.name.to_lowercase(),
                hay,
                keywords,
                related: Vec::new(),
            });
        }
        for bundle in bundles {
            if by_code.insert(bundle.code.as_str(), entries.len()).is_some() {
                return Err(GuideError::DuplicateCode(bundle.code.clone()));
            }
            let members: Vec<usize> =
                bundle.items.iter().filter_map(|c| by_code.get(c.as_str()).copied()).collect();
            let mut hay = format!("{} {}", bundle.name, bundle.description);
            for &m in &members {
                if let Some(e) = entries.get(m) {
                    hay.push(' ');
                    hay.push_str(&e.hay);
                }
            }
            // A bundle's life event is its items' most common one.
            let mut events: HashMap<&str, usize> = HashMap::new();
            for &m in &members {
                if let Some(e) = entries.get(m) {
                    *events.entry(e.life_event.as_str()).or_default() += 1;
                }
            }
            let life_event = events
                .into_iter()
                .max_by_key(|(e, n)| (*n, *e))
                .map(|(e, _)| e.to_owned())
                .unwrap_or_default();
            let idx = entries.len();
            for &m in &members {
                if let Some(e) = entries.get_mut(m) {
                    e.related.push(idx);
                }
            }
            entries.push(Entry {
                kind: HitKind::Bundle,
                code: bundle.code.clone(),
                name: bundle.name.clone(),
                audience: bundle.audience.clone(),
                life_event,
                name_lc: bundle.name.to_lowercase(),
                hay: hay.to_lowercase(),
                keywords: Vec::new(),
                related: members,
            });
        }

        // More threads only pay off for big catalogues; each needs its own memory budget.
        let threads = if entries.len() > 2_000 {
            std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4)
        } else {
            1
        };
        let mut writer = index.writer_with_num_threads::<TantivyDocument>(threads, threads * 40_000_000)?;
        let item_count = items.len();
        for (i, item) in items.iter().enumerate() {
            let mut doc = TantivyDocument::default();
            doc.add_text(fields.name, &item.name);
            doc.add_text(fields.keywords, item.keywords.join(" "));
            doc.add_text(fields.life_event, &item.life_event);
            doc.add_text(fields.department, dept_names.get(item.department.as_str()).copied().unwrap_or(""));
            let mut body = item.conditions.clone();
            for m in &item.materials {
                body.push(' ');
                body.push_str(&m.name);
            }
            doc.add_text(fields.body, body);
            doc.add_text(fields.grams, format!("{} {}", item.name, item.keywords.join(" ")));
            doc.add_u64(ord, i as u64);
            writer.add_document(doc)?;
        }
        for (j, bundle) in bundles.iter().enumerate() {
            let idx = item_count + j;
            let Some(entry) = entries.get(idx) else { continue };
            let mut member_text = String::new();
            for &m in &entry.related {
                if let Some(item) = items.get(m) {
                    member_text.push_str(&item.name);
                    member_text.push(' ');
                    member_text.push_str(&item.keywords.join(" "));
                    member_text.push(' ');
                }
            }
            let mut doc = TantivyDocument::default();
            doc.add_text(fields.name, &bundle.name);
            doc.add_text(fields.keywords, &member_text);
            doc.add_text(fields.life_event, format!("{} {}", entry.life_event, bundle.description));
            let questions: Vec<&str> = bundle.questions.iter().map(|q| q.text.as_str()).collect();
            doc.add_text(fields.body, questions.join(" "));
            doc.add_text(fields.grams, &bundle.name);
            doc.add_u64(ord, idx as u64);
            writer.add_document(doc)?;
        }
        writer.commit()?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;

        let popular = POPULAR.iter().filter_map(|c| by_code.get(c).copied()).collect();
        Ok(GuideIndex {
            reader,
            fields,
            complaint_entry: by_code.get(COMPLAINT_ITEM).copied(),
            help_entry: by_code.get(HELP_ITEM).copied(),
            learned: Vec::new(),
            entries,
            triggers: sorted_triggers(),
            fillers: sorted_fillers(),
            popular,
        })
    }

    /// Learns from guidance officers: each question answered with codes that are in the index
    /// (others, since withdrawn, are skipped).
    pub fn with_learned(mut self, learned: &[super::store::Learned]) -> GuideIndex {
        let position: HashMap<&str, usize> =
            self.entries.iter().enumerate().map(|(i, e)| (e.code.as_str(), i)).collect();
        self.learned = learned
            .iter()
            .filter_map(|l| {
                let entries: Vec<usize> =
                    l.codes.iter().filter_map(|c| position.get(c.as_str()).copied()).collect();
                let words = content_words(&l.query);
                (!entries.is_empty() && !words.is_empty()).then_some(LearnedQuestion { words, entries })
            })
            .collect();
        self
    }

    /// Whether `code` is an item or bundle in the index.
    pub fn has_code(&self, code: &str) -> bool {
        self.entries.iter().any(|e| e.code == code)
    }

    /// The entries an officer gave for the most alike question already answered, if alike enough.
    fn learned_answer(&self, query: &str) -> Option<&LearnedQuestion> {
        let words = content_words(query);
        if words.is_empty() {
            return None;
        }
        let mut best: Option<(f64, &LearnedQuestion)> = None;
        // Newest first: of equally alike questions, the latest answer wins.
        for l in &self.learned {
            let common = l.words.intersection(&words).count() as f64;
            let jaccard = common / ((l.words.len() + words.len()) as f64 - common);
            if jaccard >= LEARNED_SIMILARITY && best.is_none_or(|(b, _)| jaccard > b) {
                best = Some((jaccard, l));
            }
        }
        best.map(|(_, l)| l)
    }

    /// Number of indexed documents (items plus bundles).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Answers a colloquial question with ranked items and bundles, a follow-up question when the
    /// query is ambiguous, and whether to hand over to a human. Never panics, whatever the input.
    pub fn search(&self, query: &str, limit: usize) -> GuideAnswer {
        let limit = limit.max(1);
        let parsed = parse(query, &self.triggers, &self.fillers);
        let shown_query: String = query.chars().take(super::query::MAX_QUERY_CHARS).collect();

        if parsed.cleaned.is_empty() {
            // Blank input is a person who has not typed yet; only punctuation or symbols is input
            // we cannot read, which a human should look at.
            let unreadable = !query.trim().is_empty();
            return self.popular_answer(shown_query, limit, parsed.human || unreadable);
        }

        let scored = self.candidates(&parsed, limit).unwrap_or_default();
        let best = scored.first().map_or(0.0, |s| s.score);
        let matched = !parsed.truncated && !parsed.units.is_empty() && best >= CONFIDENCE_THRESHOLD;
        let learned = self.learned_answer(&shown_query);
        let route = if learned.is_some() { None } else { self.route(&shown_query, matched) };
        let confident = matched || route.is_some() || learned.is_some();
        let follow_up = if confident && route.is_none() { self.follow_up(&scored) } else { None };
        let mut results: Vec<Hit> =
            scored.iter().take(limit).map(|s| self.hit(s, &scored, &parsed)).collect();
        if let Some(hit) = route.and_then(|r| self.route_hit(r, best)) {
            results.retain(|h| h.code != hit.code);
            results.insert(0, hit);
            results.truncate(limit);
        }
        if let Some(l) = learned {
            let first: Vec<Hit> = l.entries.iter().filter_map(|&i| self.learned_hit(i, best)).collect();
            results.retain(|h| !first.iter().any(|f| f.code == h.code));
            results.splice(0..0, first);
            results.truncate(limit);
        }
        let (note_zh, note_en) = if let Some(r) = route {
            let (zh, en) = route_note(r);
            (Some(zh.to_owned()), Some(en.to_owned()))
        } else if parsed.truncated {
            (
                Some(format!("问题较长，只按前{}个字检索。", super::query::MAX_QUERY_CHARS)),
                Some(format!(
                    "Long question: only its first {} characters were searched.",
                    super::query::MAX_QUERY_CHARS
                )),
            )
        } else if !confident {
            (
                Some("没有找到把握较大的事项，建议转人工导办。".to_owned()),
                Some("No confident match; a human guide can help.".to_owned()),
            )
        } else {
            (None, None)
        };
        GuideAnswer {
            query: shown_query,
            results,
            follow_up,
            confident,
            hand_off_suggested: !confident || parsed.human,
            route,
            note_zh,
            note_en,
        }
    }

    /// Where the question belongs besides the catalogue, if the catalogue has that service.
    fn route(&self, query: &str, confident: bool) -> Option<Route> {
        let route = super::intent::route(query, confident)?;
        let present = match route {
            Route::Complaint => self.complaint_entry.is_some(),
            Route::Help => self.help_entry.is_some(),
        };
        present.then_some(route)
    }

    /// An entry an officer gave for the same question, as a first result.
    fn learned_hit(&self, idx: usize, best: f32) -> Option<Hit> {
        let e = self.entries.get(idx)?;
        Some(Hit {
            kind: e.kind,
            code: e.code.clone(),
            name: e.name.clone(),
            score: best.clamp(CONFIDENCE_THRESHOLD, 1.0),
            reason_zh: "导办员解答过同样的问题".to_owned(),
            reason_en: "a guidance officer answered the same question with it".to_owned(),
        })
    }

    /// The service a route leads to, as the first result.
    /// It scores as the best catalogue answer did, at least the confidence threshold.
    fn route_hit(&self, route: Route, best: f32) -> Option<Hit> {
        let idx = match route {
            Route::Complaint => self.complaint_entry?,
            Route::Help => self.help_entry?,
        };
        let e = self.entries.get(idx)?;
        let (zh, en) = match route {
            Route::Complaint => (
                "像是在反映问题：可以向12345热线反映，由负责的部门限时办理",
                "reads like a complaint: 12345 passes it to the department responsible",
            ),
            Route::Help => {
                ("需要有人帮您办：帮办代办免费协助", "you want someone to help: assisted service is free")
            }
        };
        Some(Hit {
            kind: e.kind,
            code: e.code.clone(),
            name: e.name.clone(),
            score: best.clamp(CONFIDENCE_THRESHOLD, 1.0),
            reason_zh: zh.to_owned(),
            reason_en: en.to_owned(),
        })
    }

    fn popular_answer(&self, query: String, limit: usize, hand_off: bool) -> GuideAnswer {
        let results = self
            .popular
            .iter()
            .take(limit)
            .filter_map(|&i| self.entries.get(i))
            .map(|e| Hit {
                kind: e.kind,
                code: e.code.clone(),
                name: e.name.clone(),
                score: 0.0,
                reason_zh: "常办事项".to_owned(),
                reason_en: "frequently used service".to_owned(),
            })
            .collect();
        GuideAnswer {
            query,
            results,
            follow_up: None,
            confident: false,
            hand_off_suggested: hand_off,
            route: None,
            note_zh: Some("请输入您要办的事，例如“开个小饭馆要办什么”。以下是常办事项。".to_owned()),
            note_en: Some(
                "Tell us what you need, e.g. \"open a small restaurant\". Popular services:".to_owned(),
            ),
        }
    }

    /// BM25 candidates, re-scored and sorted best first.
    fn candidates(&self, parsed: &Parsed, limit: usize) -> tantivy::Result<Vec<Scored>> {
        let query = self.build_query(parsed);
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&query, &TopDocs::with_limit((limit * 3).max(MIN_CANDIDATES)).order_by_score())?;
        let mut columns: HashMap<u32, tantivy::columnar::Column<u64>> = HashMap::new();
        let mut raw: Vec<(f32, usize)> = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let column = match columns.entry(addr.segment_ord) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(searcher.segment_reader(addr.segment_ord).fast_fields().u64("ord")?)
                }
            };
            if let Some(i) = column.first(addr.doc_id) {
                raw.push((score, i as usize));
            }
        }
        let max_bm25 = raw.iter().map(|(s, _)| *s).fold(0.0_f32, f32::max);
        let mut scored: Vec<Scored> = raw
            .into_iter()
            .filter_map(|(bm25, i)| {
                let e = self.entries.get(i)?;
                Some(score_entry(e, i, bm25, max_bm25, parsed))
            })
            .collect();
        scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.idx.cmp(&b.idx)));
        Ok(scored)
    }

    fn build_query(&self, parsed: &Parsed) -> BooleanQuery {
        let f = self.fields;
        let mut term_weights: HashMap<String, f32> = HashMap::new();
        for unit in &parsed.units {
            for (k, (alt, _)) in unit.alts.iter().enumerate() {
                let w = if unit.from_synonym && k > 0 { W_EXPANSION } else { 1.0 };
                for t in segment(&alt.to_lowercase(), true) {
                    let slot = term_weights.entry(t).or_insert(0.0);
                    *slot = slot.max(w);
                }
            }
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (t, w) in &term_weights {
            for (field, fw) in [
                (f.name, W_NAME),
                (f.keywords, W_KEYWORDS),
                (f.life_event, W_LIFE_EVENT),
                (f.department, W_DEPARTMENT),
                (f.body, W_BODY),
            ] {
                let tq = TermQuery::new(Term::from_field_text(field, t), IndexRecordOption::WithFreqs);
                clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(tq), w * fw))));
            }
        }
        // Character bigrams catch words jieba splits differently (and some typos).
        let chars: Vec<char> = parsed.core.chars().collect();
        let mut grams: Vec<String> = chars
            .windows(2)
            .filter(|w| w.iter().all(|c| !c.is_whitespace()))
            .map(|w| w.iter().collect())
            .collect();
        grams.sort();
        grams.dedup();
        for g in grams {
            let tq = TermQuery::new(Term::from_field_text(f.grams, &g), IndexRecordOption::WithFreqs);
            clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(tq), W_GRAMS))));
        }
        BooleanQuery::new(clauses)
    }

    fn hit(&self, s: &Scored, all: &[Scored], parsed: &Parsed) -> Hit {
        let Some(e) = self.entries.get(s.idx) else {
            return Hit {
                kind: HitKind::Item,
                code: String::new(),
                name: String::new(),
                score: 0.0,
                reason_zh: String::new(),
                reason_en: String::new(),
            };
        };
        let mut zh = Vec::new();
        let mut en = Vec::new();
        if let Some(k) = &s.keyword {
            zh.push(format!("匹配关键词“{k}”"));
            en.push(format!("matched keyword {k}"));
        } else if let Some(n) = &s.name_match {
            zh.push(format!("名称包含“{n}”"));
            en.push(format!("name contains {n}"));
        } else if !s.matched.is_empty() {
            let m = s.matched.join("、");
            zh.push(format!("与“{m}”相关"));
            en.push(format!("related to {}", s.matched.join(", ")));
        } else {
            zh.push("内容相关".to_owned());
            en.push("related text".to_owned());
        }
        match e.kind {
            HitKind::Item => {
                // Prefer a bundle that is itself in the results; else any bundle that has it.
                let bundle = e
                    .related
                    .iter()
                    .find(|b| all.iter().any(|x| x.idx == **b))
                    .or_else(|| e.related.first())
                    .and_then(|b| self.entries.get(*b));
                if let Some(b) = bundle {
                    zh.push(format!("属于“{}”", b.name));
                    en.push(format!("part of the bundle {}", b.name));
                }
            }
            HitKind::Bundle => {
                zh.push(format!("一件事打包办理，含{}个事项", e.related.len()));
                en.push(format!("\"one thing\" bundle of {} items", e.related.len()));
                if parsed.broad {
                    zh.push("适合“要办哪些”类问题".to_owned());
                    en.push("answers a what-do-I-need question".to_owned());
                }
            }
        }
        Hit {
            kind: e.kind,
            code: e.code.clone(),
            name: e.name.clone(),
            score: s.score,
            reason_zh: zh.join("；"),
            reason_en: en.join("; "),
        }
    }

    /// A clarifying question when results close to the best one differ in audience or life event.
    fn follow_up(&self, scored: &[Scored]) -> Option<FollowUp> {
        let top = scored.first()?;
        let te = self.entries.get(top.idx)?;
        let close: Vec<&Entry> = scored
            .iter()
            .skip(1)
            .take_while(|s| s.score >= top.score * CLOSE_RATIO)
            // An exact keyword hit on the best result alone is a clear reading of the query.
            .filter(|s| top.keyword.is_none() || s.keyword.is_some())
            .filter_map(|s| self.entries.get(s.idx).map(|e| (s.idx, e)))
            // A bundle and its own items are one answer, not two readings of the query.
            .filter(|(i, e)| !te.related.contains(i) && !e.related.contains(&top.idx))
            .map(|(_, e)| e)
            .collect();
        let differs_audience = close.iter().any(|e| e.audience != te.audience);
        let differs_event = close.iter().any(|e| e.life_event != te.life_event);
        if !differs_audience && !differs_event {
            return None;
        }
        let mut options = Vec::new();
        for e in std::iter::once(te).chain(close.iter().copied()) {
            let label = short_name(&e.name).to_owned();
            if options.iter().any(|o: &FollowUpOption| o.label_zh == label) {
                continue;
            }
            options.push(FollowUpOption {
                label_zh: label.clone(),
                label_en: format!("{label} ({})", audience_en(&e.audience)),
                refined_query: e.name.clone(),
            });
            if options.len() == 4 {
                break;
            }
        }
        if options.len() < 2 {
            return None;
        }
        let (question_zh, question_en) = if differs_audience {
            (
                "您是以个人（含个体户）还是企业身份办理？请选择最接近的一项：",
                "Are you applying as a person (or sole trader) or as a company? Pick the closest:",
            )
        } else {
            ("您要办的是下面哪一项？", "Which of these do you mean?")
        };
        Some(FollowUp { question_zh: question_zh.to_owned(), question_en: question_en.to_owned(), options })
    }
}

fn audience_en(audience: &str) -> &'static str {
    match audience {
        "person" => "for persons",
        "enterprise" => "for businesses",
        _ => "for persons and businesses",
    }
}

/// A candidate with its final score and what matched.
#[derive(Debug, Clone)]
struct Scored {
    idx: usize,
    score: f32,
    keyword: Option<String>,
    name_match: Option<String>,
    matched: Vec<String>,
}

/// Share of the query's units found in `hay` (0..1), with the matched unit texts.
fn coverage(hay: &str, parsed: &Parsed) -> (f32, Vec<String>) {
    let mut total = 0.0;
    let mut got = 0.0;
    let mut matched = Vec::new();
    for u in &parsed.units {
        total += u.weight;
        let credit =
            u.alts.iter().filter(|(a, _)| hay.contains(a.as_str())).map(|(_, c)| *c).fold(0.0, f32::max);
        if credit > 0.0 {
            got += credit * u.weight;
            matched.push(u.text.clone());
        }
    }
    if total == 0.0 { (0.0, matched) } else { (got / total, matched) }
}

/// The final score; the weights were tuned on the eval set's tuning part.
fn score_entry(e: &Entry, idx: usize, bm25: f32, max_bm25: f32, parsed: &Parsed) -> Scored {
    let rel = if max_bm25 > 0.0 { bm25 / max_bm25 } else { 0.0 };
    let (cov, matched) = coverage(&e.hay, parsed);
    let (name_cov, _) = coverage(&e.name_lc, parsed);
    // An exact keyword hit: the person said a phrase the catalogue lists for this item.
    let keyword = e
        .keywords
        .iter()
        .filter(|k| {
            k.chars().count() >= 2
                && (parsed.cleaned.contains(k.as_str())
                    || parsed.units.iter().any(|u| u.alts.iter().any(|(a, c)| *c >= 1.0 && a == *k)))
        })
        .max_by_key(|k| k.chars().count())
        .cloned();
    let name_match = parsed
        .units
        .iter()
        .flat_map(|u| u.alts.iter())
        .filter(|(a, _)| a.chars().count() >= 2 && e.name_lc.contains(a.as_str()))
        .max_by_key(|(a, _)| a.chars().count())
        .map(|(a, _)| a.clone());
    let mut score = 0.25 * rel + 0.40 * cov + 0.15 * name_cov + if keyword.is_some() { 0.2 } else { 0.0 };
    score += match (parsed.audience, e.audience.as_str()) {
        (Some(AudienceHint::Enterprise), "enterprise") | (Some(AudienceHint::Person), "person") => 0.04,
        (Some(_), "both") => 0.02,
        (Some(_), _) => -0.06,
        (None, _) => 0.0,
    };
    if e.kind == HitKind::Bundle {
        score += if parsed.broad { 0.12 } else { -0.04 };
    }
    Scored { idx, score: score.clamp(0.0, 1.0), keyword, name_match, matched }
}

/// What the guide says when a question belongs with 12345 or 帮办代办.
fn route_note(route: Route) -> (&'static str, &'static str) {
    match route {
        Route::Complaint => (
            "您说的像是需要有关部门处理的问题，可以向12345反映（网上“我要反映”或拨打12345），1个工作日内响应。",
            "This sounds like a problem for a department to put right: report it to 12345 (online, or call 12345); it is answered within one working day.",
        ),
        Route::Help => (
            "需要有人帮您办？帮办代办免费：帮办员可以陪同办理、协助填表和网上申报，也可以上门服务。",
            "Want someone to help? Assisted service is free: an officer can go through it with you, fill in forms and apply online for you, or come to you.",
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::guide::eval::{evaluate, shipped_queries};
    use crate::reference::data::shipped;

    fn index() -> GuideIndex {
        let d = shipped().unwrap();
        GuideIndex::build(&d.catalog.items, &d.bundles, &d.departments).unwrap()
    }

    fn top3(a: &GuideAnswer) -> Vec<&str> {
        a.results.iter().take(3).map(|h| h.code.as_str()).collect()
    }

    #[test]
    fn example_queries_rank_the_right_thing() {
        let idx = index();
        let a = idx.search("开个小饭馆要办什么", 5);
        assert!(top3(&a).contains(&"JN-YJS-002"), "{a:#?}");
        let a = idx.search("孩子刚出生要办哪些证", 5);
        assert_eq!(a.results[0].code, "JN-YJS-010", "{a:#?}");
        assert_eq!(a.results[0].kind, HitKind::Bundle);
        let a = idx.search("公积金怎么取出来", 5);
        let withdrawals = ["JN-GJJ-0003", "JN-GJJ-0004", "JN-GJJ-0005", "JN-GJJ-0006"];
        assert!(top3(&a).iter().any(|c| withdrawals.contains(c)), "{a:#?}");
        assert!(a.confident);
        assert!(!a.results[0].reason_zh.is_empty() && !a.results[0].reason_en.is_empty());
    }

    #[test]
    fn reasons_name_the_keyword_and_bundle() {
        let a = index().search("开饭店办证", 5);
        let hit = a.results.iter().find(|h| h.code == "JN-SPJ-0003").unwrap();
        assert!(hit.reason_zh.contains("匹配关键词“开饭店办证”"), "{}", hit.reason_zh);
        assert!(hit.reason_zh.contains("属于“开餐馆一件事”"), "{}", hit.reason_zh);
    }

    #[test]
    fn empty_long_and_nonsense_queries_are_handled() {
        let idx = index();
        let a = idx.search("   ", 5);
        assert!(!a.results.is_empty() && !a.hand_off_suggested && !a.confident && a.note_zh.is_some());
        let long = "我想开个小饭馆".repeat(100);
        let a = idx.search(&long, 5);
        assert!(a.hand_off_suggested && !a.confident);
        assert_eq!(a.query.chars().count(), 200);
        for q in ["asdfghjkl", "？？？！！", "的的的了了", "qwerty 12345678"] {
            let a = idx.search(q, 5);
            assert!(a.hand_off_suggested, "{q}: {a:#?}");
        }
        assert!(!idx.search("身份证丢了", 0).results.is_empty(), "limit 0 is treated as 1");
    }

    #[test]
    fn asking_for_a_human_suggests_hand_off() {
        let idx = index();
        for q in ["转人工", "身份证丢了，我要找客服", "有没有真人"] {
            assert!(idx.search(q, 5).hand_off_suggested, "{q}");
        }
    }

    #[test]
    fn ambiguous_query_gets_a_follow_up() {
        let idx = index();
        let a = idx.search("营业执照", 5);
        let f = a.follow_up.clone().unwrap_or_else(|| panic!("{a:#?}"));
        assert!(f.options.len() >= 2);
        let refined = idx.search(&f.options[1].refined_query, 3);
        assert!(!refined.results.is_empty());
    }

    #[test]
    fn eval_accuracy_on_shipped_catalog() {
        let report = evaluate(&index(), &shipped_queries().unwrap());
        assert!(report.n >= 170);
        assert!(report.top3 >= 0.9, "top3 {} misses {:#?}", report.top3, report.misses);
    }

    /// The everyday set was written apart from the synonyms and never tuned on (its `note`);
    /// the floors are below what it scores (department 0.93 top 3, complaint 0.92 top 1, help
    /// 0.88 top 1 and 1.00 top 3 at this stop), so a change that loses ground fails.
    #[test]
    fn everyday_questions_by_group() {
        let report =
            crate::guide::eval::evaluate_everyday(shared(), &crate::guide::eval::everyday_queries().unwrap());
        let group = |g: &str| report.iter().find(|(name, _)| name == g).map(|(_, r)| r.clone()).unwrap();
        let department = group("department");
        assert!(department.top3 >= 0.89, "{department:#?}");
        let complaint = group("complaint");
        assert!(complaint.top1 >= 0.9, "{complaint:#?}");
        let help = group("help");
        assert!(help.top1 >= 0.85 && help.top3 >= 0.99, "{help:#?}");
    }

    /// Service questions of the first set are not sent to 12345 or 帮办代办, except those that
    /// are complaints or requests for help themselves.
    #[test]
    fn service_questions_are_not_routed_away() {
        let idx = shared();
        let routed: Vec<(String, Vec<String>)> = shipped_queries()
            .unwrap()
            .into_iter()
            .filter(|q| idx.search(&q.q, 3).route.is_some())
            .map(|q| (q.q, q.expect))
            .collect();
        let wrongly: Vec<&(String, Vec<String>)> = routed
            .iter()
            .filter(|(_, expect)| !expect.iter().any(|c| c == "JN-12345-0001" || c == "JN-HYZWZX-0001"))
            .collect();
        assert!(wrongly.len() <= 2, "{wrongly:#?}");
    }

    #[test]
    fn eval_codes_exist() {
        let d = shipped().unwrap();
        for q in shipped_queries().unwrap() {
            for c in &q.expect {
                let known =
                    d.catalog.items.iter().any(|i| &i.code == c) || d.bundles.iter().any(|b| &b.code == c);
                assert!(known, "{c} in {}", q.q);
            }
        }
    }

    #[test]
    fn duplicate_codes_are_rejected() {
        let d = shipped().unwrap();
        let mut items = d.catalog.items.clone();
        items.push(items[0].clone());
        assert!(matches!(
            GuideIndex::build(&items, &d.bundles, &d.departments),
            Err(GuideError::DuplicateCode(_))
        ));
    }

    #[test]
    fn synthetic_catalog_is_deterministic_and_indexable() {
        let a = crate::guide::synthetic_catalog(600, 7);
        assert_eq!(a, crate::guide::synthetic_catalog(600, 7));
        assert_eq!(a.len(), 600);
        let d = shipped().unwrap();
        let idx = GuideIndex::build(&a, &d.bundles, &d.departments).unwrap();
        assert_eq!(idx.len(), 620);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        #[test]
        fn never_panics(q in "\\PC{0,300}", limit in 0usize..30) {
            let idx = shared();
            let a = idx.search(&q, limit);
            proptest::prop_assert!(a.results.len() <= limit.max(1));
            proptest::prop_assert!(a.results.iter().all(|h| (0.0..=1.0).contains(&h.score)));
        }
    }

    fn shared() -> &'static GuideIndex {
        static INDEX: std::sync::OnceLock<GuideIndex> = std::sync::OnceLock::new();
        INDEX.get_or_init(index)
    }

    #[test]
    fn random_mixed_strings_never_panic() {
        let idx = shared();
        let alphabet: Vec<char> =
            "开个小饭馆公积金身份证丢了怎么办人工吗呢的 ＡＢａｂ12（）!？\u{3000}\u{FF5E}\u{0}é🙂"
                .chars()
                .collect();
        let mut state = 12345u64;
        for _ in 0..300 {
            let mut s = String::new();
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let len = (state >> 33) % 260;
            for _ in 0..len {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                s.push(alphabet[((state >> 33) as usize) % alphabet.len()]);
            }
            let _ = idx.search(&s, 5);
        }
    }
}
