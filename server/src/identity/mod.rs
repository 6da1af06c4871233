//! Who is on the other end: users, passwords, tokens, devices, sessions, login limits.

pub mod account_error;
pub mod accounts;
pub mod login_limiter;
pub mod password;
pub mod session;
pub mod token;
pub mod user_info;
pub mod verifier_pool;
