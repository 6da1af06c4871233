//! A user as the rest of the server sees it (converted from the database row).

use crate::storage::{DbError, UserRow};
use protocol::Role;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub role: Role,
    pub territory: Option<String>,
    pub manager: Option<String>,
    pub disabled: bool,
    /// UTC milliseconds.
    pub created_at: i64,
}

impl TryFrom<UserRow> for UserInfo {
    type Error = DbError;
    fn try_from(row: UserRow) -> Result<Self, DbError> {
        let role =
            row.role.parse::<Role>().map_err(|e| DbError::corrupt("users", format!("user {}: {e}", row.name)))?;
        Ok(UserInfo {
            name: row.name,
            role,
            territory: row.territory,
            manager: row.manager,
            disabled: row.disabled,
            created_at: row.created_at,
        })
    }
}
