//! What authentication remembers between requests: users read from `_users`
//! and verified Basic credentials. PBKDF2 on every request would cost more
//! than the request; a write to `_users` makes every entry stale at once.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex, PoisonError,
    },
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};

use super::{context::UserCtx, users::UserRecord};

/// How long verified Basic credentials are remembered (unless a user
/// document changes first).
const BASIC_CACHE_TTL: Duration = Duration::from_secs(300);
/// Entries kept in each cache before it is emptied.
const MAX_CACHED: usize = 10_000;

/// The key of remembered credentials: a hash keyed by the server's secret,
/// so the password itself is never kept.
pub type CredentialsKey = [u8; 32];

/// The caches, with the generation that outdates them.
#[derive(Default)]
pub struct AuthCache {
    /// Bumped after each write to `_users`; entries of an older generation
    /// are stale.
    generation: AtomicU64,
    users: Mutex<HashMap<String, (u64, Option<UserRecord>)>>,
    basic: Mutex<HashMap<CredentialsKey, (u64, Instant, UserCtx)>>,
}

impl AuthCache {
    /// The current generation, read before a lookup whose result is then
    /// remembered under it (a `_users` write meanwhile makes it stale).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// A user document was written: forget every user and credential.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        lock(&self.users).clear();
        lock(&self.basic).clear();
    }

    /// The remembered record of `name` (`Some(None)`: known not to exist).
    pub fn user(&self, name: &str) -> Option<Option<UserRecord>> {
        let generation = self.generation();
        let users = lock(&self.users);
        let (at, record) = users.get(name)?;
        (*at == generation).then(|| record.clone())
    }

    /// Remembers `name`'s record as read at `generation`.
    pub fn remember_user(&self, name: &str, generation: u64, record: Option<UserRecord>) {
        let mut users = lock(&self.users);
        if users.len() >= MAX_CACHED {
            users.clear();
        }
        users.insert(name.to_owned(), (generation, record));
    }

    /// The key under which `name` and `password` are remembered.
    pub fn credentials_key(secret: &str, name: &str, password: &str) -> CredentialsKey {
        let mut hasher = Sha256::new();
        for part in [secret.as_bytes(), name.as_bytes(), password.as_bytes()] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        hasher.finalize().into()
    }

    /// The caller of credentials verified lately, if they still hold.
    pub fn verified(&self, key: &CredentialsKey) -> Option<UserCtx> {
        let generation = self.generation();
        let basic = lock(&self.basic);
        let (at, when, ctx) = basic.get(key)?;
        (*at == generation && when.elapsed() < BASIC_CACHE_TTL).then(|| ctx.clone())
    }

    /// Remembers credentials verified at `generation` as `ctx`.
    pub fn remember_verified(&self, key: CredentialsKey, generation: u64, ctx: UserCtx) {
        let mut basic = lock(&self.basic);
        if basic.len() >= MAX_CACHED {
            basic.clear();
        }
        basic.insert(key, (generation, Instant::now(), ctx));
    }
}

/// A poisoned lock still holds a usable cache (entries are replaced whole).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
