//! Failed-login limits, counted over a sliding window on three keys: the (user, client
//! address) pair, the user alone (a password guessed from many addresses), and the address
//! alone (many users tried from one address). Any key over its limit answers 429 without
//! checking the password. A successful login clears only its (user, address) pair, so
//! logging in to one's own account does not reset the counts an attacker builds up.
//!
//! An attempt is **reserved before its password is checked**, under one lock: the limits
//! count the attempts under way as if they were failures, so forty concurrent wrong
//! passwords cannot all slip in before the first one is counted. The reservation also
//! bounds how many checks one user and one address may have under way at once (more are
//! answered "busy" at once). Its outcome — failure, success, or nothing (the attempt was
//! dropped unchecked) — is recorded and the reservation released under the same lock.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
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

/// How many failures each key may collect within the window, and how many password checks
/// a user and an address may have under way at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub per_user_and_address: usize,
    pub per_user: usize,
    pub per_address: usize,
    /// Checks of one user's password queued or running at once.
    pub concurrent_per_user: usize,
    /// Checks asked for from one address queued or running at once.
    pub concurrent_per_address: usize,
}

/// Why an attempt may not be checked now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Too many failures (counting the attempts under way) within the window.
    RateLimited,
    /// Too many checks under way for this user or address: retry shortly.
    Busy,
}

#[derive(Default)]
struct State {
    failures: HashMap<Key, VecDeque<Instant>>,
    in_flight: HashMap<Key, usize>,
}

pub struct LoginLimiter {
    limits: Limits,
    window: Duration,
    state: Mutex<State>,
}

impl LoginLimiter {
    #[cfg(test)]
    pub const DEFAULT_MAX_FAILURES: usize = 5;
    pub const DEFAULT_LIMITS: Limits = Limits {
        per_user_and_address: 5,
        per_user: 10,
        per_address: 20,
        concurrent_per_user: 2,
        concurrent_per_address: 8,
    };
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(300);

    /// The same limit for the pair, twice it per user and four times it per address.
    #[cfg(test)]
    pub fn new(max_failures: usize, window: Duration) -> Self {
        let limits = Limits {
            per_user_and_address: max_failures,
            per_user: max_failures * 2,
            per_address: max_failures * 4,
            ..Self::DEFAULT_LIMITS
        };
        Self::with_limits(limits, window)
    }

    pub fn with_limits(limits: Limits, window: Duration) -> Self {
        LoginLimiter { limits, window, state: Mutex::new(State::default()) }
    }

    fn keys(user: &str, addr: IpAddr) -> [KeyLimit; 3] {
        let user = user.trim().to_string();
        [
            (Key::Pair(user.clone(), addr), |l| l.per_user_and_address),
            (Key::User(user), |l| l.per_user),
            (Key::Addr(addr), |l| l.per_address),
        ]
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reserve the right to check one password of `user` from `addr` now. Refused when a
    /// key's failures plus the attempts under way reach its limit, or when the user or the
    /// address has its maximum of checks under way.
    pub fn reserve(self: &Arc<Self>, user: &str, addr: IpAddr, now: Instant) -> Result<Reservation, Refusal> {
        let mut state = self.lock();
        let State { failures, in_flight } = &mut *state;
        if failures.len() >= SWEEP_AT {
            let window = self.window;
            failures.retain(|_, times| {
                Self::expire(times, now, window);
                !times.is_empty()
            });
        }
        let keys = Self::keys(user, addr);
        for (key, limit) in &keys {
            let failed = match failures.get_mut(key) {
                Some(times) => {
                    Self::expire(times, now, self.window);
                    let n = times.len();
                    if n == 0 {
                        failures.remove(key);
                    }
                    n
                }
                None => 0,
            };
            let under_way = in_flight.get(key).copied().unwrap_or(0);
            if failed + under_way >= limit(&self.limits) {
                return Err(Refusal::RateLimited);
            }
        }
        let under_way = |k: &Key| in_flight.get(k).copied().unwrap_or(0);
        if under_way(&keys[1].0) >= self.limits.concurrent_per_user
            || under_way(&keys[2].0) >= self.limits.concurrent_per_address
        {
            return Err(Refusal::Busy);
        }
        for (key, _) in keys {
            *in_flight.entry(key).or_default() += 1;
        }
        Ok(Reservation { limiter: self.clone(), user: user.to_string(), addr, done: false })
    }

    fn finish(&self, user: &str, addr: IpAddr, outcome: Outcome) {
        let mut state = self.lock();
        let State { failures, in_flight } = &mut *state;
        for (key, limit) in Self::keys(user, addr) {
            if let Some(n) = in_flight.get_mut(&key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    in_flight.remove(&key);
                }
            }
            match outcome {
                Outcome::Failed(now) => {
                    let times = failures.entry(key).or_default();
                    Self::expire(times, now, self.window);
                    times.push_back(now);
                    while times.len() > limit(&self.limits) {
                        times.pop_front();
                    }
                }
                Outcome::Succeeded if matches!(key, Key::Pair(..)) => {
                    failures.remove(&key);
                }
                Outcome::Succeeded | Outcome::Dropped => {}
            }
        }
    }

    /// Attempts under way (tests).
    #[cfg(test)]
    fn in_flight(&self) -> usize {
        self.lock().in_flight.values().sum()
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

#[derive(Clone, Copy)]
enum Outcome {
    Failed(Instant),
    Succeeded,
    Dropped,
}

/// One attempt allowed to check a password. Dropped without an outcome (the attempt was
/// abandoned before its check), it is released and nothing is counted.
pub struct Reservation {
    limiter: Arc<LoginLimiter>,
    user: String,
    addr: IpAddr,
    done: bool,
}

impl Reservation {
    /// The password was wrong (or the user unknown): counted on every key.
    pub fn failed(mut self, now: Instant) {
        self.done = true;
        self.limiter.finish(&self.user, self.addr, Outcome::Failed(now));
    }

    /// The password was right: clears the (user, address) pair's failures.
    pub fn succeeded(mut self) {
        self.done = true;
        self.limiter.finish(&self.user, self.addr, Outcome::Succeeded);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.done {
            self.limiter.finish(&self.user, self.addr, Outcome::Dropped);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(limits: Limits) -> Arc<LoginLimiter> {
        Arc::new(LoginLimiter::with_limits(limits, Duration::from_secs(60)))
    }

    fn fail(l: &Arc<LoginLimiter>, user: &str, addr: IpAddr, now: Instant) {
        l.reserve(user, addr, now).expect("allowed").failed(now);
    }

    #[test]
    fn blocks_after_failures_and_forgets_after_window() {
        let l = Arc::new(LoginLimiter::new(3, Duration::from_secs(60)));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            fail(&l, "li", ip, t0);
        }
        assert_eq!(l.reserve("li", ip, t0).err(), Some(Refusal::RateLimited));
        assert!(l.reserve("li", other, t0).is_ok());
        assert!(l.reserve("wang", ip, t0).is_ok());
        assert!(l.reserve("li", ip, t0 + Duration::from_secs(61)).is_ok());
        fail(&l, "li", ip, t0);
        l.reserve("li", ip, t0 + Duration::from_secs(61)).unwrap().succeeded();
        assert!(l.reserve("li", ip, t0).is_ok());
        assert_eq!(l.in_flight(), 0, "every reservation was released");
    }

    #[test]
    fn one_user_from_many_addresses_and_many_users_from_one_address() {
        let limits = Limits { per_user_and_address: 3, per_user: 5, per_address: 8, ..LoginLimiter::DEFAULT_LIMITS };
        let l = limiter(limits);
        let t0 = Instant::now();
        // li's password guessed from five addresses, once each: li is blocked everywhere.
        for i in 0..5u8 {
            fail(&l, "li", IpAddr::from([10, 0, 0, i]), t0);
        }
        assert_eq!(l.reserve("li", IpAddr::from([10, 0, 0, 99]), t0).err(), Some(Refusal::RateLimited));
        // One address tries eight users: the address is blocked for everyone.
        let ip = IpAddr::from([192, 168, 1, 1]);
        for i in 0..8 {
            fail(&l, &format!("u{i}"), ip, t0);
        }
        assert_eq!(l.reserve("wang", ip, t0).err(), Some(Refusal::RateLimited));
        assert!(l.reserve("wang", IpAddr::from([192, 168, 1, 2]), t0).is_ok());
        // A success from that address does not reset the address count.
        l.finish("u0", ip, Outcome::Succeeded);
        assert_eq!(l.reserve("wang", ip, t0).err(), Some(Refusal::RateLimited));
        assert!(l.reserve("wang", ip, t0 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn attempts_under_way_count_against_the_limits() {
        // No concurrency cap in the way: only the failure limit counts.
        let limits = Limits {
            per_user_and_address: 5,
            per_user: 10,
            per_address: 20,
            concurrent_per_user: 100,
            concurrent_per_address: 100,
        };
        let l = limiter(limits);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        // Forty attempts arrive before any is checked: five get a reservation.
        let held: Vec<Reservation> = (0..40).filter_map(|_| l.reserve("li", ip, t0).ok()).collect();
        assert_eq!(held.len(), 5);
        // An honest user of another address is not affected.
        assert!(l.reserve("wang", "10.0.0.2".parse().unwrap(), t0).is_ok());
        // All five fail: still blocked. Abandoned attempts count nothing.
        for r in held {
            r.failed(t0);
        }
        assert_eq!(l.reserve("li", ip, t0).err(), Some(Refusal::RateLimited));
        let other: IpAddr = "10.0.0.3".parse().unwrap();
        let abandoned: Vec<Reservation> = (0..3).filter_map(|_| l.reserve("zhao", other, t0).ok()).collect();
        assert_eq!(abandoned.len(), 3);
        drop(abandoned);
        assert_eq!(l.in_flight(), 0);
        let state = l.lock();
        assert!(!state.failures.contains_key(&Key::User("zhao".into())), "abandoned attempts are not failures");
    }

    #[test]
    fn concurrent_checks_are_bounded_per_user_and_per_address() {
        let l = limiter(LoginLimiter::DEFAULT_LIMITS);
        let t0 = Instant::now();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let a = l.reserve("li", ip, t0).unwrap();
        let b = l.reserve("li", "10.0.0.1".parse().unwrap(), t0).unwrap();
        assert_eq!(l.reserve("li", "10.0.0.2".parse().unwrap(), t0).err(), Some(Refusal::Busy));
        a.succeeded();
        let c = l.reserve("li", "10.0.0.2".parse().unwrap(), t0).unwrap();
        drop((b, c));
        // Eight users at once from one address; the ninth waits.
        let held: Vec<Reservation> = (0..8).map(|i| l.reserve(&format!("u{i}"), ip, t0).unwrap()).collect();
        assert_eq!(l.reserve("u9", ip, t0).err(), Some(Refusal::Busy));
        assert!(l.reserve("u9", "10.0.0.9".parse().unwrap(), t0).is_ok());
        drop(held);
        assert!(l.reserve("u9", ip, t0).is_ok());
    }
}
