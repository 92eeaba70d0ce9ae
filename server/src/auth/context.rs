//! Who a request comes from, as the routes see it: the caller's `userCtx`,
//! how they authenticated, and their address (for sign-in limits).

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};

use super::security::ADMIN_ROLE;
use crate::error::ApiError;

/// The caller of a request, as CouchDB's `userCtx`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserCtx {
    /// The user name; `None` for an anonymous caller.
    pub name: Option<String>,
    /// The user's roles; server admins hold `_admin`.
    pub roles: Vec<String>,
}

impl UserCtx {
    /// A caller without credentials.
    pub fn anonymous() -> UserCtx {
        UserCtx {
            name: None,
            roles: Vec::new(),
        }
    }

    /// Every caller of a server without admins.
    pub fn admin_party() -> UserCtx {
        UserCtx {
            name: None,
            roles: vec![ADMIN_ROLE.to_owned()],
        }
    }

    /// Whether the caller is a server admin.
    pub fn is_server_admin(&self) -> bool {
        self.roles.iter().any(|role| role == ADMIN_ROLE)
    }

    /// Whether the caller gave no (valid) credentials.
    pub fn is_anonymous(&self) -> bool {
        self.name.is_none() && !self.is_server_admin()
    }

    /// 401 for an anonymous caller, else 403, with the same reason.
    pub fn refusal(&self, reason: &str) -> ApiError {
        if self.is_anonymous() {
            ApiError::Unauthorized(reason.to_owned())
        } else {
            ApiError::Forbidden(reason.to_owned())
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for UserCtx {
    type Rejection = std::convert::Infallible;

    /// The caller [`authenticate`] found; anonymous if it did not run.
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<UserCtx>()
            .cloned()
            .unwrap_or_else(UserCtx::anonymous))
    }
}

/// Which handler authenticated the request (`GET /_session`'s
/// `info.authenticated`): `default` (Basic), `cookie` or `jwt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthenticatedBy(pub Option<&'static str>);

/// The client's address, when the request came over TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}
