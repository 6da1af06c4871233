//! The closed vocabularies of the documents, with their Chinese and English labels.

use std::str::FromStr;

/// The language text is shown in. Simplified Chinese is the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "zh" | "zh-CN" | "zh-Hans" => Ok(Lang::Zh),
            "en" | "en-US" | "en-GB" => Ok(Lang::En),
            _ => Err(format!("unknown language '{s}' (zh, en)")),
        }
    }
}

string_enum!(
    /// Sales channel (渠道类型).
    Channel {
        Distributor = "distributor", "经销商", "Distributor";
        DirectStore = "direct-store", "直营店", "Direct store";
        ECommerce = "e-commerce", "电商平台", "E-commerce";
        GroupPurchase = "group-purchase", "团购", "Group purchase";
        Restaurant = "restaurant", "餐饮", "Restaurant / hotel";
    }
);

string_enum!(
    /// A/B/C follow-up class (客户分类).
    CustomerClass {
        A = "A", "A类", "A (strong intention)";
        B = "B", "B类", "B (some intention)";
        C = "C", "C类", "C (weak intention)";
    }
);

string_enum!(
    /// What a visit was for (拜访类型).
    VisitKind {
        Development = "development", "开发", "Development";
        FollowUp = "follow-up", "跟进", "Follow-up";
        Revisit = "revisit", "回访", "Revisit";
        Tasting = "tasting", "品鉴会", "Tasting event";
    }
);

string_enum!(
    /// How a visit happened (拜访方式).
    VisitMethod {
        Phone = "phone", "电话", "Phone";
        OnSite = "on-site", "上门拜访", "On-site";
        TradeShow = "trade-show", "展会", "Trade show";
        Event = "event", "活动", "Event";
    }
);

string_enum!(
    /// Where an order came from (订单来源).
    OrderSource {
        Written = "written", "书面订单", "Written";
        Electronic = "electronic", "电子订单", "Electronic";
        Verbal = "verbal", "口头订单", "Verbal";
    }
);

string_enum!(
    /// How the customer pays (付款方式).
    PaymentMethod {
        BankTransfer = "bank-transfer", "银行转账", "Bank transfer";
        Cash = "cash", "现金", "Cash";
        Online = "online", "在线支付", "Online payment";
        Credit = "credit", "赊销", "On credit";
    }
);

string_enum!(
    /// Order status, folded from the order's event list (订单状态).
    OrderStatus {
        Draft = "draft", "草稿", "Draft";
        Submitted = "submitted", "已提交", "Submitted";
        AwaitingApproval = "awaiting-approval", "待审批", "Awaiting approval";
        Rejected = "rejected", "已驳回", "Rejected";
        Confirmed = "confirmed", "已确认", "Confirmed";
        Shipped = "shipped", "已发货", "Shipped";
        Delivered = "delivered", "已签收", "Delivered";
        Closed = "closed", "已完成", "Closed";
        Cancelled = "cancelled", "已取消", "Cancelled";
    }
);

string_enum!(
    /// What happened to an order (订单事件). Appended to the order's event list.
    EventKind {
        Created = "created", "创建", "Created";
        Submitted = "submitted", "提交", "Submitted";
        Approved = "approved", "审批通过", "Approved";
        Rejected = "rejected", "审批驳回", "Rejected";
        Paid = "paid", "确认收款", "Payment confirmed";
        Shipped = "shipped", "发货", "Shipped";
        Delivered = "delivered", "签收", "Delivered";
        Exception = "exception", "异常", "Exception";
        Resolved = "resolved", "异常处理完毕", "Exception resolved";
        Cancelled = "cancelled", "取消", "Cancelled";
        Closed = "closed", "关闭", "Closed";
    }
);

string_enum!(
    /// Kinds of order exception (订单异常).
    ExceptionKind {
        Delayed = "delayed", "延迟", "Delayed";
        Damaged = "damaged", "破损", "Damaged";
        Refused = "refused", "客户拒收", "Refused by customer";
        CancelAfterShipment = "cancel-after-shipment", "发货后申请取消", "Cancel requested after shipment";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels_parse() {
        assert_eq!("distributor".parse::<Channel>(), Ok(Channel::Distributor));
        assert_eq!("经销商".parse::<Channel>(), Ok(Channel::Distributor));
        assert!("wholesale".parse::<Channel>().unwrap_err().contains("distributor"));
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(*c));
        }
    }
}
