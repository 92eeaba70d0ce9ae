//! Write stamps: the metadata the SDK writes into bodies so that conflict
//! strategies can tell who wrote a version (`editor`) and when (`updatedAt`).

use serde_json::Value;

use crate::model::Body;

/// The member the SDK stamps with the author of a write (see
/// `ClientConfig::author`), read by priority rules such as `editor.role`.
pub const EDITOR_MEMBER: &str = "editor";
/// The member the SDK stamps with the time of a write, in milliseconds since
/// the epoch, read by `newestWins`.
pub const UPDATED_AT_MEMBER: &str = "updatedAt";

/// The metadata the SDK writes into every body a client writes (puts and
/// resolutions; a tombstone has no body), so that conflict strategies can
/// tell who wrote a version and when. Stamping takes over the members
/// `editor` and `updatedAt`: a value the app put there is replaced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stamp {
    /// Written as `editor` when set: the client's `author` option, read by
    /// priority rules such as `editor.role`.
    pub editor: Option<Value>,
    /// Write `updatedAt`, the write's time in milliseconds since the epoch,
    /// read by `newestWins`.
    pub updated_at: bool,
}

impl Stamp {
    /// Stamps `body` as written at `now`.
    pub fn apply(&self, body: &mut Body, now: f64) {
        if let Some(editor) = &self.editor {
            body.insert(EDITOR_MEMBER.into(), editor.clone());
        }
        if self.updated_at {
            body.insert(UPDATED_AT_MEMBER.into(), millis(now));
        }
    }
}

/// A time as a JSON number, integral when it is (clocks give whole ms).
fn millis(now: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if now.fract() == 0.0 && now.abs() < EXACT {
        Value::from(now as i64)
    } else {
        Value::from(now)
    }
}
