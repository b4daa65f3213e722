//! Decompression bombs: small files whose headers declare huge pictures are refused from the
//! header, quickly and without allocating the pixels. The counting allocator is global: the
//! test that reads it asserts a ceiling far above what a parallel test here allocates.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // fixtures built outside #[test] fns

mod common;

use std::alloc::System;
use std::time::{Duration, Instant};

use gota_media::{ImageType, Limits, MediaError, inspect, process};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Header parsing only (the PNG decoder's zlib and read buffers are ~150 KB, and both calls
/// parse the header): four orders of magnitude under the 7.5 GB the bombs declare.
const ALLOCATION_CEILING: usize = 1024 * 1024;

/// A real 16 × 16 JPEG whose SOF0 frame header is rewritten to 50,000 × 50,000.
fn jpeg_bomb() -> Vec<u8> {
    let mut bytes = common::jpeg(&common::picture(16, 16));
    let sof = bytes.windows(2).position(|w| w == [0xff, 0xc0]).unwrap();
    // FFC0, length (2), precision (1), then height and width, big-endian.
    bytes[sof + 5..sof + 9].copy_from_slice(&[0xc3, 0x50, 0xc3, 0x50]);
    bytes
}

/// A real 16 × 16 PNG whose IHDR is rewritten to 50,000 × 50,000 (with a valid CRC).
fn png_bomb() -> Vec<u8> {
    let small = common::png(&common::picture(16, 16));
    let mut ihdr = small[16..29].to_vec();
    ihdr[0..4].copy_from_slice(&50_000u32.to_be_bytes());
    ihdr[4..8].copy_from_slice(&50_000u32.to_be_bytes());
    let mut bytes = small[..8].to_vec();
    bytes.extend_from_slice(&common::png_chunk(b"IHDR", &ihdr));
    bytes.extend_from_slice(&small[8 + 25..]);
    bytes
}

/// A real 16 × 16 lossless WebP whose VP8L header declares `side` × `side` (at most 16,384).
fn webp_bomb(side: u32) -> Vec<u8> {
    let mut bytes = common::webp(&common::picture(16, 16));
    let vp8l = bytes.windows(4).position(|w| w == b"VP8L").unwrap();
    // "VP8L", chunk size (4), signature 0x2f, then 14 bits width − 1, 14 bits height − 1,
    // 1 bit alpha, 3 bits version, little-endian.
    let at = vp8l + 9;
    let old = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let packed = (old & 0xf000_0000) | ((side - 1) << 14) | (side - 1);
    bytes[at..at + 4].copy_from_slice(&packed.to_le_bytes());
    bytes
}

#[test]
fn a_decompression_bomb_is_refused_from_its_header_quickly_and_without_allocating_it() {
    for (kind, bytes, side) in [
        (ImageType::Jpeg, jpeg_bomb(), 50_000),
        (ImageType::Png, png_bomb(), 50_000),
        (ImageType::Webp, webp_bomb(16_000), 16_000),
    ] {
        assert!(bytes.len() < 4096, "{kind:?}: the bomb is small");

        let region = Region::new(GLOBAL);
        let started = Instant::now();
        let info = inspect(&bytes);
        let refused = process(&bytes, &Limits::default());
        let elapsed = started.elapsed();
        let allocated = region.change().bytes_allocated;
        eprintln!("{kind:?}: refused in {elapsed:?}, {allocated} bytes allocated");

        let info = info.unwrap();
        assert_eq!(
            (info.image_type, info.width, info.height),
            (kind, side, side)
        );
        assert_eq!(
            refused,
            Err(MediaError::TooLarge {
                width: side,
                height: side,
                max_width: Limits::MAX_SIDE,
                max_height: Limits::MAX_SIDE,
                max_megapixels: 50,
            }),
            "{kind:?}"
        );
        assert!(
            elapsed < Duration::from_millis(100),
            "{kind:?}: {elapsed:?}"
        );
        assert!(
            allocated < ALLOCATION_CEILING,
            "{kind:?}: {allocated} bytes allocated"
        );
    }
}

/// image-webp 0.2.4 computes a VP8L side as `(1 + field) & 0x3FFF`, so the largest legal side,
/// 16,384, reads as 0. Such a header must be refused, not passed on as an empty picture.
#[test]
fn a_webp_whose_header_reads_as_zero_pixels_is_refused_as_corrupt() {
    let bytes = webp_bomb(16_384);
    assert_eq!(
        inspect(&bytes),
        Err(MediaError::Corrupt("the header declares no pixels".into()))
    );
    assert!(matches!(
        process(&bytes, &Limits::default()),
        Err(MediaError::Corrupt(_))
    ));
}
