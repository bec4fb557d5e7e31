//! `[database]` and `[storage]`: where rows and files live.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{HumanDuration, SecretText};

#[derive(Clone, Debug, Deserialize)]
pub struct DatabaseSettings {
    /// May hold a password.
    pub url: SecretText,
    pub max_connections: u32,
    /// How long a request waits for a connection (then 503).
    pub acquire_timeout: HumanDuration,
}

#[derive(Clone, Debug, Deserialize)]
pub struct StorageSettings {
    pub url: String,
    /// The object store's options (`aws_access_key_id`, …), credentials among them.
    #[serde(default)]
    pub options: BTreeMap<String, SecretText>,
    /// An object no row refers to is deleted once it is this old.
    pub orphan_grace: HumanDuration,
    pub sweep_interval: HumanDuration,
}
