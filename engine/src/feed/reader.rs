//! Reading a feed's bytes: newline-delimited rows (`continuous`) or one
//! changes response behind heartbeat newlines (`longpoll`).

use serde::Deserialize;

use crate::protocol::wire::{ChangesResponse, RevRef, Seq};

use super::FeedTransport;

/// What a feed said.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedEvent {
    /// A document changed at `seq`; `revs` are its leaves.
    Change {
        /// The document.
        id: String,
        /// Its leaf revisions after the change.
        revs: Vec<String>,
        /// Where a feed reopened after this row resumes.
        seq: Seq,
    },
    /// The server is alive and has nothing new.
    Heartbeat,
    /// The server ended the feed (its timeout); reopen from `last_seq`.
    Ended {
        /// Where to resume.
        last_seq: Seq,
    },
}

/// One line of a `continuous` feed: a change row or the closing `last_seq`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Line {
    Row {
        seq: Seq,
        id: String,
        changes: Vec<RevRef>,
    },
    End {
        last_seq: Seq,
    },
}

/// Turns a feed's text, as it arrives in chunks, into events. A chunk may end
/// in the middle of a line (or of a character, which the edge's decoder
/// holds back): the rest waits for the next chunk.
#[derive(Debug)]
pub struct FeedReader {
    transport: FeedTransport,
    pending: String,
}

/// A feed said something that is not a changes feed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the changes feed sent something unreadable: {0}")]
pub struct FeedSyntaxError(pub String);

impl FeedReader {
    /// A reader for a feed opened as `transport`.
    pub fn new(transport: FeedTransport) -> Self {
        FeedReader {
            transport,
            pending: String::new(),
        }
    }

    /// Reads the next chunk. A `longpoll` answer is read whole at
    /// [`finish`](Self::finish); its chunks before then are heartbeats.
    pub fn push(&mut self, chunk: &str) -> Result<Vec<FeedEvent>, FeedSyntaxError> {
        self.pending.push_str(chunk);
        if self.transport == FeedTransport::Longpoll {
            return Ok(if self.pending.trim().is_empty() && !chunk.is_empty() {
                vec![FeedEvent::Heartbeat]
            } else {
                Vec::new()
            });
        }
        let mut events = Vec::new();
        while let Some(end) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=end).collect();
            events.push(read_line(line.trim())?);
        }
        Ok(events)
    }

    /// The feed's response ended: what its last bytes said.
    pub fn finish(&mut self) -> Result<Vec<FeedEvent>, FeedSyntaxError> {
        let rest = std::mem::take(&mut self.pending);
        let rest = rest.trim();
        if rest.is_empty() {
            return Ok(Vec::new());
        }
        if self.transport != FeedTransport::Longpoll {
            return read_line(rest).map(|event| vec![event]);
        }
        let page: ChangesResponse =
            serde_json::from_str(rest).map_err(|e| FeedSyntaxError(e.to_string()))?;
        let mut events: Vec<FeedEvent> = page
            .results
            .into_iter()
            .map(|row| FeedEvent::Change {
                id: row.id,
                revs: row.changes.into_iter().map(|c| c.rev.to_string()).collect(),
                seq: row.seq,
            })
            .collect();
        events.push(FeedEvent::Ended {
            last_seq: page.last_seq,
        });
        Ok(events)
    }
}

fn read_line(line: &str) -> Result<FeedEvent, FeedSyntaxError> {
    if line.is_empty() {
        return Ok(FeedEvent::Heartbeat);
    }
    match serde_json::from_str::<Line>(line) {
        Ok(Line::Row { seq, id, changes }) => Ok(FeedEvent::Change {
            id,
            revs: changes.into_iter().map(|c| c.rev.to_string()).collect(),
            seq,
        }),
        Ok(Line::End { last_seq }) => Ok(FeedEvent::Ended { last_seq }),
        Err(error) => Err(FeedSyntaxError(format!("{error}: {line:.80}"))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn change(id: &str, rev: &str, seq: u64) -> FeedEvent {
        FeedEvent::Change {
            id: id.into(),
            revs: vec![rev.into()],
            seq: Seq(json!(seq)),
        }
    }

    #[test]
    fn a_continuous_feed_is_read_line_by_line_across_chunks() {
        let mut reader = FeedReader::new(FeedTransport::Stream);
        let row = r#"{"seq":3,"id":"a","changes":[{"rev":"1-ab"}]}"#;
        let (head, tail) = row.split_at(17);
        assert_eq!(reader.push("\n"), Ok(vec![FeedEvent::Heartbeat]));
        assert_eq!(reader.push(head), Ok(vec![]), "half a row waits");
        assert_eq!(
            reader.push(&format!("{tail}\n\n")),
            Ok(vec![change("a", "1-ab", 3), FeedEvent::Heartbeat])
        );
        assert_eq!(
            reader.push("{\"last_seq\":\"4-x\",\"pending\":0}\n"),
            Ok(vec![FeedEvent::Ended {
                last_seq: Seq(json!("4-x"))
            }])
        );
        assert_eq!(reader.finish(), Ok(vec![]));
    }

    #[test]
    fn a_longpoll_answer_is_read_when_it_ends() {
        let mut reader = FeedReader::new(FeedTransport::Longpoll);
        assert_eq!(reader.push("\n"), Ok(vec![FeedEvent::Heartbeat]));
        let body = r#"{"results":[{"seq":5,"id":"b","changes":[{"rev":"2-cd"}]}],"last_seq":5,"pending":0}"#;
        assert_eq!(reader.push(body), Ok(vec![]));
        assert_eq!(
            reader.finish(),
            Ok(vec![
                change("b", "2-cd", 5),
                FeedEvent::Ended {
                    last_seq: Seq(json!(5))
                }
            ])
        );
    }

    #[test]
    fn what_is_not_a_feed_is_an_error_not_a_change() {
        let mut reader = FeedReader::new(FeedTransport::Stream);
        assert!(reader.push("<html>\n").is_err());
        let mut reader = FeedReader::new(FeedTransport::Stream);
        assert!(
            reader.push("{\"id\":\"a\"}\n").is_err(),
            "a row without seq"
        );
        let mut reader = FeedReader::new(FeedTransport::Longpoll);
        reader.push("{\"results\":").expect("push");
        assert!(reader.finish().is_err(), "a cut answer");
    }
}
