//! Who a request comes from, and what they may do: CouchDB 3's model.
//!
//! With no `--admin`, the server is an "admin party", as CouchDB once was:
//! every caller is a server admin, and the server refuses to bind anything
//! but loopback unless told `--open`. With admins, [`authenticate`] turns
//! each request's credentials (HTTP Basic, an `AuthSession` cookie or a JWT
//! bearer token) into a [`UserCtx`], and [`access::authorise`] checks it
//! against the server's and the database's rules before a handler runs.
//! Users live in the `_users` database as `org.couchdb.user:NAME`
//! documents; see [`users`].

pub mod access;
pub mod authenticate;
pub mod cache;
pub mod context;
pub mod cookie;
pub mod jwt;
pub mod limiter;
pub mod password;
pub mod security;
pub mod users;

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use authenticate::{authenticate, Gate};
pub use context::{AuthenticatedBy, ClientAddr, UserCtx};

use crate::{
    config::Config,
    error::ApiError,
    store::{ReadOptions, Store, StoreError},
};
use cache::AuthCache;
use cookie::{CookieSettings, SessionCookie};
use jwt::{JwtConfigError, JwtVerifier};
use limiter::SignInLimiter;
use password::Credentials;
use security::{Security, ADMIN_ROLE};
use users::{UserRecord, USERS_DB, USER_PREFIX};

/// The reason of every failed sign-in, CouchDB's, whatever failed.
pub const BAD_CREDENTIALS: &str = "Name or password is incorrect.";

/// Why authentication could not be set up at startup.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    /// The JWT key could not be loaded.
    #[error(transparent)]
    Jwt(#[from] JwtConfigError),
    /// The secret or the `_users` database could not be read or created.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// Hashing the admins' passwords failed to finish.
    #[error("hashing admin passwords: {0}")]
    Task(String),
}

/// The server's authentication state; cheap to clone.
#[derive(Clone)]
pub struct Auth {
    inner: Arc<Inner>,
}

struct Inner {
    enabled: bool,
    store: Store,
    secret: String,
    admins: HashMap<String, Credentials>,
    /// Verified against when a name is unknown, so that a wrong name costs
    /// the same time as a wrong password.
    decoy: Option<Credentials>,
    iterations: u32,
    cookie: CookieSettings,
    jwt: Option<JwtVerifier>,
    limiter: SignInLimiter,
    per_user_dbs: bool,
    /// Users and verified credentials, remembered between requests.
    cache: AuthCache,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Auth {
    /// Sets up authentication from the configuration: hashes the admins'
    /// passwords, loads or makes the session secret, loads JWT keys, and
    /// creates `_users` when there are admins.
    pub async fn open(config: &Config, store: Store) -> Result<Auth, AuthSetupError> {
        let enabled = !config.admins.is_empty();
        let jwt = JwtVerifier::load(
            config.jwt_hs256_secret.as_ref().map(|s| s.0.as_str()),
            config.jwt_rs256_key.as_deref(),
            &config.jwt_roles_claim,
        )?;
        let secret = match (&config.secret, enabled) {
            (Some(secret), _) => secret.0.clone(),
            (None, true) => store.session_secret().await?,
            (None, false) => String::new(),
        };
        let iterations = config.pbkdf2_iterations.max(1);
        let specs = config.admins.clone();
        let key = secret.clone();
        let (admins, decoy) = tokio::task::spawn_blocking(move || {
            let admins: HashMap<String, Credentials> = specs
                .iter()
                .map(|spec| {
                    // A salt derived from the secret and the password: the
                    // same across restarts (so cookies survive them), new
                    // when the password changes (so old cookies die).
                    let salt = admin_salt(&key, &spec.name, &spec.password);
                    let creds = Credentials::hash_with_salt(&spec.password, salt, iterations);
                    (spec.name.clone(), creds)
                })
                .collect();
            let decoy = (!admins.is_empty())
                .then(|| Credentials::hash(&password::random_hex(16), iterations));
            (admins, decoy)
        })
        .await
        .map_err(|err| AuthSetupError::Task(err.to_string()))?;
        if enabled {
            match store.create_db(USERS_DB).await {
                Ok(()) => tracing::info!("created the {USERS_DB} database"),
                Err(StoreError::Api(ApiError::FileExists)) => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(Auth {
            inner: Arc::new(Inner {
                enabled,
                store,
                secret,
                admins,
                decoy,
                iterations,
                cookie: CookieSettings {
                    timeout: config.session_timeout.max(1),
                    same_site: config.cookie_same_site,
                    secure: config.cookie_secure,
                },
                jwt,
                limiter: SignInLimiter::new(),
                per_user_dbs: config.per_user_dbs,
                cache: AuthCache::default(),
            }),
        })
    }

    /// Whether requests are authenticated (some admin is configured).
    pub fn enabled(&self) -> bool {
        self.inner.enabled
    }

    /// Whether JWT bearer tokens are accepted.
    pub fn jwt_enabled(&self) -> bool {
        self.inner.jwt.is_some()
    }

    /// Whether new users get a database of their own.
    pub fn per_user_dbs(&self) -> bool {
        self.inner.per_user_dbs
    }

    /// PBKDF2 rounds for new passwords.
    pub fn iterations(&self) -> u32 {
        self.inner.iterations
    }

    /// How the session cookie is set.
    pub fn cookie_settings(&self) -> CookieSettings {
        self.inner.cookie
    }

    /// The caller of a request that [`authenticate`] never saw (only code
    /// inside the server makes such requests).
    pub fn fallback_ctx(&self) -> UserCtx {
        if self.enabled() {
            UserCtx::anonymous()
        } else {
            UserCtx::admin_party()
        }
    }

    /// The `_security` of `db` in force: the stored one, or admins only.
    pub fn security(&self, db: &str) -> Arc<Security> {
        self.inner
            .store
            .security(db)
            .unwrap_or_else(|| Arc::new(Security::admin_only()))
    }

    /// Whether `user` may read database `db` now (for sockets, which
    /// outlive the request that opened them).
    pub fn may_read(&self, db: &str, user: &UserCtx) -> bool {
        if !self.enabled() || user.is_server_admin() {
            return true;
        }
        db != USERS_DB && self.security(db).is_member(user)
    }

    /// A user document was written: forget every cached user and credential.
    pub fn users_changed(&self) {
        self.inner.cache.invalidate();
    }

    /// The user named `name`: a configured admin, else their `_users` document.
    async fn user(&self, name: &str) -> Result<Option<UserRecord>, ApiError> {
        if let Some(creds) = self.inner.admins.get(name) {
            return Ok(Some(UserRecord {
                roles: vec![ADMIN_ROLE.to_owned()],
                credentials: Some(creds.clone()),
            }));
        }
        let generation = self.inner.cache.generation();
        if let Some(record) = self.inner.cache.user(name) {
            return Ok(record);
        }
        let id = format!("{USER_PREFIX}{name}");
        let found = self
            .inner
            .store
            .get_doc(USERS_DB, &id, None, ReadOptions::default())
            .await;
        let record = match found {
            Ok((doc, _)) => UserRecord::from_doc(&doc, name),
            Err(StoreError::Api(ApiError::NotFound(_))) => None,
            Err(err) => return Err(err.into()),
        };
        self.inner
            .cache
            .remember_user(name, generation, record.clone());
        Ok(record)
    }

    /// Checks a name and password, counting failures against the name and
    /// the address; the user's record when they match.
    async fn check_password(
        &self,
        name: &str,
        password: &str,
        addr: Option<IpAddr>,
    ) -> Result<UserRecord, ApiError> {
        self.inner.limiter.check(name, addr)?;
        let record = self.user(name).await?;
        let creds = record
            .as_ref()
            .and_then(|r| r.credentials.clone())
            .or_else(|| self.inner.decoy.clone());
        let candidate = password.to_owned();
        let verified = match creds {
            Some(creds) => tokio::task::spawn_blocking(move || creds.verify(&candidate))
                .await
                .unwrap_or(false),
            None => false,
        };
        match record {
            Some(record) if verified && record.credentials.is_some() => {
                self.inner.limiter.succeeded(name);
                Ok(record)
            }
            _ => {
                self.inner.limiter.failed(name, addr);
                tracing::info!(user = %name, addr = ?addr, "failed sign-in");
                Err(ApiError::Unauthorized(BAD_CREDENTIALS.to_owned()))
            }
        }
    }

    /// The caller of HTTP Basic credentials; verified ones are remembered
    /// a while, keyed by a keyed hash (never the password itself).
    pub async fn basic(
        &self,
        name: &str,
        password: &str,
        addr: Option<IpAddr>,
    ) -> Result<UserCtx, ApiError> {
        let key = AuthCache::credentials_key(&self.inner.secret, name, password);
        let generation = self.inner.cache.generation();
        if let Some(ctx) = self.inner.cache.verified(&key) {
            return Ok(ctx);
        }
        let record = self.check_password(name, password, addr).await?;
        let ctx = UserCtx {
            name: Some(name.to_owned()),
            roles: record.roles,
        };
        self.inner
            .cache
            .remember_verified(key, generation, ctx.clone());
        Ok(ctx)
    }

    /// Signs in with a name and password (`POST /_session`): the caller and
    /// a fresh `AuthSession` cookie value.
    pub async fn sign_in(
        &self,
        name: &str,
        password: &str,
        addr: Option<IpAddr>,
    ) -> Result<(UserCtx, String), ApiError> {
        if !self.enabled() {
            return Err(ApiError::Unauthorized(BAD_CREDENTIALS.to_owned()));
        }
        let record = self.check_password(name, password, addr).await?;
        let salt = record
            .credentials
            .as_ref()
            .map(|c| c.salt.clone())
            .unwrap_or_default();
        let value = cookie::issue(&self.inner.secret, &salt, name, now_secs());
        Ok((
            UserCtx {
                name: Some(name.to_owned()),
                roles: record.roles,
            },
            value,
        ))
    }

    /// The caller of an `AuthSession` cookie, and a renewed value once a
    /// tenth of its lifetime has passed; `None` for a cookie that is
    /// malformed, forged, expired, or of a password since changed.
    pub async fn session(&self, value: &str) -> Option<(UserCtx, Option<String>)> {
        let parsed = SessionCookie::parse(value)?;
        let now = now_secs();
        let timeout = self.inner.cookie.timeout;
        let age = now.checked_sub(parsed.issued)?;
        if age >= timeout {
            return None;
        }
        let record = self.user(&parsed.name).await.ok()??;
        let salt = record.credentials.as_ref()?.salt.clone();
        if !parsed.verifies(&self.inner.secret, &salt) {
            return None;
        }
        let renewed = (age > timeout / 10)
            .then(|| cookie::issue(&self.inner.secret, &salt, &parsed.name, now));
        Some((
            UserCtx {
                name: Some(parsed.name),
                roles: record.roles,
            },
            renewed,
        ))
    }

    /// The caller of a JWT bearer token (401 when no key is configured).
    pub fn bearer(&self, token: &str) -> Result<UserCtx, ApiError> {
        match &self.inner.jwt {
            Some(jwt) => jwt.verify(token),
            None => Err(ApiError::Unauthorized(
                "bearer tokens are not accepted by this server".to_owned(),
            )),
        }
    }
}

fn admin_salt(secret: &str, name: &str, password: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(name.as_bytes());
    mac.update(b":");
    mac.update(password.as_bytes());
    let tag = mac.finalize().into_bytes();
    password::hex(&tag[..16])
}
