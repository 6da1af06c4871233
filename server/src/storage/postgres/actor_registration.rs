//! The `actors` table: every Automerge actor id belongs to one device.

use super::{DbError, PgStorage};
use crate::storage::rows::*;
use uuid::Uuid;

impl PgStorage {
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
                let owner = self.row("SELECT device FROM actors WHERE actor = $1", &[actor])?;
                match owner.map(|r| r.get::<_, String>(0)) {
                    Some(owner) if owner != device_text => return Ok(ActorRegistration::Conflict(actor.clone())),
                    Some(_) => {}
                    None => {
                        self.exec(
                            "INSERT INTO actors (actor, device, user_name, created_at) VALUES ($1, $2, $3, $4)",
                            &[actor, &device_text, &user, &now],
                        )?;
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
            other => {
                self.rollback();
                other
            }
        }
    }

    pub fn device_actors(&self, device: Uuid) -> Result<Vec<Vec<u8>>, DbError> {
        let rows =
            self.rows("SELECT actor FROM actors WHERE device = $1 ORDER BY created_at, actor", &[&device.to_string()])?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}
