//! Password hashing (Argon2id, PHC string format).

use crate::identity::account_error::AccountError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

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

/// Whether `password` matches the stored hash (false for an unparsable hash).
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(h) => Argon2::default().verify_password(password.as_bytes(), &h).is_ok(),
        Err(_) => false,
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
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong horse", &h));
        assert!(!verify("x", "not a hash"));
    }
}
