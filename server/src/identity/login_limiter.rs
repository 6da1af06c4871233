//! Failed-login limits, counted over a sliding window on three keys: the (user, client
//! address) pair, the user alone (a password guessed from many addresses), and the address
//! alone (many users tried from one address). Any key over its limit answers 429 without
//! checking the password. A successful login clears only its (user, address) pair, so
//! logging in to one's own account does not reset the counts an attacker builds up.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept before old ones are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Pair(String, IpAddr),
    User(String),
    Addr(IpAddr),
}

/// A key and how to read its limit.
type KeyLimit = (Key, fn(&Limits) -> usize);

/// How many failures each key may collect within the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub per_user_and_address: usize,
    pub per_user: usize,
    pub per_address: usize,
}

pub struct LoginLimiter {
    limits: Limits,
    window: Duration,
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

impl LoginLimiter {
    #[cfg(test)]
    pub const DEFAULT_MAX_FAILURES: usize = 5;
    pub const DEFAULT_LIMITS: Limits = Limits { per_user_and_address: 5, per_user: 10, per_address: 20 };
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(300);

    /// The same limit for the pair, twice it per user and four times it per address.
    #[cfg(test)]
    pub fn new(max_failures: usize, window: Duration) -> Self {
        let limits =
            Limits { per_user_and_address: max_failures, per_user: max_failures * 2, per_address: max_failures * 4 };
        Self::with_limits(limits, window)
    }

    pub fn with_limits(limits: Limits, window: Duration) -> Self {
        LoginLimiter { limits, window, failures: Mutex::new(HashMap::new()) }
    }

    fn keys(user: &str, addr: IpAddr) -> [KeyLimit; 3] {
        let user = user.trim().to_string();
        [
            (Key::Pair(user.clone(), addr), |l| l.per_user_and_address),
            (Key::User(user), |l| l.per_user),
            (Key::Addr(addr), |l| l.per_address),
        ]
    }

    /// Whether this user may try to log in from this address now.
    pub fn allowed(&self, user: &str, addr: IpAddr, now: Instant) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for (key, limit) in Self::keys(user, addr) {
            let Some(times) = map.get_mut(&key) else { continue };
            Self::expire(times, now, self.window);
            if times.is_empty() {
                map.remove(&key);
            } else if times.len() >= limit(&self.limits) {
                return false;
            }
        }
        true
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
        for (key, limit) in Self::keys(user, addr) {
            let times = map.entry(key).or_default();
            Self::expire(times, now, self.window);
            times.push_back(now);
            while times.len() > limit(&self.limits) {
                times.pop_front();
            }
        }
    }

    pub fn record_success(&self, user: &str, addr: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&Key::Pair(user.trim().to_string(), addr));
    }

    fn expire(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
        while times.front().is_some_and(|t| now.saturating_duration_since(*t) >= window) {
            times.pop_front();
        }
    }
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::with_limits(Self::DEFAULT_LIMITS, Self::DEFAULT_WINDOW)
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

    #[test]
    fn one_user_from_many_addresses_and_many_users_from_one_address() {
        let limits = Limits { per_user_and_address: 3, per_user: 5, per_address: 8 };
        let l = LoginLimiter::with_limits(limits, Duration::from_secs(60));
        let t0 = Instant::now();
        // li's password guessed from five addresses, once each: li is blocked everywhere.
        for i in 0..5u8 {
            let addr = IpAddr::from([10, 0, 0, i]);
            assert!(l.allowed("li", addr, t0));
            l.record_failure("li", addr, t0);
        }
        assert!(!l.allowed("li", IpAddr::from([10, 0, 0, 99]), t0));
        // One address tries eight users: the address is blocked for everyone.
        let ip = IpAddr::from([192, 168, 1, 1]);
        for i in 0..8 {
            let user = format!("u{i}");
            assert!(l.allowed(&user, ip, t0));
            l.record_failure(&user, ip, t0);
        }
        assert!(!l.allowed("wang", ip, t0));
        assert!(l.allowed("wang", IpAddr::from([192, 168, 1, 2]), t0));
        // A success from that address does not reset the address count.
        l.record_success("u0", ip);
        assert!(!l.allowed("wang", ip, t0));
        assert!(l.allowed("wang", ip, t0 + Duration::from_secs(60)));
    }
}
