//! 渠道规划: the channel plan of a territory — channel type, layout, and the
//! selection criteria partners are scored against, each with its weight (0: not used) —
//! and the points a field violation costs a partner of the plan.

use super::grants::{PARTNER_STAFF, PLAN_READERS};
use super::spec::build::{author, created_at, field};
use super::spec::{FieldType::*, IdRule, KindSpec, Placement};
use crate::schema::Channel;

const W: super::Grants = PARTNER_STAFF;
const WEIGHT: crate::kinds::FieldType = Int { min: 0, max: 100 };

pub const SPEC: KindSpec = KindSpec {
    name: "channel-plan",
    zh: "渠道规划",
    en: "Channel plan",
    code: 33,
    id: IdRule::Random,
    placement: Placement::Own { territory: "territory" },
    read: PLAN_READERS,
    create: W,
    title: Some("title"),
    server_written: false,
    freeze: None,
    fields: &[
        author("created_by", "制定人", "Created by", W),
        created_at("created_at", "制定时间", "Created at", W),
        field("title", Str { max: 100 }, "规划名称", "Title", W).required(),
        field("territory", Str { max: 50 }, "销售区域", "Territory", W).required(),
        field("region", Str { max: 50 }, "区域", "Region", W),
        field("channel", Enum(&Channel::VOCAB), "渠道类型", "Channel type", W),
        field("layout", Text { max: 5_000 }, "渠道布局", "Layout", W),
        field("weight_capital", WEIGHT, "资金实力权重", "Weight: capital", W),
        field("weight_network", WEIGHT, "渠道网络权重", "Weight: network", W),
        field("weight_reputation", WEIGHT, "商业信誉权重", "Weight: reputation", W),
        field("weight_logistics", WEIGHT, "仓储配送权重", "Weight: logistics", W),
        field("weight_service", WEIGHT, "团队服务权重", "Weight: team and service", W),
        field("deduct_cross_region", Int { min: 0, max: 100 }, "窜货扣分", "Points per cross-region sale", W),
        field("deduct_price", Int { min: 0, max: 100 }, "乱价扣分", "Points per price violation", W),
    ],
};
