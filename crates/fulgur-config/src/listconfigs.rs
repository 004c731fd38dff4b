//! `listconfigs` output in Core Lightning v26.06's shapes: `set` for flags, `value_bool`,
//! `value_int`, `value_msat` or `value_str` with a `source`, and `values_str`/`values_int`
//! with `sources` for repeatable options; keys sorted by name.

use serde_json::{Map, Value as Json};

use crate::config::Config;
use crate::store::Store;
use crate::table::{self, Listing, OptKind, OptionSpec, OPTIONS};
use crate::value::Value;

impl Config {
    /// The `configs` object of `listconfigs`: every option, or only `name` (by name or alias;
    /// then hidden and developer options are shown too). `None` if `name` is unknown.
    ///
    /// Options with no value (unset and without default) are left out, as are hidden and
    /// developer options that are not set, unless asked for by name.
    pub fn listconfigs(&self, name: Option<&str>) -> Option<Map<String, Json>> {
        let store = self.store();
        let mut configs = Map::new();
        match name {
            Some(name) => {
                let spec = table::find(name)?;
                if let Some(entry) = render(store, spec, true) {
                    configs.insert(spec.name.to_string(), entry);
                }
            }
            None => {
                let mut specs: Vec<&OptionSpec> = OPTIONS.iter().collect();
                specs.sort_by_key(|spec| spec.name);
                for spec in specs {
                    if let Some(entry) = render(store, spec, false) {
                        configs.insert(spec.name.to_string(), entry);
                    }
                }
            }
        }
        Some(configs)
    }
}

/// The JSON for one option, or `None` if it is not shown.
fn render(store: &Store, spec: &OptionSpec, asked: bool) -> Option<Json> {
    let set = store.last(spec).is_some();
    if !set && !asked && spec.listing == Listing::WhenSet {
        return None;
    }
    let mut out = Map::new();
    if spec.kind.is_multi() {
        let field = if spec.kind == OptKind::MultiInt {
            "values_int"
        } else {
            "values_str"
        };
        let values = store
            .entries_for(spec)
            .map(|e| value_json(&e.value))
            .collect();
        let sources = store
            .entries_for(spec)
            .map(|e| Json::from(e.source.to_string()))
            .collect();
        out.insert(field.to_string(), Json::Array(values));
        out.insert("sources".to_string(), Json::Array(sources));
    } else {
        let (value, source) = store.effective(spec)?;
        if spec.listing == Listing::WhenNonEmpty && value == Value::Str(String::new()) {
            return None;
        }
        let field = match spec.kind {
            OptKind::Flag => "set",
            OptKind::Bool => "value_bool",
            OptKind::Int(_) => "value_int",
            OptKind::Msat => "value_msat",
            OptKind::Str | OptKind::Multi | OptKind::MultiInt => "value_str",
        };
        out.insert(field.to_string(), value_json(&value));
        out.insert("source".to_string(), Json::from(source.to_string()));
    }
    if spec.dynamic {
        out.insert("dynamic".to_string(), Json::Bool(true));
    }
    Some(Json::Object(out))
}

fn value_json(value: &Value) -> Json {
    match value {
        Value::Flag => Json::Bool(true),
        Value::Bool(b) => Json::Bool(*b),
        Value::UInt(n) | Value::Msat(n) => Json::from(*n),
        Value::Int(n) => Json::from(*n),
        Value::Str(s) => Json::from(s.as_str()),
    }
}
