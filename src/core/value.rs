//! The host's values, as the core sees them. The core never parses or prints JSON of the
//! caller's or the server's: the host does (`JSON.parse` / `JSON.stringify` in the wasm build,
//! serde_json in the native tests), and the core reads only the fields it needs through
//! [`Value`], builds what it returns as a [`Json`] tree, and writes request bodies as
//! [`Parts`] in which the caller's own objects are spliced as the host wrote them.

use serde::de::DeserializeOwned;

/// What kind of value the caller passed, as far as the core's rules need to know.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// `undefined` or `null`: not given.
    Absent,
    Bool(bool),
    Number(f64),
    Text,
    /// A `Date`, as milliseconds since the epoch (NaN for an invalid date).
    Date(f64),
    Array,
    Object,
    Function,
    /// A symbol, a BigInt or anything else JSON cannot hold.
    Other,
}

impl Kind {
    /// The kind from the host's code for it (the order of `Kind`'s variants), asking the host
    /// for the payload only when the kind has one.
    pub fn from_code(
        code: u8,
        bool_of: impl FnOnce() -> bool,
        number_of: impl FnOnce() -> f64,
        time_of: impl FnOnce() -> f64,
    ) -> Kind {
        match code {
            0 => Kind::Absent,
            1 => Kind::Bool(bool_of()),
            2 => Kind::Number(number_of()),
            3 => Kind::Text,
            4 => Kind::Date(time_of()),
            5 => Kind::Array,
            6 => Kind::Object,
            7 => Kind::Function,
            _ => Kind::Other,
        }
    }
}

/// Why a value could not be read as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextError {
    NotText,
    /// Longer than the limit (in UTF-16 code units, as JS counts).
    TooLong,
    /// Holds a lone surrogate, which Rust text cannot hold (it would become U+FFFD).
    NotWellFormed,
}

/// What a field that should hold text holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextState {
    /// `undefined` or `null`.
    Absent,
    /// Text of white space only.
    Blank,
    Text,
    /// An object (not an array or a `Date`): what `metadata` holds (only [`Value::fields`]
    /// tells it apart from other values that are no text).
    Object,
    Bad(TextError),
}

/// Changes to a shallow copy of an object before it is written: `(key, Some(text))` sets a
/// field, `(key, None)` removes it.
pub type Patch<'a> = Vec<(&'a str, Option<&'a str>)>;

/// What one field holds, and its text when it was asked for.
pub type Field = (TextState, Option<String>);

/// A value of the host: what the caller passed, or what the host parsed of an answer.
/// Reading never fails loudly: a missing field, or a field of something that is no object,
/// is `Kind::Absent`.
pub trait Value: Clone + DeserializeOwned {
    fn kind(&self) -> Kind;
    /// What this value is as a text field of at most `max` UTF-16 units, without copying it.
    fn text_state(&self, max: usize) -> TextState;
    /// The text of a string of any length (a string the host made: an answer's, a JSON text).
    fn string(&self) -> Option<String>;
    /// Field `key` of an object (its own or inherited, as JS reads it).
    fn get(&self, key: &str) -> Self;
    /// The length of an array, `None` for anything else.
    fn array_len(&self) -> Option<usize>;
    /// Item `i` of an array (absent when it cannot be read).
    fn at(&self, i: usize) -> Self;
    /// The own enumerable keys of an object.
    fn keys(&self) -> Vec<String>;
    /// The fields of a plain object, read into a struct with serde (its fields' values are
    /// `Self`s, converted by the struct's own rules); `None` when it cannot be read.
    fn read<T: DeserializeOwned>(&self) -> Option<T>;
    /// Values as JSON text (each itself a string value), each with its patch applied to a
    /// shallow copy first: `(key, Some(text))` sets a field, `(key, None)` removes it.
    fn to_json_many(items: &[(&Self, Patch<'_>)]) -> Vec<Result<Self, JsonError>>;
    /// A value made from a tree the core built.
    fn build(json: Json<Self>) -> Self;
    /// Sets field `key` of this object.
    fn set(&self, key: &str, value: Self);
    /// Removes field `key` of this object.
    fn remove(&self, key: &str);

    /// The text of a string, refused when longer than `max` or not well-formed.
    fn text(&self, max: usize) -> Result<String, TextError> {
        match self.text_state(max) {
            TextState::Text | TextState::Blank => self.string().ok_or(TextError::NotText),
            TextState::Bad(e) => Err(e),
            TextState::Absent | TextState::Object => Err(TextError::NotText),
        }
    }
    /// [`Value::to_json_many`] of this one value.
    fn to_json(&self, patch: &[(&str, Option<&str>)]) -> Result<Self, JsonError> {
        Self::to_json_many(&[(self, patch.to_vec())])
            .pop()
            .unwrap_or(Err(JsonError::Unwritable(None)))
    }
    /// For an array: the string field `key` of each item (`None` where it is absent or no
    /// string); empty for anything else.
    fn column(&self, key: &str) -> Vec<Option<String>> {
        (0..self.array_len().unwrap_or(0))
            .map(|i| self.at(i).get(key).string())
            .collect()
    }
    /// For an array: fields `names` of items `start..end` at once (what each holds, and the
    /// text of those `copy` marks, each at most `max` long), with the item as read — a host may
    /// give a snapshot of its data, so that the caller's getters run once however often the
    /// core reads and writes it; `None` for an item that is no readable object.
    fn fields(
        &self,
        start: usize,
        end: usize,
        names: &[&str],
        max: &[usize],
        copy: &[bool],
    ) -> Vec<Option<(Vec<Field>, Self)>> {
        (start..end)
            .map(|i| {
                let item = self.at(i);
                item.is_object().then(|| {
                    let fields = names
                        .iter()
                        .zip(max)
                        .zip(copy)
                        .map(|((name, max), copy)| {
                            let v = item.get(name);
                            match v.kind() {
                                Kind::Object => (TextState::Object, None),
                                _ => match v.text_state(*max) {
                                    TextState::Text if *copy => (TextState::Text, v.string()),
                                    state => (state, None),
                                },
                            }
                        })
                        .collect();
                    (fields, item)
                })
            })
            .collect()
    }
    fn number(&self) -> Option<f64> {
        match self.kind() {
            Kind::Number(n) => Some(n),
            _ => None,
        }
    }
    fn boolean(&self) -> Option<bool> {
        match self.kind() {
            Kind::Bool(b) => Some(b),
            _ => None,
        }
    }
    fn is_object(&self) -> bool {
        self.kind() == Kind::Object
    }
    fn is_absent(&self) -> bool {
        self.kind() == Kind::Absent
    }
    /// A non-negative whole number (a count or a page number of an answer).
    fn count(&self) -> Option<u64> {
        self.number()
            .filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n <= 9_007_199_254_740_991.0)
            .map(|n| n as u64)
    }
}

/// Why a value could not be written as JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonError {
    /// A cycle, a BigInt, or a value that throws when read (with what it threw, if known).
    Unwritable(Option<String>),
    /// Text that holds a lone surrogate.
    NotWellFormed,
}

/// A value the core builds for the caller; `Value` parts are the host's own, passed as they are.
#[derive(Clone, Debug, PartialEq)]
pub enum Json<V> {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    Value(V),
    Object(Vec<(&'static str, Json<V>)>),
    Array(Vec<Json<V>>),
}

impl<V> Json<V> {
    pub fn text(s: impl Into<String>) -> Self {
        Json::Text(s.into())
    }

    pub fn opt_text(s: Option<impl Into<String>>) -> Self {
        s.map_or(Json::Null, |s| Json::Text(s.into()))
    }
}

/// A request body: JSON text the core wrote, with the host's JSON texts (the caller's objects,
/// written by the host) spliced in.
#[derive(Clone, Debug, PartialEq)]
pub enum Part<V> {
    Str(String),
    Text(V),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Parts<V>(pub Vec<Part<V>>);

impl<V> Default for Parts<V> {
    fn default() -> Self {
        Parts(Vec::new())
    }
}

impl<V> Parts<V> {
    /// Appends JSON text the core wrote.
    pub fn raw(&mut self, s: &str) -> &mut Self {
        if let Some(Part::Str(last)) = self.0.last_mut() {
            last.push_str(s);
        } else {
            self.0.push(Part::Str(s.to_string()));
        }
        self
    }

    /// Appends a JSON string literal.
    pub fn string(&mut self, s: &str) -> &mut Self {
        let mut out = String::with_capacity(s.len() + 2);
        write_string(&mut out, s);
        self.raw(&out)
    }

    /// Appends JSON text the host wrote.
    pub fn host(&mut self, text: V) -> &mut Self {
        self.0.push(Part::Text(text));
        self
    }

    /// Appends `"key":` (after a comma unless it is the first member).
    pub fn key(&mut self, first: bool, key: &str) -> &mut Self {
        if !first {
            self.raw(",");
        }
        self.string(key).raw(":")
    }
}

// ---- the forms in which the host hands many values over at once ----------------------------

impl TextState {
    /// The state of js/host.js's `textState` code (6: an object).
    pub fn from_code(code: u8) -> TextState {
        match code {
            0 => TextState::Text,
            2 => TextState::Bad(TextError::TooLong),
            3 => TextState::Bad(TextError::NotWellFormed),
            4 => TextState::Blank,
            5 => TextState::Absent,
            6 => TextState::Object,
            _ => TextState::Bad(TextError::NotText),
        }
    }
}

/// The strings of `text` one after the other, each `lengths[i]` UTF-16 units long (as JS
/// counts them; `None` for a negative length).
pub fn split_utf16(text: &str, lengths: &[i32]) -> Vec<Option<String>> {
    let mut rest = text;
    lengths
        .iter()
        .map(|&n| {
            let n = usize::try_from(n).ok()?;
            // ASCII (the usual case) has one byte per unit; otherwise count units by chars.
            let bytes = match rest.get(..n) {
                Some(s) if s.is_ascii() => n,
                _ => {
                    let mut units = 0;
                    rest.char_indices()
                        .find(|(_, c)| {
                            units += c.len_utf16();
                            units > n
                        })
                        .map_or(rest.len(), |(at, _)| at)
                }
            };
            let (piece, tail) = rest.split_at_checked(bytes)?;
            rest = tail;
            Some(piece.to_string())
        })
        .collect()
}

/// Fields as [`Value::fields`] gives them, from a host's codes (`states`, `per_item` a
/// item; 255 first: no readable object) and the copied texts in order.
pub fn decode_fields(
    states: &[u8],
    per_item: usize,
    texts: Vec<Option<String>>,
) -> Vec<Option<Vec<Field>>> {
    let mut texts = texts.into_iter();
    states
        .chunks(per_item.max(1))
        .map(|item| {
            let fields: Vec<Field> = item
                .iter()
                .map(|&st| (TextState::from_code(st), texts.next().flatten()))
                .collect();
            (item.first() != Some(&255)).then_some(fields)
        })
        .collect()
}

/// Many patches in the form the glue applies them: the keys they name, the texts they set
/// one after the other, and per item and key a code: -1 leave, -2 remove, n set to the next n
/// UTF-16 units of the text.
pub fn encode_patches<'a>(patches: &[&Patch<'a>]) -> (Vec<&'a str>, String, Vec<i32>) {
    let mut keys: Vec<&str> = Vec::new();
    for patch in patches {
        for (k, _) in patch.iter() {
            if !keys.contains(k) {
                keys.push(k);
            }
        }
    }
    let mut text = String::new();
    let mut codes = Vec::with_capacity(patches.len() * keys.len());
    for patch in patches {
        for key in &keys {
            codes.push(match patch.iter().find(|(k, _)| k == key) {
                None => -1,
                Some((_, None)) => -2,
                Some((_, Some(v))) => {
                    text.push_str(v);
                    let units = if v.is_ascii() {
                        v.len()
                    } else {
                        v.encode_utf16().count()
                    };
                    units as i32
                }
            });
        }
    }
    (keys, text, codes)
}

/// Writes `s` as a JSON string literal.
pub fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let b = c as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX.get(b >> 4).copied().unwrap_or(b'0')));
                out.push(char::from(HEX.get(b & 15).copied().unwrap_or(b'0')));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let mut s = String::new();
        write_string(&mut s, "a\"b\\c\n\u{1}é");
        assert_eq!(s, r#""a\"b\\c\n\u0001é""#);
        let parsed: String = serde_json::from_str(&s).unwrap();
        assert_eq!(parsed, "a\"b\\c\n\u{1}é");
    }

    #[test]
    fn many_values_cross_as_one_text() {
        let texts = split_utf16("abé😀cd", &[2, -1, 3, 0, 2]);
        let texts: Vec<Option<&str>> = texts.iter().map(Option::as_deref).collect();
        assert_eq!(texts, [Some("ab"), None, Some("é😀"), Some(""), Some("cd")]);
        assert_eq!(
            split_utf16("ab", &[5]),
            [Some("ab".to_string())],
            "short text: what there is"
        );
        let a: Patch = vec![("x", None), ("projectId", Some("p"))];
        let b: Patch = vec![("projectId", Some("q")), ("phone", Some("+91é"))];
        let (keys, text, codes) = encode_patches(&[&a, &b]);
        assert_eq!(keys, ["x", "projectId", "phone"]);
        assert_eq!(text, "pq+91é");
        assert_eq!(codes, [-2, 1, -1, -1, 1, 4]);
        let fields = decode_fields(
            &[0, 5, 6, 255, 0, 1],
            3,
            vec![Some("a".into()), None, None, None, Some("b".into())],
        );
        assert_eq!(
            fields[0],
            Some(vec![
                (TextState::Text, Some("a".into())),
                (TextState::Absent, None),
                (TextState::Object, None)
            ])
        );
        assert_eq!(fields[1], None, "no readable object");
    }

    #[test]
    fn parts_merge_core_text() {
        let mut p: Parts<u8> = Parts::default();
        p.raw("{")
            .key(true, "a")
            .string("x")
            .key(false, "b")
            .host(7)
            .raw("}");
        assert_eq!(
            p.0,
            vec![
                Part::Str(r#"{"a":"x","b":"#.into()),
                Part::Text(7),
                Part::Str("}".into())
            ]
        );
    }
}
