//! What the bytes are: the type from the magic numbers, the dimensions from the header.

use std::io::Cursor;

use image::{ImageFormat, ImageReader};

use crate::MediaError;

/// The image types a photo may be uploaded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageType {
    Jpeg,
    Png,
    Webp,
}

impl ImageType {
    /// The media type, as a presigned upload binds it and as a rendition is served.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }

    /// The inverse of [`Self::content_type`]: what an upload may claim to be.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        [Self::Jpeg, Self::Png, Self::Webp]
            .into_iter()
            .find(|kind| kind.content_type() == content_type)
    }

    fn format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::Webp => ImageFormat::WebP,
        }
    }
}

/// What the header says, read without decoding a pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub image_type: ImageType,
    pub width: u32,
    pub height: u32,
}

impl ImageInfo {
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

/// The real type and dimensions of `bytes`: from the signature (never a name or a claimed type)
/// and the header. Only the header is parsed; no pixel buffer is allocated, so this is safe on
/// any input, including a decompression bomb.
pub fn inspect(bytes: &[u8]) -> Result<ImageInfo, MediaError> {
    let image_type = sniff(bytes)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_type.format());
    // Headers only: the budget covers the decoder's header state, never a pixel buffer.
    reader.limits(image::Limits::default());
    let (width, height) = reader
        .into_dimensions()
        .map_err(|error| MediaError::corrupt(decoder_message(&error)))?;
    if width == 0 || height == 0 {
        return Err(MediaError::corrupt("the header declares no pixels"));
    }
    Ok(ImageInfo {
        image_type,
        width,
        height,
    })
}

fn sniff(bytes: &[u8]) -> Result<ImageType, MediaError> {
    match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => Ok(ImageType::Jpeg),
        Ok(ImageFormat::Png) => Ok(ImageType::Png),
        Ok(ImageFormat::WebP) => Ok(ImageType::Webp),
        Ok(other) => Err(MediaError::TypeNotAllowed(
            other.extensions_str().first().copied().unwrap_or("unknown"),
        )),
        // The `image` crate knows no HEIF signature, and HEIC is what an iPhone camera writes
        // by default: name it, so the reason tells the user what to change.
        Err(_) if is_heif(bytes) => Err(MediaError::TypeNotAllowed("heic")),
        Err(_) => Err(MediaError::NotAnImage),
    }
}

/// An ISO-BMFF `ftyp` box whose major brand is one of HEIF's (ISO/IEC 23008-12).
fn is_heif(bytes: &[u8]) -> bool {
    const BRANDS: [&[u8; 4]; 6] = [b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1"];
    bytes.get(4..8) == Some(b"ftyp")
        && bytes
            .get(8..12)
            .is_some_and(|brand| BRANDS.iter().any(|known| known.as_slice() == brand))
}

/// The decoder's own words without the `image` crate's wrapping of them.
pub(crate) fn decoder_message(error: &image::ImageError) -> String {
    match error {
        image::ImageError::Decoding(decoding) => decoding.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_content_type_maps_to_its_image_type_and_back() {
        for kind in [ImageType::Jpeg, ImageType::Png, ImageType::Webp] {
            assert_eq!(
                ImageType::from_content_type(kind.content_type()),
                Some(kind)
            );
        }
        assert_eq!(ImageType::from_content_type("image/gif"), None);
    }

    #[test]
    fn a_heic_signature_is_named_rather_than_called_not_an_image() {
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert_eq!(inspect(heic), Err(MediaError::TypeNotAllowed("heic")));
    }

    #[test]
    fn text_and_empty_input_are_not_images() {
        assert_eq!(inspect(b""), Err(MediaError::NotAnImage));
        assert_eq!(
            inspect(b"<html><body>hello</body></html>"),
            Err(MediaError::NotAnImage)
        );
    }
}
