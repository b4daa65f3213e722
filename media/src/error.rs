//! Why a photo was refused, in words a user can read: the worker stores `to_string()` as the
//! photo's `failed` reason.

use std::fmt;

/// The longest decoder message kept in a [`MediaError::Corrupt`] reason.
const DETAIL_MAX_CHARS: usize = 160;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// No known image signature at the start of the bytes.
    #[error("not an image")]
    NotAnImage,
    /// A real image of a type that is not accepted (`gif`, `tiff`, `heic`, …).
    #[error("type not allowed: {0}")]
    TypeNotAllowed(&'static str),
    /// More bytes than [`crate::Limits::max_bytes`].
    #[error("file too large: {len} bytes (max {max} bytes)")]
    TooManyBytes { len: usize, max: usize },
    /// More pixels than the limits allow, known from the header before any decoding.
    #[error(
        "too large: {width} × {height} px (max {max_width} × {max_height} px and {max_megapixels} megapixels)"
    )]
    TooLarge {
        width: u32,
        height: u32,
        max_width: u32,
        max_height: u32,
        max_megapixels: u64,
    },
    /// The header was acceptable but the data is not a valid image of its type.
    #[error("corrupt image: {0}")]
    Corrupt(String),
}

impl MediaError {
    pub(crate) fn corrupt(cause: impl fmt::Display) -> Self {
        let text = cause.to_string();
        let detail = match text.char_indices().nth(DETAIL_MAX_CHARS) {
            Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
            None => text,
        };
        Self::Corrupt(detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_reason_is_cut_to_a_readable_length() {
        let reason = MediaError::corrupt("x".repeat(10_000)).to_string();
        assert!(reason.starts_with("corrupt image: xxx"));
        assert!(reason.chars().count() < DETAIL_MAX_CHARS + 20, "{reason}");
    }

    #[test]
    fn the_reasons_read_as_the_contract_says() {
        assert_eq!(MediaError::NotAnImage.to_string(), "not an image");
        assert_eq!(
            MediaError::TypeNotAllowed("gif").to_string(),
            "type not allowed: gif"
        );
        let too_large = MediaError::TooLarge {
            width: 12_000,
            height: 9_000,
            max_width: 10_000,
            max_height: 10_000,
            max_megapixels: 50,
        };
        assert_eq!(
            too_large.to_string(),
            "too large: 12000 × 9000 px (max 10000 × 10000 px and 50 megapixels)"
        );
    }
}
