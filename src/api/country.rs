//! `CountryCode`: an ISO 3166-1 alpha-2 code, whose schema lists every
//! assigned code so that clients and fuzzers know exactly what is accepted.

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseResult, ToJSON},
};
use serde_json::Value;

use super::impl_field_type;
use crate::domain::fields;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountryCode(pub String);

impl_field_type!(CountryCode, "CountryCode", country_schema());

fn country_schema() -> MetaSchemaRef {
    let mut schema = MetaSchema::new("string");
    schema.description = Some("ISO 3166-1 alpha-2 country code");
    schema.enum_items = fields::country_codes()
        .map(|code| Value::String(code.to_owned()))
        .collect();
    MetaSchemaRef::Inline(Box::new(schema))
}

impl ParseFromJSON for CountryCode {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(raw) => fields::country("country", &raw)
                .map(CountryCode)
                .map_err(|err| ParseError::custom(err.message)),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ToJSON for CountryCode {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}
