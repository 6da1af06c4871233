//! `customer_facts` and `class_changes`: customers with their A/B/C class history.

use super::{ClassChangeFact, CustomerAttrs, CustomerFact, DbError, SqliteAnalytics};
use rusqlite::params;
use std::collections::HashMap;

impl SqliteAnalytics {
    pub(super) fn put_customer_impl(&self, c: &CustomerFact) -> Result<(), DbError> {
        // The rollup attributes orders by their customer's territory, region and channel:
        // when those change (or the customer arrives after its orders) its orders move.
        let was = self.customer_attrs(Some(&c.id))?;
        let now =
            CustomerAttrs { territory: c.territory.clone(), region: c.region.clone(), channel: c.channel.clone() };
        let moved = if was == now { Vec::new() } else { self.counted_orders("customer", &c.id)? };
        for o in &moved {
            self.roll(o, &was, -1)?;
        }
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO customer_facts (customer_id, name, territory, region, channel, owner,
                 created_by, created_at, class) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                c.id,
                c.name,
                c.territory,
                c.region,
                c.channel,
                c.owner,
                c.created_by,
                c.created_at,
                c.class
            ])?;
        self.conn.prepare_cached("DELETE FROM class_changes WHERE customer_id = ?1")?.execute([&c.id])?;
        let mut insert = self.conn.prepare_cached(
            "INSERT INTO class_changes (customer_id, n, from_class, to_class, at, by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (n, ch) in c.class_changes.iter().enumerate() {
            insert.execute(params![c.id, n as i64, ch.from, ch.to, ch.at, ch.by])?;
        }
        for o in &moved {
            self.roll(o, &now, 1)?;
        }
        Ok(())
    }

    pub(super) fn customers_impl(&self) -> Result<Vec<CustomerFact>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT customer_id, name, territory, region, channel, owner, created_by, created_at, class
             FROM customer_facts ORDER BY created_at, customer_id",
        )?;
        let mut customers: Vec<CustomerFact> = stmt
            .query_map([], |r| {
                Ok(CustomerFact {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    territory: r.get(2)?,
                    region: r.get(3)?,
                    channel: r.get(4)?,
                    owner: r.get(5)?,
                    created_by: r.get(6)?,
                    created_at: r.get(7)?,
                    class: r.get(8)?,
                    class_changes: Vec::new(),
                })
            })?
            .collect::<Result<_, _>>()?;
        let index: HashMap<Vec<u8>, usize> = customers.iter().enumerate().map(|(i, c)| (c.id.clone(), i)).collect();
        let mut stmt = self.conn.prepare_cached(
            "SELECT customer_id, from_class, to_class, at, by FROM class_changes ORDER BY customer_id, n",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: Vec<u8> = r.get(0)?;
            let ch = ClassChangeFact { from: r.get(1)?, to: r.get(2)?, at: r.get(3)?, by: r.get(4)? };
            if let Some(&i) = index.get(&id) {
                customers[i].class_changes.push(ch);
            }
        }
        Ok(customers)
    }
}
