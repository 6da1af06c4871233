//! Roles: what a user does in the company. Decides, with `rules`, what they may read and write.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Rep,
    Manager,
    Logistics,
    Finance,
    Legal,
    AfterSales,
    Quality,
    Market,
    Executive,
    Admin,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::Rep,
        Role::Manager,
        Role::Logistics,
        Role::Finance,
        Role::Legal,
        Role::AfterSales,
        Role::Quality,
        Role::Market,
        Role::Executive,
        Role::Admin,
    ];

    /// Stable name, used on the command line, in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Rep => "rep",
            Role::Manager => "manager",
            Role::Logistics => "logistics",
            Role::Finance => "finance",
            Role::Legal => "legal",
            Role::AfterSales => "after-sales",
            Role::Quality => "quality",
            Role::Market => "market",
            Role::Executive => "executive",
            Role::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            format!("unknown role '{s}' (one of {})", names.join(", "))
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Role {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("boss".parse::<Role>().unwrap_err().contains("after-sales"));
    }
}
