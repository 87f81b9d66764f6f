//! What a message to a person says and where else than the inbox it goes; the platform's
//! notifications store them (inbox and outbox).

/// A message, in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
}

/// Where else than the inbox a message goes: an SMS to `phone`, an e-mail to `email` (each
/// skipped when empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reach {
    pub phone: String,
    pub email: String,
}
