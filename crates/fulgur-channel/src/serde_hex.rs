//! Hex serde for byte fields of stored channel records.

use serde::{Deserialize, Deserializer, Serializer};

/// Serializes bytes as lower-case hex.
pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(b))
}

/// Reads bytes from hex.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let s = String::deserialize(d)?;
    hex::decode(s).map_err(serde::de::Error::custom)
}

/// Hex serde for optional bytes.
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes optional bytes as hex or null.
    pub fn serialize<S: Serializer>(b: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match b {
            Some(b) => s.serialize_some(&hex::encode(b)),
            None => s.serialize_none(),
        }
    }

    /// Reads optional bytes from hex or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| hex::decode(s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// Hex serde for a list of byte strings.
pub mod list {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes a list of byte strings as a list of hex strings.
    pub fn serialize<S: Serializer>(b: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(b.iter().map(hex::encode))
    }

    /// Reads a list of byte strings from hex strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Vec::<String>::deserialize(d)?
            .into_iter()
            .map(|s| hex::decode(s).map_err(serde::de::Error::custom))
            .collect()
    }
}
