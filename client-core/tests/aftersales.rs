//! After-sales on a device without any IO: complaints filed and worked step by step, each
//! step refused locally for a role that may not take it (as the server would refuse it);
//! two after-sales devices resolving the same complaint offline merge into one
//! resolution; the queue sorts by SLA time left; logistics ships with batch numbers.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use automerge::ActorId;
use client_core::{CoreError, LocalStore, MemStore, Replica};
use protocol::rules::Principal;
use protocol::schema::complaint::ComplaintEvent;
use protocol::schema::customer::NewCustomer;
use protocol::schema::sla::ClockState;
use protocol::schema::{ComplaintEventKind as K, ComplaintStatus};
use protocol::{DocId, Role};
use uuid::Uuid;

const GZ: &str = "贵州";
const MIN: i64 = 60_000;
const T0: i64 = 1_800_000_000_000;

/// `user` in `role` over what `store` holds.
fn device(store: &MemStore, user: &str, role: Role, territory: Option<&str>) -> Replica {
    let mut r = store.load(ActorId::from(Uuid::new_v4().as_bytes()), user).unwrap();
    r.set_principal(Principal {
        user: user.into(),
        role,
        territories: territory.into_iter().map(String::from).collect(),
    });
    r
}

fn persist(r: &mut Replica, store: &mut MemStore) {
    store.apply(&r.take_store_ops()).unwrap();
}

/// Everything both stores hold, merged (what the server would relay to everyone).
fn merged(a: &MemStore, b: &MemStore) -> MemStore {
    let mut out = a.clone();
    for (id, doc) in &b.docs {
        let entry = out.docs.entry(*id).or_insert_with(|| doc.clone());
        for chunk in &doc.chunks {
            if !entry.chunks.contains(chunk) {
                entry.chunks.push(chunk.clone());
            }
        }
    }
    out
}

fn step(kind: K) -> ComplaintEvent {
    let mut e = ComplaintEvent::new(kind, 0, "");
    match kind {
        K::Investigating => e.findings = Some("瓶盖密封不严".into()),
        K::Measures => {
            e.measures = Some("换货两箱".into());
            e.expected = Some("2027-01-20".into());
        }
        K::Resolved | K::Reopened | K::FieldNote | K::Escalated => e.comment = Some("已处理".into()),
        K::Feedback => e.satisfaction = Some(4),
        K::Progress => {
            e.comment = Some("已安排换货".into());
            e.told_via = Some("phone".into());
        }
        _ => {}
    }
    e
}

fn rule_of(e: CoreError) -> String {
    match e {
        CoreError::NotAllowed { rule, .. } => rule,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A rep's customer and a complaint they filed about it, stored.
fn filed() -> (MemStore, DocId, DocId) {
    let mut store = MemStore::default();
    let mut li = device(&store, "li", Role::Rep, Some(GZ));
    let customer = li
        .create_customer(
            &NewCustomer { name: "遵义名酒行".into(), territory: Some(GZ.into()), ..Default::default() },
            T0,
        )
        .unwrap();
    let inputs = [
        ("customer", customer.to_string()),
        ("channel", "业务员现场".to_string()),
        ("category", "口感".to_string()),
        ("severity", "serious".to_string()),
        ("content", "这批酒喝起来发苦".to_string()),
        ("batch", "B2026-03".to_string()),
    ];
    let refs: Vec<(&str, &str)> = inputs.iter().map(|(f, v)| (*f, v.as_str())).collect();
    let c = li.file_complaint(&refs, T0 - 30 * MIN, T0).unwrap();
    persist(&mut li, &mut store);
    (store, customer, c)
}

#[test]
fn every_step_is_refused_locally_for_a_role_that_may_not_take_it() {
    let (mut store, _, c) = filed();
    let mut li = device(&store, "li", Role::Rep, Some(GZ));
    let v = li.complaint_view(c, T0).unwrap();
    assert_eq!((v.status, v.complaint.filed_by.as_str()), (ComplaintStatus::Received, "li"));
    assert_eq!(v.lifecycle.start, T0 - 30 * MIN, "the clocks start when the customer complained");
    // A rep files and adds field notes; every other step is after-sales'.
    for kind in [K::Acknowledged, K::Investigating, K::Measures, K::Resolved, K::Closed, K::Progress, K::Escalated] {
        assert_eq!(rule_of(li.complaint_step(c, step(kind), T0).unwrap_err()), "event-role", "{kind}");
    }
    li.complaint_step(c, step(K::FieldNote), T0).unwrap();
    assert_eq!(rule_of(li.edit(c, &[("severity", "normal")], T0).unwrap_err()), "role", "severity is after-sales'");
    persist(&mut li, &mut store);

    // Another territory's rep holds nothing of it and can add nothing.
    let mut zhang = device(&MemStore::default(), "zhang", Role::Rep, Some("四川"));
    assert!(zhang.complaint_step(c, step(K::FieldNote), T0).is_err());

    // After-sales works it; a manager escalates but does not resolve.
    let mut asx = device(&store, "as1", Role::AfterSales, None);
    for kind in [K::Acknowledged, K::Investigating, K::Measures, K::Progress, K::Waiting] {
        asx.complaint_step(c, step(kind), T0 + MIN).unwrap();
    }
    asx.edit(c, &[("severity", "critical")], T0 + MIN).unwrap();
    assert_eq!(asx.complaint_view(c, T0 + MIN).unwrap().clocks.resolve.state, ClockState::Paused);
    persist(&mut asx, &mut store);
    let mut boss = device(&store, "boss", Role::Manager, Some(GZ));
    boss.complaint_step(c, step(K::Escalated), T0 + 2 * MIN).unwrap();
    assert_eq!(rule_of(boss.complaint_step(c, step(K::Resolved), T0).unwrap_err()), "event-role");
    // A satisfaction of 9 is not one (the value check every log entry passes).
    let mut bad = step(K::Feedback);
    bad.satisfaction = Some(9);
    asx.complaint_step(c, step(K::Resolved), T0 + 3 * MIN).unwrap();
    assert_eq!(rule_of(asx.complaint_step(c, bad, T0).unwrap_err()), "event-value");
    asx.complaint_step(c, step(K::Feedback), T0 + 4 * MIN).unwrap();
    let v = asx.complaint_view(c, T0 + 5 * MIN).unwrap();
    assert_eq!((v.status, v.lifecycle.satisfaction), (ComplaintStatus::Feedback, Some(4)));
    assert_eq!(v.clocks.resolve.state, ClockState::Met);
    assert_eq!(v.lifecycle.timeline.iter().filter(|t| !t.applied).count(), 0, "{:#?}", v.lifecycle.timeline);
}

#[test]
fn two_devices_resolving_offline_make_one_resolution() {
    let (mut store, _, c) = filed();
    let mut as1 = device(&store, "as1", Role::AfterSales, None);
    for kind in [K::Acknowledged, K::Investigating] {
        as1.complaint_step(c, step(kind), T0 + MIN).unwrap();
    }
    persist(&mut as1, &mut store);
    // Both devices take the same state offline and resolve it, differently.
    let (mut a_store, mut b_store) = (store.clone(), store.clone());
    let mut a = device(&a_store, "as1", Role::AfterSales, None);
    let mut b = device(&b_store, "as2", Role::AfterSales, None);
    a.complaint_step(c, ComplaintEvent { comment: Some("换货".into()), ..step(K::Resolved) }, T0 + 10 * MIN).unwrap();
    b.complaint_step(c, ComplaintEvent { comment: Some("退款".into()), ..step(K::Resolved) }, T0 + 11 * MIN).unwrap();
    persist(&mut a, &mut a_store);
    persist(&mut b, &mut b_store);
    let both = merged(&a_store, &b_store);
    let seen = device(&both, "boss", Role::Manager, Some(GZ));
    let v = seen.complaint_view(c, T0 + 20 * MIN).unwrap();
    assert_eq!((v.status, v.lifecycle.resolutions), (ComplaintStatus::Resolved, 1));
    let resolutions: Vec<(bool, Option<&str>)> = v
        .lifecycle
        .timeline
        .iter()
        .filter(|t| t.event.kind == "resolved")
        .map(|t| (t.applied, t.event.comment.as_deref()))
        .collect();
    assert_eq!(
        resolutions,
        [(true, Some("换货")), (false, Some("退款"))],
        "the earlier one, until the server orders them"
    );
    // The other merge order folds the same way.
    let other = device(&merged(&b_store, &a_store), "boss", Role::Manager, Some(GZ));
    assert_eq!(other.complaint_view(c, T0 + 20 * MIN).unwrap().lifecycle.resolutions, 1);
}

#[test]
fn the_queue_puts_the_least_time_left_first() {
    let (mut store, customer, serious) = filed();
    let mut li = device(&store, "li", Role::Rep, Some(GZ));
    let new = |sev: &str| {
        [
            ("customer", customer.to_string()),
            ("channel", "hotline".to_string()),
            ("category", "packaging".to_string()),
            ("severity", sev.to_string()),
            ("content", format!("{sev} 投诉")),
        ]
    };
    let file = |li: &mut Replica, sev: &str, at: i64| {
        let inputs = new(sev);
        let refs: Vec<(&str, &str)> = inputs.iter().map(|(f, v)| (*f, v.as_str())).collect();
        li.file_complaint(&refs, at, T0).unwrap()
    };
    let normal = file(&mut li, "normal", T0);
    let late = file(&mut li, "critical", T0 - 2 * 60 * MIN);
    persist(&mut li, &mut store);
    let queue = li.complaint_queue(T0);
    let order: Vec<DocId> = queue.iter().map(|v| v.complaint.id).collect();
    // Critical received two hours ago: breached. Serious: 4 h to acknowledge, 3.5 h left.
    assert_eq!(order, [late, serious, normal]);
    assert!(queue[0].clocks.breached() && queue[0].time_left_ms() < 0);
    assert_eq!(queue[1].time_left_ms(), 4 * 60 * MIN - 30 * MIN);
}
