//! `POST /{db}/_revs_diff`: which of the revisions a replicator offers are
//! not in this server's trees, so it sends only those.

use serde_json::{json, Map, Value};
use tidesync_engine::Revision;

use super::{rows, tree, Store, StoreResult};

impl Store {
    /// For each document, the offered revisions the tree lacks (`missing`)
    /// and the leaves that could be their ancestors (`possible_ancestors`:
    /// those of a lower generation than some missing revision), as CouchDB
    /// answers. Documents with nothing missing are left out.
    pub async fn revs_diff(
        &self,
        db: &str,
        offered: Vec<(String, Vec<Revision>)>,
    ) -> StoreResult<Map<String, Value>> {
        let db = db.to_owned();
        self.read(move |tx| {
            let db_id = rows::db_id(tx, &db)?;
            let mut answer = Map::new();
            for (doc_id, revs) in offered {
                let mut missing: Vec<Revision> = Vec::new();
                for rev in revs {
                    if !missing.contains(&rev) && !rows::has_revision(tx, db_id, &doc_id, &rev)? {
                        missing.push(rev);
                    }
                }
                let Some(highest) = missing.iter().map(Revision::generation).max() else {
                    continue;
                };
                let ancestors: Vec<String> = tree::leaves(tx, db_id, &doc_id)?
                    .into_iter()
                    .filter(|leaf| leaf.rev.generation() < highest)
                    .map(|leaf| leaf.rev.to_string())
                    .collect();
                let missing: Vec<String> = missing.iter().map(Revision::to_string).collect();
                let mut entry = json!({ "missing": missing });
                if !ancestors.is_empty() {
                    entry["possible_ancestors"] = json!(ancestors);
                }
                answer.insert(doc_id, entry);
            }
            Ok(answer)
        })
        .await
    }
}
