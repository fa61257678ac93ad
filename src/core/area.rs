//! The area a check belongs to: the first part of its id (`tls` in `tls.cert-expiry`).
//! The built-in areas are named; a user's checks may bring their own.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Area {
    Dns,
    Http,
    Tls,
    Email,
    Env,
    Webhook,
    /// An area of a user's own checks (`--checks-dir`).
    Custom(String),
}

impl Area {
    /// The built-in areas, in the order reports list them.
    pub const BUILT_IN: [Area; 6] = [
        Area::Dns,
        Area::Http,
        Area::Tls,
        Area::Email,
        Area::Env,
        Area::Webhook,
    ];

    pub fn parse(s: &str) -> Area {
        match s {
            "dns" => Area::Dns,
            "http" => Area::Http,
            "tls" => Area::Tls,
            "email" => Area::Email,
            "env" => Area::Env,
            "webhook" => Area::Webhook,
            other => Area::Custom(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Area::Dns => "dns",
            Area::Http => "http",
            Area::Tls => "tls",
            Area::Email => "email",
            Area::Env => "env",
            Area::Webhook => "webhook",
            Area::Custom(s) => s,
        }
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Area {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Area {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<'de, str>::deserialize(d)?;
        Ok(Area::parse(&s))
    }
}

impl JsonSchema for Area {
    fn schema_name() -> Cow<'static, str> {
        "Area".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The area of a check: a built-in one, or a user's own (lower case).",
            "anyOf": [
                {"enum": ["dns", "http", "tls", "email", "env", "webhook"]},
                {"type": "string", "pattern": "^[a-z0-9_-]+$"}
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_areas_round_trip_and_others_are_custom() {
        for a in Area::BUILT_IN {
            assert_eq!(Area::parse(a.as_str()), a);
        }
        assert_eq!(Area::parse("custom"), Area::Custom("custom".into()));
        let json = serde_json::to_string(&Area::Tls).unwrap_or_default();
        assert_eq!(json, "\"tls\"");
        let back: Area = serde_json::from_str("\"ops\"").unwrap_or(Area::Dns);
        assert_eq!(back, Area::Custom("ops".into()));
    }
}
