//! Validation failures as the API reports them: one entry per problem, each with an
//! RFC 6901 JSON pointer into the request body, so a client can show every mistake at once.

use std::fmt;

/// One validation failure: a JSON pointer (RFC 6901) into the request body, and a message
/// written for a person ("must be between 1 and 1000").
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// Where the problem is, e.g. `/ingredients/0/quantity/amount`; `""` is the whole body.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "/ingredients/0/quantity/amount")
    )]
    pub pointer: String,
    /// What is wrong, for a person to read.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "must be between 0.001 and 1000000")
    )]
    pub message: String,
}

impl FieldError {
    /// A failure at `pointer`.
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.pointer, self.message)
        }
    }
}

/// Every validation failure of one value; never empty when produced by this module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// A single failure at `pointer`, for callers that validate one value (a query parameter…).
    pub fn single(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError::new(pointer, message)])
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.len() {
            0 => return f.write_str("invalid value"),
            1 => f.write_str("1 invalid field: ")?,
            n => write!(f, "{n} invalid fields: ")?,
        }
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Where a recipe being parsed comes from. A client's recipe must meet today's rules in
/// full; a recipe read back from a store was checked when it was written, so the rules that
/// only guard what may be written (the stored-size limit, the tighter amount bounds) are not
/// applied again: tightening them must never make an existing recipe unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Client,
    Store,
}

/// Gathers failures while a whole body is checked, so one response lists all of them.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    errors: Vec<FieldError>,
}

impl Collector {
    pub(crate) fn push(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(pointer, message));
    }

    /// The value when `result` is Ok; otherwise records its message at `pointer`.
    pub(crate) fn check<T>(
        &mut self,
        pointer: impl FnOnce() -> String,
        result: Result<T, String>,
    ) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.push(pointer(), message);
                None
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The failures gathered so far. A caller only asks after something failed; should a
    /// bug ever make it ask with none recorded, the body is still refused rather than
    /// accepted half-checked.
    pub(crate) fn into_errors(self) -> ValidationErrors {
        if self.errors.is_empty() {
            ValidationErrors::single("", "invalid value")
        } else {
            ValidationErrors(self.errors)
        }
    }
}

/// A JSON number that must be a whole number in `min..=max`. Whole floats (`2.0`) pass
/// because many JSON writers cannot tell them from integers; `2.5`, `-1` and `1e30` get
/// one message, since to a person they are all "not a number of minutes between …".
pub(crate) fn whole_number(n: &serde_json::Number, min: u64, max: u64) -> Result<u64, String> {
    let value = match n.as_u64() {
        Some(v) => Some(v),
        None => n.as_f64().and_then(|f| {
            // The bounds are small integers, so the cast below cannot truncate.
            let whole_and_in_range =
                f.is_finite() && f.fract() == 0.0 && f >= min as f64 && f <= max as f64;
            whole_and_in_range.then_some(f as u64)
        }),
    };
    value
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| format!("must be a whole number between {min} and {max}"))
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

    fn number(json: &str) -> serde_json::Number {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn whole_numbers_inside_the_range_are_accepted() {
        assert_eq!(whole_number(&number("1"), 1, 10), Ok(1));
        assert_eq!(whole_number(&number("10"), 1, 10), Ok(10));
    }

    #[test]
    fn whole_floats_are_accepted_as_integers() {
        assert_eq!(whole_number(&number("2.0"), 1, 10), Ok(2));
        assert_eq!(whole_number(&number("1e1"), 1, 10), Ok(10));
    }

    #[test]
    fn fractions_negatives_and_huge_numbers_are_rejected() {
        for json in [
            "2.5",
            "-1",
            "1e30",
            "0",
            "11",
            "18446744073709551615",
            "-0.5",
        ] {
            assert_eq!(
                whole_number(&number(json), 1, 10),
                Err("must be a whole number between 1 and 10".to_owned()),
                "{json}"
            );
        }
    }

    #[test]
    fn errors_display_every_pointer_and_message() {
        let errors = ValidationErrors(vec![
            FieldError::new("/title", "is required"),
            FieldError::new("/tags/3", "must not be empty"),
        ]);
        assert_eq!(
            errors.to_string(),
            "2 invalid fields: /title: is required; /tags/3: must not be empty"
        );
    }

    #[test]
    fn field_error_serializes_as_pointer_and_message() {
        let json = serde_json::to_value(FieldError::new("/servings", "must be between 1 and 1000"));
        assert_eq!(
            json.ok(),
            Some(
                serde_json::json!({"pointer": "/servings", "message": "must be between 1 and 1000"})
            )
        );
    }

    #[test]
    fn a_collector_asked_for_errors_with_none_recorded_still_refuses() {
        assert_eq!(Collector::default().into_errors().0.len(), 1);
    }
}
