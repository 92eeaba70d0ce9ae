//! Which feed a server offers, from its welcome.

use crate::protocol::wire::{features, Welcome};

use super::FeedTransport;

/// The best feed a server offers, from its welcome (`GET /`): its WebSocket
/// where it lists the `websocket` feature (the reference server), a streamed
/// feed where it says it serves one (tidesync's server lists
/// `changes-continuous`) or is Apache CouchDB, long-poll otherwise (every
/// CouchDB-style server answers it, and pouchdb-server compresses a stream
/// until it ends). An unreadable welcome counts as an unknown server.
pub fn best_offered(welcome: &str) -> FeedTransport {
    let Ok(welcome) = serde_json::from_str::<Welcome>(welcome) else {
        return FeedTransport::Longpoll;
    };
    if welcome.features.iter().any(|f| f == features::WEBSOCKET) {
        return FeedTransport::Socket;
    }
    let apache = welcome
        .vendor
        .as_ref()
        .is_some_and(|v| v.name.contains("Apache"));
    if apache
        || welcome
            .features
            .iter()
            .any(|f| f == features::CHANGES_CONTINUOUS)
    {
        FeedTransport::Stream
    } else {
        FeedTransport::Longpoll
    }
}

/// True when the server's welcome lists `feature` (one of
/// [`features`]); an unreadable welcome lists none.
pub fn offers(welcome: &str, feature: &str) -> bool {
    serde_json::from_str::<Welcome>(welcome).is_ok_and(|w| w.features.iter().any(|f| f == feature))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::{FeedConfig, FeedLadder, FeedOutcome};

    #[test]
    fn the_servers_welcome_says_which_feed_to_start_with() {
        let couch = r#"{"couchdb":"Welcome","version":"3.5.0","features":["access-ready"],"vendor":{"name":"The Apache Software Foundation"}}"#;
        let own = r#"{"couchdb":"Welcome","version":"0.1.0","features":["changes-continuous","changes-longpoll"]}"#;
        let socket = r#"{"couchdb":"Welcome","version":"0.1.0","features":["changes-continuous","websocket"]}"#;
        assert_eq!(best_offered(socket), FeedTransport::Socket);
        let pouch = r#"{"express-pouchdb":"Welcome!","version":"4.2.0","vendor":{"name":"PouchDB authors"}}"#;
        assert_eq!(best_offered(couch), FeedTransport::Stream);
        assert_eq!(best_offered(own), FeedTransport::Stream);
        assert_eq!(best_offered(pouch), FeedTransport::Longpoll);
        assert_eq!(best_offered("<html>"), FeedTransport::Longpoll);
        assert!(offers(own, features::CHANGES_LONGPOLL));
        assert!(!offers(own, features::SESSIONS));
        assert!(!offers(couch, features::SESSIONS));
        assert!(!offers("<html>", features::SESSIONS));
        let mut ladder = FeedLadder::new(FeedConfig {
            step_up_base_ms: 1_000.0,
            step_up_cap_ms: 4_000.0,
            ..FeedConfig::default()
        });
        ladder.offered(FeedTransport::Longpoll);
        assert_eq!(ladder.transport(0.0), FeedTransport::Longpoll);
        ladder.on_outcome(FeedOutcome::Stalled, 0.0, 0.5);
        assert_eq!(ladder.transport(1.0), FeedTransport::Poll);
        assert_eq!(
            ladder.transport(100_000.0),
            FeedTransport::Longpoll,
            "up to what is offered"
        );
        assert_eq!(
            ladder.transport(1_000_000.0),
            FeedTransport::Longpoll,
            "and no further"
        );
    }
}
