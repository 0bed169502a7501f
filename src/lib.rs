//! crm-bulk: bulk import and export between spreadsheets and CRM for Jira.
//!
//! The pipeline reads a spreadsheet ([`read`]), maps its headers to attribute codes
//! ([`map`]), validates every row ([`validate`]), plans one action per row ([`plan`]),
//! sends the writes through the rate-limited [`client`] ([`execute`]), and writes a per-row
//! report ([`report`]). [`export`] writes tables back out. [`sandbox`] is a faithful local
//! server of the CRM API that users rehearse on and every test runs against.
//!
//! `main.rs` only parses arguments and maps the outcome to an exit code; the subcommands
//! live in [`cmd`], one module each.

pub mod atomic;
pub mod cli;
pub mod client;
pub mod cmd;
pub mod execute;
pub mod exit;
pub mod export;
pub mod job;
pub mod journal;
pub mod map;
pub mod plan;
pub mod preflight;
pub mod progress;
pub mod read;
pub mod report;
pub mod sandbox;
pub mod schema;
pub mod secret;
pub mod summary;
pub mod validate;
