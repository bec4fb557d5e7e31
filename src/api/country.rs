//! `CountryCode`: an ISO 3166-1 alpha-2 code, whose schema lists every
//! assigned code so that clients and fuzzers know exactly what is accepted.

use std::borrow::Cow;

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type},
};
use serde_json::Value;

use crate::domain::fields;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountryCode(pub String);

impl Type for CountryCode {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "CountryCode".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        let mut schema = MetaSchema::new("string");
        schema.description = Some("ISO 3166-1 alpha-2 country code");
        schema.enum_items = fields::country_codes()
            .map(|code| Value::String(code.to_owned()))
            .collect();
        MetaSchemaRef::Inline(Box::new(schema))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
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
