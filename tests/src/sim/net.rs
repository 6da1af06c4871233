//! The simulated network: one [`Link`] per WebSocket connection, with the frames on their
//! way in each direction.
//!
//! What the network does to frames is what a device and the hub can meet: a WebSocket runs
//! over TCP, so within one connection frames arrive in order and at most once, and a lost
//! frame means the connection is dead from there on. So:
//!
//! - **delay**: frames wait in their queue until a plan step delivers them, so the hub
//!   sees the devices' frames interleaved in any order, and a device pushes while its
//!   catch-up is still on the way;
//! - **drop / cut** ([`Net::cut`]): a connection dies; the frames on their way to the
//!   device are lost, of those on their way to the hub only a prefix (the ones the
//!   server's connection task had read) still arrives, followed by `Disconnected`;
//! - **reorder across connections**: that prefix may reach the hub after the device's
//!   next connection has said hello and pushed again;
//! - **duplicate**: the hub may process a push twice — the same push resent on the
//!   device's next connection after the answer was lost, or a retransmission whose answer
//!   is then lost (a device gets one answer per push: the protocol has no request ids).
//!
//! Not simulated, because TCP rules them out: a frame lost or duplicated inside a live
//! connection, or two answers to one push. (A device given two answers to one push restores
//! the document twice and can reuse an Automerge sequence number the server already holds,
//! which the server then refuses as bad changes.)
//!
//! A server restart loses everything in flight.

use jiuloop_server::{ConnId, Session};
use std::collections::VecDeque;

/// Something on its way to the hub.
#[derive(Clone, Debug)]
pub enum Up {
    /// The authenticated WebSocket opened (the connection task's first event).
    Connected(Box<Session>),
    Frame(Vec<u8>),
    /// The connection task noticed the socket is gone.
    Disconnected,
}

/// A frame on its way to a device, with the refusals it carries (indexes into the run's
/// refusal records, so that delivering it marks them delivered).
#[derive(Clone, Debug)]
pub struct Down {
    pub frame: Vec<u8>,
    pub refusals: Vec<usize>,
}

#[derive(Debug)]
pub struct Link {
    pub conn: ConnId,
    pub dev: usize,
    pub up: VecDeque<Up>,
    pub down: VecDeque<Down>,
    /// The device still uses the connection. Once false nothing more reaches the device,
    /// and the link goes away when the hub has read what is left of `up`.
    pub open: bool,
}

#[derive(Debug, Default)]
pub struct Net {
    pub links: Vec<Link>,
}

impl Net {
    pub fn open(&mut self, conn: ConnId, dev: usize, session: Session) {
        let mut up = VecDeque::new();
        up.push_back(Up::Connected(Box::new(session)));
        self.links.push(Link { conn, dev, up, down: VecDeque::new(), open: true });
    }

    pub fn by_conn(&mut self, conn: ConnId) -> Option<&mut Link> {
        self.links.iter_mut().find(|l| l.conn == conn)
    }

    /// The connection a device uses, if any.
    pub fn open_link_of(&mut self, dev: usize) -> Option<&mut Link> {
        self.links.iter_mut().find(|l| l.dev == dev && l.open)
    }

    /// The connection dies. Of the frames not yet read by the hub, the first `keep` still
    /// reach it; the device receives nothing more.
    pub fn cut(&mut self, conn: ConnId, keep: usize) {
        if let Some(l) = self.by_conn(conn) {
            l.open = false;
            l.down.clear();
            l.up.truncate(keep);
            l.up.push_back(Up::Disconnected);
        }
    }

    /// The device closed the connection after the server's `Error` (or the server closed
    /// it): what the device sent still reaches the hub, which ignores it.
    pub fn close(&mut self, conn: ConnId) {
        if let Some(l) = self.by_conn(conn)
            && l.open
        {
            l.open = false;
            l.down.clear();
            l.up.push_back(Up::Disconnected);
        }
    }

    /// Forget links with nothing left to do.
    pub fn gc(&mut self) {
        self.links.retain(|l| l.open || !l.up.is_empty());
    }

    /// The server restarted: every connection is gone, with everything in flight.
    pub fn kill_all(&mut self) -> Vec<usize> {
        let devs = self.links.iter().filter(|l| l.open).map(|l| l.dev).collect();
        self.links.clear();
        devs
    }

    pub fn is_idle(&self) -> bool {
        self.links.iter().all(|l| l.up.is_empty() && l.down.is_empty())
    }
}
