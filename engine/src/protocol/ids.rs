//! Identifier rules for documents and databases, as CouchDB enforces them.

use thiserror::Error;

/// Why an identifier is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    /// Document ids must be non-empty strings.
    #[error("Document id must not be empty")]
    EmptyDocId,
    /// Ids starting with `_` are reserved, except `_design/` and `_local/`.
    #[error("Only reserved document ids may start with underscore.")]
    ReservedDocId,
    /// Database names follow `^[a-z][a-z0-9_$()+/-]*$`, at most 238 characters.
    #[error("Name: '{0}'. Only lowercase characters (a-z), digits (0-9), and any of the characters _, $, (, ), +, -, and / are allowed. Must begin with a letter.")]
    IllegalDbName(String),
}

/// Checks a document id the way CouchDB does for ordinary writes.
pub fn validate_doc_id(id: &str) -> Result<(), IdError> {
    if id.is_empty() {
        return Err(IdError::EmptyDocId);
    }
    if id.starts_with('_') && !(id.starts_with("_design/") || id.starts_with("_local/")) {
        return Err(IdError::ReservedDocId);
    }
    Ok(())
}

/// Checks a database name against CouchDB's rule.
pub fn validate_db_name(name: &str) -> Result<(), IdError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_$()+-/".contains(c));
    if first_ok && rest_ok && name.len() <= 238 {
        Ok(())
    } else {
        Err(IdError::IllegalDbName(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_ids() {
        assert!(validate_doc_id("car-1").is_ok());
        assert!(validate_doc_id("_design/x").is_ok());
        assert!(validate_doc_id("_local/x").is_ok());
        assert_eq!(validate_doc_id(""), Err(IdError::EmptyDocId));
        assert_eq!(validate_doc_id("_foo"), Err(IdError::ReservedDocId));
    }

    #[test]
    fn db_names() {
        for ok in ["agsync", "a", "cars_2024", "a$()+-/b"] {
            assert!(validate_db_name(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(239);
        for bad in [
            "",
            "Agsync",
            "1db",
            "_users",
            "db name",
            "db.x",
            long.as_str(),
        ] {
            assert!(validate_db_name(bad).is_err(), "{bad}");
        }
    }
}
