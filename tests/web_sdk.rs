//! The SDK in a real browser against a live reference server: two clients
//! converge, the seed walk-through's conflict, persistence, and bad input.
#![cfg(target_arch = "wasm32")]

mod support;

use js_sys::Reflect;
use support::{call, eval, expect_code, get, json, open, open_tuned, open_with, remote_db, unique};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn two_clients_create_edit_delete_and_converge() {
    let remote = remote_db("converge").await;
    let a = open(&unique("a"), &remote).await;
    let b = open(&unique("b"), &remote).await;
    let written = call(
        &a,
        "put",
        &[json(r#"{"_id": "car", "make": "Toyota", "color": "red"}"#)],
    )
    .await;
    assert_eq!(
        get(&written, "status").as_string().as_deref(),
        Some("pending")
    );
    assert_eq!(call(&a, "pendingCount", &[]).await.as_f64(), Some(1.0));
    let report = call(&a, "sync", &[]).await;
    assert_eq!(get(&report, "pushed").as_f64(), Some(1.0));
    let outcome = support::await_promise(get(&written, "synced")).await;
    assert_eq!(
        get(&outcome, "outcome").as_string().as_deref(),
        Some("accepted")
    );
    assert_eq!(call(&a, "pendingCount", &[]).await.as_f64(), Some(0.0));

    let report = call(&b, "sync", &[]).await;
    assert_eq!(get(&report, "pulled").as_f64(), Some(1.0));
    let car = call(&b, "get", &["car".into()]).await;
    assert_eq!(get(&car, "color").as_string().as_deref(), Some("red"));

    support::edit(&b, r#"{"_id": "car", "make": "Toyota", "color": "blue"}"#).await;
    call(&b, "put", &[json(r#"{"_id": "bike", "wheels": 2}"#)]).await;
    call(&b, "sync", &[]).await;
    call(&a, "sync", &[]).await;
    let car = call(&a, "get", &["car".into()]).await;
    assert_eq!(get(&car, "color").as_string().as_deref(), Some("blue"));

    call(&a, "delete", &["bike".into()]).await;
    call(&a, "sync", &[]).await;
    call(&b, "sync", &[]).await;
    assert!(call(&b, "get", &["bike".into()]).await.is_null());
    let all_a = js_sys::JSON::stringify(&call(&a, "all", &[]).await).ok();
    let all_b = js_sys::JSON::stringify(&call(&b, "all", &[]).await).ok();
    assert_eq!(all_a, all_b);
    let with_deleted = call(&b, "all", &[json(r#"{"includeDeleted": true}"#)]).await;
    assert_eq!(js_sys::Array::from(&with_deleted).length(), 2);
}

#[wasm_bindgen_test]
async fn seed_walkthrough_conflict_is_reported_and_resolved() {
    let remote = remote_db("agsync").await;
    let a = open(&unique("clientA"), &remote).await;
    let b = open(&unique("clientB"), &remote).await;
    call(&a, "put", &[json(r#"{"_id": "f11075199bcea80849204660d7000d53", "car": {"make": "Toyota", "color": "red"}}"#)]).await;
    call(&a, "sync", &[]).await;
    call(&b, "sync", &[]).await;

    let conflicts_seen = support::Recorder::on(&b, "conflict");
    let id = "f11075199bcea80849204660d7000d53";
    let blue = format!(r#"{{"_id": "{id}", "car": {{"make": "Toyota", "color": "blue"}}}}"#);
    support::edit(&a, &blue).await;
    call(&a, "sync", &[]).await;
    // b edits the version it holds, not knowing that a moved on.
    let yellow = format!(r#"{{"_id": "{id}", "car": {{"make": "Toyota", "color": "yellow"}}}}"#);
    let stale = support::edit(&b, &yellow).await;
    let report = call(&b, "sync", &[]).await;
    assert_eq!(get(&report, "conflicts").as_f64(), Some(1.0));

    let outcome = support::await_promise(get(&stale, "synced")).await;
    assert_eq!(
        get(&outcome, "outcome").as_string().as_deref(),
        Some("conflict")
    );
    let conflict = get(&outcome, "conflict");
    let color = |side: &str| get(&get(&get(&conflict, side), "car"), "color").as_string();
    assert_eq!(color("base").as_deref(), Some("red"));
    assert_eq!(color("local").as_deref(), Some("yellow"));
    assert_eq!(color("remote").as_deref(), Some("blue"));
    assert!(get(&conflict, "remoteRev")
        .as_string()
        .is_some_and(|r| r.starts_with("2-")));
    assert_eq!(conflicts_seen.count(), 1, "one conflict event");
    assert_eq!(
        js_sys::Array::from(&call(&b, "conflicts", &[]).await).length(),
        1
    );

    let resolved = call(
        &b,
        "resolve",
        &[
            id.into(),
            json(r#"{"car": {"make": "Toyota", "color": "green"}}"#),
        ],
    )
    .await;
    assert_eq!(
        get(&resolved, "status").as_string().as_deref(),
        Some("pending")
    );
    call(&b, "sync", &[]).await;
    call(&a, "sync", &[]).await;
    let on_a = call(&a, "get", &[id.into()]).await;
    let on_b = call(&b, "get", &[id.into()]).await;
    assert_eq!(
        js_sys::JSON::stringify(&on_a).ok(),
        js_sys::JSON::stringify(&on_b).ok()
    );
    assert_eq!(
        get(&get(&on_a, "car"), "color").as_string().as_deref(),
        Some("green")
    );
    assert!(get(&on_a, "_rev")
        .as_string()
        .is_some_and(|r| r.starts_with("3-")));
    assert_eq!(
        js_sys::Array::from(&call(&b, "conflicts", &[]).await).length(),
        0
    );
}

#[wasm_bindgen_test]
async fn data_survives_close_and_reopen() {
    let remote = remote_db("reopen").await;
    let name = unique("persist");
    let db = open(&name, &remote).await;
    call(
        &db,
        "put",
        &[json(r#"{"_id": "note", "text": "héllo 🌊"}"#)],
    )
    .await;
    call(&db, "close", &[]).await;
    expect_code(
        support::try_call(&db, "get", &["note".into()]).await,
        "closed",
    );
    let again = open(&name, &remote).await;
    let note = call(&again, "get", &["note".into()]).await;
    assert_eq!(get(&note, "text").as_string().as_deref(), Some("héllo 🌊"));
    assert_eq!(
        call(&again, "pendingCount", &[]).await.as_f64(),
        Some(1.0),
        "the outbox survives too"
    );
    call(&again, "sync", &[]).await;
    assert_eq!(call(&again, "pendingCount", &[]).await.as_f64(), Some(0.0));
    call(&again, "destroy", &[]).await;
    let fresh = open(&name, &remote).await;
    assert!(
        call(&fresh, "get", &["note".into()]).await.is_null(),
        "destroy removed the local data"
    );
}

/// The message of a refused call's error.
fn message_of(result: Result<JsValue, JsValue>) -> String {
    let error = result.expect_err("an error");
    get(&error, "message").as_string().unwrap_or_default()
}

#[wasm_bindgen_test]
async fn documents_cross_as_json_does_and_unfit_values_are_named() {
    let db = open_with(&format!(r#"{{"name": "{}"}}"#, unique("json"))).await;
    // What JSON.stringify makes of a value is what is stored: undefined
    // members are left out, undefined in an array is null, toJSON applies,
    // numbers keep their kind, strings their characters.
    call(
        &db,
        "put",
        &[eval(
            r#"({_id: 'j', gone: undefined, list: [1, undefined, 'x'], when: new Date(86400000),
                nested: {toJSON() { return {made: true}; }}, int: 3, frac: -0.25, big: 1e21,
                text: 'a"b\\c\u00e9\u{1F600}\n', empty: {}, none: null})"#,
        )],
    )
    .await;
    let stored = call(&db, "get", &["j".into()]).await;
    let text = js_sys::JSON::stringify(&stored)
        .ok()
        .and_then(|t| t.as_string())
        .expect("text");
    let mut value: serde_json::Value = serde_json::from_str(&text).expect("json");
    // A new document's `_rev` names its first local version.
    let rev = value.as_object_mut().and_then(|doc| doc.remove("_rev"));
    assert!(rev.is_some_and(|r| r.as_str().is_some_and(|r| r.starts_with("1-"))));
    assert_eq!(
        value,
        serde_json::json!({"_id": "j", "list": [1, null, "x"],
            "when": "1970-01-02T00:00:00.000Z", "nested": {"made": true}, "int": 3,
            "frac": -0.25, "big": 1e21, "text": "a\"b\\c\u{e9}\u{1F600}\n", "empty": {},
            "none": null})
    );
    // An unfit value is refused with the path where it is.
    let refused = message_of(
        support::try_call(&db, "put", &[eval("({_id: 'k', a: {b: [1, {c: NaN}]}})")]).await,
    );
    assert!(refused.contains("$.a.b[1].c"), "{refused}");
    let refused = message_of(
        support::try_call(
            &db,
            "put",
            &[eval("({_id: 'k', get boom() { throw new Error('no'); }})")],
        )
        .await,
    );
    assert!(refused.contains("throwing getter"), "{refused}");
    let refused = message_of(
        support::try_call(
            &db,
            "put",
            &[eval(
                "({_id: 'k', t: {toJSON() { throw new Error('no'); }}})",
            )],
        )
        .await,
    );
    assert!(refused.contains("$.t"), "{refused}");
    // Nesting deeper than 120 levels is refused; 100 is fine.
    let deep = |levels: usize| {
        eval(&format!(
        "(() => {{ let v = 1; for (let i = 0; i < {levels}; i++) v = {{v}}; v._id = 'deep'; return v; }})()"
    ))
    };
    expect_code(
        support::try_call(&db, "put", &[deep(130)]).await,
        "invalid_document",
    );
    call(&db, "put", &[deep(100)]).await;
    // In a bulk write the error names the document.
    let refused = message_of(
        support::try_call(
            &db,
            "putMany",
            &[eval("[{_id: 'm1'}, {_id: 'm2'}, {_id: 'm3', f: () => 1}]")],
        )
        .await,
    );
    assert!(
        refused.contains("document 2") && refused.contains("$.f"),
        "{refused}"
    );
    assert!(
        call(&db, "get", &["m1".into()]).await.is_null(),
        "all or none"
    );
}

#[wasm_bindgen_test]
async fn bad_input_is_refused_with_a_code_and_nothing_is_stored() {
    let db = open_with(&format!(
        r#"{{"name": "{}", "maxDocumentBytes": 200}}"#,
        unique("bad")
    ))
    .await;
    let cases: &[(&str, &str)] = &[
        ("42", "invalid_document"),
        ("'text'", "invalid_document"),
        ("null", "invalid_document"),
        ("[1, 2]", "invalid_document"),
        ("undefined", "invalid_document"),
        ("({_id: 7})", "invalid_id"),
        ("({_id: ''})", "invalid_id"),
        ("({_id: '_secret'})", "invalid_id"),
        ("({_id: 'x', _hidden: 1})", "invalid_document"),
        ("({_id: 'x', f: function () {}})", "invalid_document"),
        ("({_id: 'x', s: Symbol('s')})", "invalid_document"),
        ("({_id: 'x', n: 10n})", "invalid_document"),
        ("({_id: 'x', n: NaN})", "invalid_document"),
        ("({_id: 'x', deep: {n: Infinity}})", "invalid_document"),
        (
            "(() => { const o = {_id: 'x'}; o.self = o; return o; })()",
            "invalid_document",
        ),
        ("({_id: 'x', big: 'y'.repeat(500)})", "document_too_large"),
    ];
    for (expr, code) in cases {
        let result = support::try_call(&db, "put", &[eval(expr)]).await;
        let error = expect_code(result, code);
        // Only the codes whose message names a document carry details.
        let details = get(&error, "details");
        if *code == "document_too_large" {
            assert_eq!(get(&details, "id").as_string().as_deref(), Some("x"));
            assert_eq!(get(&details, "limit").as_f64(), Some(200.0));
            assert!(get(&details, "size").as_f64().is_some_and(|s| s > 200.0));
        } else {
            assert!(details.is_undefined(), "{code}: {details:?}");
        }
    }
    assert_eq!(call(&db, "pendingCount", &[]).await.as_f64(), Some(0.0));
    assert_eq!(
        js_sys::Array::from(&call(&db, "all", &[json(r#"{"includeDeleted": true}"#)]).await)
            .length(),
        0
    );
    // A bulk write with one bad document writes nothing.
    let bulk = eval("[{_id: 'b1'}, {_id: 'b2', n: NaN}]");
    expect_code(
        support::try_call(&db, "putMany", &[bulk]).await,
        "invalid_document",
    );
    expect_code(
        support::try_call(&db, "putMany", &[json("{}")]).await,
        "invalid_document",
    );
    assert_eq!(call(&db, "pendingCount", &[]).await.as_f64(), Some(0.0));
    let written = call(
        &db,
        "putMany",
        &[json(r#"[{"_id": "b1"}, {"_id": "b2", "n": 1}]"#)],
    )
    .await;
    assert_eq!(js_sys::Array::from(&written).length(), 2);
    assert_eq!(call(&db, "pendingCount", &[]).await.as_f64(), Some(2.0));
    // A date converts as JSON.stringify would; arrays keep their order.
    call(
        &db,
        "put",
        &[eval("({_id: 'ok', when: new Date(0), list: [3, 1, 2]})")],
    )
    .await;
    let ok = call(&db, "get", &["ok".into()]).await;
    assert_eq!(
        get(&ok, "when").as_string().as_deref(),
        Some("1970-01-01T00:00:00.000Z")
    );
    // Other calls check their arguments too.
    expect_code(
        support::try_call(&db, "get", &[JsValue::from_f64(3.0)]).await,
        "invalid_id",
    );
    let missing = expect_code(
        support::try_call(&db, "delete", &["missing".into()]).await,
        "not_found",
    );
    assert_eq!(
        get(&get(&missing, "details"), "id").as_string().as_deref(),
        Some("missing")
    );
    let unconflicted = expect_code(
        support::try_call(&db, "resolve", &["ok".into(), json("{}")]).await,
        "not_conflicted",
    );
    assert_eq!(
        get(&get(&unconflicted, "details"), "id")
            .as_string()
            .as_deref(),
        Some("ok")
    );
    expect_code(support::try_call(&db, "sync", &[]).await, "no_remote");
    for query in [
        r#"{"status": "weird"}"#,
        r#"{"limt": 10}"#,
        r#"{"limit": -1}"#,
        r#"{"limit": 2.5}"#,
        r#"{"skip": "3"}"#,
        r#"{"startKey": 7}"#,
        r#"{"prefix": null}"#,
        r#"{"descending": "yes"}"#,
        r#"{"includeDeleted": 1}"#,
        "[]",
    ] {
        expect_code(
            support::try_call(&db, "all", &[json(query)]).await,
            "invalid_options",
        );
    }
    for options in [
        "42",
        "({})",
        "({name: ''})",
        "({name: 'x', remote: 'ftp://nope'})",
        "({name: 'x', bogus: 1})",
        "({name: 'x', headers: 'Bearer t'})",
        "({name: 'x', callbackTimeoutMs: 0})",
        "({name: 'x', credentials: 'always'})",
        "({name: 'x', credentials: true})",
        "({name: 'x', fetch: 'https://example.test'})",
        "({name: 'x', fetch: {}})",
        "({name: 'x', attachments: 'sometimes'})",
    ] {
        let result =
            wasm_bindgen_futures::JsFuture::from(tidesync::Tidesync::open(eval(options))).await;
        assert!(result.is_err(), "open({options}) should fail");
        expect_code(result, "invalid_options");
    }
    // An option left undefined is an option not given, as in any JS API
    // (`headers: token ? { ... } : undefined`).
    let undefined_options = format!(
        "({{name: '{}', remote: undefined, headers: undefined, auth: undefined, batchSize: undefined}})",
        unique("undef")
    );
    let opened =
        wasm_bindgen_futures::JsFuture::from(tidesync::Tidesync::open(eval(&undefined_options)))
            .await;
    let opened = opened.unwrap_or_else(|e| panic!("undefined options refused: {e:?}"));
    call(&opened, "close", &[]).await;
    call(&db, "close", &[]).await;
    expect_code(
        support::try_call(&db, "put", &[json(r#"{"_id": "late"}"#)]).await,
        "closed",
    );
    assert!(Reflect::has(&eval("({})"), &"x".into()).is_ok());
}

#[wasm_bindgen_test]
async fn listeners_see_local_and_remote_changes_and_a_throwing_one_breaks_nothing() {
    let remote = remote_db("events").await;
    let a = open(&unique("ev-a"), &remote).await;
    let b = open(&unique("ev-b"), &remote).await;
    let changes = support::Recorder::on(&b, "change");
    let statuses = support::Recorder::on(&b, "status");
    // A listener that throws, registered before the others see anything.
    let thrower = eval("() => { throw new Error('listener bug'); }");
    call(&b, "on", &["change".into(), thrower]).await;
    let unsubscribed = support::Recorder::on(&b, "change");
    unsubscribed.unsubscribe(&b).await;

    call(&b, "put", &[json(r#"{"_id": "mine", "v": 1}"#)]).await;
    call(&a, "put", &[json(r#"{"_id": "theirs", "v": 2}"#)]).await;
    call(&a, "sync", &[]).await;
    let report = call(&b, "sync", &[]).await;
    assert_eq!(
        get(&report, "pushed").as_f64(),
        Some(1.0),
        "sync went on despite the throwing listener"
    );
    assert_eq!(get(&report, "pulled").as_f64(), Some(1.0));
    let origins: Vec<(String, String)> = changes
        .payloads()
        .iter()
        .map(|p| {
            (
                get(p, "id").as_string().unwrap_or_default(),
                get(p, "origin").as_string().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        origins,
        vec![
            ("mine".into(), "local".into()),
            ("theirs".into(), "remote".into())
        ]
    );
    let states: Vec<String> = statuses
        .payloads()
        .iter()
        .filter_map(|p| get(p, "state").as_string())
        .collect();
    // The write (never synced yet: "online"), then the cycle.
    assert_eq!(states, vec!["online", "syncing", "idle"]);
    assert_eq!(
        unsubscribed.count(),
        0,
        "an unsubscribed listener hears nothing"
    );
    for bad in [
        ("nope", eval("() => 1")),
        ("change", JsValue::from_f64(1.0)),
    ] {
        let result = support::try_call(&b, "on", &[bad.0.into(), bad.1]).await;
        expect_code(result, "invalid_listener");
    }
}

#[wasm_bindgen_test]
async fn merge_documents_is_the_engine_merge_for_app_conflict_screens() {
    let base = json(r#"{"a": 1, "b": 1, "text": "The car is red. It is fast."}"#);
    let local = json(r#"{"a": 2, "b": 1, "text": "The car is dark red. It is fast."}"#);
    let remote = json(r#"{"a": 1, "b": 3, "text": "The car is red. It is very fast."}"#);
    let result = tidesync::merge_documents(base.clone(), local, remote).expect("merge");
    let merged = get(&result, "merged");
    assert_eq!(get(&merged, "a").as_f64(), Some(2.0));
    assert_eq!(get(&merged, "b").as_f64(), Some(3.0));
    assert_eq!(
        get(&merged, "text").as_string().as_deref(),
        Some("The car is dark red. It is very fast.")
    );
    assert_eq!(js_sys::Array::from(&get(&result, "clashes")).length(), 0);
    let clash = tidesync::merge_documents(
        base,
        json(r#"{"a": 5, "b": 1}"#),
        json(r#"{"a": 6, "b": 1}"#),
    )
    .expect("merge");
    let clashes: Vec<String> = js_sys::Array::from(&get(&clash, "clashes"))
        .iter()
        .filter_map(|c| c.as_string())
        .collect();
    assert!(clashes.contains(&"/a".to_string()), "{clashes:?}");
    let bad = tidesync::merge_documents(JsValue::NULL, eval("({n: NaN})"), JsValue::NULL);
    expect_code(bad, "invalid_document");
}

#[wasm_bindgen_test]
async fn puts_started_together_share_one_transaction_and_fail_alone() {
    let db = open_with(&format!(r#"{{"name": "{}"}}"#, unique("commit"))).await;
    // Counts the readwrite transactions this page starts, then starts 50 puts
    // (one invalid) before awaiting any, then 3 more one by one.
    let writes = eval(
        "async (db) => {
           const proto = IDBDatabase.prototype;
           const original = proto.transaction;
           let readwrite = 0;
           proto.transaction = function (scope, mode, options) {
             if (mode === 'readwrite') readwrite++;
             return original.call(this, scope, mode, options);
           };
           try {
             const puts = [];
             for (let i = 0; i < 50; i++) {
               puts.push(db.put(i === 7 ? { _id: 'x', bad: NaN } : i === 9 ? { _id: 9 } : { _id: `d${i}`, i }));
             }
             const settled = await Promise.allSettled(puts);
             const together = readwrite;
             for (let i = 0; i < 3; i++) await db.put({ _id: `s${i}` });
             return {
               together,
               after: readwrite - together,
               outcomes: settled.map((r) => (r.status === 'fulfilled' ? r.value.status : r.reason.code)),
             };
           } finally {
             proto.transaction = original;
           }
         }",
    );
    let f: js_sys::Function = writes.into();
    let out = support::await_promise(f.call1(&JsValue::NULL, &db).expect("call")).await;
    assert_eq!(get(&out, "together").as_f64(), Some(1.0), "one transaction");
    assert_eq!(
        get(&out, "after").as_f64(),
        Some(3.0),
        "awaited puts: one each"
    );
    let outcomes: Vec<String> = js_sys::Array::from(&get(&out, "outcomes"))
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    assert_eq!(outcomes.len(), 50);
    assert_eq!(outcomes[7], "invalid_document");
    assert_eq!(outcomes[9], "invalid_id");
    assert!(outcomes
        .iter()
        .enumerate()
        .all(|(i, o)| i == 7 || i == 9 || o == "pending"));
    assert_eq!(call(&db, "pendingCount", &[]).await.as_f64(), Some(51.0));
    let d8 = call(&db, "get", &["d8".into()]).await;
    assert_eq!(get(&d8, "i").as_f64(), Some(8.0));
    call(&db, "destroy", &[]).await;
}

#[wasm_bindgen_test]
async fn writes_started_together_all_land_and_a_failing_one_fails_alone() {
    let db = open_with(&format!(r#"{{"name": "{}"}}"#, unique("group"))).await;
    // Writes the app does not await one by one each settle on their own; a
    // failing one fails alone.
    let writes = eval(
        "async (db) => {
           const settled = await Promise.allSettled([
             db.put({ _id: 'a', n: 1 }), db.put({ _id: 'b' }), db.delete('missing'),
             db.put({ _id: 'c' }), db.put({ _id: 'a', n: 2 }),
             db.put({ _id: 'b', _rev: 'bad' }),
           ]);
           return settled.map((r) => (r.status === 'fulfilled' ? r.value.status : r.reason.code));
         }",
    );
    let f: js_sys::Function = writes.into();
    let out = support::await_promise(f.call1(&JsValue::NULL, &db).expect("call")).await;
    let outcomes: Vec<String> = js_sys::Array::from(&out)
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    assert_eq!(
        outcomes,
        [
            "pending",
            "pending",
            "not_found",
            "pending",
            "conflict",
            "invalid_rev"
        ],
        "the second write of a names no _rev: it would replace the first unseen"
    );
    let a = call(&db, "get", &["a".into()]).await;
    assert_eq!(
        get(&a, "n").as_f64(),
        Some(1.0),
        "the first write of a stays"
    );
    let pending = call(&db, "pendingCount", &[]).await;
    assert_eq!(pending.as_f64(), Some(3.0));
    call(&db, "destroy", &[]).await;
}

#[wasm_bindgen_test]
async fn a_replay_in_small_batches_and_a_paged_pull_carry_every_document_once() {
    let remote = remote_db("batches").await;
    // Batches of 4 (each claimed while the one before is pushed) and pages of
    // 3 (each fetched while the one before is applied).
    let tuned = r#""batchSize": 4, "pullPageSize": 3"#;
    let a = open_tuned(&unique("a"), &remote, tuned).await;
    let docs: Vec<String> = (0..23)
        .map(|i| format!(r#"{{"_id": "d{i:02}", "n": {i}}}"#))
        .collect();
    call(&a, "putMany", &[json(&format!("[{}]", docs.join(",")))]).await;
    // An edit made while the replay runs: whichever batch it meets, it lands.
    let syncing = js_sys::Reflect::get(&a, &"sync".into()).expect("sync");
    let syncing: js_sys::Function = syncing.into();
    let first = syncing.call0(&a).expect("sync started");
    support::edit(&a, r#"{"_id": "d01", "n": "edited"}"#).await;
    let report = support::await_promise(first).await;
    assert_eq!(
        get(&report, "errors")
            .dyn_into::<js_sys::Array>()
            .map(|e| e.length())
            .ok(),
        Some(0)
    );
    call(&a, "sync", &[]).await;
    assert_eq!(call(&a, "pendingCount", &[]).await.as_f64(), Some(0.0));

    let b = open_tuned(&unique("b"), &remote, tuned).await;
    let report = call(&b, "sync", &[]).await;
    assert_eq!(get(&report, "pulled").as_f64(), Some(23.0));
    for i in 0..23 {
        let id = format!("d{i:02}");
        let doc = call(&b, "get", &[id.as_str().into()]).await;
        let rev = get(&doc, "_rev").as_string().unwrap_or_default();
        if i == 1 {
            assert_eq!(get(&doc, "n").as_string().as_deref(), Some("edited"));
        } else {
            assert_eq!(get(&doc, "n").as_f64(), Some(f64::from(i)), "{id}");
            assert!(rev.starts_with("1-"), "{id} was written once: {rev}");
        }
    }
    let all_a = js_sys::JSON::stringify(&call(&a, "all", &[]).await).ok();
    let all_b = js_sys::JSON::stringify(&call(&b, "all", &[]).await).ok();
    assert_eq!(all_a, all_b);
}
