//! Checked identity value types: resident ID numbers, unified social credit
//! codes, mobile numbers, personal names and new passwords.
//!
//! # Parse, don't validate
//!
//! Raw text from a form or an API request is turned into one of these types
//! exactly once, at the edge, by its `parse` function. Everything further in
//! takes the checked type, so no handler, service or repository has to ask
//! again "is this string really an ID number?", and a value that failed the
//! checks cannot reach them at all. Each constructor normalises as well as
//! checks (trimming, upper-casing, folding full-width characters, dropping
//! phone prefixes), so two spellings of the same number compare equal.
//!
//! # Personal data
//!
//! ID numbers and phone numbers are personal information (《个人信息保护法》).
//! They tend to leak through logs, so:
//!
//! * `Debug` prints the masked form, never the raw value;
//! * there is no `Display` and no `Serialize` for the raw value; code that
//!   really needs it (storage, an upstream verification call) asks for it by
//!   name with `as_str()`, which is easy to find in review;
//! * error values never carry the rejected input, only positions and counts,
//!   because errors get logged too.
//!
//! Credit codes are public (they are printed on business licences), so
//! [`CreditCode`] has `Display` and `Serialize`.
//!
//! # Errors
//!
//! Every type has its own error enum. Each error has a stable snake_case
//! [`code`](IdNumberError::code) for API clients and metrics, and
//! citizen-facing messages in Chinese (`message_zh`) and English
//! (`message_en`, also the `Display` text).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use thiserror::Error;

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/// Folds full-width ASCII forms (U+FF01..=U+FF5E) to ASCII.
///
/// Chinese input methods in full-width mode produce `１１０１０５…` or `＋８６`;
/// these are the same characters to the citizen typing them, so rejecting them
/// as "invalid characters" would only be confusing.
fn fold_full_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

// ---------------------------------------------------------------------------
// IdNumber (GB 11643-1999)
// ---------------------------------------------------------------------------

/// Weights of the ISO 7064 MOD 11-2 check used by GB 11643-1999
/// (2^(18-i) mod 11 for position i).
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// Check character for each value of the weighted sum mod 11.
const ID_CHECK_MAP: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Earliest birth date accepted. Older dates are almost certainly typos
/// (e.g. `1090` for `1990`), and nobody alive now was born before it.
const ID_EARLIEST_BIRTH: (i32, u32, u32) = (1900, 1, 1);

/// Whether the first two digits are a province-level code that appears in
/// resident ID numbers.
///
/// The set is GB/T 2260's province-level divisions (11-15, 21-23, 31-37,
/// 41-46, 50-54, 61-65, 71 Taiwan, 81 Hong Kong, 82 Macao) plus 83, which is
/// used by the residence permits for Taiwan residents (台湾居民居住证, 830000);
/// Hong Kong and Macao residents' permits use 810000 and 820000.
///
/// 91 is deliberately *not* accepted: it only appeared as "abroad" in old
/// drafts of GB/T 2260 and no resident ID number is issued with it. The 2023
/// Foreign Permanent Resident ID Card also begins with 9, but it is a
/// different document with its own layout and must not pass as a resident ID.
fn is_id_province(code: u32) -> bool {
    matches!(
        code,
        11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81..=83
    )
}

/// Computes the GB 11643-1999 check character for the first 17 characters of
/// an ID number.
///
/// Returns `None` unless `first17` is exactly 17 ASCII digits. Only the
/// checksum is computed: region and birth date are not looked at, so test-data
/// generators can use it for any body.
///
/// For example, the GB 11643 sample body `11010519491231002` gives `'X'`.
pub fn id_number_check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes.iter().zip(ID_WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    ID_CHECK_MAP.get((sum % 11) as usize).copied()
}

/// An 18-character mainland resident ID number (居民身份证号码) that has passed
/// every GB 11643-1999 check.
///
/// Layout: 6-digit administrative region code, 8-digit birth date
/// (`YYYYMMDD`), 3-digit sequence number (odd for men, even for women) and a
/// MOD 11-2 check character (`0`-`9` or `X`).
///
/// Holding an `IdNumber` means: 18 characters, a known province code, a real
/// birth date between 1900-01-01 and today (China time), and a correct check
/// character. A lowercase `x` is normalised to `X`.
///
/// The raw number is personal information: `Debug` prints [`masked`], there is
/// no `Display` and no `Serialize`. Use [`as_str`] to store it.
/// `Deserialize` goes through [`IdNumber::parse`], so a request body cannot
/// smuggle in an unchecked number.
///
/// Passing the checks does not prove the number was ever issued or belongs to
/// the person presenting it; that needs the real-name verification service.
///
/// [`masked`]: IdNumber::masked
/// [`as_str`]: IdNumber::as_str
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber {
    /// Always 18 ASCII characters, uppercase `X` only.
    value: String,
    /// Decoded once at parse time so the accessor cannot fail.
    birth_date: NaiveDate,
}

/// Why a string is not a valid [`IdNumber`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum IdNumberError {
    /// Nothing but whitespace was given.
    #[error("Please enter your ID number")]
    Empty,
    /// Not 18 characters (after trimming). Old 15-digit numbers are not
    /// accepted: they were withdrawn in 2013.
    #[error("An ID number has 18 characters, but {found} were entered")]
    Length {
        /// Number of characters entered.
        found: usize,
    },
    /// A character that is not allowed at its position: the first 17 must be
    /// digits, the last a digit or `X`.
    #[error(
        "Character {position} of the ID number is not allowed; only digits (and X as the last character) may be used"
    )]
    InvalidCharacter {
        /// 1-based position of the first offending character.
        position: usize,
    },
    /// The first six digits are not a plausible administrative region code.
    #[error("The region code (first six digits) of the ID number is not valid")]
    Region,
    /// Digits 7-14 are not a real calendar date (e.g. February 30).
    #[error("The birth date in the ID number (digits 7 to 14) is not a real date")]
    BirthDate,
    /// The birth date is before 1900-01-01 or after today.
    #[error("The birth date in the ID number (digits 7 to 14) is in the future or before 1900")]
    BirthDateOutOfRange,
    /// The check character does not match the other 17 digits; almost always
    /// a typo somewhere in the number.
    #[error("The ID number's check character is wrong; please check the number and enter it again")]
    CheckDigit,
}

impl IdNumberError {
    /// Stable machine-readable code, safe to use in API responses and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "id_number_empty",
            Self::Length { .. } => "id_number_length",
            Self::InvalidCharacter { .. } => "id_number_characters",
            Self::Region => "id_number_region",
            Self::BirthDate => "id_number_birth_date",
            Self::BirthDateOutOfRange => "id_number_birth_date_range",
            Self::CheckDigit => "id_number_check_digit",
        }
    }

    /// Message for citizens, in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            Self::Empty => "请输入身份证号码".to_owned(),
            Self::Length { found } => {
                format!("身份证号码应为18位，您输入了{found}位，请核对后重新输入")
            }
            Self::InvalidCharacter { position } => {
                format!("身份证号码第{position}位包含无效字符，只能填写数字，最后一位可以是数字或字母X")
            }
            Self::Region => "身份证号码前6位地区代码不正确，请核对后重新输入".to_owned(),
            Self::BirthDate => "身份证号码中的出生日期（第7至14位）不是有效日期，请核对后重新输入".to_owned(),
            Self::BirthDateOutOfRange => {
                "身份证号码中的出生日期（第7至14位）不在有效范围内，请核对后重新输入".to_owned()
            }
            Self::CheckDigit => "身份证号码校验位不正确，请核对后重新输入".to_owned(),
        }
    }

    /// Message for citizens, in English (same as `Display`).
    pub fn message_en(&self) -> String {
        self.to_string()
    }
}

impl IdNumber {
    /// Parses and checks an ID number; `today` (China's date, from the
    /// application's clock) rejects birth dates in the future.
    ///
    /// Surrounding whitespace is trimmed, full-width characters are folded to
    /// ASCII and a lowercase `x` becomes `X`.
    pub fn parse_as_of(input: &str, today: NaiveDate) -> Result<Self, IdNumberError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(IdNumberError::Empty);
        }
        let value: String = trimmed.chars().map(fold_full_width).map(|c| c.to_ascii_uppercase()).collect();

        let found = value.chars().count();
        if found != 18 {
            return Err(IdNumberError::Length { found });
        }
        // From here on the string is 18 chars; checking the characters first
        // makes it 18 ASCII bytes, so byte indexing below is safe.
        for (i, c) in value.chars().enumerate() {
            let ok = c.is_ascii_digit() || (i == 17 && c == 'X');
            if !ok {
                return Err(IdNumberError::InvalidCharacter { position: i + 1 });
            }
        }

        let digits = |range: std::ops::Range<usize>| -> u32 {
            value.as_bytes()[range].iter().fold(0, |acc, b| acc * 10 + u32::from(b - b'0'))
        };

        // Region and birth date are checked before the checksum: when one of
        // them is wrong, telling the citizen *which part* is wrong is more
        // useful than a generic "check character wrong".
        if !is_id_province(digits(0..2)) || digits(0..6) == 0 {
            return Err(IdNumberError::Region);
        }

        let year = digits(6..10);
        let birth_date = i32::try_from(year)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, digits(10..12), digits(12..14)))
            .ok_or(IdNumberError::BirthDate)?;
        let (ey, em, ed) = ID_EARLIEST_BIRTH;
        let earliest = NaiveDate::from_ymd_opt(ey, em, ed).unwrap_or(NaiveDate::MIN);
        if birth_date < earliest || birth_date > today {
            return Err(IdNumberError::BirthDateOutOfRange);
        }

        let expected = id_number_check_char(&value[..17]);
        if expected != value.chars().nth(17) {
            return Err(IdNumberError::CheckDigit);
        }

        Ok(Self { value, birth_date })
    }

    /// The full normalised number (18 characters, uppercase `X`).
    ///
    /// Only for storage and for calls that genuinely need it; never log it.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The number with its middle ten characters hidden, e.g.
    /// `1101**********002X`, as required for display on pages, receipts and in
    /// logs.
    pub fn masked(&self) -> String {
        // `value` is 18 ASCII bytes, so these slices are on char boundaries.
        format!("{}{}{}", &self.value[..4], "*".repeat(10), &self.value[14..])
    }

    /// The holder's birth date (digits 7-14).
    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// The holder's birth year, a convenience for age checks.
    pub fn birth_year(&self) -> i32 {
        self.birth_date.year()
    }

    /// Whether the sequence number (digit 17) is odd, which GB 11643 assigns
    /// to men.
    pub fn is_male(&self) -> bool {
        self.value.as_bytes()[16] % 2 == 1
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Masked on purpose: Debug output ends up in logs and panics.
        f.debug_tuple("IdNumber").field(&self.masked()).finish()
    }
}

// ---------------------------------------------------------------------------
// CreditCode (GB 32100-2015)
// ---------------------------------------------------------------------------

/// The 31 characters a credit code may use: digits and uppercase letters
/// without I, O, Z, S and V (too easily confused with 1, 0, 2, 5 and U).
/// A character's index here is its numeric value in the checksum.
const CREDIT_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of the GB 32100-2015 check: 3^(i-1) mod 31 for position i.
const CREDIT_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// Numeric value of a credit-code character, or `None` if it is not in the
/// charset. Expects uppercase input.
fn credit_value(c: char) -> Option<u32> {
    let b = u8::try_from(c).ok()?;
    CREDIT_CHARSET.iter().position(|&x| x == b).and_then(|p| u32::try_from(p).ok())
}

/// Computes the GB 32100-2015 check character for the first 17 characters of
/// a unified social credit code.
///
/// Lowercase letters are accepted. Returns `None` unless `first17` is exactly
/// 17 characters from the credit-code charset. Only the checksum is computed
/// (the region-digits rule is not applied), so test-data generators can use
/// it for any body.
///
/// For example, `91350100M000100Y4` gives `'3'`.
pub fn credit_code_check_char(first17: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut count = 0usize;
    for (c, w) in first17.chars().zip(CREDIT_WEIGHTS) {
        sum += credit_value(c.to_ascii_uppercase())? * w;
        count += 1;
    }
    if count != 17 || first17.chars().count() != 17 {
        return None;
    }
    // 31 - (sum mod 31) lies in 1..=31; 31 is written as '0'.
    let check = (31 - sum % 31) % 31;
    CREDIT_CHARSET.get(check as usize).map(|&b| char::from(b))
}

/// An 18-character unified social credit code (统一社会信用代码) that has
/// passed the GB 32100-2015 checks.
///
/// Layout:
///
/// | chars | meaning |
/// | --- | --- |
/// | 1 | registration authority (登记管理部门): `1` establishment offices, `5` civil affairs, `9` market regulation, `Y` others, … |
/// | 2 | organisation type within that authority |
/// | 3-8 | administrative region code (digits) |
/// | 9-17 | organisation code (GB 11714), itself ending in a check character |
/// | 18 | GB 32100 check character |
///
/// What is checked: 18 characters, all from the credit-code charset, chars
/// 3-8 are digits, and the check character is right. Lowercase input is
/// upper-cased.
///
/// What is deliberately *not* checked:
///
/// * that chars 1-2 are a *currently assigned* authority/type pair. The
///   table grows (e.g. `A` for the Central Military Commission, `N` for
///   agriculture) and a stale copy here would reject real organisations;
///   the charset check is enough to catch typos, together with the checksum.
/// * the inner GB 11714 check character (char 17). Codes for bodies that
///   never had an organisation code (many individual businesses, `92…`) are
///   not guaranteed to satisfy it, so checking it would turn away real
///   licences. The outer checksum already detects any single wrong
///   character.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

/// Why a string is not a valid [`CreditCode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CreditCodeError {
    /// Nothing but whitespace was given.
    #[error("Please enter the unified social credit code")]
    Empty,
    /// Not 18 characters (after trimming).
    #[error("A unified social credit code has 18 characters, but {found} were entered")]
    Length {
        /// Number of characters entered.
        found: usize,
    },
    /// A character outside the credit-code charset (digits and capital
    /// letters except I, O, Z, S, V).
    #[error(
        "Character {position} of the credit code is not allowed; only digits and capital letters other than I, O, Z, S and V may be used"
    )]
    InvalidCharacter {
        /// 1-based position of the first offending character.
        position: usize,
    },
    /// Characters 3-8 (the region code) are not all digits.
    #[error("Characters 3 to 8 of the credit code (the region code) must be digits")]
    Region,
    /// The check character does not match the other 17.
    #[error("The credit code's check character is wrong; please check the code and enter it again")]
    CheckDigit,
}

impl CreditCodeError {
    /// Stable machine-readable code, safe to use in API responses and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "credit_code_empty",
            Self::Length { .. } => "credit_code_length",
            Self::InvalidCharacter { .. } => "credit_code_characters",
            Self::Region => "credit_code_region",
            Self::CheckDigit => "credit_code_check_digit",
        }
    }

    /// Message for citizens, in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            Self::Empty => "请输入统一社会信用代码".to_owned(),
            Self::Length { found } => {
                format!("统一社会信用代码应为18位，您输入了{found}位，请核对后重新输入")
            }
            Self::InvalidCharacter { position } => format!(
                "统一社会信用代码第{position}位包含无效字符，只能填写数字和大写字母（不含I、O、Z、S、V）"
            ),
            Self::Region => {
                "统一社会信用代码第3至8位（登记管理机关行政区划码）应为数字，请核对后重新输入".to_owned()
            }
            Self::CheckDigit => "统一社会信用代码校验位不正确，请核对后重新输入".to_owned(),
        }
    }

    /// Message for citizens, in English (same as `Display`).
    pub fn message_en(&self) -> String {
        self.to_string()
    }
}

impl CreditCode {
    /// Parses and checks a unified social credit code.
    ///
    /// Surrounding whitespace is trimmed, full-width characters are folded to
    /// ASCII and letters are upper-cased.
    pub fn parse(input: &str) -> Result<Self, CreditCodeError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(CreditCodeError::Empty);
        }
        let value: String = trimmed.chars().map(fold_full_width).map(|c| c.to_ascii_uppercase()).collect();

        let found = value.chars().count();
        if found != 18 {
            return Err(CreditCodeError::Length { found });
        }
        for (i, c) in value.chars().enumerate() {
            if credit_value(c).is_none() {
                return Err(CreditCodeError::InvalidCharacter { position: i + 1 });
            }
        }
        // All 18 chars are ASCII now, so byte slicing is safe.
        if !value.as_bytes()[2..8].iter().all(u8::is_ascii_digit) {
            return Err(CreditCodeError::Region);
        }
        if credit_code_check_char(&value[..17]) != value.chars().nth(17) {
            return Err(CreditCodeError::CheckDigit);
        }
        Ok(Self(value))
    }

    /// The normalised code (18 characters, uppercase).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The registration authority character (char 1), e.g. `'9'` for market
    /// regulation.
    pub fn registration_authority(&self) -> char {
        char::from(self.0.as_bytes()[0])
    }

    /// The six-digit region code of the registering authority (chars 3-8).
    pub fn region_code(&self) -> &str {
        &self.0[2..8]
    }

    /// The embedded nine-character organisation code (chars 9-17).
    pub fn organization_code(&self) -> &str {
        &self.0[8..17]
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CreditCode").field(&self.0).finish()
    }
}

impl FromStr for CreditCode {
    type Err = CreditCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for CreditCode {
    type Error = CreditCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl TryFrom<&str> for CreditCode {
    type Error = CreditCodeError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<CreditCode> for String {
    fn from(code: CreditCode) -> Self {
        code.0
    }
}

// ---------------------------------------------------------------------------
// Phone
// ---------------------------------------------------------------------------

/// A mainland China mobile number, normalised to 11 digits (`1[3-9]` + 9
/// digits).
///
/// Accepted input: an optional `+86` / `86` / `0086` country prefix, and
/// spaces or hyphens anywhere (`+86 138-0013-8000`). Full-width digits are
/// folded to ASCII. Landlines, Hong Kong/Macao/Taiwan and foreign numbers are
/// out of scope: SMS verification here only reaches mainland mobiles.
///
/// Phone numbers are personal information: `Debug` prints [`Phone::masked`],
/// and there is no `Display` or `Serialize`.
#[derive(Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Phone(String);

/// Why a string is not a valid [`Phone`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PhoneError {
    /// Nothing but whitespace was given.
    #[error("Please enter your mobile number")]
    Empty,
    /// Something other than digits, spaces, hyphens and a leading `+`.
    #[error("The mobile number may contain only digits, spaces, hyphens and a leading +86")]
    InvalidCharacter,
    /// Not 11 digits once separators and the country prefix are removed.
    #[error("A mobile number has 11 digits, but {found} were entered")]
    Length {
        /// Number of digits left after removing the prefix and separators.
        found: usize,
    },
    /// Does not start with 13-19, so it is not a mainland mobile number.
    #[error("This is not a mainland China mobile number; it should start with 13 to 19")]
    Prefix,
}

impl PhoneError {
    /// Stable machine-readable code, safe to use in API responses and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "phone_empty",
            Self::InvalidCharacter => "phone_characters",
            Self::Length { .. } => "phone_length",
            Self::Prefix => "phone_prefix",
        }
    }

    /// Message for citizens, in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            Self::Empty => "请输入手机号码".to_owned(),
            Self::InvalidCharacter => "手机号码只能包含数字、空格和连字符，可在开头加+86".to_owned(),
            Self::Length { found } => {
                format!("手机号码应为11位数字，您输入了{found}位，请核对后重新输入")
            }
            Self::Prefix => "请输入中国大陆手机号码（以13至19开头）".to_owned(),
        }
    }

    /// Message for citizens, in English (same as `Display`).
    pub fn message_en(&self) -> String {
        self.to_string()
    }
}

impl Phone {
    /// Parses and normalises a mainland mobile number.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let mut digits = String::with_capacity(16);
        for (i, c) in trimmed.chars().map(fold_full_width).enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' => {}
                // '+' only makes sense as the very first character (+86).
                '+' if i == 0 => {}
                _ => return Err(PhoneError::InvalidCharacter),
            }
        }
        let had_plus = trimmed.starts_with(['+', '＋']);

        // With a '+' the country code is mandatory and must be 86. Without
        // one, strip 86/0086 only when what is left is exactly a full number:
        // a bare 11-digit mobile never starts with 8 or 0, so this cannot eat
        // real digits.
        let national = if had_plus {
            match digits.strip_prefix("86") {
                Some(rest) => rest,
                // "+" followed by something other than 86: a foreign number.
                None => return Err(PhoneError::Prefix),
            }
        } else if let Some(rest) = digits.strip_prefix("0086").filter(|r| r.len() == 11) {
            rest
        } else if let Some(rest) = digits.strip_prefix("86").filter(|r| r.len() == 11) {
            rest
        } else {
            digits.as_str()
        };

        if national.len() != 11 {
            return Err(PhoneError::Length { found: national.len() });
        }
        let b = national.as_bytes();
        if b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) {
            return Err(PhoneError::Prefix);
        }
        Ok(Self(national.to_owned()))
    }

    /// The normalised 11-digit number, for storage and SMS gateways.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with digits 4-7 hidden, e.g. `138****5678`.
    pub fn masked(&self) -> String {
        // Always 11 ASCII digits.
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Phone").field(&self.masked()).finish()
    }
}

impl FromStr for Phone {
    type Err = PhoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Phone {
    type Error = PhoneError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl TryFrom<&str> for Phone {
    type Error = PhoneError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

// ---------------------------------------------------------------------------
// PersonName
// ---------------------------------------------------------------------------

/// The separator used in transliterated minority and foreign names
/// (e.g. `阿依古丽·买买提`).
const NAME_DOT: char = '\u{00B7}';

/// Look-alike dots that input methods produce instead of U+00B7; they are
/// folded to U+00B7 so the same name is always stored the same way.
const NAME_DOT_VARIANTS: [char; 6] = ['\u{2022}', '\u{2027}', '\u{30FB}', '\u{FF65}', '\u{2219}', '\u{22C5}'];

/// Minimum length of a name, in characters.
pub const PERSON_NAME_MIN_CHARS: usize = 2;
/// Maximum length of a name, in characters. Long enough for transliterated
/// minority names, short enough to fit on certificates.
pub const PERSON_NAME_MAX_CHARS: usize = 30;

/// A person's name as it will appear on applications and certificates.
///
/// Rules: trimmed; 2 to 30 characters; letters of any script (Chinese
/// characters, including rare ones outside the BMP, and Latin letters for
/// foreign names) separated by single spaces or the middle dot `·`. Runs of
/// whitespace (including the full-width space) collapse to one ASCII space,
/// and look-alike dots (`•`, `・`, `‧`, …) become `·`.
///
/// Single-character names do exist but are vanishingly rare; the 2-character
/// minimum is the platform's form rule, chosen because a lone character is
/// far more often an unfinished entry; change [`PERSON_NAME_MIN_CHARS`] if a
/// real one-character name must be accepted.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

/// Why a string is not a valid [`PersonName`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PersonNameError {
    /// Nothing but whitespace was given.
    #[error("Please enter your name")]
    Empty,
    /// Shorter than 2 or longer than 30 characters.
    #[error("A name must be 2 to 30 characters long, but {found} were entered")]
    Length {
        /// Number of characters after normalisation.
        found: usize,
    },
    /// A control character (e.g. a tab or zero-width formatting) was found.
    #[error("The name contains an invisible control character; please type it again")]
    ControlCharacter,
    /// A digit, punctuation mark or other symbol was found.
    #[error("The name may contain only letters, Chinese characters, spaces and the middle dot (·)")]
    InvalidCharacter,
    /// A `·` or space at the start or end, or next to another separator.
    #[error("A middle dot (·) or space in the name must stand between two letters")]
    MisplacedSeparator,
}

impl PersonNameError {
    /// Stable machine-readable code, safe to use in API responses and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "person_name_empty",
            Self::Length { .. } => "person_name_length",
            Self::ControlCharacter => "person_name_control_character",
            Self::InvalidCharacter => "person_name_characters",
            Self::MisplacedSeparator => "person_name_separator",
        }
    }

    /// Message for citizens, in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            Self::Empty => "请输入姓名".to_owned(),
            Self::Length { found } => {
                format!("姓名长度应为2至30个字，您输入了{found}个字，请核对后重新输入")
            }
            Self::ControlCharacter => "姓名中含有不可见的控制字符，请重新输入".to_owned(),
            Self::InvalidCharacter => {
                "姓名只能包含汉字、字母、空格和间隔号（·），不能包含数字或其他符号".to_owned()
            }
            Self::MisplacedSeparator => {
                "姓名中的间隔号（·）或空格应位于两个字之间，请核对后重新输入".to_owned()
            }
        }
    }

    /// Message for citizens, in English (same as `Display`).
    pub fn message_en(&self) -> String {
        self.to_string()
    }
}

impl PersonName {
    /// Parses and normalises a name.
    pub fn parse(input: &str) -> Result<Self, PersonNameError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PersonNameError::Empty);
        }

        let mut out = String::with_capacity(trimmed.len());
        // Whether the previous char was a separator; starts true so that a
        // leading '·' is caught.
        let mut prev_sep = true;
        let mut pending_space = false;
        for c in trimmed.chars() {
            // Control characters are checked before whitespace because '\t'
            // and '\n' are both: a name with a tab inside is malformed, while
            // ordinary and full-width spaces are kept as separators.
            if c.is_control() || is_invisible_format(c) {
                return Err(PersonNameError::ControlCharacter);
            }
            if c.is_whitespace() {
                if prev_sep && !pending_space {
                    // Space right after '·'.
                    return Err(PersonNameError::MisplacedSeparator);
                }
                pending_space = true;
                continue;
            }
            let c = if NAME_DOT_VARIANTS.contains(&c) { NAME_DOT } else { c };
            if c == NAME_DOT {
                if prev_sep || pending_space {
                    return Err(PersonNameError::MisplacedSeparator);
                }
                out.push(c);
                prev_sep = true;
                continue;
            }
            if !c.is_alphabetic() {
                return Err(PersonNameError::InvalidCharacter);
            }
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
            prev_sep = false;
        }
        if prev_sep {
            // Trailing '·' (trailing spaces were trimmed).
            return Err(PersonNameError::MisplacedSeparator);
        }

        let found = out.chars().count();
        if !(PERSON_NAME_MIN_CHARS..=PERSON_NAME_MAX_CHARS).contains(&found) {
            return Err(PersonNameError::Length { found });
        }
        Ok(Self(out))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Zero-width and bidi formatting characters: not `is_control()`, but
/// invisible, and a classic way to make two names look identical.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PersonName").field(&self.0).finish()
    }
}

impl FromStr for PersonName {
    type Err = PersonNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for PersonName {
    type Error = PersonNameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl TryFrom<&str> for PersonName {
    type Error = PersonNameError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<PersonName> for String {
    fn from(name: PersonName) -> Self {
        name.0
    }
}

// ---------------------------------------------------------------------------
// Password
// ---------------------------------------------------------------------------

/// Minimum password length, in characters.
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Maximum password length, in characters. Bounds the work a single login
/// request can make the password hasher do.
pub const PASSWORD_MAX_CHARS: usize = 128;

/// The most common passwords that would otherwise satisfy (or nearly
/// satisfy) the length rule, from public leak statistics, with the
/// Chinese-specific favourites. Compared case-insensitively, so entries are
/// lowercase. Not a substitute for a breach-corpus check; it stops the
/// first guesses of any online attack.
const COMMON_PASSWORDS: &[&str] = &[
    "12345678",
    "123456789",
    "1234567890",
    "11111111",
    "88888888",
    "password",
    "password1",
    "password123",
    "password123!",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword1",
    "aa123456",
    "a1234567",
    "a123456789",
    "abc12345",
    "abcd1234",
    "abc@1234",
    "abc@123456",
    "admin123",
    "admin@123",
    "qwerty123",
    "qwer1234",
    "1qaz2wsx",
    "1q2w3e4r",
    "1qaz@wsx",
    "woaini1314",
    "qq123456",
    "zxcvbnm123",
];

/// A new password that satisfies the platform's password policy.
///
/// Policy: 8 to 128 characters; at least three of the four classes
/// lowercase, uppercase, digit and other (symbols, spaces and any non-Latin
/// character); not one character repeated; not one of a short list of the
/// most common passwords (case-insensitive); no control characters.
///
/// The input is **not** trimmed: a password is an opaque secret and a space
/// the user typed is part of it.
///
/// Use this only where a password is *chosen* (registration, change, reset).
/// Login must check the raw string against the stored hash, because older
/// accounts may predate the current policy. For the same reason there is no
/// `Deserialize`: a login DTO should not be able to pick this type up by
/// accident. There is no `Serialize` either, and `Debug` prints
/// `Password(***)`.
///
/// The value is an ordinary `String` and is not zeroed on drop.
#[derive(Clone)]
pub struct Password(String);

/// Why a string is not an acceptable [`Password`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PasswordError {
    /// Fewer than 8 characters.
    #[error("The password must be at least {min} characters long")]
    TooShort {
        /// The minimum length.
        min: usize,
    },
    /// More than 128 characters.
    #[error("The password must be at most {max} characters long")]
    TooLong {
        /// The maximum length.
        max: usize,
    },
    /// Contains a control character (tab, newline, …), which cannot be typed
    /// reliably on every device.
    #[error("The password contains an invisible control character; please choose another")]
    ControlCharacter,
    /// One of the most common passwords.
    #[error("This password is too common and easy to guess; please choose another")]
    TooCommon,
    /// The same character repeated.
    #[error("The password must not be one character repeated; please choose another")]
    Repetitive,
    /// Fewer than three character classes.
    #[error(
        "The password must use at least three of: lowercase letters, capital letters, digits and symbols"
    )]
    TooFewClasses {
        /// How many classes the password used.
        found: usize,
    },
}

impl PasswordError {
    /// Stable machine-readable code, safe to use in API responses and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "password_too_short",
            Self::TooLong { .. } => "password_too_long",
            Self::ControlCharacter => "password_control_character",
            Self::TooCommon => "password_too_common",
            Self::Repetitive => "password_repetitive",
            Self::TooFewClasses { .. } => "password_too_few_classes",
        }
    }

    /// Message for citizens, in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            Self::TooShort { min } => format!("密码长度不能少于{min}位"),
            Self::TooLong { max } => format!("密码长度不能超过{max}位"),
            Self::ControlCharacter => "密码中含有不可见的控制字符，请更换密码".to_owned(),
            Self::TooCommon => "该密码过于常见，容易被猜到，请更换密码".to_owned(),
            Self::Repetitive => "密码不能由同一个字符重复组成，请更换密码".to_owned(),
            Self::TooFewClasses { .. } => "密码需包含小写字母、大写字母、数字和符号中的至少三种".to_owned(),
        }
    }

    /// Message for citizens, in English (same as `Display`).
    pub fn message_en(&self) -> String {
        self.to_string()
    }
}

impl Password {
    /// Checks a newly chosen password against the policy.
    ///
    /// The checks run from the most to the least specific message, so the
    /// citizen is told "too common" rather than "needs more classes" for
    /// `12345678`.
    pub fn parse(input: &str) -> Result<Self, PasswordError> {
        let len = input.chars().count();
        if len < PASSWORD_MIN_CHARS {
            return Err(PasswordError::TooShort { min: PASSWORD_MIN_CHARS });
        }
        if len > PASSWORD_MAX_CHARS {
            return Err(PasswordError::TooLong { max: PASSWORD_MAX_CHARS });
        }
        if input.chars().any(char::is_control) {
            return Err(PasswordError::ControlCharacter);
        }
        let lower = input.to_lowercase();
        if COMMON_PASSWORDS.contains(&lower.as_str()) {
            return Err(PasswordError::TooCommon);
        }
        let mut chars = input.chars();
        if let Some(first) = chars.next()
            && chars.all(|c| c == first)
        {
            return Err(PasswordError::Repetitive);
        }

        let (mut has_lower, mut has_upper, mut has_digit, mut has_other) = (false, false, false, false);
        for c in input.chars() {
            if c.is_lowercase() {
                has_lower = true;
            } else if c.is_uppercase() {
                has_upper = true;
            } else if c.is_ascii_digit() {
                has_digit = true;
            } else {
                has_other = true;
            }
        }
        let found = [has_lower, has_upper, has_digit, has_other].iter().filter(|&&b| b).count();
        if found < 3 {
            return Err(PasswordError::TooFewClasses { found });
        }
        Ok(Self(input.to_owned()))
    }

    /// The password itself, to hand to the password hasher. Named `expose`
    /// so that every use stands out in review.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Fixed "today" so the tests do not depend on the clock.
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 6, 1).unwrap()
    }

    fn id(s: &str) -> Result<IdNumber, IdNumberError> {
        IdNumber::parse_as_of(s, today())
    }

    /// Builds a valid ID number from region, date and sequence.
    fn make_id(region: &str, date: &str, seq: &str) -> String {
        let body = format!("{region}{date}{seq}");
        let check = id_number_check_char(&body).unwrap();
        format!("{body}{check}")
    }

    // ----- IdNumber -----

    #[test]
    fn gb11643_example_is_valid() {
        let n = id("11010519491231002X").unwrap();
        assert_eq!(n.as_str(), "11010519491231002X");
        assert_eq!(n.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert_eq!(n.birth_year(), 1949);
        // Sequence 002: even, so a woman.
        assert!(!n.is_male());
        assert_eq!(id_number_check_char("11010519491231002"), Some('X'));
    }

    #[test]
    fn id_number_table() {
        let male = make_id("370102", "19900101", "123");
        let feb29 = make_id("440305", "20000229", "456");
        let hk = make_id("810000", "19850707", "001");
        let tw = make_id("830000", "19850707", "001");
        let future = make_id("110105", "20240602", "001");
        let born_today = make_id("110105", "20240601", "001");
        let too_old = make_id("110105", "18991231", "001");
        let feb30 = make_id("110105", "19900230", "001");
        let not_leap = make_id("110105", "19000229", "001");
        let month13 = make_id("110105", "19901301", "001");
        let prov10 = make_id("100105", "19900101", "001");
        let prov91 = make_id("910105", "19900101", "001");
        let prov24 = make_id("240105", "19900101", "001");

        let ok: &[&str] = &[
            "11010519491231002X",
            "11010519491231002x",
            "  11010519491231002X\t",
            "１１０１０５１９４９１２３１００２Ｘ",
            &male,
            &feb29,
            &hk,
            &tw,
            &born_today,
        ];
        for s in ok {
            assert!(id(s).is_ok(), "{s:?} should be valid: {:?}", id(s));
        }

        let bad: &[(&str, IdNumberError)] = &[
            ("", IdNumberError::Empty),
            ("   ", IdNumberError::Empty),
            ("11010519491231002", IdNumberError::Length { found: 17 }),
            ("11010519491231002X1", IdNumberError::Length { found: 19 }),
            ("110105491231002", IdNumberError::Length { found: 15 }),
            ("1101051949123100XX", IdNumberError::InvalidCharacter { position: 17 }),
            ("X10105194912310021", IdNumberError::InvalidCharacter { position: 1 }),
            ("110105 9491231002X", IdNumberError::InvalidCharacter { position: 7 }),
            ("11010519491231002Y", IdNumberError::InvalidCharacter { position: 18 }),
            ("１１０１０５１９４９１２３１００２Ｙ", IdNumberError::InvalidCharacter { position: 18 }),
            ("110105194912310021", IdNumberError::CheckDigit),
            ("11010519491231002０", IdNumberError::CheckDigit),
            ("11010519491231003X", IdNumberError::CheckDigit),
            (&future, IdNumberError::BirthDateOutOfRange),
            (&too_old, IdNumberError::BirthDateOutOfRange),
            (&feb30, IdNumberError::BirthDate),
            (&not_leap, IdNumberError::BirthDate),
            (&month13, IdNumberError::BirthDate),
            (&prov10, IdNumberError::Region),
            (&prov91, IdNumberError::Region),
            (&prov24, IdNumberError::Region),
            ("000000199001010010", IdNumberError::Region),
        ];
        for (s, want) in bad {
            assert_eq!(id(s).unwrap_err(), *want, "input {s:?}");
        }

        assert!(id(&male).unwrap().is_male());
    }

    #[test]
    fn id_number_lowercase_x_is_normalised() {
        let n = id("11010519491231002x").unwrap();
        assert_eq!(n.as_str(), "11010519491231002X");
        assert_eq!(n, id("11010519491231002X").unwrap());
    }

    #[test]
    fn id_number_masking_and_debug() {
        let n = id("11010519491231002X").unwrap();
        assert_eq!(n.masked(), "1101**********002X");
        let dbg = format!("{n:?}");
        assert_eq!(dbg, "IdNumber(\"1101**********002X\")");
        assert!(!dbg.contains("19491231"));

        let s = make_id("370105", "19900101", "123");
        let n = id(&s).unwrap();
        assert_eq!(n.masked(), format!("3701**********{}", &s[14..]));
        assert_eq!(n.masked().chars().count(), 18);
    }

    #[test]
    fn id_number_parse_refuses_a_birth_after_today() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        let tomorrow = today.succ_opt().unwrap();
        let s = make_id("110105", &tomorrow.format("%Y%m%d").to_string(), "001");
        assert_eq!(IdNumber::parse_as_of(&s, today).unwrap_err(), IdNumberError::BirthDateOutOfRange);
        let born_today = make_id("110105", &today.format("%Y%m%d").to_string(), "001");
        assert!(IdNumber::parse_as_of(&born_today, today).is_ok());
        assert!(IdNumber::parse_as_of("11010519491231002X", today).is_ok());
    }

    #[test]
    fn id_number_check_char_rejects_bad_input() {
        assert_eq!(id_number_check_char(""), None);
        assert_eq!(id_number_check_char("1101051949123100"), None);
        assert_eq!(id_number_check_char("110105194912310021"), None);
        assert_eq!(id_number_check_char("1101051949123100X"), None);
        assert_eq!(id_number_check_char("１１０１０５１９４９１２３１００２"), None);
    }

    // ----- CreditCode -----

    #[test]
    fn credit_code_table() {
        // Real-format example; verified against the GB 32100 algorithm.
        assert_eq!(credit_code_check_char("91350100M000100Y4"), Some('3'));
        let generated = {
            let body = "12100000400000018";
            format!("{body}{}", credit_code_check_char(body).unwrap())
        };
        // A code whose check value is 31, written as '0'.
        let zero_check = (0..1000u32)
            .map(|n| format!("9111000071{n:07}"))
            .find_map(|body| {
                let c = credit_code_check_char(&body)?;
                (c == '0').then(|| format!("{body}{c}"))
            })
            .unwrap();

        let ok: &[&str] = &[
            "91350100M000100Y43",
            "91350100m000100y43",
            " 91350100M000100Y43 ",
            "９１３５０１００Ｍ０００１００Ｙ４３",
            &generated,
            &zero_check,
        ];
        for s in ok {
            let c = CreditCode::parse(s);
            assert!(c.is_ok(), "{s:?} should be valid: {c:?}");
        }
        assert_eq!(CreditCode::parse("91350100m000100y43").unwrap().as_str(), "91350100M000100Y43");

        let bad: &[(&str, CreditCodeError)] = &[
            ("", CreditCodeError::Empty),
            ("91350100M000100Y4", CreditCodeError::Length { found: 17 }),
            ("91350100M000100Y431", CreditCodeError::Length { found: 19 }),
            ("91350100M000100I43", CreditCodeError::InvalidCharacter { position: 16 }),
            ("O1350100M000100Y43", CreditCodeError::InvalidCharacter { position: 1 }),
            ("91350100M000100Y4S", CreditCodeError::InvalidCharacter { position: 18 }),
            ("9135010-M000100Y43", CreditCodeError::InvalidCharacter { position: 8 }),
            ("913501A0M000100Y43", CreditCodeError::Region),
            ("91350100M000100Y44", CreditCodeError::CheckDigit),
            ("91350100M000100Y34", CreditCodeError::CheckDigit),
        ];
        for (s, want) in bad {
            assert_eq!(CreditCode::parse(s).unwrap_err(), *want, "input {s:?}");
        }
    }

    #[test]
    fn credit_code_accessors_display_serde() {
        let c = CreditCode::parse("91350100M000100Y43").unwrap();
        assert_eq!(c.registration_authority(), '9');
        assert_eq!(c.region_code(), "350100");
        assert_eq!(c.organization_code(), "M000100Y4");
        assert_eq!(c.to_string(), "91350100M000100Y43");
        assert_eq!(format!("{c:?}"), "CreditCode(\"91350100M000100Y43\")");
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, "\"91350100M000100Y43\"");
        let back: CreditCode = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        assert!(serde_json::from_str::<CreditCode>("\"91350100M000100Y44\"").is_err());
    }

    #[test]
    fn credit_code_check_char_rejects_bad_input() {
        assert_eq!(credit_code_check_char(""), None);
        assert_eq!(credit_code_check_char("91350100M000100Y"), None);
        assert_eq!(credit_code_check_char("91350100M000100Y43"), None);
        assert_eq!(credit_code_check_char("91350100M000100I4"), None);
        assert_eq!(credit_code_check_char("91350100m000100y4"), Some('3'));
    }

    // ----- Phone -----

    #[test]
    fn phone_table() {
        let ok: &[(&str, &str)] = &[
            ("13812345678", "13812345678"),
            (" 13812345678 ", "13812345678"),
            ("+8613812345678", "13812345678"),
            ("+86 138 1234 5678", "13812345678"),
            ("86-138-1234-5678", "13812345678"),
            ("008613812345678", "13812345678"),
            ("138-1234-5678", "13812345678"),
            ("＋８６１３８１２３４５６７８", "13812345678"),
            ("19912345678", "19912345678"),
        ];
        for (input, want) in ok {
            assert_eq!(Phone::parse(input).unwrap().as_str(), *want, "input {input:?}");
        }

        let bad: &[(&str, PhoneError)] = &[
            ("", PhoneError::Empty),
            ("1381234567", PhoneError::Length { found: 10 }),
            ("138123456789", PhoneError::Length { found: 12 }),
            ("(138)12345678", PhoneError::InvalidCharacter),
            ("138.1234.5678", PhoneError::InvalidCharacter),
            ("1381234567a", PhoneError::InvalidCharacter),
            ("138+12345678", PhoneError::InvalidCharacter),
            ("12812345678", PhoneError::Prefix),
            ("23812345678", PhoneError::Prefix),
            ("+85261234567", PhoneError::Prefix),
            ("+1 415 555 0100", PhoneError::Prefix),
            ("+8612812345678", PhoneError::Prefix),
            ("+86 138 1234 567", PhoneError::Length { found: 10 }),
        ];
        for (input, want) in bad {
            assert_eq!(Phone::parse(input).unwrap_err(), *want, "input {input:?}");
        }
    }

    #[test]
    fn phone_masking_and_debug() {
        let p = Phone::parse("13812345678").unwrap();
        assert_eq!(p.masked(), "138****5678");
        assert_eq!(format!("{p:?}"), "Phone(\"138****5678\")");
    }

    // ----- PersonName -----

    #[test]
    fn person_name_table() {
        let ok: &[(&str, &str)] = &[
            ("张三", "张三"),
            ("  欧阳娜娜 ", "欧阳娜娜"),
            ("阿依古丽·买买提", "阿依古丽·买买提"),
            ("阿依古丽・买买提", "阿依古丽·买买提"),
            ("阿依古丽•买买提", "阿依古丽·买买提"),
            ("John  Smith", "John Smith"),
            ("John\u{3000}Smith", "John Smith"),
            ("𠮷野家", "𠮷野家"),
            ("José Müller", "José Müller"),
        ];
        for (input, want) in ok {
            assert_eq!(PersonName::parse(input).unwrap().as_str(), *want, "input {input:?}");
        }
        let thirty = "张".repeat(30);
        assert!(PersonName::parse(&thirty).is_ok());

        let thirty_one = "张".repeat(31);
        let bad: &[(&str, PersonNameError)] = &[
            ("", PersonNameError::Empty),
            (" \u{3000} ", PersonNameError::Empty),
            ("张", PersonNameError::Length { found: 1 }),
            (&thirty_one, PersonNameError::Length { found: 31 }),
            ("张\t三", PersonNameError::ControlCharacter),
            ("张\u{0}三", PersonNameError::ControlCharacter),
            ("张\u{200B}三", PersonNameError::ControlCharacter),
            ("张三3", PersonNameError::InvalidCharacter),
            ("张三!", PersonNameError::InvalidCharacter),
            ("O'Brien", PersonNameError::InvalidCharacter),
            ("·张三", PersonNameError::MisplacedSeparator),
            ("张三·", PersonNameError::MisplacedSeparator),
            ("张··三", PersonNameError::MisplacedSeparator),
            ("张 ·三", PersonNameError::MisplacedSeparator),
            ("张· 三", PersonNameError::MisplacedSeparator),
        ];
        for (input, want) in bad {
            assert_eq!(PersonName::parse(input).unwrap_err(), *want, "input {input:?}");
        }
    }

    #[test]
    fn person_name_display_serde() {
        let n = PersonName::parse(" 张三 ").unwrap();
        assert_eq!(n.to_string(), "张三");
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"张三\"");
        assert!(serde_json::from_str::<PersonName>("\"张3\"").is_err());
    }

    // ----- Password -----

    #[test]
    fn password_table() {
        let ok: &[&str] =
            &["Tr0ub4dor&3", "correct Horse battery", "Quanban-2024", "k9#mW2pq", "长城Great1", " Padded1 "];
        for s in ok {
            let p = Password::parse(s);
            assert!(p.is_ok(), "{s:?} should be accepted: {p:?}");
            assert_eq!(p.unwrap().expose(), *s);
        }

        let long = format!("Aa1{}", "x".repeat(126));
        let bad: &[(&str, PasswordError)] = &[
            ("", PasswordError::TooShort { min: 8 }),
            ("Aa1!xyz", PasswordError::TooShort { min: 8 }),
            (&long, PasswordError::TooLong { max: 128 }),
            ("Aa1!\nxyzw", PasswordError::ControlCharacter),
            ("Password123!", PasswordError::TooCommon),
            ("PASSWORD123!", PasswordError::TooCommon),
            ("Aa123456", PasswordError::TooCommon),
            ("12345678", PasswordError::TooCommon),
            ("P@ssw0rd", PasswordError::TooCommon),
            ("Admin@123", PasswordError::TooCommon),
            ("aaaaaaaaaa", PasswordError::Repetitive),
            ("!!!!!!!!", PasswordError::Repetitive),
            ("abcdefgh", PasswordError::TooFewClasses { found: 1 }),
            ("abcd5678", PasswordError::TooFewClasses { found: 2 }),
            ("ABCDefgh", PasswordError::TooFewClasses { found: 2 }),
        ];
        for (s, want) in bad {
            assert_eq!(Password::parse(s).unwrap_err(), *want, "input {s:?}");
        }
        // Exactly at the limits.
        assert!(Password::parse(&format!("Aa1{}", "x".repeat(125))).is_ok());
    }

    #[test]
    fn password_debug_hides_secret() {
        let p = Password::parse("Tr0ub4dor&3").unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
    }

    #[test]
    fn common_passwords_are_lowercase() {
        for p in COMMON_PASSWORDS {
            assert_eq!(*p, p.to_lowercase());
        }
    }

    // ----- Errors -----

    #[test]
    fn error_codes_are_unique_snake_case_with_messages() {
        let all: Vec<(&'static str, String, String)> = [
            IdNumberError::Empty,
            IdNumberError::Length { found: 3 },
            IdNumberError::InvalidCharacter { position: 2 },
            IdNumberError::Region,
            IdNumberError::BirthDate,
            IdNumberError::BirthDateOutOfRange,
            IdNumberError::CheckDigit,
        ]
        .iter()
        .map(|e| (e.code(), e.message_zh(), e.message_en()))
        .chain(
            [
                CreditCodeError::Empty,
                CreditCodeError::Length { found: 3 },
                CreditCodeError::InvalidCharacter { position: 2 },
                CreditCodeError::Region,
                CreditCodeError::CheckDigit,
            ]
            .iter()
            .map(|e| (e.code(), e.message_zh(), e.message_en())),
        )
        .chain(
            [
                PhoneError::Empty,
                PhoneError::InvalidCharacter,
                PhoneError::Length { found: 3 },
                PhoneError::Prefix,
            ]
            .iter()
            .map(|e| (e.code(), e.message_zh(), e.message_en())),
        )
        .chain(
            [
                PersonNameError::Empty,
                PersonNameError::Length { found: 1 },
                PersonNameError::ControlCharacter,
                PersonNameError::InvalidCharacter,
                PersonNameError::MisplacedSeparator,
            ]
            .iter()
            .map(|e| (e.code(), e.message_zh(), e.message_en())),
        )
        .chain(
            [
                PasswordError::TooShort { min: 8 },
                PasswordError::TooLong { max: 128 },
                PasswordError::ControlCharacter,
                PasswordError::TooCommon,
                PasswordError::Repetitive,
                PasswordError::TooFewClasses { found: 1 },
            ]
            .iter()
            .map(|e| (e.code(), e.message_zh(), e.message_en())),
        )
        .collect();

        let mut codes: Vec<_> = all.iter().map(|(c, _, _)| *c).collect();
        for c in &codes {
            assert!(c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'), "{c} is not snake_case");
        }
        codes.sort_unstable();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n, "duplicate error codes");
        for (code, zh, en) in &all {
            assert!(!zh.is_empty() && !en.is_empty(), "{code}");
            assert!(zh.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)), "{code}");
        }
        assert_eq!(IdNumberError::CheckDigit.message_zh(), "身份证号码校验位不正确，请核对后重新输入");
    }

    // ----- Property tests -----

    const PROVINCES: &[u32] = &[
        11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53,
        54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
    ];

    /// A valid 17-character ID body: province + 4 digits, a date in range,
    /// 3-digit sequence.
    fn id_body() -> impl Strategy<Value = String> {
        let start = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
        let span = (today() - start).num_days();
        (prop::sample::select(PROVINCES), 0u32..10_000, 0i64..=span, 0u32..1000).prop_map(
            move |(p, rest, days, seq)| {
                let date = start + chrono::TimeDelta::days(days);
                format!("{p:02}{rest:04}{}{seq:03}", date.format("%Y%m%d"))
            },
        )
    }

    fn valid_id() -> impl Strategy<Value = String> {
        id_body().prop_map(|body| {
            let c = id_number_check_char(&body).unwrap();
            format!("{body}{c}")
        })
    }

    fn credit_char() -> impl Strategy<Value = char> {
        prop::sample::select(CREDIT_CHARSET.as_slice()).prop_map(char::from)
    }

    fn valid_credit_code() -> impl Strategy<Value = String> {
        (prop::collection::vec(credit_char(), 2), 0u32..1_000_000, prop::collection::vec(credit_char(), 9))
            .prop_map(|(head, region, org)| {
                let body: String =
                    head.into_iter().chain(format!("{region:06}").chars()).chain(org).collect();
                let c = credit_code_check_char(&body).unwrap();
                format!("{body}{c}")
            })
    }

    fn valid_phone() -> impl Strategy<Value = String> {
        (3u32..=9, 0u64..1_000_000_000).prop_map(|(second, rest)| format!("1{second}{rest:09}"))
    }

    /// Replaces the character at `pos` (ASCII string) with `c`.
    fn replace_at(s: &str, pos: usize, c: char) -> String {
        let mut out = String::with_capacity(s.len());
        out.push_str(&s[..pos]);
        out.push(c);
        out.push_str(&s[pos + 1..]);
        out
    }

    /// The character `shift` places after `orig` in `alphabet`, wrapping;
    /// differs from `orig` for any shift in `1..alphabet.len()`.
    fn different_char(alphabet: &[u8], orig: u8, shift: usize) -> char {
        let i = alphabet.iter().position(|&b| b == orig).unwrap();
        char::from(alphabet[(i + shift) % alphabet.len()])
    }

    proptest! {
        #[test]
        fn prop_valid_id_parses(s in valid_id(), lower in any::<bool>()) {
            let input = if lower { s.to_lowercase() } else { s.clone() };
            let n = IdNumber::parse_as_of(&input, today()).unwrap();
            prop_assert_eq!(n.as_str(), s.as_str());
            prop_assert_eq!(n.birth_date().format("%Y%m%d").to_string(), &s[6..14]);
            prop_assert_eq!(n.is_male(), (s.as_bytes()[16] - b'0') % 2 == 1);
            let masked = n.masked();
            prop_assert_eq!(&masked[..4], &s[..4]);
            prop_assert_eq!(&masked[14..], &s[14..]);
            let dbg = format!("{:?}", n);
            prop_assert!(!dbg.contains(&s[4..14]));
        }

        #[test]
        fn prop_id_single_substitution_fails(
            s in valid_id(),
            pos in 0usize..18,
            shift in 1usize..11,
        ) {
            // Rotate within the ID alphabet by a non-zero shift, so the new
            // character always differs (no rejected cases).
            let c = different_char(b"0123456789X", s.as_bytes()[pos], shift);
            let changed = replace_at(&s, pos, c);
            prop_assert!(IdNumber::parse_as_of(&changed, today()).is_err(), "{} accepted", changed);
        }

        #[test]
        fn prop_credit_code_parses(s in valid_credit_code(), lower in any::<bool>()) {
            let input = if lower { s.to_lowercase() } else { s.clone() };
            let c = CreditCode::parse(&input).unwrap();
            prop_assert_eq!(c.as_str(), s.as_str());
        }

        #[test]
        fn prop_credit_code_single_substitution_fails(
            s in valid_credit_code(),
            pos in 0usize..18,
            shift in 1usize..31,
        ) {
            let c = different_char(CREDIT_CHARSET, s.as_bytes()[pos], shift);
            let changed = replace_at(&s, pos, c);
            prop_assert!(CreditCode::parse(&changed).is_err(), "{} accepted", changed);
        }

        #[test]
        fn prop_phone_normalisation_round_trip(
            p in valid_phone(),
            prefix in prop::sample::select(vec!["", "+86", "86", "0086", "+86 ", "86-"]),
            seps in prop::collection::vec(prop::sample::select(vec!["", "", " ", "-"]), 11),
        ) {
            let mut input = prefix.to_owned();
            for (ch, sep) in p.chars().zip(&seps) {
                input.push(ch);
                input.push_str(sep);
            }
            let parsed = Phone::parse(&input).unwrap();
            prop_assert_eq!(parsed.as_str(), p.as_str());
            // Parsing the normalised form is the identity.
            prop_assert_eq!(Phone::parse(parsed.as_str()).unwrap(), parsed.clone());
            prop_assert_eq!(parsed.masked(), format!("{}****{}", &p[..3], &p[7..]));
        }

        #[test]
        fn prop_parsers_never_panic(s in "\\PC{0,40}") {
            let _ = IdNumber::parse_as_of(&s, today());
            let _ = CreditCode::parse(&s);
            let _ = Phone::parse(&s);
            let _ = PersonName::parse(&s);
            let _ = Password::parse(&s);
        }
    }
}
