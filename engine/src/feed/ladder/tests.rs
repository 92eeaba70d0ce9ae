use super::*;

fn ladder() -> FeedLadder {
    FeedLadder::new(FeedConfig {
        step_up_base_ms: 1_000.0,
        step_up_cap_ms: 4_000.0,
        ..FeedConfig::default()
    })
}

#[test]
fn a_stall_steps_down_at_once_and_the_better_feed_is_tried_later() {
    let mut ladder = ladder();
    assert_eq!(ladder.transport(0.0), FeedTransport::Stream);
    assert_eq!(ladder.on_outcome(FeedOutcome::Stalled, 0.0, 0.5), 0.0);
    assert_eq!(ladder.transport(10.0), FeedTransport::Longpoll);
    assert_eq!(ladder.transport(999.0), FeedTransport::Longpoll);
    assert_eq!(
        ladder.transport(1_000.0),
        FeedTransport::Stream,
        "stepped up"
    );
    // It stalls again: the wait before the next try doubles, up to the cap.
    ladder.on_outcome(FeedOutcome::Stalled, 2_000.0, 0.5);
    assert_eq!(ladder.step_up_at(), Some(4_000.0));
    for at in [4_000.0, 8_000.0, 12_000.0] {
        ladder.transport(at);
        ladder.on_outcome(FeedOutcome::Stalled, at, 0.5);
    }
    assert_eq!(ladder.step_up_at(), Some(16_000.0), "capped at 4 s");
}

#[test]
fn failures_back_off_and_step_down_only_when_they_repeat() {
    let mut ladder = ladder();
    let first = ladder.on_outcome(FeedOutcome::Failed, 0.0, 0.0);
    let second = ladder.on_outcome(FeedOutcome::Failed, 0.0, 0.0);
    assert!(
        first > 0.0 && second > first,
        "never spins: {first}, {second}"
    );
    assert_eq!(ladder.current(), FeedTransport::Stream);
    ladder.on_outcome(FeedOutcome::Failed, 0.0, 0.0);
    assert_eq!(ladder.current(), FeedTransport::Longpoll);
    // Data in between starts the count over.
    ladder.on_outcome(FeedOutcome::Failed, 0.0, 0.0);
    ladder.on_data();
    ladder.on_outcome(FeedOutcome::Failed, 0.0, 0.0);
    ladder.on_outcome(FeedOutcome::Failed, 0.0, 0.0);
    assert_eq!(ladder.current(), FeedTransport::Longpoll);
}

#[test]
fn a_server_refusing_every_feed_leaves_polling() {
    let mut ladder = ladder();
    ladder.on_outcome(FeedOutcome::Refused, 0.0, 0.0);
    ladder.on_outcome(FeedOutcome::Refused, 0.0, 0.0);
    assert_eq!(ladder.transport(1.0), FeedTransport::Poll);
    assert_eq!(ladder.request(FeedTransport::Poll, None, 0.0), None);
    assert_eq!(ladder.transport(10_000.0), FeedTransport::Longpoll);
}

#[test]
fn requests_name_the_feed_the_checkpoint_and_the_heartbeat() {
    let ladder = ladder();
    let query = |t, since| ladder.request(t, since, 0.0).expect("request").query;
    let stream = query(FeedTransport::Stream, None);
    assert!(stream.contains(&("feed".into(), "continuous".into())));
    assert!(stream.contains(&("since".into(), "now".into())));
    assert!(stream.contains(&("heartbeat".into(), "10000".into())));
    let socket = ladder
        .request(FeedTransport::Socket, None, 0.0)
        .expect("socket");
    assert_eq!(socket.path, "_socket");
    assert!(socket.query.contains(&("since".into(), "now".into())));
    assert!(!socket
        .query
        .iter()
        .any(|(k, _)| k == "feed" || k == "timeout"));
    let seq = Seq(serde_json::json!("12-abc"));
    let longpoll = query(FeedTransport::Longpoll, Some(&seq));
    assert!(longpoll.contains(&("since".into(), "12-abc".into())));
    assert!(longpoll.contains(&("timeout".into(), "25000".into())));
    assert_eq!(ladder.stall_ms(), 21_000.0);
}

#[test]
fn a_stream_that_never_sent_a_byte_is_not_tried_again() {
    let mut ladder = ladder();
    ladder.on_outcome(FeedOutcome::Silent, 0.0, 0.5);
    assert_eq!(ladder.transport(1.0), FeedTransport::Longpoll);
    assert_eq!(ladder.step_up_at(), None);
    assert_eq!(ladder.transport(1_000_000.0), FeedTransport::Longpoll);
}

#[test]
fn a_long_poll_ends_when_the_better_feed_is_due() {
    let mut ladder = FeedLadder::new(FeedConfig {
        heartbeat_ms: 100.0,
        step_up_base_ms: 1_000.0,
        ..FeedConfig::default()
    });
    ladder.on_outcome(FeedOutcome::Stalled, 0.0, 0.5);
    let timeout = |ladder: &FeedLadder, now| {
        let request = ladder
            .request(FeedTransport::Longpoll, None, now)
            .expect("request");
        request
            .query
            .into_iter()
            .find(|(k, _)| k == "timeout")
            .map(|(_, v)| v)
    };
    assert_eq!(
        timeout(&ladder, 200.0).as_deref(),
        Some("800"),
        "the step up is due at 1 s"
    );
    assert_eq!(
        timeout(&ladder, 999.0).as_deref(),
        Some("100"),
        "never shorter than a heartbeat"
    );
    ladder.transport(1_000.0);
    assert_eq!(
        timeout(&ladder, 1_000.0).as_deref(),
        Some("25000"),
        "at the top, the full wait"
    );
}

#[test]
fn a_socket_steps_down_to_the_stream_and_back_up() {
    let mut ladder = ladder();
    ladder.offered(FeedTransport::Socket);
    assert_eq!(
        ladder.transport(0.0),
        FeedTransport::Socket,
        "starts at the best offered"
    );
    ladder.on_outcome(FeedOutcome::Refused, 0.0, 0.5);
    assert_eq!(ladder.transport(1.0), FeedTransport::Stream);
    ladder.on_outcome(FeedOutcome::Stalled, 1.0, 0.5);
    assert_eq!(ladder.transport(2.0), FeedTransport::Longpoll);
    assert_eq!(
        ladder.transport(10_000.0),
        FeedTransport::Stream,
        "one rung up"
    );
    assert_eq!(
        ladder.transport(100_000.0),
        FeedTransport::Socket,
        "and the next"
    );
}
