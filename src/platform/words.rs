//! Chinese word segmentation (jieba) for the areas that match people's own wording. Every area
//! segments through the guide's tantivy tokenizer, whose dictionary is loaded once per process
//! (on first use) and shared: a second copy would cost tens of megabytes for nothing.

use tantivy::tokenizer::{TokenStream, Tokenizer};

/// The words of `text` in search mode (long words and their parts, as jieba's
/// `cut_for_search` with its HMM gives them), lower-cased, without punctuation, digits and
/// blanks; repeats kept.
pub fn search_words(text: &str) -> Vec<String> {
    let mut tokenizer = tantivy_jieba::JiebaTokenizer::with_search_mode(true);
    let mut stream = tokenizer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let word = stream.token().text.trim();
        if !word.is_empty() && word.chars().any(char::is_alphabetic) {
            out.push(word.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_segmented_in_search_mode_without_punctuation_or_digits() {
        let words = search_words("中华人民共和国，2026年 Hello");
        assert!(words.contains(&"中华人民共和国".to_string()), "{words:?}");
        assert!(words.contains(&"中华".to_string()), "search mode gives the parts too: {words:?}");
        assert!(words.contains(&"hello".to_string()));
        assert!(!words.iter().any(|w| w == "，" || w == "2026"), "{words:?}");
    }
}
