//! DynamoDB's own rules for what an item may hold, checked here so that no emulator's
//! leniency hides a breach (moto checks neither numbers inside lists nor, reliably, sizes).
//!
//! - Size: "DynamoDB item sizes and formats" (developer guide, CapacityUnitCalculations):
//!   an item is the sum of its attribute names and values; strings and binaries count their
//!   bytes, a number about 1 byte per two significant digits plus 1, null and booleans 1,
//!   a list or map 3 bytes plus 1 per element plus its elements (map keys are names). An
//!   item may take at most 400 KB ("Service, account, and table quotas": item size).
//! - Numbers: "Supported data types and naming rules" (HowItWorks.NamingRulesDataTypes): up
//!   to 38 significant digits, leading and trailing zeros trimmed; positive magnitudes from
//!   1E-130 to 9.9999999999999999999999999999999999999E+125, and the same negated.
//!
//! The domain keeps every recipe well inside these (`limits::CONTENT_BYTES_MAX`, the amount
//! bounds); the DynamoDB adapter checks each item again before it writes, so a breach is a
//! clear bug report rather than DynamoDB's `ValidationException`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

/// DynamoDB's item limit, 400 KB, read as 400,000 bytes: the smaller reading of "KB" is
/// the safe one.
pub const ITEM_BYTES_MAX: usize = 400_000;

/// Most significant digits a DynamoDB number may have.
const NUMBER_DIGITS_MAX: usize = 38;
/// Decimal exponents (of the form d.ddd × 10^e) DynamoDB accepts for a non-zero number.
const NUMBER_EXPONENT_MIN: i64 = -130;
const NUMBER_EXPONENT_MAX: i64 = 125;

/// The item's size as DynamoDB counts it, rounding each number's half-bytes up so the
/// estimate is never below DynamoDB's.
pub fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(items) => 3 + items.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(name, v)| 1 + name.len() + value_size(v))
                .sum::<usize>()
        }
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
        // A type this SDK version does not know: counted at its largest so an item holding
        // one is refused rather than written unmeasured.
        _ => ITEM_BYTES_MAX + 1,
    }
}

fn number_size(n: &str) -> usize {
    let digits = Decimal::parse(n).map_or(n.len(), |d| d.digits.len());
    digits.div_ceil(2) + 1
}

/// A number as DynamoDB sees it: its significant digits and the decimal exponent of the
/// first one (`123.4` is digits `1234`, exponent 2).
struct Decimal {
    digits: String,
    exponent: i64,
}

impl Decimal {
    /// Reads `[-+]digits[.digits][(e|E)[-+]digits]`, the form the SDK sends.
    fn parse(n: &str) -> Option<Decimal> {
        let unsigned = n.strip_prefix(['-', '+']).unwrap_or(n);
        let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
            Some((mantissa, exponent)) => (mantissa, exponent.parse::<i64>().ok()?),
            None => (unsigned, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all = format!("{whole}{fraction}");
        if all.is_empty() || !all.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let leading = all.len() - all.trim_start_matches('0').len();
        let digits = all.trim_matches('0').to_owned();
        // The first significant digit sits at position `leading` of `all`; the decimal
        // point sits after `whole.len()` digits.
        let position = i64::try_from(whole.len()).ok()? - i64::try_from(leading).ok()? - 1;
        Some(Decimal {
            digits,
            exponent: exponent.checked_add(position)?,
        })
    }
}

/// Whether DynamoDB stores `n` as a number: at most 38 significant digits and, unless it is
/// zero, a magnitude from 1E-130 to below 1E+126.
pub fn check_number(n: &str) -> Result<(), String> {
    let decimal = Decimal::parse(n).ok_or_else(|| format!("{n:?} is not a number"))?;
    if decimal.digits.is_empty() {
        return Ok(());
    }
    if decimal.digits.len() > NUMBER_DIGITS_MAX {
        return Err(format!(
            "{n} has {} significant digits; DynamoDB keeps at most {NUMBER_DIGITS_MAX}",
            decimal.digits.len()
        ));
    }
    if !(NUMBER_EXPONENT_MIN..=NUMBER_EXPONENT_MAX).contains(&decimal.exponent) {
        return Err(format!(
            "{n} is outside DynamoDB's magnitudes 1E-130 to 9.99…E+125"
        ));
    }
    Ok(())
}

/// Every number in `value`, at any depth, passes [`check_number`].
fn check_numbers(value: &AttributeValue) -> Result<(), String> {
    match value {
        AttributeValue::N(n) => check_number(n),
        AttributeValue::Ns(set) => set.iter().try_for_each(|n| check_number(n)),
        AttributeValue::L(items) => items.iter().try_for_each(check_numbers),
        AttributeValue::M(map) => map.values().try_for_each(check_numbers),
        _ => Ok(()),
    }
}

/// Whether DynamoDB would store `item`: its size within [`ITEM_BYTES_MAX`] and every number
/// within DynamoDB's range and precision. The message names what is wrong, never a value
/// beyond a number.
pub fn check_item(item: &HashMap<String, AttributeValue>) -> Result<(), String> {
    let size = item_size(item);
    if size > ITEM_BYTES_MAX {
        return Err(format!(
            "item would take {size} bytes; DynamoDB stores at most {ITEM_BYTES_MAX}"
        ));
    }
    item.iter().try_for_each(|(name, value)| {
        check_numbers(value).map_err(|e| format!("attribute {name:?}: {e}"))
    })
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]

    use super::*;

    fn n(s: &str) -> AttributeValue {
        AttributeValue::N(s.to_owned())
    }

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_owned())
    }

    #[test]
    fn numbers_within_dynamodbs_range_and_precision_are_storable() {
        for number in [
            "0",
            "-0",
            "0.000",
            "1",
            "-1",
            "1E-130",
            "1e-130",
            "-1E-130",
            "0.001",
            "1000000",
            "9.9999999999999999999999999999999999999E+125",
            "-9.9999999999999999999999999999999999999E+125",
            "12345678901234567890123456789012345678",
            "18446744073709551615",
            "100000000000000000000000000000000000000000000000000",
            "0.30000000000000004",
        ] {
            assert_eq!(check_number(number), Ok(()), "{number}");
        }
    }

    #[test]
    fn numbers_dynamodb_refuses_are_named() {
        for number in [
            "1E-131",
            "0.99E-130",
            "1e-200",
            "1E+126",
            "-1E+126",
            "123456789012345678901234567890123456789",
            "1.23456789012345678901234567890123456789",
            "",
            "1e",
            "abc",
            "NaN",
            "inf",
        ] {
            assert!(check_number(number).is_err(), "{number}");
        }
        // Rust's own rendering of f64::MIN_POSITIVE, as serde_dynamo writes it.
        assert!(check_number(&f64::MIN_POSITIVE.to_string()).is_err());
    }

    #[test]
    fn leading_and_trailing_zeros_are_not_significant() {
        assert_eq!(number_size("000123000"), number_size("123"));
        assert_eq!(number_size("0.00012"), 2);
        assert_eq!(number_size("1000000"), 2);
        assert_eq!(number_size("12345"), 4);
    }

    #[test]
    fn sizes_follow_the_developer_guide() {
        // Strings: name + bytes; numbers: name + ceil(digits / 2) + 1; bool and null: name + 1.
        let item = HashMap::from([
            ("pk".to_owned(), s("OWNER#é")),
            ("n".to_owned(), n("123")),
            ("b".to_owned(), AttributeValue::Bool(true)),
        ]);
        assert_eq!(item_size(&item), (2 + 8) + (1 + 3) + (1 + 1));
        // Lists and maps: name + 3 + per element (1 + element), map keys counted as names.
        let item = HashMap::from([
            ("l".to_owned(), AttributeValue::L(vec![s("ab"), n("1")])),
            ("e".to_owned(), AttributeValue::L(vec![])),
            (
                "m".to_owned(),
                AttributeValue::M(HashMap::from([("k".to_owned(), s("v"))])),
            ),
        ]);
        assert_eq!(
            item_size(&item),
            (1 + 3 + 3 + 3) + (1 + 3) + (1 + 3 + 1 + 1 + 1)
        );
    }

    #[test]
    fn an_item_over_400_kb_is_refused_with_its_size() {
        let item = HashMap::from([("text".to_owned(), s(&"x".repeat(ITEM_BYTES_MAX)))]);
        assert_eq!(
            check_item(&item),
            Err("item would take 400004 bytes; DynamoDB stores at most 400000".to_owned())
        );
        let item = HashMap::from([("text".to_owned(), s(&"x".repeat(ITEM_BYTES_MAX - 4)))]);
        assert_eq!(check_item(&item), Ok(()));
    }

    #[test]
    fn a_number_nested_in_a_list_is_checked() {
        let item = HashMap::from([(
            "ingredients".to_owned(),
            AttributeValue::L(vec![AttributeValue::M(HashMap::from([(
                "amount".to_owned(),
                n("1e-200"),
            )]))]),
        )]);
        assert!(check_item(&item).is_err());
    }
}
