//! Failed sign-ins, counted per user name and per client address, so a
//! password cannot be guessed at speed: past the limit within a window,
//! further attempts for that name or from that address are refused with
//! 429 until the window ends, whether or not their password is right.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use crate::error::ApiError;

/// Failed sign-ins allowed per user name within [`WINDOW`].
pub const MAX_FAILURES_PER_NAME: u32 = 5;
/// Failed sign-ins allowed per client address within [`WINDOW`] (higher:
/// several people may share an address).
pub const MAX_FAILURES_PER_ADDR: u32 = 20;
/// How long failures are remembered, counted from the first one.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Entries kept before expired ones are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Name(String),
    Addr(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

/// The failure counts; one per server.
#[derive(Debug, Default)]
pub struct SignInLimiter {
    failures: Mutex<HashMap<Key, Failures>>,
}

impl SignInLimiter {
    /// A limiter with nothing counted yet.
    pub fn new() -> SignInLimiter {
        SignInLimiter::default()
    }

    fn keys(name: &str, addr: Option<IpAddr>) -> impl Iterator<Item = (Key, u32)> {
        std::iter::once((Key::Name(name.to_owned()), MAX_FAILURES_PER_NAME))
            .chain(addr.map(|addr| (Key::Addr(addr), MAX_FAILURES_PER_ADDR)))
    }

    /// 429 with the seconds to wait when `name` or `addr` is over its limit.
    pub fn check(&self, name: &str, addr: Option<IpAddr>) -> Result<(), ApiError> {
        let now = Instant::now();
        let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let wait = Self::keys(name, addr)
            .filter_map(|(key, limit)| {
                let entry = failures.get(&key)?;
                let ends = entry.since + WINDOW;
                (entry.count >= limit && ends > now).then(|| ends - now)
            })
            .max();
        match wait {
            Some(wait) => Err(ApiError::TooManyRequests(wait.as_secs().max(1))),
            None => Ok(()),
        }
    }

    /// Counts a failed sign-in.
    pub fn failed(&self, name: &str, addr: Option<IpAddr>) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if failures.len() >= SWEEP_AT {
            failures.retain(|_, entry| entry.since + WINDOW > now);
        }
        for (key, _) in Self::keys(name, addr) {
            let entry = failures.entry(key).or_insert(Failures {
                count: 0,
                since: now,
            });
            if entry.since + WINDOW <= now {
                *entry = Failures {
                    count: 0,
                    since: now,
                };
            }
            entry.count = entry.count.saturating_add(1);
        }
    }

    /// A sign-in succeeded: the name's failures are forgotten (the
    /// address's are not, so one good account does not unlock guessing).
    pub fn succeeded(&self, name: &str) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&Key::Name(name.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_locked_after_its_limit_and_an_address_after_its_own() {
        let limiter = SignInLimiter::new();
        let addr = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..MAX_FAILURES_PER_NAME {
            assert!(limiter.check("alice", addr).is_ok());
            limiter.failed("alice", addr);
        }
        let refused = limiter.check("alice", None).expect_err("locked");
        assert!(matches!(refused, ApiError::TooManyRequests(s) if (1..=60).contains(&s)));
        assert!(limiter.check("bob", None).is_ok());
        for i in 0..MAX_FAILURES_PER_ADDR {
            limiter.failed(&format!("user{i}"), addr);
        }
        assert!(
            limiter.check("carol", addr).is_err(),
            "the address is locked"
        );
        assert!(limiter.check("carol", None).is_ok());
        limiter.succeeded("alice");
        assert!(limiter.check("alice", None).is_ok());
    }
}
