//! Scenario tests of the client over the memory store and a fake CouchDB: each
//! invariant of the design as a story.

mod attachment_writes;
mod attachments;
mod branches;
mod bulk_writes;
mod device;
mod fake_server;
mod invariants;
mod lost_answers;
mod merge_cases;
mod pipeline;
mod resolution_edges;
mod resolution_flows;
mod revisions;
mod session_steps;
mod strategies;
mod sync_flows;
mod tabs;
mod unreadable_rows;
