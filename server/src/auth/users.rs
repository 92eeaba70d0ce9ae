//! User documents in `_users`, and the rules for writing them (CouchDB's
//! `_users` validation): `_id` is `org.couchdb.user:NAME`, `type` is
//! `user`, `name` is NAME, `roles` a list of strings with no system role.
//! Anyone may create a user without roles (sign up); a user may update and
//! delete their own document but not change its roles; admins may do
//! anything. A `password` member is replaced by its PBKDF2 hash before the
//! document is stored, so no password is ever stored or served in clear.

use serde_json::{Map, Value};

use super::{
    password::{Credentials, CREDENTIAL_FIELDS},
    UserCtx,
};
use crate::error::ApiError;

/// The users database.
pub const USERS_DB: &str = "_users";
/// The `_id` prefix of user documents.
pub const USER_PREFIX: &str = "org.couchdb.user:";
/// The name prefix of per-user databases (CouchDB's `couch_peruser`).
pub const USER_DB_PREFIX: &str = "userdb-";

/// What authenticating a user needs from their document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The user's roles.
    pub roles: Vec<String>,
    /// The password hash; `None` when the user cannot sign in by password.
    pub credentials: Option<Credentials>,
}

impl UserRecord {
    /// The record of a stored user document, if it is one for `name`.
    pub fn from_doc(doc: &Value, name: &str) -> Option<UserRecord> {
        let doc = doc.as_object()?;
        if doc.get("name").and_then(Value::as_str) != Some(name) {
            return None;
        }
        let roles = doc
            .get("roles")
            .and_then(Value::as_array)
            .map(|roles| {
                roles
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|role| !role.starts_with('_'))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Some(UserRecord {
            roles,
            credentials: Credentials::from_doc(doc),
        })
    }
}

/// The user name in a user document id.
pub fn name_from_id(id: &str) -> Option<&str> {
    id.strip_prefix(USER_PREFIX).filter(|name| !name.is_empty())
}

/// The database of user `name` under `--per-user-dbs`: `userdb-` and the
/// name's UTF-8 bytes in lowercase hex, which is always a legal name.
pub fn user_db_name(name: &str) -> String {
    format!("{USER_DB_PREFIX}{}", super::password::hex(name.as_bytes()))
}

fn forbidden(reason: &str) -> ApiError {
    ApiError::Forbidden(reason.to_owned())
}

fn roles_of(doc: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    match doc.get("roles") {
        Some(Value::Array(roles)) => roles
            .iter()
            .map(|role| {
                role.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| forbidden("doc.roles can only contain strings"))
            })
            .collect(),
        _ => Err(forbidden("doc.roles must be an array")),
    }
}

/// Checks a user document about to be written by `actor` over `stored`
/// (the current, undeleted document, if any) and rewrites its credentials:
/// a `password` becomes its hash with `iterations` rounds; a document a
/// non-admin writes without one keeps the stored hash, whatever
/// credential members it carries. Returns the user's name.
pub fn prepare(
    doc: &mut Map<String, Value>,
    id: &str,
    actor: &UserCtx,
    stored: Option<&Map<String, Value>>,
    iterations: u32,
) -> Result<String, ApiError> {
    let admin = actor.is_server_admin();
    let stored_name = stored.and_then(|s| s.get("name")).and_then(Value::as_str);
    if doc.get("_deleted") == Some(&Value::Bool(true)) {
        let owner = name_from_id(id).map(str::to_owned).unwrap_or_default();
        if !admin && actor.name.as_deref() != Some(owner.as_str()) {
            return Err(actor.refusal("You may only delete your own user document."));
        }
        return Ok(owner);
    }
    if doc.get("type").and_then(Value::as_str) != Some("user") {
        return Err(forbidden("doc.type must be user"));
    }
    let name = match doc.get("name") {
        Some(Value::String(name)) if !name.is_empty() => name.clone(),
        _ => return Err(forbidden("doc.name is required")),
    };
    if id != format!("{USER_PREFIX}{name}") {
        return Err(forbidden(
            "Doc ID must be of the form org.couchdb.user:name",
        ));
    }
    if name.starts_with('_') {
        return Err(forbidden("Username may not start with underscore."));
    }
    if name.contains(':') {
        return Err(forbidden("Character `:` is not allowed in usernames."));
    }
    let mut roles = roles_of(doc)?;
    if roles.iter().any(|role| role.starts_with('_')) {
        return Err(forbidden(
            "No system roles (starting with underscore) in users db.",
        ));
    }
    if stored_name.is_some_and(|old| old != name) {
        return Err(forbidden("Usernames can not be changed."));
    }
    if !admin {
        match stored {
            Some(stored) => {
                if actor.name.as_deref() != Some(name.as_str()) {
                    return Err(actor.refusal("You may only update your own user document."));
                }
                let mut old = roles_of(stored).unwrap_or_default();
                old.sort();
                roles.sort();
                if old != roles {
                    return Err(forbidden("Only _admin may edit roles"));
                }
            }
            None if !roles.is_empty() => return Err(forbidden("Only _admin may set roles")),
            None => {}
        }
    }
    match doc.remove("password") {
        Some(Value::String(password)) => {
            Credentials::hash(&password, iterations).write_into(doc);
        }
        Some(Value::Null) | None => {
            if !admin {
                for field in CREDENTIAL_FIELDS {
                    doc.remove(field);
                }
                if let Some(creds) = stored.and_then(Credentials::from_doc) {
                    creds.write_into(doc);
                }
            }
        }
        Some(_) => return Err(forbidden("doc.password must be a string")),
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn user(name: &str) -> UserCtx {
        UserCtx {
            name: Some(name.to_owned()),
            roles: Vec::new(),
        }
    }

    const ID: &str = "org.couchdb.user:alice";

    #[test]
    fn sign_up_hashes_the_password_and_refuses_roles() {
        let mut new =
            doc(json!({"_id": ID, "type": "user", "name": "alice", "roles": [], "password": "pw"}));
        let name = prepare(&mut new, ID, &UserCtx::anonymous(), None, 10).expect("sign-up");
        assert_eq!(name, "alice");
        assert!(!new.contains_key("password"));
        let creds = Credentials::from_doc(&new).expect("hashed");
        assert!(creds.verify("pw"));
        let mut greedy =
            doc(json!({"type": "user", "name": "alice", "roles": ["boss"], "password": "pw"}));
        assert_eq!(
            prepare(&mut greedy, ID, &UserCtx::anonymous(), None, 10),
            Err(forbidden("Only _admin may set roles"))
        );
    }

    #[test]
    fn a_user_may_update_their_own_document_but_not_their_roles() {
        let mut stored = doc(json!({"type": "user", "name": "alice", "roles": ["staff"]}));
        Credentials::hash("old", 10).write_into(&mut stored);
        let mut update =
            doc(json!({"type": "user", "name": "alice", "roles": ["staff"], "derived_key": "00"}));
        prepare(&mut update, ID, &user("alice"), Some(&stored), 10).expect("own update");
        assert!(
            Credentials::from_doc(&update).expect("kept").verify("old"),
            "a non-admin cannot set a hash directly"
        );
        let mut raise = doc(json!({"type": "user", "name": "alice", "roles": ["staff", "boss"]}));
        assert_eq!(
            prepare(&mut raise, ID, &user("alice"), Some(&stored), 10),
            Err(forbidden("Only _admin may edit roles"))
        );
        let mut other = doc(json!({"type": "user", "name": "alice", "roles": ["staff"]}));
        assert_eq!(
            prepare(&mut other, ID, &user("mallory"), Some(&stored), 10).map_err(|e| e.name()),
            Err("forbidden")
        );
        assert_eq!(
            prepare(&mut other, ID, &UserCtx::anonymous(), Some(&stored), 10).map_err(|e| e.name()),
            Err("unauthorized")
        );
    }

    #[test]
    fn shapes_and_system_roles_are_refused_even_for_admins() {
        let admin = UserCtx::admin_party();
        for (bad, id) in [
            (json!({"type": "person", "name": "alice", "roles": []}), ID),
            (json!({"type": "user", "name": "bob", "roles": []}), ID),
            (
                json!({"type": "user", "name": "alice", "roles": ["_admin"]}),
                ID,
            ),
            (
                json!({"type": "user", "name": "_x", "roles": []}),
                "org.couchdb.user:_x",
            ),
            (
                json!({"type": "user", "name": "a:b", "roles": []}),
                "org.couchdb.user:a:b",
            ),
            (json!({"type": "user", "name": "alice"}), ID),
        ] {
            let mut bad_doc = doc(bad.clone());
            assert_eq!(
                prepare(&mut bad_doc, id, &admin, None, 10).map_err(|e| e.name()),
                Err("forbidden"),
                "{bad}"
            );
        }
        assert_eq!(user_db_name("Ann"), "userdb-416e6e");
        assert_eq!(name_from_id(ID), Some("alice"));
    }
}
