//! Password hashing (Argon2id, PHC string format).
//!
//! Checks run with [`VerifyMemory`]: Argon2's working memory (19 MiB with the default
//! parameters) allocated once and reused by every check made with it, so a server that
//! checks thousands of passwords holds a fixed amount of memory instead of one freed block
//! per check that the allocator keeps.

use crate::identity::account_error::AccountError;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Shortest password `user add` accepts, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Password rules for new passwords: at least [`MIN_PASSWORD_CHARS`] characters, and not
/// the user's name (in any letter case, or reversed).
pub fn check_rules(user: &str, password: &str) -> Result<(), AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooShort { min: MIN_PASSWORD_CHARS });
    }
    let lower = password.trim().to_lowercase();
    let name = user.trim().to_lowercase();
    if lower == name || lower.chars().rev().collect::<String>() == name {
        return Err(AccountError::PasswordIsUserName);
    }
    Ok(())
}

/// Hash a password with a fresh random salt.
pub fn hash(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// The hash of `jiuloop-dummy-password` with the default parameters: a login naming a user
/// who does not exist is checked against it (and refused whatever the answer), so that it
/// costs the same work as one naming a user who does (a test keeps its parameters the
/// default ones).
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$aml1bG9vcC1kdW1teS0x$TvhEMA6og7+2CdgYqWREnb6x6mgzJf3D/WNpqFcY9RA";

/// Argon2 working memory, allocated once and reused by every check made with it.
pub struct VerifyMemory {
    blocks: Vec<Block>,
    checks: u64,
}

impl VerifyMemory {
    /// Memory for hashes made with the default parameters (what [`hash`] writes).
    pub fn new() -> Self {
        VerifyMemory { blocks: vec![Block::default(); Params::default().block_count()], checks: 0 }
    }

    /// Password checks made with this memory since the last call.
    pub fn take_checks(&mut self) -> u64 {
        std::mem::take(&mut self.checks)
    }
}

impl Default for VerifyMemory {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether `password` matches the stored hash (false for an unparsable hash).
#[cfg(test)]
pub fn verify(password: &str, stored: &str) -> bool {
    verify_with(&mut VerifyMemory::new(), password, stored)
}

/// [`verify`] in `memory`: the algorithm, version, parameters and salt are those of the
/// stored PHC string, the comparison constant-time. A stored hash made with more memory
/// than `memory` holds is checked in a temporary allocation.
pub fn verify_with(memory: &mut VerifyMemory, password: &str, stored: &str) -> bool {
    let Ok(phc) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(phc.algorithm) else { return false };
    let version = match phc.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&phc) else { return false };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else { return false };
    let mut out = [0u8; Output::MAX_LENGTH];
    let Some(out) = out.get_mut(..expected.len()) else { return false };
    let argon2 = Argon2::new(algorithm, version, params);
    memory.checks += 1;
    let needed = argon2.params().block_count();
    let hashed = if needed <= memory.blocks.len() {
        argon2.hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory.blocks[..])
    } else {
        argon2.hash_password_into(password.as_bytes(), salt, out)
    };
    match (hashed, Output::new(out)) {
        // `Output`'s equality is constant-time.
        (Ok(()), Ok(computed)) => computed == expected,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(check_rules("li", "12345678").is_ok());
        assert!(matches!(check_rules("li", "1234567"), Err(AccountError::PasswordTooShort { min: 8 })));
        assert!(matches!(check_rules("zhangwei", "ZhangWei"), Err(AccountError::PasswordIsUserName)));
        assert!(matches!(check_rules("zhangwei", "iewgnahz"), Err(AccountError::PasswordIsUserName)));
        assert!(check_rules("zhangwei", "zhangwei1").is_ok());
    }

    #[test]
    fn hash_then_verify() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong horse", &h));
        assert!(!verify("x", "not a hash"));
    }

    /// The reused memory gives the stock verifier's answers, check after check, for hashes
    /// of other parameters and algorithms too.
    #[test]
    fn checks_in_reused_memory_agree_with_the_stock_verifier() {
        use argon2::password_hash::PasswordVerifier;
        let mut memory = VerifyMemory::new();
        let small = Params::new(256, 1, 1, Some(16)).unwrap();
        let big = Params::new(Params::DEFAULT_M_COST + 1024, 1, 1, None).unwrap();
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let mut hashes = vec![hash("correct horse").unwrap(), hash("battery staple").unwrap()];
        for (alg, params) in
            [(Algorithm::Argon2i, small.clone()), (Algorithm::Argon2d, small), (Algorithm::Argon2id, big)]
        {
            let h = Argon2::new(alg, Version::V0x13, params).hash_password(b"correct horse", &salt).unwrap();
            hashes.push(h.to_string());
        }
        for stored in &hashes {
            for password in ["correct horse", "battery staple", "", "correct horsf"] {
                let stock = Argon2::default().verify_password(password.as_bytes(), &PasswordHash::new(stored).unwrap());
                assert_eq!(verify_with(&mut memory, password, stored), stock.is_ok(), "{password:?} against {stored}");
            }
        }
        assert_eq!(memory.take_checks(), 20);
        assert_eq!(memory.blocks.len(), Params::default().block_count(), "a bigger hash did not grow the memory");
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let real_hash = hash("jiuloop-dummy-password").unwrap();
        let real = PasswordHash::new(&real_hash).unwrap();
        assert_eq!((dummy.algorithm, dummy.version), (real.algorithm, real.version));
        assert_eq!(Params::try_from(&dummy).unwrap(), Params::try_from(&real).unwrap());
        assert!(verify("jiuloop-dummy-password", DUMMY_HASH), "a real hash, not one that fails early");
        assert!(!verify("", DUMMY_HASH) && !verify("12345678", DUMMY_HASH));
    }
}
