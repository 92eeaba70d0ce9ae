//! The sync session: a state machine that says what to do next and takes the
//! answers, doing no I/O itself. The edge's driver loops:
//! `step = session.start()`, perform the step, feed the result back.

mod branches;
mod pipeline;
mod pull;
mod pushed;

use std::collections::{HashMap, VecDeque};

use super::{
    answers::{server_issue, transport_issue, unreadable_row_issue},
    plan::{Applied, Plan, PushResult},
    IssueCode, SyncConfig, SyncIssue, SyncReport,
};
use crate::{
    http::{HttpRequest, HttpResponse, Method, TransportError},
    outbox::{MessageState, OutboxMessage},
    protocol::wire::{ChangeRow, Seq},
    Revision,
};

/// What the driver must do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Read up to `limit` outbox messages with `seq` after `after`, then call
    /// [`SyncSession::on_outbox`].
    LoadOutbox {
        /// Exclusive lower bound on `seq`.
        after: Option<u64>,
        /// Most messages to read.
        limit: usize,
    },
    /// Read the bytes of these attachment digests from the store, then call
    /// [`SyncSession::on_attachments`]: the batch about to be pushed carries
    /// attachments added locally, inline.
    LoadAttachments(Vec<String>),
    /// Send the request, then call [`SyncSession::on_response`].
    Send(HttpRequest),
    /// Run the plan in one store transaction, emit its events after commit, then
    /// call [`SyncSession::on_applied`].
    Apply(Plan),
    /// Run the plan (as [`Step::Apply`]) and send the request (as
    /// [`Step::Send`]) at the same time, then call
    /// [`SyncSession::on_applied_and_response`] with both: the next page of a
    /// pull is on its way while the store applies this one, so the network
    /// and the store no longer wait for each other.
    ApplyAndSend(Plan, HttpRequest),
    /// The cycle is over.
    Done(SyncReport),
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    CheckRemote,
    CreateRemote,
    Push(Vec<OutboxMessage>),
    LoadingAttachments(Vec<OutboxMessage>),
    FetchConflicts(Vec<(OutboxMessage, PushResult)>),
    /// A pulled page waiting on the losing leaves of its documents.
    FetchBranches {
        rows: Vec<ChangeRow>,
        last_seq: Seq,
    },
    Settling,
    Pull,
    Finishing,
}

/// One sync cycle: push, then pull.
#[derive(Debug, Clone)]
pub struct SyncSession {
    config: SyncConfig,
    phase: Phase,
    cursor: Option<u64>,
    /// True once this pass over the outbox claimed something: the pass ends
    /// with another from the start, which finds any message written behind
    /// the cursor meanwhile (tabs draw sequence numbers from their clocks).
    pass_claimed: bool,
    one_at_a_time: bool,
    since: Option<Seq>,
    report: SyncReport,
    failed: bool,
    page_len: usize,
    remote_ok: bool,
    /// Messages the last outbox read returned that no batch took yet, in
    /// queue order: the next batches come from here before the outbox is
    /// read again. A claim reads each message again in its transaction, so
    /// one changed meanwhile goes out as it is now.
    unread: VecDeque<OutboxMessage>,
    /// The revisions the server gave this cycle's pushes, by document: the
    /// pull that follows skips these rows (the local records hold them
    /// already) instead of reading each record to find out.
    acked: HashMap<String, Revision>,
    /// The batch claimed while the one before it was being pushed (see
    /// `pipeline`): pushed as soon as that one is settled.
    next_claimed: Vec<OutboxMessage>,
}

impl SyncSession {
    /// A cycle that pulls from `checkpoint` (the stored one, or the beginning).
    /// `remote_known` skips the check that the remote database exists.
    pub fn new(config: SyncConfig, checkpoint: Option<Seq>, remote_known: bool) -> Self {
        let remote_ok = remote_known || !config.create_remote;
        let phase = if !remote_ok {
            Phase::CheckRemote
        } else {
            Phase::Settling
        };
        SyncSession {
            config,
            phase,
            cursor: None,
            pass_claimed: false,
            one_at_a_time: false,
            since: checkpoint,
            report: SyncReport::default(),
            failed: false,
            page_len: 0,
            remote_ok,
            unread: VecDeque::new(),
            acked: HashMap::new(),
            next_claimed: Vec::new(),
        }
    }

    /// The first step.
    pub fn start(&mut self) -> Step {
        match self.phase {
            Phase::CheckRemote => Step::Send(HttpRequest::new(Method::Get, "")),
            _ => self.load_outbox(),
        }
    }

    /// True once the remote database is known to exist (the driver may remember
    /// it for later cycles).
    pub fn remote_ready(&self) -> bool {
        self.remote_ok
    }

    fn load_outbox(&mut self) -> Step {
        self.phase = Phase::Settling;
        if !self.unread.is_empty() {
            let messages = std::mem::take(&mut self.unread);
            return self.pick(messages);
        }
        let limit = if self.one_at_a_time {
            1
        } else {
            self.config.batch_docs.max(1)
        } * 4;
        Step::LoadOutbox {
            after: self.cursor,
            limit,
        }
    }

    /// Picks the next batch from what the outbox holds after the cursor.
    pub fn on_outbox(&mut self, messages: Vec<OutboxMessage>) -> Step {
        self.pick(messages.into())
    }

    /// Picks the next batch from `messages` (read after the cursor, in queue
    /// order), keeping the rest for the batches after it.
    fn pick(&mut self, mut messages: VecDeque<OutboxMessage>) -> Step {
        let scanned = messages.len();
        let batch = self.take_batch(&mut messages, &[]);
        if batch.is_empty() {
            if scanned > 0 {
                return self.load_outbox();
            }
            if std::mem::take(&mut self.pass_claimed) {
                self.cursor = None;
                return self.load_outbox();
            }
            return self.pull();
        }
        self.unread = messages;
        Step::Apply(Plan::Claim(batch))
    }

    /// Takes the next batch off the front of `messages`, moving the cursor
    /// past what it consumed. It stops before a second message of one
    /// document (a later one waits for the earlier one's revision), and
    /// before a message of a document in `busy` (a batch still in flight).
    fn take_batch(
        &mut self,
        messages: &mut VecDeque<OutboxMessage>,
        busy: &[OutboxMessage],
    ) -> Vec<OutboxMessage> {
        let mut batch = Vec::new();
        let mut bytes = 0;
        let max_docs = if self.one_at_a_time {
            1
        } else {
            self.config.batch_docs.max(1)
        };
        while let Some(message) = messages.pop_front() {
            let full = batch.len() >= max_docs
                || (!batch.is_empty() && bytes + message.wire_len() > self.config.batch_bytes);
            let waits = batch
                .iter()
                .chain(busy)
                .any(|m: &OutboxMessage| m.doc_id == message.doc_id);
            if full || waits {
                messages.push_front(message);
                break;
            }
            self.cursor = Some(message.seq);
            // Rejected messages wait for the app. In-flight ones found by a new
            // cycle were cut off (tab closed, crash) and are replayed.
            if message.state == MessageState::Rejected {
                continue;
            }
            bytes += message.wire_len();
            batch.push(message);
        }
        if !batch.is_empty() {
            self.pass_claimed = true;
        }
        batch
    }

    /// Takes the result of a [`Step::Apply`].
    pub fn on_applied(&mut self, applied: &Applied) -> Step {
        self.report.pushed += applied.pushed;
        self.report.pulled += applied.pulled;
        self.report.conflicts += applied.conflicts;
        for (id, reason) in &applied.rejected {
            self.report.errors.push(SyncIssue {
                code: IssueCode::Rejected,
                message: format!("{}: {}", reason.error, reason.reason),
                id: Some(id.clone()),
                status: reason.status,
                retry_after_ms: None,
            });
        }
        match self.phase {
            Phase::Settling if !applied.claimed.is_empty() => self.push(applied.claimed.clone()),
            Phase::Settling if self.failed => self.finish(),
            Phase::Settling if !self.next_claimed.is_empty() => {
                let batch = std::mem::take(&mut self.next_claimed);
                self.push(batch)
            }
            Phase::Settling => self.load_outbox(),
            Phase::Pull if applied.unreadable.is_some() => {
                let issue = unreadable_row_issue(applied.unreadable.clone());
                self.fail(issue, Vec::new())
            }
            Phase::Pull => {
                if self.page_len < self.config.pull_page {
                    self.finish()
                } else {
                    self.pull()
                }
            }
            _ => self.finish(),
        }
    }

    /// Takes the results of a [`Step::ApplyAndSend`]: the plan's, as
    /// [`on_applied`](Self::on_applied) would, then the answer, as
    /// [`on_response`](Self::on_response) would, unless the cycle ended
    /// meanwhile (the answer is then dropped).
    pub fn on_applied_and_response(
        &mut self,
        applied: &Applied,
        response: Result<HttpResponse, TransportError>,
    ) -> Step {
        if matches!(self.phase, Phase::Push(_)) {
            // The next batch was claimed while this one was pushed.
            return self.on_claimed_during_push(applied, response);
        }
        match self.on_applied(applied) {
            // The request the session asks for now is the one already sent.
            Step::Send(_) => self.on_response(response),
            other => other,
        }
    }

    fn finish(&mut self) -> Step {
        self.phase = Phase::Finishing;
        Step::Done(std::mem::take(&mut self.report))
    }

    /// Records the failure that ends the cycle; `retry` settles what was in flight.
    fn fail(&mut self, issue: SyncIssue, retry: Vec<OutboxMessage>) -> Step {
        self.report.errors.push(issue.clone());
        self.failed = true;
        let unsent = std::mem::take(&mut self.next_claimed);
        if retry.is_empty() && unsent.is_empty() {
            return self.finish();
        }
        self.phase = Phase::Settling;
        // A batch claimed behind the failed one goes back to the queue too.
        let results = retry
            .into_iter()
            .map(|m| (m, PushResult::Retry(issue.message.clone())))
            .chain(unsent.into_iter().map(|m| (m, PushResult::Unsent)))
            .collect();
        Step::Apply(Plan::Settle(results))
    }

    /// Takes the answer to a [`Step::Send`].
    pub fn on_response(&mut self, response: Result<HttpResponse, TransportError>) -> Step {
        let phase = std::mem::replace(&mut self.phase, Phase::Finishing);
        if matches!(&response, Ok(r) if r.status == 404) && !matches!(phase, Phase::CheckRemote) {
            // The database went away (deleted on the server): check again next cycle.
            self.remote_ok = false;
        }
        let in_flight = match &phase {
            Phase::Push(batch) | Phase::LoadingAttachments(batch) => batch.clone(),
            Phase::FetchConflicts(results) => results.iter().map(|(m, _)| m.clone()).collect(),
            _ => Vec::new(),
        };
        let response = match response {
            Ok(response) => response,
            Err(error) => return self.fail(transport_issue(&error), in_flight),
        };
        match phase {
            Phase::CheckRemote => match response.status {
                200 => {
                    self.remote_ok = true;
                    self.load_outbox()
                }
                404 => {
                    self.phase = Phase::CreateRemote;
                    Step::Send(HttpRequest::new(Method::Put, ""))
                }
                _ => self.fail(server_issue(&response), in_flight),
            },
            Phase::CreateRemote => match response.status {
                201 | 202 | 412 => {
                    self.remote_ok = true;
                    self.load_outbox()
                }
                _ => self.fail(server_issue(&response), in_flight),
            },
            Phase::Push(batch) => self.on_pushed(batch, response),
            Phase::FetchConflicts(results) => self.on_fetched(results, response),
            Phase::FetchBranches { rows, last_seq } => self.on_branches(rows, last_seq, response),
            Phase::Pull => self.on_changes(response),
            Phase::Settling | Phase::Finishing | Phase::LoadingAttachments(_) => self.finish(),
        }
    }
}
