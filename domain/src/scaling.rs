//! The arithmetic of `GET /recipes/{id}?servings=N`: scaling one quantity and rounding it
//! for a cook to read. The rule itself is documented on `RecipeContent::scaled_to`.

use crate::ingredient::Quantity;
use crate::limits;

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
    // The amount is now within the bounds with at most 4 significant digits, so `new`
    // accepts it; keeping the unscaled quantity is the harmless answer should that ever not
    // hold (a property test in `domain::properties` says it does).
    Quantity::new(amount, unit).unwrap_or(quantity)
}

/// At most 4 significant digits, then at most 3 decimals; never below the smallest amount
/// the domain accepts (0.001), so a scaled amount is always one a client could have sent.
/// Public so a client can tell which exact amount a scaled one was rounded from.
pub fn round_for_cooks(amount: f64) -> f64 {
    let significant = round_significant(amount, limits::SCALED_SIGNIFICANT_DIGITS);
    let decimals = round_at(significant, limits::SCALED_DECIMAL_PLACES);
    // `>=` is false for NaN too, which scaling a finite amount never gives.
    if decimals >= limits::AMOUNT_MIN {
        decimals
    } else {
        limits::AMOUNT_MIN
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
    use crate::Unit;

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
    fn rounding_never_goes_below_the_smallest_amount() {
        assert_eq!(round_for_cooks(0.000_123_456), 0.001);
        assert_eq!(round_for_cooks(0.0014), 0.001);
        assert_eq!(round_for_cooks(0.0016), 0.002);
        assert_eq!(round_for_cooks(1e-310), 0.001);
        assert_eq!(round_for_cooks(0.0), 0.001);
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
    fn the_smallest_amount_scaled_down_stays_the_smallest_amount() {
        let scaled = scale(quantity(0.001, Some(Unit::Mg)), 1000.0, 1.0);
        assert_eq!(scaled.amount(), 0.001);
    }

    #[test]
    fn a_tiny_amount_stored_before_the_bounds_scales_to_a_valid_one() {
        let stored =
            Quantity::from_store(f64::from_bits(1), None).unwrap_or_else(|e| unreachable!("{e}"));
        let scaled = scale(stored, 1000.0, 1.0);
        assert_eq!(Quantity::new(scaled.amount(), scaled.unit()), Ok(scaled));
    }
}
