//! SLA clocks of complaints (时效): per severity a time to acknowledge and a time to
//! resolve ([`SlaPolicy`], from the after-sales policy document), counted while the
//! complaint is open and not waiting on the customer, with a warning when little time is
//! left and a breach after the deadline.
//!
//! [`clocks`] is one pure function of the complaint's folded log, its severity, the policy,
//! the breaches the server recorded, and `now`: every device shows the same remaining time
//! offline, and the server decides breaches with the same function at its own clock. A
//! breach the server recorded stays a breach (a step arriving later that states an earlier
//! time does not undo it).
//!
//! Edges, to the millisecond: the deadline is the instant the allowance is used up; at the
//! deadline 0 ms remain (a warning), one millisecond later the clock is breached. The
//! warning starts when `warn_percent` of the allowance or less remains.

use super::complaint_lifecycle::{Lifecycle, is_open};
use super::{ComplaintStatus, Severity};
use crate::ids::DocId;
use crate::schema::record::Record;
use serde::Serialize;
use uuid::Uuid;

/// The one after-sales policy document every installation shares.
pub const POLICY_ID: DocId = DocId(Uuid::from_u128(0x6a69_756c_6f6f_4000_8000_0053_4c41_504f));

const MINUTE: i64 = 60_000;

/// Minutes to acknowledge and to resolve a complaint of one severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Allowance {
    pub ack_minutes: i64,
    pub resolve_minutes: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SlaPolicy {
    pub normal: Allowance,
    pub serious: Allowance,
    pub critical: Allowance,
    /// Warn when this percentage of the allowance (or less) remains.
    pub warn_percent: i64,
    /// A resolved complaint is revisited within this many days.
    pub revisit_days: i64,
}

impl Default for SlaPolicy {
    /// Normal: acknowledge within a day, resolve within a week; serious: 4 hours and 3
    /// days; critical (suspected safety issue): 1 hour and 1 day. Warn at 20 % left;
    /// revisit within 3 days.
    fn default() -> Self {
        SlaPolicy {
            normal: Allowance { ack_minutes: 24 * 60, resolve_minutes: 7 * 24 * 60 },
            serious: Allowance { ack_minutes: 4 * 60, resolve_minutes: 3 * 24 * 60 },
            critical: Allowance { ack_minutes: 60, resolve_minutes: 24 * 60 },
            warn_percent: 20,
            revisit_days: 3,
        }
    }
}

impl SlaPolicy {
    /// The policy the document says (`None`: none published; unset values: the defaults).
    pub fn from_record(rec: Option<&Record>) -> Self {
        let mut p = SlaPolicy::default();
        let Some(r) = rec else { return p };
        let get = |f: &str, d: i64| r.int(f).unwrap_or(d);
        p.normal = Allowance {
            ack_minutes: get("normal_ack_minutes", p.normal.ack_minutes),
            resolve_minutes: get("normal_resolve_minutes", p.normal.resolve_minutes),
        };
        p.serious = Allowance {
            ack_minutes: get("serious_ack_minutes", p.serious.ack_minutes),
            resolve_minutes: get("serious_resolve_minutes", p.serious.resolve_minutes),
        };
        p.critical = Allowance {
            ack_minutes: get("critical_ack_minutes", p.critical.ack_minutes),
            resolve_minutes: get("critical_resolve_minutes", p.critical.resolve_minutes),
        };
        p.warn_percent = get("warn_percent", p.warn_percent).clamp(1, 99);
        p.revisit_days = get("revisit_days", p.revisit_days).max(0);
        p
    }

    pub fn allowance(&self, severity: Severity) -> Allowance {
        match severity {
            Severity::Normal => self.normal,
            Severity::Serious => self.serious,
            Severity::Critical => self.critical,
        }
    }
}

string_enum!(
    /// Where one SLA clock stands (时效状态).
    ClockState {
        Running = "running", "计时中", "Running";
        Warning = "warning", "即将超时", "Warning";
        Paused = "paused", "暂停（等待客户）", "Paused (waiting on the customer)";
        Met = "met", "按时完成", "Met";
        Breached = "breached", "已超时", "Breached";
    }
);

/// The two clocks of a complaint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// Time to acknowledge (受理时限): runs until the complaint is acknowledged.
    Ack,
    /// Time to resolve (解决时限): runs while the complaint is open.
    Resolve,
}

impl Clock {
    pub const BOTH: [Clock; 2] = [Clock::Ack, Clock::Resolve];

    pub fn as_str(self) -> &'static str {
        match self {
            Clock::Ack => "ack",
            Clock::Resolve => "resolve",
        }
    }

    pub fn label(self, lang: super::Lang) -> &'static str {
        match (self, lang) {
            (Clock::Ack, super::Lang::Zh) => "受理时限",
            (Clock::Ack, super::Lang::En) => "Time to acknowledge",
            (Clock::Resolve, super::Lang::Zh) => "解决时限",
            (Clock::Resolve, super::Lang::En) => "Time to resolve",
        }
    }

    /// Does the clock count while the complaint is in `status`?
    fn counts_in(self, status: ComplaintStatus) -> bool {
        match self {
            Clock::Ack => status == ComplaintStatus::Received,
            Clock::Resolve => is_open(status),
        }
    }
}

/// Breaches the server recorded (the complaint's tracking document).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    pub ack_breached_at: Option<i64>,
    pub resolve_breached_at: Option<i64>,
}

impl Recorded {
    fn of(&self, clock: Clock) -> Option<i64> {
        match clock {
            Clock::Ack => self.ack_breached_at,
            Clock::Resolve => self.resolve_breached_at,
        }
    }
}

/// One clock at `now`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClockView {
    pub clock: Clock,
    pub state: ClockState,
    pub allowed_ms: i64,
    pub elapsed_ms: i64,
    /// Negative once breached.
    pub remaining_ms: i64,
    /// While the clock runs: when the allowance is used up.
    #[serde(skip_serializing_if = "Option::is_none", with = "super::access::json_time_opt")]
    pub due_at: Option<i64>,
    /// While the clock runs and before the warning: when the warning starts.
    #[serde(skip_serializing_if = "Option::is_none", with = "super::access::json_time_opt")]
    pub warn_at: Option<i64>,
    /// When it stopped in time or late (acknowledged; resolved).
    #[serde(skip_serializing_if = "Option::is_none", with = "super::access::json_time_opt")]
    pub stopped_at: Option<i64>,
    /// When the allowance ran out, if it did (the server's record when it has one).
    #[serde(skip_serializing_if = "Option::is_none", with = "super::access::json_time_opt")]
    pub breached_at: Option<i64>,
    /// The server has recorded the breach.
    pub recorded: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SlaClocks {
    pub severity: Severity,
    pub ack: ClockView,
    pub resolve: ClockView,
}

impl SlaClocks {
    pub fn get(&self, clock: Clock) -> &ClockView {
        match clock {
            Clock::Ack => &self.ack,
            Clock::Resolve => &self.resolve,
        }
    }

    /// The clock that matters now: of those still counting (not stopped: a breached clock
    /// of a complaint nobody acknowledged yet counts on), the one with the least time left;
    /// else the resolution clock. Queues sort by its `remaining_ms`.
    pub fn current(&self) -> &ClockView {
        let live = |c: &&ClockView| c.stopped_at.is_none() && c.state != ClockState::Met;
        [&self.ack, &self.resolve]
            .into_iter()
            .filter(live)
            .min_by_key(|c| c.remaining_ms)
            .unwrap_or(if self.ack.state == ClockState::Breached { &self.ack } else { &self.resolve })
    }

    pub fn breached(&self) -> bool {
        self.ack.state == ClockState::Breached || self.resolve.state == ClockState::Breached
    }
}

/// Both clocks of a complaint at `now`.
pub fn clocks(l: &Lifecycle, severity: Severity, policy: &SlaPolicy, recorded: &Recorded, now: i64) -> SlaClocks {
    let a = policy.allowance(severity);
    SlaClocks {
        severity,
        ack: clock(l, Clock::Ack, a.ack_minutes * MINUTE, policy.warn_percent, recorded.of(Clock::Ack), now),
        resolve: clock(
            l,
            Clock::Resolve,
            a.resolve_minutes * MINUTE,
            policy.warn_percent,
            recorded.of(Clock::Resolve),
            now,
        ),
    }
}

fn clock(l: &Lifecycle, which: Clock, allowed: i64, warn_percent: i64, recorded: Option<i64>, now: i64) -> ClockView {
    // Change points: (time, counting after it). The clock starts counting at the start.
    let mut points: Vec<(i64, bool)> = vec![(l.start, which.counts_in(ComplaintStatus::Received))];
    let mut stopped_at = None;
    for t in l.timeline.iter().filter(|t| t.applied) {
        let counting = which.counts_in(t.status_after) && !t.waiting_after;
        points.push((t.counted_at, counting));
        let done = !which.counts_in(t.status_after);
        stopped_at = if done { stopped_at.or(Some(t.counted_at)) } else { None };
    }
    let end = now.max(l.start);
    let mut elapsed = 0i64;
    let mut crossed = None;
    for (i, &(from, counting)) in points.iter().enumerate() {
        let to = points.get(i + 1).map_or(end, |p| p.0).clamp(from, end.max(from));
        if !counting || from >= end {
            continue;
        }
        let len = to - from;
        if crossed.is_none() && elapsed + len > allowed {
            crossed = Some(from + (allowed - elapsed));
        }
        elapsed += len;
    }
    let remaining = allowed - elapsed;
    let counting_now = points.iter().rfind(|p| p.0 <= end).is_some_and(|p| p.1);
    let warn_ms = allowed * warn_percent / 100;
    // The allowance ran out at the deadline; the clock is breached strictly after it.
    let breached_at = recorded.or(if remaining < 0 { crossed } else { None });
    let state = if breached_at.is_some() {
        ClockState::Breached
    } else if !which.counts_in(l.status) {
        ClockState::Met
    } else if !counting_now {
        ClockState::Paused
    } else if remaining <= warn_ms {
        ClockState::Warning
    } else {
        ClockState::Running
    };
    let running = counting_now && which.counts_in(l.status);
    let due_at = running.then_some(end + remaining);
    let warn_at = (running && remaining > warn_ms).then_some(end + remaining - warn_ms);
    ClockView {
        clock: which,
        state,
        allowed_ms: allowed,
        elapsed_ms: elapsed,
        remaining_ms: remaining,
        due_at,
        warn_at,
        stopped_at: if which.counts_in(l.status) { None } else { stopped_at },
        breached_at,
        recorded: recorded.is_some(),
    }
}

/// `3小时05分` / `3 h 05 min`; `-` in front once the time is up.
pub fn format_duration(ms: i64, lang: super::Lang) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let mins = ms.unsigned_abs() / 60_000;
    let (d, h, m) = (mins / (24 * 60), mins / 60 % 24, mins % 60);
    match lang {
        super::Lang::Zh if d > 0 => format!("{sign}{d}天{h}小时"),
        super::Lang::Zh if h > 0 => format!("{sign}{h}小时{m:02}分"),
        super::Lang::Zh => format!("{sign}{m}分钟"),
        super::Lang::En if d > 0 => format!("{sign}{d} d {h} h"),
        super::Lang::En if h > 0 => format!("{sign}{h} h {m:02} min"),
        super::Lang::En => format!("{sign}{m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ComplaintEventKind as K;
    use crate::schema::complaint::ComplaintEvent;
    use crate::schema::complaint_lifecycle::fold;

    const S: i64 = 1_000;
    const MIN: i64 = 60 * S;
    const H: i64 = 60 * MIN;
    const T0: i64 = 1_800_000_000_000;

    /// A policy of round numbers: normal 60/600 min, serious 30/300, critical 10/100;
    /// warning at 20 % left.
    fn policy() -> SlaPolicy {
        SlaPolicy {
            normal: Allowance { ack_minutes: 60, resolve_minutes: 600 },
            serious: Allowance { ack_minutes: 30, resolve_minutes: 300 },
            critical: Allowance { ack_minutes: 10, resolve_minutes: 100 },
            warn_percent: 20,
            revisit_days: 3,
        }
    }

    /// Steps at offsets from T0, received as they happen.
    fn life(steps: &[(K, i64)]) -> Lifecycle {
        let events: Vec<ComplaintEvent> = [(K::Filed, 0)]
            .iter()
            .chain(steps)
            .map(|(k, dt)| ComplaintEvent {
                received: Some(T0 + dt),
                findings: Some("x".into()),
                ..ComplaintEvent::new(*k, T0 + dt, "as")
            })
            .collect();
        fold(&events, T0)
    }

    fn at(l: &Lifecycle, sev: Severity, dt: i64) -> SlaClocks {
        clocks(l, sev, &policy(), &Recorded::default(), T0 + dt)
    }

    #[test]
    fn warning_and_breach_edges_to_the_second() {
        let l = life(&[]);
        // Normal: 60 minutes to acknowledge, warning from 12 minutes left.
        let cases = [
            (0, ClockState::Running, 60 * MIN),
            (48 * MIN - S, ClockState::Running, 12 * MIN + S),
            (48 * MIN, ClockState::Warning, 12 * MIN),
            (60 * MIN - S, ClockState::Warning, S),
            (60 * MIN, ClockState::Warning, 0),
            (60 * MIN + S, ClockState::Breached, -S),
            (5 * H, ClockState::Breached, 60 * MIN - 5 * H),
        ];
        for (dt, state, remaining) in cases {
            let c = at(&l, Severity::Normal, dt);
            assert_eq!((c.ack.state, c.ack.remaining_ms), (state, remaining), "at +{} s", dt / S);
        }
        let c = at(&l, Severity::Normal, 0);
        assert_eq!((c.ack.due_at, c.ack.warn_at), (Some(T0 + 60 * MIN), Some(T0 + 48 * MIN)));
        assert_eq!(at(&l, Severity::Normal, 2 * H).ack.breached_at, Some(T0 + 60 * MIN), "breached at the deadline");
    }

    #[test]
    fn severity_policies() {
        let l = life(&[]);
        // At +20 minutes: normal still fine, serious warned (10 of 30 left is over 20 %?
        // no: 33 %, running), critical breached.
        let states: Vec<(ClockState, ClockState)> = [Severity::Normal, Severity::Serious, Severity::Critical]
            .iter()
            .map(|s| {
                let c = at(&l, *s, 20 * MIN);
                (c.ack.state, c.resolve.state)
            })
            .collect();
        assert_eq!(
            states,
            [
                (ClockState::Running, ClockState::Running),
                (ClockState::Running, ClockState::Running),
                (ClockState::Breached, ClockState::Running)
            ]
        );
        assert_eq!(at(&l, Severity::Serious, 25 * MIN).ack.state, ClockState::Warning);
        assert_eq!(at(&l, Severity::Critical, 100 * MIN + S).resolve.state, ClockState::Breached);
        // The defaults: critical must be acknowledged within the hour.
        let d = SlaPolicy::default();
        let c = clocks(&l, Severity::Critical, &d, &Recorded::default(), T0 + 61 * MIN);
        assert_eq!(c.ack.state, ClockState::Breached);
        assert_eq!(
            clocks(&l, Severity::Normal, &d, &Recorded::default(), T0 + 61 * MIN).ack.state,
            ClockState::Running
        );
    }

    #[test]
    fn paused_while_waiting_on_the_customer() {
        // Acknowledged at +5 min; waiting on the customer from +1 h to +3 h; resumed.
        let l = life(&[(K::Acknowledged, 5 * MIN), (K::Waiting, H), (K::Resumed, 3 * H)]);
        let c = at(&l, Severity::Normal, 2 * H);
        assert_eq!(c.ack.state, ClockState::Met);
        assert_eq!(c.ack.stopped_at, Some(T0 + 5 * MIN));
        assert_eq!((c.resolve.state, c.resolve.elapsed_ms, c.resolve.due_at), (ClockState::Paused, H, None));
        // Two paused hours do not count: 600 min allowed, due at +12 h instead of +10 h.
        let c = at(&l, Severity::Normal, 4 * H);
        assert_eq!((c.resolve.state, c.resolve.elapsed_ms), (ClockState::Running, 2 * H));
        assert_eq!(c.resolve.due_at, Some(T0 + 12 * H));
        assert_eq!(at(&l, Severity::Normal, 12 * H).resolve.state, ClockState::Warning);
        assert_eq!(at(&l, Severity::Normal, 12 * H + S).resolve.state, ClockState::Breached);
        assert_eq!(at(&l, Severity::Normal, 12 * H + S).resolve.breached_at, Some(T0 + 12 * H));
        // Waiting before the acknowledgement pauses that clock too.
        let l = life(&[(K::Waiting, 30 * MIN)]);
        let c = at(&l, Severity::Normal, 5 * H);
        assert_eq!((c.ack.state, c.ack.remaining_ms), (ClockState::Paused, 30 * MIN));
    }

    #[test]
    fn stopped_in_time_late_and_after_a_reopen() {
        let path = [(K::Acknowledged, 70 * MIN), (K::Investigating, 2 * H), (K::Resolved, 4 * H)];
        let l = life(&path);
        let c = at(&l, Severity::Normal, 5 * H);
        assert_eq!((c.ack.state, c.ack.breached_at), (ClockState::Breached, Some(T0 + 60 * MIN)), "acknowledged late");
        assert_eq!((c.resolve.state, c.resolve.stopped_at), (ClockState::Met, Some(T0 + 4 * H)));
        // Reopened at +8 h: the resolution clock counts again from its 4 hours.
        let l = life(&[&path[..], &[(K::Feedback, 6 * H), (K::Reopened, 8 * H)]].concat());
        let c = at(&l, Severity::Normal, 9 * H);
        assert_eq!((c.resolve.state, c.resolve.elapsed_ms), (ClockState::Running, 5 * H));
        assert_eq!(c.resolve.due_at, Some(T0 + 14 * H));
    }

    #[test]
    fn a_recorded_breach_stands() {
        // The server recorded the breach at the deadline; then an acknowledgement arrives
        // stating an earlier time: the clock stays breached.
        let events = vec![
            ComplaintEvent { received: Some(T0), ..ComplaintEvent::new(K::Filed, T0, "li") },
            ComplaintEvent { received: Some(T0 + 2 * H), ..ComplaintEvent::new(K::Acknowledged, T0 + 10 * MIN, "as") },
        ];
        let l = fold(&events, T0);
        let honest = clocks(&l, Severity::Normal, &policy(), &Recorded::default(), T0 + 3 * H);
        assert_eq!(honest.ack.state, ClockState::Met, "acknowledged offline in time");
        let recorded = Recorded { ack_breached_at: Some(T0 + 60 * MIN), resolve_breached_at: None };
        let c = clocks(&l, Severity::Normal, &policy(), &recorded, T0 + 3 * H);
        assert_eq!((c.ack.state, c.ack.recorded, c.ack.breached_at), (ClockState::Breached, true, Some(T0 + 60 * MIN)));
    }

    #[test]
    fn durations_read_in_both_languages() {
        use crate::schema::Lang;
        assert_eq!(format_duration(3 * H + 5 * MIN, Lang::Zh), "3小时05分");
        assert_eq!(format_duration(-(26 * H), Lang::En), "-1 d 2 h");
        assert_eq!(format_duration(59 * S, Lang::Zh), "0分钟");
    }
}
