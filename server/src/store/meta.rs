//! Server-wide values kept in the `meta` table.

use rand::RngCore;
use rusqlite::{params, OptionalExtension};

use super::{Store, StoreResult};

/// The `meta` key of the session secret.
const SECRET_KEY: &str = "session_secret";

impl Store {
    /// The secret that signs session cookies: the stored one, or a new
    /// random one stored now, so that sessions outlive a restart.
    pub async fn session_secret(&self) -> StoreResult<String> {
        self.write(|tx| {
            let stored: Option<String> = tx
                .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
                .query_row([SECRET_KEY], |row| row.get(0))
                .optional()?;
            if let Some(secret) = stored {
                return Ok(secret);
            }
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            let secret = crate::auth::password::hex(&bytes);
            tx.prepare_cached("INSERT INTO meta (key, value) VALUES (?1, ?2)")?
                .execute(params![SECRET_KEY, secret])?;
            Ok(secret)
        })
        .await
    }
}
