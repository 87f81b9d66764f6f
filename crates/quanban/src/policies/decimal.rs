//! Exact decimal numbers for the rules' `double` values: an integer count of 10^-scale units.
//!
//! The policies' conventions pass money to CEL as `double` and write rates as `0.6`; binary
//! floating point would pay 370.36 where the rule says 370.365 rounds half-up to 370.37. So a
//! rule's `double` is held exactly: literals from their source text, money as fen (scale 2), and
//! `+ - *` exact. Only `/` rounds, to [`DIVISION_SCALE`] places, half away from zero.

use std::cmp::Ordering;

/// Decimal places kept by a division.
pub const DIVISION_SCALE: u8 = 12;
/// The most decimal places a value may have (10^30 still fits an i128 with room for the value).
pub const MAX_SCALE: u8 = 30;

/// Why an exact computation has no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    Overflow,
    DivisionByZero,
}

/// `units × 10^-scale`.
#[derive(Clone, Copy, Debug)]
pub struct Dec {
    pub units: i128,
    pub scale: u8,
}

fn pow10(n: u8) -> Option<i128> {
    10i128.checked_pow(u32::from(n))
}

impl Dec {
    pub const fn new(units: i128, scale: u8) -> Dec {
        Dec { units, scale }
    }

    /// Parses a CEL number literal's text (`12`, `0.6`, `1e6`, `2.5E-3`, `-1.5`) exactly.
    pub fn parse(text: &str) -> Option<Dec> {
        if let Some(rest) = text.strip_prefix('-') {
            return Dec::parse(rest)?.checked_neg().ok();
        }
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
            None => (text, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        let digits = format!("{whole}{fraction}");
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let units: i128 = digits.parse().ok()?;
        let scale = i32::try_from(fraction.len()).ok()? - exponent;
        if scale >= 0 {
            let scale = u8::try_from(scale).ok().filter(|s| *s <= MAX_SCALE)?;
            Some(Dec { units, scale })
        } else {
            let up = pow10(u8::try_from(-scale).ok()?)?;
            Some(Dec { units: units.checked_mul(up)?, scale: 0 })
        }
    }

    /// The same number with `scale` places (only ever more places: exact).
    pub fn rescale(self, scale: u8) -> Result<Dec, Arith> {
        debug_assert!(scale >= self.scale);
        let up = pow10(scale - self.scale).ok_or(Arith::Overflow)?;
        Ok(Dec { units: self.units.checked_mul(up).ok_or(Arith::Overflow)?, scale })
    }

    fn aligned(a: Dec, b: Dec) -> Result<(i128, i128, u8), Arith> {
        let scale = a.scale.max(b.scale);
        Ok((a.rescale(scale)?.units, b.rescale(scale)?.units, scale))
    }

    pub fn checked_add(self, other: Dec) -> Result<Dec, Arith> {
        let (a, b, scale) = Dec::aligned(self, other)?;
        Ok(Dec { units: a.checked_add(b).ok_or(Arith::Overflow)?, scale })
    }

    pub fn checked_sub(self, other: Dec) -> Result<Dec, Arith> {
        let (a, b, scale) = Dec::aligned(self, other)?;
        Ok(Dec { units: a.checked_sub(b).ok_or(Arith::Overflow)?, scale })
    }

    pub fn checked_mul(self, other: Dec) -> Result<Dec, Arith> {
        let scale = self.scale + other.scale;
        if scale > MAX_SCALE {
            return Err(Arith::Overflow);
        }
        Ok(Dec { units: self.units.checked_mul(other.units).ok_or(Arith::Overflow)?, scale })
    }

    /// `self / other` to [`DIVISION_SCALE`] places, rounded half away from zero.
    pub fn checked_div(self, other: Dec) -> Result<Dec, Arith> {
        if other.units == 0 {
            return Err(Arith::DivisionByZero);
        }
        // units_a/10^sa ÷ units_b/10^sb = (units_a × 10^(S + sb - sa) / units_b) / 10^S
        let shift = i32::from(DIVISION_SCALE) + i32::from(other.scale) - i32::from(self.scale);
        let (numerator, denominator) = if shift >= 0 {
            let up = pow10(u8::try_from(shift).map_err(|_| Arith::Overflow)?).ok_or(Arith::Overflow)?;
            (self.units.checked_mul(up).ok_or(Arith::Overflow)?, other.units)
        } else {
            let up = pow10(u8::try_from(-shift).map_err(|_| Arith::Overflow)?).ok_or(Arith::Overflow)?;
            (self.units, other.units.checked_mul(up).ok_or(Arith::Overflow)?)
        };
        Ok(Dec { units: divide_half_away(numerator, denominator)?, scale: DIVISION_SCALE })
    }

    pub fn checked_neg(self) -> Result<Dec, Arith> {
        Ok(Dec { units: self.units.checked_neg().ok_or(Arith::Overflow)?, scale: self.scale })
    }

    pub fn compare(self, other: Dec) -> Result<Ordering, Arith> {
        let (a, b, _) = Dec::aligned(self, other)?;
        Ok(a.cmp(&b))
    }

    /// Rounded half-up (half away from zero) to `places` decimal places.
    pub fn round(self, places: u8) -> Result<Dec, Arith> {
        if self.scale <= places {
            return self.rescale(places);
        }
        let down = pow10(self.scale - places).ok_or(Arith::Overflow)?;
        Ok(Dec { units: divide_half_away(self.units, down)?, scale: places })
    }

    /// Whole fen, rounded half-up.
    pub fn to_fen(self) -> Result<i64, Arith> {
        i64::try_from(self.round(2)?.units).map_err(|_| Arith::Overflow)
    }

    /// Truncated toward zero, as CEL's `int(double)`.
    pub fn truncate(self) -> Result<i64, Arith> {
        let down = pow10(self.scale).ok_or(Arith::Overflow)?;
        i64::try_from(self.units / down).map_err(|_| Arith::Overflow)
    }
}

fn divide_half_away(n: i128, d: i128) -> Result<i128, Arith> {
    if d == 0 {
        return Err(Arith::DivisionByZero);
    }
    let q = n.checked_div(d).ok_or(Arith::Overflow)?;
    let r = n % d;
    // |r| * 2 >= |d| rounds away from zero.
    if r.unsigned_abs() * 2 >= d.unsigned_abs() {
        let away = if (n < 0) == (d < 0) { 1 } else { -1 };
        q.checked_add(away).ok_or(Arith::Overflow)
    } else {
        Ok(q)
    }
}

impl PartialEq for Dec {
    fn eq(&self, other: &Dec) -> bool {
        self.compare(*other) == Ok(Ordering::Equal)
    }
}

impl std::fmt::Display for Dec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.units);
        }
        let sign = if self.units < 0 { "-" } else { "" };
        let digits = self.units.unsigned_abs().to_string();
        let scale = usize::from(self.scale);
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (whole, fraction) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{whole}.{fraction}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dec {
        Dec::parse(s).unwrap()
    }

    #[test]
    fn literals_parse_exactly() {
        assert_eq!(d("0.6"), Dec::new(6, 1));
        assert_eq!(d("20000000.0"), Dec::new(20_000_000, 0));
        assert_eq!(d("1e6"), Dec::new(1_000_000, 0));
        assert_eq!(d("2.5E-3"), Dec::new(25, 4));
        assert_eq!(d(".5"), Dec::new(5, 1));
        assert!(Dec::parse("1.2.3").is_none() && Dec::parse("").is_none() && Dec::parse("0x10").is_none());
    }

    #[test]
    fn money_times_a_rate_rounds_half_up_to_the_fen() {
        // 1234.55 yuan × 0.3 = 370.365: half-up is 370.37 (binary floating point gives 370.36).
        let pay = Dec::new(123_455, 2).checked_mul(d("0.3")).unwrap();
        assert_eq!(pay.to_string(), "370.365");
        assert_eq!(pay.to_fen(), Ok(37_037));
        assert_eq!(Dec::new(-123_455, 2).checked_mul(d("0.3")).unwrap().to_fen(), Ok(-37_037));
        assert_eq!(Dec::new(1, 3).to_fen(), Ok(0));
        assert_eq!(Dec::new(5, 3).to_fen(), Ok(1));
    }

    #[test]
    fn division_rounds_and_refuses_zero() {
        assert_eq!(d("1").checked_div(d("3")).unwrap().to_string(), "0.333333333333");
        assert_eq!(d("2").checked_div(d("3")).unwrap().to_string(), "0.666666666667");
        assert_eq!(d("1").checked_div(d("0.0")), Err(Arith::DivisionByZero));
        assert_eq!(d("-7.5").checked_div(d("2")).unwrap(), d("-3.75"));
    }

    #[test]
    fn comparison_and_overflow() {
        assert_eq!(d("19999999.99").compare(d("20000000.0")), Ok(Ordering::Less));
        assert_eq!(Dec::new(i128::MAX, 0).checked_add(d("1")), Err(Arith::Overflow));
        assert_eq!(d("-2.9").truncate(), Ok(-2));
    }
}
