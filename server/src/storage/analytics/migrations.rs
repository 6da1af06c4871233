//! The analysis database's schema (version 2: the per-day sales rollup).

use super::DbError;
use rusqlite::Connection;

pub const SCHEMA_VERSION: i64 = 2;

const V1: &str = "
CREATE TABLE IF NOT EXISTS projection_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
INSERT OR IGNORE INTO projection_cursor (id, seq) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS order_facts (
    order_id BLOB PRIMARY KEY, customer BLOB, rep TEXT NOT NULL, territory TEXT, status TEXT NOT NULL,
    counted INTEGER NOT NULL, ordered_at INTEGER NOT NULL, confirmed_at INTEGER,
    cancelled_after_confirmation INTEGER NOT NULL, exceptions TEXT NOT NULL, total_fen INTEGER NOT NULL,
    seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS order_facts_date ON order_facts (ordered_at);
CREATE TABLE IF NOT EXISTS order_lines (
    order_id BLOB NOT NULL, n INTEGER NOT NULL, line_id TEXT NOT NULL, sku TEXT NOT NULL, series TEXT,
    unit TEXT NOT NULL, qty INTEGER NOT NULL, bottles INTEGER NOT NULL, bottles_per_case INTEGER NOT NULL,
    amount_fen INTEGER NOT NULL, PRIMARY KEY (order_id, n));
CREATE TABLE IF NOT EXISTS customer_facts (
    customer_id BLOB PRIMARY KEY, name TEXT NOT NULL, territory TEXT, region TEXT, channel TEXT, owner TEXT,
    created_by TEXT NOT NULL, created_at INTEGER NOT NULL, class TEXT);
CREATE TABLE IF NOT EXISTS class_changes (
    customer_id BLOB NOT NULL, n INTEGER NOT NULL, from_class TEXT, to_class TEXT NOT NULL, at INTEGER NOT NULL,
    by TEXT NOT NULL, PRIMARY KEY (customer_id, n));
CREATE TABLE IF NOT EXISTS visit_facts (
    visit_id BLOB PRIMARY KEY, customer BLOB, rep TEXT NOT NULL, at INTEGER NOT NULL, kind TEXT,
    satisfaction INTEGER);
CREATE INDEX IF NOT EXISTS visit_facts_date ON visit_facts (at);
CREATE TABLE IF NOT EXISTS complaint_facts (
    complaint_id BLOB PRIMARY KEY, customer BLOB, filed_by TEXT NOT NULL, received_at INTEGER NOT NULL,
    severity TEXT NOT NULL, status TEXT NOT NULL, resolved_at INTEGER, ack_breached INTEGER NOT NULL,
    resolve_breached INTEGER NOT NULL, satisfaction INTEGER);
CREATE INDEX IF NOT EXISTS complaint_facts_date ON complaint_facts (received_at);
CREATE TABLE IF NOT EXISTS problems (
    doc_id BLOB NOT NULL, n INTEGER NOT NULL, kind TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL,
    PRIMARY KEY (doc_id, n));
CREATE TABLE IF NOT EXISTS sku_costs (sku TEXT PRIMARY KEY, cost_fen INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS schemes (period_kind TEXT PRIMARY KEY, json TEXT NOT NULL, by TEXT NOT NULL,
    at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS qualitative_scores (
    period TEXT NOT NULL, rep TEXT NOT NULL, criterion TEXT NOT NULL, score INTEGER NOT NULL, by TEXT NOT NULL,
    at INTEGER NOT NULL, PRIMARY KEY (period, rep, criterion));
CREATE TABLE IF NOT EXISTS locked_periods (period TEXT PRIMARY KEY, scorecards TEXT NOT NULL, by TEXT NOT NULL,
    at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY, period TEXT NOT NULL, rep TEXT NOT NULL, item TEXT NOT NULL, score INTEGER NOT NULL,
    reason TEXT NOT NULL, by TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sanctions (
    id INTEGER PRIMARY KEY, period TEXT NOT NULL, rep TEXT NOT NULL, amount_fen INTEGER NOT NULL,
    reason TEXT NOT NULL, by TEXT NOT NULL, at INTEGER NOT NULL);
";

/// Version 2: the per-day sales rollup (`sales_days`, summed per month in `sales_months`;
/// a manager's territories and a rep's own days found by index), and orders found by customer. The
/// projected rows are dropped and the cursor set to 0, so the projection rebuilds them —
/// the rollup with them — from the change feed (what people entered stays).
const V2: &str = "
CREATE TABLE IF NOT EXISTS sales_days (
    day INTEGER NOT NULL, territory TEXT NOT NULL, region TEXT NOT NULL, rep TEXT NOT NULL, channel TEXT NOT NULL,
    series TEXT NOT NULL, sku TEXT NOT NULL, amount_fen INTEGER NOT NULL, bottles INTEGER NOT NULL,
    cases_x100 INTEGER NOT NULL, qty INTEGER NOT NULL, lines INTEGER NOT NULL, orders INTEGER NOT NULL,
    orders_series INTEGER NOT NULL, orders_all INTEGER NOT NULL,
    PRIMARY KEY (day, territory, region, rep, channel, series, sku)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sales_months (
    month INTEGER NOT NULL, territory TEXT NOT NULL, region TEXT NOT NULL, rep TEXT NOT NULL, channel TEXT NOT NULL,
    series TEXT NOT NULL, sku TEXT NOT NULL, amount_fen INTEGER NOT NULL, bottles INTEGER NOT NULL,
    cases_x100 INTEGER NOT NULL, qty INTEGER NOT NULL, lines INTEGER NOT NULL, orders INTEGER NOT NULL,
    orders_series INTEGER NOT NULL, orders_all INTEGER NOT NULL,
    PRIMARY KEY (month, territory, region, rep, channel, series, sku)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sales_days_territory ON sales_days (territory, day);
CREATE INDEX IF NOT EXISTS sales_days_rep ON sales_days (rep, day);
CREATE INDEX IF NOT EXISTS order_facts_customer ON order_facts (customer);
DELETE FROM order_facts; DELETE FROM order_lines; DELETE FROM customer_facts; DELETE FROM class_changes;
DELETE FROM visit_facts; DELETE FROM complaint_facts; DELETE FROM problems;
UPDATE projection_cursor SET seq = 0 WHERE id = 1;
";

pub fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(DbError::SchemaTooNew { found: version, supported: SCHEMA_VERSION });
    }
    if version < 1 {
        let tx = conn.transaction()?;
        tx.execute_batch(V1)?;
        tx.pragma_update(None, "user_version", 1)?;
        tx.commit()?;
    }
    if version < 2 {
        let tx = conn.transaction()?;
        tx.execute_batch(V2)?;
        tx.pragma_update(None, "user_version", 2)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_1_file_is_projected_again_with_its_rollup() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(V1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "UPDATE projection_cursor SET seq = 77;
             INSERT INTO order_facts VALUES (x'01', NULL, 'li', NULL, 'confirmed', 1, 5, NULL, 0, '', 100, 3);
             INSERT INTO sku_costs VALUES ('A', 60);
             INSERT INTO schemes VALUES ('month', '{}', 'zhao', 1);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        fn one(conn: &Connection, sql: &str) -> i64 {
            conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap()
        }
        assert_eq!(one(&conn, "PRAGMA user_version"), SCHEMA_VERSION);
        // The projection starts again from the feed (the rollup is built as it goes) …
        assert_eq!(one(&conn, "SELECT seq FROM projection_cursor"), 0);
        assert_eq!(one(&conn, "SELECT COUNT(*) FROM order_facts"), 0);
        assert_eq!(one(&conn, "SELECT COUNT(*) FROM sales_days") + one(&conn, "SELECT COUNT(*) FROM sales_months"), 0);
        // … and what people entered stays.
        assert_eq!(one(&conn, "SELECT COUNT(*) FROM sku_costs") + one(&conn, "SELECT COUNT(*) FROM schemes"), 2);
        // Opening it again changes nothing.
        conn.execute_batch("UPDATE projection_cursor SET seq = 9").unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(one(&conn, "SELECT seq FROM projection_cursor"), 9);
    }
}
