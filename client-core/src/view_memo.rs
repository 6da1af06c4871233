//! Views computed from the documents a replica holds, kept while every document they read
//! keeps its revision ([`crate::doc_map::DocMap`]).
//!
//! Lists, queues and the navigation's badges read every order on each repaint; decoding
//! thousands of Automerge documents each time made a browser screen take seconds. Now an
//! order is decoded and viewed again only when it, its verdict, its customer or a document
//! every order reads (the price policy, the approval policy, a contract — the
//! [`crate::ORDER_CONTEXT_KINDS`]) or the user changed. The key of an entry names exactly
//! what its computation read, and revisions change on every mutable access, so a view
//! served from here is the one a fresh computation gives (the tests compare both).

use crate::order_workflow::OrderView;
use protocol::DocId;
use protocol::rules::Principal;
use protocol::schema::customer::Customer;
use protocol::schema::policy_doc::PublishedPolicy;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Values per document, each with the key it was computed under.
pub(crate) struct Memo<K, T> {
    entries: Mutex<HashMap<DocId, (K, Arc<T>)>>,
}

impl<K, T> Default for Memo<K, T> {
    fn default() -> Self {
        Memo { entries: Mutex::new(HashMap::new()) }
    }
}

impl<K: PartialEq, T> Memo<K, T> {
    fn lock(&self) -> MutexGuard<'_, HashMap<DocId, (K, Arc<T>)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value kept for `id` if it was computed under `key`.
    pub fn get(&self, id: DocId, key: &K) -> Option<Arc<T>> {
        self.lock().get(&id).filter(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    pub fn put(&self, id: DocId, key: K, value: T) -> Arc<T> {
        let value = Arc::new(value);
        self.lock().insert(id, (key, value.clone()));
        value
    }

    /// The value for `id` under `key`, computed (outside the lock: a computation may use
    /// other memos) when none is kept; a computation's error is returned, nothing kept.
    pub fn get_or_try<E>(&self, id: DocId, key: K, compute: impl FnOnce() -> Result<T, E>) -> Result<Arc<T>, E> {
        if let Some(v) = self.get(id, &key) {
            return Ok(v);
        }
        Ok(self.put(id, key, compute()?))
    }

    /// [`Memo::get_or_try`] for a computation that may give nothing.
    pub fn get_or(&self, id: DocId, key: K, compute: impl FnOnce() -> Option<T>) -> Option<Arc<T>> {
        self.get_or_try(id, key, || compute().ok_or(())).ok()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Forget the entries of documents `keep` says are gone.
    pub fn retain(&self, keep: impl Fn(&DocId) -> bool) {
        self.lock().retain(|id, _| keep(id));
    }

    pub fn clear(&self) {
        self.lock().clear();
    }
}

/// What every order's view reads besides its own documents: the revisions of the kinds
/// every order reads, and who is looking (the pricer's role, one's own orders).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct OrderContext {
    pub kinds: Vec<u64>,
    pub user: String,
    pub principal: Option<Principal>,
}

/// The revisions of the order, its verdict and its customer.
pub(crate) type OrderKey = [u64; 3];

#[derive(Default)]
pub(crate) struct ViewMemo {
    /// The context the kept order views were computed in.
    order_context: Mutex<Option<OrderContext>>,
    pub orders: Memo<OrderKey, OrderView>,
    pub customers: Memo<u64, Customer>,
    /// The published policy versions, under the policy document's revision.
    pub policy: Memo<u64, Vec<PublishedPolicy>>,
}

impl ViewMemo {
    /// Order views are about to be read in `context`: forget those computed in another.
    pub fn order_context(&self, context: OrderContext) {
        let mut kept = self.order_context.lock().unwrap_or_else(|e| e.into_inner());
        if kept.as_ref() != Some(&context) {
            self.orders.clear();
            *kept = Some(context);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Replica, StoreOp};
    use automerge::{ActorId, AutoCommit};
    use protocol::rules::Principal;
    use protocol::schema::order::NewLine;
    use protocol::schema::verdict::{self, OrderVerdict, verdict_id};
    use protocol::schema::{OrderSource, policy_doc::POLICY_DOC_ID};
    use protocol::{DocId, DocKind, Role};
    use std::sync::Arc;

    fn principal(user: &str, role: Role) -> Principal {
        Principal { user: user.into(), role, territories: vec!["贵州".into()] }
    }

    /// What the replica shows, through the memo and computed afresh.
    fn both(r: &Replica) -> (String, String) {
        (format!("{:?}", r.order_views()), format!("{:?}", r.order_views_fresh()))
    }

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) % n as u64) as usize
        }
    }

    /// A verdict the server would write, about the order's current content or a stale one.
    fn verdict_op(r: &Replica, order: DocId, current: bool, now: i64) -> StoreOp {
        let hash = if current { r.content_hash(order).unwrap_or_default() } else { "stale".into() };
        let v = OrderVerdict {
            order: Some(order),
            content_hash: hash,
            policy_version: 1,
            priced_with: 1,
            stale: false,
            verdict: "ok".into(),
            required: if now % 2 == 0 { vec![Role::Manager] } else { vec![] },
            priced: None,
            checked_at: now,
            assigned_at: None,
            contract: String::new(),
            contract_id: None,
        };
        let mut doc = AutoCommit::new();
        verdict::write(&mut doc, order, &v).unwrap();
        StoreOp::AppendChunk { id: verdict_id(order), kind: DocKind::Verdict, bytes: doc.save() }
    }

    /// Seeded plans of edits, received verdicts, policy versions, users switching and
    /// documents forgotten: after every step the memo's views are the fresh ones.
    #[test]
    fn views_from_the_memo_are_the_fresh_ones_after_every_kind_of_change() {
        let policy = protocol::pricing::parse_policy_csv(include_str!("../../examples/policy.csv")).unwrap();
        for seed in 0..12u64 {
            let mut rng = Rng(seed);
            let mut r = Replica::load(ActorId::from(&[7u8; 16][..]), "li", vec![], 0, vec![]).unwrap();
            r.set_principal(principal("ma", Role::Market));
            r.publish_policy(&policy, 1).unwrap();
            r.set_principal(principal("li", Role::Rep));
            let mut customers = Vec::new();
            for (i, channel) in ["经销商", "restaurant", "direct-store"].into_iter().enumerate() {
                let name = format!("客户{i}");
                let inputs = [("name", name.as_str()), ("channel", channel), ("territory", "贵州"), ("owner", "li")];
                customers.push(r.create(DocKind::Customer, &inputs, 2).unwrap());
            }
            let mut orders: Vec<DocId> = (0..6)
                .map(|i| r.create_order(customers[i % 3], OrderSource::Electronic, 10 + i as i64).unwrap())
                .collect();
            let mut steps = Vec::new();
            let (mut changed_channel, mut published) = (0, 0);
            for step in 0..120i64 {
                let now = 100 + step;
                let o = orders[rng.below(orders.len())];
                let op = rng.below(9);
                steps.push(op);
                let _ = match op {
                    0 => {
                        let sku = ["QY-53-500", "MT-53-500", "XJ-52-500"][rng.below(3)];
                        let line = NewLine {
                            id: format!("l{step}"),
                            sku: sku.into(),
                            spec: None,
                            qty: 1 + rng.below(30) as i64,
                            unit_price_fen: 50_000 + 10_000 * rng.below(10) as i64,
                        };
                        r.add_order_line(o, &line, now).map(drop)
                    }
                    1 => r.submit_order(o, now),
                    2 => {
                        // The channel (what pricing reads) is the manager's to set.
                        let me = r.principal().cloned().unwrap();
                        r.set_principal(principal("zhang", Role::Manager));
                        let c = customers[rng.below(3)];
                        let done =
                            r.set_customer(c, "channel", ["经销商", "restaurant", "direct-store"][rng.below(3)], now);
                        r.set_principal(me);
                        done.map(|()| changed_channel += 1)
                    }
                    3 => {
                        let me = r.principal().cloned().unwrap();
                        r.set_principal(principal("ma", Role::Market));
                        let next = protocol::pricing::Policy {
                            version: r.policy_versions().len() as u32 + 1,
                            ..policy.clone()
                        };
                        let done = r.publish_policy(&next, now);
                        r.set_principal(me);
                        done.map(|()| published += 1)
                    }
                    4 => {
                        let role = [Role::Rep, Role::Manager, Role::Finance][rng.below(3)];
                        r.set_principal(principal("li", role));
                        Ok(())
                    }
                    5 => {
                        let op = verdict_op(&r, o, rng.below(3) > 0, now);
                        r.apply_peer_ops(&[op]).map(drop)
                    }
                    6 if orders.len() > 2 => {
                        orders.retain(|x| *x != o);
                        r.apply_peer_ops(&[StoreOp::DeleteDoc { id: o }]).map(drop)
                    }
                    7 => r.decide_order(o, rng.below(2) == 0, "", now),
                    _ => {
                        r.create_order(customers[rng.below(3)], OrderSource::Electronic, now).map(|id| orders.push(id))
                    }
                };
                let (memo, fresh) = both(&r);
                assert!(!r.order_views().is_empty());
                assert_eq!(memo, fresh, "seed {seed}, after steps {steps:?}");
                let one = orders[rng.below(orders.len())];
                assert_eq!(
                    r.order_view(one).map(|v| format!("{v:?}")).ok(),
                    r.order_views_fresh().iter().find(|v| v.order.id == one).map(|v| format!("{v:?}")),
                    "seed {seed}, one order after steps {steps:?}"
                );
            }
            assert!(changed_channel > 0 && published > 0, "seed {seed}: the plan changed a channel and the policy");
        }
    }

    #[test]
    fn a_view_is_computed_again_only_when_something_it_reads_changed() {
        let policy = protocol::pricing::parse_policy_csv(include_str!("../../examples/policy.csv")).unwrap();
        let mut r = Replica::load(ActorId::from(&[8u8; 16][..]), "li", vec![], 0, vec![]).unwrap();
        r.set_principal(principal("ma", Role::Market));
        r.publish_policy(&policy, 1).unwrap();
        r.set_principal(principal("li", Role::Rep));
        let inputs = [("name", "贵阳酒行"), ("channel", "经销商"), ("territory", "贵州"), ("owner", "li")];
        let c = r.create(DocKind::Customer, &inputs, 2).unwrap();
        let other = [("name", "遵义酒行"), inputs[1], inputs[2], inputs[3]];
        let other = r.create(DocKind::Customer, &other, 2).unwrap();
        let a = r.create_order(c, OrderSource::Electronic, 3).unwrap();
        let b = r.create_order(other, OrderSource::Electronic, 4).unwrap();
        let view = |r: &Replica, id: DocId| r.order_views_shared().into_iter().find(|v| v.order.id == id).unwrap();
        let same = |r: &Replica, id: DocId, before: &Arc<crate::OrderView>| Arc::ptr_eq(&view(r, id), before);
        let (va, vb) = (view(&r, a), view(&r, b));
        assert!(same(&r, a, &va) && same(&r, b, &vb), "nothing changed: both kept");
        r.set_principal(principal("zhang", Role::Manager));
        r.set_customer(c, "channel", "restaurant", 5).unwrap();
        r.set_principal(principal("li", Role::Rep));
        assert!(!same(&r, a, &va) && same(&r, b, &vb), "a's customer changed: a again, b kept");
        let vb = view(&r, b);
        let op = verdict_op(&r, b, true, 6);
        r.apply_peer_ops(&[op]).unwrap();
        assert!(!same(&r, b, &vb), "b's verdict arrived");
        let (va, vb) = (view(&r, a), view(&r, b));
        r.set_principal(principal("li", Role::Manager));
        assert!(!same(&r, a, &va) && !same(&r, b, &vb), "another role: every view again");
        let (va, vb) = (view(&r, a), view(&r, b));
        r.set_principal(principal("ma", Role::Market));
        r.publish_policy(&protocol::pricing::Policy { version: 2, ..policy }, 7).unwrap();
        r.set_principal(principal("li", Role::Manager));
        assert!(r.rev(POLICY_DOC_ID) > 0);
        assert!(!same(&r, a, &va) && !same(&r, b, &vb), "a new policy version: every view again");
    }
}
