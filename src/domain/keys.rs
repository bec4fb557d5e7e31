//! API keys: roles, secret generation and the hash that is all the database keeps.

use std::{fmt, str::FromStr};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use poem_openapi::Enum;
use sha2::{Digest, Sha256};

/// What a key may do; every operation names the roles it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
#[oai(rename_all = "kebab-case")]
pub enum Role {
    Admin,
    Recruiter,
    CareersSite,
    Partner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Recruiter => "recruiter",
            Role::CareersSite => "careers-site",
            Role::Partner => "partner",
        }
    }
}

/// A role name the service does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown role {0:?}: use admin, recruiter, careers-site or partner")]
pub struct UnknownRole(String);

/// Also how the stored column is read: an unknown role is an error.
impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        [
            Role::Admin,
            Role::Recruiter,
            Role::CareersSite,
            Role::Partner,
        ]
        .into_iter()
        .find(|role| role.as_str() == value)
        .ok_or_else(|| UnknownRole(value.to_owned()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const SECRET_PREFIX: &str = "av_";

/// A freshly made key secret: shown once, then only its hash is kept.
pub struct Secret(String);

impl Secret {
    pub fn generate() -> Self {
        Self(format!("{SECRET_PREFIX}{}", random_token()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> String {
        hash_secret(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// 256 random bits, URL-safe. Secrets this strong need no slow hash: SHA-256
/// cannot be reversed, and nobody can guess their way to a match.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A key of the service's own (256 random bits), for keyed hashes of what
/// must be recognised again but never read back.
#[derive(Clone)]
pub struct HashKey([u8; 32]);

impl HashKey {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source works");
        Self(bytes)
    }

    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The raw key, for a use of its own (such as a noise stream).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// HMAC-SHA256 of the parts, each length-prefixed so that no two lists
    /// of parts encode alike; hex.
    pub fn hash(&self, parts: &[&[u8]]) -> String {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        hex::encode(mac.finalize().into_bytes())
    }
}

impl fmt::Debug for HashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_distinct_prefixed_and_hashed_stably() {
        let a = Secret::generate();
        let b = Secret::generate();
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with("av_"));
        assert_eq!(a.expose().len(), 3 + 43);
        assert_eq!(a.hash(), hash_secret(a.expose()));
        assert_eq!(a.hash().len(), 64);
        assert_eq!(format!("{a:?}"), "Secret(***)");
    }

    #[test]
    fn keyed_hashes_depend_on_the_key_and_on_how_the_parts_split() {
        let key = HashKey::generate();
        let other = HashKey::generate();
        let hash = key.hash(&[b"indeed-apply", b"abc"]);
        assert_eq!(hash.len(), 64);
        assert_eq!(hash, key.hash(&[b"indeed-apply", b"abc"]));
        assert_ne!(hash, other.hash(&[b"indeed-apply", b"abc"]));
        assert_ne!(hash, key.hash(&[b"indeed-applya", b"bc"]));
        let again = HashKey::from_hex(&key.to_hex()).unwrap();
        assert_eq!(again.hash(&[b"x"]), key.hash(&[b"x"]));
        assert!(HashKey::from_hex("abcd").is_none());
        assert_eq!(format!("{key:?}"), "HashKey(***)");
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in [
            Role::Admin,
            Role::Recruiter,
            Role::CareersSite,
            Role::Partner,
        ] {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
