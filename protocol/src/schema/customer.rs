//! Customer (客户) documents.

use super::access::{
    R, SchemaError, check_kind, get_int, get_opt_str, get_parsed, get_str, json_time, list_items, put_str,
};
use super::enums::{Channel, CustomerClass};
use super::record::{self, Input, Writer};
use crate::ids::{DocId, DocKind};
use crate::kinds::parse::ParseContext;
use automerge::{AutoCommit, ROOT};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Customer {
    pub id: DocId,
    pub name: String,
    pub phone: Option<String>,
    pub contacts: Vec<Contact>,
    pub address: Option<String>,
    pub region: Option<String>,
    pub channel: Option<Channel>,
    pub business_scope: Option<String>,
    pub purchase_intention: Option<String>,
    pub purchasing_power: Option<String>,
    pub class: Option<CustomerClass>,
    pub class_history: Vec<ClassChange>,
    pub owner: Option<String>,
    /// The sales territory that owns the customer (decides who reads and writes it).
    pub territory: Option<String>,
    pub next_follow_up: Option<String>,
    pub notes: String,
    pub created_by: String,
    #[serde(with = "json_time")]
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
    pub title: Option<String>,
    /// `YYYY-MM-DD`.
    pub birthday: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClassChange {
    pub from: Option<CustomerClass>,
    pub to: CustomerClass,
    #[serde(with = "json_time")]
    pub at: i64,
    pub by: String,
}

/// What a new customer starts with.
#[derive(Clone, Debug, Default)]
pub struct NewCustomer {
    pub name: String,
    pub phone: Option<String>,
    pub channel: Option<Channel>,
    pub class: Option<CustomerClass>,
    pub region: Option<String>,
    pub owner: Option<String>,
    pub territory: Option<String>,
}

/// Write a new customer into an empty document (the owner defaults to its creator).
pub fn init(doc: &mut AutoCommit, new: &NewCustomer, now: i64, by: &str) -> R<()> {
    let owner = new.owner.clone().unwrap_or_else(|| by.to_string());
    let channel = new.channel.map(|c| c.as_str());
    let class = new.class.map(|c| c.as_str());
    let mut inputs: Vec<Input<'_>> = vec![("name", &new.name), ("owner", &owner)];
    let optional = [
        ("phone", new.phone.as_deref()),
        ("channel", channel),
        ("region", new.region.as_deref()),
        ("territory", new.territory.as_deref()),
        ("class", class),
    ];
    inputs.extend(optional.into_iter().filter_map(|(f, v)| Some((f, v?))));
    record::create(doc, DocKind::Customer, &inputs, &Writer { user: by, now }, &ParseContext::default())
}

/// Move the customer to another territory and owning rep (managers and admins only; the
/// customer's visits and orders follow it).
pub fn reassign(doc: &mut AutoCommit, territory: &str, owner: Option<&str>) -> R<()> {
    check_kind(doc, DocKind::Customer.as_str())?;
    if territory.trim().is_empty() {
        return Err(SchemaError::BadValue { field: "territory".into(), reason: "may not be empty".into() });
    }
    put_str(doc, &ROOT, "territory", territory.trim())?;
    if let Some(o) = owner {
        put_str(doc, &ROOT, "owner", o.trim())?;
    }
    Ok(())
}

/// Change the A/B/C class and record the change in the class history.
pub fn set_class(doc: &mut AutoCommit, to: CustomerClass, now: i64, by: &str) -> R<()> {
    set(doc, "class", to.as_str(), now, by)
}

/// Set any field of the customer from text (`class` included, with its history).
pub fn set(doc: &mut AutoCommit, field: &str, value: &str, now: i64, by: &str) -> R<()> {
    record::set(doc, DocKind::Customer, &[(field, value)], &Writer { user: by, now }, &ParseContext::default())
        .map(|_| ())
}

pub fn add_contact(doc: &mut AutoCommit, id: &str, name: &str, phone: Option<&str>, title: Option<&str>) -> R<()> {
    check_kind(doc, DocKind::Customer.as_str())?;
    let mut inputs: Vec<Input<'_>> = vec![("id", id), ("name", name)];
    inputs.extend(phone.map(|p| ("phone", p)));
    inputs.extend(title.map(|t| ("title", t)));
    record::add_record(doc, DocKind::Customer, "contacts", &inputs)
}

pub fn read(doc: &AutoCommit, id: DocId) -> R<Customer> {
    check_kind(doc, DocKind::Customer.as_str())?;
    let s = |k| get_opt_str(doc, &ROOT, k);
    Ok(Customer {
        id,
        name: get_str(doc, &ROOT, "name"),
        phone: s("phone"),
        contacts: list_items(doc, &ROOT, "contacts")
            .into_iter()
            .map(|c| Contact {
                id: get_str(doc, &c, "id"),
                name: get_str(doc, &c, "name"),
                phone: get_opt_str(doc, &c, "phone"),
                title: get_opt_str(doc, &c, "title"),
                birthday: get_opt_str(doc, &c, "birthday"),
            })
            .collect(),
        address: s("address"),
        region: s("region"),
        channel: get_parsed(doc, &ROOT, "channel"),
        business_scope: s("business_scope"),
        purchase_intention: s("purchase_intention"),
        purchasing_power: s("purchasing_power"),
        class: get_parsed(doc, &ROOT, "class"),
        class_history: list_items(doc, &ROOT, "class_history")
            .into_iter()
            .filter_map(|e| {
                Some(ClassChange {
                    from: get_parsed(doc, &e, "from"),
                    to: get_parsed(doc, &e, "to")?,
                    at: get_int(doc, &e, "at").unwrap_or(0),
                    by: get_str(doc, &e, "by"),
                })
            })
            .collect(),
        owner: s("owner"),
        territory: s("territory"),
        next_follow_up: s("next_follow_up"),
        notes: get_str(doc, &ROOT, "notes"),
        created_by: get_str(doc, &ROOT, "created_by"),
        created_at: get_int(doc, &ROOT, "created_at").unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer() -> AutoCommit {
        let mut doc = AutoCommit::new();
        let new = NewCustomer { name: "贵阳酒行".into(), class: Some(CustomerClass::B), ..Default::default() };
        init(&mut doc, &new, 1_000, "li").unwrap();
        doc
    }

    #[test]
    fn class_changes_are_recorded() {
        let mut doc = customer();
        set(&mut doc, "class", "A", 2_000, "wang").unwrap();
        set(&mut doc, "class", "A", 3_000, "wang").unwrap();
        let c = read(&doc, DocId::new_random()).unwrap();
        assert_eq!(c.class, Some(CustomerClass::A));
        let hist: Vec<_> = c.class_history.iter().map(|h| (h.from, h.to, h.at)).collect();
        assert_eq!(hist, vec![(None, CustomerClass::B, 1_000), (Some(CustomerClass::B), CustomerClass::A, 2_000)]);
        assert_eq!(c.owner.as_deref(), Some("li"));
    }

    #[test]
    fn bad_values_are_refused_and_change_nothing() {
        let mut doc = customer();
        let before = doc.get_heads();
        let cases = [
            ("channel", "wholesale"),
            ("class", "D"),
            ("next_follow_up", "2026-13-01"),
            ("name", ""),
            ("colour", "red"),
        ];
        for (field, value) in cases {
            assert!(set(&mut doc, field, value, 5, "li").is_err(), "{field}={value}");
        }
        assert_eq!(doc.get_heads(), before);
    }

    #[test]
    fn concurrent_notes_merge_characterwise() {
        let mut a = customer();
        set(&mut a, "notes", "喜欢酱香型", 1, "li").unwrap();
        let mut b = a.fork();
        set(&mut a, "notes", "老板喜欢酱香型", 2, "li").unwrap();
        set(&mut b, "notes", "喜欢酱香型，月底进货", 2, "wang").unwrap();
        a.merge(&mut b).unwrap();
        assert_eq!(read(&a, DocId::new_random()).unwrap().notes, "老板喜欢酱香型，月底进货");
    }
}
