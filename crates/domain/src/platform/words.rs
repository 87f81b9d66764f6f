//! Chinese word segmentation (jieba) for the areas that match people's own wording. The
//! dictionary is loaded once per process, on first use, and shared by every area and by the
//! guide's tantivy index ([`JiebaTokenizer`]): a second copy would cost tens of megabytes.

use std::io::BufReader;
use std::sync::LazyLock;

use jieba_rs::{Jieba, TokenizeMode};
use tantivy_tokenizer_api::{Token, TokenStream, Tokenizer};

/// jieba's default dictionary, gzip-compressed (`reference/jieba/README.md` says why it is here).
const DICTIONARY: &[u8] = include_bytes!("../../../../reference/jieba/dict.txt.gz");

static JIEBA: LazyLock<Jieba> = LazyLock::new(|| {
    let mut reader = BufReader::new(flate2::read::GzDecoder::new(DICTIONARY));
    // The file is embedded and covered by a test; failing here is a broken build, not input.
    Jieba::with_dict(&mut reader).expect("the embedded jieba dictionary loads")
});

/// A word of a text and where it is: byte offsets in the text and its character positions.
struct Word<'t> {
    text: &'t str,
    offset_from: usize,
    start: usize,
    end: usize,
}

/// Segments `text`: jieba's HMM on, `search` also yielding the shorter words inside long ones
/// (jieba's `cut_for_search`).
fn words(text: &str, search: bool) -> Vec<Word<'_>> {
    let mode = if search { TokenizeMode::Search } else { TokenizeMode::Default };
    JIEBA
        .tokenize(text, mode, true)
        .into_iter()
        .map(|token| Word {
            text: token.word,
            // jieba's tokens borrow from `text`; their distance from its start is the offset.
            offset_from: token.word.as_ptr() as usize - text.as_ptr() as usize,
            start: token.start,
            end: token.end,
        })
        .collect()
}

/// The words of `text` as jieba gives them, blanks dropped; `search` mode also yields the
/// shorter words inside longer ones.
pub fn segment(text: &str, search: bool) -> Vec<String> {
    words(text, search)
        .into_iter()
        .map(|w| w.text.trim())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The words of `text` in search mode (long words and their parts), lower-cased, without
/// punctuation, digits and blanks; repeats kept.
pub fn search_words(text: &str) -> Vec<String> {
    words(text, true)
        .into_iter()
        .map(|w| w.text.trim())
        .filter(|w| !w.is_empty() && w.chars().any(char::is_alphabetic))
        .map(str::to_lowercase)
        .collect()
}

/// The shared jieba as a tantivy tokenizer (search mode, positions in characters), for the
/// guide's index.
#[derive(Clone, Default)]
pub struct JiebaTokenizer;

impl Tokenizer for JiebaTokenizer {
    type TokenStream<'t> = JiebaTokenStream;

    fn token_stream(&mut self, text: &str) -> JiebaTokenStream {
        let tokens = words(text, true)
            .into_iter()
            .map(|w| Token {
                offset_from: w.offset_from,
                offset_to: w.offset_from + w.text.len(),
                position: w.start,
                text: w.text.to_owned(),
                position_length: w.end - w.start,
            })
            .collect();
        JiebaTokenStream { tokens, next: 0 }
    }
}

pub struct JiebaTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for JiebaTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
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

    #[test]
    fn the_whole_dictionary_is_loaded() {
        // Words only the full dictionary knows come out whole, not cut by the HMM alone.
        assert_eq!(segment("营业执照", false), ["营业执照"]);
        // jieba's own example sentence, as its README segments it.
        assert_eq!(segment("我来到北京清华大学", false), ["我", "来到", "北京", "清华大学"]);
    }

    #[test]
    fn the_tokenizer_gives_offsets_and_positions_of_each_word() {
        let text = "办理营业执照";
        let mut stream = JiebaTokenizer.token_stream(text);
        let mut seen = Vec::new();
        while stream.advance() {
            let t = stream.token();
            assert_eq!(&text[t.offset_from..t.offset_to], t.text);
            seen.push((t.text.clone(), t.position, t.position_length));
        }
        assert!(seen.contains(&("办理".to_string(), 0, 2)), "{seen:?}");
        assert!(seen.contains(&("营业执照".to_string(), 2, 4)), "{seen:?}");
    }
}
