//! JWT bearer tokens (`Authorization: Bearer ...`), as CouchDB's
//! `jwt_authentication_handler` reads them: `sub` is the user name, the
//! roles come from a configurable claim (CouchDB's `_couchdb.roles` by
//! default), and `exp` and `nbf` are honoured. Only the algorithms with a
//! configured key are accepted; `alg: none` never is.

use std::path::Path;

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::UserCtx;
use crate::error::ApiError;

/// Why the JWT configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum JwtConfigError {
    /// The RS256 key file could not be read.
    #[error("cannot read JWT key {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file holds no RSA public key in PEM form.
    #[error("JWT key {path} is not an RSA public key in PEM form: {source}")]
    Key {
        /// The file.
        path: String,
        /// Why.
        source: jsonwebtoken::errors::Error,
    },
}

/// The keys that bearer tokens may be signed with.
pub struct JwtVerifier {
    hs256: Option<DecodingKey>,
    rs256: Option<DecodingKey>,
    roles_claim: String,
}

impl JwtVerifier {
    /// A verifier for the configured keys; `None` when no key is configured
    /// (bearer tokens are then refused).
    pub fn load(
        hs256_secret: Option<&str>,
        rs256_key: Option<&Path>,
        roles_claim: &str,
    ) -> Result<Option<JwtVerifier>, JwtConfigError> {
        let hs256 = hs256_secret.map(|secret| DecodingKey::from_secret(secret.as_bytes()));
        let rs256 = match rs256_key {
            None => None,
            Some(path) => {
                let shown = path.display().to_string();
                let pem = std::fs::read(path).map_err(|source| JwtConfigError::Read {
                    path: shown.clone(),
                    source,
                })?;
                Some(
                    DecodingKey::from_rsa_pem(&pem).map_err(|source| JwtConfigError::Key {
                        path: shown,
                        source,
                    })?,
                )
            }
        };
        if hs256.is_none() && rs256.is_none() {
            return Ok(None);
        }
        Ok(Some(JwtVerifier {
            hs256,
            rs256,
            roles_claim: roles_claim.to_owned(),
        }))
    }

    /// The user a token names, or 401 when it is malformed, signed with an
    /// algorithm or key not configured, expired or not yet valid.
    pub fn verify(&self, token: &str) -> Result<UserCtx, ApiError> {
        let refused = |why: &str| ApiError::Unauthorized(format!("JWT refused: {why}"));
        let header = decode_header(token).map_err(|_| refused("malformed token"))?;
        let key = match header.alg {
            Algorithm::HS256 => self.hs256.as_ref(),
            Algorithm::RS256 => self.rs256.as_ref(),
            _ => None,
        }
        .ok_or_else(|| refused("algorithm not accepted"))?;
        let mut validation = Validation::new(header.alg);
        validation.set_required_spec_claims(&["sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let data = decode::<Map<String, Value>>(token, key, &validation).map_err(|err| {
            use jsonwebtoken::errors::ErrorKind;
            match err.kind() {
                ErrorKind::ExpiredSignature => refused("expired"),
                ErrorKind::ImmatureSignature => refused("not yet valid"),
                ErrorKind::InvalidSignature => refused("bad signature"),
                _ => refused("invalid token"),
            }
        })?;
        let claims = data.claims;
        let name = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|sub| !sub.is_empty())
            .ok_or_else(|| refused("`sub` must name the user"))?
            .to_owned();
        let roles = roles_from(&claims, &self.roles_claim)
            .ok_or_else(|| refused("the roles claim must be a list of strings"))?;
        Ok(UserCtx {
            name: Some(name),
            roles,
        })
    }
}

/// The roles claim: a top-level claim of that exact name (CouchDB's
/// default is literally `_couchdb.roles`), else the dotted path through
/// nested objects; absent means no roles.
fn roles_from(claims: &Map<String, Value>, claim: &str) -> Option<Vec<String>> {
    let found = claims.get(claim).or_else(|| {
        let mut parts = claim.split('.');
        let first = claims.get(parts.next()?)?;
        parts.try_fold(first, |value, part| value.get(part))
    });
    match found {
        None => Some(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect(),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roles_by_literal_name_or_path() {
        let claims = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert_eq!(
            roles_from(&claims(json!({"_couchdb.roles": ["a"]})), "_couchdb.roles"),
            Some(vec!["a".to_owned()])
        );
        assert_eq!(
            roles_from(&claims(json!({"app": {"roles": ["b"]}})), "app.roles"),
            Some(vec!["b".to_owned()])
        );
        assert_eq!(roles_from(&claims(json!({})), "roles"), Some(Vec::new()));
        assert_eq!(roles_from(&claims(json!({"roles": "a"})), "roles"), None);
    }
}
