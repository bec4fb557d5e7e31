//! Synthetic PDF bodies for uploads: a valid-looking header and trailer around
//! deterministic pseudo-random printable filler, built once and shared.

use bytes::Bytes;

use crate::rng::XorShift;

/// What every synthetic document starts with (what content sniffers look for).
pub const HEADER: &[u8] = b"%PDF-1.4\n";
/// What every synthetic document ends with.
pub const TRAILER: &[u8] = b"\n%%EOF\n";

/// Builds a PDF-shaped document of exactly `size` bytes (at least the header
/// and trailer). The filler is a series of PDF comment lines (`%` + 63
/// printable characters + newline) so the bytes neither compress away nor
/// contain anything a parser would treat as structure.
pub fn synthetic_pdf(size: usize) -> Bytes {
    let min = HEADER.len() + TRAILER.len();
    let size = size.max(min);
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(HEADER);

    let filler_len = size - min;
    let mut rng = XorShift::new(0x9E37_79B9_7F4A_7C15);
    for i in 0..filler_len {
        let byte = match i % 65 {
            0 => b'%',
            64 => b'\n',
            // Printable ASCII from '!' to '~' (94 characters).
            _ => b'!' + (rng.next_u64() % 94) as u8,
        };
        out.push(byte);
    }

    out.extend_from_slice(TRAILER);
    debug_assert_eq!(out.len(), size);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_exact_size_header_and_trailer() {
        let pdf = synthetic_pdf(200 * 1024);
        assert_eq!(pdf.len(), 200 * 1024);
        assert!(pdf.starts_with(HEADER));
        assert!(pdf.ends_with(TRAILER));
    }

    #[test]
    fn filler_is_printable() {
        let pdf = synthetic_pdf(4096);
        let filler = &pdf[HEADER.len()..pdf.len() - TRAILER.len()];
        assert!(
            filler
                .iter()
                .all(|&b| b == b'\n' || (b'!'..=b'~').contains(&b))
        );
    }

    #[test]
    fn tiny_sizes_still_form_a_document() {
        let pdf = synthetic_pdf(0);
        assert_eq!(&pdf[..], [HEADER, TRAILER].concat().as_slice());
    }
}
