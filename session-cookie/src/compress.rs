//! Raw DEFLATE (miniz_oxide) for record bodies that are worth shrinking.
//!
//! No zlib or gzip wrapper: the AEAD tag already authenticates every byte, so a
//! checksum would only spend cookie space.

use std::cell::RefCell;

use miniz_oxide::deflate::core::{
    compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
};
use miniz_oxide::inflate::decompress_to_vec_with_limit;

/// The largest record body the store inflates, in bytes. A value only inflates after
/// it has authenticated, so a client cannot send a decompression bomb; the cap still
/// bounds memory and CPU per request should a key leak, and the store refuses to seal
/// anything that would not open again under it.
pub const MAX_INFLATED_LEN: usize = 64 * 1024;

/// A compression threshold for stores that would rather send shorter cookies than save
/// CPU: pass it to
/// [`CookieStoreBuilder::compression_threshold`](crate::CookieStoreBuilder::compression_threshold)
/// to compress every body from 1 KiB, what releases before issue 21 did by default.
/// The default now compresses only a body over the record budget, one that could not
/// be sealed otherwise; smaller sessions stay uncompressed, so their length says
/// nothing about how repetitive their contents are (see the crate docs on compression
/// and length).
pub const DEFAULT_COMPRESSION_THRESHOLD: usize = 1024;

/// miniz level 6: zlib's default trade of ratio for speed. Bodies are at most
/// [`MAX_INFLATED_LEN`], and in a cookie every byte saved counts.
const LEVEL: i32 = 6;

thread_local! {
    // Hand-rolled reuse instead of `miniz_oxide::deflate::compress_to_vec`: a compressor
    // owns a few hundred KiB of tables, and allocating and zeroing them per call cost
    // more than compressing a 3 KiB body (measured: ~100 µs against ~50 µs reused).
    // One per thread, kept for the thread's life.
    static COMPRESSOR: RefCell<Option<CompressorOxide>> = const { RefCell::new(None) };
}

/// `body` compressed, if that makes it strictly smaller.
pub(crate) fn deflate(body: &[u8]) -> Option<Vec<u8>> {
    COMPRESSOR.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => {
            let compressor = slot.get_or_insert_with(new_compressor);
            compressor.reset();
            deflate_with(compressor, body)
        }
        // Unreachable (nothing here re-enters), but a fresh compressor beats a panic.
        Err(_) => deflate_with(&mut new_compressor(), body),
    })
}

fn new_compressor() -> CompressorOxide {
    CompressorOxide::new(create_comp_flags_from_zip_params(LEVEL, 0, 0))
}

/// Compresses into a buffer one byte shorter than `body`: output that does not fit
/// would not be worth keeping, so the work stops there.
fn deflate_with(compressor: &mut CompressorOxide, body: &[u8]) -> Option<Vec<u8>> {
    let cap = body.len().checked_sub(1)?;
    let mut out = vec![0u8; cap];
    let mut input = body;
    let mut written = 0;
    loop {
        let (status, read, wrote) = compress(
            compressor,
            input,
            out.get_mut(written..)?,
            TDEFLFlush::Finish,
        );
        written += wrote;
        input = input.get(read..)?;
        match status {
            TDEFLStatus::Done => {
                out.truncate(written);
                return Some(out);
            }
            // More output pending: go on while there is room and progress.
            TDEFLStatus::Okay if written < cap && (read > 0 || wrote > 0) => {}
            _ => return None,
        }
    }
}

/// `packed` inflated, if it is a complete DEFLATE stream of at most `limit` bytes.
pub(crate) fn inflate(packed: &[u8], limit: usize) -> Option<Vec<u8>> {
    decompress_to_vec_with_limit(packed, limit).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let body: Vec<u8> = b"cart:book;".repeat(300);
        let packed = deflate(&body).unwrap();
        assert!(packed.len() < body.len() / 10);
        assert_eq!(inflate(&packed, MAX_INFLATED_LEN).unwrap(), body);
    }

    #[test]
    fn incompressible_input_is_left_alone() {
        let mut x: u32 = 0x1234_5678;
        let noise: Vec<u8> = (0..2000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x.to_le_bytes()[0]
            })
            .collect();
        assert_eq!(deflate(&noise), None);
    }

    #[test]
    fn inflate_respects_the_limit() {
        let bomb = deflate(&vec![0u8; 1 << 20]).unwrap();
        assert!(bomb.len() < 2048);
        assert_eq!(inflate(&bomb, MAX_INFLATED_LEN), None);
        assert_eq!(inflate(&bomb, 1 << 20).map(|v| v.len()), Some(1 << 20));
    }

    proptest::proptest! {
        /// Whatever the input, `deflate` either declines or returns something strictly
        /// smaller that inflates back to it; the reused compressor carries nothing over.
        #[test]
        fn deflate_is_lossless_and_shrinks(
            body in proptest::collection::vec(0u8..4, 0..4000),
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        ) {
            let both = [body.clone(), noise.clone()].concat();
            for input in [&body[..], &noise[..], &both[..]] {
                if let Some(packed) = deflate(input) {
                    proptest::prop_assert!(packed.len() < input.len());
                    let back = inflate(&packed, MAX_INFLATED_LEN);
                    proptest::prop_assert_eq!(back.as_deref(), Some(input));
                }
            }
        }
    }

    #[test]
    fn truncated_or_garbage_streams_fail() {
        let packed = deflate(&b"abcabcabc".repeat(100)).unwrap();
        for cut in 0..packed.len() {
            assert_eq!(inflate(&packed[..cut], MAX_INFLATED_LEN), None, "cut {cut}");
        }
        assert_eq!(inflate(&[0xff; 32], MAX_INFLATED_LEN), None);
    }
}
