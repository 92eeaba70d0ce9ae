//! Which feed to hold: the best the server serves, stepping down when one
//! stalls or keeps failing, and back up later.

use crate::{
    http::{HttpRequest, Method},
    protocol::wire::Seq,
};

/// How the client hears of other clients' changes, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FeedTransport {
    /// The database's WebSocket (the reference server's `websocket`
    /// feature): changes down as they commit, and the client's requests up
    /// the same connection.
    Socket,
    /// One `continuous` feed read as a stream: each change as it commits.
    Stream,
    /// `longpoll` requests, each answered at the first change.
    Longpoll,
    /// The scheduler's interval pulls only.
    Poll,
}

impl FeedTransport {
    fn below(self) -> Self {
        match self {
            FeedTransport::Socket => FeedTransport::Stream,
            FeedTransport::Stream => FeedTransport::Longpoll,
            _ => FeedTransport::Poll,
        }
    }

    fn above(self) -> Self {
        match self {
            FeedTransport::Poll => FeedTransport::Longpoll,
            FeedTransport::Longpoll => FeedTransport::Stream,
            _ => FeedTransport::Socket,
        }
    }
}

/// Tunables of the live feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedConfig {
    /// The heartbeat asked of the server, in ms. A feed silent for
    /// [`FeedLadder::stall_ms`] is taken as stalled.
    pub heartbeat_ms: f64,
    /// How long a `longpoll` request waits for a change, in ms.
    pub longpoll_timeout_ms: f64,
    /// Failures in a row after which the feed steps down.
    pub failures_to_step_down: u32,
    /// First wait before trying the better feed again, in ms; doubles at each
    /// step down, up to `step_up_cap_ms`. [`FeedConfig::with_heartbeat`]
    /// makes it three heartbeats.
    pub step_up_base_ms: f64,
    /// Longest wait before trying the better feed again, in ms.
    pub step_up_cap_ms: f64,
    /// Largest wait before reopening a failed feed, in ms (the first is a
    /// tenth of a second, doubling).
    pub retry_cap_ms: f64,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            heartbeat_ms: 10_000.0,
            longpoll_timeout_ms: 25_000.0,
            failures_to_step_down: 3,
            step_up_base_ms: 30_000.0,
            step_up_cap_ms: 600_000.0,
            retry_cap_ms: 30_000.0,
        }
    }
}

impl FeedConfig {
    /// The defaults around a heartbeat of `heartbeat_ms`: a stall is two
    /// heartbeats and a margin, and the better feed is tried again after
    /// three heartbeats, then six, twelve, … up to ten minutes.
    pub fn with_heartbeat(heartbeat_ms: f64) -> Self {
        FeedConfig {
            heartbeat_ms,
            step_up_base_ms: heartbeat_ms * 3.0,
            ..FeedConfig::default()
        }
    }
}

/// How an opened feed ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedOutcome {
    /// The server closed it in order (its timeout, a longpoll answer).
    Ended,
    /// Nothing more arrived, not even a heartbeat, within the stall bound.
    Stalled,
    /// Not a byte ever arrived: a server or proxy that buffers the stream
    /// (compressing it, say). That feed is not tried again.
    Silent,
    /// The request failed (network, a 5xx, an unreadable body).
    Failed,
    /// The server does not serve this kind of feed (a 4xx answer).
    Refused,
}

/// The feed the client holds and how it has been doing: a pure state
/// machine the edge consults before opening a feed and tells how it ended.
#[derive(Debug, Clone)]
pub struct FeedLadder {
    config: FeedConfig,
    current: FeedTransport,
    best: FeedTransport,
    failures: u32,
    step_up_at: Option<f64>,
    step_ups: u32,
}

impl FeedLadder {
    /// A ladder starting at the streamed feed.
    pub fn new(config: FeedConfig) -> Self {
        FeedLadder {
            config,
            current: FeedTransport::Stream,
            best: FeedTransport::Stream,
            failures: 0,
            step_up_at: None,
            step_ups: 0,
        }
    }

    /// The best feed the server offers (see [`super::best_offered`]): the ladder
    /// starts there (until it first stepped down) and never climbs above it.
    pub fn offered(&mut self, best: FeedTransport) {
        self.best = best;
        self.current = if self.step_ups == 0 {
            best
        } else {
            self.current.max(best)
        };
        if self.current == best {
            self.step_up_at = None;
        }
    }

    /// The feed to hold at `now`: one rung up again once the wait after the
    /// last step down has passed.
    pub fn transport(&mut self, now: f64) -> FeedTransport {
        if let Some(at) = self.step_up_at {
            if now >= at && self.current > self.best {
                self.current = self.current.above();
                self.failures = 0;
                self.step_up_at = (self.current > self.best).then_some(now + self.step_up_wait());
            }
        }
        self.current
    }

    /// The feed in use now, without stepping.
    pub fn current(&self) -> FeedTransport {
        self.current
    }

    /// When the ladder will try a better feed, if it is below the best.
    pub fn step_up_at(&self) -> Option<f64> {
        self.step_up_at
    }

    /// How long a feed may stay silent before it counts as stalled, in ms:
    /// two heartbeats and a margin.
    pub fn stall_ms(&self) -> f64 {
        self.config.heartbeat_ms * 2.0 + 1_000.0
    }

    /// The request that opens `transport` after `since` (`None`: from now,
    /// for a client that has not pulled yet, whose cycle pulls the past) at
    /// `now`. A long-poll ends by the time the better feed is due again.
    pub fn request(
        &self,
        transport: FeedTransport,
        since: Option<&Seq>,
        now: f64,
    ) -> Option<HttpRequest> {
        let feed = match transport {
            FeedTransport::Socket => None,
            FeedTransport::Stream => Some("continuous"),
            FeedTransport::Longpoll => Some("longpoll"),
            FeedTransport::Poll => return None,
        };
        let path = if feed.is_some() {
            "_changes"
        } else {
            "_socket"
        };
        let mut request = HttpRequest::new(Method::Get, path);
        if let Some(feed) = feed {
            request.query.push(("feed".to_owned(), feed.to_owned()));
        }
        let since = since.map_or_else(|| "now".to_owned(), Seq::to_query);
        let heartbeat = format!("{}", self.config.heartbeat_ms.max(1.0).round());
        request.query.extend([
            ("since".to_owned(), since),
            ("heartbeat".to_owned(), heartbeat),
        ]);
        if let Some(timeout) = self.lifetime_ms(transport, now) {
            let timeout = format!("{}", timeout.round());
            request.query.push(("timeout".to_owned(), timeout));
        }
        Some(request)
    }

    /// How long a feed of `transport` opened at `now` should last, in ms: a
    /// long-poll ends by the time the better feed is due again (never
    /// sooner than a heartbeat), a stream lasts. The request asks the server
    /// for it, and the edge ends the request itself a second after it (a
    /// server may ignore `timeout` once `heartbeat` is given: CouchDB does).
    pub fn lifetime_ms(&self, transport: FeedTransport, now: f64) -> Option<f64> {
        if transport != FeedTransport::Longpoll {
            return None;
        }
        let until_step_up = self.step_up_at.map_or(f64::INFINITY, |at| at - now);
        let floor = self
            .config
            .heartbeat_ms
            .min(self.config.longpoll_timeout_ms);
        Some(
            self.config
                .longpoll_timeout_ms
                .min(until_step_up)
                .max(floor)
                .max(1.0),
        )
    }

    /// Data arrived on the feed: it works, so failures start over.
    pub fn on_data(&mut self) {
        self.failures = 0;
    }

    /// Takes how a feed of the current kind ended at `now`; returns how long
    /// to wait before opening the next one, in ms (0: at once). `random` is
    /// uniform in `[0, 1)`, for the jitter.
    pub fn on_outcome(&mut self, outcome: FeedOutcome, now: f64, random: f64) -> f64 {
        match outcome {
            FeedOutcome::Ended => {
                self.failures = 0;
                0.0
            }
            FeedOutcome::Stalled | FeedOutcome::Refused => {
                self.step_down(now);
                0.0
            }
            FeedOutcome::Silent => {
                // Something between buffers what the server streams: this
                // feed will not do better next time.
                self.best = self.current.below();
                self.step_down(now);
                self.step_up_at = None;
                0.0
            }
            FeedOutcome::Failed => {
                self.failures += 1;
                let exponent = i32::try_from(self.failures - 1).unwrap_or(30).min(30);
                let ceiling = (100.0 * 2f64.powi(exponent)).min(self.config.retry_cap_ms);
                if self.failures >= self.config.failures_to_step_down.max(1) {
                    self.step_down(now);
                }
                ceiling * (0.5 + random.clamp(0.0, 1.0) / 2.0)
            }
        }
    }

    fn step_down(&mut self, now: f64) {
        self.current = self.current.below();
        self.failures = 0;
        self.step_ups = self.step_ups.saturating_add(1);
        self.step_up_at = Some(now + self.step_up_wait());
    }

    fn step_up_wait(&self) -> f64 {
        let exponent = i32::try_from(self.step_ups.saturating_sub(1))
            .unwrap_or(30)
            .min(30);
        (self.config.step_up_base_ms * 2f64.powi(exponent)).min(self.config.step_up_cap_ms)
    }
}

#[cfg(test)]
mod tests;
