//! Indeed Apply's request signature: base64 of the HMAC-SHA1 of the raw body
//! with the employer's API secret, compared in constant time.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// Whether `header` (as sent in `X-Indeed-Signature`) signs `body` with `secret`.
pub fn indeed_signature_valid(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Ok(given) = STANDARD.decode(header.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    // verify_slice compares in constant time.
    mac.verify_slice(&given).is_ok()
}

/// The signature Indeed would send for `body`; for tests and tools.
pub fn indeed_signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOX: &[u8] = b"The quick brown fox jumps over the lazy dog";

    #[test]
    fn a_known_hmac_sha1_vector_verifies() {
        // HMAC-SHA1("key", FOX) = de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9
        assert_eq!(
            indeed_signature(b"key", FOX),
            "3nybhbi3iqa8ino29wqQcBydtNk="
        );
        assert!(indeed_signature_valid(
            b"key",
            FOX,
            "3nybhbi3iqa8ino29wqQcBydtNk="
        ));
    }

    #[test]
    fn another_body_secret_or_malformed_header_fails() {
        let good = indeed_signature(b"key", FOX);
        assert!(!indeed_signature_valid(
            b"key",
            b"The quick brown fox",
            &good
        ));
        assert!(!indeed_signature_valid(b"other", FOX, &good));
        assert!(!indeed_signature_valid(b"key", FOX, ""));
        assert!(!indeed_signature_valid(b"key", FOX, "not base64!"));
        assert!(!indeed_signature_valid(b"key", FOX, &good[..10]));
    }
}
