//! What the sync hub reacts to, and what it answers.

use crate::identity::session::Session;
use crate::sync::conn_id::ConnId;
use protocol::{ClientMsg, ServerMsg};

#[derive(Clone, Debug)]
pub enum HubEvent {
    /// An authenticated WebSocket connection opened.
    Connected { conn: ConnId, session: Session },
    /// A decoded frame from a connection.
    Message { conn: ConnId, msg: ClientMsg },
    /// The connection is gone (closed, cut, or dropped by the server).
    Disconnected { conn: ConnId },
    /// A few times a second: carry out queued admin commands, close connections whose
    /// token has expired. `now` is UTC ms.
    Tick { now: i64 },
    /// A token was revoked (logout): close the connections opened with it.
    TokenRevoked { token_hash: String },
}

impl HubEvent {
    /// The connection the event is about, if any.
    pub fn conn(&self) -> Option<ConnId> {
        match self {
            HubEvent::Connected { conn, .. } | HubEvent::Message { conn, .. } | HubEvent::Disconnected { conn } => {
                Some(*conn)
            }
            HubEvent::Tick { .. } | HubEvent::TokenRevoked { .. } => None,
        }
    }
}

/// One message for one or more connections, in the order the hub produced it. A
/// [`ServerMsg::Error`] is fatal: the connection is closed after it.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    pub to: Vec<ConnId>,
    pub msg: ServerMsg,
}
