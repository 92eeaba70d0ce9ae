//! Automatic conflict resolution: which strategy applies to a conflict, and
//! what it decides.
//!
//! The policy is plain JSON, passed from JavaScript as the `conflicts` option:
//!
//! ```json
//! {
//!   "strategy": "merge",
//!   "byType": {
//!     "field": "type",
//!     "strategies": {
//!       "report": { "priority": { "field": "editor.role",
//!                                 "order": ["supervisor", "inspector"],
//!                                 "fallback": "merge" } },
//!       "photo": "manual"
//!     }
//!   }
//! }
//! ```
//!
//! A strategy is one of the strings `"manual"` (level 0: the app decides),
//! `"merge"` (level 1: the three-way merge, manual when it clashes),
//! `"serverWins"`, `"clientWins"`, `"newestWins"`, or the object
//! `{ "priority": { "field", "order", "fallback"? } }` (level 2: business
//! rules). `byType` picks a strategy by the value of a (dotted) member of the
//! document; documents of other types use `strategy`. A strategy that cannot
//! decide (a clashing merge, a `newestWins` without timestamps, equal ranks
//! without a fallback) leaves the conflict to the app, as `"manual"` does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    merge3,
    stamp::{EDITOR_MEMBER, UPDATED_AT_MEMBER},
    MergeOutcome,
};
use crate::model::{Body, ConflictRecord};

/// How conflicts are resolved: a default strategy, optionally overridden per
/// document type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConflictPolicy {
    /// The strategy for documents `by_type` does not cover.
    #[serde(default)]
    pub strategy: Strategy,
    /// Strategies per document type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_type: Option<ByType>,
    /// Set by the browser edge when the app passed a custom resolver: the
    /// required order is custom resolver, then this policy, then the app, and
    /// the resolver is JavaScript, so the engine then records every conflict
    /// during sync and the edge, after the resolver declined, applies this
    /// policy through `Client::auto_resolve_recorded`.
    #[serde(default)]
    pub custom: bool,
}

/// Strategies chosen by the value of one member of the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ByType {
    /// The member holding the type, dotted for nested members (`meta.kind`).
    pub field: String,
    /// Type value → strategy.
    pub strategies: BTreeMap<String, Strategy>,
}

/// One way of deciding a conflict.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Strategy {
    /// Level 0: record the conflict for the app.
    #[default]
    Manual,
    /// Level 1: the three-way merge; a clash leaves it to the app.
    Merge,
    /// The server's version stays (the local edit is dropped).
    ServerWins,
    /// The local version is written over the server's.
    ClientWins,
    /// The version with the larger stamped `updatedAt` wins. Device clocks
    /// drift and can be set wrong, so "newest" is the newest by each writer's
    /// clock, not necessarily the last edit made; use it where losing an edit
    /// to a skewed clock is acceptable. A side without a numeric `updatedAt`
    /// (a deletion, or a write made without stamping) leaves it to the app.
    NewestWins,
    /// Level 2: a business rule ranks the two versions' authors.
    Priority(PriorityRule),
}

/// Ranks each version by the value of one of its members: the earlier in
/// `order`, the stronger. A version without the member, with a value not in
/// `order`, or deleted (a tombstone carries no author) ranks last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriorityRule {
    /// The dotted path of the member, e.g. `editor.role`.
    pub field: String,
    /// Values from strongest to weakest, e.g. `["supervisor", "inspector"]`.
    pub order: Vec<Value>,
    /// What decides when both rank the same; the app does when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Box<Strategy>>,
}

/// An automatic decision on a conflict.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// The resolved body (`None`: the document is deleted).
    pub body: Option<Body>,
    /// The strategy that decided: `merge`, `serverWins`, `clientWins`,
    /// `newestWins` or `priority` (a priority rule's fallback reports itself).
    pub strategy: String,
    /// Where the two versions clashed (JSON Pointers): what a winning strategy
    /// settled, so the app can tell the user; empty after a clean merge.
    pub clashes: Vec<String>,
}

impl Strategy {
    /// The name used in the JSON configuration and in `resolved` events.
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::Manual => "manual",
            Strategy::Merge => "merge",
            Strategy::ServerWins => "serverWins",
            Strategy::ClientWins => "clientWins",
            Strategy::NewestWins => "newestWins",
            Strategy::Priority(_) => "priority",
        }
    }

    fn uses_newest_wins(&self) -> bool {
        match self {
            Strategy::NewestWins => true,
            Strategy::Priority(rule) => rule
                .fallback
                .as_deref()
                .is_some_and(Strategy::uses_newest_wins),
            _ => false,
        }
    }
}

impl ConflictPolicy {
    /// The strategy for this conflict: by the document's type (read from the
    /// local side, else the remote, else the base) when configured, else the
    /// default.
    pub fn strategy_for(&self, conflict: &ConflictRecord) -> &Strategy {
        let by_type = self.by_type.as_ref().and_then(|by_type| {
            let kind = [&conflict.local, &conflict.remote, &conflict.base]
                .into_iter()
                .flatten()
                .find_map(|body| member(body, &by_type.field).and_then(Value::as_str))?;
            by_type.strategies.get(kind)
        });
        by_type.unwrap_or(&self.strategy)
    }

    /// True when some strategy compares `updatedAt` stamps, which writes must
    /// then carry.
    pub fn uses_newest_wins(&self) -> bool {
        self.strategy.uses_newest_wins()
            || self
                .by_type
                .as_ref()
                .is_some_and(|b| b.strategies.values().any(Strategy::uses_newest_wins))
    }
}

/// Decides `conflict` by `policy`, or returns `None` when the app must.
///
/// The stamps `updatedAt` and `editor` change with every write, so when both
/// versions carry a numeric `updatedAt` they are not merged like data: the
/// merge takes them from the newer version and never clashes on them.
/// A conflict whose server side could not be fetched is never decided.
pub fn auto_resolve(conflict: &ConflictRecord, policy: &ConflictPolicy) -> Option<Resolution> {
    conflict.remote_rev.as_ref()?;
    let outcome = merge_sides(conflict);
    let (body, strategy) = decide(policy.strategy_for(conflict), conflict, &outcome)?;
    Some(Resolution {
        body,
        strategy: strategy.to_owned(),
        clashes: outcome.clashes,
    })
}

fn decide(
    strategy: &Strategy,
    conflict: &ConflictRecord,
    outcome: &MergeOutcome,
) -> Option<(Option<Body>, &'static str)> {
    let name = strategy.name();
    match strategy {
        Strategy::Manual => None,
        Strategy::Merge if !outcome.is_clean() => None,
        Strategy::Merge => match &outcome.merged {
            None => Some((None, name)),
            Some(Value::Object(body)) => Some((Some(body.clone()), name)),
            Some(_) => None,
        },
        Strategy::ServerWins => Some((conflict.remote.clone(), name)),
        Strategy::ClientWins => Some((conflict.local.clone(), name)),
        Strategy::NewestWins => {
            let local = stamped_at(conflict.local.as_ref())?;
            let remote = stamped_at(conflict.remote.as_ref())?;
            // A tie keeps the server's version: no write, the same on every device.
            let winner = if local > remote {
                &conflict.local
            } else {
                &conflict.remote
            };
            Some((winner.clone(), name))
        }
        Strategy::Priority(rule) => {
            let local = rank(rule, conflict.local.as_ref());
            let remote = rank(rule, conflict.remote.as_ref());
            match local.cmp(&remote) {
                std::cmp::Ordering::Less => Some((conflict.local.clone(), name)),
                std::cmp::Ordering::Greater => Some((conflict.remote.clone(), name)),
                std::cmp::Ordering::Equal => decide(rule.fallback.as_deref()?, conflict, outcome),
            }
        }
    }
}

/// The three-way merge of the conflict's sides, stamps set aside (see
/// [`auto_resolve`]).
fn merge_sides(conflict: &ConflictRecord) -> MergeOutcome {
    let local_at = stamped_at(conflict.local.as_ref());
    let remote_at = stamped_at(conflict.remote.as_ref());
    let stamped = local_at.is_some() && remote_at.is_some();
    let prepare = |body: &Option<Body>| {
        body.as_ref().map(|body| {
            let mut body = body.clone();
            if stamped {
                body.remove(UPDATED_AT_MEMBER);
                body.remove(EDITOR_MEMBER);
            }
            Value::Object(body)
        })
    };
    let (base, local, remote) = (
        prepare(&conflict.base),
        prepare(&conflict.local),
        prepare(&conflict.remote),
    );
    let mut outcome = merge3(base.as_ref(), local.as_ref(), remote.as_ref());
    if let (true, Some(Value::Object(merged)), Some(l), Some(r)) = (
        stamped,
        &mut outcome.merged,
        &conflict.local,
        &conflict.remote,
    ) {
        let (newer, older) = if local_at > remote_at { (l, r) } else { (r, l) };
        for key in [UPDATED_AT_MEMBER, EDITOR_MEMBER] {
            if let Some(value) = newer.get(key).or_else(|| older.get(key)) {
                merged.insert(key.to_owned(), value.clone());
            }
        }
    }
    outcome
}

/// The `updatedAt` stamp of a version, when it has a numeric one.
fn stamped_at(body: Option<&Body>) -> Option<f64> {
    body?.get(UPDATED_AT_MEMBER)?.as_f64()
}

/// A version's position in the rule's order (lower is stronger).
fn rank(rule: &PriorityRule, body: Option<&Body>) -> usize {
    body.and_then(|body| member(body, &rule.field))
        .and_then(|value| rule.order.iter().position(|v| v == value))
        .unwrap_or(rule.order.len())
}

/// The member at a dotted path (`editor.role`).
pub(crate) fn member<'a>(body: &'a Body, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = body.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}
