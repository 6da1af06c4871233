//! The price-policy document: every published version of the market department's price
//! policy, synced read-only to every device (only market and admin write it; the server
//! publishes imports too). Devices price offline with the version in force at the order's
//! date, exactly as the server will.

use super::KIND_KEY;
use super::access::{
    R, SchemaError, check_kind, get_bytes, get_int, get_str, list_items, push_map, put_bytes, put_int, put_str,
    put_time,
};
use crate::ids::{DocId, DocKind};
use crate::pricing::Policy;
use automerge::{AutoCommit, ROOT};
use uuid::Uuid;

/// The one policy document every installation shares.
pub const POLICY_DOC_ID: DocId = DocId(Uuid::from_u128(0x6a69_756c_6f6f_4000_8000_706f_6c69_6379));

/// One published version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedPolicy {
    pub version: u32,
    pub published_at: i64,
    pub published_by: String,
    pub policy: Policy,
}

pub fn init(doc: &mut AutoCommit) -> R<()> {
    put_str(doc, &ROOT, KIND_KEY, DocKind::Policy.as_str())?;
    super::access::ensure_list(doc, &ROOT, "versions")
}

/// Append a version. Its number must be above every published one.
pub fn publish(doc: &mut AutoCommit, policy: &Policy, at: i64, by: &str) -> R<()> {
    if get_str(doc, &ROOT, KIND_KEY).is_empty() {
        init(doc)?;
    }
    check_kind(doc, DocKind::Policy.as_str())?;
    if let Some(latest) = read(doc).last()
        && policy.version <= latest.version
    {
        return Err(SchemaError::BadValue {
            field: "versions/version".into(),
            reason: format!("version {} is not above the published {}", policy.version, latest.version),
        });
    }
    let v = push_map(doc, &ROOT, "versions")?;
    put_int(doc, &v, "version", i64::from(policy.version))?;
    put_time(doc, &v, "published_at", at)?;
    put_str(doc, &v, "published_by", by)?;
    put_bytes(doc, &v, "body", &policy.to_bytes())
}

/// Every readable version, oldest first (a version whose body does not decode is skipped:
/// the server refuses such writes, so this only protects against corruption).
pub fn read(doc: &AutoCommit) -> Vec<PublishedPolicy> {
    let mut all: Vec<PublishedPolicy> = list_items(doc, &ROOT, "versions")
        .into_iter()
        .filter_map(|v| {
            Some(PublishedPolicy {
                version: u32::try_from(get_int(doc, &v, "version")?).ok()?,
                published_at: get_int(doc, &v, "published_at").unwrap_or(0),
                published_by: get_str(doc, &v, "published_by"),
                policy: Policy::from_bytes(&get_bytes(doc, &v, "body")?).ok()?,
            })
        })
        .collect();
    all.sort_by_key(|p| p.version);
    all
}

/// The version in force at `at`: the latest published at or before it (the first one if
/// the order predates every version).
pub fn in_force(versions: &[PublishedPolicy], at: i64) -> Option<&PublishedPolicy> {
    versions.iter().rev().find(|p| p.published_at <= at).or_else(|| versions.first())
}

/// The newest version (what a device prices new orders with).
pub fn latest(versions: &[PublishedPolicy]) -> Option<&PublishedPolicy> {
    versions.last()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(version: u32) -> Policy {
        let mut p = crate::pricing::parse_policy_csv(include_str!("../../../examples/policy.csv")).unwrap();
        p.version = version;
        p
    }

    #[test]
    fn versions_publish_in_order_and_pick_by_date() {
        let mut doc = AutoCommit::new();
        publish(&mut doc, &example(1), 1_000, "market").unwrap();
        publish(&mut doc, &example(2), 5_000, "market").unwrap();
        assert!(publish(&mut doc, &example(2), 6_000, "market").is_err());
        let all = read(&doc);
        assert_eq!(all.iter().map(|p| p.version).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(in_force(&all, 4_999).unwrap().version, 1);
        assert_eq!(in_force(&all, 5_000).unwrap().version, 2);
        assert_eq!(in_force(&all, 10).unwrap().version, 1);
        assert_eq!(latest(&all).unwrap().policy, example(2));
    }
}
