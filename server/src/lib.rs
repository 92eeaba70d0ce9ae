//! The tidesync reference server: a CouchDB 3.x compatible subset on SQLite.
//!
//! [`Server::bind`] opens the storage and the listening socket and
//! [`Server::run`] serves until a shutdown future resolves, so tests can run the
//! whole server in-process on an ephemeral port; [`serve`] adds what the
//! binary needs on top (the startup line and `--port-file`).

#![warn(missing_docs)]

pub mod auth;
pub mod config;
pub mod cors;
pub mod edit;
pub mod error;
pub mod notify;
pub mod revisions;
pub mod routes;
pub mod sessions;
pub mod state;
pub mod store;

use std::{
    future::{Future, IntoFuture},
    io,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use axum::{serve::ListenerExt, Router};
use tokio::{
    net::TcpListener,
    sync::{oneshot, watch},
};

pub use config::Config;
pub use routes::router;
pub use state::AppState;

use crate::{
    auth::{Auth, AuthSetupError},
    config::Limits,
    cors::CorsPolicy,
    notify::Notifier,
    routes::statics::StaticDirs,
    sessions::Sessions,
    store::{Store, StoreError},
};

/// How long open connections may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Why the server could not start or keep running.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The data directory or SQLite file could not be opened.
    #[error("cannot open storage: {0}")]
    Storage(#[from] StoreError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// Accepting connections failed.
    #[error("server failed: {0}")]
    Serve(io::Error),
    /// Authentication could not be set up (JWT key, secret, `_users`).
    #[error("cannot set up authentication: {0}")]
    Auth(#[from] AuthSetupError),
    /// No admin is configured and the address is not loopback.
    #[error(
        "refusing to serve {0} without authentication: give --admin NAME:PASSWORD \
         (or TIDESYNC_ADMINS), bind a loopback address, or pass --open to serve \
         everyone with full access on purpose"
    )]
    Unprotected(std::net::IpAddr),
    /// `--port-file` could not be written.
    #[error("cannot write port file {path}: {source}")]
    PortFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// A bound, not yet running server.
pub struct Server {
    listener: TcpListener,
    app: Router,
    addr: SocketAddr,
    stop_feeds: watch::Sender<bool>,
}

impl Server {
    /// Opens the storage in `config.data_dir` and binds `config.bind:config.port`.
    pub async fn bind(config: &Config) -> Result<Server, ServerError> {
        if config.admins.is_empty() && !config.bind.is_loopback() && !config.open {
            return Err(ServerError::Unprotected(config.bind));
        }
        let data_dir = config.data_dir.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(&data_dir, Notifier::new()))
            .await
            .map_err(|err| StoreError::Task(err.to_string()))??;
        let auth = Auth::open(config, store.clone()).await?;
        if auth.enabled() {
            tracing::info!(
                admins = config.admins.len(),
                jwt = auth.jwt_enabled(),
                "authentication on: requests are checked against _users and each database's _security"
            );
        } else {
            tracing::warn!(
                "no admin configured: the server is open, every client has full access \
                 without authentication (give --admin NAME:PASSWORD to require it)"
            );
        }
        let (stop_feeds, shutdown) = watch::channel(false);
        let state = AppState {
            store,
            limits: Limits::from(config),
            statics: Arc::new(StaticDirs {
                demo: config.static_dir.clone(),
                pkg: config.pkg_dir.clone(),
            }),
            shutdown,
            sessions: Sessions::new(config.max_live_feeds),
            websocket: config.websocket,
            auth,
        };
        let app = router(state, CorsPolicy::new(&config.cors_origins));
        let requested = SocketAddr::new(config.bind, config.port);
        let bind_err = |source| ServerError::Bind {
            addr: requested,
            source,
        };
        let listener = TcpListener::bind(requested).await.map_err(bind_err)?;
        let addr = listener.local_addr().map_err(bind_err)?;
        Ok(Server {
            listener,
            app,
            addr,
            stop_feeds,
        })
    }

    /// The address actually bound (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` resolves, then ends waiting `_changes` feeds and
    /// lets requests in flight finish (for at most a few seconds).
    pub async fn run<F>(self, shutdown: F) -> Result<(), ServerError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (fired, fired_rx) = oneshot::channel::<()>();
        let stop_feeds = self.stop_feeds;
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down");
            stop_feeds.send_replace(true);
            // The receiver only goes away once the server has stopped.
            let _ = fired.send(());
        };
        // Small frames and answers go out at once: without TCP_NODELAY a
        // WebSocket's request-answer exchanges wait on delayed ACKs.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(err) = tcp.set_nodelay(true) {
                tracing::debug!(error = %err, "cannot set TCP_NODELAY");
            }
        });
        let app = self.app.into_make_service_with_connect_info::<SocketAddr>();
        let serving = axum::serve(listener, app)
            .with_graceful_shutdown(signal)
            .into_future();
        let grace_over = async move {
            if fired_rx.await.is_err() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        tokio::select! {
            result = serving => result.map_err(ServerError::Serve),
            () = grace_over => {
                tracing::warn!("connections still open after the grace period; stopping anyway");
                Ok(())
            }
        }
    }
}

/// Binds, announces `tidesync-server listening on http://ADDR` on stdout,
/// writes `--port-file`, and serves until `shutdown` resolves.
pub async fn serve<F>(config: Config, shutdown: F) -> Result<(), ServerError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let server = Server::bind(&config).await?;
    let addr = server.local_addr();
    println!("tidesync-server listening on http://{addr}");
    if let Some(path) = &config.port_file {
        write_port_file(path, addr.port()).map_err(|source| ServerError::PortFile {
            path: path.clone(),
            source,
        })?;
    }
    tracing::info!(%addr, data_dir = %config.data_dir.display(), "listening");
    server.run(shutdown).await
}

/// Writes the port through a temporary file and a rename, so a script polling
/// for the file never reads it half-written.
pub fn write_port_file(path: &Path, port: u16) -> io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, port.to_string())?;
    std::fs::rename(&temporary, path)
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
