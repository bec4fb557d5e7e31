//! The service's one source of the current time.
//!
//! Every "now" that ends up in a row, a purge date or a link's expiry comes
//! from a [`Clock`], so tests can move time forward instead of sleeping.
//! The clock is the system clock plus an offset that only [`Clock::advance`]
//! changes; the service never calls it, so in production the offset stays
//! zero.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use chrono::{DateTime, TimeDelta, Utc};

/// Cheap to clone; clones share the offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + TimeDelta::milliseconds(self.offset_ms.load(Ordering::Acquire))
    }

    /// Moves this clock (and its clones) forward by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        let by = i64::try_from(by.as_millis()).expect("a test advances by less than an age");
        self.offset_ms.fetch_add(by, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_clone() {
        let clock = Clock::system();
        let clone = clock.clone();
        let before = clone.now();
        clock.advance(std::time::Duration::from_secs(3600));
        let after = clone.now();
        assert!(
            after - before >= TimeDelta::seconds(3600),
            "{before} → {after}"
        );
        assert!(after - before < TimeDelta::seconds(3660));
    }
}
