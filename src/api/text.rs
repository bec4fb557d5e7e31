//! Field types whose parsing matches their schema exactly. `Text` accepts only
//! JSON strings (poem-openapi's `String` also takes numbers and booleans, which
//! the schema does not allow); `FormFlag` is a form's `true`/`false`.

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseFromMultipartField, ParseResult, ToJSON},
};
use serde_json::Value;

use super::impl_field_type;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text(pub String);

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl_field_type!(Text, String::name(), String::schema_ref());

impl ParseFromJSON for Text {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(text) => Ok(Text(text)),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ToJSON for Text {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// A yes/no form field, `true` or `false`. In a multipart form every value is
/// text, so the schema says so: a string with those two values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormFlag(pub bool);

impl_field_type!(FormFlag, "FormFlag", flag_schema());

fn flag_schema() -> MetaSchemaRef {
    let mut schema = MetaSchema::new("string");
    schema.enum_items = vec![Value::from("true"), Value::from("false")];
    MetaSchemaRef::Inline(Box::new(schema))
}

impl ParseFromMultipartField for FormFlag {
    async fn parse_from_multipart(field: Option<poem::web::Field>) -> ParseResult<Self> {
        let field = field.ok_or_else(ParseError::expected_input)?;
        match field.text().await?.as_str() {
            "true" => Ok(FormFlag(true)),
            "false" => Ok(FormFlag(false)),
            _ => Err(ParseError::custom("expected `true` or `false`")),
        }
    }
}
