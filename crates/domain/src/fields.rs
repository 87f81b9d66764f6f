//! Errors about one input field, named in Chinese and English; the HTTP layer sends them as
//! RFC 9457 problem details and pages show them next to their field.

use serde::Serialize;

/// One problem with one input field.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// The request field, e.g. `id_number`.
    pub field: String,
    /// Stable machine-readable code, e.g. `id_number_check_digit`.
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

impl FieldError {
    pub fn new(field: &str, code: &str, zh: impl Into<String>, en: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), code: code.into(), message_zh: zh.into(), message_en: en.into() }
    }

    /// Parses a `YYYY-MM-DD` field, naming it when it is not a real date.
    pub fn parse_date(field: &str, raw: &str) -> Result<chrono::NaiveDate, FieldError> {
        chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
            FieldError::new(
                field,
                "invalid_date",
                format!("{field} 应为有效日期，格式 YYYY-MM-DD"),
                format!("{field} must be a valid date as YYYY-MM-DD"),
            )
        })
    }

    pub fn required(field: &str, label_zh: &str, label_en: &str) -> FieldError {
        FieldError::new(field, "required", format!("请填写{label_zh}"), format!("{label_en} is required"))
    }
}
