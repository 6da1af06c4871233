//! A single-threaded async queue: browser callbacks (WebSocket, timers, other tabs, the
//! UI) post events, the sync loop awaits them one at a time, in order.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

struct Inner<T> {
    queue: VecDeque<T>,
    waker: Option<Waker>,
}

pub struct Mailbox<T> {
    inner: Rc<RefCell<Inner<T>>>,
}

impl<T> Clone for Mailbox<T> {
    fn clone(&self) -> Self {
        Mailbox { inner: self.inner.clone() }
    }
}

impl<T> Default for Mailbox<T> {
    fn default() -> Self {
        Mailbox { inner: Rc::new(RefCell::new(Inner { queue: VecDeque::new(), waker: None })) }
    }
}

impl<T> Mailbox<T> {
    pub fn post(&self, event: T) {
        let waker = {
            let mut inner = self.inner.borrow_mut();
            inner.queue.push_back(event);
            inner.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// The next event (waits until one is posted).
    pub fn recv(&self) -> Recv<T> {
        Recv { inner: self.inner.clone() }
    }

    /// Drop queued events the predicate rejects.
    pub fn retain(&self, keep: impl FnMut(&T) -> bool) {
        self.inner.borrow_mut().queue.retain(keep);
    }
}

pub struct Recv<T> {
    inner: Rc<RefCell<Inner<T>>>,
}

impl<T> Future for Recv<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut inner = self.inner.borrow_mut();
        match inner.queue.pop_front() {
            Some(e) => Poll::Ready(e),
            None => {
                inner.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

    struct Flag(std::sync::atomic::AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn events_arrive_in_order_and_wake_the_waiter() {
        let mb: Mailbox<u32> = Mailbox::default();
        let flag = Arc::new(Flag(false.into()));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut r = mb.recv();
        assert!(Pin::new(&mut r).poll(&mut cx).is_pending());
        mb.post(1);
        mb.post(2);
        mb.post(3);
        assert!(flag.0.load(std::sync::atomic::Ordering::SeqCst));
        mb.retain(|e| *e != 2);
        assert_eq!(Pin::new(&mut r).poll(&mut cx), Poll::Ready(1));
        assert_eq!(Pin::new(&mut mb.recv()).poll(&mut cx), Poll::Ready(3));
    }
}
