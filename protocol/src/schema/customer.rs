//! Customer (客户) documents.

use super::KIND_KEY;
use super::access::{
    R, SchemaError, check_kind, ensure_list, get_int, get_opt_str, get_parsed, get_str, json_time, list_items,
    push_map, put_str, put_text, put_time,
};
use super::enums::{Channel, CustomerClass};
use super::field::set_field;
use crate::ids::{DocId, DocKind};
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

/// Write a new customer into an empty document.
pub fn init(doc: &mut AutoCommit, new: &NewCustomer, now: i64, by: &str) -> R<()> {
    put_str(doc, &ROOT, KIND_KEY, DocKind::Customer.as_str())?;
    put_str(doc, &ROOT, "created_by", by)?;
    put_time(doc, &ROOT, "created_at", now)?;
    ensure_list(doc, &ROOT, "contacts")?;
    ensure_list(doc, &ROOT, "class_history")?;
    put_text(doc, &ROOT, "notes", "")?;
    set_field(doc, DocKind::Customer, "name", &new.name)?;
    let optional = [
        ("phone", new.phone.clone()),
        ("channel", new.channel.map(|c| c.as_str().to_string())),
        ("region", new.region.clone()),
        ("owner", new.owner.clone().or_else(|| Some(by.to_string()))),
    ];
    for (field, value) in optional {
        if let Some(v) = value {
            set_field(doc, DocKind::Customer, field, &v)?;
        }
    }
    if let Some(t) = &new.territory {
        put_str(doc, &ROOT, "territory", t.trim())?;
    }
    if let Some(class) = new.class {
        set_class(doc, class, now, by)?;
    }
    Ok(())
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
    check_kind(doc, DocKind::Customer.as_str())?;
    let from: Option<CustomerClass> = get_parsed(doc, &ROOT, "class");
    if from == Some(to) {
        return Ok(());
    }
    put_str(doc, &ROOT, "class", to.as_str())?;
    let entry = push_map(doc, &ROOT, "class_history")?;
    if let Some(from) = from {
        put_str(doc, &entry, "from", from.as_str())?;
    }
    put_str(doc, &entry, "to", to.as_str())?;
    put_time(doc, &entry, "at", now)?;
    put_str(doc, &entry, "by", by)
}

/// Set any field of the customer from text (`class` included, with its history).
pub fn set(doc: &mut AutoCommit, field: &str, value: &str, now: i64, by: &str) -> R<()> {
    if field == "class" {
        let class = value
            .trim()
            .parse::<CustomerClass>()
            .map_err(|reason| SchemaError::BadValue { field: field.into(), reason })?;
        return set_class(doc, class, now, by);
    }
    set_field(doc, DocKind::Customer, field, value)
}

pub fn add_contact(doc: &mut AutoCommit, id: &str, name: &str, phone: Option<&str>, title: Option<&str>) -> R<()> {
    check_kind(doc, DocKind::Customer.as_str())?;
    if name.trim().is_empty() {
        return Err(SchemaError::BadValue { field: "contacts/name".into(), reason: "may not be empty".into() });
    }
    let c = push_map(doc, &ROOT, "contacts")?;
    put_str(doc, &c, "id", id)?;
    put_str(doc, &c, "name", name.trim())?;
    if let Some(p) = phone {
        put_str(doc, &c, "phone", p.trim())?;
    }
    if let Some(t) = title {
        put_str(doc, &c, "title", t.trim())?;
    }
    Ok(())
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
