//! The product catalogue (产品目录): what can be sold, in which unit.

use serde::{Deserialize, Serialize};

string_enum!(
    /// Aroma type (香型), the twelve standard categories of baijiu.
    AromaType {
        Jiang = "jiang", "酱香", "Sauce aroma";
        Nong = "nong", "浓香", "Strong aroma";
        Qing = "qing", "清香", "Light aroma";
        Mi = "mi", "米香", "Rice aroma";
        Feng = "feng", "凤香", "Feng aroma";
        Jian = "jian", "兼香", "Mixed aroma";
        Zhima = "zhima", "芝麻香", "Sesame aroma";
        Dong = "dong", "董香", "Dong aroma";
        Chi = "chi", "豉香", "Chi aroma";
        Te = "te", "特香", "Te aroma";
        Laobaigan = "laobaigan", "老白干香", "Laobaigan aroma";
        Fuyu = "fuyu", "馥郁香", "Fuyu aroma";
    }
);

string_enum!(
    /// The unit an SKU is ordered and priced in (计量单位).
    Unit {
        Bottle = "bottle", "瓶", "bottle";
        Case = "case", "箱", "case";
        Box = "box", "盒", "gift box";
    }
);

/// One sellable product (SKU). Prices are per `unit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sku {
    /// Stable code written on order lines, e.g. `QY-53-500`.
    pub code: String,
    /// Series (系列), e.g. `黔韵`.
    pub series: String,
    pub name: String,
    /// Packaging spec (规格) as printed, e.g. `500ml×6`.
    pub spec: String,
    /// Alcohol by volume in tenths of a percent: `530` = 53 %vol, `425` = 42.5 %vol.
    pub abv_tenths: u16,
    pub aroma: AromaType,
    pub unit: Unit,
    /// Bottles in one shipping case (for logistics; 6 for most baijiu).
    pub bottles_per_case: u16,
    /// Inactive SKUs (discontinued, 停售) stay in the catalogue but cannot be ordered.
    pub active: bool,
}

/// Highest alcohol content accepted (100.0 %vol).
pub const MAX_ABV_TENTHS: u16 = 1000;

impl Sku {
    /// Problems with this SKU on its own (empty code, impossible alcohol content …).
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.code.trim().is_empty() || self.code.trim() != self.code {
            p.push(format!("SKU code '{}' must be non-empty without surrounding spaces", self.code));
        }
        if self.name.trim().is_empty() {
            p.push(format!("SKU {} has no name", self.code));
        }
        if self.abv_tenths == 0 || self.abv_tenths > MAX_ABV_TENTHS {
            p.push(format!(
                "SKU {}: alcohol {} is not between 0.1 and 100 %vol",
                self.code,
                format_abv(self.abv_tenths)
            ));
        }
        if self.bottles_per_case == 0 {
            p.push(format!("SKU {}: bottles per case must be at least 1", self.code));
        }
        p
    }

    /// Whether a spec written on an order line names this SKU's spec (ignoring case, spaces
    /// and the spelling of the multiplication sign: `500ML x 6` matches `500ml×6`).
    pub fn spec_matches(&self, written: &str) -> bool {
        normalize_spec(written) == normalize_spec(&self.spec)
    }
}

fn normalize_spec(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            'x' | 'X' | '*' | '＊' | 'Ｘ' | 'ｘ' => '×',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// `530` → `53%vol`, `425` → `42.5%vol`.
pub fn format_abv(tenths: u16) -> String {
    if tenths.is_multiple_of(10) {
        format!("{}%vol", tenths / 10)
    } else {
        format!("{}.{}%vol", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Lang;

    fn sku() -> Sku {
        Sku {
            code: "QY-53-500".into(),
            series: "黔韵".into(),
            name: "黔韵·珍品".into(),
            spec: "500ml×6".into(),
            abv_tenths: 530,
            aroma: AromaType::Jiang,
            unit: Unit::Case,
            bottles_per_case: 6,
            active: true,
        }
    }

    #[test]
    fn vocabularies_parse_names_and_chinese_labels() {
        assert_eq!("酱香".parse::<AromaType>(), Ok(AromaType::Jiang));
        assert_eq!("qing".parse::<AromaType>(), Ok(AromaType::Qing));
        assert_eq!("箱".parse::<Unit>(), Ok(Unit::Case));
        assert!("whisky".parse::<AromaType>().unwrap_err().contains("jiang"));
        for a in AromaType::ALL {
            assert_eq!(a.label(Lang::Zh).parse::<AromaType>(), Ok(*a));
        }
    }

    #[test]
    fn abv_and_spec() {
        assert_eq!(format_abv(530), "53%vol");
        assert_eq!(format_abv(425), "42.5%vol");
        let s = sku();
        assert!(s.problems().is_empty());
        assert!(s.spec_matches("500ML x 6"));
        assert!(s.spec_matches("500ml*6"));
        assert!(!s.spec_matches("500ml×4"));
        let bad = Sku { abv_tenths: 0, bottles_per_case: 0, code: " X".into(), ..s };
        assert_eq!(bad.problems().len(), 3);
    }
}
