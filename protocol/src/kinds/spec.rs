//! What a kind declaration says. Every type here is plain `const` data: a kind is a
//! [`KindSpec`] value in `kinds/<kind>.rs`, and every consumer (rules, facts, field
//! parsing, logs, labels, command line, browser forms) reads it instead of matching on
//! kinds by hand. No field has a default: a spec that forgets something does not compile.

use super::DocKind;
use super::vocab::Vocab;
use crate::ids::DocId;
use crate::role::Role;
use crate::schema::Lang;

/// How far a role reaches for a kind of document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Documents in the user's territories (a manager's: their own and their reps').
    Territory,
    /// Documents the user authored, or is assigned to (the kind's `assignee` field).
    Own,
    /// Every document of the kind.
    All,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Territory => "territory",
            Scope::Own => "own",
            Scope::All => "all",
        }
    }
}

/// Who may do something, and how far: roles not listed may not.
pub type Grants = &'static [(Role, Scope)];

/// Nobody (a field only the server writes, a kind nobody reads).
pub const NOBODY: Grants = &[];

/// Where a document's territory comes from. The server takes it from its own storage
/// (the parent's stored row, the author's user row), never from what a child document
/// says about its parent's territory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Its own field (a customer's `territory`).
    Own { territory: &'static str },
    /// Its parent's: the document of `kind` named by this document's field `field` (a
    /// visit's or order's customer, a verdict's order).
    Parent { kind: DocKind, field: &'static str },
    /// No territory: readable only by roles with scope `all` (the price policy).
    Nowhere,
}

/// What a document's id is.
#[derive(Clone, Copy, Debug)]
pub enum IdRule {
    /// A fresh random id per document.
    Random,
    /// One document per installation with this id (the price policy).
    Fixed(DocId),
    /// Derived from the parent's id by this function (which must be its own inverse):
    /// a verdict's id from its order's. No document of another kind may take such an id.
    Derived(fn(DocId) -> DocId),
}

/// How a field's value is written and parsed.
#[derive(Clone, Copy, Debug)]
pub enum FieldType {
    /// A last-writer-wins string of at most `max` characters.
    Str { max: usize },
    /// Collaborative text (Automerge Text): concurrent edits merge character-wise.
    Text { max: usize },
    /// A phone number: digits, spaces, `+`, `-`, parentheses, 5 to 20 digits.
    Phone,
    /// One of a closed vocabulary (stored as the name; input may be the name or a label).
    Enum(&'static Vocab),
    /// A calendar date `YYYY-MM-DD` (no zone).
    Date,
    /// A point in time: UTC milliseconds (input RFC 3339, or `now`).
    Time,
    /// An integer in `min..=max`.
    Int { min: i64, max: i64 },
    /// Money in fen, at most `max` fen; input is yuan (`1499`, `1,499.50`).
    Money { max: i64 },
    /// The id of a document of this kind.
    Ref(DocKind),
    /// A yes/no flag (`yes`/`no`, `是`/`否`, `true`/`false`).
    Flag,
    /// Raw bytes (written by code, never typed by people).
    Bytes,
    /// An attachment's SHA-256 in hex ([`crate::blob`]): the document references the file,
    /// whose bytes travel apart; whoever may read the document may fetch the file.
    Blob,
    /// A list of records (contacts, order lines), each a map of these fields with an `id`.
    Records(&'static [FieldSpec]),
    /// An append-only log of entries, checked entry by entry (see [`LogSpec`]).
    Log(&'static LogSpec),
}

impl FieldType {
    /// Short machine name (for `jiuloop kinds --json` and the browser's forms).
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::Str { .. } => "str",
            FieldType::Text { .. } => "text",
            FieldType::Phone => "phone",
            FieldType::Enum(_) => "enum",
            FieldType::Date => "date",
            FieldType::Time => "time",
            FieldType::Int { .. } => "int",
            FieldType::Money { .. } => "money",
            FieldType::Ref(_) => "ref",
            FieldType::Flag => "flag",
            FieldType::Bytes => "bytes",
            FieldType::Blob => "blob",
            FieldType::Records(_) => "records",
            FieldType::Log(_) => "log",
        }
    }

    /// Can a person set it with `FIELD=VALUE` (scalars and text; not lists, logs, bytes)?
    pub fn is_scalar_input(&self) -> bool {
        !matches!(self, FieldType::Bytes | FieldType::Blob | FieldType::Records(_) | FieldType::Log(_))
    }
}

/// What a field means to the rules beyond its type. The server enforces these from the
/// session and its clock; honest clients fill them in themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldRole {
    /// Ordinary data.
    Data,
    /// Names the document's author: written once, at creation, and must be the writer.
    Author,
    /// A time the device states (when it was created): must lie within the declared
    /// window around the server's clock; decisions use the server's receive time.
    ClientTime,
    /// The parent reference of [`Placement::Parent`]: set at creation, never changed.
    Parent,
    /// Names a person the document is assigned to (readers with scope `own` include them).
    Assignee,
}

/// One field of a kind (or of a record inside a list).
#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    pub name: &'static str,
    pub ty: FieldType,
    pub zh: &'static str,
    pub en: &'static str,
    /// A creation must give it a non-empty value, and no edit may clear it.
    pub required: bool,
    /// Written only by the change that creates the document (identity fields).
    pub create_only: bool,
    pub role: FieldRole,
    /// Who may write it, and where. Empty: only the server.
    pub writers: Grants,
    /// Who may change it once the record exists, when that is fewer than `writers` (a
    /// customer's channel decides its price tier: reps set it when they create the
    /// customer, only managers change it).
    pub edits: Option<Grants>,
    /// For an enum: a list field that records each change of value (from, to, at, by).
    pub history: Option<&'static str>,
    /// What a person's input must also satisfy (checked where people type: the clients).
    pub input: InputRule,
}

/// Input rules beyond the type, for values people type (the server cannot hold a stored
/// value to them: time passes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputRule {
    None,
    /// A date not before today (Asia/Shanghai).
    NotPast,
    /// Money above zero.
    Positive,
}

impl FieldSpec {
    pub fn label(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh,
            Lang::En => self.en,
        }
    }
}

/// One kind of entry in an append-only log, and who may append it.
#[derive(Clone, Copy, Debug)]
pub struct EntrySpec {
    /// The value of the entry's kind key (`paid`, `shipped` …; labelled by the log's
    /// vocabulary).
    pub kind: &'static str,
    pub writers: &'static [Role],
    /// Keys the entry must carry, non-empty (an approval: `role` and `hash`).
    pub requires: &'static [&'static str],
    /// The document's author may not append it (nobody approves their own order).
    pub not_by_author: bool,
}

/// An append-only list of entries (an order's events, the policy's published versions).
/// Existing entries are never changed, deleted or replaced; every new entry must be of a
/// declared kind its writer's role may append, name the writer as its author, carry the
/// writer's own role where it says one, and pass the kind's own check.
#[derive(Clone, Copy, Debug)]
pub struct LogSpec {
    /// The key naming the entry's kind, and the vocabulary of kinds (labels); `None` for
    /// a log with one kind of entry (then `entries` has exactly one element).
    pub kind_key: Option<(&'static str, &'static Vocab)>,
    /// The word rules are named after (`event`: `event-role`, `event-author` …), and the
    /// one rule name every refusal takes instead, if the log wants that (`policy-invalid`).
    pub word: &'static str,
    pub invalid_rule: Option<&'static str>,
    /// The key naming the entry's author (must be the writer).
    pub author_key: &'static str,
    /// The key naming the role the entry was made in (must be the writer's, when given).
    pub role_key: Option<&'static str>,
    /// The key of the device's time of the entry (a [`FieldRole::ClientTime`] value).
    pub time_key: &'static str,
    /// Entries take effect in the order the server receives them (it records each arrival,
    /// [`crate::schema::RECEIVED_KEY`]): a log folded into a status. `false` for logs read
    /// as a plain history (class changes) or ordered by content (policy versions).
    pub by_arrival: bool,
    /// The entry every new record's log starts with, written by its creator at creation
    /// (an order's `created`, a complaint's `filed`): the server's arrival time of it is
    /// when the record reached the server.
    pub on_create: Option<&'static str>,
    /// Plain-value keys an entry may carry besides the above (with their types).
    pub fields: &'static [FieldSpec],
    pub entries: &'static [EntrySpec],
    /// A further check of each new entry against the entries before it (the policy: the
    /// body decodes, the version number rises). `Err` = why it is refused.
    pub check: Option<EntryCheck>,
    /// What the entries mean to screens and folds: a status workflow, read receipts, a
    /// plain history, or a fold of its own.
    pub fold: LogFold,
}

/// What a log's entries add up to.
#[derive(Clone, Copy, Debug)]
pub enum LogFold {
    /// Folded by code of its own (an order's lifecycle, [`crate::schema::order_lifecycle`]).
    Custom,
    /// A plain history (class changes, policy versions): nothing to fold.
    History,
    /// A status workflow ([`super::workflow::fold`]): each entry is a step from some states to
    /// another, applied in the order the server received them (the log is `by_arrival`);
    /// a step that does not apply where it falls is kept and shown as not applied.
    Workflow(&'static Workflow),
    /// Read receipts: one `read` entry per reader (the first one counts).
    Receipts,
}

/// A status workflow: its states (the first is where a document starts) and its steps.
#[derive(Clone, Copy, Debug)]
pub struct Workflow {
    pub states: &'static Vocab,
    pub steps: &'static [Step],
}

/// One step: the entry kind that takes a document from any of `from` to `to`.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub entry: &'static str,
    pub from: &'static [&'static str],
    pub to: &'static str,
}

impl Workflow {
    pub fn initial(&self) -> &'static str {
        self.states.entries[0].name
    }

    pub fn step(&self, entry: &str) -> Option<&'static Step> {
        self.steps.iter().find(|s| s.entry == entry)
    }
}

/// A log's own check of one new entry (`Err` = why it is refused).
pub type EntryCheck = fn(&super::log::LogCheck<'_>) -> Result<(), String>;

impl LogSpec {
    pub fn entry(&self, kind: &str) -> Option<&'static EntrySpec> {
        self.entries.iter().find(|e| e.kind == kind)
    }
}

/// Everything a kind is.
#[derive(Clone, Copy, Debug)]
pub struct KindSpec {
    /// Stable name: on the command line, in JSON, in `doc_kind`.
    pub name: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    /// Stable small integer for storage columns (never reused).
    pub code: i64,
    pub id: IdRule,
    pub placement: Placement,
    /// Who may read documents of the kind. Whoever may create one may also write it.
    pub read: Grants,
    /// Who may create one (write `doc_kind`): `territory` = into their own territories.
    pub create: Grants,
    /// Every root field besides `doc_kind`. A field not listed is writable by nobody.
    pub fields: &'static [FieldSpec],
    /// The field a list shows as the record's title.
    pub title: Option<&'static str>,
    /// The server writes every document of the kind itself (verdicts).
    pub server_written: bool,
    /// Fields that lock once the server has recorded a one-time effect for the document.
    pub freeze: Option<Freeze>,
}

/// Content that must not change after a point: once the server recorded the one-time
/// effect `effect` for a document (an order assigned to logistics and finance at
/// confirmation), `fields` are refused, by the server and by honest clients.
#[derive(Clone, Copy, Debug)]
pub struct Freeze {
    pub fields: &'static [&'static str],
    pub effect: Effect,
}

/// One-time effects the server records for a document (exactly once, in the transaction
/// of the change that caused them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// An order confirmed and handed to logistics and finance.
    Assigned,
    /// A complaint's SLA clock breached (recorded once per clock, escalated to the
    /// territory's manager): its severity no longer changes, so nobody escapes a breach by
    /// downgrading it.
    SlaBreached,
    /// A quality issue's recall raised for its batch: the list of customers who received
    /// the batch is drawn up, so the SKU and batch no longer change.
    Recalled,
    /// A contract signed by both sides (its copies distributed to finance and logistics).
    Signed,
    /// An expense claim reimbursed by finance.
    Reimbursed,
    /// A document's workflow reached `published` and it was distributed (a market report,
    /// a trend forecast): its content is what departments were given.
    Published,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Assigned => "assigned",
            Effect::SlaBreached => "SLA-breached",
            Effect::Recalled => "recalled",
            Effect::Signed => "signed",
            Effect::Reimbursed => "reimbursed",
            Effect::Published => "published",
        }
    }
}

impl KindSpec {
    pub fn label(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh,
            Lang::En => self.en,
        }
    }

    pub fn field(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The field naming the author (role [`FieldRole::Author`]).
    pub fn author_field(&self) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.role == FieldRole::Author)
    }

    /// The field naming an assignee (role [`FieldRole::Assignee`]).
    pub fn assignee_field(&self) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.role == FieldRole::Assignee)
    }

    /// The parent kind and the field naming the parent, for [`Placement::Parent`].
    pub fn parent(&self) -> Option<(DocKind, &'static str)> {
        match self.placement {
            Placement::Parent { kind, field } => Some((kind, field)),
            _ => None,
        }
    }

    /// The status workflow of the kind, with the field of its log, if it has one.
    pub fn workflow(&self) -> Option<(&'static FieldSpec, &'static Workflow)> {
        self.logs().find_map(|(f, l)| match l.fold {
            LogFold::Workflow(w) => Some((f, w)),
            _ => None,
        })
    }

    /// The append-only logs among the fields.
    pub fn logs(&self) -> impl Iterator<Item = (&'static FieldSpec, &'static LogSpec)> + '_ {
        self.fields.iter().filter_map(|f| match f.ty {
            FieldType::Log(l) => Some((f, l)),
            _ => None,
        })
    }
}

/// Shorthand constructors for specs (`const fn`, so specs stay `const`).
pub mod build {
    use super::*;

    /// A data field: optional, editable by `writers`.
    pub const fn field(
        name: &'static str,
        ty: FieldType,
        zh: &'static str,
        en: &'static str,
        writers: Grants,
    ) -> FieldSpec {
        FieldSpec {
            name,
            ty,
            zh,
            en,
            required: false,
            create_only: false,
            role: FieldRole::Data,
            writers,
            edits: None,
            history: None,
            input: InputRule::None,
        }
    }

    impl FieldSpec {
        pub const fn required(self) -> Self {
            FieldSpec { required: true, ..self }
        }
        pub const fn create_only(self) -> Self {
            FieldSpec { create_only: true, ..self }
        }
        pub const fn with_role(self, role: FieldRole) -> Self {
            FieldSpec { role, ..self }
        }
        pub const fn with_history(self, list: &'static str) -> Self {
            FieldSpec { history: Some(list), ..self }
        }
        pub const fn with_input(self, input: InputRule) -> Self {
            FieldSpec { input, ..self }
        }
        pub const fn edited_by(self, grants: Grants) -> Self {
            FieldSpec { edits: Some(grants), ..self }
        }
    }

    /// The author field: set at creation to the writer.
    pub const fn author(name: &'static str, zh: &'static str, en: &'static str, writers: Grants) -> FieldSpec {
        field(name, FieldType::Str { max: 64 }, zh, en, writers).required().create_only().with_role(FieldRole::Author)
    }

    /// The creation time as the device states it.
    pub const fn created_at(name: &'static str, zh: &'static str, en: &'static str, writers: Grants) -> FieldSpec {
        field(name, FieldType::Time, zh, en, writers).required().create_only().with_role(FieldRole::ClientTime)
    }

    /// The parent reference.
    pub const fn parent(
        name: &'static str,
        kind: DocKind,
        zh: &'static str,
        en: &'static str,
        writers: Grants,
    ) -> FieldSpec {
        field(name, FieldType::Ref(kind), zh, en, writers).required().create_only().with_role(FieldRole::Parent)
    }

    pub const fn entry(kind: &'static str, writers: &'static [Role]) -> EntrySpec {
        EntrySpec { kind, writers, requires: &[], not_by_author: false }
    }

    impl EntrySpec {
        pub const fn requires(self, keys: &'static [&'static str]) -> Self {
            EntrySpec { requires: keys, ..self }
        }
        pub const fn not_by_author(self) -> Self {
            EntrySpec { not_by_author: true, ..self }
        }
    }
}
