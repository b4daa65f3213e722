//! Recipe photos, the pure part: what an upload really is, whether it may be decoded, and the
//! metadata-free renditions made from it. No I/O, no AWS, no HTTP: the worker (Lambda or the
//! standalone server's background task) hands bytes in and stores what comes out. The choices
//! and the numbers behind them are in `doc/adr/0032-image-processing.md`.
//!
//! Two calls:
//! - [`inspect`] reads the type from the magic numbers and the dimensions from the header,
//!   never a file name or a claimed `Content-Type`, and never decodes pixels;
//! - [`process`] refuses from the header whatever is over the [`Limits`] (so a decompression
//!   bomb is never allocated), decodes with the decoder's own allocation budget, applies the
//!   EXIF orientation, and re-encodes from pixels only, so no metadata (EXIF with GPS, XMP,
//!   ICC, comments) survives.

mod error;
mod kind;
mod render;

pub use error::MediaError;
pub use kind::{ImageInfo, ImageType, inspect};
pub use render::{Limits, Processed, Rendition, Size, process};
