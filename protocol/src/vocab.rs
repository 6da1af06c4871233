//! The one macro for closed vocabularies (channels, classes, tiers, aroma types …).

/// A closed vocabulary with a stable name, Chinese and English labels; parses from the name or
/// the Chinese label; (de)serializes as the name.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($var:ident = $s:literal, $zh:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($var),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            pub const NAMES: &'static [&'static str] = &[$($s),+];
            /// The vocabulary as data, for fields declared in the kind registry.
            pub const VOCAB: $crate::kinds::Vocab = $crate::kinds::Vocab {
                name: stringify!($name),
                entries: &[$($crate::kinds::VocabEntry { name: $s, zh: $zh, en: $en }),+],
            };
            pub fn as_str(self) -> &'static str {
                match self { $($name::$var => $s),+ }
            }
            pub fn label(self, lang: $crate::schema::Lang) -> &'static str {
                match (self, lang) {
                    $(($name::$var, $crate::schema::Lang::Zh) => $zh, ($name::$var, $crate::schema::Lang::En) => $en,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let s = s.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s || v.label($crate::schema::Lang::Zh) == s)
                    .ok_or_else(|| format!("'{}' is not one of {}", s, $name::NAMES.join(", ")))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
