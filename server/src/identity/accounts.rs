//! Identity: users, devices, login tokens. Has its own SQLite connection (separate from
//! the sync hub's), so `user add` from another process takes effect at once.
//!
//! Every method blocks (SQLite, Argon2): call them from a blocking context.

use crate::identity::account_error::AccountError;
use crate::identity::login_limiter::{LoginLimiter, Refusal, Reservation};
use crate::identity::password::{self, VerifyMemory};
use crate::identity::session::Session;
use crate::identity::token;
use crate::identity::user_info::UserInfo;
use crate::storage::{DbError, NewUser, Storage};
use protocol::Role;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// A successful login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginGrant {
    /// The bearer token (shown once; only its hash is stored).
    pub token: String,
    /// UTC milliseconds.
    pub expires_at: i64,
    pub user: String,
    pub role: Role,
    pub territory: Option<String>,
    /// Own territory plus, for a manager, the team's.
    pub territories: Vec<String>,
}

/// What a login presents.
#[derive(Clone, Debug)]
pub struct LoginAttempt<'a> {
    pub user: &'a str,
    pub password: &'a str,
    pub device_id: Uuid,
    pub device_name: &'a str,
    pub addr: IpAddr,
}

/// A user to create.
#[derive(Clone, Debug)]
pub struct UserSpec {
    pub name: String,
    pub password: String,
    pub role: Role,
    pub territory: Option<String>,
    pub manager: Option<String>,
}

pub struct Accounts {
    db: Mutex<Box<dyn Storage>>,
    token_ttl: Duration,
    limiter: Arc<LoginLimiter>,
}

/// Longest user name a login may name (`add_user` accepts no longer ones).
const MAX_USER_NAME_CHARS: usize = 64;

impl Accounts {
    pub fn new(db: Box<dyn Storage>, token_ttl: Duration) -> Self {
        Accounts { db: Mutex::new(db), token_ttl, limiter: Arc::new(LoginLimiter::default()) }
    }

    /// Open the accounts of a data directory.
    pub fn open_in(data_dir: &Path, token_ttl: Duration) -> Result<Self, DbError> {
        Ok(Self::new(crate::storage::open_sqlite(data_dir)?, token_ttl))
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Box<dyn Storage>> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Check the password, register the device to the user (first login from it) and
    /// issue a token: [`Self::reserve`] then [`Self::login_reserved`] with fresh memory.
    pub fn login(&self, attempt: &LoginAttempt<'_>, now: i64) -> Result<LoginGrant, AccountError> {
        let reservation = self.reserve(attempt.user, attempt.addr)?;
        self.login_reserved(attempt, reservation, &mut VerifyMemory::new(), now)
    }

    /// Take one password check of `user` from `addr` off the login limits, before it is
    /// queued: `RateLimited` when failures (counting the checks under way) reach a limit,
    /// `Busy` when the user or address has its maximum of checks under way. Never blocks
    /// on the database or Argon2.
    pub fn reserve(&self, user: &str, addr: IpAddr) -> Result<Reservation, AccountError> {
        if user.chars().count() > MAX_USER_NAME_CHARS {
            return Err(AccountError::InvalidRequest("the user name is too long".into()));
        }
        self.limiter.reserve(user, addr, Instant::now()).map_err(|r| match r {
            Refusal::RateLimited => AccountError::RateLimited,
            Refusal::Busy => AccountError::Busy,
        })
    }

    /// The login of a reserved attempt, checking the password in `memory`.
    pub fn login_reserved(
        &self,
        attempt: &LoginAttempt<'_>,
        reservation: Reservation,
        memory: &mut VerifyMemory,
        now: i64,
    ) -> Result<LoginGrant, AccountError> {
        let row = self.db().user(attempt.user)?;
        let ok = match &row {
            Some(row) => password::verify_with(memory, attempt.password, &row.password_hash),
            None => {
                // Same work as for a known user, so timing does not reveal who exists.
                password::verify_with(memory, attempt.password, password::DUMMY_HASH);
                false
            }
        };
        let (true, Some(row)) = (ok, row) else {
            reservation.failed(Instant::now());
            return Err(AccountError::BadCredentials);
        };
        reservation.succeeded();
        let user = UserInfo::try_from(row)?;
        if user.disabled {
            return Err(AccountError::UserDisabled(user.name));
        }
        let device_name = attempt.device_name.trim();
        if device_name.chars().count() > 200 {
            return Err(AccountError::InvalidRequest("device_name is too long".into()));
        }
        let token = token::generate().map_err(|e| AccountError::Crypto(e.to_string()))?;
        let expires_at = now.saturating_add(i64::try_from(self.token_ttl.as_millis()).unwrap_or(i64::MAX));
        let db = self.db();
        db.begin()?;
        let result = (|| {
            // Read again under the write lock: a user disabled while the password was
            // being checked gets no token (disabling revokes every token at once).
            match db.user(&user.name)? {
                Some(u) if !u.disabled => {}
                _ => return Err(AccountError::UserDisabled(user.name.clone())),
            }
            match db.device(attempt.device_id)? {
                Some(d) if d.user != user.name => return Err(AccountError::DeviceOfAnotherUser),
                Some(d) if d.revoked => return Err(AccountError::DeviceRevoked),
                _ => {}
            }
            db.upsert_device(attempt.device_id, &user.name, device_name, now)?;
            db.insert_token(&token::hash(&token), &user.name, attempt.device_id, now, expires_at)?;
            Ok(())
        })();
        match result {
            Ok(()) => db.commit()?,
            Err(e) => {
                db.rollback();
                return Err(e);
            }
        }
        drop(db);
        let territories = self.territories_of(&user.name, user.role, user.territory.as_deref())?;
        Ok(LoginGrant { token, expires_at, user: user.name, role: user.role, territory: user.territory, territories })
    }

    /// Revoke a token. Unknown tokens are `Unauthorized`.
    /// On a shared database the other nodes are told too (they close the token's
    /// connections within a tick).
    pub fn logout(&self, token: &str) -> Result<(), AccountError> {
        let hash = token::hash(token);
        let db = self.db();
        if !db.revoke_token(&hash)? {
            return Err(AccountError::Unauthorized);
        }
        crate::admin::announce_logout(&**db, &hash)?;
        Ok(())
    }

    /// Who a bearer token belongs to, if it may be used now.
    pub fn authenticate(&self, token: &str, now: i64) -> Result<Session, AccountError> {
        let row = self.db().token(&token::hash(token))?.ok_or(AccountError::Unauthorized)?;
        // A disabled user or revoked device is told so (its tokens are revoked too), rather
        // than "log in again".
        if row.user_disabled {
            return Err(AccountError::UserDisabled(row.user));
        }
        if row.device_revoked {
            return Err(AccountError::DeviceRevoked);
        }
        if row.revoked {
            return Err(AccountError::Unauthorized);
        }
        if row.expires_at <= now {
            return Err(AccountError::TokenExpired);
        }
        let role =
            row.role.parse::<Role>().map_err(|e| DbError::corrupt("users", format!("user {}: {e}", row.user)))?;
        let territories = self.territories_of(&row.user, role, row.territory.as_deref())?;
        Ok(Session {
            user: row.user,
            role,
            territory: row.territory,
            territories,
            device_id: row.device,
            token_hash: token::hash(token),
            expires_at: row.expires_at,
        })
    }

    /// Own territory, plus the territories of a manager's reps.
    fn territories_of(&self, user: &str, role: Role, own: Option<&str>) -> Result<Vec<String>, AccountError> {
        let mut all: Vec<String> = own.map(String::from).into_iter().collect();
        if role == Role::Manager {
            for t in self.db().team_territories(user)? {
                if !all.contains(&t) {
                    all.push(t);
                }
            }
        }
        Ok(all)
    }

    pub fn add_user(&self, spec: &UserSpec, now: i64) -> Result<(), AccountError> {
        let name = spec.name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(AccountError::InvalidName(spec.name.clone()));
        }
        password::check_rules(name, &spec.password)?;
        let clean = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        let manager = clean(&spec.manager);
        if let Some(m) = &manager
            && self.db().user(m)?.is_none()
        {
            return Err(AccountError::UnknownManager(m.clone()));
        }
        let password_hash = password::hash(&spec.password).map_err(AccountError::Crypto)?;
        let row = NewUser {
            name: name.to_string(),
            password_hash,
            role: spec.role.as_str().to_string(),
            territory: clean(&spec.territory),
            manager,
            created_at: now,
        };
        match self.db().insert_user(&row) {
            Ok(()) => Ok(()),
            Err(e) if e.is_unique_violation() => Err(AccountError::UserExists(row.name)),
            Err(e) => Err(e.into()),
        }
    }

    pub fn list_users(&self) -> Result<Vec<UserInfo>, AccountError> {
        let rows = self.db().users()?;
        Ok(rows.into_iter().map(UserInfo::try_from).collect::<Result<_, _>>()?)
    }

    /// Disable or re-enable a user; false if there is no such user. Disabling revokes
    /// every token of the user for good, in the same transaction: enabling them again lets
    /// them log in anew, and no old token comes back.
    pub fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<bool, AccountError> {
        self.in_transaction(|db| {
            let found = db.set_user_disabled(name, disabled)?;
            if found && disabled {
                db.revoke_user_tokens(name)?;
            }
            Ok(found)
        })
    }

    /// Devices, of one user or of everyone.
    pub fn list_devices(&self, user: Option<&str>) -> Result<Vec<crate::storage::DeviceRow>, AccountError> {
        Ok(self.db().devices(user)?)
    }

    /// Revoke or restore a device; false if there is no such device. Revoking revokes
    /// every token of the device for good, in the same transaction.
    pub fn set_device_revoked(&self, id: Uuid, revoked: bool) -> Result<bool, AccountError> {
        self.in_transaction(|db| {
            let found = db.set_device_revoked(id, revoked)?;
            if found && revoked {
                db.revoke_device_tokens(id)?;
            }
            Ok(found)
        })
    }

    fn in_transaction<T>(&self, f: impl FnOnce(&dyn Storage) -> Result<T, DbError>) -> Result<T, AccountError> {
        let db = self.db();
        db.begin()?;
        match f(&**db) {
            Ok(v) => {
                db.commit()?;
                Ok(v)
            }
            Err(e) => {
                db.rollback();
                Err(e.into())
            }
        }
    }
}

/// Current time as UTC milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Accounts in a fresh directory, removed when dropped.
    struct TempAccounts(Option<Accounts>, std::path::PathBuf);

    impl std::ops::Deref for TempAccounts {
        type Target = Accounts;
        fn deref(&self) -> &Accounts {
            self.0.as_ref().expect("open")
        }
    }

    impl Drop for TempAccounts {
        fn drop(&mut self) {
            self.0.take();
            let _ = std::fs::remove_dir_all(&self.1);
        }
    }

    fn accounts() -> TempAccounts {
        let dir = std::env::temp_dir().join(format!("jiuloop-accounts-{}", Uuid::new_v4()));
        let accounts = Accounts::open_in(&dir, Duration::from_secs(60)).unwrap();
        TempAccounts(Some(accounts), dir)
    }

    fn spec(name: &str, password: &str) -> UserSpec {
        UserSpec {
            name: name.into(),
            password: password.into(),
            role: Role::Rep,
            territory: Some("华东".into()),
            manager: None,
        }
    }

    fn attempt<'a>(user: &'a str, password: &'a str, device_id: Uuid) -> LoginAttempt<'a> {
        LoginAttempt { user, password, device_id, device_name: "phone", addr: "127.0.0.1".parse().unwrap() }
    }

    #[test]
    fn add_login_authenticate_logout() {
        let a = accounts();
        a.add_user(&spec("li", "12345678"), 1).unwrap();
        assert!(matches!(a.add_user(&spec("li", "12345678"), 1), Err(AccountError::UserExists(_))));
        assert!(matches!(a.add_user(&spec("wang", "short"), 1), Err(AccountError::PasswordTooShort { .. })));
        let mut m = spec("zhao", "12345678");
        m.manager = Some("nobody".into());
        assert!(matches!(a.add_user(&m, 1), Err(AccountError::UnknownManager(_))));

        let dev = Uuid::new_v4();
        assert!(matches!(a.login(&attempt("li", "wrong-pass", dev), 1000), Err(AccountError::BadCredentials)));
        assert!(matches!(a.login(&attempt("nobody", "12345678", dev), 1000), Err(AccountError::BadCredentials)));
        let grant = a.login(&attempt("li", "12345678", dev), 1000).unwrap();
        assert_eq!(grant.expires_at, 61_000);
        assert_eq!(grant.territory.as_deref(), Some("华东"));
        let s = a.authenticate(&grant.token, 2000).unwrap();
        assert_eq!((s.user.as_str(), s.device_id), ("li", dev));
        assert!(matches!(a.authenticate(&grant.token, 61_000), Err(AccountError::TokenExpired)));
        assert!(matches!(a.authenticate("nope", 2000), Err(AccountError::Unauthorized)));

        // The device is li's now.
        a.add_user(&spec("wang", "abcdefgh"), 1).unwrap();
        assert!(matches!(a.login(&attempt("wang", "abcdefgh", dev), 1000), Err(AccountError::DeviceOfAnotherUser)));

        a.set_user_disabled("li", true).unwrap();
        assert!(matches!(a.authenticate(&grant.token, 2000), Err(AccountError::UserDisabled(_))));
        assert!(matches!(a.login(&attempt("li", "12345678", dev), 1000), Err(AccountError::UserDisabled(_))));
        a.set_user_disabled("li", false).unwrap();
        // Enabled again: the old token stays revoked, a new login works.
        assert!(matches!(a.authenticate(&grant.token, 2000), Err(AccountError::Unauthorized)));
        let again = a.login(&attempt("li", "12345678", dev), 1000).unwrap();
        a.authenticate(&again.token, 2000).unwrap();

        a.logout(&again.token).unwrap();
        assert!(matches!(a.authenticate(&again.token, 2000), Err(AccountError::Unauthorized)));
        assert_eq!(a.list_users().unwrap().len(), 2);
    }

    #[test]
    fn revoking_a_device_revokes_its_tokens_only() {
        let a = accounts();
        a.add_user(&spec("li", "12345678"), 1).unwrap();
        let (phone, laptop) = (Uuid::new_v4(), Uuid::new_v4());
        let on_phone = a.login(&attempt("li", "12345678", phone), 1000).unwrap();
        let on_laptop = a.login(&attempt("li", "12345678", laptop), 1000).unwrap();
        assert!(a.set_device_revoked(phone, true).unwrap());
        assert!(matches!(a.authenticate(&on_phone.token, 2000), Err(AccountError::DeviceRevoked)));
        a.authenticate(&on_laptop.token, 2000).unwrap();
        // Even restored (no command does it today), the phone's old token stays revoked.
        assert!(a.set_device_revoked(phone, false).unwrap());
        assert!(matches!(a.authenticate(&on_phone.token, 2000), Err(AccountError::Unauthorized)));
        assert!(!a.set_device_revoked(Uuid::new_v4(), true).unwrap());
    }

    #[test]
    fn the_limits_hold_under_concurrent_wrong_passwords() {
        let a = Arc::new(accounts());
        a.add_user(&spec("li", "12345678"), 1).unwrap();
        let gate = Arc::new(std::sync::Barrier::new(12));
        let threads: Vec<_> = (0..12)
            .map(|_| {
                let (a, gate) = (a.clone(), gate.clone());
                std::thread::spawn(move || {
                    gate.wait();
                    a.login(&attempt("li", "wrong-pass", Uuid::new_v4()), 1)
                })
            })
            .collect();
        let mut checked = 0;
        for t in threads {
            match t.join().unwrap() {
                Err(AccountError::BadCredentials) => checked += 1,
                Err(AccountError::RateLimited | AccountError::Busy) => {}
                other => panic!("{other:?}"),
            }
        }
        assert!((1..=LoginLimiter::DEFAULT_MAX_FAILURES).contains(&checked), "{checked} passwords checked");
    }

    #[test]
    fn a_manager_works_in_the_team_territories() {
        let a = accounts();
        let mut m = spec("zhang", "12345678");
        m.role = Role::Manager;
        m.territory = Some("四川".into());
        a.add_user(&m, 1).unwrap();
        for (name, t) in [("li", "四川"), ("wang", "贵州")] {
            let mut r = spec(name, "12345678");
            r.territory = Some(t.into());
            r.manager = Some("zhang".into());
            a.add_user(&r, 1).unwrap();
        }
        let grant = a.login(&attempt("zhang", "12345678", Uuid::new_v4()), 1).unwrap();
        assert_eq!(grant.territories, vec!["四川".to_string(), "贵州".to_string()]);
        let s = a.authenticate(&grant.token, 2).unwrap();
        assert_eq!(s.principal().territories, grant.territories);
        let rep = a.login(&attempt("wang", "12345678", Uuid::new_v4()), 1).unwrap();
        assert_eq!(rep.territories, vec!["贵州".to_string()]);
    }

    #[test]
    fn too_many_failures_are_rate_limited() {
        let a = accounts();
        a.add_user(&spec("li", "12345678"), 1).unwrap();
        let dev = Uuid::new_v4();
        for _ in 0..LoginLimiter::DEFAULT_MAX_FAILURES {
            assert!(matches!(a.login(&attempt("li", "badbadbad", dev), 1), Err(AccountError::BadCredentials)));
        }
        assert!(matches!(a.login(&attempt("li", "12345678", dev), 1), Err(AccountError::RateLimited)));
    }
}
