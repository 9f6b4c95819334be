//! The loader's node tree as a serde `Deserializer`, whose error keeps what serde found as data
//! (the unknown field and the fields expected, the missing field, a number where text was
//! wanted) so that diagnostics are built from it rather than from its message.
//!
//! A tree reads exactly as its JSON form reads through `serde_json`, because the cluster holds
//! the same objects as JSON and both must mean, and fail, the same: mapping keys are visited in
//! sorted order (serde reports the first problem it meets), floats that JSON cannot hold (`.inf`,
//! `.nan`) read as null, and every message is worded as `serde_json` words it.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, Expected, IntoDeserializer, MapAccess,
    SeqAccess, Unexpected, VariantAccess, Visitor,
};

use super::yaml::{Node, Value};

/// Why a document's value does not fit the type its field has.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodeError {
    /// A mapping has a key its type does not know.
    UnknownField {
        /// The key.
        field: String,
        /// The keys the type knows.
        expected: &'static [&'static str],
    },
    /// A value is not one of the names an enumeration knows.
    UnknownVariant {
        /// The value.
        variant: String,
        /// The names it knows.
        expected: &'static [&'static str],
    },
    /// A required key is absent.
    MissingField(&'static str),
    /// A number where text was wanted: YAML reads unquoted digits (`code: 00004`) as a number.
    NumberForText {
        /// The number read.
        number: i64,
        /// What the field wanted, as serde describes it (`a string`).
        expected: String,
    },
    /// Any other problem, in serde's words.
    Other(String),
}

/// Names as serde lists them: `` `a` ``, `` `a` or `b` ``, `` one of `a`, `b`, `c` ``.
struct OneOf(&'static [&'static str]);

impl fmt::Display for OneOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [one] => write!(f, "`{one}`"),
            [a, b] => write!(f, "`{a}` or `{b}`"),
            names => {
                f.write_str("one of ")?;
                for (i, name) in names.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "`{name}`")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnknownField {
                field,
                expected: [],
            } => {
                write!(f, "unknown field `{field}`, there are no fields")
            }
            DecodeError::UnknownField { field, expected } => {
                write!(f, "unknown field `{field}`, expected {}", OneOf(expected))
            }
            DecodeError::UnknownVariant {
                variant,
                expected: [],
            } => {
                write!(f, "unknown variant `{variant}`, there are no variants")
            }
            DecodeError::UnknownVariant { variant, expected } => {
                write!(
                    f,
                    "unknown variant `{variant}`, expected {}",
                    OneOf(expected)
                )
            }
            DecodeError::MissingField(field) => write!(f, "missing field `{field}`"),
            DecodeError::NumberForText { number, expected } => {
                write!(f, "invalid type: integer `{number}`, expected {expected}")
            }
            DecodeError::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for DecodeError {}

/// An unexpected value as `serde_json` words it (`null`, its float formatting).
struct JsonUnexpected<'a>(Unexpected<'a>);

impl fmt::Display for JsonUnexpected<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Unexpected::Unit => f.write_str("null"),
            Unexpected::Float(v) => match serde_json::Number::from_f64(v) {
                Some(n) => write!(f, "floating point `{n}`"),
                None => self.0.fmt(f),
            },
            other => other.fmt(f),
        }
    }
}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DecodeError::Other(msg.to_string())
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        DecodeError::Other(format!(
            "invalid type: {}, expected {exp}",
            JsonUnexpected(unexp)
        ))
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        DecodeError::Other(format!(
            "invalid value: {}, expected {exp}",
            JsonUnexpected(unexp)
        ))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DecodeError::UnknownVariant {
            variant: variant.to_owned(),
            expected,
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DecodeError::UnknownField {
            field: field.to_owned(),
            expected,
        }
    }

    fn missing_field(field: &'static str) -> Self {
        DecodeError::MissingField(field)
    }
}

type Result<T> = std::result::Result<T, DecodeError>;

impl Node {
    /// What serde is told it found, for type errors.
    fn unexpected(&self) -> Unexpected<'_> {
        match &self.value {
            Value::Null => Unexpected::Unit,
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Int(i) if *i >= 0 => Unexpected::Unsigned(*i as u64),
            Value::Int(i) => Unexpected::Signed(*i),
            Value::Float(f) if f.is_finite() => Unexpected::Float(*f),
            Value::Float(_) => Unexpected::Unit,
            Value::Str(s) => Unexpected::Str(s),
            Value::Seq(_) => Unexpected::Seq,
            Value::Map(_) => Unexpected::Map,
        }
    }

    fn is_null(&self) -> bool {
        match self.value {
            Value::Null => true,
            Value::Float(f) => !f.is_finite(),
            _ => false,
        }
    }

    fn is_number(&self) -> bool {
        match self.value {
            Value::Int(_) => true,
            Value::Float(f) => f.is_finite(),
            _ => false,
        }
    }

    fn invalid_type(&self, exp: &dyn Expected) -> DecodeError {
        de::Error::invalid_type(self.unexpected(), exp)
    }
}

fn visit_seq<'de, V: Visitor<'de>>(items: Vec<Node>, visitor: V) -> Result<V::Value> {
    let len = items.len();
    let mut seq = Items(items.into_iter());
    let value = visitor.visit_seq(&mut seq)?;
    if seq.0.len() == 0 {
        Ok(value)
    } else {
        Err(de::Error::invalid_length(len, &"fewer elements in array"))
    }
}

fn visit_map<'de, V: Visitor<'de>>(mut entries: Vec<(Node, Node)>, visitor: V) -> Result<V::Value> {
    entries.sort_by(|(a, _), (b, _)| key_text(a).cmp(key_text(b)));
    let len = entries.len();
    let mut map = Entries {
        entries: entries.into_iter(),
        value: None,
    };
    let value = visitor.visit_map(&mut map)?;
    if map.entries.len() == 0 {
        Ok(value)
    } else {
        Err(de::Error::invalid_length(len, &"fewer elements in map"))
    }
}

/// The text of a mapping key (the parser makes every key a string).
fn key_text(key: &Node) -> &str {
    match &key.value {
        Value::Str(s) => s,
        _ => "",
    }
}

macro_rules! numbers {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            if self.is_number() {
                self.deserialize_any(visitor)
            } else {
                Err(self.invalid_type(&visitor))
            }
        }
    )*};
}

impl<'de> Deserializer<'de> for Node {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Int(i) if i >= 0 => visitor.visit_u64(i as u64),
            Value::Int(i) => visitor.visit_i64(i),
            Value::Float(f) if f.is_finite() => visitor.visit_f64(f),
            Value::Float(_) => visitor.visit_unit(),
            Value::Str(s) => visitor.visit_string(s),
            Value::Seq(items) => visit_seq(items, visitor),
            Value::Map(entries) => visit_map(entries, visitor),
        }
    }

    numbers! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.value {
            Value::Str(variant) => visitor.visit_enum(Variant {
                name: variant,
                value: None,
            }),
            // A variant with data is a mapping of its name to the data.
            Value::Map(entries) => {
                let mut entries = entries.into_iter();
                match (entries.next(), entries.next()) {
                    (Some((name, value)), None) => visitor.visit_enum(Variant {
                        name: key_text(&name).to_owned(),
                        value: Some(value),
                    }),
                    _ => Err(de::Error::invalid_value(
                        Unexpected::Map,
                        &"map with a single key",
                    )),
                }
            }
            _ => Err(self.invalid_type(&"string or map")),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Bool(b) => visitor.visit_bool(b),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Str(s) => visitor.visit_string(s),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    /// An owned string is what free-text fields (and the model's text-based types) ask for, so
    /// a number here is most likely digits YAML read as a number.
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Int(number) => Err(DecodeError::NumberForText {
                number,
                expected: (&visitor as &dyn Expected).to_string(),
            }),
            _ => self.deserialize_str(visitor),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Str(s) => visitor.visit_string(s),
            Value::Seq(items) => visit_seq(items, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.is_null() {
            visitor.visit_unit()
        } else {
            Err(self.invalid_type(&visitor))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Seq(items) => visit_seq(items, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Map(entries) => visit_map(entries, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.value {
            Value::Seq(items) => visit_seq(items, visitor),
            Value::Map(entries) => visit_map(entries, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }
}

/// The items of a sequence.
struct Items(std::vec::IntoIter<Node>);

impl<'de> SeqAccess<'de> for Items {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        self.0.next().map(|item| seed.deserialize(item)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// The entries of a mapping, in key order.
struct Entries {
    entries: std::vec::IntoIter<(Node, Node)>,
    value: Option<Node>,
}

impl<'de> MapAccess<'de> for Entries {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        let key = match key.value {
            Value::Str(s) => s,
            _ => String::new(),
        };
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::custom("value is missing")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An enumeration's value: the variant's name and, for a variant with data, the data.
struct Variant {
    name: String,
    value: Option<Node>,
}

impl<'de> EnumAccess<'de> for Variant {
    type Error = DecodeError;
    type Variant = VariantData;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, VariantData)> {
        let data = VariantData(self.value);
        seed.deserialize(self.name.into_deserializer())
            .map(|v| (v, data))
    }
}

/// The data of a variant, if it came with any.
struct VariantData(Option<Node>);

impl<'de> VariantAccess<'de> for VariantData {
    type Error = DecodeError;

    fn unit_variant(self) -> Result<()> {
        match self.0 {
            Some(value) => serde::Deserialize::deserialize(value),
            None => Ok(()),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        match self.0 {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        match self.0 {
            Some(Node {
                value: Value::Seq(items),
                ..
            }) if items.is_empty() => visitor.visit_unit(),
            Some(Node {
                value: Value::Seq(items),
                ..
            }) => visit_seq(items, visitor),
            Some(other) => Err(other.invalid_type(&"tuple variant")),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.0 {
            Some(Node {
                value: Value::Map(entries),
                ..
            }) => visit_map(entries, visitor),
            Some(other) => Err(other.invalid_type(&"struct variant")),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"struct variant",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;
    use crate::load::yaml::{YamlLimits, parse_documents};

    fn node(text: &str) -> Node {
        parse_documents(text, YamlLimits::default())
            .unwrap()
            .remove(0)
    }

    /// Reads `text` through the tree and through its JSON form: the same value or the same
    /// message.
    fn both<T: for<'de> Deserialize<'de> + PartialEq + fmt::Debug>(text: &str) -> Result<T> {
        let ours = T::deserialize(node(text));
        let json = serde_json::from_value::<T>(node(text).into_json());
        match (&ours, &json) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text}"),
            _ => panic!("{text}: {ours:?} against JSON's {json:?}"),
        }
        ours
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Spec {
        name: String,
        #[serde(default)]
        count: Option<u8>,
        #[serde(default)]
        colour: Option<Colour>,
        #[serde(default)]
        items: Vec<f64>,
        #[serde(default)]
        labels: BTreeMap<String, String>,
        #[serde(default)]
        shape: Option<Shape>,
        #[serde(default)]
        flag: Option<bool>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "kebab-case")]
    enum Colour {
        DeepRed,
        Green,
        Blue,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase")]
    enum Shape {
        Circle(f64),
        Rect { w: u8, h: u8 },
    }

    #[test]
    fn a_tree_reads_as_its_json_form() {
        let ok = both::<Spec>(
            "name: a\ncount: 7\ncolour: deep-red\nitems: [1, 2.5, -3]\nlabels: {b: x, a: y}\n\
             shape: {rect: {w: 1, h: 2}}\nflag: true\n",
        )
        .unwrap();
        assert_eq!(ok.colour, Some(Colour::DeepRed));
        assert_eq!(ok.shape, Some(Shape::Rect { w: 1, h: 2 }));
        assert_eq!(ok.items, [1.0, 2.5, -3.0]);
        both::<Spec>("name: a\nshape: {circle: 1.5}\ncount: ~\n").unwrap();
        // JSON has no infinity: an optional number given as one is absent.
        assert_eq!(both::<Spec>("name: a\ncount: .inf\n").unwrap().count, None);
        for bad in [
            "name: 4\n",
            "name: -4\n",
            "name: 1.5\n",
            "name: [a]\n",
            "name: {a: 1}\n",
            "name: true\n",
            "name: ~\n",
            "name: a\ncount: 300\n",
            "name: a\ncount: -1\n",
            "name: a\ncount: x\n",
            "name: a\nitems: [.nan]\n",
            "name: a\nitems: x\n",
            "name: a\ncolour: red\n",
            "name: a\ncolour: 3\n",
            "name: a\ncolour: {green: 1, blue: 2}\n",
            "name: a\nshape: circle\n",
            "name: a\nshape: {rect: 1}\n",
            "name: a\nflag: yes\n",
            "name: a\nlabels: {a: 1}\n",
            "count: 1\n",
            "name: a\nzz: 1\nnmae: 2\n",
            "[]\n",
            "just text\n",
        ] {
            assert!(both::<Spec>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn findings_are_data() {
        let e = Spec::deserialize(node("name: a\ncolor: green\n")).unwrap_err();
        assert_eq!(
            e,
            DecodeError::UnknownField {
                field: "color".into(),
                expected: &[
                    "name", "count", "colour", "items", "labels", "shape", "flag"
                ],
            }
        );
        let e = Spec::deserialize(node("name: a\ncolour: gren\n")).unwrap_err();
        assert!(
            matches!(&e, DecodeError::UnknownVariant { variant, expected }
                if variant == "gren" && expected.contains(&"green")),
            "{e:?}"
        );
        assert_eq!(
            Spec::deserialize(node("count: 1\n")).unwrap_err(),
            DecodeError::MissingField("name")
        );
        assert_eq!(
            Spec::deserialize(node("name: 00004\n")).unwrap_err(),
            DecodeError::NumberForText {
                number: 4,
                expected: "a string".into()
            }
        );
        // Keys are read in sorted order, as from JSON: `nmae` before `zz`.
        let e = Spec::deserialize(node("name: a\nzz: 1\nnmae: 2\n")).unwrap_err();
        assert!(matches!(e, DecodeError::UnknownField { field, .. } if field == "nmae"));
    }
}
