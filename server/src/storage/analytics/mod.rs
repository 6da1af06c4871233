//! The analysis read model's store (issue 13): the rows a projection of the change feed
//! writes ([`rows`]) and what people enter next to them (SKU costs, assessment schemes and
//! scores). Kept apart from the sync database — its own SQLite file, `analytics.db` in the
//! data directory — so that projecting and querying never take the hub's write lock.
//!
//! [`AnalyticsStore`] is the contract; [`SqliteAnalytics`] the one engine so far (a
//! PostgreSQL one is not written: with `--database postgres://…` the projection reads the
//! change feed from PostgreSQL and still writes this file). One file per row type below.
//!
//! Contract: `begin` … `commit` is atomic and durable; the projection writes its rows and
//! its cursor in the same transaction, so a crash leaves the rows of a cursor, never half
//! of a batch. `clear` drops every projected row and sets the cursor to 0 (what people
//! entered stays).

mod assessment_row;
mod complaint_fact_row;
mod cost_row;
mod cursor_row;
mod customer_fact_row;
mod migrations;
mod order_fact_row;
mod problem_row;
pub mod rows;
mod sales_day_row;
mod visit_fact_row;

pub use rows::*;

use super::DbError;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// File name of the analysis database inside the data directory.
pub const ANALYTICS_FILE: &str = "analytics.db";

/// How many rows of each table the store holds (status, tests).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct AnalyticsCounts {
    pub cursor: i64,
    pub orders: i64,
    pub lines: i64,
    pub customers: i64,
    pub visits: i64,
    pub complaints: i64,
    pub problems: i64,
    /// Cells of the per-day sales rollup.
    pub sales_days: i64,
}

/// What the projection and the indicator queries need of a store.
pub trait AnalyticsStore: Send {
    fn begin(&self) -> Result<(), DbError>;
    fn commit(&self) -> Result<(), DbError>;
    fn rollback(&self);

    /// The sequence number up to which the change feed is projected (0: nothing).
    fn cursor(&self) -> Result<i64, DbError>;
    fn set_cursor(&self, seq: i64) -> Result<(), DbError>;
    /// Drop every projected row, cursor to 0 (costs and assessments stay).
    fn clear(&self) -> Result<(), DbError>;
    fn counts(&self) -> Result<AnalyticsCounts, DbError>;

    /// Insert or replace an order with its lines (and its cells of the sales rollup).
    fn put_order(&self, o: &OrderFact) -> Result<(), DbError>;
    /// Orders dated in `[from, to)`, with their lines, oldest first.
    fn orders_between(&self, from: i64, to: i64) -> Result<Vec<OrderFact>, DbError>;

    /// Insert or replace a customer (a new territory, region or channel moves its orders'
    /// cells of the sales rollup).
    fn put_customer(&self, c: &CustomerFact) -> Result<(), DbError>;
    /// The per-day sales rollup's sums for a question (revenue, volume, profit).
    fn sales(&self, q: &SalesQuery) -> Result<Vec<SalesBucket>, DbError>;
    /// Every customer with its class history.
    fn customers(&self) -> Result<Vec<CustomerFact>, DbError>;

    fn put_visit(&self, v: &VisitFact) -> Result<(), DbError>;
    fn visits_between(&self, from: i64, to: i64) -> Result<Vec<VisitFact>, DbError>;

    fn put_complaint(&self, c: &ComplaintFact) -> Result<(), DbError>;
    fn complaints_between(&self, from: i64, to: i64) -> Result<Vec<ComplaintFact>, DbError>;

    /// Replace what is uncountable about a document.
    fn set_problems(&self, doc: &[u8], problems: &[Problem]) -> Result<(), DbError>;
    fn problems(&self) -> Result<Vec<Problem>, DbError>;

    /// A SKU's cost per unit (the unit it is ordered in), for gross profit; `None` removes it.
    fn set_cost(&self, sku: &str, cost_fen: Option<i64>) -> Result<(), DbError>;
    fn costs(&self) -> Result<Vec<(String, i64)>, DbError>;

    // ---- assessment (people's input; never cleared) ----
    /// The assessment scheme for a period kind (`month`, `quarter`, `year`), as JSON.
    fn set_scheme(&self, period_kind: &str, json: &str, by: &str, at: i64) -> Result<(), DbError>;
    fn scheme(&self, period_kind: &str) -> Result<Option<String>, DbError>;
    /// A qualitative score (0–100) of a rep for a period and criterion; `false` when the
    /// period is locked (nothing changes).
    fn set_qualitative(&self, q: &QualitativeScore) -> Result<bool, DbError>;
    fn qualitative(&self, period: &str) -> Result<Vec<QualitativeScore>, DbError>;
    /// Lock a period's scorecards with what they were; `false` when locked already.
    fn lock_period(&self, period: &str, scorecards_json: &str, by: &str, at: i64) -> Result<bool, DbError>;
    /// The locked scorecards of a period (JSON), if it is locked.
    fn locked(&self, period: &str) -> Result<Option<String>, DbError>;
    /// Record a correction of a locked period (who, when, why, what it changes).
    fn add_correction(&self, c: &Correction) -> Result<(), DbError>;
    fn corrections(&self, period: &str) -> Result<Vec<Correction>, DbError>;
    /// Record a reward or penalty of a rep for a period.
    fn add_sanction(&self, s: &Sanction) -> Result<(), DbError>;
    fn sanctions(&self, period: &str) -> Result<Vec<Sanction>, DbError>;
}

/// The analysis database: one SQLite file (WAL, `synchronous=FULL`).
pub struct SqliteAnalytics {
    conn: Connection,
    path: PathBuf,
}

impl SqliteAnalytics {
    /// Open (creating if needed) `DIR/analytics.db`.
    pub fn open_in(data_dir: &Path) -> Result<Self, DbError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|error| DbError::CreateDir { path: data_dir.to_path_buf(), error })?;
        Self::open(&data_dir.join(ANALYTICS_FILE))
    }

    pub fn open(path: &Path) -> Result<Self, DbError> {
        let open_err =
            |error: rusqlite::Error| DbError::Open { target: path.display().to_string(), reason: error.to_string() };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(open_err)?;
        conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)).map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(open_err)?;
        migrations::migrate(&mut conn)?;
        Ok(SqliteAnalytics { conn, path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AnalyticsStore for SqliteAnalytics {
    fn begin(&self) -> Result<(), DbError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }

    fn commit(&self) -> Result<(), DbError> {
        match self.conn.execute_batch("COMMIT") {
            Ok(()) => Ok(()),
            Err(e) => {
                self.rollback();
                Err(e.into())
            }
        }
    }

    fn rollback(&self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    fn cursor(&self) -> Result<i64, DbError> {
        self.cursor_impl()
    }
    fn set_cursor(&self, seq: i64) -> Result<(), DbError> {
        self.set_cursor_impl(seq)
    }
    fn clear(&self) -> Result<(), DbError> {
        self.clear_impl()
    }
    fn counts(&self) -> Result<AnalyticsCounts, DbError> {
        self.counts_impl()
    }
    fn put_order(&self, o: &OrderFact) -> Result<(), DbError> {
        self.put_order_impl(o)
    }
    fn orders_between(&self, from: i64, to: i64) -> Result<Vec<OrderFact>, DbError> {
        self.orders_between_impl(from, to)
    }
    fn put_customer(&self, c: &CustomerFact) -> Result<(), DbError> {
        self.put_customer_impl(c)
    }
    fn customers(&self) -> Result<Vec<CustomerFact>, DbError> {
        self.customers_impl()
    }
    fn sales(&self, q: &SalesQuery) -> Result<Vec<SalesBucket>, DbError> {
        self.sales_impl(q)
    }
    fn put_visit(&self, v: &VisitFact) -> Result<(), DbError> {
        self.put_visit_impl(v)
    }
    fn visits_between(&self, from: i64, to: i64) -> Result<Vec<VisitFact>, DbError> {
        self.visits_between_impl(from, to)
    }
    fn put_complaint(&self, c: &ComplaintFact) -> Result<(), DbError> {
        self.put_complaint_impl(c)
    }
    fn complaints_between(&self, from: i64, to: i64) -> Result<Vec<ComplaintFact>, DbError> {
        self.complaints_between_impl(from, to)
    }
    fn set_problems(&self, doc: &[u8], problems: &[Problem]) -> Result<(), DbError> {
        self.set_problems_impl(doc, problems)
    }
    fn problems(&self) -> Result<Vec<Problem>, DbError> {
        self.problems_impl()
    }
    fn set_cost(&self, sku: &str, cost_fen: Option<i64>) -> Result<(), DbError> {
        self.set_cost_impl(sku, cost_fen)
    }
    fn costs(&self) -> Result<Vec<(String, i64)>, DbError> {
        self.costs_impl()
    }
    fn set_scheme(&self, period_kind: &str, json: &str, by: &str, at: i64) -> Result<(), DbError> {
        self.set_scheme_impl(period_kind, json, by, at)
    }
    fn scheme(&self, period_kind: &str) -> Result<Option<String>, DbError> {
        self.scheme_impl(period_kind)
    }
    fn set_qualitative(&self, q: &QualitativeScore) -> Result<bool, DbError> {
        self.set_qualitative_impl(q)
    }
    fn qualitative(&self, period: &str) -> Result<Vec<QualitativeScore>, DbError> {
        self.qualitative_impl(period)
    }
    fn lock_period(&self, period: &str, scorecards_json: &str, by: &str, at: i64) -> Result<bool, DbError> {
        self.lock_period_impl(period, scorecards_json, by, at)
    }
    fn locked(&self, period: &str) -> Result<Option<String>, DbError> {
        self.locked_impl(period)
    }
    fn add_correction(&self, c: &Correction) -> Result<(), DbError> {
        self.add_correction_impl(c)
    }
    fn corrections(&self, period: &str) -> Result<Vec<Correction>, DbError> {
        self.corrections_impl(period)
    }
    fn add_sanction(&self, s: &Sanction) -> Result<(), DbError> {
        self.add_sanction_impl(s)
    }
    fn sanctions(&self, period: &str) -> Result<Vec<Sanction>, DbError> {
        self.sanctions_impl(period)
    }
}

fn to_bool(v: i64) -> bool {
    v != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempdir::Dir, SqliteAnalytics) {
        let dir = tempdir::Dir::new();
        let s = SqliteAnalytics::open_in(&dir.0).unwrap();
        (dir, s)
    }

    mod tempdir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Self {
                let p = std::env::temp_dir().join(format!("jiuloop-analytics-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    fn order(id: u8, at: i64) -> OrderFact {
        OrderFact {
            id: vec![id; 16],
            customer: Some(vec![9; 16]),
            rep: "li".into(),
            territory: Some("贵州".into()),
            status: "confirmed".into(),
            counted: true,
            ordered_at: at,
            confirmed_at: Some(at + 1),
            cancelled_after_confirmation: false,
            exceptions: String::new(),
            total_fen: 300,
            seq: 7,
            lines: vec![
                LineFact {
                    line_id: "a".into(),
                    sku: "A".into(),
                    series: Some("黔韵".into()),
                    unit: "case".into(),
                    qty: 1,
                    bottles: 6,
                    bottles_per_case: 6,
                    amount_fen: 100,
                },
                LineFact {
                    line_id: "b".into(),
                    sku: "B".into(),
                    series: None,
                    unit: "bottle".into(),
                    qty: 2,
                    bottles: 2,
                    bottles_per_case: 6,
                    amount_fen: 200,
                },
            ],
        }
    }

    #[test]
    fn rows_round_trip_and_replace() {
        let (_d, s) = store();
        let mut o = order(1, 1_000);
        s.put_order(&o).unwrap();
        s.put_order(&order(2, 5_000)).unwrap();
        assert_eq!(s.orders_between(0, 2_000).unwrap(), vec![o.clone()]);
        // Replacing an order replaces its lines.
        o.lines.pop();
        o.status = "cancelled".into();
        s.put_order(&o).unwrap();
        assert_eq!(s.orders_between(0, 2_000).unwrap(), vec![o]);
        assert_eq!(s.counts().unwrap().lines, 3);
        let c = CustomerFact {
            id: vec![9; 16],
            name: "川味楼".into(),
            territory: Some("贵州".into()),
            region: None,
            channel: Some("restaurant".into()),
            owner: Some("li".into()),
            created_by: "li".into(),
            created_at: 10,
            class: Some("B".into()),
            class_changes: vec![ClassChangeFact { from: Some("C".into()), to: "B".into(), at: 11, by: "li".into() }],
        };
        s.put_customer(&c).unwrap();
        assert_eq!(s.customers().unwrap(), vec![c]);
        let p = Problem { doc_id: vec![1; 16], kind: "order".into(), reason: "unknown_sku".into(), detail: "X".into() };
        s.set_problems(&[1; 16], std::slice::from_ref(&p)).unwrap();
        assert_eq!(s.problems().unwrap(), vec![p]);
        s.set_problems(&[1; 16], &[]).unwrap();
        assert!(s.problems().unwrap().is_empty());
    }

    #[test]
    fn a_batch_is_its_rows_and_its_cursor_or_nothing() {
        let (_d, s) = store();
        s.begin().unwrap();
        s.put_order(&order(1, 1_000)).unwrap();
        s.set_cursor(42).unwrap();
        s.rollback();
        assert_eq!(s.cursor().unwrap(), 0);
        assert_eq!(s.counts().unwrap().orders, 0);
        s.begin().unwrap();
        s.put_order(&order(1, 1_000)).unwrap();
        s.set_cursor(42).unwrap();
        s.commit().unwrap();
        // A new connection (a restart) sees both.
        let again = SqliteAnalytics::open(s.path()).unwrap();
        assert_eq!((again.cursor().unwrap(), again.counts().unwrap().orders), (42, 1));
    }

    #[test]
    fn clearing_keeps_what_people_entered_and_locks_hold() {
        let (_d, s) = store();
        s.put_order(&order(1, 1_000)).unwrap();
        s.set_cursor(5).unwrap();
        s.set_cost("A", Some(60)).unwrap();
        s.set_scheme("month", "{}", "zhao", 1).unwrap();
        let q = QualitativeScore {
            period: "2026-03".into(),
            rep: "li".into(),
            criterion: "attitude".into(),
            score: 80,
            by: "zhang".into(),
            at: 1,
        };
        assert!(s.set_qualitative(&q).unwrap());
        s.clear().unwrap();
        assert_eq!((s.cursor().unwrap(), s.counts().unwrap().orders), (0, 0));
        assert_eq!(s.costs().unwrap(), vec![("A".to_string(), 60)]);
        assert_eq!(s.scheme("month").unwrap().as_deref(), Some("{}"));
        assert_eq!(s.qualitative("2026-03").unwrap(), vec![q.clone()]);
        assert!(s.lock_period("2026-03", "[]", "zhao", 2).unwrap());
        assert!(!s.lock_period("2026-03", "[1]", "zhao", 3).unwrap(), "locked once");
        assert_eq!(s.locked("2026-03").unwrap().as_deref(), Some("[]"));
        assert!(!s.set_qualitative(&QualitativeScore { score: 10, ..q.clone() }).unwrap());
        assert_eq!(s.qualitative("2026-03").unwrap()[0].score, 80);
        let c = Correction {
            period: "2026-03".into(),
            rep: "li".into(),
            item: "attitude".into(),
            score: 90,
            reason: "r".into(),
            by: "zhao".into(),
            at: 4,
        };
        s.add_correction(&c).unwrap();
        assert_eq!(s.corrections("2026-03").unwrap(), vec![c]);
        s.set_cost("A", None).unwrap();
        assert!(s.costs().unwrap().is_empty());
    }
}
