//! When to sync: a pure scheduler for automatic sync.
//!
//! The edge feeds it what happens (local writes, `online`/`offline`, page
//! visibility, the end of a cycle, the time) and asks [`Scheduler::poll`] what to
//! do: run a cycle now, wake up at a given time, or wait for an event. Retries use
//! exponential backoff with full jitter, capped, never earlier than a server's
//! `Retry-After`, and reset on success or when the browser comes back online.

use serde::Serialize;

use crate::sync::{IssueCode, SyncIssue, SyncReport};

/// Tunables of automatic sync.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleConfig {
    /// Automatic sync at all (`live: false` leaves only manual `sync()`).
    pub live: bool,
    /// Quiet time after the last local write before pushing, in ms.
    pub debounce_ms: f64,
    /// Longest a write waits for the debounce to settle, in ms.
    pub max_wait_ms: f64,
    /// Pull interval while the page is visible, in ms (0 disables polling).
    pub poll_interval_ms: f64,
    /// First retry delay ceiling, in ms.
    pub backoff_base_ms: f64,
    /// Largest retry delay, in ms.
    pub backoff_cap_ms: f64,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            live: true,
            debounce_ms: 100.0,
            max_wait_ms: 2_000.0,
            poll_interval_ms: 30_000.0,
            backoff_base_ms: 1_000.0,
            backoff_cap_ms: 60_000.0,
        }
    }
}

/// What the edge should do next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    /// Start a cycle now.
    RunNow,
    /// Call `poll` again at this time (ms since the epoch).
    WakeAt(f64),
    /// Nothing until an event arrives.
    Wait,
}

/// The sync state shown to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum SyncState {
    /// Online, no cycle finished yet.
    Online,
    /// The browser is offline or the server unreachable.
    Offline,
    /// A cycle is running.
    Syncing,
    /// Online and caught up.
    Idle,
    /// The last cycle failed for another reason; a retry is scheduled.
    Error,
    /// Automatic sync is paused.
    Paused,
}

/// The scheduler's state.
#[derive(Debug, Clone)]
pub struct Scheduler {
    config: ScheduleConfig,
    online: bool,
    reachable: bool,
    visible: bool,
    paused: bool,
    running: bool,
    kick: bool,
    feed_open: bool,
    dirty_since: Option<f64>,
    last_write: f64,
    failures: u32,
    next_retry_at: Option<f64>,
    last_cycle_at: Option<f64>,
    last_sync_at: Option<f64>,
    last_error: Option<SyncIssue>,
}

impl Scheduler {
    /// A scheduler; `online` and `visible` as the browser reports them now.
    pub fn new(config: ScheduleConfig, online: bool, visible: bool) -> Self {
        Scheduler {
            config,
            online,
            reachable: true,
            visible,
            paused: false,
            running: false,
            kick: false,
            feed_open: false,
            dirty_since: None,
            last_write: 0.0,
            failures: 0,
            next_retry_at: None,
            last_cycle_at: None,
            last_sync_at: None,
            last_error: None,
        }
    }

    /// A local write happened (or work is waiting at start-up).
    pub fn local_write(&mut self, now: f64) {
        self.dirty_since.get_or_insert(now);
        self.last_write = now;
    }

    /// The browser went online: try at once, forgetting the backoff.
    pub fn went_online(&mut self) {
        self.online = true;
        self.reachable = true;
        self.last_error = None;
        self.failures = 0;
        self.next_retry_at = None;
        self.kick = true;
    }

    /// The browser went offline.
    pub fn went_offline(&mut self) {
        self.online = false;
    }

    /// The page became visible (sync now) or hidden (stop polling).
    pub fn visibility(&mut self, visible: bool) {
        if visible && !self.visible {
            self.kick = true;
        }
        self.visible = visible;
    }

    /// Pauses automatic sync.
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// Resumes automatic sync with an immediate attempt.
    pub fn resume(&mut self) {
        self.paused = false;
        self.failures = 0;
        self.next_retry_at = None;
        self.kick = true;
    }

    /// Asks for a cycle as soon as possible (e.g. new credentials arrived).
    pub fn request_now(&mut self) {
        self.next_retry_at = None;
        self.kick = true;
    }

    /// A live changes feed is open (`true`) or closed: while one is, it
    /// says when to pull, and interval polling stops.
    pub fn set_feed_open(&mut self, open: bool) {
        self.feed_open = open;
    }

    /// Whether automatic sync may hold a live feed now: live, online, the
    /// page visible, not paused.
    pub fn feed_wanted(&self) -> bool {
        self.config.live && self.online && self.visible && !self.paused
    }

    /// A cycle started (automatic or manual).
    pub fn cycle_started(&mut self, now: f64) {
        self.running = true;
        self.kick = false;
        if self.dirty_since.is_some_and(|since| since <= now) {
            self.dirty_since = None;
        }
    }

    /// A cycle ended. `random` is uniform in `[0, 1)`, for the jitter.
    pub fn cycle_ended(&mut self, report: &SyncReport, now: f64, random: f64) {
        self.running = false;
        self.last_cycle_at = Some(now);
        let failure = report.errors.iter().find(|e| e.code != IssueCode::Rejected);
        let Some(failure) = failure else {
            self.failures = 0;
            self.next_retry_at = None;
            self.reachable = true;
            self.last_sync_at = Some(now);
            self.last_error = None;
            return;
        };
        self.reachable = !matches!(failure.code, IssueCode::Network | IssueCode::Timeout);
        self.failures = self.failures.saturating_add(1);
        let exponent = i32::try_from(self.failures - 1).unwrap_or(i32::MAX).min(30);
        let ceiling =
            (self.config.backoff_base_ms * 2f64.powi(exponent)).min(self.config.backoff_cap_ms);
        let mut delay = random.clamp(0.0, 1.0) * ceiling;
        if let Some(wait) = failure.retry_after_ms {
            delay = delay.max(wait);
        }
        self.next_retry_at = Some(now + delay);
        self.last_error = Some(failure.clone());
    }

    /// What to do now.
    pub fn poll(&self, now: f64) -> Action {
        if !self.config.live || self.paused || self.running || !self.online {
            return Action::Wait;
        }
        if let Some(retry_at) = self.next_retry_at {
            return if retry_at <= now {
                Action::RunNow
            } else {
                Action::WakeAt(retry_at)
            };
        }
        if self.kick {
            return Action::RunNow;
        }
        let mut due: Option<f64> = None;
        if let Some(since) = self.dirty_since {
            let settle =
                (self.last_write + self.config.debounce_ms).min(since + self.config.max_wait_ms);
            due = Some(settle);
        }
        if self.visible && !self.feed_open && self.config.poll_interval_ms > 0.0 {
            let from = self.last_cycle_at.unwrap_or(now);
            let poll = from + self.config.poll_interval_ms;
            due = Some(due.map_or(poll, |d| d.min(poll)));
        }
        match due {
            Some(at) if at <= now => Action::RunNow,
            Some(at) => Action::WakeAt(at),
            None => Action::Wait,
        }
    }

    /// The state to show.
    pub fn state(&self) -> SyncState {
        if self.paused {
            SyncState::Paused
        } else if self.running {
            SyncState::Syncing
        } else if !self.online || !self.reachable {
            SyncState::Offline
        } else if self.last_error.is_some() {
            SyncState::Error
        } else if self.last_sync_at.is_none() {
            SyncState::Online
        } else {
            SyncState::Idle
        }
    }

    /// When the last successful cycle ended.
    pub fn last_sync_at(&self) -> Option<f64> {
        self.last_sync_at
    }

    /// The failure of the last cycle, while it is not yet retried successfully.
    pub fn last_error(&self) -> Option<&SyncIssue> {
        self.last_error.as_ref()
    }

    /// When the next retry is due.
    pub fn next_retry_at(&self) -> Option<f64> {
        self.next_retry_at
    }
}

#[cfg(test)]
mod tests;
