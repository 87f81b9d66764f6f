//! Shares and percentages as the published figures show them (好评率, 响应率 …), one definition
//! for every area.

/// `n / d` rounded to four places (0.1234 = 12.34 %); `None` when there is nothing to divide.
pub fn share(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| ((n as f64 / d as f64) * 10000.0).round() / 10000.0)
}

/// A share as a percentage with one decimal, or a dash when there is none (by reference: the
/// templates pass fields).
pub fn percent(v: &Option<f64>) -> String {
    v.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or_else(|| "—".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_percentages() {
        assert_eq!(share(2, 3), Some(0.6667));
        assert_eq!(share(1, 0), None);
        assert_eq!(percent(&Some(0.6667)), "66.7%");
        assert_eq!(percent(&None), "—");
    }
}
