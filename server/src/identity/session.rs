//! Who is on the other end of an authenticated connection.

use protocol::Role;
use protocol::rules::Principal;
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub role: Role,
    /// The user's own territory.
    pub territory: Option<String>,
    /// Every territory the user works in: their own, plus their reps' for a manager.
    pub territories: Vec<String>,
    pub device_id: Uuid,
    /// SHA-256 (hex) of the bearer token the connection was opened with: logging out
    /// closes the connections that use it.
    pub token_hash: String,
    /// When the token expires (UTC ms): the connection is closed then.
    pub expires_at: i64,
}

impl Session {
    /// The user as the access rules see them.
    pub fn principal(&self) -> Principal {
        Principal { user: self.user.clone(), role: self.role, territories: self.territories.clone() }
    }

    /// A session for tests and in-process tools: the given territory only, a token that
    /// never expires.
    pub fn for_tests(user: &str, role: Role, territory: Option<&str>, device_id: Uuid) -> Self {
        Session {
            user: user.to_string(),
            role,
            territory: territory.map(String::from),
            territories: territory.map(String::from).into_iter().collect(),
            device_id,
            token_hash: String::new(),
            expires_at: i64::MAX,
        }
    }
}
