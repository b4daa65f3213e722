//! The arithmetic of `GET /recipes/{id}?servings=N`: scaling one quantity and rounding it
//! for a cook to read. The rule itself is documented on `RecipeContent::scaled_to`.

use crate::domain::ingredient::Quantity;
use crate::domain::limits;

/// `quantity` for `to` servings instead of `from`.
pub(crate) fn scale(quantity: Quantity, from: f64, to: f64) -> Quantity {
    // Multiplying first keeps whole results whole: 200 * 3 / 2 is exactly 300.
    let mut amount = quantity.amount() * to / from;
    let mut unit = quantity.unit();
    while amount > limits::AMOUNT_MAX {
        match unit.and_then(|unit| unit.larger()) {
            Some((larger, factor)) => {
                amount /= factor;
                unit = Some(larger);
            }
            None => break,
        }
    }
    let amount = round_for_cooks(amount.min(limits::AMOUNT_MAX));
    // The amount is now finite, above 0 and within the limit, so `new` accepts it; keeping
    // the unscaled quantity is the harmless answer should that ever not hold.
    Quantity::new(amount, unit).unwrap_or(quantity)
}

/// At most 4 significant digits, then at most 3 decimals unless that reaches 0; never 0.
pub(crate) fn round_for_cooks(amount: f64) -> f64 {
    let significant = round_significant(amount, limits::SCALED_SIGNIFICANT_DIGITS);
    let decimals = round_at(significant, limits::SCALED_DECIMAL_PLACES);
    if decimals > 0.0 {
        decimals
    } else if significant > 0.0 {
        significant
    } else if amount > 0.0 {
        amount
    } else {
        // Only an amount that underflowed while scaling gets here; the contract wants > 0.
        f64::MIN_POSITIVE
    }
}

fn round_significant(x: f64, digits: i32) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return x;
    }
    // floor(log10) of a finite positive f64 lies within ±324, so the cast is exact.
    let magnitude = x.log10().floor() as i32;
    round_at(x, digits - 1 - magnitude)
}

/// Rounds to `places` decimal places (negative: to tens, hundreds…). Dividing by an exact
/// power of ten, rather than multiplying by an inexact 0.001, keeps 1235000 free of noise.
fn round_at(x: f64, places: i32) -> f64 {
    if places >= 0 {
        let factor = 10f64.powi(places);
        let scaled = x * factor;
        if scaled.is_finite() {
            scaled.round() / factor
        } else {
            x
        }
    } else {
        let factor = 10f64.powi(-places);
        (x / factor).round() * factor
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Unit;

    fn quantity(amount: f64, unit: Option<Unit>) -> Quantity {
        Quantity::new(amount, unit).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn rounding_keeps_at_most_four_significant_digits() {
        assert_eq!(round_for_cooks(1234.5678), 1235.0);
        assert_eq!(round_for_cooks(1_234_567.0), 1_235_000.0);
        assert_eq!(round_for_cooks(12.3456), 12.35);
    }

    #[test]
    fn rounding_keeps_at_most_three_decimals() {
        assert_eq!(round_for_cooks(1.0 / 3.0), 0.333);
        assert_eq!(round_for_cooks(2.0 / 3.0), 0.667);
    }

    #[test]
    fn rounding_keeps_small_amounts_above_zero() {
        assert_eq!(round_for_cooks(0.000_123_456), 0.000_123_5);
        assert!(round_for_cooks(1e-310) > 0.0);
        assert!(round_for_cooks(0.0) > 0.0);
    }

    #[test]
    fn whole_results_stay_whole() {
        assert_eq!(
            scale(quantity(200.0, Some(Unit::G)), 2.0, 3.0).amount(),
            300.0
        );
    }

    #[test]
    fn grams_that_outgrow_the_limit_become_kilograms() {
        let scaled = scale(quantity(1500.0, Some(Unit::G)), 1.0, 1000.0);
        assert_eq!((scaled.amount(), scaled.unit()), (1500.0, Some(Unit::Kg)));
    }

    #[test]
    fn milligrams_that_outgrow_the_limit_become_grams() {
        let scaled = scale(quantity(1_000_000.0, Some(Unit::Mg)), 1.0, 1000.0);
        assert_eq!(
            (scaled.amount(), scaled.unit()),
            (1_000_000.0, Some(Unit::G))
        );
    }

    #[test]
    fn millilitres_that_outgrow_the_limit_become_litres() {
        let scaled = scale(quantity(2500.0, Some(Unit::Ml)), 2.0, 1000.0);
        assert_eq!((scaled.amount(), scaled.unit()), (1250.0, Some(Unit::L)));
    }

    #[test]
    fn amounts_without_a_larger_unit_are_capped_at_the_limit() {
        let scaled = scale(quantity(5000.0, Some(Unit::Piece)), 1.0, 1000.0);
        assert_eq!(
            (scaled.amount(), scaled.unit()),
            (1_000_000.0, Some(Unit::Piece))
        );
    }

    #[test]
    fn the_smallest_amount_scaled_down_stays_above_zero() {
        let scaled = scale(quantity(f64::from_bits(1), None), 1000.0, 1.0);
        assert!(scaled.amount() > 0.0);
    }
}
