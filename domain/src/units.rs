//! Unit conversion: which units measure the same thing (their dimension), the exact factors
//! between them, which unit to show an amount in (`1500 g` is `1.5 kg`), and the few densities
//! that let a volume stand for a mass.
//!
//! Factors are exact decimals by definition, from NIST SP 811 (2008), Appendix B.8, and NIST
//! Handbook 44, Appendix C: 1 lb = 453.592 37 g (so 1 oz = 28.349 523 125 g); 1 US gallon =
//! 231 in³ = 3 785.411 784 ml, so 1 US fl oz = 29.573 529 562 5 ml, 1 cup (8 fl oz) =
//! 236.588 236 5 ml, 1 tbsp (½ fl oz) = 14.786 764 781 25 ml, 1 tsp (⅓ tbsp) =
//! 4.928 921 593 75 ml. Arithmetic is f64 held, as every `Quantity` amount is, to 15
//! significant digits after each step (`round_significant`), which the factors (at most 15
//! digits) and every stored amount fit: an f64 carries any 15-digit decimal exactly in the
//! sense that it prints back as itself, so a chain of conversions drifts by at most one unit in
//! the 15th digit per step — far below the 4 digits an amount is shown with.
//!
//! Count units (piece, clove, slice, can, bunch, pinch) each measure only themselves: a clove
//! of garlic is not a piece (a head) of garlic, a can has no size, a pinch is not a standard
//! measure. An amount without a unit ("3 eggs") counts pieces.

use serde::{Deserialize, Serialize};

use crate::ingredient::{Quantity, Unit, round_significant};
use crate::limits;
use crate::scaling::round_for_cooks;

/// What a unit measures; amounts add up only within one dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    /// Base unit: the gram.
    Mass,
    /// Base unit: the millilitre.
    Volume,
    /// Pieces of something, in the given count unit (`Unit::Piece` also for no unit at all).
    Count(Unit),
}

/// A system of units to show amounts in (`?units=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnitSystem {
    /// g, kg, mg, ml, l (teaspoons and tablespoons kept where a recipe uses them).
    Metric,
    /// US customary: oz, lb, tsp, tbsp, cup (fl oz kept where a recipe uses it).
    Us,
}

impl UnitSystem {
    /// `metric` or `us`, exactly (the `?units=` values).
    pub fn parse(s: &str) -> Result<UnitSystem, String> {
        match s {
            "metric" => Ok(UnitSystem::Metric),
            "us" => Ok(UnitSystem::Us),
            _ => Err("must be metric or us".to_owned()),
        }
    }

    /// The value as written in a query or a body.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitSystem::Metric => "metric",
            UnitSystem::Us => "us",
        }
    }

    /// Whether a recipe written in `unit` already reads naturally in this system. Spoons
    /// belong to both: kitchens everywhere have them, and a metric tablespoon (15 ml) and a
    /// US one (14.79 ml) differ by less than anyone measures with a spoon.
    pub fn includes(self, unit: Unit) -> bool {
        match unit {
            Unit::Tsp | Unit::Tbsp => true,
            Unit::G | Unit::Kg | Unit::Mg | Unit::Ml | Unit::L => self == UnitSystem::Metric,
            Unit::Oz | Unit::Lb | Unit::Cup | Unit::FlOz => self == UnitSystem::Us,
            // Counts belong to every system and convert to none.
            _ => true,
        }
    }
}

/// 1 oz in grams (exact: 453.592 37 g / 16; NIST SP 811 B.8).
pub const GRAMS_PER_OUNCE: f64 = 28.349_523_125;
/// 1 lb in grams (exact; NIST SP 811 B.8).
pub const GRAMS_PER_POUND: f64 = 453.592_37;
/// 1 US fluid ounce in millilitres (exact: 3 785.411 784 ml / 128; NIST SP 811 B.8).
pub const ML_PER_FL_OZ: f64 = 29.573_529_562_5;
/// 1 US cup (8 fl oz) in millilitres (exact; NIST Handbook 44 Appendix C).
pub const ML_PER_CUP: f64 = 236.588_236_5;
/// 1 US tablespoon (½ fl oz) in millilitres (exact).
pub const ML_PER_TBSP: f64 = 14.786_764_781_25;
/// 1 US teaspoon (⅓ tbsp) in millilitres (exact).
pub const ML_PER_TSP: f64 = 4.928_921_593_75;

/// The unit's dimension and how many base units (g or ml) one of it is; `None` (no unit)
/// counts pieces.
pub fn dimension(unit: Option<Unit>) -> (Dimension, f64) {
    let Some(unit) = unit else {
        return (Dimension::Count(Unit::Piece), 1.0);
    };
    match unit {
        Unit::Mg => (Dimension::Mass, 0.001),
        Unit::G => (Dimension::Mass, 1.0),
        Unit::Kg => (Dimension::Mass, 1000.0),
        Unit::Oz => (Dimension::Mass, GRAMS_PER_OUNCE),
        Unit::Lb => (Dimension::Mass, GRAMS_PER_POUND),
        Unit::Ml => (Dimension::Volume, 1.0),
        Unit::L => (Dimension::Volume, 1000.0),
        Unit::Tsp => (Dimension::Volume, ML_PER_TSP),
        Unit::Tbsp => (Dimension::Volume, ML_PER_TBSP),
        Unit::Cup => (Dimension::Volume, ML_PER_CUP),
        Unit::FlOz => (Dimension::Volume, ML_PER_FL_OZ),
        Unit::Piece | Unit::Clove | Unit::Pinch | Unit::Slice | Unit::Can | Unit::Bunch => {
            (Dimension::Count(unit), 1.0)
        }
    }
}

/// `amount` of `unit` in its dimension's base unit (g, ml, or the count itself), to 15
/// significant digits.
pub fn to_base(amount: f64, unit: Option<Unit>) -> f64 {
    let (_, factor) = dimension(unit);
    round_significant(amount * factor, limits::AMOUNT_SIGNIFICANT_DIGITS)
}

/// `base` (g or ml) expressed in `unit`, to 15 significant digits.
pub fn from_base(base: f64, unit: Unit) -> f64 {
    let (_, factor) = dimension(Some(unit));
    round_significant(base / factor, limits::AMOUNT_SIGNIFICANT_DIGITS)
}

/// The unit to show `base` grams or millilitres in, in `system`: the largest unit of which
/// there is at least one (1500 g is 1.5 kg; 0.25 l is 250 ml; 48 tsp is 1 cup). US volumes
/// use teaspoons below a tablespoon, tablespoons below a quarter cup (4 tbsp), cups above;
/// US masses ounces below a pound. Counts keep their unit.
pub fn display_unit(dimension: Dimension, base: f64, system: UnitSystem) -> Option<Unit> {
    let unit = match (dimension, system) {
        (Dimension::Count(Unit::Piece), _) => return None,
        (Dimension::Count(unit), _) => unit,
        (Dimension::Mass, UnitSystem::Metric) if base >= 1000.0 => Unit::Kg,
        (Dimension::Mass, UnitSystem::Metric) if base >= 1.0 => Unit::G,
        (Dimension::Mass, UnitSystem::Metric) => Unit::Mg,
        (Dimension::Volume, UnitSystem::Metric) if base >= 1000.0 => Unit::L,
        (Dimension::Volume, UnitSystem::Metric) => Unit::Ml,
        (Dimension::Mass, UnitSystem::Us) if base >= GRAMS_PER_POUND => Unit::Lb,
        (Dimension::Mass, UnitSystem::Us) => Unit::Oz,
        (Dimension::Volume, UnitSystem::Us) if base >= ML_PER_CUP / 4.0 => Unit::Cup,
        (Dimension::Volume, UnitSystem::Us) if base >= ML_PER_TBSP => Unit::Tbsp,
        (Dimension::Volume, UnitSystem::Us) => Unit::Tsp,
    };
    Some(unit)
}

/// `base` in the display unit of `system`, rounded for a cook (4 significant digits, 3
/// decimals, never below 0.001 so that no amount reads as nothing). An amount under 0.001 of
/// the system's smallest unit is shown in the other system's instead, as [`convert`] keeps
/// such an amount's own unit: 0.01 g is 10 mg, where "0.001 oz" would be 28 mg. The amount
/// may exceed the 1,000,000 an ingredient may hold: a shopping list's totals are not recipe
/// input.
pub fn display(dimension: Dimension, base: f64, system: UnitSystem) -> (f64, Option<Unit>) {
    let exact = |system| {
        let unit = display_unit(dimension, base, system);
        let amount = match unit {
            Some(unit) if !matches!(dimension, Dimension::Count(_)) => from_base(base, unit),
            _ => base,
        };
        (amount, unit)
    };
    let (mut amount, mut unit) = exact(system);
    if amount < limits::AMOUNT_MIN {
        let other = match system {
            UnitSystem::Metric => UnitSystem::Us,
            UnitSystem::Us => UnitSystem::Metric,
        };
        let (other_amount, other_unit) = exact(other);
        if other_amount >= limits::AMOUNT_MIN {
            (amount, unit) = (other_amount, other_unit);
        }
    }
    (round_for_cooks(amount), unit)
}

/// `quantity` as a reader of `system` expects it: unchanged if its unit belongs to the system
/// (or is a count), else converted to the system's display unit for the amount. An amount the
/// display unit cannot hold as a quantity keeps its original unit: over 1,000,000, or under
/// 0.001 (0.001 g is 0.000035 oz; showing the 0.001 oz floor would multiply it by 28).
pub fn convert(quantity: Quantity, system: UnitSystem) -> Quantity {
    let Some(unit) = quantity.unit() else {
        return quantity;
    };
    if system.includes(unit) {
        return quantity;
    }
    let (dimension, _) = dimension(Some(unit));
    let base = to_base(quantity.amount(), Some(unit));
    let Some(shown) = display_unit(dimension, base, system) else {
        return quantity;
    };
    let exact = from_base(base, shown);
    if exact < limits::AMOUNT_MIN {
        return quantity;
    }
    Quantity::new(round_for_cooks(exact), Some(shown)).unwrap_or(quantity)
}

/// Grams per millilitre of an ingredient measured by volume, for the few ingredients where
/// the figure is well established, and the dimension shops sell it in (liquids by volume:
/// a shopping list says "1 l milk", not "1.03 kg"). From the USDA National Nutrient Database
/// for Standard Reference (SR Legacy, household measures), per US cup of 236.588 ml: water
/// 236.6 g, whole milk 244 g, all-purpose flour (spooned, levelled) 125 g, granulated sugar
/// 200 g, butter 227 g, long-grain white rice (raw) 185 g, vegetable oil 218 g, olive oil
/// 216 g, honey 339 g. Keys are normalised names (see `shopping::normalize_name`), singular.
pub const DENSITIES: &[(&str, f64, Dimension)] = &[
    ("water", 1.0, Dimension::Volume),
    ("milk", 1.031, Dimension::Volume),
    ("whole milk", 1.031, Dimension::Volume),
    ("flour", 0.528, Dimension::Mass),
    ("all purpose flour", 0.528, Dimension::Mass),
    ("plain flour", 0.528, Dimension::Mass),
    ("sugar", 0.845, Dimension::Mass),
    ("granulated sugar", 0.845, Dimension::Mass),
    ("white sugar", 0.845, Dimension::Mass),
    ("butter", 0.959, Dimension::Mass),
    ("rice", 0.782, Dimension::Mass),
    ("white rice", 0.782, Dimension::Mass),
    ("oil", 0.921, Dimension::Volume),
    ("vegetable oil", 0.921, Dimension::Volume),
    ("olive oil", 0.913, Dimension::Volume),
    ("extra virgin olive oil", 0.913, Dimension::Volume),
    // Jars of honey are labelled by weight.
    ("honey", 1.433, Dimension::Mass),
];

/// Grams per millilitre of the ingredient with this normalised name, if known.
pub fn density(normalized_name: &str) -> Option<f64> {
    DENSITIES
        .iter()
        .find(|(name, _, _)| *name == normalized_name)
        .map(|(_, density, _)| *density)
}

/// The dimension (mass or volume) the ingredient with this normalised name is bought in, for
/// the ingredients with a known density.
pub fn bought_by(normalized_name: &str) -> Option<Dimension> {
    DENSITIES
        .iter()
        .find(|(name, _, _)| *name == normalized_name)
        .map(|(_, _, dimension)| *dimension)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::float_cmp)]

    use super::*;

    fn quantity(amount: f64, unit: Unit) -> Quantity {
        Quantity::new(amount, Some(unit)).unwrap()
    }

    #[test]
    fn every_unit_has_the_dimension_the_contract_gives_it() {
        let expected = [
            (Unit::G, Dimension::Mass),
            (Unit::Kg, Dimension::Mass),
            (Unit::Mg, Dimension::Mass),
            (Unit::Ml, Dimension::Volume),
            (Unit::L, Dimension::Volume),
            (Unit::Tsp, Dimension::Volume),
            (Unit::Tbsp, Dimension::Volume),
            (Unit::Cup, Dimension::Volume),
            (Unit::FlOz, Dimension::Volume),
            (Unit::Oz, Dimension::Mass),
            (Unit::Lb, Dimension::Mass),
            (Unit::Piece, Dimension::Count(Unit::Piece)),
            (Unit::Clove, Dimension::Count(Unit::Clove)),
            (Unit::Pinch, Dimension::Count(Unit::Pinch)),
            (Unit::Slice, Dimension::Count(Unit::Slice)),
            (Unit::Can, Dimension::Count(Unit::Can)),
            (Unit::Bunch, Dimension::Count(Unit::Bunch)),
        ];
        assert_eq!(expected.len(), Unit::ALL.len());
        for (unit, dim) in expected {
            assert_eq!(dimension(Some(unit)).0, dim, "{unit}");
        }
        assert_eq!(dimension(None).0, Dimension::Count(Unit::Piece));
    }

    #[test]
    fn the_us_customary_factors_are_nists_exact_values() {
        for (unit, base) in [
            (Unit::Oz, 28.349_523_125),
            (Unit::Lb, 453.592_37),
            (Unit::Cup, 236.588_236_5),
            (Unit::FlOz, 29.573_529_562_5),
            (Unit::Tbsp, 14.786_764_781_25),
            (Unit::Tsp, 4.928_921_593_75),
            (Unit::Kg, 1000.0),
            (Unit::Mg, 0.001),
            (Unit::L, 1000.0),
        ] {
            assert_eq!(to_base(1.0, Some(unit)), base, "{unit}");
        }
        // The definitions hold among themselves: 16 oz = 1 lb, 48 tsp = 16 tbsp = 8 fl oz = 1 cup.
        assert_eq!(to_base(16.0, Some(Unit::Oz)), to_base(1.0, Some(Unit::Lb)));
        assert_eq!(to_base(48.0, Some(Unit::Tsp)), ML_PER_CUP);
        assert_eq!(to_base(16.0, Some(Unit::Tbsp)), ML_PER_CUP);
        assert_eq!(to_base(8.0, Some(Unit::FlOz)), ML_PER_CUP);
    }

    #[test]
    fn display_units_follow_the_contract_table() {
        use UnitSystem::{Metric, Us};
        for (dim, base, system, amount, unit) in [
            (Dimension::Mass, 1500.0, Metric, 1.5, Some(Unit::Kg)),
            (Dimension::Mass, 999.0, Metric, 999.0, Some(Unit::G)),
            (Dimension::Mass, 0.25, Metric, 250.0, Some(Unit::Mg)),
            (Dimension::Volume, 250.0, Metric, 250.0, Some(Unit::Ml)),
            (Dimension::Volume, 1000.0, Metric, 1.0, Some(Unit::L)),
            (Dimension::Volume, ML_PER_CUP, Us, 1.0, Some(Unit::Cup)),
            (
                Dimension::Volume,
                ML_PER_CUP / 4.0,
                Us,
                0.25,
                Some(Unit::Cup),
            ),
            (
                Dimension::Volume,
                3.0 * ML_PER_TBSP,
                Us,
                3.0,
                Some(Unit::Tbsp),
            ),
            (
                Dimension::Volume,
                2.0 * ML_PER_TSP,
                Us,
                2.0,
                Some(Unit::Tsp),
            ),
            (
                Dimension::Mass,
                GRAMS_PER_POUND * 2.5,
                Us,
                2.5,
                Some(Unit::Lb),
            ),
            (Dimension::Mass, 100.0, Us, 3.527, Some(Unit::Oz)),
            (
                Dimension::Count(Unit::Clove),
                3.0,
                Us,
                3.0,
                Some(Unit::Clove),
            ),
            (Dimension::Count(Unit::Piece), 3.0, Metric, 3.0, None),
        ] {
            assert_eq!(
                display(dim, base, system),
                (amount, unit),
                "{base} {dim:?} {system:?}"
            );
        }
    }

    #[test]
    fn forty_eight_teaspoons_show_as_one_cup() {
        let base = to_base(48.0, Some(Unit::Tsp));
        assert_eq!(
            display(Dimension::Volume, base, UnitSystem::Us),
            (1.0, Some(Unit::Cup))
        );
    }

    #[test]
    fn a_tiny_amount_never_rounds_to_nothing() {
        let (amount, unit) = display(Dimension::Mass, 1e-7, UnitSystem::Metric);
        assert_eq!((amount, unit), (0.001, Some(Unit::Mg)));
        let (amount, _) = display(Dimension::Volume, 1e-6, UnitSystem::Us);
        assert!(amount > 0.0);
    }

    #[test]
    fn a_total_too_small_for_the_systems_units_is_shown_in_the_others() {
        // 0.01 g of saffron is 0.00035 oz: the 0.001 floor would show 28 mg as "0.001 oz".
        assert_eq!(
            display(Dimension::Mass, 0.01, UnitSystem::Us),
            (10.0, Some(Unit::Mg))
        );
        assert_eq!(
            display(Dimension::Volume, 0.004, UnitSystem::Us),
            (0.004, Some(Unit::Ml))
        );
        // At or above 0.001 of the unit, the system's own unit (as `convert` does).
        assert_eq!(
            display(Dimension::Mass, 0.03, UnitSystem::Us),
            (0.001, Some(Unit::Oz))
        );
    }

    #[test]
    fn converting_keeps_units_the_system_already_has() {
        for (unit, system) in [
            (Unit::Tbsp, UnitSystem::Metric),
            (Unit::Tsp, UnitSystem::Us),
            (Unit::G, UnitSystem::Metric),
            (Unit::Cup, UnitSystem::Us),
            (Unit::Clove, UnitSystem::Metric),
        ] {
            assert_eq!(convert(quantity(3.0, unit), system), quantity(3.0, unit));
        }
    }

    #[test]
    fn converting_changes_foreign_units() {
        use UnitSystem::{Metric, Us};
        for (from, system, to) in [
            (quantity(2.0, Unit::Cup), Metric, quantity(473.2, Unit::Ml)),
            (quantity(8.0, Unit::Oz), Metric, quantity(226.8, Unit::G)),
            (quantity(2.2, Unit::Lb), Metric, quantity(997.9, Unit::G)),
            (quantity(5.0, Unit::Lb), Metric, quantity(2.268, Unit::Kg)),
            (quantity(1.0, Unit::FlOz), Metric, quantity(29.57, Unit::Ml)),
            (quantity(200.0, Unit::G), Us, quantity(7.055, Unit::Oz)),
            (quantity(1.0, Unit::Kg), Us, quantity(2.205, Unit::Lb)),
            (quantity(250.0, Unit::Ml), Us, quantity(1.057, Unit::Cup)),
            (quantity(10.0, Unit::Ml), Us, quantity(2.029, Unit::Tsp)),
            (quantity(1.0, Unit::L), Us, quantity(4.227, Unit::Cup)),
        ] {
            assert_eq!(convert(from, system), to, "{from:?} {system:?}");
        }
    }

    #[test]
    fn an_amount_too_small_for_the_display_unit_keeps_its_unit() {
        let tiny = quantity(0.001, Unit::G);
        assert_eq!(convert(tiny, UnitSystem::Us), tiny);
        assert_eq!(
            convert(quantity(0.03, Unit::G), UnitSystem::Us),
            quantity(0.001, Unit::Oz)
        );
    }

    #[test]
    fn an_amount_too_large_for_a_quantity_keeps_its_unit() {
        let huge = quantity(1_000_000.0, Unit::Kg);
        assert_eq!(convert(huge, UnitSystem::Us), huge);
    }

    #[test]
    fn unit_systems_parse_exactly_their_two_names() {
        assert_eq!(UnitSystem::parse("metric"), Ok(UnitSystem::Metric));
        assert_eq!(UnitSystem::parse("us"), Ok(UnitSystem::Us));
        for bad in ["", "US", "imperial", "metric "] {
            assert!(UnitSystem::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn densities_are_positive_and_listed_once() {
        let mut names: Vec<&str> = DENSITIES.iter().map(|(n, _, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DENSITIES.len());
        assert!(DENSITIES.iter().all(|(_, d, _)| (0.1..3.0).contains(d)));
        assert!(
            DENSITIES
                .iter()
                .all(|(_, _, by)| matches!(by, Dimension::Mass | Dimension::Volume))
        );
        assert_eq!(density("flour"), Some(0.528));
        assert_eq!(density("garlic"), None);
    }

    #[test]
    fn densities_are_the_usda_grams_per_cup_over_the_cup_in_ml() {
        // SR Legacy household measures, grams per US cup.
        for (name, grams_per_cup) in [
            ("water", 236.6),
            ("whole milk", 244.0),
            ("all purpose flour", 125.0),
            ("granulated sugar", 200.0),
            ("butter", 227.0),
            ("white rice", 185.0),
            ("vegetable oil", 218.0),
            ("olive oil", 216.0),
            ("extra virgin olive oil", 216.0),
            ("honey", 339.0),
        ] {
            let expected = (grams_per_cup / ML_PER_CUP * 1000.0_f64).round() / 1000.0;
            assert_eq!(density(name), Some(expected), "{name}");
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::arbitrary::config;

    const MEASURES: &[Unit] = &[
        Unit::G,
        Unit::Kg,
        Unit::Mg,
        Unit::Oz,
        Unit::Lb,
        Unit::Ml,
        Unit::L,
        Unit::Tsp,
        Unit::Tbsp,
        Unit::Cup,
        Unit::FlOz,
    ];

    fn amount() -> impl Strategy<Value = f64> {
        (1u64..=1_000_000_000).prop_map(|thousandths| thousandths as f64 / 1000.0)
    }

    proptest! {
        #![proptest_config(config(1024))]

        #[test]
        fn to_base_and_back_returns_the_amount(amount in amount(), unit in prop::sample::select(MEASURES)) {
            let back = from_base(to_base(amount, Some(unit)), unit);
            prop_assert!((back - amount).abs() <= amount * 1e-14, "{amount} {unit}: {back}");
        }

        #[test]
        fn converting_there_and_back_stays_within_rounding(
            amount in amount(),
            unit in prop::sample::select(MEASURES),
            system in prop::sample::select(vec![UnitSystem::Metric, UnitSystem::Us]),
        ) {
            let original = Quantity::new(amount, Some(unit)).unwrap_or_else(|e| unreachable!("{e}"));
            let there = convert(original, system);
            let other = match system {
                UnitSystem::Metric => UnitSystem::Us,
                UnitSystem::Us => UnitSystem::Metric,
            };
            let back = convert(there, other);
            let exact = to_base(amount, Some(unit));
            // Two roundings to 4 significant digits and to 3 decimals of the unit shown at each
            // step (so up to half a thousandth of the larger of the two units).
            let factor = dimension(there.unit()).1.max(dimension(back.unit()).1);
            for q in [there, back] {
                let (dim, _) = dimension(q.unit());
                prop_assert_eq!(dim, dimension(Some(unit)).0);
                let shown = to_base(q.amount(), q.unit());
                prop_assert!(
                    (shown - exact).abs() <= exact * 1.001e-3 + 0.001 * factor,
                    "{amount} {unit} → {q:?}: {shown} vs {exact}"
                );
            }
        }

        #[test]
        fn the_display_unit_shows_at_least_one_of_itself_unless_it_is_the_smallest(
            base in (1u64..=1_000_000_000_000).prop_map(|n| n as f64 / 1_000_000.0),
            dim in prop::sample::select(vec![Dimension::Mass, Dimension::Volume]),
            system in prop::sample::select(vec![UnitSystem::Metric, UnitSystem::Us]),
        ) {
            let (amount, unit) = display(dim, base, system);
            let smallest = matches!(unit, Some(Unit::Mg | Unit::Ml | Unit::Tsp | Unit::Oz));
            prop_assert!(amount > 0.0);
            prop_assert!(smallest || amount >= 0.25, "{base} {dim:?} {system:?}: {amount} {unit:?}");
        }
    }
}
