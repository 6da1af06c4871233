//! Pre-sales and field planning (issue 12): the pure functions devices and the server
//! share — the competitor-price summary of a market report ([`summary`]) and a channel
//! partner's periodic evaluation ([`evaluation`]). The kinds themselves are declared in
//! the registry ([`crate::kinds`]); workflows fold with [`crate::kinds::workflow`].

pub mod evaluation;
pub mod summary;

/// `(2a + b) / 2b`: `a / b` rounded half up, for non-negative `a` and positive `b`.
pub(crate) fn div_round(a: i64, b: i64) -> i64 {
    (2 * a + b).div_euclid(2 * b)
}
