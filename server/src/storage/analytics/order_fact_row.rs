//! `order_facts` and `order_lines`: each order as the analysis counts it (its cells of
//! the sales rollup follow it: `sales_day_row.rs`).

use super::{DbError, LineFact, OrderFact, SqliteAnalytics, to_bool};
use rusqlite::params;
use std::collections::HashMap;

impl SqliteAnalytics {
    pub(super) fn put_order_impl(&self, o: &OrderFact) -> Result<(), DbError> {
        // The rollup: the order's old cells out, its new ones in (its customer as it is now).
        let customer = self.customer_attrs(o.customer.as_deref())?;
        for old in self.counted_orders("order_id", &o.id)? {
            let was = self.customer_attrs(old.customer.as_deref())?;
            self.roll(&old, &was, -1)?;
        }
        self.roll(o, &customer, 1)?;
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO order_facts (order_id, customer, rep, territory, status, counted, ordered_at,
                 confirmed_at, cancelled_after_confirmation, exceptions, total_fen, seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                o.id,
                o.customer,
                o.rep,
                o.territory,
                o.status,
                o.counted,
                o.ordered_at,
                o.confirmed_at,
                o.cancelled_after_confirmation,
                o.exceptions,
                o.total_fen,
                o.seq
            ])?;
        self.conn.prepare_cached("DELETE FROM order_lines WHERE order_id = ?1")?.execute([&o.id])?;
        let mut insert = self.conn.prepare_cached(
            "INSERT INTO order_lines (order_id, n, line_id, sku, series, unit, qty, bottles, bottles_per_case, amount_fen)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for (n, l) in o.lines.iter().enumerate() {
            insert.execute(params![
                o.id,
                n as i64,
                l.line_id,
                l.sku,
                l.series,
                l.unit,
                l.qty,
                l.bottles,
                l.bottles_per_case,
                l.amount_fen
            ])?;
        }
        Ok(())
    }

    pub(super) fn orders_between_impl(&self, from: i64, to: i64) -> Result<Vec<OrderFact>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT order_id, customer, rep, territory, status, counted, ordered_at, confirmed_at,
             cancelled_after_confirmation, exceptions, total_fen, seq
             FROM order_facts WHERE ordered_at >= ?1 AND ordered_at < ?2 ORDER BY ordered_at, order_id",
        )?;
        let mut orders: Vec<OrderFact> = stmt.query_map(params![from, to], order_fact)?.collect::<Result<_, _>>()?;
        let index: HashMap<Vec<u8>, usize> = orders.iter().enumerate().map(|(i, o)| (o.id.clone(), i)).collect();
        let mut lines = self.conn.prepare_cached(
            "SELECT l.order_id, l.line_id, l.sku, l.series, l.unit, l.qty, l.bottles, l.bottles_per_case, l.amount_fen
             FROM order_lines l JOIN order_facts o ON o.order_id = l.order_id
             WHERE o.ordered_at >= ?1 AND o.ordered_at < ?2 ORDER BY l.order_id, l.n",
        )?;
        let mut rows = lines.query(params![from, to])?;
        while let Some(r) = rows.next()? {
            let id: Vec<u8> = r.get(0)?;
            let line = LineFact {
                line_id: r.get(1)?,
                sku: r.get(2)?,
                series: r.get(3)?,
                unit: r.get(4)?,
                qty: r.get(5)?,
                bottles: r.get(6)?,
                bottles_per_case: r.get(7)?,
                amount_fen: r.get(8)?,
            };
            if let Some(&i) = index.get(&id) {
                orders[i].lines.push(line);
            }
        }
        Ok(orders)
    }
}

/// An `order_facts` row read in the column order `order_id, customer, rep, territory,
/// status, counted, ordered_at, confirmed_at, cancelled_after_confirmation, exceptions,
/// total_fen, seq` (its lines are read apart).
pub(super) fn order_fact(r: &rusqlite::Row<'_>) -> rusqlite::Result<OrderFact> {
    Ok(OrderFact {
        id: r.get(0)?,
        customer: r.get(1)?,
        rep: r.get(2)?,
        territory: r.get(3)?,
        status: r.get(4)?,
        counted: to_bool(r.get(5)?),
        ordered_at: r.get(6)?,
        confirmed_at: r.get(7)?,
        cancelled_after_confirmation: to_bool(r.get(8)?),
        exceptions: r.get(9)?,
        total_fen: r.get(10)?,
        seq: r.get(11)?,
        lines: Vec::new(),
    })
}
