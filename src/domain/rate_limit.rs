//! Token buckets per client address, for keys that sit in public page code.

use std::{
    collections::HashMap,
    hash::Hash,
    time::{Duration, Instant},
};

/// Allows `per_minute` requests per client, refilled evenly over the minute.
pub struct RateLimiter<K> {
    per_minute: u32,
    buckets: HashMap<K, Bucket>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

// Beyond this many tracked clients, buckets that have refilled are forgotten.
const MAX_TRACKED: usize = 10_000;

impl<K: Eq + Hash + Clone> RateLimiter<K> {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1),
            buckets: HashMap::new(),
        }
    }

    /// Takes one token for `client` at `now`, or says how long to wait.
    pub fn check(&mut self, client: &K, now: Instant) -> Result<(), Duration> {
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        if self.buckets.len() >= MAX_TRACKED {
            self.buckets.retain(|_, bucket| {
                let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
                bucket.tokens + elapsed * per_second < capacity
            });
        }
        let bucket = self.buckets.entry(client.clone()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_quota_then_waits_and_others_are_unaffected() {
        let mut limiter = RateLimiter::new(30);
        let start = Instant::now();
        for _ in 0..30 {
            assert!(limiter.check(&"a", start).is_ok());
        }
        let wait = limiter.check(&"a", start).unwrap_err();
        assert!(
            wait > Duration::from_millis(1900) && wait <= Duration::from_secs(2),
            "{wait:?}"
        );
        assert!(limiter.check(&"b", start).is_ok());
        // Two seconds later one more request is allowed, not two.
        let later = start + Duration::from_secs(2);
        assert!(limiter.check(&"a", later).is_ok());
        assert!(limiter.check(&"a", later).is_err());
    }
}
