//! The `filter` member of a request: a template of the result naming the fields to keep
//! (`true`), with nested objects and one-element arrays, as Core Lightning applies it.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Keep this value whole.
    Keep,
    /// Keep only these members of an object.
    Object(BTreeMap<String, Filter>),
    /// Apply the inner filter to every element of an array.
    Array(Box<Filter>),
}

impl Filter {
    /// Parses the request's `filter` member. The error is CLN's per-field message without the
    /// `filter: ` prefix, e.g. `value must be true`.
    pub fn parse(v: &Value) -> Result<Filter, &'static str> {
        match v {
            Value::Object(_) => Self::parse_inner(v),
            _ => Err("Expected object"),
        }
    }

    fn parse_inner(v: &Value) -> Result<Filter, &'static str> {
        match v {
            Value::Bool(true) => Ok(Filter::Keep),
            Value::Object(m) => {
                let mut fields = BTreeMap::new();
                for (k, v) in m {
                    fields.insert(k.clone(), Self::parse_inner(v)?);
                }
                Ok(Filter::Object(fields))
            }
            Value::Array(a) if a.len() == 1 => {
                Ok(Filter::Array(Box::new(Self::parse_inner(&a[0])?)))
            }
            Value::Array(_) => Err("Arrays can only have one element"),
            _ => Err("value must be true"),
        }
    }

    /// Applies the filter to a result. Returns the filtered value and, when the filter's shape
    /// did not match the result's (an array filter on an object or the reverse), the text CLN
    /// puts in `warning_parameter_filter`, e.g. `.peers is an object`.
    pub fn apply(&self, v: Value) -> (Value, Option<String>) {
        let mut warning = None;
        let out = self.apply_inner(v, &mut warning).unwrap_or(Value::Null);
        (out, warning)
    }

    fn apply_inner(&self, v: Value, warning: &mut Option<String>) -> Option<Value> {
        match (self, v) {
            (Filter::Keep, v) => Some(v),
            (Filter::Object(fields), Value::Object(m)) => {
                let mut out = Map::new();
                for (k, val) in m {
                    let Some(f) = fields.get(&k) else { continue };
                    let mut inner_warning = None;
                    if let Some(kept) = f.apply_inner(val, &mut inner_warning) {
                        out.insert(k.clone(), kept);
                    }
                    if let (None, Some(w)) = (&warning, inner_warning) {
                        *warning = Some(format!(".{k}{w}"));
                    }
                }
                Some(Value::Object(out))
            }
            (Filter::Array(inner), Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let mut inner_warning = None;
                    if let Some(kept) = inner.apply_inner(item, &mut inner_warning) {
                        out.push(kept);
                    }
                    if let (None, Some(w)) = (&warning, inner_warning) {
                        *warning = Some(format!("[]{w}"));
                    }
                }
                Some(Value::Array(out))
            }
            (Filter::Object(_), Value::Array(_)) => {
                *warning = Some(" is an array".into());
                None
            }
            (Filter::Array(_), Value::Object(_)) => {
                *warning = Some(" is an object".into());
                None
            }
            // A filter that descends into a scalar keeps the scalar.
            (_, v) => Some(v),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test inputs are fixed")]
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_only_named_fields() {
        let f = Filter::parse(&json!({"id": true, "address": [{"port": true}]})).unwrap();
        let (out, warn) = f.apply(json!({
            "id": "02ab", "alias": "x",
            "address": [{"type": "ipv4", "port": 1}, {"type": "dns", "port": 2}]
        }));
        assert_eq!(
            out,
            json!({"id": "02ab", "address": [{"port": 1}, {"port": 2}]})
        );
        assert_eq!(warn, None);
    }

    #[test]
    fn shape_mismatch_warns() {
        let f = Filter::parse(&json!({"peers": [{"id": true}]})).unwrap();
        let (out, warn) = f.apply(json!({"peers": {"id": 1}}));
        assert_eq!(out, json!({}));
        assert_eq!(warn.as_deref(), Some(".peers is an object"));
        let f = Filter::parse(&json!({"peers": {"id": true}})).unwrap();
        let (_, warn) = f.apply(json!({"peers": [{"id": 1}]}));
        assert_eq!(warn.as_deref(), Some(".peers is an array"));
    }

    #[test]
    fn parse_errors() {
        assert_eq!(Filter::parse(&json!([])), Err("Expected object"));
        assert_eq!(
            Filter::parse(&json!({"a": false})),
            Err("value must be true")
        );
        assert_eq!(
            Filter::parse(&json!({"a": [true, true]})),
            Err("Arrays can only have one element")
        );
    }
}
