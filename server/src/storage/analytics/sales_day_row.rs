//! `sales_days`: the per-day sales rollup — every counted order's lines summed per Shanghai
//! day × territory × region × rep × channel × series × SKU ([`sales_cells`]) — and
//! `sales_months`, the same cells summed per month (what month, quarter and year questions
//! read: a twelfth to a thirtieth of the rows). Both kept equal to
//! the order and customer facts in the same transaction that writes them: an order's old
//! cells are taken away and its new ones added when it is written; a customer whose
//! territory, region or channel changes moves its orders' cells. The revenue, volume and
//! profit queries read it (grouped in SQL by day or month) instead of the orders.

use super::{
    CustomerAttrs, DbError, LineFact, OrderCount, OrderFact, SalesBucket, SalesDim, SalesQuery, SalesSums,
    SqliteAnalytics, sales_cells,
};
use rusqlite::{OptionalExtension, params, params_from_iter};

impl SqliteAnalytics {
    /// Add (`sign` 1) or take away (`sign` -1) an order's cells; a cell left without lines
    /// is deleted (the rollup holds exactly the cells of the counted orders).
    pub(super) fn roll(&self, o: &OrderFact, customer: &CustomerAttrs, sign: i64) -> Result<(), DbError> {
        let cells = sales_cells(o, customer);
        self.roll_into("sales_days", "day", &cells, 1, sign)?;
        self.roll_into("sales_months", "month", &cells, 100, sign)
    }

    fn roll_into(
        &self,
        table: &str,
        bucket: &str,
        cells: &[(super::SalesKey, SalesSums)],
        per: i64,
        sign: i64,
    ) -> Result<(), DbError> {
        let mut upsert = self.conn.prepare_cached(&format!(
            "INSERT INTO {table} ({bucket}, territory, region, rep, channel, series, sku, amount_fen, bottles,
             cases_x100, qty, lines, orders, orders_series, orders_all)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
             ON CONFLICT ({bucket}, territory, region, rep, channel, series, sku) DO UPDATE SET
             amount_fen = amount_fen + excluded.amount_fen, bottles = bottles + excluded.bottles,
             cases_x100 = cases_x100 + excluded.cases_x100, qty = qty + excluded.qty,
             lines = lines + excluded.lines, orders = orders + excluded.orders,
             orders_series = orders_series + excluded.orders_series, orders_all = orders_all + excluded.orders_all"
        ))?;
        let mut empty = self.conn.prepare_cached(&format!(
            "DELETE FROM {table} WHERE {bucket} = ?1 AND territory = ?2 AND region = ?3 AND rep = ?4
             AND channel = ?5 AND series = ?6 AND sku = ?7 AND lines = 0"
        ))?;
        for (k, s) in cells {
            let mut d = SalesSums::default();
            d.add(s, sign);
            upsert.execute(params![
                k.day / per,
                k.territory,
                k.region,
                k.rep,
                k.channel,
                k.series,
                k.sku,
                d.amount_fen,
                d.bottles,
                d.cases_x100,
                d.qty,
                d.lines,
                d.orders,
                d.orders_series,
                d.orders_all
            ])?;
            if sign < 0 {
                empty.execute(params![k.day / per, k.territory, k.region, k.rep, k.channel, k.series, k.sku])?;
            }
        }
        Ok(())
    }

    /// What the rollup takes from a customer now (nothing known when there is no such row).
    pub(super) fn customer_attrs(&self, id: Option<&[u8]>) -> Result<CustomerAttrs, DbError> {
        let Some(id) = id else { return Ok(CustomerAttrs::default()) };
        Ok(self
            .conn
            .prepare_cached("SELECT territory, region, channel FROM customer_facts WHERE customer_id = ?1")?
            .query_row([id], |r| Ok(CustomerAttrs { territory: r.get(0)?, region: r.get(1)?, channel: r.get(2)? }))
            .optional()?
            .unwrap_or_default())
    }

    /// The counted orders `WHERE` picks (`order_id = ?1` or `customer = ?1`), with their lines.
    pub(super) fn counted_orders(&self, column: &str, id: &[u8]) -> Result<Vec<OrderFact>, DbError> {
        let sql = format!(
            "SELECT order_id, customer, rep, territory, status, counted, ordered_at, confirmed_at,
             cancelled_after_confirmation, exceptions, total_fen, seq FROM order_facts
             WHERE {column} = ?1 AND counted ORDER BY order_id"
        );
        let mut orders: Vec<OrderFact> = self
            .conn
            .prepare_cached(&sql)?
            .query_map([id], super::order_fact_row::order_fact)?
            .collect::<Result<_, _>>()?;
        let mut lines = self.conn.prepare_cached(
            "SELECT sku, series, qty, bottles, bottles_per_case, amount_fen, line_id, unit FROM order_lines
             WHERE order_id = ?1 ORDER BY n",
        )?;
        for o in &mut orders {
            o.lines = lines
                .query_map([&o.id], |r| {
                    Ok(LineFact {
                        sku: r.get(0)?,
                        series: r.get(1)?,
                        qty: r.get(2)?,
                        bottles: r.get(3)?,
                        bottles_per_case: r.get(4)?,
                        amount_fen: r.get(5)?,
                        line_id: r.get(6)?,
                        unit: r.get(7)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
        }
        Ok(orders)
    }

    pub(super) fn sales_impl(&self, q: &SalesQuery) -> Result<Vec<SalesBucket>, DbError> {
        // Whole months are read from the monthly cells.
        let months = q.by_month && q.from_day % 100 == 1 && q.to_day % 100 == 1;
        let (table, bucket, from, to) = match (months, q.by_month) {
            (true, _) => ("sales_months", "month", q.from_day / 100, q.to_day / 100),
            (false, true) => ("sales_days", "day / 100", q.from_day, q.to_day),
            (false, false) => ("sales_days", "day", q.from_day, q.to_day),
        };
        let day = if months { "month" } else { "day" };
        let key = match q.by {
            SalesDim::Total => "''",
            SalesDim::Territory => "territory",
            SalesDim::Region => "region",
            SalesDim::Rep => "rep",
            SalesDim::Channel => "channel",
            SalesDim::Series => "series",
            SalesDim::Sku => "s.sku",
        };
        let orders = match q.orders {
            OrderCount::Cell => "orders",
            OrderCount::Series => "orders_series",
            OrderCount::All => "orders_all",
        };
        let (cost_cols, join) = if q.costs {
            (
                "SUM(CASE WHEN c.cost_fen IS NULL THEN 0 ELSE amount_fen END), SUM(COALESCE(c.cost_fen * qty, 0)),
                 SUM(CASE WHEN c.cost_fen IS NULL THEN lines ELSE 0 END)",
                "LEFT JOIN sku_costs c ON c.sku = s.sku",
            )
        } else {
            ("0, 0, 0", "")
        };
        let mut sql = format!(
            "SELECT {bucket} AS b, {key} AS k, SUM(amount_fen), SUM(bottles), SUM(cases_x100), SUM({orders}),
             {cost_cols} FROM {table} s {join} WHERE {day} >= ?1 AND {day} < ?2"
        );
        let mut args: Vec<String> = Vec::new();
        let filters = [
            ("territory", &q.territory),
            ("region", &q.region),
            ("rep", &q.rep),
            ("channel", &q.channel),
            ("series", &q.series),
            ("s.sku", &q.sku),
        ];
        for (col, value) in filters {
            if let Some(v) = value {
                args.push(v.clone());
                sql.push_str(&format!(" AND {col} = ?{}", args.len() + 2));
            }
        }
        if let Some(ts) = &q.territories {
            if ts.is_empty() {
                return Ok(Vec::new());
            }
            let marks: Vec<String> = ts
                .iter()
                .map(|t| {
                    args.push(t.clone());
                    format!("?{}", args.len() + 2)
                })
                .collect();
            sql.push_str(&format!(" AND territory IN ({})", marks.join(", ")));
        }
        sql.push_str(" GROUP BY b, k ORDER BY b, k");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let values = [rusqlite::types::Value::Integer(from), rusqlite::types::Value::Integer(to)]
            .into_iter()
            .chain(args.into_iter().map(rusqlite::types::Value::Text));
        let rows = stmt.query_map(params_from_iter(values), |r| {
            Ok(SalesBucket {
                bucket: r.get(0)?,
                key: r.get(1)?,
                amount_fen: r.get(2)?,
                bottles: r.get(3)?,
                cases_x100: r.get(4)?,
                orders: r.get(5)?,
                costed_fen: r.get(6)?,
                cost_fen: r.get(7)?,
                lines_without_cost: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
