//! From accepted bytes to metadata-free renditions.

use std::io::Cursor;

use image::imageops::{self, FilterType};
use image::{DynamicImage, ImageDecoder, ImageReader, Rgb, RgbImage};

use crate::kind::{ImageInfo, decoder_message, inspect};
use crate::{ImageType, MediaError};

/// What [`process`] accepts. The defaults are the contract's (ADR 0032); the API binds
/// `max_bytes` into the presigned upload so S3 refuses more before the worker ever sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_width: u32,
    pub max_height: u32,
    /// Width × height: the decoded buffer is this × 3 or 4 bytes, whatever the file size.
    pub max_pixels: u64,
}

impl Limits {
    /// 20 MiB: a 48-megapixel phone JPEG is 8–15 MB.
    pub const MAX_BYTES: usize = 20 * 1024 * 1024;
    /// Per side: wider than any phone or consumer camera sensor (a 61 MP full frame is 9504).
    pub const MAX_SIDE: u32 = 10_000;
    /// 50 megapixels: 48 MP phones (8064 × 6048) pass, panoramas beyond it do not.
    pub const MAX_PIXELS: u64 = 50_000_000;

    /// The decoder's own allocation budget: the largest RGBA8 buffer the pixel limit allows.
    /// A 16-bit PNG over half the pixel limit is refused by the decoder against this.
    fn decoder_budget(&self) -> u64 {
        self.max_pixels.saturating_mul(4)
    }

    fn check(&self, info: &ImageInfo) -> Result<(), MediaError> {
        if info.width > self.max_width
            || info.height > self.max_height
            || info.pixels() > self.max_pixels
        {
            return Err(self.too_large(info.width, info.height));
        }
        Ok(())
    }

    fn too_large(&self, width: u32, height: u32) -> MediaError {
        MediaError::TooLarge {
            width,
            height,
            max_width: self.max_width,
            max_height: self.max_height,
            max_megapixels: self.max_pixels / 1_000_000,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: Self::MAX_BYTES,
            max_width: Self::MAX_SIDE,
            max_height: Self::MAX_SIDE,
            max_pixels: Self::MAX_PIXELS,
        }
    }
}

/// The renditions stored for a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Size {
    /// The whole picture, re-encoded without metadata.
    Original,
    /// 960 px on the long side (a recipe page).
    Medium,
    /// 320 px on the long side (a list or a card).
    Thumb,
}

impl Size {
    pub const ALL: [Self; 3] = [Self::Original, Self::Medium, Self::Thumb];

    /// The long side a rendition is reduced to; never enlarged to it.
    pub fn long_side(self) -> Option<u32> {
        match self {
            Self::Original => None,
            Self::Medium => Some(960),
            Self::Thumb => Some(320),
        }
    }

    /// The name used in object keys and the CLI's `--size`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Original => "original",
            Self::Medium => "medium",
            Self::Thumb => "thumb",
        }
    }
}

/// One encoded picture.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendition {
    pub size: Size,
    pub width: u32,
    pub height: u32,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Rendition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendition")
            .field("size", &self.size)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// What [`process`] made: the upload as it was declared, and one rendition per [`Size`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    pub source: ImageInfo,
    pub original: Rendition,
    pub medium: Rendition,
    pub thumb: Rendition,
}

impl Processed {
    pub fn renditions(&self) -> [&Rendition; 3] {
        [&self.original, &self.medium, &self.thumb]
    }

    pub fn rendition(&self, size: Size) -> &Rendition {
        match size {
            Size::Original => &self.original,
            Size::Medium => &self.medium,
            Size::Thumb => &self.thumb,
        }
    }
}

/// Every rendition is a baseline JPEG at this quality (ADR 0032: the pure-Rust WebP encoder is
/// lossless only, and lossless WebP of a photo is several times the JPEG's size).
const JPEG_QUALITY: u8 = 82;
const OUTPUT_TYPE: ImageType = ImageType::Jpeg;

/// Checks `bytes` against `limits` from the header alone, decodes them within the decoder's own
/// allocation budget, turns the picture upright (EXIF orientation) and encodes the original and
/// the thumbnails from pixels only, so nothing of the input's metadata is carried over.
pub fn process(bytes: &[u8], limits: &Limits) -> Result<Processed, MediaError> {
    if bytes.len() > limits.max_bytes {
        return Err(MediaError::TooManyBytes {
            len: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let source = inspect(bytes)?;
    limits.check(&source)?;

    let picture = decode(bytes, &source, limits)?;
    let original = flatten(picture);
    let medium = downscale(&original, Size::Medium);
    // From the medium one, not the original: a third of the work, no visible difference.
    let thumb = downscale(medium.as_ref().unwrap_or(&original), Size::Thumb);

    let original_rendition = encode(&original, Size::Original)?;
    let medium_rendition = match &medium {
        Some(smaller) => encode(smaller, Size::Medium)?,
        None => relabel(&original_rendition, Size::Medium),
    };
    let thumb_rendition = match &thumb {
        Some(smaller) => encode(smaller, Size::Thumb)?,
        None => relabel(&medium_rendition, Size::Thumb),
    };
    Ok(Processed {
        source,
        original: original_rendition,
        medium: medium_rendition,
        thumb: thumb_rendition,
    })
}

fn decode(bytes: &[u8], source: &ImageInfo, limits: &Limits) -> Result<DynamicImage, MediaError> {
    let mut budget = image::Limits::default();
    budget.max_image_width = Some(limits.max_width);
    budget.max_image_height = Some(limits.max_height);
    budget.max_alloc = Some(limits.decoder_budget());

    let mut reader = ImageReader::new(Cursor::new(bytes));
    reader.set_format(match source.image_type {
        ImageType::Jpeg => image::ImageFormat::Jpeg,
        ImageType::Png => image::ImageFormat::Png,
        ImageType::Webp => image::ImageFormat::WebP,
    });
    reader.limits(budget.clone());
    let mut decoder = reader
        .into_decoder()
        .map_err(|error| refusal(&error, source, limits))?;
    // As `ImageReader::decode` does: the output buffer counts against the budget before it is
    // allocated.
    budget
        .reserve(decoder.total_bytes())
        .map_err(|error| refusal(&error, source, limits))?;
    // An unreadable EXIF block is no reason to refuse the picture: it is dropped anyway.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture =
        DynamicImage::from_decoder(decoder).map_err(|error| refusal(&error, source, limits))?;
    picture.apply_orientation(orientation);
    Ok(picture)
}

fn refusal(error: &image::ImageError, source: &ImageInfo, limits: &Limits) -> MediaError {
    match error {
        image::ImageError::Limits(_) => limits.too_large(source.width, source.height),
        other => MediaError::corrupt(decoder_message(other)),
    }
}

/// RGB8, with any transparency composited onto white (JPEG has no alpha channel).
fn flatten(picture: DynamicImage) -> RgbImage {
    if !picture.color().has_alpha() {
        return picture.into_rgb8();
    }
    let rgba = picture.into_rgba8();
    let mut rgb = RgbImage::new(rgba.width(), rgba.height());
    for (out, pixel) in rgb.pixels_mut().zip(rgba.pixels()) {
        let [r, g, b, a] = pixel.0;
        *out = Rgb([over_white(r, a), over_white(g, a), over_white(b, a)]);
    }
    rgb
}

fn over_white(channel: u8, alpha: u8) -> u8 {
    let (c, a) = (u32::from(channel), u32::from(alpha));
    let blended = (c * a + 255 * (255 - a) + 127) / 255;
    u8::try_from(blended).unwrap_or(u8::MAX)
}

/// The picture reduced to the size's long side, or `None` when it is already no larger.
fn downscale(picture: &RgbImage, size: Size) -> Option<RgbImage> {
    let long_side = size.long_side()?;
    let (width, height) = picture.dimensions();
    let longest = width.max(height);
    if longest <= long_side {
        return None;
    }
    let scale = |side: u32| -> u32 {
        let scaled = u64::from(side) * u64::from(long_side) / u64::from(longest);
        u32::try_from(scaled).unwrap_or(long_side).max(1)
    };
    let (new_width, new_height) = (scale(width), scale(height));
    // Reducing by 2× or more, an area average (every source pixel counted once) is as sharp as
    // a windowed filter and several times faster; closer to 1× it aliases, so filter there.
    Some(if longest >= 2 * long_side {
        imageops::thumbnail(picture, new_width, new_height)
    } else {
        imageops::resize(picture, new_width, new_height, FilterType::CatmullRom)
    })
}

fn encode(picture: &RgbImage, size: Size) -> Result<Rendition, MediaError> {
    let mut bytes = Vec::new();
    // Baseline, 4:2:0 chroma at this quality, JFIF header only: no EXIF, ICC or comment
    // segment is written unless asked for, and nothing here asks.
    let encoder = jpeg_encoder::Encoder::new(&mut bytes, JPEG_QUALITY);
    let side =
        |value: u32| u16::try_from(value).map_err(|_| MediaError::corrupt("too wide for JPEG"));
    encoder
        .encode(
            picture.as_raw(),
            side(picture.width())?,
            side(picture.height())?,
            jpeg_encoder::ColorType::Rgb,
        )
        .map_err(MediaError::corrupt)?;
    Ok(Rendition {
        size,
        width: picture.width(),
        height: picture.height(),
        content_type: OUTPUT_TYPE.content_type(),
        bytes,
    })
}

fn relabel(rendition: &Rendition, size: Size) -> Rendition {
    Rendition {
        size,
        ..rendition.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transparency_is_composited_onto_white() {
        assert_eq!(over_white(0, 0), 255);
        assert_eq!(over_white(0, 255), 0);
        assert_eq!(over_white(10, 255), 10);
        assert_eq!(over_white(0, 128), 127);
    }

    #[test]
    fn a_thumbnail_keeps_the_aspect_ratio_on_its_long_side() {
        let tall = RgbImage::new(300, 1200);
        let thumb = downscale(&tall, Size::Thumb).map(|image| image.dimensions());
        assert_eq!(thumb, Some((80, 320)));
        let sliver = RgbImage::new(5000, 1);
        let thumb = downscale(&sliver, Size::Thumb).map(|image| image.dimensions());
        assert_eq!(thumb, Some((320, 1)));
    }

    #[test]
    fn a_picture_no_larger_than_a_size_is_not_resized() {
        let small = RgbImage::new(320, 200);
        assert!(downscale(&small, Size::Thumb).is_none());
        assert!(downscale(&small, Size::Original).is_none());
    }
}
