//! The price policy (价格体系): one published, versioned set of catalogue, prices, promotions,
//! authorities and scheduled adjustments. Owned by the market role, read-only everywhere else.
//!
//! A `Policy` is plain data (serde): the server publishes it to devices as postcard bytes
//! ([`Policy::to_bytes`] / [`Policy::from_bytes`], which validates) or as JSON. Lookups are
//! independent of the order of the vectors: every tie is broken by a stable key.

use super::catalogue::Sku;
use crate::ids::DocId;
use crate::role::Role;
use crate::schema::Channel;
use crate::schema::order::MAX_UNIT_PRICE_FEN;
use crate::time::UtcMillis;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// 100 % in basis points.
pub const BP_SCALE: i64 = 10_000;

/// Largest order-amount threshold (10^15 fen = 10 trillion yuan).
pub const MAX_THRESHOLD_FEN: i64 = 1_000_000_000_000_000;

string_enum!(
    /// Price tier (价格档).
    PriceTier {
        Factory = "factory", "出厂价", "Factory price";
        Wholesale = "wholesale", "批发价", "Wholesale price";
        Retail = "retail", "零售价", "Retail price";
    }
);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Increases with every publication; orders record the version they were priced with.
    pub version: u32,
    pub title: String,
    /// Who approves a unit price above the policy price.
    #[serde(with = "super::role_serde")]
    pub markup_approver: Role,
    pub skus: Vec<Sku>,
    pub prices: Vec<TierPrice>,
    pub channel_tiers: Vec<ChannelTier>,
    pub agreements: Vec<AgreementPrice>,
    pub promotions: Vec<Promotion>,
    pub authorities: Vec<DiscountAuthority>,
    pub thresholds: Vec<AmountThreshold>,
    pub adjustments: Vec<PriceAdjustment>,
}

/// The base price of one SKU in one tier, per SKU unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierPrice {
    pub sku: String,
    pub tier: PriceTier,
    pub price_fen: i64,
}

/// Customers of `channel` pay `tier` prices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelTier {
    pub channel: Channel,
    pub tier: PriceTier,
}

/// A price negotiated with one customer (协议价) for one SKU, valid in `[start, end]`
/// (inclusive; `None` = unbounded). It replaces the tier price for that customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementPrice {
    pub customer: DocId,
    pub sku: String,
    pub price_fen: i64,
    pub start: Option<UtcMillis>,
    pub end: Option<UtcMillis>,
    /// For people (e.g. the customer's name); not used in pricing.
    pub note: String,
}

/// A promotion (促销) for one SKU, valid from the first to the last millisecond of
/// `[start, end]` (both inclusive), for customers of `channels` (empty = every channel).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promotion {
    pub id: String,
    pub name: String,
    pub sku: String,
    pub channels: Vec<Channel>,
    pub start: UtcMillis,
    pub end: UtcMillis,
    pub kind: PromotionKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionKind {
    /// `bp` basis points off the list price (500 = 5 % off), rounded half up to the fen.
    PercentOff { bp: u32 },
    /// The unit price is `price_fen`.
    FixedPrice { price_fen: i64 },
    /// For every whole `buy` units ordered, `free` units of `gift_sku` (default: the same SKU)
    /// are given free. Does not change the unit price.
    BuyGet { buy: u32, free: u32, gift_sku: Option<String> },
}

/// `role` may sell up to `max_discount_bp` below the policy price without approval, and
/// approves discounts up to that much.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscountAuthority {
    #[serde(with = "super::role_serde")]
    pub role: Role,
    pub max_discount_bp: u32,
}

/// An order whose total reaches `min_total_fen` needs approval by `role`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmountThreshold {
    pub min_total_fen: i64,
    #[serde(with = "super::role_serde")]
    pub role: Role,
}

/// A scheduled price change (调价): from `effective_at` the `tier` price of `sku` is
/// `price_fen`; from `notice_at` (≤ `effective_at`) devices show it as upcoming.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceAdjustment {
    pub id: String,
    pub sku: String,
    pub tier: PriceTier,
    pub price_fen: i64,
    pub notice_at: UtcMillis,
    pub effective_at: UtcMillis,
    pub note: String,
}

impl Promotion {
    pub fn is_valid_at(&self, at: UtcMillis) -> bool {
        self.start <= at && at <= self.end
    }

    pub fn applies_to_channel(&self, channel: Option<Channel>) -> bool {
        self.channels.is_empty() || channel.is_some_and(|c| self.channels.contains(&c))
    }
}

impl AgreementPrice {
    pub fn is_valid_at(&self, at: UtcMillis) -> bool {
        self.start.is_none_or(|s| s <= at) && self.end.is_none_or(|e| at <= e)
    }
}

/// Which entry of a policy a problem is about (index into the named vector).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PolicyItem {
    Header,
    Sku(usize),
    Price(usize),
    ChannelTier(usize),
    Agreement(usize),
    Promotion(usize),
    Authority(usize),
    Threshold(usize),
    Adjustment(usize),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyProblem {
    pub item: PolicyItem,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyDecodeError {
    #[error("policy bytes do not decode: {0}")]
    Decode(#[from] postcard::Error),
    #[error("policy is inconsistent: {}", .0.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<PolicyProblem>),
}

fn price_ok(fen: i64) -> bool {
    (1..=MAX_UNIT_PRICE_FEN).contains(&fen)
}

fn role_rank(role: Role) -> usize {
    Role::ALL.iter().position(|r| *r == role).unwrap_or(usize::MAX)
}

impl Policy {
    /// An empty policy (no catalogue); useful as a starting point in code and tests.
    pub fn empty(version: u32, title: &str, markup_approver: Role) -> Self {
        Policy {
            version,
            title: title.to_string(),
            markup_approver,
            skus: Vec::new(),
            prices: Vec::new(),
            channel_tiers: Vec::new(),
            agreements: Vec::new(),
            promotions: Vec::new(),
            authorities: Vec::new(),
            thresholds: Vec::new(),
            adjustments: Vec::new(),
        }
    }

    pub fn sku(&self, code: &str) -> Option<&Sku> {
        self.skus.iter().find(|s| s.code == code)
    }

    /// The tier customers of `channel` pay (if the channel is priced at all).
    pub fn tier_for(&self, channel: Channel) -> Option<PriceTier> {
        self.channel_tiers.iter().filter(|c| c.channel == channel).map(|c| c.tier).min()
    }

    /// The base tier price, before scheduled adjustments.
    pub fn base_price(&self, sku: &str, tier: PriceTier) -> Option<i64> {
        self.prices.iter().filter(|p| p.sku == sku && p.tier == tier).map(|p| p.price_fen).min()
    }

    /// The adjustment in force at `at` for (`sku`, `tier`): the latest effective date ≤ `at`
    /// (smaller id on a tie).
    pub fn adjustment_in_force(&self, sku: &str, tier: PriceTier, at: UtcMillis) -> Option<&PriceAdjustment> {
        self.adjustments
            .iter()
            .filter(|a| a.sku == sku && a.tier == tier && a.effective_at <= at)
            .max_by(|a, b| a.effective_at.cmp(&b.effective_at).then_with(|| b.id.cmp(&a.id)))
    }

    /// The tier price in force at `at`: the adjustment in force, else the base price.
    pub fn list_price(&self, sku: &str, tier: PriceTier, at: UtcMillis) -> Option<i64> {
        match self.adjustment_in_force(sku, tier, at) {
            Some(a) => Some(a.price_fen),
            None => self.base_price(sku, tier),
        }
    }

    /// The next adjustment for (`sku`, `tier`) that has been announced (`notice_at ≤ at`) but
    /// is not yet effective (`at < effective_at`).
    pub fn upcoming(&self, sku: &str, tier: PriceTier, at: UtcMillis) -> Option<&PriceAdjustment> {
        self.adjustments
            .iter()
            .filter(|a| a.sku == sku && a.tier == tier && a.notice_at <= at && at < a.effective_at)
            .min_by(|a, b| a.effective_at.cmp(&b.effective_at).then_with(|| a.id.cmp(&b.id)))
    }

    /// Every adjustment announced but not yet effective at `at`, by effective date then id.
    pub fn upcoming_adjustments(&self, at: UtcMillis) -> Vec<&PriceAdjustment> {
        let mut v: Vec<&PriceAdjustment> =
            self.adjustments.iter().filter(|a| a.notice_at <= at && at < a.effective_at).collect();
        v.sort_by(|a, b| a.effective_at.cmp(&b.effective_at).then_with(|| a.id.cmp(&b.id)));
        v
    }

    /// The agreement price of `customer` for `sku` valid at `at` (the lowest if several).
    pub fn agreement_price(&self, customer: DocId, sku: &str, at: UtcMillis) -> Option<&AgreementPrice> {
        self.agreements.iter().filter(|a| a.customer == customer && a.sku == sku && a.is_valid_at(at)).min_by(|a, b| {
            a.price_fen.cmp(&b.price_fen).then_with(|| a.start.cmp(&b.start)).then_with(|| a.end.cmp(&b.end))
        })
    }

    /// The discount authority of `role` in basis points; `None` if the role has none listed.
    pub fn authority_bp(&self, role: Role) -> Option<u32> {
        self.authorities.iter().filter(|a| a.role == role).map(|a| a.max_discount_bp).max()
    }

    /// The role with the smallest authority that still covers a discount of `discount_bp`
    /// (`None`: no role may grant it). Ties go to the role listed first in [`Role::ALL`].
    pub fn approver_for_discount(&self, discount_bp: i64) -> Option<Role> {
        self.authorities
            .iter()
            .filter(|a| i64::from(a.max_discount_bp) >= discount_bp)
            .min_by_key(|a| (a.max_discount_bp, role_rank(a.role)))
            .map(|a| a.role)
    }

    /// Whether `approver` may give an approval that requires `required`: the same role, or a
    /// role with strictly more discount authority when both roles are in the authority table
    /// (an executive may approve what a manager may). Roles outside the table (e.g. finance for
    /// an amount threshold) approve only their own requirements.
    pub fn may_approve(&self, approver: Role, required: Role) -> bool {
        if approver == required {
            return true;
        }
        match (self.authority_bp(approver), self.authority_bp(required)) {
            (Some(a), Some(r)) => a > r,
            _ => false,
        }
    }

    /// Everything wrong with this policy; empty when it is consistent. Checks ranges (prices
    /// 1 fen ..= [`MAX_UNIT_PRICE_FEN`], basis points, windows), uniqueness (SKU codes, tier
    /// prices, channel mappings, ids, overlapping agreements) and that every SKU referenced
    /// is in the catalogue.
    pub fn problems(&self) -> Vec<PolicyProblem> {
        let mut out = Vec::new();
        let mut bad = |item: PolicyItem, message: String| out.push(PolicyProblem { item, message });
        if self.version == 0 {
            bad(PolicyItem::Header, "policy version must be at least 1".into());
        }
        let mut codes = BTreeSet::new();
        for (i, s) in self.skus.iter().enumerate() {
            for m in s.problems() {
                bad(PolicyItem::Sku(i), m);
            }
            if !codes.insert(s.code.as_str()) {
                bad(PolicyItem::Sku(i), format!("SKU {} is listed twice", s.code));
            }
        }
        let known = |code: &str| codes.contains(code);
        let mut seen = BTreeSet::new();
        for (i, p) in self.prices.iter().enumerate() {
            if !known(&p.sku) {
                bad(PolicyItem::Price(i), format!("price for unknown SKU {}", p.sku));
            }
            if !price_ok(p.price_fen) {
                bad(
                    PolicyItem::Price(i),
                    format!("price {} fen is not between 1 and {MAX_UNIT_PRICE_FEN}", p.price_fen),
                );
            }
            if !seen.insert((p.sku.as_str(), p.tier)) {
                bad(PolicyItem::Price(i), format!("{} has two {} prices", p.sku, p.tier));
            }
        }
        let mut channels = BTreeSet::new();
        for (i, c) in self.channel_tiers.iter().enumerate() {
            if !channels.insert(c.channel) {
                bad(PolicyItem::ChannelTier(i), format!("channel {} is mapped to a tier twice", c.channel));
            }
        }
        let mut by_customer: BTreeMap<(DocId, &str), Vec<&AgreementPrice>> = BTreeMap::new();
        for (i, a) in self.agreements.iter().enumerate() {
            if !known(&a.sku) {
                bad(PolicyItem::Agreement(i), format!("agreement price for unknown SKU {}", a.sku));
            }
            if !price_ok(a.price_fen) {
                bad(
                    PolicyItem::Agreement(i),
                    format!("price {} fen is not between 1 and {MAX_UNIT_PRICE_FEN}", a.price_fen),
                );
            }
            if let (Some(s), Some(e)) = (a.start, a.end)
                && s > e
            {
                bad(PolicyItem::Agreement(i), "agreement ends before it starts".into());
            }
            let earlier = by_customer.entry((a.customer, a.sku.as_str())).or_default();
            if earlier.iter().any(|b| windows_overlap(a.start, a.end, b.start, b.end)) {
                bad(
                    PolicyItem::Agreement(i),
                    format!("customer {} has overlapping agreement prices for {}", a.customer, a.sku),
                );
            }
            earlier.push(a);
        }
        let mut ids = BTreeSet::new();
        for (i, p) in self.promotions.iter().enumerate() {
            let item = PolicyItem::Promotion(i);
            if p.id.trim().is_empty() {
                bad(item, "promotion id may not be empty".into());
            }
            if !ids.insert(p.id.as_str()) {
                bad(item, format!("promotion id {} is used twice", p.id));
            }
            if !known(&p.sku) {
                bad(item, format!("promotion {} is for unknown SKU {}", p.id, p.sku));
            }
            if p.start > p.end {
                bad(item, format!("promotion {} ends before it starts", p.id));
            }
            match &p.kind {
                PromotionKind::PercentOff { bp } => {
                    if !(1..BP_SCALE).contains(&i64::from(*bp)) {
                        bad(item, format!("percentage off must be between 0.01% and 99.99% (got {bp} bp)"));
                    }
                }
                PromotionKind::FixedPrice { price_fen } => {
                    if !price_ok(*price_fen) {
                        bad(item, format!("fixed price {price_fen} fen is not between 1 and {MAX_UNIT_PRICE_FEN}"));
                    }
                }
                PromotionKind::BuyGet { buy, free, gift_sku } => {
                    if *buy == 0 || *free == 0 {
                        bad(item, format!("buy {buy} get {free}: both must be at least 1"));
                    }
                    if let Some(g) = gift_sku
                        && !known(g)
                    {
                        bad(item, format!("gift SKU {g} is not in the catalogue"));
                    }
                }
            }
        }
        let mut roles = BTreeSet::new();
        for (i, a) in self.authorities.iter().enumerate() {
            if !roles.insert(role_rank(a.role)) {
                bad(PolicyItem::Authority(i), format!("role {} has two discount authorities", a.role));
            }
            if i64::from(a.max_discount_bp) > BP_SCALE {
                bad(PolicyItem::Authority(i), format!("authority {} bp is above 100%", a.max_discount_bp));
            }
        }
        let mut thresholds = BTreeSet::new();
        for (i, t) in self.thresholds.iter().enumerate() {
            if !(1..=MAX_THRESHOLD_FEN).contains(&t.min_total_fen) {
                bad(PolicyItem::Threshold(i), format!("threshold {} fen is out of range", t.min_total_fen));
            }
            if !thresholds.insert((t.min_total_fen, role_rank(t.role))) {
                bad(PolicyItem::Threshold(i), "the same threshold and role are listed twice".into());
            }
        }
        let mut adj_ids = BTreeSet::new();
        let mut adj_keys = BTreeSet::new();
        for (i, a) in self.adjustments.iter().enumerate() {
            let item = PolicyItem::Adjustment(i);
            if a.id.trim().is_empty() {
                bad(item, "adjustment id may not be empty".into());
            }
            if !adj_ids.insert(a.id.as_str()) {
                bad(item, format!("adjustment id {} is used twice", a.id));
            }
            if !known(&a.sku) {
                bad(item, format!("adjustment {} is for unknown SKU {}", a.id, a.sku));
            }
            if !price_ok(a.price_fen) {
                bad(item, format!("price {} fen is not between 1 and {MAX_UNIT_PRICE_FEN}", a.price_fen));
            }
            if a.notice_at > a.effective_at {
                bad(item, format!("adjustment {}: the notice date is after the effective date", a.id));
            }
            if !adj_keys.insert((a.sku.as_str(), a.tier, a.effective_at)) {
                bad(item, format!("two adjustments of {} {} take effect at the same time", a.sku, a.tier));
            }
        }
        out
    }

    pub fn validate(&self) -> Result<(), Vec<PolicyProblem>> {
        let p = self.problems();
        if p.is_empty() { Ok(()) } else { Err(p) }
    }

    /// Compact bytes to publish to devices (postcard).
    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("a policy always serializes")
    }

    /// Decode published bytes and check the policy is consistent.
    pub fn from_bytes(bytes: &[u8]) -> Result<Policy, PolicyDecodeError> {
        let p: Policy = postcard::from_bytes(bytes)?;
        p.validate().map_err(PolicyDecodeError::Invalid)?;
        Ok(p)
    }
}

fn windows_overlap(s1: Option<i64>, e1: Option<i64>, s2: Option<i64>, e2: Option<i64>) -> bool {
    // [s1, e1] and [s2, e2] (None = unbounded) overlap unless one ends before the other starts.
    let before = |e: Option<i64>, s: Option<i64>| matches!((e, s), (Some(e), Some(s)) if e < s);
    !(before(e1, s2) || before(e2, s1))
}

#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)] // `100_00` fen reads as 100.00 yuan
pub(crate) mod tests {
    use super::*;
    use crate::pricing::catalogue::{AromaType, Unit};

    pub(crate) fn sku(code: &str, active: bool) -> Sku {
        Sku {
            code: code.into(),
            series: "黔韵".into(),
            name: format!("name of {code}"),
            spec: "500ml".into(),
            abv_tenths: 530,
            aroma: AromaType::Jiang,
            unit: Unit::Bottle,
            bottles_per_case: 6,
            active,
        }
    }

    fn policy() -> Policy {
        let mut p = Policy::empty(1, "t", Role::Manager);
        p.skus = vec![sku("A", true), sku("B", true)];
        p.prices = vec![TierPrice { sku: "A".into(), tier: PriceTier::Retail, price_fen: 100_00 }];
        p.authorities = vec![
            DiscountAuthority { role: Role::Rep, max_discount_bp: 300 },
            DiscountAuthority { role: Role::Manager, max_discount_bp: 800 },
            DiscountAuthority { role: Role::Executive, max_discount_bp: 10_000 },
        ];
        p
    }

    #[test]
    fn a_consistent_policy_has_no_problems_and_round_trips() {
        let p = policy();
        assert_eq!(p.problems(), vec![]);
        assert_eq!(Policy::from_bytes(&p.to_bytes()).unwrap(), p);
        assert!(matches!(Policy::from_bytes(&[1, 2, 3]), Err(PolicyDecodeError::Decode(_))));
        let mut broken = p.clone();
        broken.version = 0;
        assert!(matches!(Policy::from_bytes(&broken.to_bytes()), Err(PolicyDecodeError::Invalid(_))));
    }

    #[test]
    fn problems_name_the_item() {
        let day = 86_400_000;
        let cust = DocId::new_random();
        let agreement = |start, end| AgreementPrice {
            customer: cust,
            sku: "A".into(),
            price_fen: 90_00,
            start,
            end,
            note: String::new(),
        };
        type Edit<'a> = Box<dyn Fn(&mut Policy) + 'a>;
        let cases: Vec<(&str, Edit, PolicyItem)> = vec![
            ("dup sku", Box::new(|p| p.skus.push(sku("A", false))), PolicyItem::Sku(2)),
            (
                "unknown sku price",
                Box::new(|p| p.prices.push(TierPrice { sku: "Z".into(), tier: PriceTier::Retail, price_fen: 1 })),
                PolicyItem::Price(1),
            ),
            (
                "zero price",
                Box::new(|p| p.prices.push(TierPrice { sku: "B".into(), tier: PriceTier::Retail, price_fen: 0 })),
                PolicyItem::Price(1),
            ),
            (
                "dup tier price",
                Box::new(|p| p.prices.push(TierPrice { sku: "A".into(), tier: PriceTier::Retail, price_fen: 5 })),
                PolicyItem::Price(1),
            ),
            (
                "dup channel",
                Box::new(|p| {
                    p.channel_tiers.push(ChannelTier { channel: Channel::Restaurant, tier: PriceTier::Retail });
                    p.channel_tiers.push(ChannelTier { channel: Channel::Restaurant, tier: PriceTier::Wholesale });
                }),
                PolicyItem::ChannelTier(1),
            ),
            (
                "overlapping agreements",
                Box::new(move |p| {
                    p.agreements.push(agreement(Some(0), Some(10 * day)));
                    p.agreements.push(agreement(Some(10 * day), None));
                }),
                PolicyItem::Agreement(1),
            ),
            (
                "promotion window reversed",
                Box::new(|p| {
                    p.promotions.push(Promotion {
                        id: "P".into(),
                        name: "p".into(),
                        sku: "A".into(),
                        channels: vec![],
                        start: 5,
                        end: 4,
                        kind: PromotionKind::PercentOff { bp: 500 },
                    })
                }),
                PolicyItem::Promotion(0),
            ),
            (
                "100% off",
                Box::new(|p| {
                    p.promotions.push(Promotion {
                        id: "P".into(),
                        name: "p".into(),
                        sku: "A".into(),
                        channels: vec![],
                        start: 0,
                        end: 4,
                        kind: PromotionKind::PercentOff { bp: 10_000 },
                    })
                }),
                PolicyItem::Promotion(0),
            ),
            (
                "buy 0",
                Box::new(|p| {
                    p.promotions.push(Promotion {
                        id: "P".into(),
                        name: "p".into(),
                        sku: "A".into(),
                        channels: vec![],
                        start: 0,
                        end: 4,
                        kind: PromotionKind::BuyGet { buy: 0, free: 1, gift_sku: None },
                    })
                }),
                PolicyItem::Promotion(0),
            ),
            (
                "dup authority",
                Box::new(|p| p.authorities.push(DiscountAuthority { role: Role::Rep, max_discount_bp: 1 })),
                PolicyItem::Authority(3),
            ),
            (
                "authority above 100%",
                Box::new(|p| p.authorities.push(DiscountAuthority { role: Role::Admin, max_discount_bp: 10_001 })),
                PolicyItem::Authority(3),
            ),
            (
                "zero threshold",
                Box::new(|p| p.thresholds.push(AmountThreshold { min_total_fen: 0, role: Role::Manager })),
                PolicyItem::Threshold(0),
            ),
            (
                "notice after effective",
                Box::new(|p| {
                    p.adjustments.push(PriceAdjustment {
                        id: "J".into(),
                        sku: "A".into(),
                        tier: PriceTier::Retail,
                        price_fen: 1,
                        notice_at: 10,
                        effective_at: 9,
                        note: String::new(),
                    })
                }),
                PolicyItem::Adjustment(0),
            ),
        ];
        for (name, edit, item) in cases {
            let mut p = policy();
            edit(&mut p);
            let problems = p.problems();
            assert_eq!(problems.len(), 1, "{name}: {problems:?}");
            assert_eq!(problems[0].item, item, "{name}: {problems:?}");
        }
    }

    #[test]
    fn authority_ladder() {
        let p = policy();
        assert_eq!(p.approver_for_discount(300), Some(Role::Rep));
        assert_eq!(p.approver_for_discount(301), Some(Role::Manager));
        assert_eq!(p.approver_for_discount(801), Some(Role::Executive));
        assert_eq!(p.approver_for_discount(10_001), None);
        assert!(p.may_approve(Role::Executive, Role::Manager));
        assert!(p.may_approve(Role::Manager, Role::Manager));
        assert!(!p.may_approve(Role::Rep, Role::Manager));
        assert!(!p.may_approve(Role::Executive, Role::Finance));
        assert!(!p.may_approve(Role::Finance, Role::Manager));
        assert_eq!(p.authority_bp(Role::Finance), None);
    }

    #[test]
    fn windows() {
        assert!(windows_overlap(None, None, Some(5), Some(6)));
        assert!(windows_overlap(Some(1), Some(5), Some(5), Some(9)));
        assert!(!windows_overlap(Some(1), Some(4), Some(5), None));
        assert!(!windows_overlap(Some(6), None, None, Some(5)));
    }
}
