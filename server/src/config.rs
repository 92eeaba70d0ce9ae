//! Command-line configuration of the server, with the defaults tests reuse.

use std::{fmt, net::IpAddr, path::PathBuf, str::FromStr};

use clap::{Parser, ValueEnum};

/// CouchDB's default `max_document_size`.
pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 8_000_000;
/// Room for a batch of documents or a few base64 attachments in one request.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;
/// Attachments are held in memory while they are written, so they are capped.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: usize = 32 * 1024 * 1024;

/// Live feeds a server holds by default: room for a few thousand open apps
/// on one machine.
pub const DEFAULT_MAX_LIVE_FEEDS: usize = 4096;

/// CouchDB's default session lifetime (`[chttpd_auth] timeout`), in seconds.
pub const DEFAULT_SESSION_TIMEOUT_SECS: u64 = 600;

/// PBKDF2-SHA256 rounds for stored passwords: CouchDB 3.4's default, and
/// what OWASP asks of PBKDF2-HMAC-SHA256.
pub const DEFAULT_PBKDF2_ITERATIONS: u32 = 600_000;

/// The JWT claim holding roles: CouchDB's default `roles_claim_name`, a
/// top-level claim literally named `_couchdb.roles`.
pub const DEFAULT_JWT_ROLES_CLAIM: &str = "_couchdb.roles";

/// A server admin from `--admin NAME:PASSWORD`. Its `Debug` hides the
/// password, so a logged configuration leaks nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminSpec {
    /// The admin's user name.
    pub name: String,
    /// The password, in clear: it is hashed at startup and then dropped.
    pub password: String,
}

impl fmt::Debug for AdminSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AdminSpec({:?}:***)", self.name)
    }
}

impl FromStr for AdminSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, password) = text
            .split_once(':')
            .ok_or_else(|| "expected NAME:PASSWORD".to_owned())?;
        if name.is_empty() || name.starts_with('_') {
            return Err("the admin name must be non-empty and not start with `_`".to_owned());
        }
        if password.is_empty() {
            return Err("the admin password must not be empty".to_owned());
        }
        Ok(AdminSpec {
            name: name.to_owned(),
            password: password.to_owned(),
        })
    }
}

/// A secret from the command line or the environment, hidden from `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl FromStr for Secret {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() < 16 {
            return Err("a secret needs at least 16 characters".to_owned());
        }
        Ok(Secret(text.to_owned()))
    }
}

/// The `SameSite` attribute of the `AuthSession` cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SameSite {
    /// Sent on top-level navigations from other sites, not on their requests.
    Lax,
    /// Never sent from other sites.
    Strict,
    /// Sent from every site (browsers then require `Secure`, so it sets it).
    None,
}

impl SameSite {
    /// The attribute's value as written in `Set-Cookie`.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Lax => "Lax",
            SameSite::Strict => "Strict",
            SameSite::None => "None",
        }
    }
}

/// The reference server of tidesync: a CouchDB 3.x compatible subset on SQLite.
///
/// Every flag has a default that suits local development, so running the
/// binary with no arguments serves `./data` on http://127.0.0.1:5984.
#[derive(Debug, Clone, Parser)]
#[command(name = "tidesync-server", version, about, long_about = None)]
pub struct Config {
    /// TCP port to listen on; 0 picks a free port (see --port-file).
    #[arg(long, default_value_t = 5984)]
    pub port: u16,

    /// Address to bind; use 0.0.0.0 to accept connections from other machines.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,

    /// Folder holding the SQLite database file; created if missing.
    #[arg(long, default_value = "./data")]
    pub data_dir: PathBuf,

    /// Largest JSON body of one document, in bytes (CouchDB's max_document_size).
    #[arg(long, default_value_t = DEFAULT_MAX_DOCUMENT_BYTES)]
    pub max_document_bytes: usize,

    /// Largest request body, in bytes; larger requests get 413 too_large.
    #[arg(long, default_value_t = DEFAULT_MAX_REQUEST_BYTES)]
    pub max_request_bytes: usize,

    /// Largest attachment, in bytes, inline or uploaded on its own.
    #[arg(long, default_value_t = DEFAULT_MAX_ATTACHMENT_BYTES)]
    pub max_attachment_bytes: usize,

    /// Origin allowed to make cross-origin requests with credentials
    /// (repeatable; `*` allows any origin without credentials). When none is
    /// given, any http://localhost:PORT and http://127.0.0.1:PORT origin is allowed.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub cors_origins: Vec<String>,

    /// Folder served at /_demo/ (a missing folder answers 404).
    #[arg(long, default_value = "www-demo")]
    pub static_dir: PathBuf,

    /// Folder of the built npm package, served at /_demo/pkg/.
    #[arg(long, default_value = "pkg")]
    pub pkg_dir: PathBuf,

    /// Log filter (error, warn, info, debug, trace or a tracing directive);
    /// the RUST_LOG environment variable overrides it.
    #[arg(long, default_value = "info")]
    pub log_level: String,

    /// Most waiting `_changes` feeds (longpoll, continuous, eventsource) held
    /// at once; past it a feed is refused with 503 too_many_live_feeds and
    /// the client polls instead. Each holds a connection and a task.
    #[arg(long, default_value_t = DEFAULT_MAX_LIVE_FEEDS)]
    pub max_live_feeds: usize,

    /// Offer each database's WebSocket (`GET /{db}/_socket`, the `websocket`
    /// feature); `--websocket false` leaves clients the HTTP feeds.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub websocket: bool,

    /// File to write the bound port into once listening, for scripts using --port 0.
    #[arg(long, value_name = "PATH")]
    pub port_file: Option<PathBuf>,

    /// A server admin (repeatable). With at least one, every request is
    /// authenticated and authorised as CouchDB 3 does; with none, the server
    /// is open to anyone and only binds a loopback address (see --open).
    /// TIDESYNC_ADMINS takes a comma-separated list.
    #[arg(
        long = "admin",
        value_name = "NAME:PASSWORD",
        env = "TIDESYNC_ADMINS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub admins: Vec<AdminSpec>,

    /// Serve a non-loopback address without any admin, so without
    /// authentication: everyone who can reach it may read, write and delete.
    #[arg(long)]
    pub open: bool,

    /// Key of the session cookies' HMAC (16 characters or more). Without it a
    /// random one is made once and kept in the data directory, so sessions
    /// survive restarts either way.
    #[arg(
        long,
        value_name = "SECRET",
        env = "TIDESYNC_SECRET",
        hide_env_values = true
    )]
    pub secret: Option<Secret>,

    /// Lifetime of an `AuthSession` cookie, in seconds; it is renewed once a
    /// tenth of it has passed.
    #[arg(long, default_value_t = DEFAULT_SESSION_TIMEOUT_SECS, value_name = "SECS")]
    pub session_timeout: u64,

    /// `SameSite` attribute of the session cookie.
    #[arg(long, value_enum, default_value_t = SameSite::Lax)]
    pub cookie_same_site: SameSite,

    /// Mark the session cookie `Secure` (for servers behind HTTPS).
    #[arg(long)]
    pub cookie_secure: bool,

    /// PBKDF2-SHA256 rounds when hashing a new password.
    #[arg(long, default_value_t = DEFAULT_PBKDF2_ITERATIONS, value_name = "N")]
    pub pbkdf2_iterations: u32,

    /// Accept JWT bearer tokens signed with HS256 and this key.
    #[arg(
        long,
        value_name = "SECRET",
        env = "TIDESYNC_JWT_HS256_SECRET",
        hide_env_values = true
    )]
    pub jwt_hs256_secret: Option<Secret>,

    /// Accept JWT bearer tokens signed with RS256 by the key whose public
    /// half is in this PEM file.
    #[arg(long, value_name = "FILE")]
    pub jwt_rs256_key: Option<PathBuf>,

    /// The JWT claim holding the bearer's roles (`sub` is the name).
    #[arg(long, default_value = DEFAULT_JWT_ROLES_CLAIM, value_name = "CLAIM")]
    pub jwt_roles_claim: String,

    /// Give each new user a database, `userdb-<hex of the name>`, whose
    /// only admin and member is that user (CouchDB's couch_peruser).
    #[arg(long)]
    pub per_user_dbs: bool,
}

impl Config {
    /// A configuration with every default, storing its data in `data_dir` and
    /// listening on a free loopback port: what in-process tests want.
    pub fn ephemeral(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            port: 0,
            bind: IpAddr::from([127, 0, 0, 1]),
            data_dir: data_dir.into(),
            max_document_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            max_attachment_bytes: DEFAULT_MAX_ATTACHMENT_BYTES,
            cors_origins: Vec::new(),
            static_dir: PathBuf::from("www-demo"),
            pkg_dir: PathBuf::from("pkg"),
            log_level: "info".to_owned(),
            max_live_feeds: DEFAULT_MAX_LIVE_FEEDS,
            websocket: true,
            port_file: None,
            admins: Vec::new(),
            open: false,
            secret: None,
            session_timeout: DEFAULT_SESSION_TIMEOUT_SECS,
            cookie_same_site: SameSite::Lax,
            cookie_secure: false,
            pbkdf2_iterations: DEFAULT_PBKDF2_ITERATIONS,
            jwt_hs256_secret: None,
            jwt_rs256_key: None,
            jwt_roles_claim: DEFAULT_JWT_ROLES_CLAIM.to_owned(),
            per_user_dbs: false,
        }
    }
}

/// The size limits every handler consults, split out of [`Config`] so the
/// request path does not carry the whole command line around.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// See [`Config::max_document_bytes`].
    pub max_document_bytes: usize,
    /// See [`Config::max_request_bytes`].
    pub max_request_bytes: usize,
    /// See [`Config::max_attachment_bytes`].
    pub max_attachment_bytes: usize,
}

impl From<&Config> for Limits {
    fn from(config: &Config) -> Self {
        Limits {
            max_document_bytes: config.max_document_bytes,
            max_request_bytes: config.max_request_bytes,
            max_attachment_bytes: config.max_attachment_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_ephemeral_config() {
        let parsed = Config::parse_from(["tidesync-server"]);
        let ephemeral = Config::ephemeral("./data");
        assert_eq!(parsed.port, 5984);
        assert_eq!(Limits::from(&parsed), Limits::from(&ephemeral));
        assert_eq!(parsed.static_dir, ephemeral.static_dir);
        assert_eq!(parsed.pkg_dir, ephemeral.pkg_dir);
        assert_eq!(parsed.data_dir, ephemeral.data_dir);
        assert_eq!(parsed.session_timeout, ephemeral.session_timeout);
        assert_eq!(parsed.pbkdf2_iterations, ephemeral.pbkdf2_iterations);
        assert_eq!(parsed.jwt_roles_claim, ephemeral.jwt_roles_claim);
    }

    #[test]
    fn admins_parse_and_hide_their_passwords() {
        let parsed = Config::parse_from([
            "tidesync-server",
            "--admin",
            "root:pa:ss",
            "--admin",
            "ops:x",
        ]);
        assert_eq!(parsed.admins.len(), 2);
        assert_eq!(parsed.admins[0].name, "root");
        assert_eq!(parsed.admins[0].password, "pa:ss");
        assert!(!format!("{parsed:?}").contains("pa:ss"));
        for bad in ["nopassword", ":pw", "_x:pw", "name:"] {
            assert!(
                Config::try_parse_from(["tidesync-server", "--admin", bad]).is_err(),
                "{bad}"
            );
        }
        assert!(Config::try_parse_from(["tidesync-server", "--secret", "short"]).is_err());
    }

    #[test]
    fn repeatable_origins() {
        let parsed = Config::parse_from([
            "tidesync-server",
            "--cors-origin",
            "https://a.example",
            "--cors-origin",
            "https://b.example",
        ]);
        assert_eq!(
            parsed.cors_origins,
            ["https://a.example", "https://b.example"]
        );
    }
}
