//! 市场趋势预测: market size, growth, demand shift and competition of one region
//! and period, distributed like a market report (published once to every department, read
//! receipts, locked once published).

use super::DocKind;
use super::grants::{DEPARTMENTS, MARKET_STAFF};
use super::market_report::PUBLISH;
use super::spec::build::{author, created_at, field};
use super::spec::{Effect, FieldType::*, Freeze, IdRule, KindSpec, Placement};
use super::steps::RECEIPTS;

const W: super::Grants = MARKET_STAFF;

pub const SPEC: KindSpec = KindSpec {
    name: "trend-forecast",
    zh: "市场趋势预测",
    en: "Market trend forecast",
    code: 30,
    id: IdRule::Random,
    placement: Placement::Nowhere,
    read: DEPARTMENTS,
    create: W,
    title: Some("title"),
    server_written: false,
    freeze: Some(Freeze {
        fields: &["title", "region", "period", "market_size", "growth_bp", "demand_shift", "competition"],
        effect: Effect::Published,
    }),
    fields: &[
        author("created_by", "撰写人", "Written by", W),
        created_at("created_at", "撰写时间", "Written at", W),
        field("title", Str { max: 100 }, "预测标题", "Title", W).required(),
        field("report", Ref(DocKind::MarketReport), "依据报告", "Based on report", W),
        field("region", Str { max: 50 }, "区域", "Region", W).required(),
        field("period", Str { max: 20 }, "预测期间", "Period", W).required(),
        field("market_size", Money { max: 1_000_000_000_000_000 }, "市场规模", "Market size", W),
        field("growth_bp", Int { min: -10_000, max: 100_000 }, "增长率（基点，1% = 100）", "Growth (basis points)", W),
        field("demand_shift", Text { max: 5_000 }, "需求变化", "Demand shift", W),
        field("competition", Text { max: 5_000 }, "竞争态势", "Competition", W),
        field("status", Log(&PUBLISH), "状态", "Status", W),
        field("receipts", Log(&RECEIPTS), "阅读回执", "Read receipts", DEPARTMENTS),
    ],
};
