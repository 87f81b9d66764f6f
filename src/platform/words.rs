//! Chinese word segmentation (jieba) for the areas that match people's own wording: one
//! dictionary in memory, loaded on first use, shared by all of them.

use std::sync::LazyLock;

static JIEBA: LazyLock<jieba_rs::Jieba> = LazyLock::new(jieba_rs::Jieba::new);

/// The shared segmenter.
pub fn jieba() -> &'static jieba_rs::Jieba {
    &JIEBA
}

/// The words of `text` in search mode (long words and their parts), lower-cased, without
/// punctuation, digits and blanks; repeats kept.
pub fn search_words(text: &str) -> Vec<String> {
    jieba()
        .cut_for_search(text, true)
        .into_iter()
        .map(|t| t.word.trim())
        .filter(|w| !w.is_empty() && w.chars().any(char::is_alphabetic))
        .map(str::to_lowercase)
        .collect()
}
