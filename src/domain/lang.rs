//! The languages candidates are served in: English, Dutch, French and
//! German. A candidate's language comes from their choice on a page, else
//! the one stored with their application, else `Accept-Language`, else
//! English.

use chrono::{DateTime, Datelike, Utc};

use super::status::ApplicationStatus;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    En,
    Nl,
    Fr,
    De,
}

stored_as_text!(Lang {
    En => "en",
    Nl => "nl",
    Fr => "fr",
    De => "de",
});

impl Lang {
    /// The language of a BCP 47 tag (`nl`, `nl-BE`, `FR-ca`), if we serve it.
    pub fn of_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?;
        Self::ALL
            .iter()
            .copied()
            .find(|lang| lang.as_str().eq_ignore_ascii_case(primary))
    }

    /// The served language an `Accept-Language` header prefers most (the
    /// first of equal weights), if any.
    pub fn negotiate(accept_language: &str) -> Option<Self> {
        let mut best: Option<(Self, u16)> = None;
        for range in accept_language.split(',').take(32) {
            let mut parts = range.split(';');
            let Some(lang) = parts.next().and_then(Self::of_tag) else {
                continue;
            };
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), quality);
            if let Some(weight) = weight
                && weight > 0
                && best.is_none_or(|(_, w)| weight > w)
            {
                best = Some((lang, weight));
            }
        }
        best.map(|(lang, _)| lang)
    }

    /// The language's own name, for the language switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Nl => "Nederlands",
            Lang::Fr => "Français",
            Lang::De => "Deutsch",
        }
    }

    /// A date as this language writes it in full: `3 December 2026`,
    /// `3 december 2026`, `3 décembre 2026`, `3. Dezember 2026`.
    pub fn date(self, at: DateTime<Utc>) -> String {
        let month = MONTHS[self as usize][at.month0() as usize];
        match self {
            Lang::De => format!("{}. {month} {}", at.day(), at.year()),
            _ => format!("{} {month} {}", at.day(), at.year()),
        }
    }

    /// An application's status in words a candidate understands.
    pub fn status(self, status: ApplicationStatus) -> &'static str {
        use ApplicationStatus::*;
        match (self, status) {
            (Lang::En, New) => "Received",
            (Lang::En, Screening) => "Being reviewed",
            (Lang::En, Interview) => "Interviews",
            (Lang::En, Offer) => "Offer made",
            (Lang::En, Hired) => "Hired",
            (Lang::En, Rejected) => "Not selected",
            (Lang::En, Withdrawn) => "Withdrawn",
            (Lang::Nl, New) => "Ontvangen",
            (Lang::Nl, Screening) => "In behandeling",
            (Lang::Nl, Interview) => "Gesprekken",
            (Lang::Nl, Offer) => "Aanbod gedaan",
            (Lang::Nl, Hired) => "Aangenomen",
            (Lang::Nl, Rejected) => "Niet geselecteerd",
            (Lang::Nl, Withdrawn) => "Teruggetrokken",
            (Lang::Fr, New) => "Reçue",
            (Lang::Fr, Screening) => "En cours d'examen",
            (Lang::Fr, Interview) => "Entretiens",
            (Lang::Fr, Offer) => "Offre faite",
            (Lang::Fr, Hired) => "Embauché·e",
            (Lang::Fr, Rejected) => "Non retenue",
            (Lang::Fr, Withdrawn) => "Retirée",
            (Lang::De, New) => "Eingegangen",
            (Lang::De, Screening) => "In Prüfung",
            (Lang::De, Interview) => "Vorstellungsgespräche",
            (Lang::De, Offer) => "Angebot gemacht",
            (Lang::De, Hired) => "Eingestellt",
            (Lang::De, Rejected) => "Nicht ausgewählt",
            (Lang::De, Withdrawn) => "Zurückgezogen",
        }
    }
}

/// `q=0.8` as thousandths; `None` when malformed.
fn quality(text: &str) -> Option<u16> {
    let value: f32 = text.trim().parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}

const MONTHS: [[&str; 12]; 4] = [
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
];

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn tags_name_the_language_whatever_their_region_or_case() {
        assert_eq!(Lang::of_tag("nl-BE"), Some(Lang::Nl));
        assert_eq!(Lang::of_tag("FR_ca"), Some(Lang::Fr));
        assert_eq!(Lang::of_tag("de"), Some(Lang::De));
        assert_eq!(Lang::of_tag("es"), None);
        assert_eq!(Lang::of_tag(""), None);
    }

    #[test]
    fn accept_language_picks_the_heaviest_served_language() {
        assert_eq!(Lang::negotiate("es, fr;q=0.8, de;q=0.9"), Some(Lang::De));
        assert_eq!(Lang::negotiate("nl-NL,nl;q=0.9,en;q=0.8"), Some(Lang::Nl));
        assert_eq!(Lang::negotiate("fr;q=0, en;q=0.1"), Some(Lang::En));
        assert_eq!(Lang::negotiate("de;q=2, fr;q=x, nl"), Some(Lang::Nl));
        assert_eq!(Lang::negotiate("es, pt"), None);
        assert_eq!(Lang::negotiate(""), None);
    }

    #[test]
    fn dates_read_as_each_language_writes_them() {
        let at = Utc.with_ymd_and_hms(2026, 3, 4, 12, 0, 0).unwrap();
        assert_eq!(Lang::En.date(at), "4 March 2026");
        assert_eq!(Lang::Nl.date(at), "4 maart 2026");
        assert_eq!(Lang::Fr.date(at), "4 mars 2026");
        assert_eq!(Lang::De.date(at), "4. März 2026");
    }
}
