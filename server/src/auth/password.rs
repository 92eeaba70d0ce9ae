//! Stored passwords as CouchDB 3 stores them: PBKDF2-HMAC-SHA256 over the
//! password with a random salt, kept as `password_scheme: "pbkdf2"`,
//! `pbkdf2_prf: "sha256"`, `iterations`, `salt` and `derived_key` (hex).

use rand::RngCore;
use serde_json::{Map, Value};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Bytes of a derived key: one SHA-256 output, as CouchDB derives.
const DERIVED_KEY_BYTES: usize = 32;

/// Stored hashes with more rounds than this are not verified: a user
/// document written by an admin could otherwise make each sign-in burn
/// minutes of CPU.
pub const MAX_ITERATIONS: u32 = 10_000_000;

/// The members of a user document that hold its credentials.
pub const CREDENTIAL_FIELDS: [&str; 5] = [
    "password_scheme",
    "pbkdf2_prf",
    "iterations",
    "salt",
    "derived_key",
];

/// A password's salted hash.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The salt as stored (32 hex digits), used as bytes.
    pub salt: String,
    /// PBKDF2 rounds.
    pub iterations: u32,
    /// The derived key, raw.
    pub derived_key: Vec<u8>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Hashes `password` with a fresh random salt.
    pub fn hash(password: &str, iterations: u32) -> Credentials {
        Credentials::hash_with_salt(password, random_hex(16), iterations)
    }

    /// Hashes `password` with a given salt (for admins from the command
    /// line, whose salt derives from the server secret so it is stable).
    pub fn hash_with_salt(password: &str, salt: String, iterations: u32) -> Credentials {
        let derived_key = derive(password, &salt, iterations);
        Credentials {
            salt,
            iterations,
            derived_key,
        }
    }

    /// Whether `password` is the one hashed, compared in constant time.
    pub fn verify(&self, password: &str) -> bool {
        if self.iterations == 0 || self.iterations > MAX_ITERATIONS {
            return false;
        }
        let candidate = derive(password, &self.salt, self.iterations);
        candidate.ct_eq(&self.derived_key).into()
    }

    /// Reads the credential members of a user document; `None` when absent
    /// or in a scheme this server does not verify (CouchDB's older
    /// `simple` and PBKDF2-SHA1 hashes).
    pub fn from_doc(doc: &Map<String, Value>) -> Option<Credentials> {
        let scheme = doc.get("password_scheme")?.as_str()?;
        let prf = doc.get("pbkdf2_prf")?.as_str()?;
        if scheme != "pbkdf2" || prf != "sha256" {
            return None;
        }
        let iterations = u32::try_from(doc.get("iterations")?.as_u64()?).ok()?;
        let salt = doc.get("salt")?.as_str()?.to_owned();
        let derived_key = unhex(doc.get("derived_key")?.as_str()?)?;
        Some(Credentials {
            salt,
            iterations,
            derived_key,
        })
    }

    /// Writes the credential members into a user document.
    pub fn write_into(&self, doc: &mut Map<String, Value>) {
        doc.insert("password_scheme".into(), Value::from("pbkdf2"));
        doc.insert("pbkdf2_prf".into(), Value::from("sha256"));
        doc.insert("iterations".into(), Value::from(self.iterations));
        doc.insert("salt".into(), Value::from(self.salt.clone()));
        doc.insert("derived_key".into(), Value::from(hex(&self.derived_key)));
    }
}

fn derive(password: &str, salt: &str, iterations: u32) -> Vec<u8> {
    let mut out = vec![0u8; DERIVED_KEY_BYTES];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut out);
    out
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

/// The bytes of a hex string, or `None` if it is not one.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only_and_round_trips_through_a_doc() {
        let creds = Credentials::hash("s3cret", 1000);
        assert!(creds.verify("s3cret"));
        assert!(!creds.verify("s3creT"));
        let mut doc = Map::new();
        creds.write_into(&mut doc);
        assert_eq!(doc["password_scheme"], "pbkdf2");
        assert_eq!(doc["pbkdf2_prf"], "sha256");
        assert_eq!(doc["derived_key"].as_str().map(str::len), Some(64));
        assert_eq!(Credentials::from_doc(&doc), Some(creds));
        doc.insert("pbkdf2_prf".into(), Value::from("sha"));
        assert_eq!(Credentials::from_doc(&doc), None);
    }

    #[test]
    fn absurd_round_counts_are_not_verified() {
        let mut creds = Credentials::hash("pw", 1);
        creds.iterations = MAX_ITERATIONS + 1;
        assert!(!creds.verify("pw"));
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
        assert_eq!(unhex("000fff"), Some(vec![0, 15, 255]));
        assert_eq!(unhex("0g"), None);
        assert_eq!(unhex("abc"), None);
    }
}
