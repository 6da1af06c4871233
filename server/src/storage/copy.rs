//! `jiuloop-server migrate --from DIR --to URL`: a data directory's SQLite database copied
//! into an empty PostgreSQL database, table by table and row by row (the same tables in both
//! engines, see `postgres/migrations.rs`), in one transaction under the write lock, then
//! verified: every document loads from PostgreSQL and its history has exactly the heads
//! SQLite holds for it. Sequence numbers are kept, so devices' cursors stay valid and a
//! device notices nothing but the new address (if it changes).

use super::DbError;
use super::postgres::PgStorage;
use super::sqlite::SqliteDb;
use crate::identity::token::hex;
use postgres::types::ToSql;
use rusqlite::types::Value;

/// The tables, parents first (foreign keys).
const TABLES: &[&str] = &[
    "users",
    "devices",
    "tokens",
    "actors",
    "docs",
    "changes",
    "moves",
    "audit",
    "admin_commands",
    "order_checks",
    "assignments",
    "notifications",
    "effects",
    "wakeups",
    "shipped_batches",
];

/// Tables whose `id` is a PostgreSQL `BIGSERIAL` to move past the copied ids.
const SERIAL: &[&str] = &["moves", "audit", "admin_commands", "notifications"];

/// What a copy did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// (table, rows copied).
    pub rows: Vec<(String, u64)>,
    pub documents_verified: u64,
    pub max_seq: i64,
}

impl std::fmt::Display for CopyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows: Vec<String> = self.rows.iter().map(|(t, n)| format!("{t} {n}")).collect();
        write!(
            f,
            "copied {}; {} documents verified (heads equal); sequence at {}",
            rows.join(", "),
            self.documents_verified,
            self.max_seq
        )
    }
}

/// Copy everything of `from` into `to`, which must hold no users and no documents.
pub fn sqlite_to_postgres(from: &SqliteDb, to: &PgStorage) -> Result<CopyReport, DbError> {
    if to.doc_count()? > 0 || !to.users()?.is_empty() {
        return Err(DbError::Backend(format!(
            "{} is not empty: migrate into a new database (nothing was copied)",
            to.target()
        )));
    }
    let mut report = CopyReport::default();
    to.begin()?;
    let copied = (|| -> Result<(), DbError> {
        for table in TABLES {
            let n = copy_table(from, to, table)?;
            report.rows.push((table.to_string(), n));
        }
        for table in SERIAL {
            to.rows_dynamic(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                ),
                &[],
            )?;
        }
        let max_seq: i64 = from.conn.query_row(
            "SELECT max(s) FROM (SELECT coalesce(max(last_seq), 0) AS s FROM docs
                 UNION ALL SELECT coalesce(max(seq), 0) FROM changes
                 UNION ALL SELECT coalesce(max(seq), 0) FROM moves)",
            [],
            |r| r.get(0),
        )?;
        to.exec_dynamic("UPDATE jiuloop_seq SET value = $1 WHERE id = 1", &[&max_seq])?;
        report.max_seq = max_seq;
        Ok(())
    })();
    match copied.and_then(|()| to.commit()) {
        Ok(()) => {}
        Err(e) => {
            to.rollback();
            return Err(e);
        }
    }
    report.documents_verified = verify(from, to)?;
    Ok(report)
}

/// Every document of `from` has the same heads in `to`, and loads there with them.
fn verify(from: &SqliteDb, to: &PgStorage) -> Result<u64, DbError> {
    for row in from.docs_changed_since(-1)? {
        match to.doc(&row.id)? {
            Some(copied) if copied.heads == row.heads => {}
            _ => {
                return Err(DbError::corrupt(
                    "docs",
                    format!("document {}: heads differ after the copy", hex(&row.id)),
                ));
            }
        }
    }
    super::backup::check_documents(to)
}

/// One table: SQLite's columns by name (`user` is `user_name` in PostgreSQL), each value
/// converted to the PostgreSQL column's type.
fn copy_table(from: &SqliteDb, to: &PgStorage, table: &'static str) -> Result<u64, DbError> {
    let pg_types: Vec<(String, String)> = to
        .rows_dynamic(
            "SELECT column_name::text, data_type::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1",
            &[&table],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut stmt = from.conn.prepare(&format!("SELECT * FROM {table}"))?;
    let columns: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
    let targets: Vec<(String, String)> = columns
        .iter()
        .map(|c| {
            let name = if c == "user" { "user_name".to_string() } else { c.clone() };
            let ty = pg_types.iter().find(|(n, _)| *n == name).map(|(_, t)| t.clone());
            ty.map(|t| (name.clone(), t)).ok_or_else(|| {
                DbError::corrupt(table, format!("column {c} has no counterpart in PostgreSQL's {table}"))
            })
        })
        .collect::<Result<_, _>>()?;
    let names: Vec<&str> = targets.iter().map(|(n, _)| n.as_str()).collect();
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let insert = format!("INSERT INTO {table} ({}) VALUES ({})", names.join(", "), placeholders.join(", "));
    let mut rows = stmt.query([])?;
    let mut n = 0;
    while let Some(row) = rows.next()? {
        let mut values: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(columns.len());
        for (i, (name, ty)) in targets.iter().enumerate() {
            let v: Value = row.get(i)?;
            values.push(convert(table, name, ty, v)?);
        }
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|b| b.as_ref()).collect();
        to.exec_dynamic(&insert, &params)?;
        n += 1;
    }
    Ok(n)
}

fn convert(table: &'static str, column: &str, ty: &str, v: Value) -> Result<Box<dyn ToSql + Sync>, DbError> {
    let bad = |what: &str| DbError::corrupt(table, format!("column {column} ({ty}) holds {what}"));
    Ok(match (ty, v) {
        ("bigint", Value::Integer(i)) => Box::new(i),
        ("integer", Value::Integer(i)) => Box::new(i32::try_from(i).map_err(|_| bad("a too large number"))?),
        ("boolean", Value::Integer(i)) => Box::new(i != 0),
        ("text", Value::Text(s)) => Box::new(s),
        ("bytea", Value::Blob(b)) => Box::new(b),
        ("bytea", Value::Text(s)) => Box::new(s.into_bytes()),
        ("bigint", Value::Null) => Box::new(None::<i64>),
        ("integer", Value::Null) => Box::new(None::<i32>),
        ("boolean", Value::Null) => Box::new(None::<bool>),
        ("text", Value::Null) => Box::new(None::<String>),
        ("bytea", Value::Null) => Box::new(None::<Vec<u8>>),
        (_, Value::Real(_)) => return Err(bad("a real number")),
        (_, other) => return Err(bad(&format!("{other:?}"))),
    })
}
