//! The sync protocol on the server: the hub (one event at a time, group commit), the
//! thread that runs it, the documents it holds in memory.

pub mod blob_service;
pub mod conn_id;
pub(crate) mod connections;
pub mod doc_cache;
pub mod doc_state;
pub mod hub;
pub mod hub_event;
pub mod hub_runner;
#[cfg(test)]
mod hub_tests;
