//! Input parsed once at the edge into values the rest of the code can trust.
//! Each parser names the field it checks, so a 422 says what to fix.

use std::fmt;

/// A field that failed validation, with a message naming it.
#[derive(Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Trims the value and checks it is present and at most `max` characters.
pub fn required_text(field: &'static str, value: &str, max: usize) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    optional_text(field, Some(value), max).map(|v| v.expect("non-empty"))
}

/// Like [`required_text`], but blank means absent.
pub fn optional_text(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(Some(value.to_owned()))
}

/// An email address as given, and its normalised form that identifies a candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    pub address: String,
    pub normalised: String,
}

impl Email {
    pub fn parse(field: &'static str, value: &str) -> Result<Self, FieldError> {
        let address = required_text(field, value, 254)?;
        let invalid = || FieldError::new(field, "must be an email address like name@example.com");
        let (local, domain) = address.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-'));
        if local.is_empty() || local.len() > 64 || local.contains(char::is_whitespace) || !domain_ok
        {
            return Err(invalid());
        }
        Ok(Self {
            normalised: format!("{local}@{}", domain.to_lowercase()).to_lowercase(),
            address,
        })
    }
}

/// A phone number: digits with the usual separators, at least six digits.
pub fn phone(field: &'static str, value: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(value) = optional_text(field, value, 40)? else {
        return Ok(None);
    };
    let allowed = value
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.' | '/'));
    let digits = value.chars().filter(char::is_ascii_digit).count();
    if !allowed || digits < 6 {
        return Err(FieldError::new(
            field,
            "must be a phone number such as +49 30 1234567",
        ));
    }
    Ok(Some(value))
}

/// An absolute http(s) URL, such as a LinkedIn profile.
pub fn web_url(field: &'static str, value: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(value) = optional_text(field, value, 2000)? else {
        return Ok(None);
    };
    match url::Url::parse(&value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(Some(url.to_string()))
        }
        _ => Err(FieldError::new(field, "must be an http or https URL")),
    }
}

/// Where an application came from: a short lowercase label.
pub fn source(field: &'static str, value: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(value) = optional_text(field, value, 40)? else {
        return Ok(None);
    };
    let value = value.to_ascii_lowercase();
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(FieldError::new(
            field,
            "must be a short label of letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(Some(value))
}

/// ISO 3166-1 alpha-2, officially assigned codes.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Every assigned ISO 3166-1 alpha-2 code.
pub fn country_codes() -> impl Iterator<Item = &'static str> {
    COUNTRIES.split(' ')
}

/// A country code, upper-cased; only assigned codes pass.
pub fn country(field: &'static str, value: &str) -> Result<String, FieldError> {
    let code = value.trim().to_ascii_uppercase();
    if code.len() == 2 && country_codes().any(|c| c == code) {
        Ok(code)
    } else {
        Err(FieldError::new(
            field,
            "must be an ISO 3166-1 alpha-2 country code such as DE",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_to_lower_case_and_trimmed() {
        let email = Email::parse("email", "  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(email.address, "Ada.Lovelace@Example.COM");
        assert_eq!(email.normalised, "ada.lovelace@example.com");
    }

    #[test]
    fn malformed_emails_are_refused_naming_the_field() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@localhost",
            "a b@example.com",
            "ada@ex..com.",
        ] {
            let err = Email::parse("email", bad).unwrap_err();
            assert_eq!(err.field, "email", "{bad}");
        }
    }

    #[test]
    fn text_is_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(required_text("full_name", "  Ada ", 10).unwrap(), "Ada");
        assert!(required_text("full_name", "   ", 10).is_err());
        assert!(required_text("full_name", "Adaaaaaaaaa", 10).is_err());
        assert!(required_text("full_name", "Ada\u{0}", 10).is_err());
        assert_eq!(optional_text("phone", Some("  "), 10).unwrap(), None);
    }

    #[test]
    fn phones_urls_sources_and_countries_are_checked() {
        assert_eq!(
            phone("phone", Some("+49 (30) 123-4567")).unwrap().unwrap(),
            "+49 (30) 123-4567"
        );
        assert!(phone("phone", Some("call me")).is_err());
        assert!(phone("phone", Some("12")).is_err());
        assert!(
            web_url("linkedin_url", Some("https://www.linkedin.com/in/ada"))
                .unwrap()
                .is_some()
        );
        assert!(web_url("linkedin_url", Some("javascript:alert(1)")).is_err());
        assert_eq!(
            source("source", Some("LinkedIn")).unwrap().unwrap(),
            "linkedin"
        );
        assert!(source("source", Some("a b")).is_err());
        assert_eq!(country("country", "de").unwrap(), "DE");
        assert!(country("country", "XX").is_err());
        assert!(country("country", "DEU").is_err());
    }
}
