//! Plans as data: everything a simulation run does is drawn from its seed before it starts
//! ([`Plan::generate`]), so a run replays exactly and its plan can be printed. Steps name
//! their targets by numbers (`customer: 417`) that the run resolves against what the
//! device holds at that moment (the 417th modulo the number of candidates, in creation
//! order), so a plan stays meaningful whatever happened before.

use crate::Rng;
use protocol::Role;

/// The territories of the company in the simulation.
pub const TERRITORIES: [&str; 3] = ["四川", "贵州", "云南"];

/// A user of the simulated company.
#[derive(Clone, Copy, Debug)]
pub struct SimUser {
    pub name: &'static str,
    pub role: Role,
    pub territory: Option<&'static str>,
    pub manager: Option<&'static str>,
}

const fn user(
    name: &'static str,
    role: Role,
    territory: Option<&'static str>,
    manager: Option<&'static str>,
) -> SimUser {
    SimUser { name, role, territory, manager }
}

/// Every user exists on every server; a plan picks which of them have devices.
pub const USERS: [SimUser; 9] = [
    user("zhang", Role::Manager, Some("四川"), None),
    user("li", Role::Rep, Some("四川"), Some("zhang")),
    user("wang", Role::Rep, Some("贵州"), Some("zhang")),
    user("zhao", Role::Rep, Some("云南"), None),
    user("qian", Role::Finance, None, None),
    user("sun", Role::Logistics, None, None),
    user("zhou", Role::Market, None, None),
    user("wu", Role::Executive, None, None),
    user("admin", Role::Admin, None, None),
];

pub const ZHANG: usize = 0;
pub const LI: usize = 1;
pub const WANG: usize = 2;
pub const ZHAO: usize = 3;
pub const QIAN: usize = 4;
pub const SUN: usize = 5;
pub const ZHOU: usize = 6;
pub const WU: usize = 7;

/// One device of the plan.
#[derive(Clone, Debug)]
pub struct DeviceSpec {
    /// Index into [`USERS`].
    pub user: usize,
    /// Does the replica check edits against the rules before committing them (an honest,
    /// current client)? Devices that do not (an older client) make the server refuse.
    pub checked: bool,
}

/// A line of an order: a SKU of the example policy, a quantity, a discount below the list
/// price of the customer's tier.
#[derive(Clone, Debug)]
pub struct LineSpec {
    pub sku: usize,
    pub qty: i64,
    pub discount_pct: i64,
}

/// What a device's user does (offline: committed locally, pushed when connected).
#[derive(Clone, Debug)]
pub enum Action {
    CreateCustomer {
        territory: usize,
        channel: usize,
        class: usize,
    },
    SetCustomer {
        customer: usize,
        field: usize,
        value: usize,
    },
    AddContact {
        customer: usize,
    },
    CreateVisit {
        customer: usize,
        kind: usize,
    },
    SetVisit {
        visit: usize,
        value: usize,
    },
    /// A competitor observation, created with the generic `Replica::create`.
    Observe {
        customer: usize,
        price: usize,
    },
    CreateOrder {
        customer: usize,
        lines: Vec<LineSpec>,
    },
    AddLine {
        order: usize,
        line: LineSpec,
    },
    SetLine {
        order: usize,
        qty: i64,
    },
    Submit {
        order: usize,
    },
    Decide {
        order: usize,
        approve: bool,
    },
    Pay {
        order: usize,
    },
    Ship {
        order: usize,
    },
    Deliver {
        order: usize,
    },
    Exception {
        order: usize,
    },
    Resolve {
        order: usize,
    },
    Cancel {
        order: usize,
    },
    Close {
        order: usize,
    },
    /// A manager moves a customer (with its visits and orders) to another territory.
    Reassign {
        customer: usize,
        territory: usize,
    },
    /// The market department publishes the next policy version.
    Publish {
        authority_bp: u32,
    },
    /// A rep names another owner (only managers may: the server refuses).
    SetOwner {
        customer: usize,
    },
}

impl Action {
    /// The kind of document the action picks among those the device holds.
    pub fn target(&self) -> Option<protocol::DocKind> {
        use protocol::DocKind;
        match self {
            Action::CreateCustomer { .. } | Action::Publish { .. } => None,
            Action::SetVisit { .. } => Some(DocKind::Visit),
            Action::SetCustomer { .. }
            | Action::AddContact { .. }
            | Action::CreateVisit { .. }
            | Action::Observe { .. }
            | Action::CreateOrder { .. }
            | Action::Reassign { .. }
            | Action::SetOwner { .. } => Some(DocKind::Customer),
            _ => Some(DocKind::Order),
        }
    }
}

/// What the server's command line does (queued, carried out on the next tick).
#[derive(Clone, Debug)]
pub enum AdminStep {
    /// `jiuloop-server policy import`.
    Publish { authority_bp: u32 },
    /// `jiuloop-server customer reassign`.
    Reassign { customer: usize, territory: usize },
}

#[derive(Clone, Debug)]
pub enum Step {
    Edit {
        dev: usize,
        action: Action,
    },
    /// Open a connection (if the device has none): hello and pushes, pipelined.
    Connect {
        dev: usize,
    },
    /// Cut the device's connection: of the frames it sent that the hub has not read yet,
    /// the first `keep` still reach the hub (late, perhaps after the next connection's);
    /// the rest and everything on the way to the device are lost.
    Cut {
        dev: usize,
        keep: usize,
    },
    /// The hub reads up to `frames` frames of one connection (`spread`: and of another,
    /// in the same batch: group commit); `dup`: it processes each push a second time, and
    /// the answer to the copy is lost.
    ToHub {
        pick: usize,
        frames: usize,
        dup: bool,
        spread: bool,
    },
    /// A device reads up to `frames` frames from its connection.
    ToDevice {
        pick: usize,
        frames: usize,
    },
    /// The device's process restarts: it reloads from its store.
    RestartDevice {
        dev: usize,
        keep: usize,
    },
    /// The device reads the next frame from its connection and dies before its store
    /// holds what that frame changed (and before it answers); it restarts from its store.
    CrashDevice {
        dev: usize,
    },
    /// The server restarts: the hub is dropped and reopened over the same SQLite file.
    RestartHub,
    Admin(AdminStep),
    /// The hub's periodic tick (carries out queued admin commands).
    Tick,
}

/// How the first policy version reaches the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicySetup {
    /// `policy import` before anything else.
    AdminFirst,
    /// The market device publishes it before anything else (it syncs like any edit).
    MarketFirst,
    /// Somewhere in the first round (orders wait for it).
    Later,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub seed: u64,
    pub devices: Vec<DeviceSpec>,
    /// Hub settings: small, so that eviction and compaction happen.
    pub cache_docs: usize,
    pub compact_after: u64,
    pub policy: PolicySetup,
    pub rounds: Vec<Vec<Step>>,
}

impl Plan {
    pub fn generate(seed: u64) -> Plan {
        let mut rng = Rng::new(seed ^ 0x51_4D_5F_70_6C_61_6E);
        let devices = pick_devices(&mut rng);
        let policy = match rng.below(100) {
            0..45 => PolicySetup::AdminFirst,
            45..80 if devices.iter().any(|d| d.user == ZHOU) => PolicySetup::MarketFirst,
            _ => PolicySetup::Later,
        };
        let cache_docs = *rng.pick(&[2, 4, 16, 256]);
        let compact_after = *rng.pick(&[2, 3, 8, 64]);
        let n_rounds = 1 + rng.below(3);
        let mut rounds = Vec::new();
        for r in 0..n_rounds {
            let mut steps = Vec::new();
            if r == 0 {
                match policy {
                    PolicySetup::AdminFirst => {
                        steps.push(Step::Admin(AdminStep::Publish { authority_bp: 300 }));
                        steps.push(Step::Tick);
                    }
                    PolicySetup::MarketFirst => {
                        let dev = devices.iter().position(|d| d.user == ZHOU).expect("market device");
                        steps.push(Step::Edit { dev, action: Action::Publish { authority_bp: 300 } });
                    }
                    PolicySetup::Later => {}
                }
            }
            let n = 18 + rng.below(32);
            let late_policy = (r == 0 && policy == PolicySetup::Later).then(|| rng.below(n));
            for i in 0..n {
                if late_policy == Some(i) {
                    steps.push(Step::Admin(AdminStep::Publish { authority_bp: 300 }));
                    steps.push(Step::Tick);
                }
                steps.push(step(&mut rng, &devices));
            }
            rounds.push(steps);
        }
        Plan { seed, devices, cache_docs, compact_after, policy, rounds }
    }

    /// The plan, one step a line, for a failure report.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "plan of seed {}: cache_docs {}, compact_after {}, policy {:?}\n",
            self.seed, self.cache_docs, self.compact_after, self.policy
        );
        for (i, d) in self.devices.iter().enumerate() {
            let u = &USERS[d.user];
            out += &format!("  device {i}: {} ({}){}\n", u.name, u.role, if d.checked { "" } else { ", unchecked" });
        }
        for (r, steps) in self.rounds.iter().enumerate() {
            out += &format!("  round {r}:\n");
            for (i, s) in steps.iter().enumerate() {
                out += &format!("    {r}.{i:<3} {s:?}\n");
            }
        }
        out
    }
}

fn pick_devices(rng: &mut Rng) -> Vec<DeviceSpec> {
    let mut users = vec![LI];
    if rng.chance(60) {
        users.push(WANG);
    }
    if rng.chance(75) {
        users.push(ZHANG);
    }
    for (u, p) in [(QIAN, 50), (SUN, 50), (ZHOU, 40), (WU, 25), (ZHAO, 15)] {
        if rng.chance(p) {
            users.push(u);
        }
    }
    // A second device of one field user (laptop and phone of the same rep).
    if rng.chance(25) {
        users.push(if rng.chance(50) { LI } else { ZHANG });
    }
    users.truncate(6);
    users.into_iter().map(|user| DeviceSpec { user, checked: rng.chance(85) }).collect()
}

fn pick(rng: &mut Rng) -> usize {
    rng.below(1000)
}

/// Who edits: field staff most, the market department (which only publishes) least.
fn editor(rng: &mut Rng, devices: &[DeviceSpec]) -> usize {
    let weight = |d: &DeviceSpec| match USERS[d.user].role {
        Role::Rep | Role::Manager => 6,
        Role::Market => 1,
        _ => 3,
    };
    let mut roll = rng.below(devices.iter().map(weight).sum());
    for (i, d) in devices.iter().enumerate() {
        if roll < weight(d) {
            return i;
        }
        roll -= weight(d);
    }
    unreachable!("the roll is below the total weight")
}

fn step(rng: &mut Rng, devices: &[DeviceSpec]) -> Step {
    let dev = rng.below(devices.len());
    match rng.below(100) {
        0..38 => {
            let dev = editor(rng, devices);
            Step::Edit { dev, action: action(rng, &devices[dev]) }
        }
        38..59 => Step::ToHub { pick: pick(rng), frames: 1 + rng.below(4), dup: rng.chance(8), spread: rng.chance(25) },
        59..80 => Step::ToDevice { pick: pick(rng), frames: 1 + rng.below(4) },
        80..90 => Step::Connect { dev },
        90..94 => Step::Cut { dev, keep: rng.below(3) },
        94..95 => Step::RestartDevice { dev, keep: rng.below(3) },
        95..96 => Step::CrashDevice { dev },
        96..98 => Step::RestartHub,
        98 => {
            if rng.chance(50) {
                Step::Admin(AdminStep::Reassign { customer: pick(rng), territory: rng.below(TERRITORIES.len()) })
            } else {
                Step::Admin(AdminStep::Publish { authority_bp: *rng.pick(&[300, 500]) })
            }
        }
        _ => Step::Tick,
    }
}

fn line(rng: &mut Rng) -> LineSpec {
    LineSpec { sku: pick(rng), qty: *rng.pick(&[1, 2, 6, 12, 40]), discount_pct: *rng.pick(&[0, 0, 2, 5, 10]) }
}

fn action(rng: &mut Rng, d: &DeviceSpec) -> Action {
    let order = pick(rng);
    let customer = pick(rng);
    let role = USERS[d.user].role;
    // (weight, action) for what this role does; unchecked devices also try what they may not.
    let mut menu: Vec<(usize, Action)> = Vec::new();
    let field = matches!(role, Role::Rep | Role::Manager);
    if field {
        menu.extend([
            (10, Action::CreateCustomer { territory: pick(rng), channel: pick(rng), class: pick(rng) }),
            (10, Action::SetCustomer { customer, field: pick(rng), value: pick(rng) }),
            (3, Action::AddContact { customer }),
            (6, Action::CreateVisit { customer, kind: pick(rng) }),
            (4, Action::SetVisit { visit: pick(rng), value: pick(rng) }),
            (4, Action::Observe { customer, price: pick(rng) }),
            (10, Action::CreateOrder { customer, lines: (0..1 + rng.below(3)).map(|_| line(rng)).collect() }),
            (4, Action::AddLine { order, line: line(rng) }),
            (3, Action::SetLine { order, qty: *rng.pick(&[1, 3, 24]) }),
            (9, Action::Submit { order }),
            (2, Action::Deliver { order }),
            (1, Action::Exception { order }),
            (1, Action::Resolve { order }),
            (1, Action::Cancel { order }),
            (1, Action::Close { order }),
        ]);
    }
    match role {
        Role::Manager => menu.extend([
            (10, Action::Decide { order, approve: rng.chance(80) }),
            (5, Action::Reassign { customer, territory: pick(rng) }),
        ]),
        Role::Executive => menu.push((10, Action::Decide { order, approve: rng.chance(80) })),
        Role::Finance => menu.extend([(10, Action::Pay { order }), (2, Action::Exception { order })]),
        Role::Logistics => menu.extend([
            (8, Action::Ship { order }),
            (6, Action::Deliver { order }),
            (3, Action::Exception { order }),
            (2, Action::Resolve { order }),
        ]),
        Role::Market => menu.push((3, Action::Publish { authority_bp: *rng.pick(&[300, 500]) })),
        _ => {}
    }
    if !d.checked {
        menu.extend([
            (4, Action::SetOwner { customer }),
            (3, Action::Pay { order }),
            (3, Action::SetLine { order, qty: 7 }),
            (2, Action::Reassign { customer, territory: pick(rng) }),
        ]);
    }
    if menu.is_empty() {
        return Action::Pay { order };
    }
    let total: usize = menu.iter().map(|(w, _)| w).sum();
    let mut roll = rng.below(total);
    for (w, a) in menu {
        if roll < w {
            return a;
        }
        roll -= w;
    }
    unreachable!("the roll is below the total weight")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_plan() {
        for seed in [0, 1, 99, u64::MAX] {
            assert_eq!(Plan::generate(seed).describe(), Plan::generate(seed).describe());
        }
        assert_ne!(Plan::generate(1).describe(), Plan::generate(2).describe());
    }
}
