//! Control characters (NUL and the rest of C0/C1, DEL) are refused in every text a client sends:
//! PostgreSQL cannot store NUL at all, and SQLite would keep it and hand it to every later
//! reader. Tab, line feed and carriage return stay allowed (text areas). One check for the whole
//! router, in front of every handler: JSON bodies, form bodies and query strings.

use serde_json::Value;

use super::{ApiError, FieldError};

fn forbidden(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

fn has_forbidden(s: &str) -> bool {
    s.chars().any(forbidden)
}

/// The fields (paths such as `form.contact_name` or `materials[0]`) whose text holds a control
/// character, in document order.
pub fn json_fields_with_control(v: &Value) -> Vec<String> {
    fn walk(v: &Value, path: &str, out: &mut Vec<String>) {
        match v {
            Value::String(s) if has_forbidden(s) => {
                out.push(if path.is_empty() { "body".into() } else { path.into() })
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}[{i}]"), out);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    let here = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    if has_forbidden(k) {
                        out.push(here.clone());
                    }
                    walk(item, &here, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "", &mut out);
    out
}

/// Whether a JSON text may hold a control character inside a string: C0 characters must be
/// escaped (`\u0000`–`\u001f`, or the short `\b` and `\f`), DEL and C1 may come escaped or raw
/// (`0x7f`, UTF-8 `c2 80`–`c2 9f`).
/// A cheap scan that lets nearly every body through without parsing it twice.
pub fn json_may_hold_control(bytes: &[u8]) -> bool {
    let raw = bytes.iter().enumerate().any(|(i, b)| {
        *b == 0x7f || (*b == 0xc2 && bytes.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)))
    });
    let short = bytes.windows(2).any(|w| w[0] == b'\\' && matches!(w[1], b'b' | b'f'));
    raw || short
        || bytes.windows(5).any(|w| {
            w[0] == b'\\'
                && w[1] == b'u'
                && w[2] == b'0'
                && (matches!(w[3], b'0' | b'1' | b'8' | b'9')
                    || (w[3] == b'7' && matches!(w[4], b'f' | b'F')))
        })
}

/// The names of form or query fields whose name or value holds a control character.
pub fn pairs_with_control(pairs: &[(String, String)]) -> Vec<String> {
    pairs.iter().filter(|(k, v)| has_forbidden(k) || has_forbidden(v)).map(|(k, _)| k.clone()).collect()
}

/// The 422 answer naming each field.
pub fn refusal(fields: Vec<String>) -> ApiError {
    let mut seen = Vec::new();
    let errors = fields
        .into_iter()
        .filter(|f| {
            let new = !seen.contains(f);
            seen.push(f.clone());
            new
        })
        .map(|f| {
            FieldError::new(
                &f,
                "control_characters",
                format!("字段 {f} 含有不允许的控制字符（如空字符）"),
                format!("Field {f} contains control characters (such as NUL), which are not allowed"),
            )
        })
        .collect();
    ApiError::Validation(errors)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn control_characters_are_found_by_path() {
        let v = json!({"name": "张\u{0}伟", "form": {"note": "第一行\n第二行\t", "phone": "138\u{7}"}, "list": ["ok", "x\u{85}"]});
        assert_eq!(json_fields_with_control(&v), ["name", "form.phone", "list[1]"]);
        assert!(json_fields_with_control(&json!({"a": "正常文字\r\n"})).is_empty());
        assert_eq!(json_fields_with_control(&json!({"a\u{0}": 1})), ["a\u{0}"]);
    }

    #[test]
    fn the_byte_scan_finds_every_escaped_control_character() {
        for c in (0u32..0x20).chain([0x7f]).chain(0x80..0xa0) {
            let text =
                serde_json::to_string(&json!({ "x": format!("a{}b", char::from_u32(c).unwrap()) })).unwrap();
            let value: Value = serde_json::from_str(&text).unwrap();
            let found = !json_fields_with_control(&value).is_empty();
            // Whatever the parse finds, the scan flagged first (tab, LF, CR are allowed anyway).
            assert!(!found || json_may_hold_control(text.as_bytes()), "U+{c:04X} in {text}");
            // Unescaped, as JSON allows for DEL and C1: the scan flags those too.
            let raw = format!("{{\"x\":\"a{}b\"}}", char::from_u32(c).unwrap());
            if let Ok(v) = serde_json::from_str::<Value>(&raw) {
                let found = !json_fields_with_control(&v).is_empty();
                assert!(!found || json_may_hold_control(raw.as_bytes()), "raw U+{c:04X}");
            }
        }
        assert!(!json_may_hold_control("{\"name\":\"张伟\",\"n\":\"\\u4e2d\"}".as_bytes()));
    }

    #[test]
    fn form_fields_are_named() {
        let pairs = vec![("name".to_string(), "a\u{0}".to_string()), ("ok".into(), "fine".into())];
        assert_eq!(pairs_with_control(&pairs), ["name"]);
    }
}
