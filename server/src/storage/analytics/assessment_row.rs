//! The assessment tables: `schemes` (per period kind, JSON), `qualitative_scores`,
//! `locked_periods` (the scorecards as they were when the period closed), `corrections`
//! of locked periods and `sanctions` (rewards and penalties). People enter these; a rebuild
//! of the projection never clears them.

use super::{Correction, DbError, QualitativeScore, Sanction, SqliteAnalytics};
use rusqlite::{OptionalExtension, params};

impl SqliteAnalytics {
    pub(super) fn set_scheme_impl(&self, period_kind: &str, json: &str, by: &str, at: i64) -> Result<(), DbError> {
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO schemes (period_kind, json, by, at) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![period_kind, json, by, at])?;
        Ok(())
    }

    pub(super) fn scheme_impl(&self, period_kind: &str) -> Result<Option<String>, DbError> {
        Ok(self
            .conn
            .prepare_cached("SELECT json FROM schemes WHERE period_kind = ?1")?
            .query_row([period_kind], |r| r.get(0))
            .optional()?)
    }

    pub(super) fn set_qualitative_impl(&self, q: &QualitativeScore) -> Result<bool, DbError> {
        if self.locked_impl(&q.period)?.is_some() {
            return Ok(false);
        }
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO qualitative_scores (period, rep, criterion, score, by, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![q.period, q.rep, q.criterion, q.score, q.by, q.at])?;
        Ok(true)
    }

    pub(super) fn qualitative_impl(&self, period: &str) -> Result<Vec<QualitativeScore>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT period, rep, criterion, score, by, at FROM qualitative_scores WHERE period = ?1
             ORDER BY rep, criterion",
        )?;
        let rows = stmt.query_map([period], |r| {
            Ok(QualitativeScore {
                period: r.get(0)?,
                rep: r.get(1)?,
                criterion: r.get(2)?,
                score: r.get(3)?,
                by: r.get(4)?,
                at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub(super) fn lock_period_impl(&self, period: &str, json: &str, by: &str, at: i64) -> Result<bool, DbError> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO locked_periods (period, scorecards, by, at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![period, json, by, at])?;
        Ok(n > 0)
    }

    pub(super) fn locked_impl(&self, period: &str) -> Result<Option<String>, DbError> {
        Ok(self
            .conn
            .prepare_cached("SELECT scorecards FROM locked_periods WHERE period = ?1")?
            .query_row([period], |r| r.get(0))
            .optional()?)
    }

    pub(super) fn add_correction_impl(&self, c: &Correction) -> Result<(), DbError> {
        self.conn
            .prepare_cached(
                "INSERT INTO corrections (period, rep, item, score, reason, by, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![c.period, c.rep, c.item, c.score, c.reason, c.by, c.at])?;
        Ok(())
    }

    pub(super) fn corrections_impl(&self, period: &str) -> Result<Vec<Correction>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT period, rep, item, score, reason, by, at FROM corrections WHERE period = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([period], |r| {
            Ok(Correction {
                period: r.get(0)?,
                rep: r.get(1)?,
                item: r.get(2)?,
                score: r.get(3)?,
                reason: r.get(4)?,
                by: r.get(5)?,
                at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub(super) fn add_sanction_impl(&self, s: &Sanction) -> Result<(), DbError> {
        self.conn
            .prepare_cached(
                "INSERT INTO sanctions (period, rep, amount_fen, reason, by, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![s.period, s.rep, s.amount_fen, s.reason, s.by, s.at])?;
        Ok(())
    }

    pub(super) fn sanctions_impl(&self, period: &str) -> Result<Vec<Sanction>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT period, rep, amount_fen, reason, by, at FROM sanctions WHERE period = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([period], |r| {
            Ok(Sanction {
                period: r.get(0)?,
                rep: r.get(1)?,
                amount_fen: r.get(2)?,
                reason: r.get(3)?,
                by: r.get(4)?,
                at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
