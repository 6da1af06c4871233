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

// ---- after-sales (售后) ----------------------------------------------------------------

string_enum!(
    /// How a complaint reached the company (投诉渠道).
    ComplaintChannel {
        Hotline = "hotline", "客服热线", "Hotline";
        Email = "email", "电子邮件", "Email";
        Online = "online", "在线客服", "Online service";
        FieldRep = "field-rep", "业务员现场", "Field rep";
        Dealer = "dealer", "经销商反馈", "Dealer";
    }
);

string_enum!(
    /// What a complaint is about (投诉类别).
    ComplaintCategory {
        Taste = "taste", "口感", "Taste";
        Packaging = "packaging", "包装", "Packaging";
        AntiCounterfeit = "anti-counterfeit", "防伪/疑似假酒", "Anti-counterfeiting / suspected fake";
        LogisticsDamage = "logistics-damage", "物流破损", "Logistics damage";
        DeliveryDelay = "delivery-delay", "配送延误", "Delivery delay";
        Service = "service", "服务", "Service";
        Price = "price", "价格", "Price";
    }
);

string_enum!(
    /// How grave a complaint or quality issue is (严重程度); decides the SLA clocks.
    Severity {
        Normal = "normal", "一般", "Normal";
        Serious = "serious", "严重", "Serious";
        Critical = "critical", "紧急（疑似安全问题）", "Critical (suspected safety issue)";
    }
);

string_enum!(
    /// Who caused what a complaint is about (责任方).
    ResponsibleParty {
        Production = "production", "生产", "Production";
        Logistics = "logistics", "物流", "Logistics";
        Sales = "sales", "销售", "Sales";
        Dealer = "dealer", "经销商", "Dealer";
        Customer = "customer", "客户", "Customer";
        Nobody = "none", "无责任方", "None";
    }
);

string_enum!(
    /// What happened to a complaint (投诉事件). Appended to the complaint's event log.
    ComplaintEventKind {
        Filed = "filed", "登记投诉", "Filed";
        Acknowledged = "acknowledged", "受理", "Acknowledged";
        Investigating = "investigating", "调查", "Investigation";
        Measures = "measures", "确定处理措施", "Measures decided";
        Resolved = "resolved", "处理完毕", "Resolved";
        Feedback = "feedback", "客户反馈", "Customer feedback";
        Closed = "closed", "关闭", "Closed";
        Reopened = "reopened", "重新打开", "Reopened";
        Waiting = "waiting", "等待客户", "Waiting on the customer";
        Resumed = "resumed", "客户已回复", "Customer replied";
        Progress = "progress", "告知客户进展", "Progress told to the customer";
        FieldNote = "field-note", "现场记录", "Field note";
        Escalated = "escalated", "升级", "Escalated";
    }
);

string_enum!(
    /// Where a complaint stands, folded from its event log (投诉状态).
    ComplaintStatus {
        Received = "received", "待受理", "Received";
        Acknowledged = "acknowledged", "已受理", "Acknowledged";
        Investigating = "investigating", "调查中", "Investigating";
        MeasuresDecided = "measures-decided", "已定措施", "Measures decided";
        Resolved = "resolved", "已解决", "Resolved";
        Feedback = "feedback", "客户已反馈", "Feedback received";
        Closed = "closed", "已关闭", "Closed";
        Reopened = "reopened", "已重新打开", "Reopened";
    }
);

string_enum!(
    /// How the customer was told (告知方式).
    ToldVia {
        Phone = "phone", "电话", "Phone";
        Sms = "sms", "短信", "SMS";
        Wechat = "wechat", "微信", "WeChat";
        Email = "email", "邮件", "Email";
        Visit = "visit", "上门", "In person";
    }
);

string_enum!(
    /// Where a quality issue came from (问题来源).
    QualitySource {
        Complaints = "complaints", "客户投诉", "Complaints";
        MarketTracking = "market-tracking", "市场跟踪", "Market tracking";
    }
);

string_enum!(
    /// What happened to a quality issue (质量问题事件).
    QualityEventKind {
        Linked = "linked", "关联投诉", "Complaint linked";
        Analysis = "analysis", "原因分析", "Root cause analysis";
        Containment = "containment", "遏制措施", "Containment";
        Action = "action", "纠正措施", "Corrective action";
        Verification = "verification", "效果验证", "Verification";
        Closed = "closed", "关闭", "Closed";
        Reopened = "reopened", "重新打开", "Reopened";
        Recall = "recall", "召回", "Recall";
    }
);

string_enum!(
    /// Where a quality issue stands, folded from its event log (质量问题状态).
    QualityStatus {
        Open = "open", "待分析", "Open";
        Analysed = "analysed", "已分析", "Analysed";
        Contained = "contained", "已遏制", "Contained";
        ActionPlanned = "action-planned", "整改中", "Corrective action";
        Verified = "verified", "已验证", "Verified";
        Closed = "closed", "已关闭", "Closed";
        Reopened = "reopened", "已重新打开", "Reopened";
    }
);

string_enum!(
    /// What a revisit asks about (回访内容).
    RevisitContent {
        ProductExperience = "product-experience", "产品体验", "Product experience";
        Satisfaction = "satisfaction-survey", "满意度调查", "Satisfaction survey";
        Service = "service-evaluation", "服务评价", "Service evaluation";
        PurchaseIntention = "purchase-intention", "购买意向", "Purchase intention";
    }
);

string_enum!(
    /// How a revisit is made (回访方式).
    RevisitMethod {
        Phone = "phone", "电话", "Phone";
        OnSite = "on-site", "上门", "On-site";
        Questionnaire = "questionnaire", "问卷", "Questionnaire";
    }
);

string_enum!(
    /// Which customers a revisit plan reaches (回访范围).
    PlanScope {
        List = "list", "指定客户", "Listed customers";
        Rule = "rule", "按规则", "By rule";
    }
);

string_enum!(
    /// Where a task stands (任务状态).
    TaskStatus {
        Open = "open", "待办", "Open";
        Done = "done", "已完成", "Done";
        Skipped = "skipped", "已跳过", "Skipped";
    }
);

string_enum!(
    /// How likely the customer buys again (购买意向).
    Intention {
        High = "high", "强", "High";
        Medium = "medium", "一般", "Medium";
        Low = "low", "弱", "Low";
        Nothing = "none", "无", "None";
    }
);

string_enum!(
    /// What a customer-care date is for (关怀类型).
    CareOccasion {
        SpringFestival = "spring-festival", "春节", "Spring Festival";
        MidAutumn = "mid-autumn", "中秋", "Mid-Autumn Festival";
        DragonBoat = "dragon-boat", "端午", "Dragon Boat Festival";
        Anniversary = "anniversary", "合作周年", "Customer anniversary";
        Birthday = "birthday", "关键联系人生日", "Key contact's birthday";
        NewProduct = "new-product", "新品推荐", "New-product recommendation";
        MemberEvent = "member-event", "会员活动", "Member event";
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
