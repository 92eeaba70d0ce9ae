//! The sync session's steps, driven by hand: which batches it picks from one
//! outbox read, and which pulled rows it hands to the store.

use serde_json::json;

use crate::{
    http::HttpResponse,
    outbox::{MessageOp, MessageState, OutboxMessage},
    sync::{
        plan::{Applied, Plan, PushResult},
        session::{Step, SyncSession},
        SyncConfig,
    },
};

fn queued(seq: u64) -> OutboxMessage {
    let Some(body) = json!({"n": seq}).as_object().cloned() else {
        unreachable!()
    };
    OutboxMessage {
        seq,
        version: seq,
        id: format!("m{seq}"),
        doc_id: format!("d{seq}"),
        op: MessageOp::Put,
        base_rev: None,
        body: Some(body),
        created_at: 0.0,
        attempts: 0,
        last_error: None,
        state: MessageState::Queued,
        sent: None,
        attachments: None,
        drop_leaves: Vec::new(),
    }
}

fn ok(body: serde_json::Value) -> Result<HttpResponse, crate::http::TransportError> {
    Ok(HttpResponse {
        status: 200,
        body: body.to_string(),
        retry_after_ms: None,
    })
}

fn session(batch_docs: usize) -> SyncSession {
    let config = SyncConfig {
        batch_docs,
        ..SyncConfig::default()
    };
    SyncSession::new(config, None, true)
}

fn claimed(step: Step) -> Vec<OutboxMessage> {
    match step {
        Step::Apply(Plan::Claim(batch)) => batch,
        other => panic!("expected a claim, got {other:?}"),
    }
}

/// The acknowledgement of `batch`, each document at a `1-…` revision.
fn acks(batch: &[OutboxMessage]) -> Result<HttpResponse, crate::http::TransportError> {
    let rows: Vec<_> = batch
        .iter()
        .map(|m| json!({"ok": true, "id": m.doc_id, "rev": format!("1-{:032x}", m.seq)}))
        .collect();
    ok(json!(rows))
}

fn seqs(batch: &[OutboxMessage]) -> Vec<u64> {
    batch.iter().map(|m| m.seq).collect()
}

/// Pushes `batch` (claimed as it is) and acknowledges each document; returns
/// the batch claimed while it was pushed (empty when none was) and the step
/// after the settle.
fn push_and_ack(
    session: &mut SyncSession,
    batch: Vec<OutboxMessage>,
) -> (Vec<OutboxMessage>, Step) {
    let applied = Applied {
        claimed: batch.clone(),
        ..Applied::default()
    };
    let (next, settle) = match session.on_applied(&applied) {
        Step::Send(_) => (Vec::new(), session.on_response(acks(&batch))),
        Step::ApplyAndSend(Plan::Claim(next), request) => {
            assert_eq!(request.path, "_bulk_docs");
            let claimed = Applied {
                claimed: next.clone(),
                ..Applied::default()
            };
            (
                next,
                session.on_applied_and_response(&claimed, acks(&batch)),
            )
        }
        other => panic!("expected the push, got {other:?}"),
    };
    assert!(matches!(settle, Step::Apply(Plan::Settle(_))), "{settle:?}");
    (next, session.on_applied(&Applied::default()))
}

#[test]
fn one_outbox_read_feeds_every_batch_it_holds() {
    let mut session = session(2);
    match session.start() {
        Step::LoadOutbox { after: None, limit } => assert_eq!(limit, 8),
        other => panic!("expected an outbox read, got {other:?}"),
    }
    let first = claimed(session.on_outbox((1..=5).map(queued).collect()));
    assert_eq!(seqs(&first), [1, 2]);
    // The next batches come from the same read, without reading again, each
    // claimed while the one before it is pushed, and pushed once it settled.
    let (second, step) = push_and_ack(&mut session, first);
    assert_eq!(seqs(&second), [3, 4]);
    let (third, step) = match step {
        Step::ApplyAndSend(Plan::Claim(third), request) => {
            let claimed = Applied {
                claimed: third.clone(),
                ..Applied::default()
            };
            assert_eq!(request.path, "_bulk_docs");
            let settle = session.on_applied_and_response(&claimed, acks(&second));
            assert!(matches!(settle, Step::Apply(Plan::Settle(_))), "{settle:?}");
            (third, session.on_applied(&Applied::default()))
        }
        other => panic!("expected the second push with the third claim, got {other:?}"),
    };
    assert_eq!(seqs(&third), [5]);
    // The third goes out alone (nothing left to claim), then the outbox is
    // read again past the last message taken.
    let Step::Send(_) = step else {
        panic!("expected the third push, got {step:?}");
    };
    assert!(matches!(
        session.on_response(acks(&third)),
        Step::Apply(Plan::Settle(_))
    ));
    match session.on_applied(&Applied::default()) {
        Step::LoadOutbox { after, .. } => assert_eq!(after, Some(5)),
        other => panic!("expected an outbox read, got {other:?}"),
    }
}

#[test]
fn a_batch_claimed_during_a_push_holds_none_of_its_documents() {
    let mut session = session(2);
    session.start();
    let mut again = queued(3);
    again.doc_id = "d1".into();
    let first = claimed(session.on_outbox(vec![queued(1), queued(2), again, queued(4)]));
    assert_eq!(seqs(&first), [1, 2]);
    // d1's next message waits for the revision this push brings: no claim
    // beside it, and after it settles the rest is picked as usual.
    let (next, step) = push_and_ack(&mut session, first);
    assert!(next.is_empty(), "{next:?}");
    assert_eq!(seqs(&claimed(step)), [3, 4]);
}

#[test]
fn a_failed_push_settles_the_batch_claimed_beside_it_as_unsent() {
    let mut session = session(2);
    session.start();
    let first = claimed(session.on_outbox((1..=4).map(queued).collect()));
    let applied = Applied {
        claimed: first,
        ..Applied::default()
    };
    let Step::ApplyAndSend(Plan::Claim(next), _) = session.on_applied(&applied) else {
        panic!("expected a claim beside the push");
    };
    let claimed_next = Applied {
        claimed: next,
        ..Applied::default()
    };
    let failed = Err(crate::http::TransportError::Network("offline".into()));
    match session.on_applied_and_response(&claimed_next, failed) {
        Step::Apply(Plan::Settle(results)) => {
            let outcomes: Vec<_> = results
                .iter()
                .map(|(m, r)| (m.seq, matches!(r, PushResult::Unsent)))
                .collect();
            assert_eq!(outcomes, [(1, false), (2, false), (3, true), (4, true)]);
        }
        other => panic!("expected both batches settled, got {other:?}"),
    }
    assert!(matches!(
        session.on_applied(&Applied::default()),
        Step::Done(_)
    ));
}

#[test]
fn the_pull_skips_the_rows_of_this_cycles_own_pushes() {
    let mut session = session(10);
    session.start();
    let batch = claimed(session.on_outbox(vec![queued(1), queued(2)]));
    // Nothing more to push: a read past the cursor, one from the start, then
    // the pull.
    assert!(matches!(
        push_and_ack(&mut session, batch).1,
        Step::LoadOutbox { after: Some(2), .. }
    ));
    assert!(matches!(
        session.on_outbox(Vec::new()),
        Step::LoadOutbox { after: None, .. }
    ));
    match session.on_outbox(Vec::new()) {
        Step::Send(request) => assert_eq!(request.path, "_changes"),
        other => panic!("expected the pull, got {other:?}"),
    }
    let own = format!("1-{:032x}", 1);
    let later = format!("2-{:032x}", 9);
    let page = json!({"last_seq": "3", "results": [
        {"seq": "1", "id": "d1", "changes": [{"rev": own}], "doc": {"_id": "d1", "_rev": own}},
        // Edited by another client since the push: applied.
        {"seq": "2", "id": "d2", "changes": [{"rev": later}], "doc": {"_id": "d2", "_rev": later}},
        {"seq": "3", "id": "other", "changes": [{"rev": own}], "doc": {"_id": "other", "_rev": own}},
    ]});
    match session.on_response(ok(page)) {
        Step::Apply(Plan::PullPage { rows, last_seq, .. }) => {
            let ids: Vec<_> = rows.iter().map(|r| r.id.as_str()).collect();
            assert_eq!(ids, ["d2", "other"]);
            assert_eq!(
                last_seq.to_query(),
                "3",
                "the checkpoint still moves past all"
            );
        }
        other => panic!("expected a pulled page, got {other:?}"),
    }
}

/// A `_changes` page of `ids`, each at revision `1-…`, ending at `last_seq`.
fn changes_page(ids: &[&str], last_seq: &str) -> serde_json::Value {
    let rev = format!("1-{:032x}", 7);
    let results: Vec<_> = ids
        .iter()
        .map(|id| json!({"seq": id, "id": id, "changes": [{"rev": rev}], "doc": {"_id": id, "_rev": rev}}))
        .collect();
    json!({"last_seq": last_seq, "results": results})
}

/// The `since` a `_changes` request asks from.
fn since(request: &crate::http::HttpRequest) -> Option<String> {
    assert_eq!(request.path, "_changes");
    request
        .query
        .iter()
        .find(|(k, _)| k == "since")
        .map(|(_, v)| v.clone())
}

/// A session with pages of `pull_page` and nothing to push, at its first
/// `_changes` request.
fn pulling(pull_page: usize) -> (SyncSession, crate::http::HttpRequest) {
    let config = SyncConfig {
        pull_page,
        ..SyncConfig::default()
    };
    let mut session = SyncSession::new(config, None, true);
    session.start();
    session.on_outbox(Vec::new());
    let Step::Send(first) = session.on_outbox(Vec::new()) else {
        panic!("expected the pull");
    };
    (session, first)
}

#[test]
fn a_full_pull_page_is_applied_while_the_next_is_fetched() {
    let (mut session, first) = pulling(2);
    assert_eq!(since(&first), None);
    // A full page: applied while the page after it is asked for.
    let next = match session.on_response(ok(changes_page(&["a", "b"], "2"))) {
        Step::ApplyAndSend(Plan::PullPage { rows, last_seq, .. }, next) => {
            assert_eq!(rows.len(), 2);
            assert_eq!(last_seq.to_query(), "2");
            next
        }
        other => panic!("expected a page applied while the next is fetched, got {other:?}"),
    };
    assert_eq!(since(&next).as_deref(), Some("2"));
    // Its answer, a short page, is the last: applied alone, then done.
    let applied = Applied::default();
    match session.on_applied_and_response(&applied, ok(changes_page(&["c"], "3"))) {
        Step::Apply(Plan::PullPage { rows, last_seq, .. }) => {
            assert_eq!(rows.len(), 1);
            assert_eq!(last_seq.to_query(), "3");
        }
        other => panic!("expected the last page, got {other:?}"),
    }
    assert!(matches!(session.on_applied(&applied), Step::Done(_)));
}

#[test]
fn a_failed_fetch_of_the_next_page_ends_the_cycle_after_this_page_landed() {
    let (mut session, _) = pulling(1);
    let step = session.on_response(ok(changes_page(&["a"], "1")));
    assert!(matches!(step, Step::ApplyAndSend(..)), "{step:?}");
    let failed = Err(crate::http::TransportError::Network("offline".into()));
    match session.on_applied_and_response(&Applied::default(), failed) {
        Step::Done(report) => {
            assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
        }
        other => panic!("expected the end of the cycle, got {other:?}"),
    }
}
