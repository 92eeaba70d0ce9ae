//! Helpers for the authentication tests: a server with an admin, requests
//! with credentials, users, tokens and cookies.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::{header, Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use tidesync_server::config::{AdminSpec, Config, Secret};

use super::TestServer;

/// The server admin every secured test server has.
pub const ADMIN: (&str, &str) = ("admin", "admin-password");
/// The session secret of secured test servers, so tests can forge cookies.
pub const SECRET: &str = "test-secret-of-the-auth-suites";
/// The HS256 key secured test servers accept.
pub const HS256_KEY: &str = "hs256-key-of-the-auth-suites";
/// PBKDF2 rounds in tests: enough to exercise the code, quick in debug builds.
pub const ITERATIONS: u32 = 1000;

/// The credentials a request carries.
#[derive(Debug, Clone, Copy)]
pub enum Cred<'a> {
    /// None at all.
    Anonymous,
    /// HTTP Basic.
    Basic(&'a str, &'a str),
    /// An `AuthSession` cookie value.
    Cookie(&'a str),
    /// A JWT.
    Bearer(&'a str),
}

/// The server admin's credentials.
pub const AS_ADMIN: Cred<'static> = Cred::Basic(ADMIN.0, ADMIN.1);

/// Path of a fixture file.
pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Configures a server with the test admin, secret and keys.
pub fn secure(config: &mut Config) {
    config.admins = vec![AdminSpec {
        name: ADMIN.0.to_owned(),
        password: ADMIN.1.to_owned(),
    }];
    config.secret = Some(Secret(SECRET.to_owned()));
    config.pbkdf2_iterations = ITERATIONS;
    config.jwt_hs256_secret = Some(Secret(HS256_KEY.to_owned()));
    config.jwt_rs256_key = Some(fixture("jwt-test-rs256.pub.pem"));
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A token signed with `alg` by `key` (an HS256 secret or an RSA private
/// key in PEM) carrying `claims`.
pub fn token(alg: Algorithm, key: &[u8], claims: &Value) -> String {
    let key = match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => EncodingKey::from_secret(key),
        _ => EncodingKey::from_rsa_pem(key).expect("an RSA private key"),
    };
    encode(&Header::new(alg), claims, &key).expect("token")
}

/// The test RSA private key whose public half secured servers trust.
pub fn rs256_key() -> Vec<u8> {
    std::fs::read(fixture("jwt-test-rs256.key")).expect("fixture key")
}

impl TestServer {
    /// A server with the test admin (authentication on).
    pub async fn start_secured() -> TestServer {
        TestServer::start_with(secure).await
    }

    /// A request with credentials.
    pub fn request(&self, cred: Cred<'_>, method: Method, path: &str) -> RequestBuilder {
        let request = self.client.request(method, self.url(path));
        match cred {
            Cred::Anonymous => request,
            Cred::Basic(name, password) => request.basic_auth(name, Some(password)),
            Cred::Cookie(value) => request.header(header::COOKIE, format!("AuthSession={value}")),
            Cred::Bearer(token) => request.bearer_auth(token),
        }
    }

    /// A JSON request with credentials: status and JSON body.
    pub async fn call(
        &self,
        cred: Cred<'_>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.request(cred, method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        status_and_json(request.send().await.expect("request sent")).await
    }

    /// A request as the server admin.
    pub async fn as_admin(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call(AS_ADMIN, method, path, body).await
    }

    /// Creates a user through the admin (roles allowed); asserts success.
    pub async fn add_user(&self, name: &str, password: &str, roles: &[&str]) {
        let (status, body) = self
            .as_admin(
                Method::PUT,
                &format!("/_users/org.couchdb.user:{name}"),
                Some(json!({"type": "user", "name": name, "roles": roles, "password": password})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Creates database `db` whose only member is `member`.
    pub async fn add_db_for(&self, db: &str, member: &str) {
        let (status, body) = self.as_admin(Method::PUT, &format!("/{db}"), None).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let security = json!({"admins": {"names": [], "roles": []}, "members": {"names": [member], "roles": []}});
        let (status, body) = self
            .as_admin(Method::PUT, &format!("/{db}/_security"), Some(security))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Signs in by `POST /_session`; the `AuthSession` value.
    pub async fn sign_in(&self, name: &str, password: &str) -> String {
        let response = self
            .client
            .post(self.url("/_session"))
            .json(&json!({"name": name, "password": password}))
            .send()
            .await
            .expect("sign-in sent");
        assert_eq!(response.status(), StatusCode::OK);
        session_cookie(&response).expect("AuthSession cookie")
    }
}

/// Status and JSON body of a response (`null` for an empty body).
pub async fn status_and_json(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// The `AuthSession` value a response sets, if any.
pub fn session_cookie(response: &Response) -> Option<String> {
    set_cookie_line(response).and_then(|line| {
        line.strip_prefix("AuthSession=")
            .and_then(|rest| rest.split(';').next())
            .map(str::to_owned)
    })
}

/// The `Set-Cookie` line of a response, if any.
pub fn set_cookie_line(response: &Response) -> Option<String> {
    response
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
