//! Closed vocabularies as data: what an enum field accepts, with labels. Every
//! `string_enum!` type has one (`Channel::VOCAB` …), so a field declares its vocabulary
//! by value and parsing never looks at the field's name.

use crate::schema::Lang;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VocabEntry {
    pub name: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vocab {
    /// The vocabulary's own name (`channel`, `visit-kind` …).
    pub name: &'static str,
    pub entries: &'static [VocabEntry],
}

impl Vocab {
    /// The stored name for `input`: the name itself, the Chinese label, or the English
    /// label (any case); surrounding space ignored.
    pub fn parse(&self, input: &str) -> Option<&'static str> {
        let s = input.trim();
        self.entries
            .iter()
            .find(|e| e.name == s || e.zh == s || e.en.eq_ignore_ascii_case(s) || e.name.eq_ignore_ascii_case(s))
            .map(|e| e.name)
    }

    pub fn label(&self, name: &str, lang: Lang) -> Option<&'static str> {
        self.entries.iter().find(|e| e.name == name).map(|e| match lang {
            Lang::Zh => e.zh,
            Lang::En => e.en,
        })
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.entries.iter().map(|e| e.name)
    }
}
