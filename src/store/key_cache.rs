//! The API keys each request is checked against, kept in memory: a key read
//! once is served from here until the keys' generation moves (every create
//! and revoke raises it in its own transaction, see `api_keys`). Each
//! instance reads the generation at most every [`RECHECK`], so a key
//! revoked on one instance is refused by every other within that time; the
//! instance that revoked it forgets at once. Only live keys are cached: a
//! wrong secret is looked up every time and fills nothing.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, DbErr};

use super::{api_keys, entity::api_key};
use crate::domain::keys::hash_secret;

/// How stale a cached key may be: the longest a revocation elsewhere takes
/// to reach this instance.
pub const RECHECK: Duration = Duration::from_millis(500);
/// The most keys cached; past it the cache starts again.
const MOST: usize = 10_000;

#[derive(Default)]
pub struct KeyCache {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    generation: Option<i64>,
    checked_at: Option<Instant>,
    /// Raised whenever the keys are dropped: a lookup that began before one
    /// does not cache what it read.
    epoch: u64,
    keys: HashMap<String, api_key::Model>,
}

impl KeyCache {
    /// The live key with this secret.
    pub async fn find_active(
        &self,
        db: &impl ConnectionTrait,
        secret: &str,
    ) -> Result<Option<api_key::Model>, DbErr> {
        let hash = hash_secret(secret);
        let due = self
            .lock()
            .checked_at
            .is_none_or(|at| at.elapsed() >= RECHECK);
        if due {
            let generation = api_keys::generation(db).await?;
            let mut state = self.lock();
            if state.generation != Some(generation) {
                state.keys.clear();
                state.generation = Some(generation);
                state.epoch += 1;
            }
            state.checked_at = Some(Instant::now());
        }
        let epoch = {
            let state = self.lock();
            if let Some(key) = state.keys.get(&hash) {
                return Ok(Some(key.clone()));
            }
            state.epoch
        };
        let found = api_keys::find_active_by_hash(db, &hash).await?;
        if let Some(key) = &found {
            let mut state = self.lock();
            if state.epoch != epoch {
                return Ok(found);
            }
            if state.keys.len() >= MOST {
                state.keys.clear();
            }
            state.keys.insert(hash, key.clone());
        }
        Ok(found)
    }

    /// Forgets every key, after this instance changed one; the next lookup
    /// reads the generation again.
    pub fn clear(&self) {
        let mut state = self.lock();
        state.keys.clear();
        state.checked_at = None;
        state.epoch += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("key cache lock")
    }
}
