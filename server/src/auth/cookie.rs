//! `AuthSession` cookies, shaped as CouchDB's: base64url (no padding) of
//! `NAME:HEXTIME:MAC`, where MAC is HMAC-SHA256 of `NAME:HEXTIME` keyed by
//! the server secret followed by the user's password salt. A new password
//! means a new salt, so it ends every session of the old one; the secret
//! is kept in the data directory, so sessions outlive restarts.

use axum::http::{header, HeaderMap, HeaderValue};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use cookie::{time::Duration, Cookie};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::SameSite;

/// The cookie's name, CouchDB's.
pub const COOKIE_NAME: &str = "AuthSession";

/// How the cookie is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieSettings {
    /// Lifetime in seconds (`Max-Age`, and how long a value verifies).
    pub timeout: u64,
    /// `SameSite` attribute.
    pub same_site: SameSite,
    /// Whether to add `Secure`.
    pub secure: bool,
}

/// A cookie value taken apart, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCookie {
    /// Whose session it claims to be.
    pub name: String,
    /// When it was issued, in seconds since the epoch.
    pub issued: u64,
    mac: Vec<u8>,
}

fn keyed(secret: &str, salt: &str, name: &str, issued: u64) -> Hmac<Sha256> {
    let mut key = Vec::with_capacity(secret.len() + salt.len());
    key.extend_from_slice(secret.as_bytes());
    key.extend_from_slice(salt.as_bytes());
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(format!("{name}:{issued:X}").as_bytes());
    mac
}

/// A fresh cookie value for `name` issued at `issued`.
pub fn issue(secret: &str, salt: &str, name: &str, issued: u64) -> String {
    let tag = keyed(secret, salt, name, issued).finalize().into_bytes();
    let mut raw = format!("{name}:{issued:X}:").into_bytes();
    raw.extend_from_slice(&tag);
    URL_SAFE_NO_PAD.encode(raw)
}

impl SessionCookie {
    /// Takes a cookie value apart; `None` if it is not shaped as one.
    pub fn parse(value: &str) -> Option<SessionCookie> {
        let raw = URL_SAFE_NO_PAD.decode(value.trim_end_matches('=')).ok()?;
        let mut parts = raw.splitn(3, |b| *b == b':');
        let name = String::from_utf8(parts.next()?.to_vec()).ok()?;
        let time = std::str::from_utf8(parts.next()?).ok()?;
        let issued = u64::from_str_radix(time, 16).ok()?;
        let mac = parts.next()?.to_vec();
        if name.is_empty() {
            return None;
        }
        Some(SessionCookie { name, issued, mac })
    }

    /// Whether the MAC is right for this secret and salt (in constant time).
    pub fn verifies(&self, secret: &str, salt: &str) -> bool {
        keyed(secret, salt, &self.name, self.issued)
            .verify_slice(&self.mac)
            .is_ok()
    }
}

/// The `AuthSession` value among the request's cookies.
pub fn from_headers(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == COOKIE_NAME)
        .map(|cookie| cookie.value_trimmed().to_owned())
        .filter(|value| !value.is_empty())
}

/// `Set-Cookie` for a session value.
pub fn set_cookie(value: &str, settings: CookieSettings) -> HeaderValue {
    cookie_line(value, settings.timeout, settings)
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(settings: CookieSettings) -> HeaderValue {
    cookie_line("", 0, settings)
}

fn cookie_line(value: &str, max_age: u64, settings: CookieSettings) -> HeaderValue {
    let same_site = match settings.same_site {
        SameSite::Lax => cookie::SameSite::Lax,
        SameSite::Strict => cookie::SameSite::Strict,
        SameSite::None => cookie::SameSite::None,
    };
    let line = Cookie::build((COOKIE_NAME, value.to_owned()))
        .path("/")
        .max_age(Duration::seconds(
            i64::try_from(max_age).unwrap_or(i64::MAX),
        ))
        .http_only(true)
        .same_site(same_site)
        .secure(settings.secure || settings.same_site == SameSite::None)
        .build()
        .to_string();
    // Base64url values and the fixed attributes are always valid header text.
    HeaderValue::from_str(&line).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_cookie_verifies_with_its_secret_and_salt_only() {
        let value = issue("secret", "salt", "alice", 0x6000_0000);
        let parsed = SessionCookie::parse(&value).expect("parses");
        assert_eq!(parsed.name, "alice");
        assert_eq!(parsed.issued, 0x6000_0000);
        assert!(parsed.verifies("secret", "salt"));
        assert!(!parsed.verifies("secret", "other-salt"));
        assert!(!parsed.verifies("other", "salt"));
        let forged = URL_SAFE_NO_PAD.encode(b"bob:60000000:whatever");
        let forged = SessionCookie::parse(&forged).expect("shaped");
        assert!(!forged.verifies("secret", "salt"));
        assert_eq!(SessionCookie::parse("!!"), None);
    }

    #[test]
    fn the_cookie_is_found_among_others_and_set_with_its_attributes() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; AuthSession=abc; b=2"),
        );
        assert_eq!(from_headers(&headers).as_deref(), Some("abc"));
        let settings = CookieSettings {
            timeout: 600,
            same_site: SameSite::Lax,
            secure: false,
        };
        let line = set_cookie("abc", settings);
        assert_eq!(
            line,
            "AuthSession=abc; HttpOnly; SameSite=Lax; Path=/; Max-Age=600"
        );
        let none = CookieSettings {
            same_site: SameSite::None,
            ..settings
        };
        let cleared = clear_cookie(none);
        let cleared = cleared.to_str().unwrap_or("");
        assert!(
            cleared.contains("SameSite=None")
                && cleared.contains("Secure")
                && cleared.contains("Max-Age=0"),
            "{cleared}"
        );
    }
}
