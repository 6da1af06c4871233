//! Password checks on a small fixed pool of threads, each holding one [`VerifyMemory`]
//! for its whole life, behind a bounded queue. The pool bounds three things at once: the
//! CPU spent on Argon2 (as many checks at a time as there are threads), the memory (one
//! 19 MiB block per thread, allocated once), and the wait (at most `queue` logins wait for
//! a thread; one more is answered "busy" at once instead of piling up).

use crate::identity::password::VerifyMemory;
use crate::server_stats::ServerStats;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce(&mut VerifyMemory) + Send>;

/// The queue is full (or the pool stopped): nothing was run.
#[derive(Debug, PartialEq, Eq)]
pub struct PoolBusy;

pub struct VerifierPool {
    queue: Mutex<Option<SyncSender<Job>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    stats: Arc<ServerStats>,
}

impl VerifierPool {
    /// `threads` threads (at least one), at most `queue` jobs waiting for one.
    pub fn start(threads: usize, queue: usize, stats: Arc<ServerStats>) -> std::io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        let mut handles = Vec::new();
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("jiuloop-verify-{i}")).spawn(move || worker(&rx));
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    drop(tx);
                    for h in handles {
                        let _ = h.join();
                    }
                    return Err(e);
                }
            }
        }
        Ok(VerifierPool { queue: Mutex::new(Some(tx)), threads: Mutex::new(handles), stats })
    }

    /// Run `f` with a thread's memory; its answer arrives on the receiver. `Err(PoolBusy)`
    /// at once, with `f` dropped unrun, when the queue is full. A job whose caller has
    /// gone away (the receiver dropped) before a thread takes it is dropped unrun. The
    /// checks `f` makes are added to the server's counters before its answer is sent.
    pub fn try_run<R, F>(&self, f: F) -> Result<oneshot::Receiver<R>, PoolBusy>
    where
        R: Send + 'static,
        F: FnOnce(&mut VerifyMemory) -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let stats = self.stats.clone();
        let job: Job = Box::new(move |memory| {
            if tx.is_closed() {
                return;
            }
            let answer = f(memory);
            stats.add_password_checks(memory.take_checks());
            let _ = tx.send(answer);
        });
        let queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let Some(queue) = queue.as_ref() else { return Err(PoolBusy) };
        match queue.try_send(job) {
            Ok(()) => Ok(rx),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => Err(PoolBusy),
        }
    }

    /// Stop taking jobs, let the threads finish the queued ones and wait for them
    /// (blocking).
    pub fn stop(&self) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).take();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }
}

impl Drop for VerifierPool {
    fn drop(&mut self) {
        // The threads end once the queue is closed; they are not waited for here.
        self.queue.get_mut().unwrap_or_else(|p| p.into_inner()).take();
    }
}

fn worker(rx: &Mutex<Receiver<Job>>) {
    let mut memory = VerifyMemory::new();
    loop {
        let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
        match job {
            Ok(job) => job(&mut memory),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;
    use std::time::Duration;

    #[tokio::test]
    async fn a_full_queue_answers_busy_at_once_and_the_threads_stay_few() {
        let stats = Arc::new(ServerStats::default());
        let pool = VerifierPool::start(2, 1, stats.clone()).unwrap();
        // Two jobs hold both threads until released; one waits in the queue.
        let gate = Arc::new(Barrier::new(3));
        let mut running = Vec::new();
        for _ in 0..2 {
            // The queue holds one: wait until a thread took the previous job.
            let r = loop {
                let gate = gate.clone();
                match pool.try_run(move |_| gate.wait()) {
                    Ok(r) => break r,
                    Err(PoolBusy) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
            };
            running.push(r);
        }
        // Let both threads take their job, so the queue is empty again.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let queued = pool.try_run(|_| std::thread::current().name().map(String::from)).unwrap();
        let started = std::time::Instant::now();
        assert_eq!(pool.try_run(|_| ()).err(), Some(PoolBusy));
        assert!(started.elapsed() < Duration::from_millis(50));
        gate.wait();
        for r in running {
            r.await.unwrap();
        }
        let name = queued.await.unwrap().unwrap();
        assert!(name.starts_with("jiuloop-verify-"), "{name}");
        // Checks are counted before the answer arrives.
        let hash = crate::identity::password::hash("correct horse").unwrap();
        let ok = pool
            .try_run(move |m| crate::identity::password::verify_with(m, "correct horse", &hash))
            .unwrap()
            .await
            .unwrap();
        assert!(ok);
        assert_eq!(stats.password_checks(), 1);
        pool.stop();
        assert_eq!(pool.try_run(|_| ()).err(), Some(PoolBusy));
    }

    #[tokio::test]
    async fn a_job_whose_caller_left_is_not_run() {
        let stats = Arc::new(ServerStats::default());
        let pool = VerifierPool::start(1, 4, stats.clone()).unwrap();
        let gate = Arc::new(Barrier::new(2));
        let g = gate.clone();
        let first = pool.try_run(move |_| g.wait()).unwrap();
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let r = ran.clone();
        drop(pool.try_run(move |_| r.store(true, std::sync::atomic::Ordering::SeqCst)).unwrap());
        gate.wait();
        first.await.unwrap();
        pool.stop();
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }
}
