//! SLA clocks on the hub, with the clock in the test's hand: a critical complaint's
//! acknowledgement clock warns and runs out while nobody pushes anything (the tick), the
//! breach is recorded once and escalated to the territory's manager, and nothing doubles
//! it — reconnects, resent pushes, a restart, a late acknowledgement stating an early time.

use super::*;
use protocol::kinds::parse::ParseContext;
use protocol::schema::complaint::{self, ComplaintEvent, track_id};
use protocol::schema::customer::{self, NewCustomer};
use protocol::schema::record::{self, Writer};

const GZ: &str = "贵州";
const MIN: i64 = 60_000;
const T0: i64 = 1_900_000_000_000;

/// A count from the database file, read beside the hub (as an operator would).
fn count(path: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn tick(hub: &mut Hub, at: i64) -> Vec<Outgoing> {
    hub.handle(HubEvent::Tick { now: at }, at)
}

#[test]
fn a_breach_is_recorded_once_and_escalated_to_the_territory_manager() {
    let path = temp_db();
    let mut hub = open_hub(&path, 100, 64);
    let li = Device::of(1, "li", Role::Rep, Some(GZ));
    let boss = Device::of(2, "boss", Role::Manager, Some(GZ));
    let as1 = Device::of(3, "as1", Role::AfterSales, None);
    for d in [&li, &boss, &as1] {
        d.register(&hub);
        hub.handle(HubEvent::Connected { conn: d.conn, session: d.session() }, T0);
        hub.handle(d.hello(0), T0);
    }

    // A critical complaint, filed as the customer calls (1 hour to acknowledge).
    let (cid, kid) = (DocId::new_random(), DocId::new_random());
    let mut cdoc = li.doc();
    let new = NewCustomer { name: "遵义名酒行".into(), territory: Some(GZ.into()), ..Default::default() };
    customer::init(&mut cdoc, &new, T0, "li").unwrap();
    cdoc.commit();
    let mut kdoc = li.doc();
    let c = cid.to_string();
    let inputs = [
        ("customer", c.as_str()),
        ("channel", "hotline"),
        ("category", "taste"),
        ("severity", "critical"),
        ("content", "喝完头晕，怀疑假酒"),
    ];
    record::create(&mut kdoc, DocKind::Complaint, &inputs, &Writer { user: "li", now: T0 }, &ParseContext::default())
        .unwrap();
    kdoc.commit();
    let pushed = vec![
        DocChunk { id: cid, kind: DocKind::Customer, heads: hashes_to_wire(&cdoc.get_heads()), changes: cdoc.save() },
        DocChunk { id: kid, kind: DocKind::Complaint, heads: hashes_to_wire(&kdoc.get_heads()), changes: kdoc.save() },
    ];
    let out = hub.handle(li.push(pushed.clone()), T0);
    assert_eq!(acks(&msgs_for(&out, li.conn)).len(), 2, "{out:?}");
    let breaches = "SELECT COUNT(*) FROM effects WHERE effect = 'sla-breach'";
    let escalations = "SELECT COUNT(*) FROM notifications WHERE department = 'manager'";
    let warnings = "SELECT COUNT(*) FROM notifications WHERE department = 'after-sales' AND kind LIKE 'sla-warning%'";

    // Nothing before the warning (20 % left: 48 minutes in); the warning once.
    assert!(tick(&mut hub, T0 + 47 * MIN).is_empty());
    assert_eq!(count(&path, warnings), 0);
    let out = tick(&mut hub, T0 + 48 * MIN);
    assert_eq!(count(&path, warnings), 1);
    let tracks = changes(&msgs_for(&out, boss.conn));
    assert!(tracks.iter().any(|c| c.id == track_id(kid)), "the manager's device gets the tracking document");
    tick(&mut hub, T0 + 50 * MIN);
    assert_eq!(count(&path, warnings), 1);

    // At the deadline itself 0 ms are left: no breach. One millisecond later: the breach.
    tick(&mut hub, T0 + 60 * MIN);
    assert_eq!(count(&path, breaches), 0);
    let out = tick(&mut hub, T0 + 60 * MIN + 1);
    assert_eq!((count(&path, breaches), count(&path, escalations)), (1, 1));
    let message: String = {
        let conn = rusqlite::Connection::open(&*path).unwrap();
        conn.query_row("SELECT message FROM notifications WHERE department = 'manager'", [], |r| r.get(0)).unwrap()
    };
    assert!(message.contains("超时未受理") && message.contains("boss") && message.contains("遵义名酒行"), "{message}");
    // Every reader of the complaint gets the breach live.
    for d in [&li, &boss, &as1] {
        let got = changes(&msgs_for(&out, d.conn));
        assert!(got.iter().any(|c| c.id == track_id(kid)), "{} gets the breach", d.user);
    }

    // Reconnects, resends and ticks change nothing.
    for round in 0..3 {
        let at = T0 + (2 + round) * 60 * MIN;
        hub.handle(HubEvent::Disconnected { conn: li.conn }, at);
        hub.handle(HubEvent::Connected { conn: li.conn, session: li.session() }, at);
        hub.handle(li.hello(0), at);
        hub.handle(li.push(pushed.clone()), at);
        tick(&mut hub, at + 1);
    }
    assert_eq!((count(&path, breaches), count(&path, escalations)), (1, 1));

    // After-sales acknowledges late, stating a time before the deadline: the breach stands.
    let mut adoc = AutoCommit::new().with_actor(ActorId::from(as1.actor.clone()));
    for ch in &pushed[1..] {
        adoc.load_incremental(&ch.changes).unwrap();
    }
    let stamp = hub.db().load_doc(kid.as_bytes()).unwrap().unwrap();
    adoc.load_incremental(&stamp.bytes).unwrap();
    let before = adoc.get_heads();
    complaint::append_event(
        &mut adoc,
        &ComplaintEvent::new(protocol::schema::ComplaintEventKind::Acknowledged, T0 + 10 * MIN, "as1"),
    )
    .unwrap();
    adoc.commit();
    let ack = DocChunk {
        id: kid,
        kind: DocKind::Complaint,
        heads: hashes_to_wire(&adoc.get_heads()),
        changes: adoc.save_after(&before),
    };
    let out = hub.handle(as1.push(vec![ack]), T0 + 5 * 60 * MIN);
    assert_eq!(acks(&msgs_for(&out, as1.conn)).len(), 1, "{out:?}");
    tick(&mut hub, T0 + 6 * 60 * MIN);
    assert_eq!((count(&path, breaches), count(&path, escalations)), (1, 1));
    let track = hub.db().load_doc(track_id(kid).as_bytes()).unwrap().unwrap();
    let mut tdoc = AutoCommit::new();
    tdoc.load_incremental(&track.bytes).unwrap();
    let t = complaint::read_track(&tdoc).unwrap();
    assert_eq!((t.ack_breached_at, t.escalated_to.as_deref()), (Some(T0 + 60 * MIN), Some("boss")));

    // A restart changes nothing either.
    drop(hub);
    let mut hub = open_hub(&path, 100, 64);
    tick(&mut hub, T0 + 7 * 60 * MIN);
    assert_eq!((count(&path, breaches), count(&path, escalations)), (1, 1));
}
