//! 价格体系: the published price policy, one document every device holds. Versions are
//! only ever appended (orders were priced with the old ones), each a consistent policy
//! numbered above every published one.

use super::grants::{EVERYONE, PUBLISHERS};
use super::log::LogCheck;
use super::spec::build::{entry, field};
use super::spec::{FieldType::*, IdRule, KindSpec, LogFold, LogSpec, Placement};
use crate::pricing::Policy;
use crate::role::Role;
use crate::schema::policy_doc::POLICY_DOC_ID;

/// A new version's body must decode to a consistent policy of the number it carries,
/// above every version before it.
fn check_version(c: &LogCheck<'_>) -> Result<(), String> {
    let version = c.entry.int("version").filter(|n| *n >= 1).and_then(|n| u32::try_from(n).ok());
    let Some(version) = version else {
        return Err("a published version needs a version number of at least 1".into());
    };
    let Some(body) = c.entry.bytes("body") else {
        return Err(format!("version {version} has no policy body"));
    };
    let policy =
        Policy::from_bytes(body).map_err(|e| format!("version {version}: the policy body is not a valid policy: {e}"))?;
    if policy.version != version {
        return Err(format!("version {version} carries the body of version {}", policy.version));
    }
    let highest = c.earlier().filter_map(|e| e.int("version")).max().unwrap_or(0);
    if i64::from(version) <= highest {
        return Err(format!("version {version} is not above the published version {highest}"));
    }
    Ok(())
}

pub const VERSIONS: LogSpec = LogSpec {
    kind_key: None,
    word: "version",
    invalid_rule: Some("policy-invalid"),
    author_key: "published_by",
    role_key: None,
    time_key: "published_at",
    by_arrival: false,
    on_create: None,
    fields: &[
        field("version", Int { min: 1, max: u32::MAX as i64 }, "版本", "Version", PUBLISHERS),
        field("body", Bytes, "内容", "Body", PUBLISHERS),
    ],
    entries: &[entry("version", &[Role::Market, Role::Admin])],
    check: Some(check_version),
    fold: LogFold::History,
};

pub const SPEC: KindSpec = KindSpec {
    name: "policy",
    zh: "价格体系",
    en: "Price policy",
    code: 4,
    id: IdRule::Fixed(POLICY_DOC_ID),
    placement: Placement::Nowhere,
    read: EVERYONE,
    create: PUBLISHERS,
    title: None,
    server_written: false,
    freeze: None,
    fields: &[field("versions", Log(&VERSIONS), "已发布版本", "Published versions", PUBLISHERS)],
};
