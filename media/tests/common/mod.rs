//! Images the tests make for themselves: no binary fixtures. Each carries its metadata in the
//! way real cameras and editors write it, marked with bytes the outputs must not contain.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ImageEncoder, Rgb, RgbImage};

/// In every metadata block of the inputs below; absent from every output.
pub const SECRET: &[u8] = b"GOTA-SECRET-48.858370N-2.294481E";

/// A photo-like picture: smooth gradients with some texture, so JPEG does real work.
pub fn picture(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let r = (x * 255 / width.max(1)) as u8;
        let g = (y * 255 / height.max(1)) as u8;
        let b = ((x ^ y) & 0x3f) as u8 + 96;
        Rgb([r, g, b])
    })
}

/// A camera-like picture for measurements: the gradients of [`picture`] with sensor-like
/// noise (a fixed-seed generator), which is what makes real photos costly to encode.
pub fn photo(width: u32, height: u32) -> RgbImage {
    let mut state: u32 = 0x9e37_79b9;
    let mut image = picture(width, height);
    for pixel in image.pixels_mut() {
        for channel in &mut pixel.0 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let noise = (state % 25) as i16 - 12;
            *channel = (i16::from(*channel) + noise).clamp(0, 255) as u8;
        }
    }
    image
}

/// Left half red, right half blue: where the halves end up shows a rotation.
pub fn halves(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            Rgb([230, 20, 20])
        } else {
            Rgb([20, 20, 230])
        }
    })
}

/// A TIFF-structured EXIF block (little-endian) as cameras write it: IFD0 with Orientation
/// and a GPSInfo pointer; a GPS IFD with latitude and a processing method holding [`SECRET`].
pub fn exif(orientation: u16) -> Vec<u8> {
    fn entry(out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&value);
    }
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const ASCII: u16 = 2;
    const RATIONAL: u16 = 5;
    const UNDEFINED: u16 = 7;

    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    // IFD0 at 8: 2 entries → 2 + 24 + 4 = 30 bytes; the GPS IFD follows at 38.
    let gps_ifd = 38u32;
    out.extend_from_slice(&2u16.to_le_bytes());
    let [o0, o1] = orientation.to_le_bytes();
    entry(&mut out, 0x0112, SHORT, 1, [o0, o1, 0, 0]);
    entry(&mut out, 0x8825, LONG, 1, gps_ifd.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    // GPS IFD: 3 entries → 2 + 36 + 4 = 42 bytes; its data follows at 80.
    let latitude_at = gps_ifd + 42;
    let method_at = latitude_at + 24;
    out.extend_from_slice(&3u16.to_le_bytes());
    entry(&mut out, 0x0001, ASCII, 2, *b"N\0\0\0");
    entry(&mut out, 0x0002, RATIONAL, 3, latitude_at.to_le_bytes());
    entry(
        &mut out,
        0x001b,
        UNDEFINED,
        SECRET.len() as u32,
        method_at.to_le_bytes(),
    );
    out.extend_from_slice(&0u32.to_le_bytes());
    for (numerator, denominator) in [(48u32, 1u32), (51, 1), (3013, 100)] {
        out.extend_from_slice(&numerator.to_le_bytes());
        out.extend_from_slice(&denominator.to_le_bytes());
    }
    out.extend_from_slice(SECRET);
    out
}

/// An ICC profile stand-in: the decoders carry its bytes through untouched.
pub fn icc() -> Vec<u8> {
    let mut profile = b"GOTA-ICC-".to_vec();
    profile.extend_from_slice(SECRET);
    profile
}

/// A JPEG with EXIF (GPS, orientation), an ICC profile, XMP and a comment.
pub fn jpeg_with_metadata(picture: &RgbImage, orientation: u16) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut bytes, 90);
    encoder.set_exif_metadata(exif(orientation)).unwrap();
    encoder.set_icc_profile(icc()).unwrap();
    encoder
        .write_image(
            picture.as_raw(),
            picture.width(),
            picture.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    let mut xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><exif:GPSLatitude>".to_vec();
    xmp.extend_from_slice(SECRET);
    xmp.extend_from_slice(b"</exif:GPSLatitude></x:xmpmeta>");
    let mut comment = b"taken at ".to_vec();
    comment.extend_from_slice(SECRET);
    let bytes = insert_jpeg_segment(&bytes, 0xe1, &xmp);
    insert_jpeg_segment(&bytes, 0xfe, &comment)
}

/// `segment` (marker `0xFF kind`) right after SOI.
fn insert_jpeg_segment(jpeg: &[u8], kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xff, kind]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

pub fn jpeg(picture: &RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    picture
        .write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, 90))
        .unwrap();
    bytes
}

/// A PNG with an eXIf chunk (GPS, orientation) and a tEXt comment.
pub fn png_with_metadata(picture: &RgbImage, orientation: u16) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = PngEncoder::new(&mut bytes);
    encoder.set_exif_metadata(exif(orientation)).unwrap();
    encoder
        .write_image(
            picture.as_raw(),
            picture.width(),
            picture.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    let mut text = b"Comment\0".to_vec();
    text.extend_from_slice(SECRET);
    insert_png_chunk(&bytes, b"tEXt", &text)
}

pub fn png(picture: &RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    picture
        .write_with_encoder(PngEncoder::new(&mut bytes))
        .unwrap();
    bytes
}

/// A PNG chunk (with its CRC) right after IHDR.
pub fn insert_png_chunk(png: &[u8], kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let after_ihdr = 8 + 8 + 13 + 4;
    let mut out = png[..after_ihdr].to_vec();
    out.extend_from_slice(&png_chunk(kind, data));
    out.extend_from_slice(&png[after_ihdr..]);
    out
}

pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    chunk.extend_from_slice(&crc.finalize().to_be_bytes());
    chunk
}

/// A (lossless) WebP with EXIF (GPS, orientation) and an ICC profile in its VP8X container.
pub fn webp_with_metadata(picture: &RgbImage, orientation: u16) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = WebPEncoder::new_lossless(&mut bytes);
    encoder.set_exif_metadata(exif(orientation)).unwrap();
    encoder.set_icc_profile(icc()).unwrap();
    encoder
        .write_image(
            picture.as_raw(),
            picture.width(),
            picture.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    bytes
}

pub fn webp(picture: &RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    picture
        .write_with_encoder(WebPEncoder::new_lossless(&mut bytes))
        .unwrap();
    bytes
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
