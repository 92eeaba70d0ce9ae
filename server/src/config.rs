//! Command-line configuration of the server, with the defaults tests reuse.

use std::{net::IpAddr, path::PathBuf};

use clap::Parser;

/// CouchDB's default `max_document_size`.
pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 8_000_000;
/// Room for a batch of documents or a few base64 attachments in one request.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;
/// Attachments are held in memory while they are written, so they are capped.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: usize = 32 * 1024 * 1024;

/// Live feeds a server holds by default: room for a few thousand open apps
/// on one machine.
pub const DEFAULT_MAX_LIVE_FEEDS: usize = 4096;

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
