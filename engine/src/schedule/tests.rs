use super::*;

fn failed(code: IssueCode, retry_after_ms: Option<f64>) -> SyncReport {
    let issue = SyncIssue {
        code,
        message: code.as_str().into(),
        id: None,
        status: None,
        retry_after_ms,
    };
    SyncReport {
        errors: vec![issue],
        ..SyncReport::default()
    }
}

fn scheduler() -> Scheduler {
    Scheduler::new(ScheduleConfig::default(), true, true)
}

#[test]
fn writes_are_debounced_but_not_forever() {
    let mut s = scheduler();
    s.local_write(1_000.0);
    assert_eq!(s.poll(1_000.0), Action::WakeAt(1_100.0));
    // Writes keep coming every 50 ms: the push still happens by max_wait.
    let mut t = 1_000.0;
    while t < 3_500.0 {
        s.local_write(t);
        t += 50.0;
    }
    assert_eq!(s.poll(3_000.0), Action::RunNow);
    s.cycle_started(3_000.0);
    assert_eq!(s.poll(3_001.0), Action::Wait, "one cycle at a time");
    s.cycle_ended(&SyncReport::default(), 3_050.0, 0.5);
    assert_eq!(s.state(), SyncState::Idle);
    assert_eq!(s.poll(3_050.0), Action::WakeAt(33_050.0), "then polling");
}

#[test]
fn failures_back_off_with_jitter_capped_and_reset_on_success() {
    let mut s = scheduler();
    let mut ceilings = Vec::new();
    for _ in 0..10 {
        s.cycle_started(0.0);
        s.cycle_ended(&failed(IssueCode::Server, None), 0.0, 0.999_999);
        ceilings.push(s.next_retry_at().unwrap_or_default().round());
    }
    assert_eq!(
        &ceilings[..7],
        &[1_000.0, 2_000.0, 4_000.0, 8_000.0, 16_000.0, 32_000.0, 60_000.0]
    );
    assert!(ceilings[7..].iter().all(|c| *c == 60_000.0));
    assert_eq!(s.state(), SyncState::Error);
    s.cycle_started(0.0);
    s.cycle_ended(&failed(IssueCode::Server, None), 100.0, 0.25);
    assert_eq!(
        s.next_retry_at(),
        Some(100.0 + 15_000.0),
        "full jitter: random × ceiling"
    );
    assert_eq!(s.poll(200.0), Action::WakeAt(15_100.0));
    assert_eq!(s.poll(15_100.0), Action::RunNow);
    s.cycle_started(15_100.0);
    s.cycle_ended(&SyncReport::default(), 15_200.0, 0.5);
    assert_eq!(s.next_retry_at(), None);
    s.cycle_started(15_200.0);
    s.cycle_ended(&failed(IssueCode::Server, None), 15_300.0, 0.999_999);
    assert_eq!(
        s.next_retry_at().map(f64::round),
        Some(16_300.0),
        "reset after success"
    );
}

#[test]
fn an_open_feed_replaces_polling_and_asks_for_pulls() {
    let mut s = scheduler();
    s.cycle_started(0.0);
    s.cycle_ended(&SyncReport::default(), 0.0, 0.5);
    assert_eq!(
        s.poll(1.0),
        Action::WakeAt(30_000.0),
        "polls without a feed"
    );
    s.set_feed_open(true);
    assert_eq!(s.poll(40_000.0), Action::Wait, "the feed says when");
    s.request_now();
    assert_eq!(s.poll(40_000.0), Action::RunNow);
    assert!(s.feed_wanted());
    s.visibility(false);
    assert!(!s.feed_wanted(), "no feed while hidden");
    s.visibility(true);
    s.went_offline();
    assert!(!s.feed_wanted(), "nor offline");
}

#[test]
fn retry_after_is_a_floor() {
    let mut s = scheduler();
    s.cycle_started(0.0);
    s.cycle_ended(&failed(IssueCode::Server, Some(2_000.0)), 10.0, 0.0);
    assert_eq!(s.poll(1_000.0), Action::WakeAt(2_010.0));
    assert_eq!(s.poll(2_010.0), Action::RunNow);
}

#[test]
fn offline_waits_for_the_online_event_which_retries_at_once() {
    let mut s = scheduler();
    s.cycle_started(0.0);
    s.cycle_ended(&failed(IssueCode::Network, None), 0.0, 0.9);
    assert_eq!(
        s.state(),
        SyncState::Offline,
        "a failed request means offline"
    );
    s.went_offline();
    s.local_write(10.0);
    assert_eq!(s.poll(50_000.0), Action::Wait);
    s.went_online();
    assert_eq!(s.poll(50_000.0), Action::RunNow);
    assert_eq!(s.state(), SyncState::Online);
}

#[test]
fn rejections_are_not_failures() {
    let mut s = scheduler();
    s.cycle_started(0.0);
    s.cycle_ended(&failed(IssueCode::Rejected, None), 0.0, 0.5);
    assert_eq!(s.next_retry_at(), None);
    assert_eq!(s.state(), SyncState::Idle);
}

#[test]
fn pause_visibility_and_live() {
    let mut s = scheduler();
    s.pause();
    s.local_write(0.0);
    assert_eq!(s.poll(10_000.0), Action::Wait);
    assert_eq!(s.state(), SyncState::Paused);
    s.resume();
    assert_eq!(s.poll(0.0), Action::RunNow);
    s.cycle_started(0.0);
    s.cycle_ended(&SyncReport::default(), 0.0, 0.5);
    s.visibility(false);
    assert_eq!(s.poll(100_000.0), Action::Wait, "no polling while hidden");
    s.visibility(true);
    assert_eq!(s.poll(100_000.0), Action::RunNow, "sync when visible again");
    let mut off = Scheduler::new(
        ScheduleConfig {
            live: false,
            ..ScheduleConfig::default()
        },
        true,
        true,
    );
    off.local_write(0.0);
    assert_eq!(off.poll(100_000.0), Action::Wait);
}
