//! A database's `_security` object and what it lets a user do.
//!
//! As in CouchDB: db admins (by name or role) may change `_security` and
//! design documents; members may read and write documents; a database whose
//! members list neither names nor roles is open to everyone, anonymous
//! callers included. A database with no stored object is for server admins
//! only (CouchDB 3's `default_security = admin_only`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::UserCtx;
use crate::error::ApiError;

/// The role every server admin holds.
pub const ADMIN_ROLE: &str = "_admin";

/// Names and roles of one group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// User names.
    #[serde(default)]
    pub names: Vec<String>,
    /// Roles, any of which admits its holder.
    #[serde(default)]
    pub roles: Vec<String>,
}

impl Group {
    fn is_empty(&self) -> bool {
        self.names.is_empty() && self.roles.is_empty()
    }

    fn admits(&self, user: &UserCtx) -> bool {
        user.name
            .as_ref()
            .is_some_and(|name| self.names.contains(name))
            || user.roles.iter().any(|role| self.roles.contains(role))
    }
}

/// A database's `_security` object; members other than `admins` and
/// `members` are kept and served back as they were stored, as CouchDB does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Security {
    /// Who may administer the database.
    #[serde(default)]
    pub admins: Group,
    /// Who may read and write its documents.
    #[serde(default)]
    pub members: Group,
    /// Anything else the object holds.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Security {
    /// What a database without a stored object behaves as: server admins only.
    pub fn admin_only() -> Security {
        let admins = || Group {
            names: Vec::new(),
            roles: vec![ADMIN_ROLE.to_owned()],
        };
        Security {
            admins: admins(),
            members: admins(),
            other: Map::new(),
        }
    }

    /// A database administered by and open to one user (a per-user database).
    pub fn owned_by(name: &str) -> Security {
        let owner = || Group {
            names: vec![name.to_owned()],
            roles: Vec::new(),
        };
        Security {
            admins: owner(),
            members: owner(),
            other: Map::new(),
        }
    }

    /// Parses a `PUT /{db}/_security` body, refusing lists that are not
    /// lists of strings.
    pub fn from_json(value: Value) -> Result<Security, ApiError> {
        if !value.is_object() {
            return Err(ApiError::BadRequest(
                "the security object must be a JSON object".to_owned(),
            ));
        }
        serde_json::from_value(value).map_err(|err| {
            ApiError::BadRequest(format!(
                "admins and members must hold names and roles as lists of strings: {err}"
            ))
        })
    }

    /// Whether `user` administers the database.
    pub fn is_admin(&self, user: &UserCtx) -> bool {
        user.is_server_admin() || self.admins.admits(user)
    }

    /// Whether `user` may read and write its documents.
    pub fn is_member(&self, user: &UserCtx) -> bool {
        self.is_admin(user) || self.members.is_empty() || self.members.admits(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(name: &str, roles: &[&str]) -> UserCtx {
        UserCtx {
            name: Some(name.to_owned()),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    #[test]
    fn members_by_name_or_role_admins_by_either_and_server_admins_always() {
        let security = Security::from_json(json!({
            "admins": {"names": ["boss"], "roles": ["ops"]},
            "members": {"names": ["alice"], "roles": ["staff"]},
            "note": "kept"
        }))
        .expect("valid");
        assert!(security.is_member(&user("alice", &[])));
        assert!(security.is_member(&user("bob", &["staff"])));
        assert!(!security.is_member(&user("eve", &["other"])));
        assert!(!security.is_member(&UserCtx::anonymous()));
        assert!(security.is_admin(&user("boss", &[])));
        assert!(security.is_admin(&user("x", &["ops"])));
        assert!(!security.is_admin(&user("alice", &[])));
        assert!(security.is_admin(&user("root", &[ADMIN_ROLE])));
        assert_eq!(security.other["note"], "kept");
    }

    #[test]
    fn no_members_is_public_and_no_object_is_admins_only() {
        let public = Security::from_json(json!({"admins": {"names": ["boss"]}})).expect("valid");
        assert!(public.is_member(&UserCtx::anonymous()));
        assert!(!public.is_admin(&UserCtx::anonymous()));
        let default = Security::admin_only();
        assert!(!default.is_member(&user("alice", &[])));
        assert!(default.is_member(&user("root", &[ADMIN_ROLE])));
    }

    #[test]
    fn malformed_objects_are_refused() {
        for bad in [
            json!([]),
            json!({"members": {"names": "alice"}}),
            json!({"admins": {"roles": [1]}}),
        ] {
            assert_eq!(
                Security::from_json(bad.clone()).map_err(|e| e.name()),
                Err("bad_request"),
                "{bad}"
            );
        }
    }
}
