//! `_revisions`: the history a replicated document carries (`{"start": N,
//! "ids": [newest, ..., oldest]}`), which is what lets a server graft it into
//! its revision tree at the right place instead of starting a new branch.

use serde_json::Value;
use tidesync_engine::Revision;

use crate::error::ApiError;

/// The revisions `_revisions` names, newest first, or `None` when the
/// document has no `_revisions`. Malformed histories get CouchDB's answers.
pub fn parse_revisions(doc: &Value) -> Result<Option<Vec<Revision>>, ApiError> {
    let Some(revisions) = doc.get("_revisions") else {
        return Ok(None);
    };
    let invalid = |what: &str| ApiError::DocValidation(format!("_revisions.{what}"));
    let start = revisions
        .get("start")
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid("start isn't an integer."))?;
    let ids = revisions
        .get("ids")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("ids isn't a array."))?;
    if ids.is_empty() || ids.len() as u64 > start {
        return Err(invalid("ids does not fit _revisions.start."));
    }
    let mut path = Vec::with_capacity(ids.len());
    for (offset, id) in (0u64..).zip(ids) {
        let id = id
            .as_str()
            .ok_or_else(|| ApiError::DocValidation("RevId isn't a string".to_owned()))?;
        let rev = format!("{}-{id}", start - offset)
            .parse()
            .map_err(|_| ApiError::invalid_rev())?;
        path.push(rev);
    }
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_histories_newest_first() {
        let doc = json!({"_revisions": {"start": 3, "ids": ["c", "b", "a"]}});
        let path = parse_revisions(&doc).expect("valid").expect("present");
        let texts: Vec<String> = path.iter().map(Revision::to_string).collect();
        assert_eq!(texts, ["3-c", "2-b", "1-a"]);
        assert_eq!(parse_revisions(&json!({"_rev": "1-a"})), Ok(None));
    }

    #[test]
    fn refuses_malformed_histories() {
        for bad in [
            json!({"_revisions": {"start": 2, "ids": "x"}}),
            json!({"_revisions": {"start": "2", "ids": ["a"]}}),
            json!({"_revisions": {"start": 1, "ids": ["a", "b"]}}),
            json!({"_revisions": {"start": 1, "ids": []}}),
            json!({"_revisions": {"start": 1, "ids": [1]}}),
        ] {
            assert!(
                matches!(parse_revisions(&bad), Err(ApiError::DocValidation(_))),
                "{bad}"
            );
        }
        assert_eq!(
            parse_revisions(&json!({"_revisions": {"start": 1, "ids": ["a-b"]}})),
            Err(ApiError::invalid_rev())
        );
    }
}
