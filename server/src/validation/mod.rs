//! What the server checks after it merged changes (post-sync validation), the one-time
//! effects it performs, and what the command line shows of them.

pub mod notifications;
pub mod order_check;
pub mod policy;
