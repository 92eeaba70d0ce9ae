//! The sync session's steps, driven by hand: which batches it picks from one
//! outbox read, and which pulled rows it hands to the store.

use serde_json::json;

use crate::{
    http::HttpResponse,
    outbox::{MessageOp, MessageState, OutboxMessage},
    sync::{
        plan::{Applied, Plan},
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
    }
}

fn ok(body: serde_json::Value) -> Result<HttpResponse, crate::http::TransportError> {
    Ok(HttpResponse {
        status: 200,
        body: body.to_string(),
        retry_after: None,
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

/// Pushes `batch` (claimed as it is) and acknowledges each document with a
/// `1-…` revision; returns the step after the settle.
fn push_and_ack(session: &mut SyncSession, batch: Vec<OutboxMessage>) -> Step {
    let applied = Applied {
        claimed: batch.clone(),
        ..Applied::default()
    };
    assert!(matches!(session.on_applied(&applied), Step::Send(_)));
    let rows: Vec<_> = batch
        .iter()
        .map(|m| json!({"ok": true, "id": m.doc_id, "rev": format!("1-{:032x}", m.seq)}))
        .collect();
    let settle = session.on_response(ok(json!(rows)));
    assert!(matches!(settle, Step::Apply(Plan::Settle(_))), "{settle:?}");
    session.on_applied(&Applied::default())
}

#[test]
fn one_outbox_read_feeds_every_batch_it_holds() {
    let mut session = session(2);
    match session.start() {
        Step::LoadOutbox { after: None, limit } => assert_eq!(limit, 8),
        other => panic!("expected an outbox read, got {other:?}"),
    }
    let first = claimed(session.on_outbox((1..=5).map(queued).collect()));
    assert_eq!(first.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2]);
    // The next two batches come from the same read, without reading again.
    let second = claimed(push_and_ack(&mut session, first));
    assert_eq!(second.iter().map(|m| m.seq).collect::<Vec<_>>(), [3, 4]);
    let third = claimed(push_and_ack(&mut session, second));
    assert_eq!(third.iter().map(|m| m.seq).collect::<Vec<_>>(), [5]);
    // Then the outbox is read again past the last message taken.
    match push_and_ack(&mut session, third) {
        Step::LoadOutbox { after, .. } => assert_eq!(after, Some(5)),
        other => panic!("expected an outbox read, got {other:?}"),
    }
}

#[test]
fn the_pull_skips_the_rows_of_this_cycles_own_pushes() {
    let mut session = session(10);
    session.start();
    let batch = claimed(session.on_outbox(vec![queued(1), queued(2)]));
    // Nothing more to push: a read past the cursor, one from the start, then
    // the pull.
    assert!(matches!(
        push_and_ack(&mut session, batch),
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
        Step::Apply(Plan::PullPage { rows, last_seq }) => {
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
