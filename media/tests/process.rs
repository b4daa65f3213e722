//! `inspect` and `process` on images the tests make: types, refusals, metadata, sizes.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // fixtures built outside #[test] fns

mod common;

use common::{SECRET, contains, halves, picture};
use gota_media::{ImageType, Limits, MediaError, Size, inspect, process};

fn decoded(bytes: &[u8]) -> image::RgbImage {
    assert_eq!(
        image::guess_format(bytes).unwrap(),
        image::ImageFormat::Jpeg,
        "every rendition is a JPEG"
    );
    image::load_from_memory(bytes).unwrap().into_rgb8()
}

#[test]
fn each_allowed_type_round_trips_to_an_original_and_two_thumbnails() {
    let source = picture(1000, 500);
    for (kind, bytes) in [
        (ImageType::Jpeg, common::jpeg(&source)),
        (ImageType::Png, common::png(&source)),
        (ImageType::Webp, common::webp(&source)),
    ] {
        let info = inspect(&bytes).unwrap();
        assert_eq!(
            (info.image_type, info.width, info.height),
            (kind, 1000, 500)
        );

        let processed = process(&bytes, &Limits::default()).unwrap();
        assert_eq!(processed.source, info);
        for (size, expected) in [
            (Size::Original, (1000, 500)),
            (Size::Medium, (960, 480)),
            (Size::Thumb, (320, 160)),
        ] {
            let rendition = processed.rendition(size);
            assert_eq!(rendition.size, size);
            assert_eq!(
                (rendition.width, rendition.height),
                expected,
                "{kind:?} {size:?}"
            );
            assert_eq!(rendition.content_type, "image/jpeg");
            assert_eq!(decoded(&rendition.bytes).dimensions(), expected);
        }
        // The picture survives: the thumbnail's corners keep the gradient's colours.
        let thumb = decoded(&processed.thumb.bytes);
        let top_right = thumb.get_pixel(318, 1).0;
        assert!(
            top_right[0] > 200 && top_right[1] < 40,
            "{kind:?}: {top_right:?}"
        );
    }
}

#[test]
fn the_type_comes_from_the_bytes_not_from_what_the_upload_claimed() {
    // A PNG uploaded as "photo.jpg" with Content-Type image/jpeg is still a PNG.
    let png_named_jpg = common::png(&picture(40, 30));
    let info = inspect(&png_named_jpg).unwrap();
    assert_eq!(info.image_type, ImageType::Png);
    assert_ne!(
        Some(info.image_type),
        ImageType::from_content_type("image/jpeg")
    );
    assert_eq!(
        process(&png_named_jpg, &Limits::default())
            .unwrap()
            .source
            .image_type,
        ImageType::Png
    );
}

#[test]
fn a_gif_tiff_bmp_or_avif_is_refused_by_name() {
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
    assert_eq!(inspect(gif), Err(MediaError::TypeNotAllowed("gif")));
    assert_eq!(
        process(gif, &Limits::default()).unwrap_err().to_string(),
        "type not allowed: gif"
    );
    assert_eq!(
        inspect(b"II*\0\x08\0\0\0"),
        Err(MediaError::TypeNotAllowed("tiff"))
    );
    assert_eq!(
        inspect(b"BM\x3a\0\0\0\0\0\0\0"),
        Err(MediaError::TypeNotAllowed("bmp"))
    );
    assert_eq!(
        inspect(b"\0\0\0\x1cftypavif\0\0\0\0"),
        Err(MediaError::TypeNotAllowed("avif"))
    );
}

#[test]
fn a_corrupt_file_of_each_type_is_refused_with_a_reason() {
    let source = picture(64, 48);
    let jpeg = common::jpeg(&source);
    let png = common::png(&source);
    let webp = common::webp(&source);

    // The signature alone.
    let mut only_signature = jpeg[..4].to_vec();
    only_signature.extend_from_slice(&[0u8; 64]);
    // A PNG whose image data fails its checksum.
    let mut bad_crc = png.clone();
    let idat = png.windows(4).position(|w| w == b"IDAT").unwrap();
    bad_crc[idat + 8] ^= 0xff;
    // Cut short in the middle of the pixel data.
    let cut_png = png[..png.len() / 2].to_vec();
    let cut_webp = webp[..webp.len() / 2].to_vec();

    for (name, bytes) in [
        ("jpeg signature only", only_signature),
        ("png bad checksum", bad_crc),
        ("png cut short", cut_png),
        ("webp cut short", cut_webp),
    ] {
        match process(&bytes, &Limits::default()) {
            Err(MediaError::Corrupt(reason)) => {
                assert!(!reason.is_empty(), "{name}");
                assert!(
                    MediaError::Corrupt(reason.clone())
                        .to_string()
                        .starts_with("corrupt image: "),
                    "{name}"
                );
            }
            other => panic!("{name}: expected corrupt, got {other:?}"),
        }
    }
}

#[test]
fn an_image_over_a_side_or_the_pixel_count_or_the_bytes_is_refused_before_decoding() {
    let bytes = common::jpeg(&picture(600, 400));
    let narrow = Limits {
        max_width: 500,
        ..Limits::default()
    };
    assert_eq!(
        process(&bytes, &narrow).unwrap_err().to_string(),
        "too large: 600 × 400 px (max 500 × 10000 px and 50 megapixels)"
    );
    let few_pixels = Limits {
        max_pixels: 239_999,
        ..Limits::default()
    };
    assert!(matches!(
        process(&bytes, &few_pixels),
        Err(MediaError::TooLarge {
            width: 600,
            height: 400,
            ..
        })
    ));
    let few_bytes = Limits {
        max_bytes: bytes.len() - 1,
        ..Limits::default()
    };
    assert_eq!(
        process(&bytes, &few_bytes),
        Err(MediaError::TooManyBytes {
            len: bytes.len(),
            max: bytes.len() - 1
        })
    );
    // Exactly at every limit is accepted.
    let exact = Limits {
        max_bytes: bytes.len(),
        max_width: 600,
        max_height: 400,
        max_pixels: 240_000,
    };
    assert!(process(&bytes, &exact).is_ok());
}

#[test]
fn a_sixteen_bit_png_within_the_pixel_limit_but_over_the_decoders_budget_is_refused() {
    // 8 bytes a pixel (RGBA16): under max_pixels, but its buffer is over max_pixels × 4 bytes,
    // so the decoder's own budget refuses it before allocating.
    let wide = image::ImageBuffer::<image::Rgba<u16>, _>::from_pixel(
        300,
        200,
        image::Rgba([1000u16, 2000, 3000, 65535]),
    );
    let mut bytes = Vec::new();
    wide.write_with_encoder(image::codecs::png::PngEncoder::new(&mut bytes))
        .unwrap();
    let limits = Limits {
        max_pixels: 100_000,
        ..Limits::default()
    };
    assert!(matches!(
        process(&bytes, &limits),
        Err(MediaError::TooLarge {
            width: 300,
            height: 200,
            ..
        })
    ));
    assert!(process(&bytes, &Limits::default()).is_ok());
}

#[test]
fn no_metadata_of_the_input_survives_in_any_rendition() {
    let source = picture(480, 360);
    for (name, bytes) in [
        ("jpeg", common::jpeg_with_metadata(&source, 1)),
        ("png", common::png_with_metadata(&source, 1)),
        ("webp", common::webp_with_metadata(&source, 1)),
    ] {
        assert!(contains(&bytes, SECRET), "{name}: the input carries GPS");
        let processed = process(&bytes, &Limits::default()).unwrap();
        for rendition in processed.renditions() {
            let out = &rendition.bytes;
            let at = format!("{name} {:?}", rendition.size);
            assert!(!contains(out, SECRET), "{at}: GPS/comment bytes survived");
            assert!(!contains(out, b"Exif\0\0"), "{at}: an EXIF block survived");
            assert!(
                !contains(out, b"ICC_PROFILE"),
                "{at}: an ICC profile survived"
            );
            assert!(
                !contains(out, b"http://ns.adobe.com/xap"),
                "{at}: XMP survived"
            );
            assert!(
                !contains(out, &[0xff, 0xfe]),
                "{at}: a comment segment survived"
            );
        }
    }
}

#[test]
fn the_exif_orientation_is_applied_so_the_picture_is_upright() {
    // Orientation 6: the camera was turned a quarter clockwise; a viewer rotates 90° clockwise,
    // so the left (red) half becomes the top.
    let sideways = halves(400, 200);
    for (name, bytes) in [
        ("jpeg", common::jpeg_with_metadata(&sideways, 6)),
        ("png", common::png_with_metadata(&sideways, 6)),
        ("webp", common::webp_with_metadata(&sideways, 6)),
    ] {
        let processed = process(&bytes, &Limits::default()).unwrap();
        assert_eq!(
            (processed.original.width, processed.original.height),
            (200, 400),
            "{name}"
        );
        let upright = decoded(&processed.original.bytes);
        let top = upright.get_pixel(100, 20).0;
        let bottom = upright.get_pixel(100, 380).0;
        assert!(top[0] > 180 && top[2] < 80, "{name}: top {top:?}");
        assert!(
            bottom[2] > 180 && bottom[0] < 80,
            "{name}: bottom {bottom:?}"
        );
    }
}

#[test]
fn a_small_picture_is_never_upscaled() {
    for (width, height) in [(200, 100), (320, 320), (500, 900)] {
        let processed = process(&common::png(&picture(width, height)), &Limits::default()).unwrap();
        assert_eq!(
            (processed.original.width, processed.original.height),
            (width, height)
        );
        for rendition in processed.renditions() {
            let long_side = rendition.size.long_side().unwrap_or(u32::MAX);
            assert!(rendition.width <= width && rendition.height <= height);
            assert_eq!(
                rendition.width.max(rendition.height),
                long_side.min(width.max(height)),
                "{width}×{height} {:?}",
                rendition.size
            );
            assert_eq!(
                decoded(&rendition.bytes).dimensions(),
                (rendition.width, rendition.height)
            );
        }
    }
}

#[test]
fn transparency_becomes_white_not_black() {
    let clear = image::RgbaImage::from_pixel(50, 50, image::Rgba([0, 0, 0, 0]));
    let mut bytes = Vec::new();
    clear
        .write_with_encoder(image::codecs::png::PngEncoder::new(&mut bytes))
        .unwrap();
    let processed = process(&bytes, &Limits::default()).unwrap();
    let pixel = decoded(&processed.original.bytes).get_pixel(25, 25).0;
    assert!(pixel.iter().all(|&c| c > 245), "{pixel:?}");
}
