//! Failed-login limit per (user, client address): a few failures in a window, then 429.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept before old ones are swept.
const SWEEP_AT: usize = 10_000;

pub struct LoginLimiter {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<(String, IpAddr), VecDeque<Instant>>>,
}

impl LoginLimiter {
    pub const DEFAULT_MAX_FAILURES: usize = 5;
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(300);

    pub fn new(max_failures: usize, window: Duration) -> Self {
        LoginLimiter { max_failures, window, failures: Mutex::new(HashMap::new()) }
    }

    /// Whether this user may try to log in from this address now.
    pub fn allowed(&self, user: &str, addr: IpAddr, now: Instant) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let key = (user.to_string(), addr);
        let Some(times) = map.get_mut(&key) else {
            return true;
        };
        Self::expire(times, now, self.window);
        if times.is_empty() {
            map.remove(&key);
            return true;
        }
        times.len() < self.max_failures
    }

    pub fn record_failure(&self, user: &str, addr: IpAddr, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= SWEEP_AT {
            let window = self.window;
            map.retain(|_, times| {
                Self::expire(times, now, window);
                !times.is_empty()
            });
        }
        let times = map.entry((user.to_string(), addr)).or_default();
        Self::expire(times, now, self.window);
        times.push_back(now);
        while times.len() > self.max_failures {
            times.pop_front();
        }
    }

    pub fn record_success(&self, user: &str, addr: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&(user.to_string(), addr));
    }

    fn expire(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
        while times.front().is_some_and(|t| now.saturating_duration_since(*t) >= window) {
            times.pop_front();
        }
    }
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_FAILURES, Self::DEFAULT_WINDOW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_failures_and_forgets_after_window() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.allowed("li", ip, t0));
            l.record_failure("li", ip, t0);
        }
        assert!(!l.allowed("li", ip, t0));
        assert!(l.allowed("li", other, t0));
        assert!(l.allowed("wang", ip, t0));
        assert!(l.allowed("li", ip, t0 + Duration::from_secs(61)));
        l.record_failure("li", ip, t0);
        l.record_success("li", ip);
        assert!(l.allowed("li", ip, t0));
    }
}
