//! Input parsed once at the edge into values the rest of the code can trust.
//! Each parser names the field it checks, so a 422 says what to fix.

use std::{fmt, sync::LazyLock};

use regex::Regex;

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

/// Length limits of text fields, in characters (bytes for the ASCII-only
/// email, phone and URL). The one table: the parsers here check them, the
/// OpenAPI document declares them (`api::spec::LIMITS`), and a test holds
/// the validators poem-openapi checks to the same numbers.
pub mod limits {
    /// Names, titles, subjects, key names.
    pub const NAME: usize = 200;
    /// An email address (RFC 5321's path limit).
    pub const EMAIL: usize = 254;
    pub const PHONE: usize = 40;
    /// Where the candidate found us.
    pub const SOURCE: usize = 40;
    pub const URL: usize = 2000;
    /// Cover letters and message bodies.
    pub const LONG_TEXT: usize = 20_000;
    /// Reasons for a status move or a legal hold, evidence of a consent.
    pub const REASON: usize = 2000;
    pub const NOTE: usize = 10_000;
    /// Interview feedback.
    pub const FEEDBACK: usize = 10_000;
    /// An interview's location.
    pub const LOCATION: usize = 500;
    /// One interviewer (a name or an address).
    pub const INTERVIEWER: usize = 254;
}

/// The patterns fields must match. The OpenAPI document declares the same
/// strings, so what the schema calls valid is what the service accepts.
pub mod patterns {
    /// Single-line text with at least one visible character.
    pub const TEXT: &str = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$";
    /// Single-line text, possibly empty.
    pub const LINE: &str = r"^[^\x00-\x1F\x7F-\x9F]*$";
    /// Text with line breaks and tabs, but no other control characters.
    pub const MULTILINE: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";
    /// Like [`MULTILINE`], with at least one visible character.
    pub const PARAGRAPHS: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";
    /// An address mail can be sent to: an RFC 5322 dot-atom local part
    /// (ASCII) of at most 64 characters, written so that a pattern can say
    /// it: without a dot up to 64, with one dot two parts of up to 31 each,
    /// with more dots up to 63 characters in all (longer dotted ones are
    /// refused); at a domain of at least two LDH labels (ASCII; an
    /// internationalised domain is given in its `xn--` form).
    pub const EMAIL: &str = r"^([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}|[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,31}\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,31}|[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]|\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]){0,31})@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$";
    /// At least six digits, with the usual separators; empty clears it.
    pub const PHONE: &str = r"^$|^[+ ().\/-]*([0-9][+ ().\/-]*){6,}$";
    /// An http(s) URL; empty clears it.
    pub const WEB_URL: &str =
        r"^$|^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s\x00-\x1F\x7F-\x9F]*)?$";
    pub const SOURCE: &str = r"^[A-Za-z0-9._-]*$";
    /// A duration: a whole number and a unit, s, m, h, d or w.
    pub const DURATION: &str = r"^[0-9]{1,12}[smhdw]$";
    /// A position in a list ordered by time then id: seconds, nanoseconds, id.
    pub const POSITION: &str = r"^[0-9]{1,11}\.[0-9]{9}~[0-9a-f]{32}$";
    /// A month, `YYYY-MM`, of the years 2000 to 9999.
    pub const MONTH: &str = r"^[2-9][0-9]{3}-(0[1-9]|1[0-2])$";
    /// A BCP 47 language tag such as `nl` or `nl-BE`.
    pub const LOCALE: &str = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$";

    pub const ALL: [&str; 12] = [
        TEXT, LINE, MULTILINE, PARAGRAPHS, EMAIL, PHONE, WEB_URL, SOURCE, DURATION, POSITION,
        MONTH, LOCALE,
    ];
}

pub(crate) fn matches(pattern: &'static str, value: &str) -> bool {
    static COMPILED: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
        patterns::ALL
            .iter()
            .map(|p| (*p, Regex::new(p).expect("patterns compile")))
            .collect()
    });
    COMPILED
        .iter()
        .find(|(p, _)| *p == pattern)
        .is_some_and(|(_, regex)| regex.is_match(value))
}

/// Writes a position for [`position`]: a time (to the nanosecond) and an id.
pub fn position_text(at: chrono::DateTime<chrono::Utc>, id: uuid::Uuid) -> String {
    format!(
        "{}.{:09}~{}",
        at.timestamp(),
        at.timestamp_subsec_nanos(),
        id.simple()
    )
}

/// A position in a list ordered by time then id, as [`position_text`] writes it.
pub fn position(
    field: &'static str,
    value: &str,
) -> Result<(chrono::DateTime<chrono::Utc>, uuid::Uuid), FieldError> {
    let invalid = || FieldError::new(field, "not a cursor this API gave");
    if !matches(patterns::POSITION, value) {
        return Err(invalid());
    }
    let (time, id) = value.split_once('~').ok_or_else(invalid)?;
    let (seconds, nanos) = time.split_once('.').ok_or_else(invalid)?;
    let at = chrono::DateTime::from_timestamp(
        seconds.parse().map_err(|_| invalid())?,
        nanos.parse().map_err(|_| invalid())?,
    )
    .ok_or_else(invalid)?;
    Ok((at, id.parse().map_err(|_| invalid())?))
}

/// A window of time (`30d`); one beyond a century is a century.
pub fn window(field: &'static str, value: &str) -> Result<chrono::TimeDelta, FieldError> {
    if !matches(patterns::DURATION, value) {
        return Err(FieldError::new(
            field,
            "must be a whole number and a unit, s, m, h, d or w (`30d`)",
        ));
    }
    let century = chrono::TimeDelta::days(100 * 365);
    Ok(crate::retention::policy::parse_duration(value)
        .unwrap_or(century)
        .min(century))
}

/// At most `max` characters as sent (as the schema's maxLength counts), trimmed.
fn bounded(field: &'static str, value: &str, max: usize) -> Result<String, FieldError> {
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(value.trim().to_owned())
}

/// Single-line text that must be present: trimmed, at most `max` characters.
pub fn required_text(field: &'static str, value: &str, max: usize) -> Result<String, FieldError> {
    if value.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if !matches(patterns::TEXT, value) {
        return Err(FieldError::new(
            field,
            "must be one line without control characters",
        ));
    }
    bounded(field, value, max)
}

/// Single-line text where blank means absent.
pub fn optional_text(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    optional_matching(
        field,
        value,
        max,
        patterns::LINE,
        "must be one line without control characters",
    )
}

/// Free text with line breaks (a cover letter); blank means absent.
pub fn long_text(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    optional_matching(
        field,
        value,
        max,
        patterns::MULTILINE,
        "must not contain control characters",
    )
}

/// Free text with line breaks that must be present (a note): at most `max`
/// characters as sent, stored trimmed.
pub fn required_long_text(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<String, FieldError> {
    if value.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if !matches(patterns::PARAGRAPHS, value) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    bounded(field, value, max)
}

fn optional_matching(
    field: &'static str,
    value: Option<&str>,
    max: usize,
    pattern: &'static str,
    complaint: &str,
) -> Result<Option<String>, FieldError> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    if !matches(pattern, value) {
        return Err(FieldError::new(field, complaint));
    }
    bounded(field, value, max).map(Some)
}

/// An email address as given, and its normalised form that identifies a candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    pub address: String,
    pub normalised: String,
}

impl Email {
    pub fn parse(field: &'static str, value: &str) -> Result<Self, FieldError> {
        let address = value.trim();
        if address.is_empty() {
            return Err(FieldError::new(field, "must not be empty"));
        }
        let local_part = address.rsplit_once('@').map_or(address, |(local, _)| local);
        if address.len() > limits::EMAIL
            || local_part.len() > 64
            || !matches(patterns::EMAIL, address)
        {
            return Err(FieldError::new(
                field,
                "must be an email address like name@example.com",
            ));
        }
        Ok(Self {
            normalised: address.to_lowercase(),
            address: address.to_owned(),
        })
    }
}

/// A language tag (`nl-BE`): the language of it we serve, if we serve it
/// (else the candidate is served in English).
pub fn locale(
    field: &'static str,
    value: Option<&str>,
) -> Result<Option<super::lang::Lang>, FieldError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.len() > 35 || !matches(patterns::LOCALE, value) {
        return Err(FieldError::new(
            field,
            "must be a language tag such as nl-BE",
        ));
    }
    Ok(super::lang::Lang::of_tag(value))
}

/// A phone number: digits with the usual separators, at least six digits.
pub fn phone(field: &'static str, value: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.len() > limits::PHONE || !matches(patterns::PHONE, value) {
        return Err(FieldError::new(
            field,
            "must be a phone number such as +49 30 1234567",
        ));
    }
    Ok(Some(value.to_owned()))
}

/// An absolute http(s) URL, such as a LinkedIn profile.
pub fn web_url(field: &'static str, value: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.len() > limits::URL || !matches(patterns::WEB_URL, value) {
        return Err(FieldError::new(field, "must be an http or https URL"));
    }
    Ok(Some(value.to_owned()))
}

/// Where an application came from: a short lowercase label.
pub fn source(field: &'static str, value: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.len() > limits::SOURCE || !matches(patterns::SOURCE, value) {
        return Err(FieldError::new(
            field,
            "must be a short label of letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(Some(value.to_ascii_lowercase()))
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

    /// The intake takes exactly the addresses the mail path can send to:
    /// every address it accepts, lettre accepts and can address a mail to;
    /// what lettre refuses, it refuses.
    #[test]
    fn the_intake_accepts_only_addresses_the_mailer_can_send_to() {
        let addresses = [
            // Accepted by both.
            ("ada@example.com", true),
            ("Ada.Lovelace@Example.COM", true),
            ("ada+jobs@example.co.uk", true),
            ("o'brien@example.ie", true),
            ("a!#$%&'*+/=?^_`{|}~-z@example.com", true),
            ("x@sub-domain.example.com", true),
            ("ada@xn--bcher-kva.example", true),
            ("1234567890@123.example", true),
            (&format!("{}@example.com", "a".repeat(64)), true),
            // Refused: the mailer would refuse them, or no mailer can deliver them.
            ("x>,evil@attacker.example", false),
            ("a;b@example.com", false),
            ("a,b@example.com", false),
            ("a<b@example.com", false),
            ("a\"b@example.com", false),
            ("\"quoted\"@example.com", false),
            ("a(b)@example.com", false),
            ("a[b]@example.com", false),
            ("a\\b@example.com", false),
            ("a:b@example.com", false),
            (".ada@example.com", false),
            ("ada.@example.com", false),
            ("ada..lovelace@example.com", false),
            ("ada@-example.com", false),
            ("ada@example-.com", false),
            ("ada@exa_mple.com", false),
            ("ada@[127.0.0.1]", false),
            ("ada@localhost", false),
            ("adä@example.com", false),
            ("ada@bücher.example", false),
            (&format!("{}@example.com", "a".repeat(65)), false),
            (&format!("ada@{}.example", "a".repeat(64)), false),
        ];
        for (address, expected) in addresses {
            let ours = Email::parse("email", address).is_ok();
            assert_eq!(ours, expected, "{address}");
            if ours {
                let parsed: lettre::Address = address
                    .parse()
                    .unwrap_or_else(|err| panic!("lettre refuses {address}: {err}"));
                lettre::message::Mailbox::new(Some("Ada".into()), parsed);
            }
        }
        // And the schema's pattern says exactly what the parser does.
        let pattern = regex::Regex::new(patterns::EMAIL).unwrap();
        for (address, expected) in addresses {
            assert_eq!(pattern.is_match(address), expected, "{address}");
        }
        let dotted = format!("{}.{}@example.com", "a".repeat(31), "b".repeat(31));
        assert!(pattern.is_match(&dotted) && Email::parse("email", &dotted).is_ok());
        let many_dots = format!("{}@example.com", ["ab"; 22].join("."));
        assert!(!pattern.is_match(&many_dots) && Email::parse("email", &many_dots).is_err());
    }

    #[test]
    fn notes_keep_line_breaks_count_characters_and_refuse_blank_bodies() {
        let body = "Strong Rust.\n\tAsk about the move. ";
        assert_eq!(
            required_long_text("body", body, 100).unwrap(),
            "Strong Rust.\n\tAsk about the move."
        );
        assert!(required_long_text("body", &"é".repeat(100), 100).is_ok());
        assert!(required_long_text("body", &"é".repeat(101), 100).is_err());
        for blank in ["", " ", "\n\t\r\n"] {
            assert!(required_long_text("body", blank, 100).is_err(), "{blank:?}");
        }
        assert!(required_long_text("body", "bell\u{7}", 100).is_err());
    }

    #[test]
    fn text_is_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(required_text("full_name", "  Ada ", 10).unwrap(), "Ada");
        assert!(required_text("full_name", "   ", 10).is_err());
        assert!(required_text("full_name", "Adaaaaaaaaa", 10).is_err());
        assert!(required_text("full_name", "Ada\u{0}", 10).is_err());
        assert!(required_text("full_name", "Ada\u{90}", 10).is_err());
        assert_eq!(
            long_text("cover_letter", Some("Dear team,\n\tthanks"), 100)
                .unwrap()
                .unwrap(),
            "Dear team,\n\tthanks"
        );
        assert!(long_text("cover_letter", Some("bell\u{7}"), 100).is_err());
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

    #[test]
    fn a_position_reads_back_to_the_nanosecond() {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 123_456_789).unwrap();
        let id = uuid::Uuid::now_v7();
        let text = position_text(at, id);
        assert_eq!(position("cursor", &text).unwrap(), (at, id));
        assert!(position("cursor", "1.5~abc").is_err());
        assert!(position("cursor", &format!("{text}0")).is_err());
        // The longest the pattern allows still reads.
        let far = format!("99999999999.999999999~{}", id.simple());
        assert!(position("cursor", &far).is_ok());
    }
}
