//! Who is syncing: the clients holding a waiting `_changes` feed (a live
//! session, for as long as its connection lasts) and those pulling by
//! interval (a poll session, kept a while after each request). Admins list
//! them at `GET /_active_tasks`; the number of live feeds is capped
//! (`--max-live-feeds`), so a crowd of clients cannot exhaust the server's
//! connections: past the cap a feed is refused and the client polls.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde::Serialize;

use crate::error::ApiError;

/// A poll session is listed this long after its client's last request: a few
/// of the SDK's default intervals (30 s).
pub const POLL_SESSION_TTL: Duration = Duration::from_secs(120);

/// The `_changes` query parameter by which the SDK names itself to servers
/// that list sessions (a parameter, not a header, so a cross-origin `GET`
/// stays a simple request without a CORS preflight).
pub const CLIENT_PARAM: &str = "client_id";

/// One session as `GET /_active_tasks` lists it (CouchDB's task shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    /// Always `tidesync_sync`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The database synced.
    pub database: String,
    /// The id the client sent (`client_id`), if any.
    pub client: Option<String>,
    /// `continuous`, `eventsource`, `longpoll` or `poll`.
    pub transport: &'static str,
    /// When the session began, in seconds since the epoch.
    pub started_on: u64,
    /// When the client was last heard from or sent to, in seconds since
    /// the epoch.
    pub updated_on: u64,
}

#[derive(Debug, Default)]
struct Registry {
    next: u64,
    live: HashMap<u64, SessionInfo>,
    polls: HashMap<(String, String), SessionInfo>,
}

/// The server's sessions; cheap to clone.
#[derive(Debug, Clone)]
pub struct Sessions {
    registry: Arc<Mutex<Registry>>,
    max_live: usize,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Sessions {
    /// No sessions yet, at most `max_live` live feeds at once.
    pub fn new(max_live: usize) -> Self {
        Sessions {
            registry: Arc::default(),
            max_live,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        // A panic while holding the lock leaves plain data behind: keep going.
        self.registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Opens a live session for a waiting feed, or refuses it at the cap.
    /// The session ends when the returned guard is dropped (the feed's task
    /// ends, whatever the reason).
    pub fn open_live(
        &self,
        client: Option<String>,
        database: &str,
        transport: &'static str,
    ) -> Result<LiveSession, ApiError> {
        let mut registry = self.lock();
        if registry.live.len() >= self.max_live {
            return Err(ApiError::TooManyLiveFeeds(self.max_live));
        }
        let now = now_secs();
        registry.next += 1;
        let id = registry.next;
        registry.live.insert(
            id,
            SessionInfo {
                kind: "tidesync_sync",
                database: database.to_owned(),
                client,
                transport,
                started_on: now,
                updated_on: now,
            },
        );
        Ok(LiveSession {
            sessions: self.clone(),
            id,
        })
    }

    /// A client named itself on a `normal` `_changes` request: its poll
    /// session is (re)started or renewed.
    pub fn polled(&self, client: String, database: &str) {
        let now = now_secs();
        let mut registry = self.lock();
        let key = (client.clone(), database.to_owned());
        let entry = registry.polls.entry(key).or_insert_with(|| SessionInfo {
            kind: "tidesync_sync",
            database: database.to_owned(),
            client: Some(client),
            transport: "poll",
            started_on: now,
            updated_on: now,
        });
        entry.updated_on = now;
    }

    /// Every session, live ones first, oldest first; poll sessions not
    /// renewed within [`POLL_SESSION_TTL`] are forgotten.
    pub fn list(&self) -> Vec<SessionInfo> {
        let horizon = now_secs().saturating_sub(POLL_SESSION_TTL.as_secs());
        let mut registry = self.lock();
        registry.polls.retain(|_, s| s.updated_on >= horizon);
        let mut live: Vec<SessionInfo> = registry.live.values().cloned().collect();
        let mut polls: Vec<SessionInfo> = registry.polls.values().cloned().collect();
        live.sort_by_key(|s| s.started_on);
        polls.sort_by_key(|s| s.started_on);
        live.extend(polls);
        live
    }
}

/// A live session, ended when dropped.
#[derive(Debug)]
pub struct LiveSession {
    sessions: Sessions,
    id: u64,
}

impl LiveSession {
    /// Data or a heartbeat went out: the client is still there.
    pub fn touch(&self) {
        if let Some(session) = self.sessions.lock().live.get_mut(&self.id) {
            session.updated_on = now_secs();
        }
    }
}

impl Drop for LiveSession {
    fn drop(&mut self) {
        self.sessions.lock().live.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_sessions_are_capped_and_end_with_their_guard() {
        let sessions = Sessions::new(2);
        let first = sessions
            .open_live(Some("a".into()), "db", "continuous")
            .expect("first");
        let second = sessions.open_live(None, "db", "longpoll").expect("second");
        let refused = sessions.open_live(Some("c".into()), "db", "eventsource");
        assert_eq!(refused.err(), Some(ApiError::TooManyLiveFeeds(2)));
        assert_eq!(sessions.list().len(), 2);
        drop(first);
        let listed = sessions.list();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].transport, "longpoll");
        let third = sessions.open_live(Some("c".into()), "db", "eventsource");
        assert!(third.is_ok(), "room again once one ended");
        drop((second, third));
        assert!(sessions.list().is_empty());
    }

    #[test]
    fn a_polling_client_is_one_session_per_database() {
        let sessions = Sessions::new(0);
        sessions.polled("a".into(), "db");
        sessions.polled("a".into(), "db");
        sessions.polled("a".into(), "other");
        let listed = sessions.list();
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().all(|s| s.transport == "poll"));
        assert!(
            sessions.open_live(None, "db", "longpoll").is_err(),
            "a cap of 0 refuses every live feed"
        );
    }
}
