//! The three-way merge, case by case: objects, text (unicode included),
//! arrays, deletions, type changes and concurrent creations.

use serde_json::{json, Value};

use crate::merge::merge3;

/// One row: the three versions, the expected merge and clash paths.
struct Case {
    name: &'static str,
    base: Option<Value>,
    local: Option<Value>,
    remote: Option<Value>,
    merged: Option<Value>,
    clashes: &'static [&'static str],
}

fn case(
    name: &'static str,
    base: Option<Value>,
    local: Option<Value>,
    remote: Option<Value>,
    merged: Option<Value>,
    clashes: &'static [&'static str],
) -> Case {
    Case {
        name,
        base,
        local,
        remote,
        merged,
        clashes,
    }
}

/// Shorthand for a document with one text member.
fn text(s: &str) -> Option<Value> {
    Some(json!({ "t": s }))
}

#[rustfmt::skip] // One row per case reads as a table.
fn cases() -> Vec<Case> {
    let s = Some;
    vec![
        // Objects.
        case("identical edits", s(json!({"a": 1})), s(json!({"a": 2})), s(json!({"a": 2})), s(json!({"a": 2})), &[]),
        case("only local changed", s(json!({"a": 1, "b": 1})), s(json!({"a": 2, "b": 1})), s(json!({"a": 1, "b": 1})), s(json!({"a": 2, "b": 1})), &[]),
        case("only remote changed", s(json!({"a": 1})), s(json!({"a": 1})), s(json!({"a": 3})), s(json!({"a": 3})), &[]),
        case("different fields", s(json!({"title": "bug", "status": "open", "assignee": null})), s(json!({"title": "bug", "status": "closed", "assignee": null})), s(json!({"title": "bug", "status": "open", "assignee": "ana"})), s(json!({"title": "bug", "status": "closed", "assignee": "ana"})), &[]),
        case("nested different fields", s(json!({"car": {"make": "Toyota", "color": "red"}})), s(json!({"car": {"make": "Toyota", "color": "blue"}})), s(json!({"car": {"make": "Lexus", "color": "red"}})), s(json!({"car": {"make": "Lexus", "color": "blue"}})), &[]),
        case("same field, different values", s(json!({"car": {"color": "red"}})), s(json!({"car": {"color": "yellow"}})), s(json!({"car": {"color": "blue"}})), s(json!({"car": {"color": "yellow"}})), &["/car/color"]),
        case("numbers are scalars", s(json!({"n": 10})), s(json!({"n": 11})), s(json!({"n": 12})), s(json!({"n": 11})), &["/n"]),
        case("same toggle on both sides", s(json!({"done": false, "x": 1})), s(json!({"done": true, "x": 2})), s(json!({"done": true, "x": 1})), s(json!({"done": true, "x": 2})), &[]),
        case("member added on both, same value", s(json!({})), s(json!({"tag": "urgent", "a": 1})), s(json!({"tag": "urgent"})), s(json!({"tag": "urgent", "a": 1})), &[]),
        case("member added on both, different values", s(json!({})), s(json!({"tag": "urgent"})), s(json!({"tag": "later"})), s(json!({"tag": "urgent"})), &["/tag"]),
        case("member removed on one side", s(json!({"a": 1, "b": 2})), s(json!({"a": 1})), s(json!({"a": 5, "b": 2})), s(json!({"a": 5})), &[]),
        case("member removed against edited", s(json!({"a": 1, "b": 2})), s(json!({"a": 1})), s(json!({"a": 1, "b": 3})), s(json!({"a": 1})), &["/b"]),
        case("member removed on both sides", s(json!({"a": 1, "b": 2})), s(json!({"a": 1})), s(json!({"a": 2})), s(json!({"a": 2})), &[]),
        case("type change on one side", s(json!({"v": 5, "w": 1})), s(json!({"v": "five", "w": 1})), s(json!({"v": 5, "w": 2})), s(json!({"v": "five", "w": 2})), &[]),
        case("type change against edit", s(json!({"v": 5})), s(json!({"v": "five"})), s(json!({"v": 6})), s(json!({"v": "five"})), &["/v"]),
        case("object replaced by null against inner edit", s(json!({"o": {"k": 1}})), s(json!({"o": null})), s(json!({"o": {"k": 2}})), s(json!({"o": null})), &["/o"]),
        case("pointer escaping", s(json!({"a/b": {"c~d": 1}})), s(json!({"a/b": {"c~d": 2}})), s(json!({"a/b": {"c~d": 3}})), s(json!({"a/b": {"c~d": 2}})), &["/a~1b/c~0d"]),
        // Whole documents.
        case("deleted locally, untouched remotely", s(json!({"a": 1})), None, s(json!({"a": 1})), None, &[]),
        case("deleted against edited", s(json!({"name": "beach"})), None, s(json!({"name": "sunset"})), None, &[""]),
        case("deleted on both sides", s(json!({"a": 1})), None, None, None, &[]),
        case("concurrent creates, disjoint members", None, s(json!({"a": 1, "same": true})), s(json!({"b": 2, "same": true})), s(json!({"a": 1, "b": 2, "same": true})), &[]),
        case("concurrent creates, differing scalar", None, s(json!({"a": 1})), s(json!({"a": 2})), s(json!({"a": 1})), &["/a"]),
        case("concurrent creates, lists", None, s(json!({"l": ["x", "y"]})), s(json!({"l": ["y", "z"]})), s(json!({"l": ["y", "z", "x"]})), &[]),
        case("concurrent creates, texts", None, text("hello"), text("hullo"), text("hello"), &["/t"]),
        // Text.
        case("text: disjoint sentences", text("The app crashes on start. It happens on Android."), text("The app crashes on launch. It happens on Android."), text("The app crashes on start. It happens on Android 14."), text("The app crashes on launch. It happens on Android 14."), &[]),
        case("text: adjacent words", text("hello world"), text("hi world"), text("hello there"), text("hi there"), &[]),
        case("text: same word, different edits", text("the quick fox"), text("the quick brown fox"), text("the quick red fox"), text("the quick brown fox"), &["/t"]),
        case("text: overlapping rewrites", text("one two three four"), text("one 2 3 four"), text("one two THREE FOUR"), text("one 2 3 four"), &["/t"]),
        case("text: edit inside a deleted passage", text("keep this. drop this part. keep that."), text("keep this. keep that."), text("keep this. drop this bit. keep that."), text("keep this. keep that."), &["/t"]),
        case("text: one shared fix plus disjoint edits", text("teh cat sat on teh mat"), text("the cat sat on teh rug"), text("the dog sat on teh mat"), text("the dog sat on teh rug"), &[]),
        case("text: insertion before a replaced word", text("hello world"), text("hello big world"), text("hello earth"), text("hello big earth"), &[]),
        case("text: emoji kept whole", text("I ❤️ tea"), text("I ❤️ green tea"), text("We ❤️ tea"), text("We ❤️ green tea"), &[]),
        case("text: ZWJ family on one side", text("👨‍👩‍👧 went out. Rain."), text("👨‍👩‍👦 went out. Rain."), text("👨‍👩‍👧 went out. Sun!"), text("👨‍👩‍👦 went out. Sun!"), &[]),
        case("text: ZWJ family on both sides", text("family: 👨‍👩‍👧"), text("family: 👨‍👩‍👦"), text("family: 👩‍👩‍👧"), text("family: 👨‍👩‍👦"), &["/t"]),
        case("text: skin tone and flag", text("👍 from 🇫🇷"), text("👍🏽 from 🇫🇷"), text("👍 from 🇫🇷 and 🇯🇵"), text("👍🏽 from 🇫🇷 and 🇯🇵"), &[]),
        case("text: combining marks stay on their letter", text("cafe\u{301} au lait"), text("cafe\u{301} au lait chaud"), text("Le cafe\u{301} au lait"), text("Le cafe\u{301} au lait chaud"), &[]),
        case("text: accent changed against edit of the same word", text("cafe\u{301} noir"), text("cafe\u{300} noir"), text("cafes\u{301} noir"), text("cafe\u{300} noir"), &["/t"]),
        case("text: CJK", text("我喜欢喝茶。他喜欢咖啡。"), text("我很喜欢喝茶。他喜欢咖啡。"), text("我喜欢喝茶。她喜欢咖啡。"), text("我很喜欢喝茶。她喜欢咖啡。"), &[]),
        case("text: base not a string", s(json!({"t": 1})), text("a"), text("b"), text("a"), &["/t"]),
        // Arrays.
        case("array: both append", s(json!({"l": [1]})), s(json!({"l": [1, 2]})), s(json!({"l": [1, 3]})), s(json!({"l": [1, 3, 2]})), &[]),
        case("array: same element appended on both sides", s(json!({"l": ["a"]})), s(json!({"l": ["a", "b", "c"]})), s(json!({"l": ["a", "b"]})), s(json!({"l": ["a", "b", "c"]})), &[]),
        case("array: extinguishers added by two inspectors", s(json!({"ext": [{"id": 1, "type": "CO2"}]})), s(json!({"ext": [{"id": 1, "type": "CO2"}, {"id": 2, "type": "foam"}]})), s(json!({"ext": [{"id": 1, "type": "CO2"}, {"id": 3, "type": "powder"}]})), s(json!({"ext": [{"id": 1, "type": "CO2"}, {"id": 3, "type": "powder"}, {"id": 2, "type": "foam"}]})), &[]),
        case("array: remove against append", s(json!({"l": ["a", "b", "c"]})), s(json!({"l": ["a", "c"]})), s(json!({"l": ["a", "b", "c", "d"]})), s(json!({"l": ["a", "c", "d"]})), &[]),
        case("array: both remove the same element", s(json!({"l": ["a", "b", "c"]})), s(json!({"l": ["a", "c"]})), s(json!({"l": ["a", "c", "d"]})), s(json!({"l": ["a", "c", "d"]})), &[]),
        case("array: overlapping removals", s(json!({"l": [1, 2, 3, 4, 5]})), s(json!({"l": [1, 4, 5]})), s(json!({"l": [1, 2, 5]})), s(json!({"l": [1, 5]})), &[]),
        case("array: insertion inside a removed run", s(json!({"l": [1, 2, 3, 4]})), s(json!({"l": [1, 4]})), s(json!({"l": [1, 2, 9, 3, 4]})), s(json!({"l": [1, 9, 4]})), &[]),
        case("array: element edited against removed", s(json!({"l": [{"id": 1, "ok": false}, {"id": 2}]})), s(json!({"l": [{"id": 1, "ok": true}, {"id": 2}]})), s(json!({"l": [{"id": 2}]})), s(json!({"l": [{"id": 1, "ok": true}, {"id": 2}]})), &["/l"]),
        case("array: same element edited differently", s(json!({"l": ["a", "b", "c"]})), s(json!({"l": ["a", "B", "c"]})), s(json!({"l": ["a", "bee", "c"]})), s(json!({"l": ["a", "B", "c"]})), &["/l"]),
        case("array: element edited, other side appends", s(json!({"l": ["a", "b"]})), s(json!({"l": ["A", "b"]})), s(json!({"l": ["a", "b", "c"]})), s(json!({"l": ["A", "b", "c"]})), &[]),
        case("array: moved element edited on the other side", s(json!({"l": ["a", "b", "c"]})), s(json!({"l": ["c", "a", "b"]})), s(json!({"l": ["a", "b", "C"]})), s(json!({"l": ["c", "a", "b"]})), &["/l"]),
        case("array: against object", s(json!({"l": [1]})), s(json!({"l": {"0": 1}})), s(json!({"l": [1, 2]})), s(json!({"l": {"0": 1}})), &["/l"]),
        case("array: nested in objects, several clashes", s(json!({"a": {"l": [1]}, "b": 1, "c": "x"})), s(json!({"a": {"l": [1, 2]}, "b": 2, "c": "y"})), s(json!({"a": {"l": [1, 3]}, "b": 3, "c": "z"})), s(json!({"a": {"l": [1, 3, 2]}, "b": 2, "c": "y"})), &["/b", "/c"]),
    ]
}

#[test]
fn merge_table() {
    let cases = cases();
    assert!(cases.len() >= 30);
    let mut failures = Vec::new();
    for c in &cases {
        let outcome = merge3(c.base.as_ref(), c.local.as_ref(), c.remote.as_ref());
        let clashes: Vec<&str> = outcome.clashes.iter().map(String::as_str).collect();
        if outcome.merged != c.merged || clashes != c.clashes {
            failures.push(format!(
                "{}: merged {:?}, clashes {:?}; expected {:?}, {:?}",
                c.name, outcome.merged, clashes, c.merged, c.clashes
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn merging_is_symmetric_when_clean() {
    // Swapping the sides gives the same result wherever order cannot matter
    // (lists put the remote side's insertions first).
    let ordered = |c: &Case| c.name.starts_with("array") || c.name.ends_with("lists");
    for c in cases()
        .iter()
        .filter(|c| c.clashes.is_empty() && !ordered(c))
    {
        let swapped = merge3(c.base.as_ref(), c.remote.as_ref(), c.local.as_ref());
        assert_eq!(swapped.merged, c.merged, "{}", c.name);
        assert!(swapped.is_clean(), "{}", c.name);
    }
}

#[test]
fn merged_text_is_always_valid_and_whole() {
    // Every grapheme of the merged text comes whole from one of the inputs.
    use unicode_segmentation::UnicodeSegmentation;
    for c in cases().iter().filter(|c| c.name.starts_with("text")) {
        let outcome = merge3(c.base.as_ref(), c.local.as_ref(), c.remote.as_ref());
        let Some(Value::String(merged)) = outcome.merged.as_ref().and_then(|m| m.get("t")).cloned()
        else {
            continue;
        };
        let inputs: Vec<String> = [&c.base, &c.local, &c.remote]
            .iter()
            .filter_map(|v| v.as_ref()?.get("t")?.as_str().map(str::to_owned))
            .collect();
        for g in merged.graphemes(true) {
            assert!(
                inputs.iter().any(|i| i.graphemes(true).any(|x| x == g)),
                "{}: grapheme {g:?} is in no input",
                c.name
            );
        }
    }
}

#[test]
fn long_texts_and_lists_merge() {
    let sentences: Vec<String> = (0..2_000)
        .map(|i| format!("Sentence number {i} is here."))
        .collect();
    let base = sentences.join(" ");
    let local = base.replacen("Sentence number 10 ", "Line 10 ", 1);
    let remote = base.replacen("number 1990 is", "number 1990 was", 1);
    let merged = merge3(
        Some(&json!({ "t": base })),
        Some(&json!({ "t": local })),
        Some(&json!({ "t": remote })),
    );
    let expected = base
        .replacen("Sentence number 10 ", "Line 10 ", 1)
        .replacen("number 1990 is", "number 1990 was", 1);
    assert_eq!(merged.merged, Some(json!({ "t": expected })));
    let list: Vec<Value> = (0..800).map(|i| json!({ "n": i })).collect();
    let mut local = list.clone();
    local.insert(3, json!("new"));
    let mut remote = list.clone();
    remote.remove(700);
    let merged = merge3(
        Some(&json!({ "l": list })),
        Some(&json!({ "l": local.clone() })),
        Some(&json!({ "l": remote })),
    );
    local.remove(701);
    assert_eq!(merged.merged, Some(json!({ "l": local })));
}
