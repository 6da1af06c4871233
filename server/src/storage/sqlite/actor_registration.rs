//! The `actors` table: every Automerge actor id belongs to one device.

use super::{DbError, SqliteDb};
use crate::storage::rows::*;
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

impl SqliteDb {
    /// Register `actors` to `device` (in its own transaction) unless one of them belongs
    /// to another device.
    pub fn register_actors(
        &self,
        device: Uuid,
        user: &str,
        actors: &[Vec<u8>],
        now: i64,
    ) -> Result<ActorRegistration, DbError> {
        let device_text = device.to_string();
        self.begin()?;
        let result = (|| {
            for actor in actors {
                let owner: Option<String> = self
                    .conn
                    .prepare_cached("SELECT device FROM actors WHERE actor = ?1")?
                    .query_row([actor], |r| r.get(0))
                    .optional()?;
                match owner {
                    Some(owner) if owner != device_text => {
                        return Ok(ActorRegistration::Conflict(actor.clone()));
                    }
                    Some(_) => {}
                    None => {
                        self.conn
                            .prepare_cached(
                                "INSERT INTO actors (actor, device, user, created_at)
                                 VALUES (?1, ?2, ?3, ?4)",
                            )?
                            .execute(params![actor, device_text, user, now])?;
                    }
                }
            }
            Ok(ActorRegistration::Registered(self.device_actors(device)?))
        })();
        match result {
            Ok(ActorRegistration::Registered(all)) => {
                self.commit()?;
                Ok(ActorRegistration::Registered(all))
            }
            Ok(conflict) => {
                self.rollback();
                Ok(conflict)
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    pub fn device_actors(&self, device: Uuid) -> Result<Vec<Vec<u8>>, DbError> {
        let mut stmt = self.conn.prepare_cached("SELECT actor FROM actors WHERE device = ?1")?;
        let rows = stmt.query_map([device.to_string()], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
