//! Attachment operations of the client: put and remove as local writes
//! (bytes stored first, under their digest), and the lookup a read starts
//! from.

use serde_json::Value;

use super::{Client, Environment, Written};
use crate::{
    attachments::{self, AttachmentMeta},
    error::EngineError,
    local,
    model::DocRecord,
    store::LocalStore,
};

impl<S: LocalStore> Client<S> {
    /// Puts `bytes` as attachment `name` of document `id` and queues the
    /// change. The bytes are stored before the record names them, so a tab
    /// closed in between leaves only unnamed bytes, never a record naming
    /// missing ones. With `rev`, the write must be based on the current
    /// version.
    pub async fn put_attachment(
        &self,
        id: &str,
        name: &str,
        content_type: &str,
        bytes: &[u8],
        rev: Option<&str>,
        env: &impl Environment,
    ) -> Result<Written, EngineError> {
        let meta = self.check_attachment(id, name, content_type, bytes)?;
        let rev = rev.map(|text| local::parse_rev(text, id)).transpose()?;
        self.store
            .save_attachment(&meta.digest, content_type, bytes)
            .await?;
        let ctx = self.context(env);
        self.store
            .transact(&[id.to_owned()], |snapshot| {
                let (batch, outcome, events) =
                    local::plan_put_attachment(&snapshot, id, name, &meta, rev.as_ref(), &ctx)?;
                Ok((batch, (outcome, events)))
            })
            .await
    }

    /// Validates an attachment before anything is stored: the document id,
    /// the name, the content type and the size limit.
    fn check_attachment(
        &self,
        id: &str,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<AttachmentMeta, EngineError> {
        local::validate_id(id)?;
        attachments::validate_name(name)?;
        attachments::validate_content_type(content_type)?;
        let length = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        let limit = self.config.max_attachment_bytes;
        if length > limit {
            return Err(EngineError::AttachmentTooLarge {
                id: id.to_owned(),
                name: name.to_owned(),
                size: length,
                limit,
            });
        }
        Ok(AttachmentMeta {
            content_type: content_type.to_owned(),
            digest: attachments::digest_of(bytes),
            length,
        })
    }

    /// Removes attachment `name` of `id` and queues the change.
    pub async fn remove_attachment(
        &self,
        id: &str,
        name: &str,
        rev: Option<&str>,
        env: &impl Environment,
    ) -> Result<Written, EngineError> {
        local::validate_id(id)?;
        let rev = rev.map(|text| local::parse_rev(text, id)).transpose()?;
        let ctx = self.context(env);
        self.store
            .transact(&[id.to_owned()], |snapshot| {
                let (batch, outcome, events) =
                    local::plan_remove_attachment(&snapshot, id, name, rev.as_ref(), &ctx)?;
                Ok((batch, (outcome, events)))
            })
            .await
    }

    /// The document and the entry of its attachment `name` in the version
    /// the app sees: where a read starts (the bytes are in the store under
    /// the entry's digest, or on the server at the document's revision).
    pub async fn attachment(
        &self,
        id: &str,
        name: &str,
    ) -> Result<(DocRecord, Value), EngineError> {
        local::validate_id(id)?;
        let doc = self
            .store
            .get_doc(id)
            .await?
            .filter(|doc| !doc.deleted)
            .ok_or_else(|| EngineError::NotFound(id.to_owned()))?;
        let entry = doc
            .current_attachments()
            .and_then(|set| set.get(name))
            .cloned()
            .ok_or_else(|| EngineError::NotFound(format!("{id}/{name}")))?;
        Ok((doc, entry))
    }

    /// The bytes of `entry` when the store holds them.
    pub async fn stored_bytes(&self, entry: &Value) -> Result<Option<Vec<u8>>, EngineError> {
        let Some(digest) = attachments::digest(entry) else {
            return Ok(None);
        };
        let digest = digest.to_owned();
        let mut found = self
            .store
            .load_attachments(std::slice::from_ref(&digest))
            .await?;
        Ok(found.remove(&digest))
    }
}
