//! Price policy (价格体系) and the pricing engine: what every device and the server agree
//! an order costs. Pure: no IO, no clock, no randomness — time is an argument.
//!
//! # Model
//!
//! A [`Policy`] is one published version of the market department's price system:
//!
//! - the **catalogue** ([`Sku`]): code, series 系列, name, spec (`500ml×6`), alcohol in tenths
//!   of a percent (`530` = 53 %vol), aroma type 香型, selling unit, bottles per case, active flag;
//! - **tier prices** ([`TierPrice`]) per SKU — factory 出厂价, wholesale 批发价, retail 零售价;
//! - which tier each sales **channel** pays ([`ChannelTier`]);
//! - **agreement prices** ([`AgreementPrice`]) negotiated with one customer for one SKU;
//! - **promotions** ([`Promotion`]) with an inclusive validity window `[start, end]` in UTC ms:
//!   percentage off (basis points), fixed price, or buy N get M free;
//! - **discount authority** per role ([`DiscountAuthority`], basis points below the policy price);
//! - **order-amount thresholds** ([`AmountThreshold`]) that need approval by a role;
//! - the role that approves a price **above** policy (`markup_approver`, R-2.9: reps may neither
//!   lower nor raise the price on their own beyond their authority);
//! - **scheduled adjustments** ([`PriceAdjustment`]): a new tier price with a notice date (devices
//!   show it as upcoming from then) and an effective date (it applies from then on).
//!
//! [`price_order`] is the one pricing function. For each line:
//!
//! 1. *list price* = the tier price of the customer's channel at `at` (latest adjustment whose
//!    effective date is ≤ `at`, else the base tier price);
//! 2. *base price* = the customer's agreement price valid at `at`, if any, else the list price
//!    (an agreement beats the tier);
//! 3. *expected unit price* = the lower of the base price and the best price promotion valid at
//!    `at` for this SKU and channel (percentage off and fixed price are computed from the list
//!    price; promotions never stack with each other or with an agreement; on a tie the base
//!    price wins, between promotions the smaller id wins). Buy-N-get-M promotions do not change
//!    the price; they add free goods (`qty / N × M`, whole multiples only; the best one wins);
//! 4. the rep's unit price is compared with the expected price: a discount within the pricer's
//!    authority is fine; a larger discount needs the role with the smallest authority that covers
//!    it (none covers it → invalid); any price above the expected one needs `markup_approver`
//!    unless the pricer's role covers it;
//! 5. unknown or inactive SKUs, missing prices, bad quantities and arithmetic overflow make the
//!    order invalid; a spec that differs from the catalogue is a warning.
//!
//! Then every amount threshold the order total reaches adds an approval by its role (a large
//! order can need several roles — multi-step approval), whoever priced it.
//!
//! # Money and rounding
//!
//! Money is `i64` fen everywhere; there are no floats. The **only** rounding is in a
//! percentage-off promotion: the promoted unit price is `list × (10000 − bp) / 10000` rounded
//! **half up to the fen, once per unit price** (and never below 1 fen). A line amount is exactly
//! `qty × unit price`; an order total is exactly the sum of its line amounts — totals are never
//! rounded. Discounts are reported in basis points of the expected price rounded **up**, so
//! "3.001 %" reads as 301 bp and is above a 300 bp authority (the authority check is exact).
//! All arithmetic is checked: an overflow is a finding, never a panic or a wrapped number.
//!
//! # CSV
//!
//! The market department writes a policy as one CSV file; see [`policy_csv`] for the format and
//! `examples/policy.csv` at the repository root for a realistic catalogue.
//!
//! # Binding approvals to content
//!
//! [`approvals_hash`] is a SHA-256 over a canonical encoding of the customer and the order lines
//! (SKU, spec, quantity, unit price; line ids and order do not matter). An approval stores it; any
//! later change of customer, lines, prices or quantities changes it (design note 7).

pub mod catalogue;
mod content_hash;
pub mod engine;
pub mod policy_csv;
pub mod price_policy;

pub use catalogue::{AromaType, Sku, Unit, format_abv};
pub use content_hash::{ContentHash, approvals_hash};
pub use engine::{
    AppliedPromotion, ApprovalRequired, CustomerFacts, FreeGoods, LineFacts, OrderFinding, PriceSource, PricedLine,
    PricedOrder, Reason, Severity, UpcomingPrice, Verdict, price_order,
};
pub use engine::{Finding, format_bp};
pub use policy_csv::{CsvError, parse_policy_csv};
pub use price_policy::{
    AgreementPrice, AmountThreshold, BP_SCALE, ChannelTier, DiscountAuthority, Policy, PolicyDecodeError, PolicyItem,
    PolicyProblem, PriceAdjustment, PriceTier, Promotion, PromotionKind, TierPrice,
};

use crate::role::Role;
use crate::schema::Lang;

/// How a role is called in approval texts (业务员 / Sales rep …).
pub fn role_label(role: Role, lang: Lang) -> &'static str {
    match (role, lang) {
        (Role::Rep, Lang::Zh) => "业务员",
        (Role::Rep, Lang::En) => "sales rep",
        (Role::Manager, Lang::Zh) => "销售经理",
        (Role::Manager, Lang::En) => "sales manager",
        (Role::Logistics, Lang::Zh) => "物流",
        (Role::Logistics, Lang::En) => "logistics",
        (Role::Finance, Lang::Zh) => "财务",
        (Role::Finance, Lang::En) => "finance",
        (Role::Legal, Lang::Zh) => "法务",
        (Role::Legal, Lang::En) => "legal",
        (Role::AfterSales, Lang::Zh) => "售后",
        (Role::AfterSales, Lang::En) => "after-sales",
        (Role::Quality, Lang::Zh) => "质量",
        (Role::Quality, Lang::En) => "quality",
        (Role::Market, Lang::Zh) => "市场部",
        (Role::Market, Lang::En) => "market",
        (Role::Executive, Lang::Zh) => "公司领导",
        (Role::Executive, Lang::En) => "executive",
        (Role::Admin, Lang::Zh) => "管理员",
        (Role::Admin, Lang::En) => "admin",
    }
}

/// `Role` has no serde of its own; policy documents carry it as its stable name.
pub(crate) mod role_serde {
    use crate::role::Role;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(role: &Role, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(role.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Role, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
