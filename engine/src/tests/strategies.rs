//! The conflict policy: its JSON shape, which strategy applies, and what each
//! strategy decides.

use serde_json::{json, Value};

use crate::{
    merge::{auto_resolve, ConflictPolicy, Strategy},
    model::{Body, ConflictRecord},
    Revision,
};

fn body(value: Value) -> Option<Body> {
    value.as_object().cloned()
}

fn conflict(base: Value, local: Option<Value>, remote: Option<Value>) -> ConflictRecord {
    ConflictRecord {
        id: "doc".into(),
        base: body(base),
        local: local.and_then(body),
        remote: remote.and_then(body),
        remote_rev: Some("2-abc".parse::<Revision>().expect("rev")),
        detected_at: 1.0,
        remote_attachments: None,
        local_attachments: None,
        losing_revs: Vec::new(),
    }
}

fn policy(value: Value) -> ConflictPolicy {
    serde_json::from_value(value).expect("policy")
}

/// The strategy name and body an automatic resolution chose.
fn decide(c: &ConflictRecord, p: &ConflictPolicy) -> Option<(String, Option<Value>)> {
    auto_resolve(c, p).map(|r| (r.strategy, r.body.map(Value::Object)))
}

#[test]
fn the_documented_json_shape_parses() {
    let p = policy(json!({
        "strategy": "merge",
        "byType": {
            "field": "type",
            "strategies": {
                "report": {"priority": {"field": "editor.role", "order": ["supervisor", "inspector"], "fallback": "merge"}},
                "photo": "manual",
                "reading": "newestWins",
                "setting": "serverWins",
                "draft": "clientWins"
            }
        }
    }));
    assert_eq!(p.strategy, Strategy::Merge);
    let by_type = p.by_type.as_ref().expect("byType");
    assert_eq!(by_type.strategies["photo"], Strategy::Manual);
    assert_eq!(by_type.strategies["draft"], Strategy::ClientWins);
    let Strategy::Priority(rule) = &by_type.strategies["report"] else {
        panic!("priority expected");
    };
    assert_eq!(rule.fallback.as_deref(), Some(&Strategy::Merge));
    assert!(p.uses_newest_wins());
    // Round trip, as the edge may store it.
    let again: ConflictPolicy =
        serde_json::from_value(serde_json::to_value(&p).expect("ser")).expect("de");
    assert_eq!(again, p);
}

#[test]
fn defaults_and_typos() {
    assert_eq!(policy(json!({})), ConflictPolicy::default());
    assert_eq!(ConflictPolicy::default().strategy, Strategy::Manual);
    assert!(!ConflictPolicy::default().uses_newest_wins());
    assert!(serde_json::from_value::<ConflictPolicy>(json!({"strategy": "mergeAll"})).is_err());
    assert!(serde_json::from_value::<ConflictPolicy>(json!({"stratgy": "merge"})).is_err());
    let nested = policy(
        json!({"strategy": {"priority": {"field": "a", "order": [], "fallback": "newestWins"}}}),
    );
    assert!(nested.uses_newest_wins());
}

#[test]
fn the_strategy_follows_the_document_type() {
    let p = policy(json!({
        "strategy": "serverWins",
        "byType": {"field": "meta.kind", "strategies": {"note": "clientWins"}}
    }));
    let note = conflict(
        json!({"meta": {"kind": "note"}, "v": 0}),
        Some(json!({"meta": {"kind": "note"}, "v": 1})),
        Some(json!({"meta": {"kind": "note"}, "v": 2})),
    );
    assert_eq!(
        decide(&note, &p).map(|d| d.0).as_deref(),
        Some("clientWins")
    );
    // A remote deletion still has the type from the local side.
    let deleted = conflict(
        json!({"meta": {"kind": "note"}}),
        Some(json!({"meta": {"kind": "note"}, "v": 1})),
        None,
    );
    assert_eq!(
        decide(&deleted, &p),
        Some((
            "clientWins".into(),
            Some(json!({"meta": {"kind": "note"}, "v": 1}))
        ))
    );
    let other = conflict(
        json!({"v": 0}),
        Some(json!({"v": 1})),
        Some(json!({"v": 2})),
    );
    assert_eq!(
        decide(&other, &p),
        Some(("serverWins".into(), Some(json!({"v": 2}))))
    );
}

#[test]
fn manual_and_merge() {
    let clean = conflict(
        json!({"a": 1, "b": 1}),
        Some(json!({"a": 2, "b": 1})),
        Some(json!({"a": 1, "b": 2})),
    );
    let clash = conflict(
        json!({"a": 1}),
        Some(json!({"a": 2})),
        Some(json!({"a": 3})),
    );
    assert_eq!(decide(&clean, &ConflictPolicy::default()), None);
    let merge = policy(json!({"strategy": "merge"}));
    let resolved = auto_resolve(&clean, &merge).expect("clean merge");
    assert_eq!(resolved.body, body(json!({"a": 2, "b": 2})));
    assert!(resolved.clashes.is_empty());
    assert_eq!(decide(&clash, &merge), None, "a clash falls back to manual");
    // A server side that could not be fetched is never decided.
    let unknown = ConflictRecord {
        remote_rev: None,
        remote: None,
        ..clean
    };
    assert_eq!(decide(&unknown, &merge), None);
}

#[test]
fn winners_report_the_clashes_they_settled() {
    let c = conflict(
        json!({"a": 1, "b": 1}),
        Some(json!({"a": 2, "b": 1})),
        Some(json!({"a": 3, "b": 2})),
    );
    let server = auto_resolve(&c, &policy(json!({"strategy": "serverWins"}))).expect("decided");
    assert_eq!(
        (server.body, server.clashes),
        (body(json!({"a": 3, "b": 2})), vec!["/a".to_owned()])
    );
    let client = auto_resolve(&c, &policy(json!({"strategy": "clientWins"}))).expect("decided");
    assert_eq!(client.body, body(json!({"a": 2, "b": 1})));
    // Deletions win like edits.
    let deleted = conflict(json!({"a": 1}), None, Some(json!({"a": 2})));
    assert_eq!(
        decide(&deleted, &policy(json!({"strategy": "clientWins"}))),
        Some(("clientWins".into(), None))
    );
    let gone = conflict(json!({"a": 1}), Some(json!({"a": 2})), None);
    assert_eq!(
        decide(&gone, &policy(json!({"strategy": "serverWins"}))),
        Some(("serverWins".into(), None))
    );
}

#[test]
fn newest_wins_by_the_stamps() {
    let p = policy(json!({"strategy": "newestWins"}));
    let base = json!({"v": 0, "updatedAt": 10});
    let newer_local = conflict(
        base.clone(),
        Some(json!({"v": 1, "updatedAt": 300})),
        Some(json!({"v": 2, "updatedAt": 200})),
    );
    assert_eq!(
        decide(&newer_local, &p),
        Some(("newestWins".into(), Some(json!({"v": 1, "updatedAt": 300}))))
    );
    let newer_remote = conflict(
        base.clone(),
        Some(json!({"v": 1, "updatedAt": 100})),
        Some(json!({"v": 2, "updatedAt": 200})),
    );
    assert_eq!(
        decide(&newer_remote, &p).and_then(|d| d.1),
        Some(json!({"v": 2, "updatedAt": 200}))
    );
    let tie = conflict(
        base.clone(),
        Some(json!({"v": 1, "updatedAt": 200})),
        Some(json!({"v": 2, "updatedAt": 200})),
    );
    assert_eq!(
        decide(&tie, &p).and_then(|d| d.1),
        Some(json!({"v": 2, "updatedAt": 200})),
        "a tie keeps the server's"
    );
    let unstamped = conflict(
        base.clone(),
        Some(json!({"v": 1})),
        Some(json!({"v": 2, "updatedAt": 200})),
    );
    assert_eq!(decide(&unstamped, &p), None);
    let deleted = conflict(base, None, Some(json!({"v": 2, "updatedAt": 200})));
    assert_eq!(decide(&deleted, &p), None, "a deletion carries no time");
}

#[test]
fn priority_ranks_the_editors() {
    let p = policy(
        json!({"strategy": {"priority": {"field": "editor.role", "order": ["supervisor", "inspector"]}}}),
    );
    let with_fallback = policy(
        json!({"strategy": {"priority": {"field": "editor.role", "order": ["supervisor", "inspector"], "fallback": "merge"}}}),
    );
    let doc =
        |role: &str, v: i32, w: i32| json!({"v": v, "w": w, "editor": {"id": role, "role": role}});
    let base = json!({"v": 0, "w": 0});
    let c = conflict(
        base.clone(),
        Some(doc("inspector", 1, 0)),
        Some(doc("supervisor", 2, 0)),
    );
    assert_eq!(
        decide(&c, &p),
        Some(("priority".into(), Some(doc("supervisor", 2, 0))))
    );
    let c = conflict(
        base.clone(),
        Some(doc("supervisor", 1, 0)),
        Some(doc("inspector", 2, 0)),
    );
    assert_eq!(
        decide(&c, &p).and_then(|d| d.1),
        Some(doc("supervisor", 1, 0))
    );
    // A role not in the order ranks last.
    let c = conflict(
        base.clone(),
        Some(doc("visitor", 1, 0)),
        Some(doc("inspector", 2, 0)),
    );
    assert_eq!(
        decide(&c, &p).and_then(|d| d.1),
        Some(doc("inspector", 2, 0))
    );
    // Equal ranks: the fallback, or the app.
    let same = conflict(
        base.clone(),
        Some(doc("inspector", 1, 0)),
        Some(doc("inspector", 0, 2)),
    );
    assert_eq!(decide(&same, &p), None);
    let merged = auto_resolve(&same, &with_fallback).expect("merged");
    assert_eq!(merged.strategy, "merge");
    assert_eq!(
        merged
            .body
            .map(Value::Object)
            .map(|b| (b["v"].clone(), b["w"].clone())),
        Some((json!(1), json!(2)))
    );
    // A tombstone has no editor: it ranks last.
    let deleted = conflict(base, None, Some(doc("inspector", 2, 0)));
    assert_eq!(
        decide(&deleted, &p).and_then(|d| d.1),
        Some(doc("inspector", 2, 0))
    );
}

#[test]
fn stamps_do_not_make_merges_clash() {
    let p = policy(json!({"strategy": "merge"}));
    let c = conflict(
        json!({"a": 0, "b": 0, "updatedAt": 1, "editor": {"id": "x"}}),
        Some(json!({"a": 1, "b": 0, "updatedAt": 5, "editor": {"id": "l"}})),
        Some(json!({"a": 0, "b": 1, "updatedAt": 9, "editor": {"id": "r"}})),
    );
    let resolved = auto_resolve(&c, &p).expect("clean");
    assert_eq!(
        resolved.body,
        body(json!({"a": 1, "b": 1, "updatedAt": 9, "editor": {"id": "r"}}))
    );
    // Without stamps on both sides, such members are plain data.
    let plain = conflict(
        json!({"editor": "vim"}),
        Some(json!({"editor": "emacs"})),
        Some(json!({"editor": "nano"})),
    );
    assert_eq!(decide(&plain, &p), None);
}

#[test]
fn stamps_are_written_as_whole_milliseconds() {
    let stamp = crate::local::Stamp {
        editor: Some(json!({"id": "u1"})),
        updated_at: true,
    };
    let mut b = Body::new();
    stamp.apply(&mut b, 1_700_000_000_123.0);
    assert_eq!(
        Value::Object(b).to_string(),
        r#"{"editor":{"id":"u1"},"updatedAt":1700000000123}"#
    );
}
