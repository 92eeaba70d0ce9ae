//! [`AppState`]: what every handler can reach.

use std::sync::Arc;

use tokio::sync::watch;

use crate::{
    auth::Auth, config::Limits, routes::statics::StaticDirs, sessions::Sessions, store::Store,
};

/// Shared by all handlers; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database file.
    pub store: Store,
    /// Size limits from the command line.
    pub limits: Limits,
    /// Folders served under `/_demo/`.
    pub statics: Arc<StaticDirs>,
    /// Turns true when the server begins shutting down, so that long-lived
    /// `_changes` feeds end and graceful shutdown does not wait on them.
    pub shutdown: watch::Receiver<bool>,
    /// The clients syncing now, and the cap on live feeds.
    pub sessions: Sessions,
    /// Whether databases offer their WebSocket (`--websocket`).
    pub websocket: bool,
    /// Users, sessions and the keys that verify them.
    pub auth: Auth,
}
