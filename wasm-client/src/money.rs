//! Money as people type and read it: yuan with up to two decimals, stored as integer fen.
//! No floats anywhere.

/// `"12"`, `"12.5"`, `"¥1,234.50"` → fen. Negative amounts and more than two decimals are
/// refused.
pub fn parse_yuan(text: &str) -> Result<i64, String> {
    protocol::kinds::parse::parse_yuan(text)
        .ok_or_else(|| format!("'{}' is not an amount in yuan like 1499.00", text.trim()))
}

/// 149900 → `"1499.00"`.
pub fn yuan(fen: i64) -> String {
    protocol::schema::order::format_fen(fen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_parses_to_fen_exactly() {
        let cases = [("12", 1200), ("12.5", 1250), ("12.05", 1205), ("¥1,234.50", 123_450), (" 0.01 ", 1), (".5", 50)];
        for (text, fen) in cases {
            assert_eq!(parse_yuan(text), Ok(fen), "{text}");
        }
        for bad in ["", "-1", "1.234", "abc", "1e3", "1.2.3", ".", "¥"] {
            assert!(parse_yuan(bad).is_err(), "{bad}");
        }
        assert_eq!(yuan(123_450), "1234.50");
    }
}
