//! Who is on the other end of an authenticated connection.

use protocol::Role;
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub role: Role,
    pub territory: Option<String>,
    pub device_id: Uuid,
}
