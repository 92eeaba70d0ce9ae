//! Revision trees, as CouchDB keeps them: every revision points at its
//! parent, the revisions nothing was written on top of are the leaves (live or
//! deleted), and one leaf is the winner by a rule every replica applies alike,
//! so servers that hold the same tree show the same document.

use std::collections::{HashMap, HashSet};

use rusqlite::{params, Connection};
use tidesync_engine::Revision;

use super::{
    rows::{self, parse_rev, Current},
    StoreResult,
};

/// A leaf of a document's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Leaf {
    /// The leaf revision.
    pub rev: Revision,
    /// True for a tombstone.
    pub deleted: bool,
}

impl Leaf {
    /// CouchDB's winning order: live beats deleted, then the higher
    /// generation, then the higher revision id (compared as bytes).
    fn key(&self) -> (bool, u64, &str) {
        (!self.deleted, self.rev.generation(), self.rev.hash())
    }
}

/// Sorts leaves winner first, which is also the order CouchDB lists them in
/// (`_changes?style=all_docs`, `_conflicts`).
pub(crate) fn winner_first(leaves: &mut [Leaf]) {
    leaves.sort_by(|a, b| b.key().cmp(&a.key()));
}

/// The leaves of a document, winner first (empty when it was never written).
pub(crate) fn leaves(conn: &Connection, db_id: i64, doc_id: &str) -> StoreResult<Vec<Leaf>> {
    let raw = conn
        .prepare_cached(
            "SELECT rev, deleted FROM revs WHERE db_id = ?1 AND doc_id = ?2 AND leaf = 1",
        )?
        .query_map(params![db_id, doc_id], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, bool>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut leaves = raw
        .into_iter()
        .map(|(rev, deleted)| {
            Ok(Leaf {
                rev: parse_rev(&rev)?,
                deleted,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    winner_first(&mut leaves);
    Ok(leaves)
}

/// After the tree of a document changed: records its winner in `docs` at
/// `seq`, so the change shows in `_changes` even when the winner stayed.
pub(crate) fn settle(conn: &Connection, db_id: i64, doc_id: &str, seq: u64) -> StoreResult<()> {
    if let Some(winner) = leaves(conn, db_id, doc_id)?.into_iter().next() {
        let current = Current {
            rev: winner.rev,
            deleted: winner.deleted,
        };
        rows::set_current(conn, db_id, doc_id, &current, seq)?;
    }
    Ok(())
}

/// How many revisions of a replicated history (`path`, newest first) are new
/// to the tree: the newest ones up to the first that `known` holds. Zero when
/// the newest is known already (nothing to store).
pub(crate) fn new_in_path(
    path: &[Revision],
    mut known: impl FnMut(&Revision) -> StoreResult<bool>,
) -> StoreResult<usize> {
    for (index, rev) in path.iter().enumerate() {
        if known(rev)? {
            return Ok(index);
        }
    }
    Ok(path.len())
}

/// The parent/child links of one document's tree, for walks that go down.
pub(crate) struct Links {
    children: HashMap<Revision, Vec<Revision>>,
    parents: HashMap<Revision, Revision>,
    known: HashSet<Revision>,
}

impl Links {
    /// Reads every revision of a document with its parent.
    pub(crate) fn load(conn: &Connection, db_id: i64, doc_id: &str) -> StoreResult<Links> {
        let raw = conn
            .prepare_cached("SELECT rev, parent FROM revs WHERE db_id = ?1 AND doc_id = ?2")?
            .query_map(params![db_id, doc_id], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut pairs = Vec::with_capacity(raw.len());
        for (rev, parent) in raw {
            pairs.push((
                parse_rev(&rev)?,
                parent.as_deref().map(parse_rev).transpose()?,
            ));
        }
        Ok(Links::from_pairs(pairs))
    }

    /// Links from `(revision, parent)` pairs.
    pub(crate) fn from_pairs(pairs: Vec<(Revision, Option<Revision>)>) -> Links {
        let mut children: HashMap<Revision, Vec<Revision>> = HashMap::new();
        let mut parents = HashMap::new();
        let mut known = HashSet::new();
        for (rev, parent) in pairs {
            if let Some(parent) = parent {
                children
                    .entry(parent.clone())
                    .or_default()
                    .push(rev.clone());
                parents.insert(rev.clone(), parent);
            }
            known.insert(rev);
        }
        Links {
            children,
            parents,
            known,
        }
    }

    /// The revisions that pruning to `limit` drops: those not among the
    /// `limit` newest of any leaf's path, as CouchDB stems its trees.
    pub(crate) fn beyond(&self, limit: usize) -> Vec<Revision> {
        let mut kept = HashSet::new();
        for leaf in self
            .known
            .iter()
            .filter(|r| !self.children.contains_key(*r))
        {
            let mut next = Some(leaf);
            for _ in 0..limit {
                let Some(rev) = next else { break };
                kept.insert(rev);
                next = self.parents.get(rev);
            }
        }
        let mut dropped: Vec<Revision> = self
            .known
            .iter()
            .filter(|rev| !kept.contains(rev))
            .cloned()
            .collect();
        dropped.sort();
        dropped
    }

    /// The leaves at or below `rev` in ascending order (`rev` itself when it
    /// is a leaf), or `None` when the tree does not hold `rev`: what
    /// `latest=true` answers for a requested revision.
    pub(crate) fn leaves_under(&self, rev: &Revision) -> Option<Vec<Revision>> {
        if !self.known.contains(rev) {
            return None;
        }
        let mut found = Vec::new();
        let mut stack = vec![rev.clone()];
        while let Some(next) = stack.pop() {
            match self.children.get(&next) {
                Some(kids) if !kids.is_empty() => stack.extend(kids.iter().cloned()),
                _ => found.push(next),
            }
        }
        found.sort();
        found.dedup();
        Some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(text: &str) -> Revision {
        text.parse().expect("rev")
    }

    fn leaf(text: &str, deleted: bool) -> Leaf {
        Leaf {
            rev: rev(text),
            deleted,
        }
    }

    #[test]
    fn winner_is_live_then_longest_then_highest_id() {
        let mut leaves = vec![
            leaf("1-zzz", false),
            leaf("3-ddd", true),
            leaf("2-bbb", false),
            leaf("2-4da", false),
        ];
        winner_first(&mut leaves);
        let order: Vec<String> = leaves.iter().map(|l| l.rev.to_string()).collect();
        // CouchDB 3.5 lists these leaves in this order (`style=all_docs`).
        assert_eq!(order, ["2-bbb", "2-4da", "1-zzz", "3-ddd"]);
        let mut all_deleted = vec![leaf("2-a", true), leaf("3-b", true)];
        winner_first(&mut all_deleted);
        assert_eq!(all_deleted[0].rev, rev("3-b"));
    }

    #[test]
    fn graft_stores_the_revisions_above_the_first_known_one() {
        let path = [rev("4-d"), rev("3-c"), rev("2-b"), rev("1-a")];
        let fresh = |known: &str| new_in_path(&path, |r| Ok(r == &rev(known))).expect("plan");
        assert_eq!(fresh("2-b"), 2);
        assert_eq!(fresh("9-x"), 4);
        assert_eq!(fresh("4-d"), 0);
    }

    #[test]
    fn latest_walks_down_to_every_leaf() {
        let links = Links::from_pairs(vec![
            (rev("1-a"), None),
            (rev("2-b"), Some(rev("1-a"))),
            (rev("2-c"), Some(rev("1-a"))),
            (rev("3-d"), Some(rev("2-c"))),
            (rev("1-z"), None),
        ]);
        assert_eq!(
            links.leaves_under(&rev("1-a")),
            Some(vec![rev("2-b"), rev("3-d")])
        );
        assert_eq!(links.leaves_under(&rev("2-b")), Some(vec![rev("2-b")]));
        assert_eq!(links.leaves_under(&rev("1-z")), Some(vec![rev("1-z")]));
        assert_eq!(links.leaves_under(&rev("9-x")), None);
    }

    #[test]
    fn pruning_keeps_the_newest_of_every_branch() {
        let links = Links::from_pairs(vec![
            (rev("1-a"), None),
            (rev("2-b"), Some(rev("1-a"))),
            (rev("3-c"), Some(rev("2-b"))),
            (rev("4-d"), Some(rev("3-c"))),
            (rev("2-x"), Some(rev("1-a"))),
        ]);
        // 1-a stays: it is within two of the short branch 2-x.
        assert_eq!(links.beyond(2), vec![rev("2-b")]);
        assert_eq!(links.beyond(3), Vec::<Revision>::new());
        assert_eq!(links.beyond(1), vec![rev("1-a"), rev("2-b"), rev("3-c")]);
    }
}
