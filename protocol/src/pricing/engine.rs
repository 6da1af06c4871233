//! The pricing engine: one pure function, [`price_order`], that the rep's device (offline
//! preview) and the server (post-sync validation) both call. Same inputs, same output, on
//! every platform. See the [module docs](super) for the rules and the rounding.

use super::content_hash::{ContentHash, approvals_hash};
use super::price_policy::{BP_SCALE, Policy, PriceTier, Promotion, PromotionKind};
use super::role_label;
use crate::ids::DocId;
use crate::role::Role;
use crate::schema::order::{MAX_QTY, MAX_UNIT_PRICE_FEN, OrderLine, format_fen};
use crate::schema::{Channel, Lang};
use crate::time::UtcMillis;
use serde::{Deserialize, Serialize};

/// What pricing needs to know about the customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerFacts {
    pub id: DocId,
    /// `None` when the customer record has no channel yet (then only agreement prices apply).
    pub channel: Option<Channel>,
}

/// One order line as the rep wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineFacts {
    pub id: String,
    pub sku: String,
    pub spec: Option<String>,
    pub qty: i64,
    /// The rep's unit price in fen.
    pub unit_price_fen: i64,
}

impl From<&OrderLine> for LineFacts {
    fn from(l: &OrderLine) -> Self {
        LineFacts {
            id: l.id.clone(),
            sku: l.sku.clone(),
            spec: l.spec.clone(),
            qty: l.qty,
            unit_price_fen: l.unit_price_fen,
        }
    }
}

/// Where the expected unit price came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    /// The tier price of the customer's channel (after scheduled adjustments).
    List,
    /// The customer's agreement price.
    Agreement,
    /// A price promotion.
    Promotion,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedPromotion {
    pub id: String,
    pub name: String,
    /// The unit price the promotion gives.
    pub price_fen: i64,
}

/// An announced, not yet effective, list price for this line's SKU and tier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpcomingPrice {
    pub adjustment_id: String,
    pub effective_at: UtcMillis,
    pub list_price_fen: i64,
}

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Shown, does not block.
    Warning,
    /// The order waits for an approval.
    NeedsApproval,
    /// The order cannot proceed as written (no approval can fix it).
    Invalid,
}

/// Something about one line (shown per line; the reason codes are the serde names).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    UnknownSku,
    InactiveSku,
    BadQuantity {
        qty: i64,
    },
    BadUnitPrice {
        unit_price_fen: i64,
    },
    CustomerHasNoChannel,
    ChannelNotPriced {
        channel: Channel,
    },
    NoTierPrice {
        tier: PriceTier,
    },
    SpecMismatch {
        catalogue: String,
        written: String,
    },
    /// Below the expected price by more than the pricer's authority.
    BelowPolicyPrice {
        discount_bp: i64,
        allowed_bp: u32,
    },
    /// Below the expected price by more than any role may grant.
    DiscountBeyondAllAuthority {
        discount_bp: i64,
    },
    /// Above the expected price (R-2.9: reps may not raise prices on their own).
    AbovePolicyPrice {
        markup_bp: i64,
    },
    AmountOverflow,
}

impl Finding {
    pub fn severity(&self) -> Severity {
        match self {
            Finding::SpecMismatch { .. } => Severity::Warning,
            Finding::BelowPolicyPrice { .. } | Finding::AbovePolicyPrice { .. } => Severity::NeedsApproval,
            _ => Severity::Invalid,
        }
    }

    /// Stable reason code (what clients translate); equals the serde name.
    pub fn code(&self) -> &'static str {
        match self {
            Finding::UnknownSku => "unknown_sku",
            Finding::InactiveSku => "inactive_sku",
            Finding::BadQuantity { .. } => "bad_quantity",
            Finding::BadUnitPrice { .. } => "bad_unit_price",
            Finding::CustomerHasNoChannel => "customer_has_no_channel",
            Finding::ChannelNotPriced { .. } => "channel_not_priced",
            Finding::NoTierPrice { .. } => "no_tier_price",
            Finding::SpecMismatch { .. } => "spec_mismatch",
            Finding::BelowPolicyPrice { .. } => "below_policy_price",
            Finding::DiscountBeyondAllAuthority { .. } => "discount_beyond_all_authority",
            Finding::AbovePolicyPrice { .. } => "above_policy_price",
            Finding::AmountOverflow => "amount_overflow",
        }
    }

    pub fn text(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match self {
            Finding::UnknownSku => {
                (if zh { "产品编码不在价格体系中" } else { "SKU is not in the price policy" }).into()
            }
            Finding::InactiveSku => (if zh { "产品已停售" } else { "SKU is no longer sold" }).into(),
            Finding::BadQuantity { qty } => {
                if zh {
                    format!("数量 {qty} 不在 1 到 {MAX_QTY} 之间")
                } else {
                    format!("quantity {qty} is not between 1 and {MAX_QTY}")
                }
            }
            Finding::BadUnitPrice { unit_price_fen } => {
                if zh {
                    format!("单价 {} 元无效", format_fen(*unit_price_fen))
                } else {
                    format!("unit price {} yuan is not valid", format_fen(*unit_price_fen))
                }
            }
            Finding::CustomerHasNoChannel => (if zh {
                "客户未设置渠道类型，无法确定价格档"
            } else {
                "customer has no channel, so no price tier applies"
            })
            .into(),
            Finding::ChannelNotPriced { channel } => {
                if zh {
                    format!("渠道“{}”未对应价格档", channel.label(lang))
                } else {
                    format!("channel '{}' has no price tier", channel.label(lang))
                }
            }
            Finding::NoTierPrice { tier } => {
                if zh {
                    format!("该产品没有{}", tier.label(lang))
                } else {
                    format!("no {} for this SKU", tier.label(lang))
                }
            }
            Finding::SpecMismatch { catalogue, written } => {
                if zh {
                    format!("规格“{written}”与目录规格“{catalogue}”不符")
                } else {
                    format!("spec '{written}' differs from the catalogue spec '{catalogue}'")
                }
            }
            Finding::BelowPolicyPrice { discount_bp, allowed_bp } => {
                let allowed = i64::from(*allowed_bp);
                let (d, excess, a) =
                    (format_bp(*discount_bp), format_bp(discount_bp.saturating_sub(allowed)), format_bp(allowed));
                if zh {
                    format!("低于政策价 {d}，超出权限 {excess}（权限 {a}）")
                } else {
                    format!("{d} below the policy price: {excess} beyond the allowed {a}")
                }
            }
            Finding::DiscountBeyondAllAuthority { discount_bp } => {
                if zh {
                    format!("低于政策价 {}，超出所有审批权限", format_bp(*discount_bp))
                } else {
                    format!("{} below the policy price: beyond every approval authority", format_bp(*discount_bp))
                }
            }
            Finding::AbovePolicyPrice { markup_bp } => {
                if zh {
                    format!("高于政策价 {}", format_bp(*markup_bp))
                } else {
                    format!("{} above the policy price", format_bp(*markup_bp))
                }
            }
            Finding::AmountOverflow => (if zh { "金额超出范围" } else { "amount out of range" }).into(),
        }
    }
}

/// Something about the whole order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderFinding {
    NoLines,
    TotalOverflow,
}

impl OrderFinding {
    pub fn text(&self, lang: Lang) -> &'static str {
        match (self, lang) {
            (OrderFinding::NoLines, Lang::Zh) => "订单没有明细行",
            (OrderFinding::NoLines, Lang::En) => "the order has no lines",
            (OrderFinding::TotalOverflow, Lang::Zh) => "订单合计超出范围",
            (OrderFinding::TotalOverflow, Lang::En) => "order total out of range",
        }
    }
}

/// Why an approval is required. `line` is 1-based (as people count lines).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    DiscountAboveAuthority { line: usize, line_id: String, sku: String, discount_bp: i64, pricer_max_bp: u32 },
    PriceAbovePolicy { line: usize, line_id: String, sku: String, markup_bp: i64 },
    AmountThreshold { total_fen: i64, threshold_fen: i64 },
}

impl Reason {
    /// Stable reason code (what clients translate); equals the serde name.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::DiscountAboveAuthority { .. } => "discount_above_authority",
            Reason::PriceAbovePolicy { .. } => "price_above_policy",
            Reason::AmountThreshold { .. } => "amount_threshold",
        }
    }

    pub fn text(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match self {
            Reason::DiscountAboveAuthority { line, sku, discount_bp, pricer_max_bp, .. } => {
                let max = i64::from(*pricer_max_bp);
                let (d, excess, m) =
                    (format_bp(*discount_bp), format_bp(discount_bp.saturating_sub(max)), format_bp(max));
                if zh {
                    format!("第{line}行 {sku} 低于政策价 {d}，超出定价人权限 {excess}（权限 {m}）")
                } else {
                    format!("line {line} ({sku}) is {d} below the policy price: {excess} beyond the pricer's {m}")
                }
            }
            Reason::PriceAbovePolicy { line, sku, markup_bp, .. } => {
                let m = format_bp(*markup_bp);
                if zh {
                    format!("第{line}行 {sku} 高于政策价 {m}")
                } else {
                    format!("line {line} ({sku}) is {m} above the policy price")
                }
            }
            Reason::AmountThreshold { total_fen, threshold_fen } => {
                let (t, h) = (format_fen(*total_fen), format_fen(*threshold_fen));
                if zh {
                    format!("订单合计 {t} 元达到审批金额 {h} 元")
                } else {
                    format!("order total {t} yuan reaches the approval threshold of {h} yuan")
                }
            }
        }
    }
}

/// One approval the order needs before it may proceed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRequired {
    #[serde(with = "super::role_serde")]
    pub role: Role,
    pub reason: Reason,
}

impl ApprovalRequired {
    pub fn text(&self, lang: Lang) -> String {
        match lang {
            Lang::Zh => format!("需{}审批：{}", role_label(self.role, lang), self.reason.text(lang)),
            Lang::En => format!("needs approval by {}: {}", role_label(self.role, lang), self.reason.text(lang)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    NeedsApproval,
    Invalid,
}

/// Goods given free by a buy-N-get-M promotion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreeGoods {
    pub line: usize,
    pub line_id: String,
    pub promotion: String,
    pub sku: String,
    pub qty: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    /// 1-based position in the order.
    pub line: usize,
    pub line_id: String,
    pub sku: String,
    pub qty: i64,
    /// The tier of the customer's channel (`None`: channel missing or not priced).
    pub tier: Option<PriceTier>,
    /// The tier price in force at the pricing date.
    pub list_price_fen: Option<i64>,
    /// The customer's agreement price, when one is valid.
    pub agreement_price_fen: Option<i64>,
    /// The price promotion that set the expected price, if one did.
    pub promotion: Option<AppliedPromotion>,
    pub price_source: Option<PriceSource>,
    /// What the policy says this customer pays per unit.
    pub expected_unit_price_fen: Option<i64>,
    /// What the rep wrote.
    pub unit_price_fen: i64,
    /// How far the rep's price is below the expected price, in basis points of the expected
    /// price rounded up; negative when above it.
    pub discount_bp: Option<i64>,
    /// `qty × unit_price_fen` (`None` only on overflow).
    pub amount_fen: Option<i64>,
    /// `qty × expected_unit_price_fen`.
    pub expected_amount_fen: Option<i64>,
    pub upcoming: Option<UpcomingPrice>,
    pub findings: Vec<Finding>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedOrder {
    pub policy_version: u32,
    pub customer: DocId,
    pub channel: Option<Channel>,
    pub at: UtcMillis,
    #[serde(with = "super::role_serde")]
    pub pricer: Role,
    pub lines: Vec<PricedLine>,
    pub free_goods: Vec<FreeGoods>,
    /// Sum of the line amounts (what the order charges); `None` on overflow.
    pub total_fen: Option<i64>,
    /// Sum of the expected line amounts; `None` when a line has no expected price.
    pub expected_total_fen: Option<i64>,
    pub approvals: Vec<ApprovalRequired>,
    pub order_findings: Vec<OrderFinding>,
    pub verdict: Verdict,
    /// [`approvals_hash`] of the priced content: an approval stores it.
    pub content_hash: ContentHash,
}

impl PricedOrder {
    /// The distinct roles whose approval is needed, in [`Role::ALL`] order.
    pub fn approver_roles(&self) -> Vec<Role> {
        Role::ALL.into_iter().filter(|r| self.approvals.iter().any(|a| a.role == *r)).collect()
    }

    /// The approvals the order lifecycle waits for
    /// ([`crate::schema::order_lifecycle::fold`]'s `required`): `None` for an invalid order —
    /// no approval can make it proceed; it stays submitted until it is corrected.
    pub fn required_approvals(&self) -> Option<Vec<Role>> {
        (self.verdict != Verdict::Invalid).then(|| self.approver_roles())
    }
}

/// `301` → `3.01%`, `-250` → `-2.50%`.
pub fn format_bp(bp: i64) -> String {
    let sign = if bp < 0 { "-" } else { "" };
    let a = bp.unsigned_abs();
    format!("{sign}{}.{:02}%", a / 100, a % 100)
}

/// `n / d` rounded half up, for `n ≥ 0`, `d > 0`.
fn div_round_half_up(n: i128, d: i128) -> i128 {
    (n + d / 2) / d
}

/// `n / d` rounded up, for `n ≥ 0`, `d > 0`.
fn div_ceil(n: i128, d: i128) -> i128 {
    (n + d - 1) / d
}

/// The unit price a promotion gives, from the list price. `None` if it does not set a price.
fn promotion_price(p: &Promotion, list: Option<i64>) -> Option<i64> {
    match &p.kind {
        PromotionKind::FixedPrice { price_fen } => Some(*price_fen),
        PromotionKind::PercentOff { bp } => {
            let list = i128::from(list?);
            let keep = i128::from(BP_SCALE) - i128::from(*bp);
            if list < 1 || keep < 0 {
                return None;
            }
            let price = div_round_half_up(list * keep, i128::from(BP_SCALE));
            i64::try_from(price.max(1)).ok()
        }
        PromotionKind::BuyGet { .. } => None,
    }
}

/// Basis points of `expected` by which `price` is below it (negative: above), rounded away
/// from zero so that any deviation beyond a whole basis point counts.
fn deviation_bp(expected: i64, price: i64) -> i64 {
    let (e, p) = (i128::from(expected), i128::from(price));
    let bp = if p <= e { div_ceil((e - p) * 10_000, e) } else { -div_ceil((p - e) * 10_000, e) };
    i64::try_from(bp).unwrap_or(if bp < 0 { i64::MIN } else { i64::MAX })
}

/// Price an order. Pure and total: never panics, whatever the policy or lines; every problem
/// becomes a finding. `at` is the order's pricing date (UTC ms), `pricer` the role of the
/// person who wrote the prices.
pub fn price_order(
    policy: &Policy,
    customer: &CustomerFacts,
    lines: &[LineFacts],
    at: UtcMillis,
    pricer: Role,
) -> PricedOrder {
    let ctx = Ctx {
        policy,
        customer,
        tier: customer.channel.and_then(|c| policy.tier_for(c)),
        at,
        pricer,
        pricer_bp: policy.authority_bp(pricer).unwrap_or(0),
    };
    let mut approvals = Vec::new();
    let mut free_goods = Vec::new();
    let mut priced = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let (pl, gift) = ctx.price_line(l, i + 1, &mut approvals);
        free_goods.extend(gift);
        priced.push(pl);
    }

    let mut order_findings = Vec::new();
    if lines.is_empty() {
        order_findings.push(OrderFinding::NoLines);
    }
    let total = priced.iter().try_fold(0i64, |t, l| t.checked_add(l.amount_fen?));
    let line_overflow = priced.iter().any(|l| l.amount_fen.is_none());
    if total.is_none() && !line_overflow {
        order_findings.push(OrderFinding::TotalOverflow);
    }
    let expected_total = priced.iter().try_fold(0i64, |t, l| t.checked_add(l.expected_amount_fen?));

    if let Some(total) = total {
        let mut reached: Vec<_> = policy.thresholds.iter().filter(|t| total >= t.min_total_fen).collect();
        reached.sort_by_key(|t| (t.min_total_fen, Role::ALL.iter().position(|r| *r == t.role)));
        reached.dedup_by_key(|t| (t.min_total_fen, t.role.as_str()));
        for t in reached {
            approvals.push(ApprovalRequired {
                role: t.role,
                reason: Reason::AmountThreshold { total_fen: total, threshold_fen: t.min_total_fen },
            });
        }
    }

    let invalid = !order_findings.is_empty()
        || priced.iter().flat_map(|l| &l.findings).any(|f| f.severity() == Severity::Invalid);
    let verdict = if invalid {
        Verdict::Invalid
    } else if approvals.is_empty() {
        Verdict::Ok
    } else {
        Verdict::NeedsApproval
    };
    PricedOrder {
        policy_version: policy.version,
        customer: customer.id,
        channel: customer.channel,
        at,
        pricer,
        lines: priced,
        free_goods,
        total_fen: total,
        expected_total_fen: expected_total,
        approvals,
        order_findings,
        verdict,
        content_hash: approvals_hash(customer.id, lines),
    }
}

/// What is the same for every line of one order.
struct Ctx<'a> {
    policy: &'a Policy,
    customer: &'a CustomerFacts,
    tier: Option<PriceTier>,
    at: UtcMillis,
    pricer: Role,
    pricer_bp: u32,
}

impl Ctx<'_> {
    fn price_line(
        &self,
        l: &LineFacts,
        n: usize,
        approvals: &mut Vec<ApprovalRequired>,
    ) -> (PricedLine, Option<FreeGoods>) {
        let Ctx { policy, customer, tier, at, pricer, pricer_bp } = *self;
        let mut findings = Vec::new();
        let qty_ok = (1..=MAX_QTY).contains(&l.qty);
        if !qty_ok {
            findings.push(Finding::BadQuantity { qty: l.qty });
        }
        let price_ok = (0..=MAX_UNIT_PRICE_FEN).contains(&l.unit_price_fen);
        if !price_ok {
            findings.push(Finding::BadUnitPrice { unit_price_fen: l.unit_price_fen });
        }
        let amount = l.qty.checked_mul(l.unit_price_fen);
        let mut out = PricedLine {
            line: n,
            line_id: l.id.clone(),
            sku: l.sku.clone(),
            qty: l.qty,
            tier,
            list_price_fen: None,
            agreement_price_fen: None,
            promotion: None,
            price_source: None,
            expected_unit_price_fen: None,
            unit_price_fen: l.unit_price_fen,
            discount_bp: None,
            amount_fen: amount,
            expected_amount_fen: None,
            upcoming: None,
            findings: Vec::new(),
        };
        if amount.is_none() {
            findings.push(Finding::AmountOverflow);
        }

        let Some(sku) = policy.sku(&l.sku) else {
            findings.push(Finding::UnknownSku);
            out.findings = findings;
            return (out, None);
        };
        if !sku.active {
            findings.push(Finding::InactiveSku);
        }
        if let Some(spec) = &l.spec
            && !spec.trim().is_empty()
            && !sku.spec_matches(spec)
        {
            findings.push(Finding::SpecMismatch { catalogue: sku.spec.clone(), written: spec.clone() });
        }

        let list = tier.and_then(|t| policy.list_price(&sku.code, t, at)).filter(|p| *p >= 1);
        out.list_price_fen = list;
        out.upcoming = tier.and_then(|t| policy.upcoming(&sku.code, t, at)).map(|a| UpcomingPrice {
            adjustment_id: a.id.clone(),
            effective_at: a.effective_at,
            list_price_fen: a.price_fen,
        });
        let agreement = policy.agreement_price(customer.id, &sku.code, at).map(|a| a.price_fen).filter(|p| *p >= 1);
        out.agreement_price_fen = agreement;

        let applicable =
            |p: &&Promotion| p.sku == sku.code && p.is_valid_at(at) && p.applies_to_channel(customer.channel);
        let best_promo = policy
            .promotions
            .iter()
            .filter(applicable)
            .filter_map(|p| promotion_price(p, list).filter(|x| *x >= 1).map(|x| (x, p)))
            .min_by(|(a, p), (b, q)| a.cmp(b).then_with(|| p.id.cmp(&q.id)));
        let base = match (agreement, list) {
            (Some(a), _) => Some((a, PriceSource::Agreement)),
            (None, Some(l)) => Some((l, PriceSource::List)),
            (None, None) => None,
        };
        let expected = match (base, best_promo) {
            (Some((b, src)), Some((p, _))) if b <= p => Some((b, src)),
            (_, Some((p, promo))) => {
                out.promotion = Some(AppliedPromotion { id: promo.id.clone(), name: promo.name.clone(), price_fen: p });
                Some((p, PriceSource::Promotion))
            }
            (b, None) => b,
        };
        let Some((expected, source)) = expected else {
            findings.push(match (customer.channel, tier) {
                (None, _) => Finding::CustomerHasNoChannel,
                (Some(c), None) => Finding::ChannelNotPriced { channel: c },
                (Some(_), Some(t)) => Finding::NoTierPrice { tier: t },
            });
            out.findings = findings;
            return (out, None);
        };
        out.price_source = Some(source);
        out.expected_unit_price_fen = Some(expected);
        out.expected_amount_fen = l.qty.checked_mul(expected);
        if out.expected_amount_fen.is_none() && amount.is_some() {
            findings.push(Finding::AmountOverflow);
        }

        if price_ok {
            let dev = deviation_bp(expected, l.unit_price_fen);
            out.discount_bp = Some(dev);
            if dev > i64::from(pricer_bp) {
                match policy.approver_for_discount(dev) {
                    Some(role) => {
                        findings.push(Finding::BelowPolicyPrice { discount_bp: dev, allowed_bp: pricer_bp });
                        approvals.push(ApprovalRequired {
                            role,
                            reason: Reason::DiscountAboveAuthority {
                                line: n,
                                line_id: l.id.clone(),
                                sku: sku.code.clone(),
                                discount_bp: dev,
                                pricer_max_bp: pricer_bp,
                            },
                        });
                    }
                    None => findings.push(Finding::DiscountBeyondAllAuthority { discount_bp: dev }),
                }
            } else if dev < 0 && !policy.may_approve(pricer, policy.markup_approver) {
                let markup_bp = dev.saturating_neg();
                findings.push(Finding::AbovePolicyPrice { markup_bp });
                approvals.push(ApprovalRequired {
                    role: policy.markup_approver,
                    reason: Reason::PriceAbovePolicy {
                        line: n,
                        line_id: l.id.clone(),
                        sku: sku.code.clone(),
                        markup_bp,
                    },
                });
            }
        }

        let gift = if qty_ok {
            policy
                .promotions
                .iter()
                .filter(applicable)
                .filter_map(|p| match &p.kind {
                    PromotionKind::BuyGet { buy, free, gift_sku } if *buy > 0 => {
                        let q = (l.qty / i64::from(*buy)).checked_mul(i64::from(*free))?;
                        (q > 0).then(|| (q, p, gift_sku.clone().unwrap_or_else(|| sku.code.clone())))
                    }
                    _ => None,
                })
                .max_by(|(a, p, _), (b, q, _)| a.cmp(b).then_with(|| q.id.cmp(&p.id)))
                .map(|(qty, p, gift_sku)| FreeGoods {
                    line: n,
                    line_id: l.id.clone(),
                    promotion: p.id.clone(),
                    sku: gift_sku,
                    qty,
                })
        } else {
            None
        };
        out.findings = findings;
        (out, gift)
    }
}

#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)] // `100_00` fen reads as 100.00 yuan
mod tests {
    use super::*;
    use crate::pricing::catalogue::{AromaType, Sku, Unit};
    use crate::pricing::price_policy::{
        AgreementPrice, AmountThreshold, ChannelTier, DiscountAuthority, PriceAdjustment, TierPrice,
    };
    use crate::time::parse_rfc3339;

    const DAY: i64 = 86_400_000;

    fn ms(s: &str) -> i64 {
        parse_rfc3339(s).unwrap()
    }

    fn sku(code: &str, active: bool) -> Sku {
        Sku {
            code: code.into(),
            series: "黔韵".into(),
            name: format!("name of {code}"),
            spec: "500ml×6".into(),
            abv_tenths: 530,
            aroma: AromaType::Jiang,
            unit: Unit::Case,
            bottles_per_case: 6,
            active,
        }
    }

    fn agreement_customer() -> DocId {
        DocId::from_slice(&[0xa5; 16]).unwrap()
    }

    fn promo(id: &str, sku: &str, channels: &[Channel], start: i64, end: i64, kind: PromotionKind) -> Promotion {
        Promotion {
            id: id.into(),
            name: format!("promo {id}"),
            sku: sku.into(),
            channels: channels.to_vec(),
            start,
            end,
            kind,
        }
    }

    /// SKU A: factory 80.00, wholesale 90.00, retail 100.00; B: retail 33.33 only; OLD inactive.
    fn policy() -> Policy {
        let mut p = Policy::empty(7, "test", Role::Manager);
        p.skus = vec![sku("A", true), sku("B", true), sku("OLD", false), sku("G", true)];
        for (s, t, f) in [
            ("A", PriceTier::Factory, 80_00),
            ("A", PriceTier::Wholesale, 90_00),
            ("A", PriceTier::Retail, 100_00),
            ("B", PriceTier::Retail, 33_33),
            ("OLD", PriceTier::Retail, 50_00),
            ("G", PriceTier::Retail, 10_00),
        ] {
            p.prices.push(TierPrice { sku: s.into(), tier: t, price_fen: f });
        }
        p.channel_tiers = vec![
            ChannelTier { channel: Channel::Distributor, tier: PriceTier::Factory },
            ChannelTier { channel: Channel::GroupPurchase, tier: PriceTier::Wholesale },
            ChannelTier { channel: Channel::Restaurant, tier: PriceTier::Wholesale },
            ChannelTier { channel: Channel::DirectStore, tier: PriceTier::Retail },
            ChannelTier { channel: Channel::ECommerce, tier: PriceTier::Retail },
        ];
        p.authorities = vec![
            DiscountAuthority { role: Role::Rep, max_discount_bp: 300 },
            DiscountAuthority { role: Role::Manager, max_discount_bp: 800 },
            DiscountAuthority { role: Role::Executive, max_discount_bp: 10_000 },
        ];
        p.thresholds = vec![
            AmountThreshold { min_total_fen: 1_000_000_00, role: Role::Executive },
            AmountThreshold { min_total_fen: 200_000_00, role: Role::Manager },
        ];
        p.agreements = vec![AgreementPrice {
            customer: agreement_customer(),
            sku: "A".into(),
            price_fen: 75_00,
            start: Some(ms("2026-01-01T00:00:00Z")),
            end: Some(ms("2026-12-31T23:59:59.999Z")),
            note: "协议".into(),
        }];
        assert_eq!(p.problems(), vec![]);
        p
    }

    const AT: &str = "2026-06-01T00:00:00Z";

    fn customer(channel: Option<Channel>) -> CustomerFacts {
        CustomerFacts { id: DocId::from_slice(&[1; 16]).unwrap(), channel }
    }

    fn line(sku: &str, qty: i64, price: i64) -> LineFacts {
        LineFacts { id: format!("l-{sku}-{qty}"), sku: sku.into(), spec: None, qty, unit_price_fen: price }
    }

    fn price1(p: &Policy, c: &CustomerFacts, l: LineFacts, at: i64, role: Role) -> PricedOrder {
        price_order(p, c, &[l], at, role)
    }

    #[test]
    fn each_channel_pays_its_tier() {
        let p = policy();
        let cases = [
            (Channel::Distributor, PriceTier::Factory, 80_00),
            (Channel::GroupPurchase, PriceTier::Wholesale, 90_00),
            (Channel::Restaurant, PriceTier::Wholesale, 90_00),
            (Channel::DirectStore, PriceTier::Retail, 100_00),
            (Channel::ECommerce, PriceTier::Retail, 100_00),
        ];
        for (channel, tier, price) in cases {
            let o = price1(&p, &customer(Some(channel)), line("A", 6, price), ms(AT), Role::Rep);
            let l = &o.lines[0];
            assert_eq!((l.tier, l.list_price_fen, l.expected_unit_price_fen), (Some(tier), Some(price), Some(price)));
            assert_eq!(l.price_source, Some(PriceSource::List));
            assert_eq!((l.discount_bp, l.amount_fen, o.total_fen), (Some(0), Some(6 * price), Some(6 * price)));
            assert_eq!((o.verdict, o.policy_version), (Verdict::Ok, 7), "{channel}");
        }
    }

    #[test]
    fn missing_channel_or_tier_price_is_invalid() {
        let mut p = policy();
        p.channel_tiers.retain(|c| c.channel != Channel::Restaurant);
        let cases = [
            (None, "A", Finding::CustomerHasNoChannel),
            (Some(Channel::Restaurant), "A", Finding::ChannelNotPriced { channel: Channel::Restaurant }),
            (Some(Channel::Distributor), "B", Finding::NoTierPrice { tier: PriceTier::Factory }),
        ];
        for (channel, sku, finding) in cases {
            let o = price1(&p, &customer(channel), line(sku, 1, 100), ms(AT), Role::Rep);
            assert_eq!(o.lines[0].findings, vec![finding.clone()], "{channel:?}");
            assert_eq!(o.verdict, Verdict::Invalid);
            assert_eq!(o.lines[0].expected_unit_price_fen, None);
            assert_eq!(o.expected_total_fen, None);
            assert_eq!(o.total_fen, Some(100), "the rep's amount is still shown");
        }
    }

    #[test]
    fn agreement_price_beats_the_tier_within_its_window() {
        let p = policy();
        let c = CustomerFacts { id: agreement_customer(), channel: Some(Channel::Distributor) };
        let cases = [
            ("2025-12-31T23:59:59.999Z", 80_00, PriceSource::List),
            ("2026-01-01T00:00:00Z", 75_00, PriceSource::Agreement),
            ("2026-12-31T23:59:59.999Z", 75_00, PriceSource::Agreement),
            ("2027-01-01T00:00:00Z", 80_00, PriceSource::List),
        ];
        for (at, want, source) in cases {
            let o = price1(&p, &c, line("A", 1, want), ms(at), Role::Rep);
            let l = &o.lines[0];
            assert_eq!(
                (l.expected_unit_price_fen, l.price_source, o.verdict),
                (Some(want), Some(source), Verdict::Ok),
                "{at}"
            );
            assert_eq!(l.list_price_fen, Some(80_00));
        }
        // Even without a channel the agreement prices the line.
        let o = price1(&p, &CustomerFacts { channel: None, ..c }, line("A", 1, 75_00), ms(AT), Role::Rep);
        assert_eq!(o.verdict, Verdict::Ok, "{o:#?}");
        // Another customer of the same channel pays the tier.
        let o = price1(&p, &customer(Some(Channel::Distributor)), line("A", 1, 75_00), ms(AT), Role::Rep);
        assert_eq!(o.lines[0].discount_bp, Some(625));
        assert_eq!(o.verdict, Verdict::NeedsApproval);
    }

    #[test]
    fn promotion_window_edges_are_inclusive() {
        let mut p = policy();
        let (start, end) = (ms("2026-09-14T16:00:00Z"), ms("2026-10-08T15:59:59.999Z"));
        p.promotions.push(promo("P5", "A", &[Channel::DirectStore], start, end, PromotionKind::PercentOff { bp: 500 }));
        let c = customer(Some(Channel::DirectStore));
        let cases =
            [(start - 1, 100_00, None), (start, 95_00, Some("P5")), (end, 95_00, Some("P5")), (end + 1, 100_00, None)];
        for (at, want, promo_id) in cases {
            let o = price1(&p, &c, line("A", 2, want), at, Role::Rep);
            let l = &o.lines[0];
            assert_eq!(l.expected_unit_price_fen, Some(want), "at {at}");
            assert_eq!(l.promotion.as_ref().map(|x| x.id.as_str()), promo_id);
            assert_eq!(o.verdict, Verdict::Ok);
        }
        // Not for other channels.
        let o = price1(&p, &customer(Some(Channel::ECommerce)), line("A", 1, 100_00), start, Role::Rep);
        assert_eq!(o.lines[0].promotion, None);
    }

    #[test]
    fn best_promotion_wins_and_never_stacks() {
        let mut p = policy();
        let (s, e) = (0, i64::MAX);
        p.promotions = vec![
            promo("P-B", "A", &[], s, e, PromotionKind::PercentOff { bp: 1000 }),
            promo("P-A", "A", &[], s, e, PromotionKind::FixedPrice { price_fen: 90_00 }),
            promo("P-C", "A", &[], s, e, PromotionKind::PercentOff { bp: 500 }),
        ];
        let o = price1(&p, &customer(Some(Channel::DirectStore)), line("A", 1, 90_00), ms(AT), Role::Rep);
        // 10 % off and fixed 90.00 tie at 90.00: the smaller id wins; no stacking to 85.50.
        assert_eq!(o.lines[0].promotion.as_ref().map(|x| x.id.as_str()), Some("P-A"));
        assert_eq!(o.lines[0].expected_unit_price_fen, Some(90_00));
        // An agreement below every promotion wins; a promotion below the agreement wins.
        let c = CustomerFacts { id: agreement_customer(), channel: Some(Channel::DirectStore) };
        let o = price1(&p, &c, line("A", 1, 75_00), ms(AT), Role::Rep);
        assert_eq!((o.lines[0].price_source, o.lines[0].promotion.clone()), (Some(PriceSource::Agreement), None));
        p.promotions.push(promo("P-D", "A", &[], s, e, PromotionKind::FixedPrice { price_fen: 70_00 }));
        let o = price1(&p, &c, line("A", 1, 70_00), ms(AT), Role::Rep);
        assert_eq!(o.lines[0].price_source, Some(PriceSource::Promotion));
        assert_eq!(o.lines[0].expected_unit_price_fen, Some(70_00));
        // A promotion equal to the base price is not applied (the base price wins the tie).
        p.promotions = vec![promo("P-E", "A", &[], s, e, PromotionKind::FixedPrice { price_fen: 75_00 })];
        let o = price1(&p, &c, line("A", 1, 75_00), ms(AT), Role::Rep);
        assert_eq!(o.lines[0].price_source, Some(PriceSource::Agreement));
    }

    #[test]
    fn buy_n_get_m() {
        let mut p = policy();
        p.promotions = vec![
            promo(
                "B51",
                "A",
                &[Channel::Restaurant],
                0,
                i64::MAX,
                PromotionKind::BuyGet { buy: 5, free: 1, gift_sku: None },
            ),
            promo(
                "B10G",
                "A",
                &[Channel::Restaurant],
                0,
                i64::MAX,
                PromotionKind::BuyGet { buy: 10, free: 1, gift_sku: Some("G".into()) },
            ),
        ];
        let c = customer(Some(Channel::Restaurant));
        // (qty, free qty, free sku): 5+1 gives more than 10+1 whenever it gives any.
        let cases: [(i64, i64, Option<&str>); 5] =
            [(4, 0, None), (5, 1, Some("A")), (9, 1, Some("A")), (10, 2, Some("A")), (23, 4, Some("A"))];
        for (qty, free, free_sku) in cases {
            let o = price1(&p, &c, line("A", qty, 90_00), ms(AT), Role::Rep);
            let got: i64 = o.free_goods.iter().map(|f| f.qty).sum();
            assert_eq!(got, free, "qty {qty}");
            assert_eq!(o.free_goods.first().map(|f| f.sku.as_str()), free_sku);
            // Free goods do not change the price or the amount.
            assert_eq!((o.lines[0].expected_unit_price_fen, o.total_fen), (Some(90_00), Some(qty * 90_00)));
            assert_eq!(o.verdict, Verdict::Ok);
        }
        p.promotions.remove(0);
        let o = price1(&p, &c, line("A", 25, 90_00), ms(AT), Role::Rep);
        assert_eq!(
            o.free_goods,
            vec![FreeGoods { line: 1, line_id: "l-A-25".into(), promotion: "B10G".into(), sku: "G".into(), qty: 2 }]
        );
    }

    #[test]
    fn percentage_rounds_half_up_per_unit_never_on_totals() {
        let mut p = policy();
        // B retail 33.33: 5 % off = 31.6635 → 31.66; 15 % off = 28.3305 → 28.33; 50 % off = 16.665 → 16.67 (half up).
        let cases = [(500, 31_66), (1500, 28_33), (5000, 16_67), (9999, 1)];
        for (bp, want) in cases {
            p.promotions = vec![promo("R", "B", &[], 0, i64::MAX, PromotionKind::PercentOff { bp })];
            let o = price1(&p, &customer(Some(Channel::DirectStore)), line("B", 3, want), ms(AT), Role::Rep);
            assert_eq!(o.lines[0].expected_unit_price_fen, Some(want), "{bp} bp");
            assert_eq!(o.lines[0].amount_fen, Some(3 * want), "line amount is qty × rounded unit price");
            assert_eq!(o.total_fen, Some(3 * want));
        }
        // A 1 fen list price never promotes to 0.
        p.prices.push(TierPrice { sku: "G".into(), tier: PriceTier::Factory, price_fen: 1 });
        p.promotions = vec![promo("R", "G", &[], 0, i64::MAX, PromotionKind::PercentOff { bp: 5000 })];
        let o = price1(&p, &customer(Some(Channel::Distributor)), line("G", 1, 1), ms(AT), Role::Rep);
        assert_eq!(o.lines[0].expected_unit_price_fen, Some(1));
        assert_eq!(div_round_half_up(5, 10), 1);
        assert_eq!(div_round_half_up(4, 10), 0);
        assert_eq!(format_bp(301), "3.01%");
        assert_eq!(format_bp(-250), "-2.50%");
    }

    #[test]
    fn discount_authority_per_role() {
        let p = policy();
        let c = customer(Some(Channel::DirectStore)); // list 100.00
        // (pricer, unit price, discount bp, approver)
        let cases = [
            (Role::Rep, 100_00, 0, None),
            (Role::Rep, 97_00, 300, None),
            (Role::Rep, 96_99, 301, Some(Role::Manager)),
            (Role::Rep, 92_00, 800, Some(Role::Manager)),
            (Role::Rep, 91_00, 900, Some(Role::Executive)),
            (Role::Rep, 0, 10_000, Some(Role::Executive)),
            (Role::Manager, 92_00, 800, None),
            (Role::Manager, 91_00, 900, Some(Role::Executive)),
            (Role::Executive, 50_00, 5000, None),
            (Role::Market, 99_99, 1, Some(Role::Rep)),
        ];
        for (pricer, price, bp, approver) in cases {
            let o = price1(&p, &c, line("A", 1, price), ms(AT), pricer);
            assert_eq!(o.lines[0].discount_bp, Some(bp), "{pricer} {price}");
            assert_eq!(o.approver_roles(), approver.into_iter().collect::<Vec<_>>(), "{pricer} {price}");
            assert_eq!(o.verdict, if approver.is_some() { Verdict::NeedsApproval } else { Verdict::Ok });
            if approver.is_some() {
                assert!(matches!(o.lines[0].findings[..], [Finding::BelowPolicyPrice { .. }]));
                assert_eq!(o.approvals[0].reason.code(), "discount_above_authority");
            }
        }
        // 3.001 % counts as above 3 %: 10 000.00 list, 9 699.90 is 3.001 % off.
        let mut big = policy();
        big.prices.push(TierPrice { sku: "G".into(), tier: PriceTier::Factory, price_fen: 10_000_00 });
        let o = price1(&big, &customer(Some(Channel::Distributor)), line("G", 1, 9_699_90), ms(AT), Role::Rep);
        assert_eq!((o.lines[0].discount_bp, o.approver_roles()), (Some(301), vec![Role::Manager]));
        // No role may go beyond the top authority: invalid, not approvable.
        let mut capped = policy();
        capped.authorities[2].max_discount_bp = 2000;
        let o = price1(&capped, &c, line("A", 1, 50_00), ms(AT), Role::Rep);
        assert_eq!(o.lines[0].findings, vec![Finding::DiscountBeyondAllAuthority { discount_bp: 5000 }]);
        assert_eq!(o.verdict, Verdict::Invalid);
    }

    #[test]
    fn price_above_policy_needs_the_markup_approver() {
        let p = policy();
        let c = customer(Some(Channel::DirectStore));
        let o = price1(&p, &c, line("A", 1, 100_01), ms(AT), Role::Rep);
        assert_eq!(o.lines[0].discount_bp, Some(-1));
        assert_eq!(o.lines[0].findings, vec![Finding::AbovePolicyPrice { markup_bp: 1 }]);
        assert_eq!((o.approver_roles(), o.verdict), (vec![Role::Manager], Verdict::NeedsApproval));
        assert_eq!(
            o.approvals[0].text(Lang::En),
            "needs approval by sales manager: line 1 (A) is 0.01% above the policy price"
        );
        assert_eq!(o.approvals[0].text(Lang::Zh), "需销售经理审批：第1行 A 高于政策价 0.01%");
        for covered in [Role::Manager, Role::Executive] {
            assert_eq!(price1(&p, &c, line("A", 1, 120_00), ms(AT), covered).verdict, Verdict::Ok);
        }
    }

    #[test]
    fn amount_thresholds_add_approvals() {
        let p = policy();
        let c = customer(Some(Channel::DirectStore));
        // (qty at 100.00, roles)
        let cases: [(i64, &[Role]); 4] = [
            (1_999, &[]),
            (2_000, &[Role::Manager]),
            (9_999, &[Role::Manager]),
            (10_000, &[Role::Manager, Role::Executive]),
        ];
        for (qty, roles) in cases {
            for pricer in [Role::Rep, Role::Executive] {
                let o = price1(&p, &c, line("A", qty, 100_00), ms(AT), pricer);
                assert_eq!(o.approver_roles(), roles.to_vec(), "{qty} by {pricer}");
                assert!(o.approvals.iter().all(|a| a.reason.code() == "amount_threshold"));
            }
        }
        let o = price1(&p, &c, line("A", 2_000, 100_00), ms(AT), Role::Rep);
        assert_eq!(o.approvals[0].reason.text(Lang::Zh), "订单合计 200000.00 元达到审批金额 200000.00 元");
    }

    #[test]
    fn scheduled_adjustment_applies_from_its_effective_date() {
        let mut p = policy();
        let (notice, effective) = (ms("2026-11-30T16:00:00Z"), ms("2026-12-31T16:00:00Z"));
        p.adjustments.push(PriceAdjustment {
            id: "J1".into(),
            sku: "A".into(),
            tier: PriceTier::Retail,
            price_fen: 110_00,
            notice_at: notice,
            effective_at: effective,
            note: "提价".into(),
        });
        let c = customer(Some(Channel::DirectStore));
        // (at, list price, upcoming visible)
        let cases = [
            (notice - 1, 100_00, false),
            (notice, 100_00, true),
            (effective - 1, 100_00, true),
            (effective, 110_00, false),
            (effective + 365 * DAY, 110_00, false),
        ];
        for (at, list, upcoming) in cases {
            let o = price1(&p, &c, line("A", 1, list), at, Role::Rep);
            assert_eq!(o.lines[0].list_price_fen, Some(list), "at {at}");
            assert_eq!(o.verdict, Verdict::Ok);
            assert_eq!(o.lines[0].upcoming.is_some(), upcoming, "at {at}");
            assert_eq!(p.upcoming_adjustments(at).len(), usize::from(upcoming));
        }
        let o = price1(&p, &c, line("A", 1, 100_00), notice, Role::Rep);
        assert_eq!(
            o.lines[0].upcoming,
            Some(UpcomingPrice { adjustment_id: "J1".into(), effective_at: effective, list_price_fen: 110_00 })
        );
        // Yesterday's price after the adjustment took effect is now a discount.
        let o = price1(&p, &c, line("A", 1, 100_00), effective, Role::Rep);
        assert_eq!((o.lines[0].discount_bp, o.verdict), (Some(910), Verdict::NeedsApproval));
        assert_eq!(o.approver_roles(), vec![Role::Executive]);
    }

    #[test]
    fn line_problems() {
        let p = policy();
        let c = customer(Some(Channel::DirectStore));
        let spec = |s: &str| LineFacts { spec: Some(s.into()), ..line("A", 1, 100_00) };
        let cases: Vec<(LineFacts, Vec<Finding>, Verdict)> = vec![
            (line("NOPE", 1, 1), vec![Finding::UnknownSku], Verdict::Invalid),
            (line("OLD", 1, 50_00), vec![Finding::InactiveSku], Verdict::Invalid),
            (line("A", 0, 100_00), vec![Finding::BadQuantity { qty: 0 }], Verdict::Invalid),
            (line("A", -3, 100_00), vec![Finding::BadQuantity { qty: -3 }], Verdict::Invalid),
            (line("A", MAX_QTY + 1, 100_00), vec![Finding::BadQuantity { qty: MAX_QTY + 1 }], Verdict::Invalid),
            (line("A", 1, -1), vec![Finding::BadUnitPrice { unit_price_fen: -1 }], Verdict::Invalid),
            (spec("500ML X 6"), vec![], Verdict::Ok),
            (
                spec("500ml×4"),
                vec![Finding::SpecMismatch { catalogue: "500ml×6".into(), written: "500ml×4".into() }],
                Verdict::Ok,
            ),
        ];
        for (l, findings, verdict) in cases {
            let o = price1(&p, &c, l.clone(), ms(AT), Role::Rep);
            assert_eq!(o.lines[0].findings, findings, "{l:?}");
            assert_eq!(o.verdict, verdict, "{l:?}");
        }
        let o = price_order(&p, &c, &[], ms(AT), Role::Rep);
        assert_eq!(
            (o.order_findings.clone(), o.verdict, o.total_fen),
            (vec![OrderFinding::NoLines], Verdict::Invalid, Some(0))
        );
        for f in [Finding::UnknownSku, Finding::InactiveSku, Finding::AmountOverflow] {
            assert!(!f.text(Lang::Zh).is_empty() && !f.text(Lang::En).is_empty());
        }
    }

    #[test]
    fn overflow_is_a_finding_not_a_panic() {
        // A hand-built (unvalidated) policy with absurd prices and lines at the extremes.
        let mut p = policy();
        for price in &mut p.prices {
            price.price_fen = i64::MAX;
        }
        p.promotions = vec![
            promo("X", "A", &[], i64::MIN, i64::MAX, PromotionKind::PercentOff { bp: u32::MAX }),
            promo("Y", "A", &[], i64::MIN, i64::MAX, PromotionKind::BuyGet { buy: 1, free: u32::MAX, gift_sku: None }),
        ];
        p.authorities.push(DiscountAuthority { role: Role::Admin, max_discount_bp: u32::MAX });
        p.thresholds.push(AmountThreshold { min_total_fen: i64::MIN, role: Role::Finance });
        let c = customer(Some(Channel::DirectStore));
        let lines = vec![
            line("A", MAX_QTY, MAX_UNIT_PRICE_FEN),
            line("A", i64::MAX, i64::MAX),
            line("A", i64::MIN, i64::MAX),
            line("A", 1, i64::MIN),
            line("B", 2, 0),
        ];
        for at in [i64::MIN, 0, i64::MAX] {
            for role in Role::ALL {
                let o = price_order(&p, &c, &lines, at, role);
                assert_eq!(o.verdict, Verdict::Invalid);
                assert_eq!(o.total_fen, None);
                assert!(o.lines[1].findings.contains(&Finding::AmountOverflow));
                assert_eq!(o.lines[4].discount_bp, Some(10_000));
            }
        }
        // Many lines at the maximum: the total overflows, each line does not.
        let many = vec![line("A", MAX_QTY, MAX_UNIT_PRICE_FEN); 1000];
        let o = price_order(&policy(), &c, &many, ms(AT), Role::Rep);
        assert!(o.lines.iter().all(|l| l.amount_fen == Some(MAX_QTY * MAX_UNIT_PRICE_FEN)));
        assert_eq!(
            (o.total_fen, o.order_findings.clone(), o.verdict),
            (None, vec![OrderFinding::TotalOverflow], Verdict::Invalid)
        );
        assert_eq!(deviation_bp(1, MAX_UNIT_PRICE_FEN), -(MAX_UNIT_PRICE_FEN - 1) * 10_000);
    }

    #[test]
    fn priced_order_serializes() {
        let p = policy();
        let o = price1(&p, &customer(Some(Channel::DirectStore)), line("A", 3, 96_00), ms(AT), Role::Rep);
        let bytes = postcard::to_stdvec(&o).unwrap();
        assert_eq!(postcard::from_bytes::<PricedOrder>(&bytes).unwrap(), o);
        assert_eq!(o.content_hash, approvals_hash(o.customer, &[line("A", 3, 96_00)]));
    }

    /// splitmix64: a small seeded generator, so failures replay.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn range(&mut self, lo: i64, hi: i64) -> i64 {
            lo + self.below((hi - lo + 1) as u64) as i64
        }
        fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
            &v[self.below(v.len() as u64) as usize]
        }
    }

    fn random_policy(r: &mut Rng) -> Policy {
        let mut p = policy();
        let codes = ["A", "B", "G", "OLD"];
        for _ in 0..r.below(4) {
            let (start, end) = (r.range(0, 400) * DAY, r.range(400, 800) * DAY);
            let kind = match r.below(3) {
                0 => PromotionKind::PercentOff { bp: r.range(1, 9999) as u32 },
                1 => PromotionKind::FixedPrice { price_fen: r.range(1, 200_00) },
                _ => PromotionKind::BuyGet { buy: r.range(1, 12) as u32, free: r.range(1, 3) as u32, gift_sku: None },
            };
            let channels: Vec<Channel> = Channel::ALL.iter().copied().filter(|_| r.below(2) == 0).collect();
            let id = format!("P{}", r.next());
            let code = *r.pick(&codes);
            p.promotions.push(promo(&id, code, &channels, start, end, kind));
        }
        for i in 0..r.below(3) as i64 {
            // Distinct effective dates: two adjustments of one price may not take effect together.
            let (notice, effective) = (r.range(0, 500) * DAY, (500 + 150 * i + r.range(0, 100)) * DAY);
            let id = format!("J{}", r.next());
            p.adjustments.push(PriceAdjustment {
                id,
                sku: r.pick(&codes).to_string(),
                tier: *r.pick(PriceTier::ALL),
                price_fen: r.range(1, 300_00),
                notice_at: notice,
                effective_at: effective,
                note: String::new(),
            });
        }
        p
    }

    fn shuffled(p: &Policy, r: &mut Rng) -> Policy {
        fn shuffle<T>(v: &mut [T], r: &mut Rng) {
            for i in (1..v.len()).rev() {
                v.swap(i, r.below(i as u64 + 1) as usize);
            }
        }
        let mut q = p.clone();
        shuffle(&mut q.skus, r);
        shuffle(&mut q.prices, r);
        shuffle(&mut q.channel_tiers, r);
        shuffle(&mut q.promotions, r);
        shuffle(&mut q.authorities, r);
        shuffle(&mut q.thresholds, r);
        shuffle(&mut q.adjustments, r);
        q
    }

    #[test]
    fn property_deterministic_and_totals_add_up() {
        let codes = ["A", "B", "G", "OLD", "NOPE"];
        for seed in 0..400u64 {
            let mut r = Rng(seed);
            let p = random_policy(&mut r);
            assert_eq!(p.problems(), vec![], "seed {seed}");
            let channel = if r.below(8) == 0 { None } else { Some(*r.pick(Channel::ALL)) };
            let id = if r.below(3) == 0 { agreement_customer() } else { DocId::from_slice(&[9; 16]).unwrap() };
            let c = CustomerFacts { id, channel };
            let lines: Vec<LineFacts> = (0..r.range(0, 6))
                .map(|i| LineFacts {
                    id: format!("{seed}-{i}"),
                    sku: r.pick(&codes).to_string(),
                    spec: None,
                    qty: r.range(1, 3_000),
                    unit_price_fen: r.range(0, 120_00),
                })
                .collect();
            let at = r.range(0, 1000) * DAY;
            let pricer = *r.pick(&Role::ALL);
            let o = price_order(&p, &c, &lines, at, pricer);
            // Deterministic, also through the published bytes and whatever the order of the policy's lists.
            assert_eq!(price_order(&p, &c, &lines, at, pricer), o, "seed {seed}");
            assert_eq!(price_order(&Policy::from_bytes(&p.to_bytes()).unwrap(), &c, &lines, at, pricer), o);
            assert_eq!(price_order(&shuffled(&p, &mut r), &c, &lines, at, pricer), o, "seed {seed}: order-dependent");
            // Totals are exactly the sums of line amounts; amounts are exactly qty × unit price.
            let sum: i64 = o.lines.iter().map(|l| l.amount_fen.unwrap()).sum();
            assert_eq!(o.total_fen, Some(sum), "seed {seed}");
            for (l, input) in o.lines.iter().zip(&lines) {
                assert_eq!(l.amount_fen, Some(input.qty * input.unit_price_fen));
                if let (Some(e), Some(list)) = (l.expected_unit_price_fen, l.list_price_fen) {
                    assert!(e >= 1);
                    assert_eq!(l.expected_amount_fen, Some(input.qty * e));
                    if l.price_source == Some(PriceSource::Promotion) {
                        assert!(e < l.agreement_price_fen.unwrap_or(list), "seed {seed}: a promotion only lowers");
                    }
                }
            }
            if o.lines.iter().all(|l| l.expected_amount_fen.is_some()) {
                let expected: i64 = o.lines.iter().map(|l| l.expected_amount_fen.unwrap()).sum();
                assert_eq!(o.expected_total_fen, Some(expected));
            }
            // The verdict follows from the findings and approvals.
            let invalid = !o.order_findings.is_empty()
                || o.lines.iter().flat_map(|l| &l.findings).any(|f| f.severity() == Severity::Invalid);
            let want = match (invalid, o.approvals.is_empty()) {
                (true, _) => Verdict::Invalid,
                (false, true) => Verdict::Ok,
                (false, false) => Verdict::NeedsApproval,
            };
            assert_eq!(o.verdict, want, "seed {seed}");
            // Every approval can be given by its own role and by no role below it.
            for a in &o.approvals {
                assert!(p.may_approve(a.role, a.role));
                if let Reason::DiscountAboveAuthority { discount_bp, .. } = a.reason {
                    assert!(i64::from(p.authority_bp(a.role).unwrap()) >= discount_bp);
                    assert!(i64::from(p.authority_bp(pricer).unwrap_or(0)) < discount_bp);
                }
            }
        }
    }
}
